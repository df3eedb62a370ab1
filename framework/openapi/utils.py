"""Where FastAPI code finds the document's helpers (``fastapi.openapi.utils``): re-exports."""

from framework.openapi.document import METHODS_WITH_BODY, get_openapi
from framework.openapi.operations import generate_unique_id, path_format
from framework.openapi.router import DocumentationRouter
from framework.openapi.schemas import REF_PREFIX, REF_TEMPLATE

__all__ = [
    "METHODS_WITH_BODY",
    "REF_PREFIX",
    "REF_TEMPLATE",
    "DocumentationRouter",
    "generate_unique_id",
    "get_openapi",
    "path_format",
]
