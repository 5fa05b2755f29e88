"""The writer of each output format: JSONL, CSV, Parquet (`writers`) and FHIR NDJSON (`fhir`)."""
from pathlib import Path
from typing import Any, Union

from .fhir import FhirWriter
from .writers import DEFAULT_FILE_MODE, CsvWriter, JsonlWriter, ParquetWriter

WRITERS = {"jsonl": JsonlWriter, "csv": CsvWriter, "parquet": ParquetWriter, "fhir": FhirWriter}


def make_writer(path: Union[str, Path], output_format: str, *, file_mode: int = DEFAULT_FILE_MODE,
                raw_csv: bool = False) -> Any:
    """Create the writer for an output format ("jsonl", "csv", "parquet" or "fhir").

    file_mode (int): Permission bits of the files it creates.
    raw_csv (bool): CSV only: write cells as they are, formulas included.
    """
    return WRITERS[output_format](path, file_mode=file_mode, raw_csv=raw_csv)
