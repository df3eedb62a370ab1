"""The batteries app written with Starlette: its GZip and CORS middleware, ``StaticFiles``
mounted at ``/static`` and ``await request.form()`` for the upload (see
:mod:`benchmarks.batteries`)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from benchmarks.batteries import BIG_JSON, GZIP_LEVEL, GZIP_MINIMUM_SIZE, ORIGIN, static_directory


async def small(request: Request) -> JSONResponse:
    return JSONResponse({"message": "Hello, World!"})


async def big(request: Request) -> Response:
    return Response(BIG_JSON, media_type="application/json")


async def upload(request: Request) -> JSONResponse:
    async with request.form() as form:
        file = form["file"]
        assert isinstance(file, UploadFile)
        return JSONResponse({"filename": file.filename, "size": file.size})


def build(middleware: bool = True) -> Starlette:
    """The batteries app, with GZip and CORS unless ``middleware`` is false."""
    app = Starlette(
        routes=[
            Route("/small", small),
            Route("/big", big),
            Route("/upload", upload, methods=["POST"]),
            Mount("/static", StaticFiles(directory=static_directory())),
        ]
    )
    if middleware:
        app.add_middleware(CORSMiddleware, allow_origins=[ORIGIN])
        app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_SIZE, compresslevel=GZIP_LEVEL)
    return app


app = build()
