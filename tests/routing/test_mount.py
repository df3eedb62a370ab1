"""Mounting ASGI apps under a prefix: ``app.mount(path, asgi_app, name=...)``."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from framework import App, Request, Router, WebSocket
from framework.responses import JSONResponse, PlainTextResponse
from framework.routing import Mount, NoMatchFound
from framework.testclient import TestClient
from framework.types import Receive, Scope, Send


def make_sub_app() -> App:
    sub = App()

    @sub.get("/items/{item_id:int}", name="item")
    async def item(item_id: int, request: Request) -> dict[str, Any]:
        return {
            "item_id": item_id,
            "url": str(request.url),
            "root_path": request.scope["root_path"],
            "self": str(request.url_for("api:item", item_id=item_id)),
        }

    @sub.get("/folder/")
    async def folder() -> dict[str, str]:
        return {"in": "folder"}

    @sub.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json({"root_path": websocket.scope["root_path"]})
        await websocket.close()

    return sub


def make_app(**options: Any) -> App:
    app = App(**options)

    @app.get("/api/health")
    async def health() -> str:
        return "parent"

    @app.get("/link")
    async def link(request: Request) -> dict[str, str]:
        return {
            "item": str(request.url_for("api:item", item_id=3)),
            "asset": str(request.url_for("assets", path="/css/site.css")),
        }

    app.mount("/api", make_sub_app(), name="api")
    app.mount("/assets", echo_scope, name="assets")
    return app


async def echo_scope(scope: Scope, receive: Receive, send: Send) -> None:
    """A plain ASGI app that answers with the scope fields a mounted app relies on."""
    response = JSONResponse(
        {"path": scope["path"], "root_path": scope["root_path"], "type": scope["type"]}
    )
    await response(scope, receive, send)


def test_mounted_app_answers_below_its_prefix() -> None:
    client = TestClient(make_app())
    response = client.get("/api/items/7")
    assert response.status_code == 200
    assert response.json() == {
        "item_id": 7,
        "url": "http://testserver/api/items/7",
        "root_path": "/api",
        "self": "http://testserver/api/items/7",
    }


def test_plain_asgi_app_sees_full_path_and_extended_root_path() -> None:
    response = TestClient(make_app()).get("/assets/css/site.css")
    assert response.json() == {
        "path": "/assets/css/site.css",
        "root_path": "/assets",
        "type": "http",
    }


def test_url_for_reaches_into_mounts() -> None:
    response = TestClient(make_app()).get("/link")
    assert response.json() == {
        "item": "http://testserver/api/items/3",
        "asset": "http://testserver/assets/css/site.css",
    }
    app = make_app()
    assert app.url_path_for("api:item", item_id=5) == "/api/items/5"
    with pytest.raises(NoMatchFound):
        app.url_path_for("api:missing")
    with pytest.raises(NoMatchFound):
        app.url_path_for("other:item", item_id=5)


def test_prefix_alone_redirects_to_prefix_with_slash() -> None:
    client = TestClient(make_app(), follow_redirects=False)
    response = client.get("/assets?x=1")
    assert response.status_code == 307
    assert response.headers["location"] == "http://testserver/assets/?x=1"
    assert client.get("/assets/").json()["path"] == "/assets/"


def test_routes_of_the_parent_win_and_prefix_matches_whole_segments() -> None:
    client = TestClient(make_app())
    assert client.get("/api/health").text == '"parent"'
    assert client.get("/apix/items/1").status_code == 404
    response = client.get("/api/nothing")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_redirects_inside_the_mounted_app_keep_the_prefix() -> None:
    client = TestClient(make_app(), follow_redirects=False)
    response = client.get("/api/folder")
    assert response.status_code == 307
    assert response.headers["location"] == "http://testserver/api/folder/"


def test_websocket_through_a_mount() -> None:
    with TestClient(make_app()).websocket_connect("/api/ws") as ws:
        assert ws.receive_json() == {"root_path": "/api"}


def test_root_path_from_the_server_and_from_the_app_stack_with_the_mount() -> None:
    client = TestClient(make_app(), root_path="/proxy")
    data = client.get("/api/items/1").json()
    assert data["url"] == "http://testserver/proxy/api/items/1"
    assert data["root_path"] == "/proxy/api"
    assert data["self"] == "http://testserver/proxy/api/items/1"

    client = TestClient(make_app(root_path="/behind"))
    data = client.get("/behind/api/items/2").json()
    assert data["root_path"] == "/behind/api"
    assert data["self"] == "http://testserver/behind/api/items/2"


def test_mounts_in_routers_keep_prefixes_through_nesting() -> None:
    inner = Router(prefix="/inner")
    inner.mount("/raw", echo_scope, name="raw")
    outer = Router(prefix="/outer")
    outer.include_router(inner)
    app = App()
    app.include_router(outer, prefix="/v1")
    client = TestClient(app)
    assert client.get("/v1/outer/inner/raw/x").json() == {
        "path": "/v1/outer/inner/raw/x",
        "root_path": "/v1/outer/inner/raw",
        "type": "http",
    }
    assert app.url_path_for("raw", path="x") == "/v1/outer/inner/raw/x"


def test_mount_at_root_is_a_fallback_after_routes() -> None:
    app = App()

    @app.get("/hello")
    async def hello() -> PlainTextResponse:
        return PlainTextResponse("hello")

    app.mount("/", echo_scope)
    client = TestClient(app)
    assert client.get("/hello").text == "hello"
    assert client.get("/anything/else").json()["path"] == "/anything/else"


def test_mounted_app_lifespan_is_not_run() -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def sub_lifespan(app: App) -> AsyncIterator[None]:
        events.append("sub")
        yield

    @contextlib.asynccontextmanager
    async def parent_lifespan(app: App) -> AsyncIterator[None]:
        events.append("parent")
        yield

    app = App(lifespan=parent_lifespan)
    sub = App(lifespan=sub_lifespan)

    @sub.get("/")
    async def index() -> str:
        return "sub"

    app.mount("/sub", sub)
    with TestClient(app) as client:
        assert client.get("/sub/").json() == "sub"
    assert events == ["parent"]


def test_mounted_app_uses_its_own_exception_handlers() -> None:
    sub = App()

    @sub.exception_handler(404)
    async def not_found(request: Request, exc: Exception) -> PlainTextResponse:
        return PlainTextResponse("sub says no", status_code=404)

    app = App()
    app.mount("/sub", sub)
    client = TestClient(app)
    response = client.get("/sub/missing")
    assert (response.status_code, response.text) == (404, "sub says no")
    assert client.get("/missing").json() == {"detail": "Not Found"}


def test_bad_mount_paths_are_refused() -> None:
    with pytest.raises(ValueError, match="start with '/'"):
        Mount("static", echo_scope)
    with pytest.raises(ValueError, match="parameters"):
        Mount("/users/{user_id}", echo_scope)
    assert Mount("/static/", echo_scope).path == "/static"
