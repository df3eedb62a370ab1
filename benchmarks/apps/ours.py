"""The benchmark app written with ``framework``: typed path and query parameters and a body
model, exactly as the FastAPI app declares them."""

from __future__ import annotations

from typing import Any

from benchmarks.endpoints import ROUTE_COUNT, Item
from framework import App, PlainTextResponse

NOT_FOUND = b'{"detail":"Not Found"}'


def build(route_count: int = ROUTE_COUNT) -> App:
    """The app with the benchmark endpoints and ``route_count`` routes ``/r{n}/{x}``."""
    app = App()

    @app.get("/plaintext")
    async def plaintext() -> PlainTextResponse:
        return PlainTextResponse("Hello, World!")

    @app.get("/json")
    async def json_message() -> dict[str, str]:
        return {"message": "Hello, World!"}

    @app.get("/items/{item_id:int}")
    async def read_item(item_id: int, q: str | None = None) -> dict[str, Any]:
        return {"item_id": item_id, "q": q}

    @app.post("/items")
    async def create_item(item: Item) -> Item:
        return item

    for number in range(route_count):
        app.get(f"/r{number}/{{x}}")(_numbered_route(number))
    return app


def _numbered_route(number: int) -> Any:
    async def numbered(x: str) -> dict[str, Any]:
        return {"route": number, "x": x}

    numbered.__name__ = f"route_{number}"
    return numbered


app = build()
