"""Routes, the router and endpoint plans (framework/routing/, framework/handlers/)."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import threading
import uuid
from collections.abc import Callable
from typing import Annotated, Any

import pytest
from pydantic import BaseModel

from framework import (
    App,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    Request,
    Response,
    Route,
    Router,
    StreamingResponse,
    WebSocket,
)
from framework.params import Path
from framework.routing import NoMatchFound
from framework.testclient import TestClient

ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def method_echo(request: Request) -> Response:
    return PlainTextResponse(f"{request.method} {request.url.path}")


# -- decorators ---------------------------------------------------------------------------------


@pytest.mark.parametrize("owner", ["app", "router"])
@pytest.mark.parametrize(
    ("decorator", "method"),
    [
        ("get", "GET"),
        ("post", "POST"),
        ("put", "PUT"),
        ("patch", "PATCH"),
        ("delete", "DELETE"),
        ("options", "OPTIONS"),
    ],
)
def test_method_decorators(owner: str, decorator: str, method: str) -> None:
    app = App()
    target: Any = app if owner == "app" else Router()

    async def handler(request: Request) -> dict[str, str]:
        return {"method": request.method}

    returned = getattr(target, decorator)("/thing")(handler)
    assert returned is handler  # decorators hand the function back unchanged
    if owner == "router":
        app.include_router(target)
    client = TestClient(app)
    response = client.request(method, "/thing")
    assert response.status_code == 200
    assert response.json() == {"method": method}
    other = "POST" if method != "POST" else "PUT"
    assert client.request(other, "/thing").status_code == 405


@pytest.mark.parametrize("owner", ["app", "router"])
def test_head_decorator(owner: str) -> None:
    app = App()
    target: Any = app if owner == "app" else Router()

    @target.head("/thing")
    async def thing() -> Response:
        return Response(headers={"x-head": "yes"})

    if owner == "router":
        app.include_router(target)
    client = TestClient(app)
    response = client.head("/thing")
    assert response.status_code == 200
    assert response.headers["x-head"] == "yes"
    assert client.get("/thing").status_code == 405


@pytest.mark.parametrize("owner", ["app", "router"])
def test_api_route_and_add_api_route(owner: str) -> None:
    app = App()
    target: Any = app if owner == "app" else Router()
    target.api_route("/multi", methods=["get", "POST"])(method_echo)
    target.add_api_route("/added", method_echo, methods=["PUT", "DELETE"])
    target.add_api_route("/default", method_echo)  # GET by default
    if owner == "router":
        app.include_router(target)
    client = TestClient(app)
    assert client.get("/multi").text == "GET /multi"
    assert client.post("/multi").text == "POST /multi"
    assert client.put("/multi").status_code == 405
    assert client.put("/added").text == "PUT /added"
    assert client.delete("/added").text == "DELETE /added"
    assert client.get("/added").status_code == 405
    assert client.get("/default").text == "GET /default"
    assert client.post("/default").status_code == 405


def test_app_routes_argument_with_route_objects() -> None:
    async def index() -> dict[str, str]:
        return {"page": "index"}

    async def create(request: Request) -> Response:
        return PlainTextResponse("created", status_code=201)

    routes = [Route("/", index), Route("/items", create, methods=["POST"], name="create_item")]
    app = App(routes=routes)
    client = TestClient(app)
    assert client.get("/").json() == {"page": "index"}
    response = client.post("/items")
    assert (response.status_code, response.text) == (201, "created")
    assert app.url_path_for("create_item") == "/items"
    assert [r.path for r in app.routes] == ["/", "/items"]


def test_route_repr_and_methods() -> None:
    async def read() -> None:
        return None

    route = Route("/r/{x}", read, methods=["get"])
    assert route.methods == {"GET", "HEAD"}
    assert route.name == "read"
    assert repr(route) == "Route(path='/r/{x}', name='read', methods=['GET', 'HEAD'])"
    assert Route("/p", read, methods=["POST"]).methods == {"POST"}


def test_route_names_default_to_function_names() -> None:
    app = App()

    @app.get("/a")
    async def first_handler() -> None:
        return None

    @app.get("/b", name="explicit")
    async def second_handler() -> None:
        return None

    class Callable_:
        async def __call__(self) -> str:
            return "object"

    app.add_api_route("/c", Callable_())
    assert [route.name for route in app.routes] == ["first_handler", "explicit", "Callable_"]
    assert TestClient(app).get("/c").json() == "object"


# -- HEAD -------------------------------------------------------------------------------------


def test_head_is_served_for_get_routes_without_body() -> None:
    app = App()

    @app.get("/json")
    async def json_route() -> dict[str, int]:
        return {"a": 1}

    @app.get("/text")
    async def text_route() -> Response:
        return PlainTextResponse("hello world", headers={"x-extra": "1"})

    @app.get("/stream")
    async def stream_route() -> Response:
        async def chunks() -> Any:
            yield b"abc"
            yield b"def"

        return StreamingResponse(chunks(), media_type="text/plain", headers={"x-s": "1"})

    client = TestClient(app)
    for path in ["/json", "/text", "/stream"]:
        got = client.get(path)
        head = client.head(path)
        assert head.status_code == 200
        assert head.content == b""
        assert got.content != b""
        assert dict(head.headers) == dict(got.headers)


def test_explicit_head_route_wins_over_implicit() -> None:
    for order in ("head_first", "get_first"):
        app = App()

        async def get_handler() -> Response:
            return PlainTextResponse("body", headers={"x-from": "get"})

        async def head_handler() -> Response:
            return Response(headers={"x-from": "head"})

        if order == "head_first":
            app.add_api_route("/r", head_handler, methods=["HEAD"])
            app.add_api_route("/r", get_handler, methods=["GET"])
        else:
            app.add_api_route("/r", get_handler, methods=["GET"])
            app.add_api_route("/r", head_handler, methods=["HEAD"])
        client = TestClient(app)
        assert client.head("/r").headers["x-from"] == "head", order
        assert client.get("/r").headers["x-from"] == "get", order


def test_first_declared_route_wins_for_the_same_method_and_path() -> None:
    app = App()

    @app.get("/dup")
    async def first() -> str:
        return "first"

    @app.get("/dup")
    async def second() -> str:
        return "second"

    @app.post("/dup")
    async def post() -> str:
        return "post"

    client = TestClient(app)
    assert client.get("/dup").json() == "first"
    assert client.post("/dup").json() == "post"


# -- misses -----------------------------------------------------------------------------------


def test_404_json_body() -> None:
    app = App()

    @app.get("/exists")
    async def exists() -> None:
        return None

    client = TestClient(app)
    for method in ALL_METHODS:
        response = client.request(method, "/missing")
        assert response.status_code == 404
        if method != "HEAD":
            assert response.json() == {"detail": "Not Found"}
        assert response.headers["content-type"] == "application/json"


def test_405_lists_allowed_methods() -> None:
    app = App()

    @app.get("/r")
    async def read() -> None:
        return None

    @app.put("/r")
    async def write() -> None:
        return None

    @app.post("/only-post")
    async def only_post() -> None:
        return None

    client = TestClient(app)
    response = client.delete("/r")
    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed"}
    assert response.headers["allow"] == "GET, HEAD, PUT"
    response = client.get("/only-post")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert client.head("/only-post").status_code == 405


def test_405_allow_includes_methods_of_every_matching_template() -> None:
    app = App()

    @app.get("/a/{x:int}")
    async def by_int(x: int) -> dict[str, Any]:
        return {"get": x}

    @app.post("/a/{y}")
    async def by_str(y: str) -> dict[str, Any]:
        return {"post": y}

    client = TestClient(app)
    assert client.get("/a/1").json() == {"get": 1}
    assert client.post("/a/1").json() == {"post": "1"}
    assert client.post("/a/z").json() == {"post": "z"}
    response = client.get("/a/z")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    response = client.delete("/a/1")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, POST"


def test_trailing_slash_redirects_both_ways() -> None:
    app = App()

    @app.get("/with/")
    async def with_slash() -> str:
        return "with"

    @app.get("/without")
    async def without_slash() -> str:
        return "without"

    client = TestClient(app, follow_redirects=False)
    response = client.get("/with?x=1&y=2")
    assert response.status_code == 307
    assert response.headers["location"] == "http://testserver/with/?x=1&y=2"
    response = client.get("/without/?q=a%20b")
    assert response.status_code == 307
    assert response.headers["location"] == "http://testserver/without?q=a%20b"
    assert client.get("/nowhere/").status_code == 404

    following = TestClient(app)
    response = following.get("/with?x=1")
    assert response.status_code == 200
    assert response.json() == "with"
    assert str(response.url) == "http://testserver/with/?x=1"


def test_trailing_slash_redirect_keeps_root_path() -> None:
    app = App()

    @app.get("/items/")
    async def items(request: Request) -> str:
        return str(request.url)

    client = TestClient(app, follow_redirects=False, root_path="/api")
    response = client.get("/items?page=2")
    assert response.status_code == 307
    assert response.headers["location"] == "http://testserver/api/items/?page=2"


def test_trailing_slash_redirect_to_parameter_route() -> None:
    app = App()

    @app.get("/users/{user_id:int}")
    async def user(user_id: int) -> int:
        return user_id

    client = TestClient(app, follow_redirects=False)
    response = client.get("/users/5/")
    assert response.status_code == 307
    assert response.headers["location"] == "http://testserver/users/5"
    assert client.get("/users/x/").status_code == 404


def test_redirect_slashes_false() -> None:
    for app in (App(redirect_slashes=False), None):
        if app is None:
            router = Router(redirect_slashes=False)

            @router.get("/with/")
            async def with_slash_router() -> str:
                return "with"

            # A Router is an ASGI app of its own.
            client = TestClient(router, follow_redirects=False)
        else:

            @app.get("/with/")
            async def with_slash() -> str:
                return "with"

            client = TestClient(app, follow_redirects=False)
        response = client.get("/with")
        assert response.status_code == 404
        assert response.json() == {"detail": "Not Found"}
        assert client.get("/with/").json() == "with"


def test_root_path_is_never_redirected() -> None:
    app = App()

    @app.get("/x")
    async def x() -> None:
        return None

    client = TestClient(app, follow_redirects=False)
    assert client.get("/").status_code == 404


# -- endpoint parameters ----------------------------------------------------------------------


def test_path_params_by_name_and_converted() -> None:
    app = App()

    @app.get("/orders/{order_id:int}/lines/{line}/price/{amount:float}")
    async def line(line: str, amount: float, order_id: int) -> dict[str, Any]:
        return {
            "order_id": [order_id, type(order_id).__name__],
            "line": [line, type(line).__name__],
            "amount": [amount, type(amount).__name__],
        }

    assert TestClient(app).get("/orders/7/lines/abc/price/2.5").json() == {
        "order_id": [7, "int"],
        "line": ["abc", "str"],
        "amount": [2.5, "float"],
    }


def test_request_parameter_gets_the_request_under_any_name() -> None:
    app = App()

    @app.get("/who/{name}")
    async def who(name: str, req: Request) -> dict[str, Any]:
        return {
            "name": name,
            "path_params": req.path_params,
            "is_request": isinstance(req, Request),
            "q": req.query_params.get("q"),
        }

    assert TestClient(app).get("/who/bob?q=1").json() == {
        "name": "bob",
        "path_params": {"name": "bob"},
        "is_request": True,
        "q": "1",
    }


def test_parameters_with_defaults_are_left_alone() -> None:
    app = App()

    @app.get("/d")
    async def with_default(limit: int = 10, *args: Any, **kwargs: Any) -> int:
        return limit

    assert TestClient(app).get("/d").json() == 10


def test_other_scalar_parameters_are_required_query_parameters() -> None:
    app = App()

    @app.get("/items/{item_id:int}")
    async def needs_mystery(item_id: int, mystery: str) -> dict[str, Any]:
        return {"item_id": item_id, "mystery": mystery}

    client = TestClient(app)
    assert client.get("/items/1?mystery=x").json() == {"item_id": 1, "mystery": "x"}
    response = client.get("/items/1")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "mystery"]


def test_a_path_marker_for_a_name_not_in_the_path_raises_at_registration() -> None:
    async def handler(item_id: Annotated[int, Path()]) -> None:
        return None

    with pytest.raises(TypeError, match="'item_id'"):
        Route("/items", handler)
    app = App()
    with pytest.raises(TypeError, match="'item_id'"):
        app.get("/items")(handler)
    assert app.routes == []


def test_one_unresolvable_annotation_does_not_hide_the_request_parameter() -> None:
    # With postponed annotations, a name only imported under TYPE_CHECKING cannot be resolved;
    # the other parameters must still be recognised.
    app = App()

    @app.get("/x/{n:int}")
    async def handler(
        request: Request,
        n: int,
        extra: OnlyForTypeCheckers | None = None,  # type: ignore[name-defined]  # noqa: F821
    ) -> Item:
        return SecretItem(name=request.url.path, price=n, secret="hidden")

    assert TestClient(app).get("/x/3").json() == {"name": "/x/3", "price": 3.0}


def test_an_unresolvable_annotation_without_default_fails_at_registration() -> None:
    async def handler(user: NotDefinedAnywhere) -> None:  # type: ignore[name-defined]  # noqa: F821
        return None

    with pytest.raises(TypeError, match="Cannot resolve the annotation 'NotDefinedAnywhere'"):
        App().get("/u")(handler)


def test_path_param_missing_from_signature_is_still_in_request() -> None:
    app = App()

    @app.get("/x/{a}/{b}")
    async def only_a(a: str, request: Request) -> dict[str, Any]:
        return {"a": a, "all": request.path_params}

    assert TestClient(app).get("/x/1/2").json() == {"a": "1", "all": {"a": "1", "b": "2"}}


def test_sync_handlers_run_in_a_worker_thread_async_on_the_loop() -> None:
    seen: dict[str, int] = {}

    class RecordLoopThread:
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            seen[f"loop {scope['path']}"] = threading.get_ident()
            await self.app(scope, receive, send)

    app = App()
    app.add_middleware(RecordLoopThread)

    @app.get("/sync")
    def sync_handler() -> str:
        seen["sync"] = threading.get_ident()
        return "sync"

    @app.get("/sync-with-args/{x}")
    def sync_with_args(x: str, request: Request) -> str:
        seen["sync-args"] = threading.get_ident()
        return x

    @app.get("/async")
    async def async_handler() -> str:
        seen["async"] = threading.get_ident()
        return "async"

    client = TestClient(app)
    assert client.get("/sync").json() == "sync"
    assert client.get("/sync-with-args/v").json() == "v"
    assert client.get("/async").json() == "async"
    assert seen["sync"] != seen["loop /sync"]
    assert seen["sync-args"] != seen["loop /sync-with-args/v"]
    assert seen["async"] == seen["loop /async"]
    assert seen["sync"] != threading.get_ident()


# -- return values ------------------------------------------------------------------------------


class Color(enum.Enum):
    RED = "red"
    BLUE = 2


class Item(BaseModel):
    name: str
    price: float = 1.0


class SecretItem(Item):
    secret: str


class Unfinished(BaseModel):
    child: NeverDefined  # type: ignore[name-defined]  # noqa: F821


@dataclasses.dataclass
class Point:
    x: int
    y: int
    tags: list[str] = dataclasses.field(default_factory=list)


RETURN_VALUES: list[tuple[str, Any, bytes]] = [
    ("dict", {"a": 1, "b": [1, 2]}, b'{"a":1,"b":[1,2]}'),
    ("list", [1, "a", None, True], b'[1,"a",null,true]'),
    ("empty_list", [], b"[]"),
    ("str", "héllo", '"héllo"'.encode()),
    ("int", 3, b"3"),
    ("negative", -7, b"-7"),
    ("float", 1.5, b"1.5"),
    ("none", None, b"null"),
    ("true", True, b"true"),
    ("false", False, b"false"),
    ("model", Item(name="pen"), b'{"name":"pen","price":1.0}'),
    ("dataclass", Point(1, 2, ["a"]), b'{"x":1,"y":2,"tags":["a"]}'),
    ("datetime", datetime.datetime(2024, 1, 2, 3, 4, 5), b'"2024-01-02T03:04:05"'),
    (
        "aware_datetime",
        datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
        b'"2024-01-02T03:04:05Z"',
    ),
    ("date", datetime.date(2024, 1, 2), b'"2024-01-02"'),
    ("uuid", uuid.UUID(int=1), b'"00000000-0000-0000-0000-000000000001"'),
    ("decimal", decimal.Decimal("1.50"), b'"1.50"'),
    ("enum_str", Color.RED, b'"red"'),
    ("enum_int", Color.BLUE, b"2"),
    ("tuple", (1, "x"), b'[1,"x"]'),
    (
        "nested",
        {
            "items": [Item(name="a", price=2)],
            "point": Point(0, 0),
            "when": datetime.date(2020, 5, 6),
        },
        b'{"items":[{"name":"a","price":2.0}],"point":{"x":0,"y":0,"tags":[]},"when":"2020-05-06"}',
    ),
    ("unicode_key", {"ключ": "значение"}, '{"ключ":"значение"}'.encode()),
]


@pytest.mark.parametrize("sync", [False, True])
@pytest.mark.parametrize(
    ("name", "value", "expected"), RETURN_VALUES, ids=[v[0] for v in RETURN_VALUES]
)
def test_return_values_become_json(name: str, value: Any, expected: bytes, sync: bool) -> None:
    app = App()
    if sync:

        def endpoint() -> Any:
            return value

    else:

        async def endpoint() -> Any:
            return value

    app.add_api_route("/value", endpoint)
    response = TestClient(app).get("/value")
    assert response.status_code == 200
    assert response.content == expected
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-length"] == str(len(expected))


def test_response_is_passed_through_untouched() -> None:
    app = App()
    original = Response(
        b"\x00raw", status_code=202, headers={"x-mine": "1"}, media_type="application/x-custom"
    )

    @app.get("/raw", status_code=201, response_class=HTMLResponse)
    async def raw() -> Response:
        return original

    response = TestClient(app).get("/raw")
    assert response.status_code == 202
    assert response.content == b"\x00raw"
    assert response.headers["x-mine"] == "1"
    assert response.headers["content-type"] == "application/x-custom"


def test_return_annotation_types_the_serialiser() -> None:
    app = App()

    @app.get("/declared")
    async def declared() -> Item:
        return SecretItem(name="key", price=3, secret="hunter2")

    @app.get("/declared-list")
    def declared_list() -> list[Item]:
        return [SecretItem(name="a", secret="s1"), Item(name="b")]

    @app.get("/undeclared")
    async def undeclared():  # type: ignore[no-untyped-def]
        return SecretItem(name="key", price=3, secret="visible")

    @app.get("/model-option", response_model=Item)
    async def model_option() -> Any:
        return SecretItem(name="opt", secret="hidden")

    client = TestClient(app)
    assert client.get("/declared").content == b'{"name":"key","price":3.0}'
    assert client.get("/declared-list").content == (
        b'[{"name":"a","price":1.0},{"name":"b","price":1.0}]'
    )
    assert client.get("/undeclared").json() == {"name": "key", "price": 3.0, "secret": "visible"}
    assert client.get("/model-option").content == b'{"name":"opt","price":1.0}'


def test_return_annotation_that_cannot_be_resolved_is_a_server_error_not_a_leak(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A return annotation naming an undefined type cannot filter anything: answering with the
    value unchecked could leak what the model is there to drop, so the answer is a 500."""
    app = App()

    class Opaque:  # local class under `from __future__ import annotations`: a bare string
        pass

    @app.get("/opaque")
    async def opaque() -> Opaque:  # type: ignore[return-value]
        return {"secret": True}  # type: ignore[return-value]

    @app.get("/unfinished")
    async def unfinished() -> Unfinished:
        return {"child": 1}  # type: ignore[return-value]

    @app.get("/fine")
    async def fine() -> dict[str, bool]:
        return {"fine": True}

    client = TestClient(app, raise_server_exceptions=False)
    for path in ("/opaque", "/unfinished"):
        response = client.get(path)
        assert response.status_code == 500
        assert b"secret" not in response.content and b"child" not in response.content
    assert "names a type that is not defined" in caplog.text
    assert client.get("/fine").json() == {"fine": True}


