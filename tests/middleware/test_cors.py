"""CORSMiddleware (framework/middleware/cors.py): preflights, simple requests, Vary."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from framework import App, HTTPException, PlainTextResponse, Request, Response
from framework.middleware.cors import ALL_METHODS, CORSMiddleware, add_vary
from framework.testclient import TestClient

ORIGIN = "https://app.example.com"
PREFLIGHT_VARY = (
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, "
    "Access-Control-Request-Private-Network"
)
CORS_HEADERS = (
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "access-control-expose-headers",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-max-age",
    "vary",
)


def make_app(**options: Any) -> tuple[App, list[str]]:
    calls: list[str] = []
    app = App()

    @app.get("/")
    async def index(request: Request) -> Response:
        calls.append(request.method)
        return PlainTextResponse("hello", headers={"x-total": "3"})

    @app.post("/")
    async def create(request: Request) -> Response:
        calls.append(request.method)
        return PlainTextResponse("created", status_code=201)

    @app.get("/varied")
    async def varied() -> Response:
        return PlainTextResponse("v", headers={"vary": "Accept-Encoding"})

    @app.get("/own-cors")
    async def own_cors() -> Response:
        return PlainTextResponse("own", headers={"access-control-allow-origin": "https://other"})

    @app.get("/teapot")
    async def teapot() -> None:
        raise HTTPException(418)

    app.add_middleware(CORSMiddleware, **options)
    return app, calls


def cors_headers(response: Any) -> dict[str, str]:
    return {name: response.headers[name] for name in CORS_HEADERS if name in response.headers}


def preflight(
    client: TestClient,
    origin: str = ORIGIN,
    method: str = "GET",
    headers: str | None = None,
    path: str = "/",
) -> Any:
    request_headers = {"origin": origin, "access-control-request-method": method}
    if headers is not None:
        request_headers["access-control-request-headers"] = headers
    return client.options(path, headers=request_headers)


# -- preflight ------------------------------------------------------------------------------------


def test_allowed_preflight_is_answered_without_the_app() -> None:
    app, calls = make_app(
        allow_origins=[ORIGIN],
        allow_methods=["GET", "POST"],
        allow_headers=["X-Custom"],
        allow_credentials=True,
        max_age=900,
    )
    response = preflight(TestClient(app), method="POST", headers="X-Custom, content-type")
    assert response.status_code == 200
    assert response.text == "OK"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert cors_headers(response) == {
        "access-control-allow-origin": ORIGIN,
        "access-control-allow-credentials": "true",
        "access-control-allow-methods": "GET, POST",
        "access-control-allow-headers": (
            "Accept, Accept-Language, Content-Language, Content-Type, X-Custom"
        ),
        "access-control-max-age": "900",
        "vary": PREFLIGHT_VARY,
    }
    assert calls == []


def test_requested_headers_are_compared_case_insensitively() -> None:
    app, _ = make_app(allow_origins=[ORIGIN], allow_headers=["x-API-key", "Authorization"])
    client = TestClient(app)
    for requested in ["X-Api-Key", "x-api-key, AUTHORIZATION", " authorization ,Accept"]:
        response = preflight(client, headers=requested)
        assert (response.status_code, response.text) == (200, "OK"), requested
    assert preflight(client, headers="x-api-key, x-other").text == "Disallowed CORS headers"


@pytest.mark.parametrize(
    ("origin", "method", "headers", "text"),
    [
        ("https://evil.example", "GET", None, "Disallowed CORS origin"),
        (ORIGIN, "DELETE", None, "Disallowed CORS method"),
        (ORIGIN, "get", None, "Disallowed CORS method"),  # methods are case-sensitive
        (ORIGIN, "GET", "x-unknown", "Disallowed CORS headers"),
        ("https://evil.example", "PUT", "x-unknown", "Disallowed CORS origin, method, headers"),
    ],
)
def test_disallowed_preflight_is_400(
    origin: str, method: str, headers: str | None, text: str
) -> None:
    app, calls = make_app(allow_origins=[ORIGIN], allow_methods=["GET", "POST"])
    response = preflight(TestClient(app), origin=origin, method=method, headers=headers)
    assert response.status_code == 400
    assert response.text == text
    assert response.headers["vary"] == PREFLIGHT_VARY
    assert response.headers["access-control-allow-methods"] == "GET, POST"
    if "origin" in text:
        assert "access-control-allow-origin" not in response.headers
    else:
        assert response.headers["access-control-allow-origin"] == ORIGIN
    assert calls == []


def test_preflight_with_everything_allowed() -> None:
    app, _ = make_app(allow_origins=["*"], allow_methods=["*"], allow_headers=["*"])
    response = preflight(TestClient(app), method="QUERY", headers="X-Anything, X-Else")
    assert response.status_code == 200
    assert cors_headers(response) == {
        "access-control-allow-origin": "*",
        "access-control-allow-methods": ", ".join(ALL_METHODS),
        # with "*" the requested headers are mirrored back as they were asked for
        "access-control-allow-headers": "X-Anything, X-Else",
        "access-control-max-age": "600",
        "vary": PREFLIGHT_VARY,
    }


def test_preflight_with_any_origin_and_credentials_echoes_the_origin() -> None:
    app, _ = make_app(allow_origins=["*"], allow_credentials=True)
    response = preflight(TestClient(app), origin="https://anyone.example")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://anyone.example"
    assert response.headers["access-control-allow-credentials"] == "true"


def test_options_without_request_method_is_not_a_preflight() -> None:
    app, calls = make_app(allow_origins=[ORIGIN])

    @app.options("/opt")
    async def options_handler() -> Response:
        calls.append("OPTIONS")
        return PlainTextResponse("from the app")

    client = TestClient(app)
    response = client.options("/opt", headers={"origin": ORIGIN})
    assert response.text == "from the app"
    assert response.headers["access-control-allow-origin"] == ORIGIN
    # OPTIONS with the request-method header but no Origin is an ordinary request too
    response = client.options("/opt", headers={"access-control-request-method": "GET"})
    assert response.text == "from the app"
    assert "access-control-allow-origin" not in response.headers
    assert calls == ["OPTIONS", "OPTIONS"]


def test_private_network_preflight() -> None:
    request_headers = {
        "origin": ORIGIN,
        "access-control-request-method": "GET",
        "access-control-request-private-network": "true",
    }
    app, _ = make_app(allow_origins=[ORIGIN])
    response = TestClient(app).options("/", headers=request_headers)
    assert (response.status_code, response.text) == (400, "Disallowed CORS private-network")
    app, _ = make_app(allow_origins=[ORIGIN], allow_private_network=True)
    response = TestClient(app).options("/", headers=request_headers)
    assert response.status_code == 200
    assert response.headers["access-control-allow-private-network"] == "true"


# -- simple (actual) requests ---------------------------------------------------------------------


def test_allowed_origin_is_echoed_with_credentials_and_exposed_headers() -> None:
    app, calls = make_app(
        allow_origins=[ORIGIN], allow_credentials=True, expose_headers=["X-Total", "X-Page"]
    )
    client = TestClient(app)
    for method, status, body in [("GET", 200, "hello"), ("POST", 201, "created")]:
        response = client.request(method, "/", headers={"origin": ORIGIN})
        assert (response.status_code, response.text) == (status, body)
        assert cors_headers(response) == {
            "access-control-allow-origin": ORIGIN,
            "access-control-allow-credentials": "true",
            "access-control-expose-headers": "X-Total, X-Page",
            "vary": "Origin",
        }
    assert calls == ["GET", "POST"]


def test_disallowed_origin_gets_no_cors_headers_but_vary() -> None:
    app, calls = make_app(allow_origins=[ORIGIN], allow_credentials=True, expose_headers=["X"])
    response = TestClient(app).get("/", headers={"origin": "https://evil.example"})
    assert response.text == "hello"  # the browser, not the server, withholds the answer
    assert cors_headers(response) == {"vary": "Origin"}
    assert calls == ["GET"]


def test_request_without_origin_passes_through_untouched() -> None:
    for options in [
        {"allow_origins": [ORIGIN]},
        {"allow_origins": ["*"], "allow_credentials": True},
    ]:
        app, _ = make_app(**options)
        response = TestClient(app).get("/varied")
        assert response.text == "v"
        assert cors_headers(response) == {"vary": "Accept-Encoding"}  # the app's own only
        response = TestClient(app).get("/")
        assert response.headers["x-total"] == "3"
        assert cors_headers(response) == {}


def test_any_origin_answers_a_literal_star_without_vary() -> None:
    app, _ = make_app(allow_origins=["*"])
    client = TestClient(app)
    response = client.get("/", headers={"origin": "https://anyone.example"})
    assert cors_headers(response) == {"access-control-allow-origin": "*"}
    assert cors_headers(client.get("/")) == {}


def test_any_origin_with_credentials_echoes_the_origin() -> None:
    app, _ = make_app(allow_origins=["*"], allow_credentials=True)
    client = TestClient(app)
    response = client.get("/", headers={"origin": "https://anyone.example"})
    assert cors_headers(response) == {
        "access-control-allow-origin": "https://anyone.example",
        "access-control-allow-credentials": "true",
        "vary": "Origin",
    }
    assert cors_headers(client.get("/")) == {}


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://a.example.com", True),
        ("https://deep.sub.example.com", True),
        ("https://listed.org", True),
        ("https://a.example.com.evil.net", False),  # the whole origin must match
        ("http://a.example.com", False),
        ("https://example.com", False),
        ("xhttps://a.example.com", False),
    ],
)
def test_origin_regex_must_match_the_whole_origin(origin: str, allowed: bool) -> None:
    app, _ = make_app(
        allow_origins=["https://listed.org"], allow_origin_regex=r"https://.+\.example\.com"
    )
    client = TestClient(app)
    response = client.get("/", headers={"origin": origin})
    assert response.headers.get("access-control-allow-origin") == (origin if allowed else None)
    assert response.headers["vary"] == "Origin"
    response = preflight(client, origin=origin)
    assert response.status_code == (200 if allowed else 400)


def test_vary_is_appended_to_the_response_vary() -> None:
    app, _ = make_app(allow_origins=[ORIGIN])
    client = TestClient(app)
    response = client.get("/varied", headers={"origin": ORIGIN})
    assert response.headers.get_list("vary") == ["Accept-Encoding, Origin"]
    response = client.get("/varied", headers={"origin": "https://evil.example"})
    assert response.headers.get_list("vary") == ["Accept-Encoding, Origin"]


def test_cors_headers_replace_the_apps_own() -> None:
    app, _ = make_app(allow_origins=[ORIGIN])
    response = TestClient(app).get("/own-cors", headers={"origin": ORIGIN})
    assert response.headers.get_list("access-control-allow-origin") == [ORIGIN]


def test_error_answers_get_cors_headers() -> None:
    app, _ = make_app(allow_origins=[ORIGIN])
    client = TestClient(app)
    for path, status in [("/teapot", 418), ("/missing", 404)]:
        response = client.get(path, headers={"origin": ORIGIN})
        assert response.status_code == status
        assert response.headers["access-control-allow-origin"] == ORIGIN


def test_add_vary() -> None:
    plain = [(b"content-type", b"text/plain")]
    assert add_vary(plain, b"Origin") == [*plain, (b"vary", b"Origin")]
    assert plain == [(b"content-type", b"text/plain")]  # a new list: the original is untouched
    assert add_vary([(b"vary", b"Cookie")], b"Origin") == [(b"vary", b"Cookie, Origin")]
    assert add_vary([(b"vary", b"cookie, origin")], b"Origin") == [(b"vary", b"cookie, origin")]
    assert add_vary([(b"vary", b"*")], b"Origin") == [(b"vary", b"*")]
    two = [(b"vary", b"Cookie"), (b"vary", b"ORIGIN")]
    assert add_vary(two, b"Origin") == two
    assert add_vary([(b"vary", b"Cookie"), (b"vary", b"X")], b"Origin") == [
        (b"vary", b"Cookie, Origin"),
        (b"vary", b"X"),
    ]


@pytest.mark.anyio
async def test_websockets_and_raw_messages_pass_through() -> None:
    sent: list[dict[str, Any]] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.accept"})
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"x", "more_body": True})
        await send({"type": "http.response.body", "body": b"y"})

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        await anyio.sleep_forever()
        raise AssertionError

    middleware = CORSMiddleware(inner, allow_origins=[ORIGIN])
    await middleware({"type": "websocket", "headers": [(b"origin", b"https://x")]}, receive, send)
    assert sent == [{"type": "websocket.accept"}]
    sent.clear()
    scope = {"type": "http", "method": "GET", "headers": [(b"origin", ORIGIN.encode())]}
    await middleware(scope, receive, send)
    assert sent == [
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"access-control-allow-origin", ORIGIN.encode()), (b"vary", b"Origin")],
        },
        {"type": "http.response.body", "body": b"x", "more_body": True},
        {"type": "http.response.body", "body": b"y"},
    ]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
