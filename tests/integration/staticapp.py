"""An app serving a directory with StaticFiles, for integration tests under real servers.

The servers import it as ``staticapp:app``. ``FRAMEWORK_IT_STATIC_DIR`` names the directory,
mounted at ``/static`` in html mode; ``/health`` answers for the readiness check, ``/stream``
streams a few lines (a StreamingResponse, to compare with the files on the same connection tests).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

from framework import App, StreamingResponse
from framework.staticfiles import StaticFiles

STATIC_DIR_ENV = "FRAMEWORK_IT_STATIC_DIR"

app = App()


@app.get("/health")
async def health() -> dict[str, bool]:
    return {"ok": True}


@app.get("/stream")
async def stream() -> StreamingResponse:
    async def lines() -> AsyncIterator[bytes]:
        for index in range(3):
            yield f"line {index}\n".encode()

    return StreamingResponse(lines(), media_type="text/plain")


app.mount("/static", StaticFiles(directory=os.environ[STATIC_DIR_ENV], html=True), name="static")
