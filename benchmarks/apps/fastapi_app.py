"""The benchmark app written with FastAPI: typed path and query parameters, a body model, three
chained dependencies, a query model and a response model."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Query
from fastapi.responses import PlainTextResponse

from benchmarks.endpoints import (
    ROUTE_COUNT,
    STORED_USER,
    TOKEN,
    Filters,
    Item,
    PublicUser,
)

NOT_FOUND = b'{"detail":"Not Found"}'


def build(route_count: int = ROUTE_COUNT) -> FastAPI:
    """The app with the benchmark endpoints and ``route_count`` routes ``/r{n}/{x}``."""
    app = FastAPI()

    @app.get("/plaintext", response_class=PlainTextResponse)
    async def plaintext() -> str:
        return "Hello, World!"

    @app.get("/json")
    async def json_message() -> dict[str, str]:
        return {"message": "Hello, World!"}

    @app.get("/items/{item_id}")
    async def read_item(item_id: int, q: str | None = None) -> dict[str, Any]:
        return {"item_id": item_id, "q": q}

    @app.post("/items")
    async def create_item(item: Item) -> Item:
        return item

    @app.get("/account")
    async def account(
        account: Annotated[dict[str, str], Depends(current_account)],
    ) -> dict[str, str]:
        return account

    @app.get("/search")
    async def search(filters: Annotated[Filters, Query()]) -> Filters:
        return filters

    @app.get("/users/me", response_model=PublicUser)
    async def read_me() -> Any:
        return STORED_USER

    for number in range(route_count):
        app.get(f"/r{number}/{{x}}")(_numbered_route(number))
    return app


async def read_token(x_token: Annotated[str, Header()]) -> str:
    return x_token


async def current_user(token: Annotated[str, Depends(read_token)]) -> dict[str, str]:
    if token != TOKEN:
        raise HTTPException(401, "Invalid token")
    return {"name": "alice", "token": token}


async def current_account(
    user: Annotated[dict[str, str], Depends(current_user)],
) -> dict[str, str]:
    return {"user": user["name"], "plan": "pro", "token": user["token"]}


def _numbered_route(number: int) -> Any:
    async def numbered(x: str) -> dict[str, Any]:
        return {"route": number, "x": x}

    numbered.__name__ = f"route_{number}"
    return numbered


app = build()
