"""A small shop API with a front end, showing the framework's main features; ``make serve`` runs it.

- JSON from dicts, lists and pydantic models; typed path (``{item_id:int}``) and query (``q``)
  parameters; a JSON body validated into ``ItemIn``; a ``Router`` included with a prefix and
  tags; ``HTTPException`` (404); a custom ``RequestValidationError`` handler that logs and then
  answers as the default one does; a streamed CSV export; a redirect built with
  ``request.url_for``; a middleware (``x-process-time``); a lifespan whose state handlers read.
- A front end in ``examples/static/`` (plain HTML, CSS and JavaScript, no build step), mounted at
  ``/static/`` with ``StaticFiles(html=True)``: it lists, adds and deletes items, shows a live
  counter and uploads files.
- ``CORSMiddleware`` lets a front end served from another origin call the API with credentials:
  ``http://localhost:5173`` (a dev server's usual port) unless ``SHOP_CORS_ORIGINS`` lists
  others, comma-separated.
- ``GZipMiddleware`` compresses answers of 500 bytes and more (and streamed ones) for clients
  that accept gzip.
- ``GET /events/counter`` streams server-sent events (``event: tick``, the number as data and
  id); a client reconnecting with ``Last-Event-ID`` goes on from there. The stream ends after
  ``limit`` events, or as soon as the client leaves.
- ``POST /uploads`` takes a multipart file (and an optional description) and answers with its
  name, type, size and SHA-256; a file over ``MAX_UPLOAD_SIZE`` (1 MiB) is refused with 413.

Free with every route: ``HEAD`` for ``GET``, and 405 with ``Allow`` for a wrong method.

Run it::

    make serve        # or: uvicorn examples.app:app --reload
    # then open http://127.0.0.1:8000/static/ in a browser
    curl http://127.0.0.1:8000/items?q=ham
    curl -X POST -H 'content-type: application/json' -d '{"name": "Saw", "price": 12}' \\
        http://127.0.0.1:8000/items
    curl -L http://127.0.0.1:8000/items/latest
    curl --compressed -v http://127.0.0.1:8000/items.csv
    curl -N 'http://127.0.0.1:8000/events/counter?start=5&limit=3&interval=0.5'
    curl -F file=@README.md -F description=readme http://127.0.0.1:8000/uploads
    curl -i -X OPTIONS -H 'Origin: http://localhost:5173' \\
        -H 'Access-Control-Request-Method: POST' http://127.0.0.1:8000/items

uvicorn waits for open event streams when it stops; ``--timeout-graceful-shutdown 5`` bounds the
wait (a browser reconnects by itself, resuming after the last event id it saw).
"""

import csv
import hashlib
import io
import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import anyio
from pydantic import BaseModel, Field

from framework import (
    App,
    Form,
    Header,
    HTTPException,
    Query,
    RedirectResponse,
    Request,
    RequestValidationError,
    Response,
    Router,
    StreamingResponse,
    UploadFile,
)
from framework.exception_handlers import request_validation_exception_handler
from framework.formparsers import FormLimits
from framework.middleware.base import CallNext
from framework.middleware.cors import CORSMiddleware
from framework.middleware.gzip import GZipMiddleware
from framework.sse import EventSourceResponse, ServerSentEvent
from framework.staticfiles import StaticFiles

logger = logging.getLogger(__name__)

STATIC_DIRECTORY = Path(__file__).parent / "static"
CORS_ORIGINS_ENV = "SHOP_CORS_ORIGINS"
DEFAULT_CORS_ORIGINS = "http://localhost:5173"
MAX_UPLOAD_SIZE = 1024 * 1024
"""The largest file ``POST /uploads`` accepts, in bytes (past it: 413)."""


def cors_origins(value: str | None) -> list[str]:
    """The origins allowed to call the API: ``value`` split at commas (the default when unset)."""
    if value is None:
        value = DEFAULT_CORS_ORIGINS
    return [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]


class ItemIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    price: float = Field(gt=0)


class Item(ItemIn):
    id: int


class UploadSummary(BaseModel):
    """What ``POST /uploads`` saw of the uploaded file."""

    filename: str | None
    content_type: str | None
    size: int
    sha256: str
    description: str


class Inventory:
    """The shop's items, kept in memory (a real app would open a database here)."""

    def __init__(self) -> None:
        self.items: dict[int, Item] = {}
        self.last_id = 0

    def add(self, new: ItemIn) -> Item:
        self.last_id += 1
        item = self.items[self.last_id] = Item(id=self.last_id, **new.model_dump())
        return item


@asynccontextmanager
async def lifespan(app: App) -> AsyncIterator[dict[str, Any]]:
    inventory = Inventory()
    inventory.add(ItemIn(name="Hammer", price=9.5))
    inventory.add(ItemIn(name="Screwdriver", price=4.25))
    yield {"inventory": inventory}  # handlers read request.state.inventory
    # Shutdown: close connections here (see examples/lifespan.py).


app = App(
    title="Shop",
    version="1.0.0",
    lifespan=lifespan,
    form_limits=FormLimits(max_file_size=MAX_UPLOAD_SIZE),
)