def test_unserialisable_return_value_is_a_server_error() -> None:
    app = App()

    @app.get("/bad")
    async def bad() -> Any:
        return object()

    response = TestClient(app, raise_server_exceptions=False).get("/bad")
    assert response.status_code == 500
    assert response.text == "Internal Server Error"


@pytest.mark.parametrize("status_code", [200, 201, 202, 418])
def test_status_code_option(status_code: int) -> None:
    app = App()

    @app.post("/items", status_code=status_code)
    async def create() -> dict[str, bool]:
        return {"ok": True}

    response = TestClient(app).post("/items")
    assert response.status_code == status_code
    assert response.json() == {"ok": True}


@pytest.mark.parametrize("returned", [None, {"ignored": True}])
def test_status_204_has_no_body_and_no_content_length(returned: Any) -> None:
    app = App()

    @app.delete("/items/{item_id:int}", status_code=204)
    async def remove(item_id: int) -> Any:
        return returned

    response = TestClient(app).delete("/items/1")
    assert response.status_code == 204
    assert response.content == b""
    assert "content-length" not in response.headers


def test_response_class_option() -> None:
    app = App()

    @app.get("/text", response_class=PlainTextResponse)
    async def text() -> str:
        return "plain words"

    @app.get("/html", response_class=HTMLResponse, status_code=203)
    def html() -> str:
        return "<h1>hi</h1>"

    @app.get("/json", response_class=JSONResponse)
    async def json_route() -> dict[str, str]:
        return {"a": "b"}

    client = TestClient(app)
    response = client.get("/text")
    assert response.text == "plain words"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    response = client.get("/html")
    assert response.status_code == 203
    assert response.text == "<h1>hi</h1>"
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert client.get("/json").json() == {"a": "b"}
    assert client.head("/text").content == b""
    assert client.head("/text").headers["content-length"] == str(len("plain words"))


