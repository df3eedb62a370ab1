"""A small shop API showing the framework's main features; ``make serve`` runs it.

JSON from dicts, lists and pydantic models; typed path parameters (``{item_id:int}``); a
``Router`` included with a prefix and tags; ``HTTPException`` (404); a custom exception handler
(pydantic's ``ValidationError`` -> 422); a streamed CSV export; a redirect built with
``request.url_for``; a middleware (``x-process-time``); a lifespan whose state handlers read. Free
with every route: ``HEAD`` for ``GET``, and 405 with ``Allow`` for a wrong method.

Run it::

    make serve        # or: uvicorn examples.app:app --reload
    curl http://127.0.0.1:8000/items?q=ham
    curl -X POST -d '{"name": "Saw", "price": 12}' http://127.0.0.1:8000/items
    curl -L http://127.0.0.1:8000/items/latest
"""

import csv
import io
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from framework import (
    App,
    HTTPException,
    JSONResponse,
    RedirectResponse,
    Request,
    Response,
    Router,
    StreamingResponse,
)
from framework.middleware.base import CallNext


class ItemIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    price: float = Field(gt=0)


class Item(ItemIn):
    id: int


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


app = App(title="Shop", version="1.0.0", lifespan=lifespan)


@app.middleware("http")
async def add_process_time(request: Request, call_next: CallNext) -> Response:
    start = time.perf_counter()
    response = await call_next(request)
    response.headers["x-process-time"] = f"{time.perf_counter() - start:.6f}"
    return response


@app.exception_handler(ValidationError)
async def invalid_data(request: Request, exc: ValidationError) -> JSONResponse:
    errors = exc.errors(include_url=False, include_context=False)
    return JSONResponse({"detail": errors}, status_code=422)


@app.get("/")
async def index(request: Request) -> dict[str, Any]:
    return {
        "message": f"Welcome to the {request.app.title} API",
        "items": str(request.url_for("list_items")),
        "example_user": str(request.url_for("get_user", username="ada")),
    }


@app.get("/items")
async def list_items(request: Request) -> list[Item]:
    # Query parameters by type hint come later; for now, read them from the request.
    query = request.query_params.get("q", "").lower()
    return [item for item in request.state.inventory.items.values() if query in item.name.lower()]


@app.post("/items", status_code=201)
async def create_item(request: Request) -> Item:
    new = ItemIn.model_validate_json(await request.body())  # bad data: ValidationError -> 422
    return request.state.inventory.add(new)


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
