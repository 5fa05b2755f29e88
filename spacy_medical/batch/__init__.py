"""The batch annotation job: streaming, accounting, resume, engines (local, spark)."""
from .annotate import AnnotateResult, annotate  # noqa: F401
from .options import AnnotateOptions  # noqa: F401
from .records import SCHEMA_VERSION, annotated_record  # noqa: F401