def test_default_response_class_of_app_and_router() -> None:
    app = App(default_response_class=PlainTextResponse)
    router = Router(default_response_class=HTMLResponse)

    @app.get("/app")
    async def from_app() -> str:
        return "app"

    @router.get("/router")
    async def from_router() -> str:
        return "<b>router</b>"

    app.include_router(router)
    client = TestClient(app)
    assert client.get("/app").headers["content-type"] == "text/plain; charset=utf-8"
    assert client.get("/router").headers["content-type"] == "text/html; charset=utf-8"


# -- routers ----------------------------------------------------------------------------------


def test_include_router_with_prefixes_and_tags() -> None:
    users = Router(prefix="/users", tags=["users"])

    @users.get("/{user_id:int}", tags=["read"])
    async def read_user(user_id: int) -> dict[str, int]:
        return {"user_id": user_id}

    @users.post("")
    async def create_user() -> str:
        return "created"

    app = App()
    app.include_router(users)
    app.include_router(users, prefix="/v1", tags=["v1"])
    client = TestClient(app)
    assert client.get("/users/3").json() == {"user_id": 3}
    assert client.get("/v1/users/4").json() == {"user_id": 4}
    assert client.post("/users").json() == "created"
    assert client.post("/v1/users").json() == "created"
    assert client.get("/3").status_code == 404
    by_path = {(r.path, tuple(r.methods)): r for r in app.routes if isinstance(r, Route)}
    tags = {path: route.tags for (path, _), route in by_path.items()}
    assert tags["/users/{user_id:int}"] == ["users", "read"]
    assert tags["/v1/users/{user_id:int}"] == ["v1", "users", "read"]
    # Including did not change the router's own routes.
    assert [r.path for r in users.routes] == ["/users/{user_id:int}", "/users"]


