"""The Spark engine: the same job as the local engine, annotated on PySpark executors.

The driver streams the export with the same reader, sends records to Spark in groups, and writes
the results with the same writers and checkpoints, so output, accounting and resume are the
engine-independent code of `annotate.py`. On the executors each partition runs
`local.annotate_records`; the pipeline is loaded once per executor Python worker (cached in this
module, with worker reuse on) inside `mapPartitions`, never broadcast: a pickled pipeline is
large and some components do not pickle. Executors return plain dicts.

On a cluster, the model (package name or a path every executor can read) and spacy-medical
must be installed on the executors. The driver loads the model once too, to fingerprint it for
the checkpoint.

Security: with a local master (`local`, `local[N]`, `local[*]`) the driver and its block manager
listen on 127.0.0.1 only. A cluster master needs the network, and note text crosses it: turn on
`spark.authenticate`, `spark.network.crypto.enabled` and `spark.io.encryption.enabled` in the
cluster's spark-defaults.conf (see docs/annotate.md).
"""
import os
import sys
from functools import partial
from itertools import islice
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple

from ..errors import Errors
from ..io.exports import NoteRecord, record_to_dict
from .options import AnnotateOptions

LOOPBACK = "127.0.0.1"

# One pipeline per executor Python worker, keyed by model name or path.
_PIPELINES: Dict[str, Any] = {}


def _pipeline(model: str) -> Any:
    if model not in _PIPELINES:
        import spacy

        _PIPELINES[model] = spacy.load(model)
    return _PIPELINES[model]


def annotate_partition(rows: Iterable[Dict[str, Any]], *, model: str, batch_size: int, chunk_chars: int) -> Iterator[Dict[str, Any]]:
    """Annotate the records of one partition (runs on an executor).

    rows (Iterable[Dict[str, Any]]): Records as plain dicts (`record_to_dict`).
    model (str): Package name or path of the pipeline.
    RETURNS (Iterator[Dict[str, Any]]): One output record per input record, in order.
    """
    from .local import annotate_records

    nlp = _pipeline(model)
    records = (NoteRecord(**row) for row in rows)
    for _, result in annotate_records(nlp, records, batch_size=batch_size, n_process=1, chunk_chars=chunk_chars):
        yield result


def session_config(master: Optional[str] = None) -> Dict[str, str]:
    """The Spark settings of a session for `master` (default local[*]).

    A local master binds the driver to the loopback interface: a note never leaves the machine
    and no other host can reach the driver's ports.
    """
    master = master or "local[*]"
    config = {
        "spark.master": master,
        "spark.app.name": "spacy-medical annotate",
        "spark.python.worker.reuse": "true",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
    }
    if master == "local" or master.startswith("local["):
        config.update({"spark.driver.bindAddress": LOOPBACK, "spark.driver.host": LOOPBACK})
    return config


def get_session(master: Optional[str] = None) -> Tuple[Any, bool]:
    """Get or create a SparkSession; RETURNS (session, whether this call created it)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as err:
        raise RuntimeError(Errors.E312.format(reason=str(err))) from None
    # Executors must run the interpreter that has spacy-medical installed.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active, False
    builder = SparkSession.builder
    for key, value in session_config(master).items():
        builder = builder.config(key, value)
    return builder.getOrCreate(), active is None


def annotate_records_spark(
    records: Iterable[NoteRecord],
    options: AnnotateOptions,
    *,
    group_size: Optional[int] = None,
) -> Iterator[Tuple[NoteRecord, Dict[str, Any]]]:
    """Annotate records on Spark, yielding one result per record in input order.

    records (Iterable[NoteRecord]): Records from `spacy_medical.io.exports`.
    options (AnnotateOptions): The job's settings: `model` (a package name or path loadable on
        every executor), `spark_master` (default local[*]), `batch_size`, `chunk_chars`.
    group_size (Optional[int]): Records per Spark job; bounds the driver's memory.
    YIELDS (Tuple[NoteRecord, Dict[str, Any]]): The record and its output record.
    """
    spark, created = get_session(options.spark_master)
    try:
        sc = spark.sparkContext
        slices = max(1, sc.defaultParallelism)
        group_size = group_size or 512 * slices
        func = partial(annotate_partition, model=str(options.model), batch_size=options.batch_size,
                       chunk_chars=options.chunk_chars)
        iterator = iter(records)
        while True:
            group: List[NoteRecord] = list(islice(iterator, group_size))
            if not group:
                break
            rdd = sc.parallelize([record_to_dict(r) for r in group], numSlices=min(slices, len(group)))
            # collect() keeps partition order, and each partition keeps record order.
            results = rdd.mapPartitions(func).collect()
            if len(results) != len(group):
                raise RuntimeError(Errors.E310.format(read=len(group), annotated=len(results), failed="(spark)"))
            yield from zip(group, results)
    finally:
        if created:
            spark.stop()
