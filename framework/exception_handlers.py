"""The default exception handlers, public so that a custom handler can fall back on them.

```python
from framework.exception_handlers import http_exception_handler

@app.exception_handler(HTTPException)
async def logged(request, exc):
    log.warning("HTTP %s on %s", exc.status_code, request.url)
    return await http_exception_handler(request, exc)
```
"""

from __future__ import annotations

from framework.exceptions import HTTPException
from framework.requests import Request
from framework.responses import JSONResponse, Response


async def http_exception_handler(request: Request, exc: HTTPException) -> Response:
    """``{"detail": exc.detail}`` with the exception's status and headers (no body for 204/304)."""
    if exc.status_code < 200 or exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=exc.headers)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
