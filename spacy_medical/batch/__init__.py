"""The batch annotation job: streaming, accounting, resume, engines (local, spark)."""
from .annotate import AnnotateResult, annotate  # noqa: F401
