"""The App object: options, the ASGI entry point, the middleware stack and root_path
(framework/app.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from framework import (
    App,
    HTTPException,
    PlainTextResponse,
    Request,
    Response,
    Route,
    Router,
    WebSocket,
    WebSocketRoute,
)
from framework.app import DEFAULT_MAX_BODY_SIZE
from framework.exception_handlers import DEFAULT_HANDLERS, http_exception_handler
from framework.middleware import Middleware
from framework.middleware.errors import ServerErrorMiddleware
from framework.testclient import TestClient

Message = dict[str, Any]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_defaults() -> None:
    app = App()
    assert app.debug is False
    assert app.title == "API"
    assert app.version == "0.1.0"
    assert app.description == ""
    assert app.root_path == ""
    assert app.routes == []
    assert app.user_middleware == []
    assert app.exception_handlers == DEFAULT_HANDLERS
    assert app.exception_handlers[HTTPException] is http_exception_handler
    assert app.dependency_overrides == {}
    assert app.router.max_body_size == DEFAULT_MAX_BODY_SIZE == 16 * 1024 * 1024
    assert app.middleware_stack is None


def test_descriptive_options_are_kept() -> None:
    app = App(title="Shop", version="2.1", description="Sells things", debug=True)
    assert (app.title, app.version, app.description, app.debug) == (
        "Shop",
        "2.1",
        "Sells things",
        True,
    )


def test_scope_carries_app_and_router() -> None:
    app = App()

    @app.get("/")
    async def index(request: Request) -> dict[str, bool]:
        return {
            "app": request.app is app,
            "scope_app": request.scope["app"] is app,
            "router": request.scope["router"] is app.router,
            "route": request.scope["route"].name == "index",
        }

    assert TestClient(app).get("/").json() == {
        "app": True,
        "scope_app": True,
        "router": True,
        "route": True,
    }


def test_routes_lists_http_and_websocket_routes_in_order() -> None:
    async def index() -> None:
        return None

    async def socket(websocket: WebSocket) -> None:
        await websocket.accept()

    app = App(routes=[Route("/", index), WebSocketRoute("/ws", socket)])

    @app.post("/items")
    async def create() -> None:
        return None

    assert [type(r).__name__ for r in app.routes] == ["Route", "WebSocketRoute", "Route"]
    assert [r.path for r in app.routes] == ["/", "/ws", "/items"]
    assert app.url_path_for("socket") == "/ws"
    assert app.url_path_for("create") == "/items"


def test_middleware_stack_is_built_once() -> None:
    built: list[Any] = []

    class Counting:
        def __init__(self, app: Any) -> None:
            built.append(self)
            self.app = app

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            await self.app(scope, receive, send)

    app = App(middleware=[Middleware(Counting)])

    @app.get("/")
    async def index() -> str:
        return "ok"

    client = TestClient(app)
    for _ in range(5):
        assert client.get("/").json() == "ok"
    assert len(built) == 1
    assert isinstance(app.middleware_stack, ServerErrorMiddleware)
    stack = app.middleware_stack
    client.get("/")
    assert app.middleware_stack is stack


def test_build_middleware_stack_wraps_router_in_order() -> None:
    class Outer:
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            await self.app(scope, receive, send)

    class Inner(Outer):
        pass

    app = App(middleware=[Middleware(Outer), Middleware(Inner)])
    stack = app.build_middleware_stack()
    assert isinstance(stack, ServerErrorMiddleware)
    assert isinstance(stack.app, Outer)
    assert isinstance(stack.app.app, Inner)
    # The innermost layer is the router's dispatch: the matched route's function to await.
    assert stack.app.app.app == app.router.dispatch


def test_add_exception_handler_method() -> None:
    app = App()

    async def teapot(request: Request, exc: HTTPException) -> Response:
        return PlainTextResponse("short and stout", status_code=418)

    app.add_exception_handler(404, teapot)
    assert app.exception_handlers[404] is teapot
    response = TestClient(app).get("/nothing")
    assert (response.status_code, response.text) == (418, "short and stout")


def test_debug_flag_controls_the_500_body() -> None:
    def make(debug: bool) -> App:
        app = App(debug=debug)

        @app.get("/")
        async def index() -> None:
            raise KeyError("debug-marker")

        return app

    quiet = TestClient(make(False), raise_server_exceptions=False).get("/")
    loud = TestClient(make(True), raise_server_exceptions=False).get("/")
    assert quiet.text == "Internal Server Error"
    assert "debug-marker" in loud.text
    assert "Traceback" in loud.text
    assert quiet.status_code == loud.status_code == 500


def test_app_is_reusable_across_clients() -> None:
    app = App()
    calls: list[int] = []

    @app.get("/")
    async def index() -> int:
        calls.append(1)
        return len(calls)

    assert TestClient(app).get("/").json() == 1
    with TestClient(app) as client:
        assert client.get("/").json() == 2
    assert TestClient(app).get("/").json() == 3


# -- root_path -------------------------------------------------------------------------------------


def make_root_path_app(**options: Any) -> App:
    app = App(**options)

    @app.get("/where")
    async def where(request: Request) -> dict[str, str]:
        return {
            "url": str(request.url),
            "base_url": str(request.base_url),
            "url_for": str(request.url_for("where")),
            "root_path": request.scope["root_path"],
        }

    return app


def test_app_root_path_applies_when_the_server_gives_none() -> None:
    app = make_root_path_app(root_path="/proxy/")
    assert app.root_path == "/proxy"
    data = TestClient(app).get("/where").json()
    assert data == {
        "url": "http://testserver/proxy/where",
        "base_url": "http://testserver/proxy/",
        "url_for": "http://testserver/proxy/where",
        "root_path": "/proxy",
    }


def test_server_root_path_wins_over_app_root_path() -> None:
    app = make_root_path_app(root_path="/app-level")
    data = TestClient(app, root_path="/server-level").get("/where").json()
    assert data["root_path"] == "/server-level"
    assert data["url"] == "http://testserver/server-level/where"


def test_app_root_path_with_path_that_already_contains_it() -> None:
    # A server that puts root_path inside path (as the ASGI spec asks): routing strips it.
    app = make_root_path_app(root_path="/p")
    data = TestClient(app, root_path="/p").get("/where").json()
    assert data["url"] == "http://testserver/p/where"
    assert data["url_for"] == "http://testserver/p/where"


@pytest.mark.anyio
async def test_root_path_with_raw_asgi_scope_without_prefix_in_path() -> None:
    app = make_root_path_app()
    scope = {
        "type": "http",
        "method": "GET",
        "scheme": "https",
        "path": "/where",
        "raw_path": b"/where",
        "root_path": "/mounted",
        "query_string": b"",
        "headers": [(b"host", b"example.org")],
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    assert sent[0]["status"] == 200
    data = json.loads(sent[1]["body"])
    assert data["url"] == "https://example.org/mounted/where"
    assert data["url_for"] == "https://example.org/mounted/where"


# -- body size limit -------------------------------------------------------------------------------


def echo_app(**options: Any) -> App:
    app = App(**options)

    @app.post("/echo")
    async def echo(request: Request) -> Response:
        return Response(await request.body())

    return app


def test_max_body_size_option() -> None:
    client = TestClient(echo_app(max_body_size=10))
    assert client.post("/echo", content=b"0123456789").content == b"0123456789"
    response = client.post("/echo", content=b"0123456789!")
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large"}

    def chunks() -> Any:
        yield b"01234"
        yield b"56789"
        yield b"!"

    assert client.post("/echo", content=chunks()).status_code == 413
    # The app keeps serving after refusing a body.
    assert client.post("/echo", content=b"ok").content == b"ok"


def test_max_body_size_none_lifts_the_limit() -> None:
    client = TestClient(echo_app(max_body_size=None))
    big = b"x" * (DEFAULT_MAX_BODY_SIZE + 1)
    assert len(client.post("/echo", content=big).content) == len(big)


def test_route_max_body_size_overrides_app() -> None:
    app = echo_app(max_body_size=4)

    @app.post("/big", max_body_size=None)
    async def big(request: Request) -> int:
        return len(await request.body())

    router = Router(max_body_size=6)

    @router.post("/router")
    async def via_router(request: Request) -> int:
        return len(await request.body())

    app.include_router(router)
    client = TestClient(app)
    assert client.post("/echo", content=b"12345").status_code == 413
    assert client.post("/big", content=b"x" * 1000).json() == 1000
    assert client.post("/router", content=b"123456").json() == 6
    assert client.post("/router", content=b"1234567").status_code == 413


# -- raw ASGI use ------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_app_called_directly_as_asgi() -> None:
    app = App()

    @app.get("/hi/{name}")
    async def hi(name: str) -> dict[str, str]:
        return {"hi": name}

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/hi/there",
        "query_string": b"",
        "headers": [],
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    assert sent == [
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-length", b"14"), (b"content-type", b"application/json")],
        },
        {"type": "http.response.body", "body": b'{"hi":"there"}'},
    ]
