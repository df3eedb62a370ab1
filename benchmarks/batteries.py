"""The "batteries" benchmark: built-in middleware, static files and uploads.

Every app in :data:`benchmarks.apps.BATTERIES_APP_NAMES` serves these routes, built with or
without middleware (``build(middleware=True)``):

- ``GET /small``: ``{"message":"Hello, World!"}``, a returned dict (too small to compress);
- ``GET /big``: :data:`BIG_JSON`, a prepared JSON body of about 10 KiB, sent as it is;
- ``GET /static/big.bin``: the 1 MiB file :data:`STATIC_CONTENT` from ``StaticFiles``;
- ``POST /upload``: a multipart form with one file field ``file``; answers its file name and size.

With middleware, GZip (``minimum_size=500``, ``compresslevel=9``: both frameworks' defaults,
given explicitly) wraps CORS (``allow_origins=[ORIGIN]``), as ``add_middleware`` called for CORS
and then for GZip makes it in every framework here.
"""

from __future__ import annotations

import atexit
import json
import random
import shutil
import tempfile
from functools import cache
from pathlib import Path

from benchmarks.endpoints import Endpoint

ORIGIN = "https://app.example.com"
"""The origin CORS allows."""

GZIP_MINIMUM_SIZE = 500
GZIP_LEVEL = 9

SMALL_JSON = b'{"message":"Hello, World!"}'


def _big_json() -> bytes:
    items = []
    body = b""
    number = 0
    while len(body) < 10 * 1024:
        items.append(
            {
                "id": number,
                "name": f"Widget {number}",
                "price_cents": 950 + 25 * number,
                "tags": ["hardware", f"series-{number % 7}"],
                "in_stock": number % 3 != 0,
            }
        )
        number += 1
        body = json.dumps({"items": items}, separators=(",", ":")).encode()
    return body


BIG_JSON = _big_json()
"""About 10 KiB of JSON (a list of products), the body of ``GET /big``."""

MIB = 1024 * 1024
STATIC_NAME = "big.bin"
STATIC_CONTENT = random.Random(5).randbytes(MIB)
"""The 1 MiB file ``StaticFiles`` serves (random bytes, so nothing can shortcut it)."""

UPLOAD_NAME = "upload.bin"
UPLOAD_CONTENT = random.Random(6).randbytes(MIB)
BOUNDARY = b"----benchmarks5b1c0e7d9a"
UPLOAD_BODY = (
    b"--" + BOUNDARY + b"\r\n"
    b'Content-Disposition: form-data; name="file"; filename="' + UPLOAD_NAME.encode() + b'"\r\n'
    b"Content-Type: application/octet-stream\r\n\r\n" + UPLOAD_CONTENT + b"\r\n"
    b"--" + BOUNDARY + b"--\r\n"
)
"""A multipart form holding :data:`UPLOAD_CONTENT` as the file field ``file``."""


@cache
def static_directory() -> str:
    """A temporary directory holding :data:`STATIC_NAME`, made once per process and removed at
    exit."""
    directory = tempfile.mkdtemp(prefix="bench-static-")
    atexit.register(shutil.rmtree, directory, True)
    (Path(directory) / STATIC_NAME).write_bytes(STATIC_CONTENT)
    return directory


_GZIP_OK = (b"accept-encoding", b"gzip, deflate, br")

BATTERIES: tuple[Endpoint, ...] = (
    Endpoint(
        "gzip 10 KiB json",
        "GET",
        "/big",
        headers=(_GZIP_OK,),
        expected=BIG_JSON,
        gzipped=True,
    ),
    Endpoint(
        "cors simple",
        "GET",
        "/small",
        headers=((b"origin", ORIGIN.encode()), _GZIP_OK),
        expected=SMALL_JSON,
        response_headers=((b"access-control-allow-origin", ORIGIN.encode()),),
    ),
    Endpoint("static 1 MiB", "GET", f"/static/{STATIC_NAME}", expected=STATIC_CONTENT),
    Endpoint(
        "upload 1 MiB",
        "POST",
        "/upload",
        body=UPLOAD_BODY,
        content_type=b"multipart/form-data; boundary=" + BOUNDARY,
        expected=b'{"filename":"%s","size":%d}' % (UPLOAD_NAME.encode(), MIB),
    ),
)
"""The endpoints timed on the apps with GZip and CORS installed."""

NO_MIDDLEWARE = Endpoint(
    "small json, no middleware", "GET", "/small", headers=(_GZIP_OK,), expected=SMALL_JSON
)
"""A same-origin request for a small body, timed on the app built without middleware ..."""

NO_OP = Endpoint(
    "small json, gzip+cors no-op", "GET", "/small", headers=(_GZIP_OK,), expected=SMALL_JSON
)
"""... and the same request on the app with GZip and CORS, neither of which applies to it (no
``Origin``, a body below ``minimum_size``): the difference is what they cost when idle."""