def test_nested_includes_two_deep() -> None:
    leaf = Router(prefix="/leaf", tags=["leaf"])

    @leaf.get("/{x}")
    async def leaf_item(x: str) -> str:
        return f"leaf {x}"

    middle = Router(prefix="/middle", tags=["middle"])
    middle.include_router(leaf, prefix="/inc", tags=["inc"])

    @middle.get("/own")
    async def middle_own() -> str:
        return "middle"

    app = App()
    app.include_router(middle, prefix="/v2", tags=["app"])
    client = TestClient(app)
    assert client.get("/v2/middle/inc/leaf/z").json() == "leaf z"
    assert client.get("/v2/middle/own").json() == "middle"
    assert app.url_path_for("leaf_item", x="q") == "/v2/middle/inc/leaf/q"
    (route,) = [r for r in app.routes if r.name == "leaf_item"]
    assert isinstance(route, Route)
    assert route.tags == ["app", "middle", "inc", "leaf"]


def test_router_max_body_size_is_kept_when_included() -> None:
    limited = Router(prefix="/limited", max_body_size=8)

    @limited.post("/echo")
    async def echo_limited(request: Request) -> Response:
        return Response(await request.body())

    @limited.post("/roomy", max_body_size=100)
    async def echo_roomy(request: Request) -> Response:
        return Response(await request.body())

    outer = Router(prefix="/outer")
    outer.include_router(limited)
    app = App(max_body_size=4)
    app.include_router(outer)

    @app.post("/app-echo")
    async def echo_app(request: Request) -> Response:
        return Response(await request.body())

    client = TestClient(app)
    assert client.post("/outer/limited/echo", content=b"12345678").content == b"12345678"
    response = client.post("/outer/limited/echo", content=b"123456789")
    assert response.status_code == 413
    assert client.post("/outer/limited/roomy", content=b"x" * 50).content == b"x" * 50
    assert client.post("/app-echo", content=b"1234").content == b"1234"
    assert client.post("/app-echo", content=b"12345").status_code == 413


