"""The batteries app written with FastAPI: Starlette's GZip and CORS middleware and
``StaticFiles`` (which FastAPI re-exports), and an ``UploadFile`` parameter (see
:mod:`benchmarks.batteries`)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Response, UploadFile
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.staticfiles import StaticFiles

from benchmarks.batteries import BIG_JSON, GZIP_LEVEL, GZIP_MINIMUM_SIZE, ORIGIN, static_directory


def build(middleware: bool = True) -> FastAPI:
    """The batteries app, with GZip and CORS unless ``middleware`` is false."""
    app = FastAPI()

    @app.get("/small")
    async def small() -> dict[str, str]:
        return {"message": "Hello, World!"}

    @app.get("/big")
    async def big() -> Response:
        return Response(BIG_JSON, media_type="application/json")

    @app.post("/upload")
    async def upload(file: UploadFile) -> dict[str, Any]:
        return {"filename": file.filename, "size": file.size}

    app.mount("/static", StaticFiles(directory=static_directory()))
    if middleware:
        app.add_middleware(CORSMiddleware, allow_origins=[ORIGIN])
        app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_SIZE, compresslevel=GZIP_LEVEL)
    return app


app = build()