@app.middleware("http")
async def add_process_time(request: Request, call_next: CallNext) -> Response:
    start = time.perf_counter()
    response = await call_next(request)
    response.headers["x-process-time"] = f"{time.perf_counter() - start:.6f}"
    return response


# The middleware added last runs first: CORS, then gzip, then the process time above.
app.add_middleware(GZipMiddleware, minimum_size=500)
app.add_middleware(
    CORSMiddleware,
    allow_origins=cors_origins(os.environ.get(CORS_ORIGINS_ENV)),
    allow_methods=["GET", "POST", "DELETE"],
    allow_credentials=True,
    expose_headers=["X-Process-Time"],
)


@app.exception_handler(RequestValidationError)
async def log_invalid_request(request: Request, exc: RequestValidationError) -> Response:
    """Log what was wrong with a request, then answer with the usual 422."""
    fields = ", ".join(".".join(str(part) for part in error["loc"]) for error in exc.errors())
    logger.warning("invalid request %s %s: %s", request.method, request.url.path, fields)
    return await request_validation_exception_handler(request, exc)


app.mount("/static", StaticFiles(directory=STATIC_DIRECTORY, html=True), name="static")


@app.get("/")
async def index(request: Request) -> dict[str, Any]:
    return {
        "message": f"Welcome to the {request.app.title} API",
        "items": str(request.url_for("list_items")),
        "example_user": str(request.url_for("get_user", username="ada")),
    }


@app.get("/items")
async def list_items(request: Request, q: str = "") -> list[Item]:
    query = q.lower()
    return [item for item in request.state.inventory.items.values() if query in item.name.lower()]


@app.post("/items", status_code=201)
async def create_item(item: ItemIn, request: Request) -> Item:
    inventory: Inventory = request.state.inventory
    return inventory.add(item)  # bad data never gets here: 422 from the handler above


@app.get("/items/latest")
async def latest_item(request: Request) -> RedirectResponse:
    inventory: Inventory = request.state.inventory
    if not inventory.items:
        raise HTTPException(404, detail="No items yet")
    return RedirectResponse(request.url_for("get_item", item_id=max(inventory.items)))


@app.get("/items/{item_id:int}")
async def get_item(item_id: int, request: Request) -> Item:
    item = request.state.inventory.items.get(item_id)
    if item is None:
        raise HTTPException(404, detail=f"Item {item_id} not found")
    return item


@app.delete("/items/{item_id:int}", status_code=204)
async def delete_item(item_id: int, request: Request) -> None:
    if request.state.inventory.items.pop(item_id, None) is None:
        raise HTTPException(404, detail=f"Item {item_id} not found")


@app.get("/items.csv")
async def export_items(request: Request) -> StreamingResponse:
    items = list(request.state.inventory.items.values())

    async def rows() -> AsyncIterator[str]:
        for fields in [("id", "name", "price"), *((i.id, i.name, i.price) for i in items)]:
            line = io.StringIO()
            csv.writer(line).writerow(fields)
            yield line.getvalue()

    headers = {"content-disposition": 'attachment; filename="items.csv"'}
    return StreamingResponse(rows(), media_type="text/csv", headers=headers)


@app.get("/events/counter", response_class=EventSourceResponse)
async def counter(
    start: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 10,
    interval: Annotated[float, Query(ge=0, le=10)] = 1.0,
    last_event_id: Annotated[int | None, Header(ge=0)] = None,
) -> EventSourceResponse:
    """Count from ``start``, one ``tick`` event every ``interval`` seconds, ``limit`` of them.

    A browser that lost the stream reconnects with ``Last-Event-ID``: counting resumes after it.
    When the client leaves, the generator is closed where it waits.
    """
    first = start if last_event_id is None else last_event_id + 1

    async def ticks() -> AsyncIterator[ServerSentEvent]:
        for n in range(first, first + limit):
            if n > first:
                await anyio.sleep(interval)
            yield ServerSentEvent(data=n, event="tick", id=n)

    return EventSourceResponse(ticks())


@app.post("/uploads")
async def upload(
    file: UploadFile, description: Annotated[str, Form(max_length=200)] = ""
) -> UploadSummary:
    """Read the uploaded file in chunks: its size and SHA-256 (413 past ``MAX_UPLOAD_SIZE``)."""
    digest = hashlib.sha256()
    size = 0
    while chunk := await file.read(64 * 1024):
        digest.update(chunk)
        size += len(chunk)
    return UploadSummary(
        filename=file.filename,
        content_type=file.content_type,
        size=size,
        sha256=digest.hexdigest(),
        description=description,
    )


users = Router(prefix="/users", tags=["users"])
USERS = {"ada": "Ada Lovelace", "grace": "Grace Hopper"}


@users.get("")
async def list_users() -> list[str]:
    return sorted(USERS)


@users.get("/{username}")
async def get_user(username: str) -> dict[str, str]:
    if username not in USERS:
        raise HTTPException(404, detail=f"No user {username!r}")
    return {"username": username, "name": USERS[username]}


app.include_router(users)