def test_included_routes_keep_status_and_response_class() -> None:
    router = Router()

    @router.post("/made", status_code=201, response_class=PlainTextResponse)
    async def made() -> str:
        return "made"

    app = App()
    app.include_router(router, prefix="/api")
    response = TestClient(app).post("/api/made")
    assert response.status_code == 201
    assert response.text == "made"
    assert response.headers["content-type"].startswith("text/plain")


def test_included_get_route_still_answers_head_and_explicit_head_stays() -> None:
    router = Router()

    @router.get("/g")
    async def g() -> Response:
        return PlainTextResponse("g", headers={"x-from": "get"})

    @router.get("/h")
    async def h_get() -> Response:
        return PlainTextResponse("h", headers={"x-from": "get"})

    @router.head("/h")
    async def h_head() -> Response:
        return Response(headers={"x-from": "head"})

    app = App()
    app.include_router(router, prefix="/p")
    client = TestClient(app)
    assert client.head("/p/g").headers["x-from"] == "get"
    assert client.head("/p/h").headers["x-from"] == "head"
    assert client.get("/p/h").headers["x-from"] == "get"


@pytest.mark.parametrize("prefix", ["users", "/users/", "users/", "/"])
def test_router_prefix_validation(prefix: str) -> None:
    with pytest.raises(ValueError, match="prefix"):
        Router(prefix=prefix)
    app = App()
    with pytest.raises(ValueError, match="prefix"):
        app.include_router(Router(), prefix=prefix)


