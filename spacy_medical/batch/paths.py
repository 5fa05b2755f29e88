"""The files a batch job writes, checked before anything is opened.

A job refuses to start when one of its files is its input (or would hold it), when two of its
files are the same, when one cannot be created, and when one exists already (unless the caller
asked to `overwrite` or to `resume` the job that wrote it). Overwriting deletes only the files a
job of this kind writes: for a Parquet folder, its `part-NNNNNN.parquet` files, nothing else.
"""
import os
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple, Union

from ..errors import Errors
from ..io.writers import is_part_file, output_paths


def default_errors_path(output: Union[str, Path]) -> Path:
    """The errors file of an output: OUTPUT + `.errors.jsonl`, so out.jsonl, out.csv and
    out.parquet each get their own."""
    output = Path(output)
    return output.with_name(output.name + ".errors.jsonl")


def checkpoint_path(output: Union[str, Path]) -> Path:
    """The checkpoint file of an output: OUTPUT + `.checkpoint.json` beside it."""
    output = Path(output)
    return output.with_name(output.name + ".checkpoint.json")


def _same(a: Path, b: Path) -> bool:
    """Whether two paths name one file (the same resolved path, or hard or symbolic links)."""
    if a.resolve() == b.resolve():
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _inside(path: Path, folder: Path) -> bool:
    resolved, parent = path.resolve(), folder.resolve()
    return resolved == parent or parent in resolved.parents


def _creatable(path: Path, folder: bool) -> Optional[str]:
    """Why `path` cannot be created as a file (or a folder), or None when it can."""
    if path.exists() and path.is_dir() != folder:
        return "it is a folder" if not folder else "it is a file, not a folder"
    if path.exists():
        return None if os.access(path, os.W_OK) else "no permission to write it"
    ancestor = path.parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        return f"'{ancestor}' is a file, not a folder"
    if not os.access(ancestor, os.W_OK | os.X_OK):
        return f"no permission to write in '{ancestor}'"
    return None


@dataclass
class JobFiles:
    """Every file a job writes.

    output (Path): The output path (a file, or a folder for Parquet).
    output_format (str): "jsonl", "csv" or "parquet".
    errors (Path): The errors JSONL.
    checkpoint (Path): The checkpoint.
    html (Optional[Path]): The HTML report, if asked for.
    """

    output: Path
    output_format: str
    errors: Path
    checkpoint: Path
    html: Optional[Path] = None

    @classmethod
    def of(cls, output: Path, output_format: str, errors: Optional[Union[str, Path]] = None,
           html: Optional[Union[str, Path]] = None) -> "JobFiles":
        return cls(output=output, output_format=output_format,
                   errors=Path(errors) if errors else default_errors_path(output),
                   checkpoint=checkpoint_path(output), html=Path(html) if html else None)

    def named(self) -> List[Tuple[str, Path]]:
        """RETURNS (List[Tuple[str, Path]]): (what, path) of every file or folder the job writes."""
        named = [(f"output {name} table" if name != "records" else "output", path)
                 for name, path in output_paths(self.output, self.output_format).items()]
        named += [("errors file", self.errors), ("checkpoint", self.checkpoint)]
        if self.html is not None:
            named.append(("HTML report", self.html))
        return named

    def check(self, input_path: Path) -> None:
        """Refuse a job that would destroy its input, write one file twice, or cannot write.

        RAISES (ValueError): Naming the file; nothing has been opened yet.
        """
        named = self.named()
        if self.output_format == "parquet":
            named.append(("output folder", self.output))
        for what, path in named:
            if _same(path, input_path) or _inside(input_path, path):
                raise ValueError(Errors.E318.format(what=what, path=path))
        for i, (what, path) in enumerate(named):
            for other, other_path in named[i + 1:]:
                if _same(path, other_path):
                    raise ValueError(Errors.E319.format(what=what, other=other, path=path))
        for what, path in named:
            reason = _creatable(path, folder=self._is_folder(path))
            if reason:
                raise ValueError(Errors.E321.format(what=what, path=path, reason=reason))

    def _is_folder(self, path: Path) -> bool:
        """Parquet output is a folder of folders of part files; everything else is a file."""
        if self.output_format != "parquet":
            return False
        return path == self.output or path in output_paths(self.output, "parquet").values()

    def existing(self) -> List[Path]:
        """RETURNS (List[Path]): The job's files that exist already (Parquet: its part files)."""
        found = []
        for _, path in self.named():
            if self._is_folder(path):
                if path.is_dir():
                    found += sorted(p for p in path.iterdir() if is_part_file(p))
            elif path.exists():
                found.append(path)
        return found

    def claim(self, *, resume: bool, overwrite: bool) -> List[Path]:
        """Check that the job may write its files; nothing is deleted here.

        resume (bool): The job continues from its checkpoint (then its files are its own).
        overwrite (bool): The files an earlier job left may be deleted.
        RETURNS (List[Path]): The files to delete before writing (with `overwrite`; see `remove`).
        RAISES (ValueError): When files exist and neither flag allows writing over them.
        """
        existing = self.existing()
        if not existing or resume:
            if existing and not self.checkpoint.exists():
                raise ValueError(Errors.E323.format(path=self.checkpoint))
            return []
        if not overwrite:
            shown = ", ".join(f"'{p}'" for p in existing[:4]) + (f" and {len(existing) - 4} more" if len(existing) > 4 else "")
            raise ValueError(Errors.E320.format(paths=shown))
        return existing

    @staticmethod
    def remove(stale: List[Path]) -> None:
        """Delete the files `claim` returned, once every check of the job has passed."""
        for path in stale:
            path.unlink()
