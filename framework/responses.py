"""``framework.responses``: the response classes (from :mod:`framework.http.responses` and
:mod:`framework.http.files`)."""

from framework.http.files import FileResponse
from framework.http.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)

__all__ = [
    "FileResponse",
    "HTMLResponse",
    "JSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Response",
    "StreamingResponse",
]
