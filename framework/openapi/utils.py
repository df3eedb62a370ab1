"""Where FastAPI code finds the document's helpers (``fastapi.openapi.utils``): re-exports."""

from framework.openapi.document import (
    METHODS_WITH_BODY,
    REF_PREFIX,
    REF_TEMPLATE,
    DocumentationRouter,
    generate_unique_id,
    get_openapi,
    path_format,
)

__all__ = [
    "METHODS_WITH_BODY",
    "REF_PREFIX",
    "REF_TEMPLATE",
    "DocumentationRouter",
    "generate_unique_id",
    "get_openapi",
    "path_format",
]
