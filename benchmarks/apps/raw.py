"""A hand-written ASGI app: the floor the frameworks are measured against.

It does the work the framework apps do, with nothing general around it: a dict lookup on the
path (static paths, then ``/<prefix>/<param>`` by first segment), a method check, 404 and 405
answers, int conversion of the path parameter, query string parsing (split by hand, or
``parse_qsl`` when there is something to unquote), reading the body from
``receive``, validation with the same pydantic models (``Item.model_validate_json``,
``Filters.model_validate`` of the parsed query, ``PublicUser.model_validate(...,
from_attributes=True)`` of the stored user), three chained async functions reading the
``x-token`` header from the raw header list, and JSON with ``pydantic_core.to_json``. Those are the libraries ``framework`` itself uses, so the ratio
"ours / raw" measures what the framework adds, not a difference between JSON libraries.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from pydantic import ValidationError
from pydantic_core import to_json

from benchmarks.endpoints import ROUTE_COUNT, STORED_USER, TOKEN, Filters, Item, PublicUser

NOT_FOUND = b'{"detail":"Not Found"}'

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
# A handler gets the scope, receive and the path parameter (None for static paths) and returns
# (status, content type, body).
Handler = Callable[[Scope, Receive, Any], Awaitable[tuple[int, bytes, bytes]]]

JSON = b"application/json"
TEXT = b"text/plain; charset=utf-8"


async def send_response(send: Send, status: int, content_type: bytes, body: bytes) -> None:
    headers = [(b"content-length", str(len(body)).encode()), (b"content-type", content_type)]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectionError("client disconnected")
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def query_dict(query_string: bytes) -> dict[str, str]:
    """The query string's values by name (the last of a repeated name): split by hand when
    there is nothing to unquote, else ``parse_qsl``."""
    text = query_string.decode("latin-1")
    if "%" in text or "+" in text:
        return dict(parse_qsl(text))
    query = {}
    for pair in text.split("&"):
        if pair:
            name, _, value = pair.partition("=")
            query[name] = value
    return query


async def plaintext(scope: Scope, receive: Receive, param: Any) -> tuple[int, bytes, bytes]:
    return 200, TEXT, b"Hello, World!"


async def json_message(scope: Scope, receive: Receive, param: Any) -> tuple[int, bytes, bytes]:
    return 200, JSON, to_json({"message": "Hello, World!"})


async def read_item(scope: Scope, receive: Receive, item_id: Any) -> tuple[int, bytes, bytes]:
    query = query_dict(scope["query_string"])
    return 200, JSON, to_json({"item_id": item_id, "q": query.get("q")})


async def create_item(scope: Scope, receive: Receive, param: Any) -> tuple[int, bytes, bytes]:
    try:
        item = Item.model_validate_json(await read_body(receive))
    except ValidationError as exc:
        return 422, JSON, to_json({"detail": exc.errors(include_url=False)})
    return 200, JSON, to_json(item)


class Refused(Exception):
    """An answer other than 200 from one of the ``/account`` steps."""

    def __init__(self, status: int, detail: str) -> None:
        self.status = status
        self.detail = detail


async def read_token(scope: Scope) -> str:
    """Step 1 of 3: the ``x-token`` header from the raw header list."""
    for name, value in scope["headers"]:
        if name == b"x-token":
            return value.decode("latin-1")
    raise Refused(422, "Missing x-token header")


async def current_user(scope: Scope) -> dict[str, str]:
    """Step 2 of 3: the user the token belongs to (401 for an unknown token)."""
    token = await read_token(scope)
    if token != TOKEN:
        raise Refused(401, "Invalid token")
    return {"name": "alice", "token": token}


async def current_account(scope: Scope) -> dict[str, str]:
    """Step 3 of 3: the user's account."""
    user = await current_user(scope)
    return {"user": user["name"], "plan": "pro", "token": user["token"]}


async def account(scope: Scope, receive: Receive, param: Any) -> tuple[int, bytes, bytes]:
    try:
        return 200, JSON, to_json(await current_account(scope))
    except Refused as exc:
        return exc.status, JSON, to_json({"detail": exc.detail})


async def search(scope: Scope, receive: Receive, param: Any) -> tuple[int, bytes, bytes]:
    query = query_dict(scope["query_string"])
    try:
        filters = Filters.model_validate(query)
    except ValidationError as exc:
        return 422, JSON, to_json({"detail": exc.errors(include_url=False)})
    return 200, JSON, to_json(filters)


async def read_me(scope: Scope, receive: Receive, param: Any) -> tuple[int, bytes, bytes]:
    user = PublicUser.model_validate(STORED_USER, from_attributes=True)
    return 200, JSON, to_json(user)


def _numbered_route(number: int) -> Handler:
    async def numbered(scope: Scope, receive: Receive, x: Any) -> tuple[int, bytes, bytes]:
        return 200, JSON, to_json({"route": number, "x": x})

    return numbered


def _int_param(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _str_param(text: str) -> str | None:
    return text or None


def build(route_count: int = ROUTE_COUNT) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """The app with the benchmark endpoints and ``route_count`` routes ``/r{n}/{x}``."""
    # path -> method -> handler
    static: dict[str, dict[str, Handler]] = {
        "/plaintext": {"GET": plaintext},
        "/json": {"GET": json_message},
        "/items": {"POST": create_item},
        "/account": {"GET": account},
        "/search": {"GET": search},
        "/users/me": {"GET": read_me},
    }
    # first segment -> (parameter converter, method -> handler), for paths "/<first>/<param>"
    dynamic: dict[str, tuple[Callable[[str], Any], dict[str, Handler]]] = {
        "items": (_int_param, {"GET": read_item}),
    }
    for number in range(route_count):
        dynamic[f"r{number}"] = (_str_param, {"GET": _numbered_route(number)})

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # no lifespan or websocket support needed here
        path: str = scope["path"]
        methods = static.get(path)
        param = None
        if methods is None:
            _, first, rest = path.split("/", 2) if path.count("/") == 2 else ("", "", "")
            entry = dynamic.get(first)
            if entry is not None:
                param = entry[0](rest)
                if param is not None:
                    methods = entry[1]
        if methods is None:
            await send_response(send, 404, JSON, to_json({"detail": "Not Found"}))
            return
        handler = methods.get(scope["method"])
        if handler is None:
            await send_response(send, 405, JSON, to_json({"detail": "Method Not Allowed"}))
            return
        status, content_type, body = await handler(scope, receive, param)
        await send_response(send, status, content_type, body)

    return app


app = build()
