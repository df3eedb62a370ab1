"""The benchmark app written with Starlette: ``Route`` objects and ``request`` accessors.

Starlette has no dependencies, parameter validation or response models, so those endpoints do by
hand what the frameworks do for their declarations: three chained async functions reading the
header, ``Filters.model_validate`` of the query parameters (422 with pydantic's errors when they
do not fit), and ``PublicUser.model_validate(..., from_attributes=True)`` of the stored user
before ``model_dump_json``.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from benchmarks.endpoints import ROUTE_COUNT, STORED_USER, TOKEN, Filters, Item, PublicUser

NOT_FOUND = b"Not Found"


async def plaintext(request: Request) -> PlainTextResponse:
    return PlainTextResponse("Hello, World!")


async def json_message(request: Request) -> JSONResponse:
    return JSONResponse({"message": "Hello, World!"})


async def read_item(request: Request) -> JSONResponse:
    return JSONResponse(
        {"item_id": request.path_params["item_id"], "q": request.query_params.get("q")}
    )


async def create_item(request: Request) -> JSONResponse:
    item = Item.model_validate(await request.json())
    return JSONResponse(item.model_dump(mode="json"))


async def read_token(request: Request) -> str:
    """Step 1 of 3: the ``x-token`` header (422 without one, as the frameworks answer)."""
    token = request.headers.get("x-token")
    if token is None:
        raise HTTPException(422, "Missing x-token header")
    return token


async def current_user(request: Request) -> dict[str, str]:
    """Step 2 of 3: the user the token belongs to (401 for an unknown token)."""
    token = await read_token(request)
    if token != TOKEN:
        raise HTTPException(401, "Invalid token")
    return {"name": "alice", "token": token}


async def current_account(request: Request) -> dict[str, str]:
    """Step 3 of 3: the user's account."""
    user = await current_user(request)
    return {"user": user["name"], "plan": "pro", "token": user["token"]}


async def account(request: Request) -> JSONResponse:
    return JSONResponse(await current_account(request))


def _json(text: str) -> Response:
    return Response(text, media_type="application/json")


async def search(request: Request) -> Response:
    try:
        filters = Filters.model_validate(request.query_params)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        return JSONResponse({"detail": errors}, status_code=422)
    return _json(filters.model_dump_json())


async def read_me(request: Request) -> Response:
    user = PublicUser.model_validate(STORED_USER, from_attributes=True)
    return _json(user.model_dump_json())


def _numbered_route(number: int) -> Any:
    async def numbered(request: Request) -> JSONResponse:
        return JSONResponse({"route": number, "x": request.path_params["x"]})

    return numbered


def build(route_count: int = ROUTE_COUNT) -> Starlette:
    """The app with the benchmark endpoints and ``route_count`` routes ``/r{n}/{x}``."""
    routes = [
        Route("/plaintext", plaintext),
        Route("/json", json_message),
        Route("/items/{item_id:int}", read_item),
        Route("/items", create_item, methods=["POST"]),
        Route("/account", account),
        Route("/search", search),
        Route("/users/me", read_me),
    ]
    routes += [Route(f"/r{n}/{{x}}", _numbered_route(n)) for n in range(route_count)]
    return Starlette(routes=routes)


app = build()