def test_router_with_empty_prefix_and_root_route() -> None:
    router = Router(prefix="/api")

    @router.get("")
    async def api_root() -> str:
        return "root"

    @router.get("/")
    async def api_slash() -> str:
        return "slash"

    app = App()
    app.include_router(router)
    client = TestClient(app)
    assert client.get("/api").json() == "root"
    assert client.get("/api/").json() == "slash"


def test_router_is_an_asgi_app() -> None:
    router = Router()

    @router.get("/hello/{name}")
    async def hello(name: str) -> dict[str, str]:
        return {"hello": name}

    client = TestClient(router)
    assert client.get("/hello/x").json() == {"hello": "x"}
    assert client.get("/nope").status_code == 404
    assert router.url_path_for("hello", name="y") == "/hello/y"
    with pytest.raises(NoMatchFound):
        router.url_path_for("hello")


def test_router_refuses_unknown_scope_types() -> None:
    import anyio

    router = Router()

    async def receive() -> dict[str, Any]:
        return {}

    async def send(message: dict[str, Any]) -> None:
        return None

    async def call() -> None:
        await router({"type": "lifespan"}, receive, send)

    with pytest.raises(RuntimeError, match="lifespan"):
        anyio.run(call)


def test_websocket_route_and_http_route_share_a_path() -> None:
    app = App()

    @app.get("/both")
    async def http_side() -> str:
        return "http"

    @app.websocket("/both")
    async def ws_side(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("ws")
        await websocket.close()

    assert TestClient(app).get("/both").json() == "http"
    with pytest.raises(ValueError, match="already exists"):
        app.add_websocket_route("/both", ws_side)


def make_endpoint(value: Any) -> Callable[[], Any]:
    async def endpoint() -> Any:
        return value

    return endpoint


def test_same_template_different_methods_share_one_table() -> None:
    app = App()
    app.add_api_route("/t/{x}", make_endpoint("get"), methods=["GET"], name="g")
    app.add_api_route("/t/{x}", make_endpoint("post"), methods=["POST"], name="p")
    app.add_api_route("/t/{y}", make_endpoint("put"), methods=["PUT"], name="u")
    client = TestClient(app)
    assert client.get("/t/1").json() == "get"
    assert client.post("/t/1").json() == "post"
    assert client.put("/t/1").json() == "put"
    response = client.patch("/t/1")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, POST, PUT"
