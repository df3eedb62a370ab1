"""TrustedHostMiddleware and HTTPSRedirectMiddleware (framework/middleware/trustedhost.py,
httpsredirect.py), for HTTP requests and WebSocket handshakes."""

from __future__ import annotations

from typing import Any

import pytest

from framework import App, Request, WebSocket
from framework.middleware.httpsredirect import HTTPSRedirectMiddleware
from framework.middleware.trustedhost import TrustedHostMiddleware, parse_host
from framework.testclient import TestClient, WebSocketDenialResponse

Message = dict[str, Any]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def make_app(middleware: Any, **options: Any) -> App:
    app = App()

    @app.get("/")
    async def index(request: Request) -> dict[str, str]:
        return {"url": str(request.url)}

    @app.post("/submit")
    async def submit(request: Request) -> dict[str, str]:
        return {"body": (await request.body()).decode()}

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(f"hello {websocket.url}")
        await websocket.close()

    app.add_middleware(middleware, **options)
    return app


def raw_scope(kind: str, headers: list[tuple[bytes, bytes]], **extra: Any) -> dict[str, Any]:
    scope = {
        "type": kind,
        "asgi": {"version": "3.0"},
        "scheme": "ws" if kind == "websocket" else "http",
        "path": "/ws" if kind == "websocket" else "/",
        "raw_path": b"/",
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 1234),
        "server": None,
        "state": {},
    }
    if kind == "http":
        scope["method"] = "GET"
        scope["http_version"] = "1.1"
    else:
        scope["subprotocols"] = []
    scope.update(extra)
    return scope


async def call(app: Any, scope: dict[str, Any]) -> list[Message]:
    sent: list[Message] = []
    incoming = [{"type": "websocket.connect"} if scope["type"] == "websocket" else {}]

    async def receive() -> Message:
        if incoming:
            message = incoming.pop()
            return message or {"type": "http.request", "body": b""}
        return {"type": "websocket.disconnect", "code": 1000}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


# -- TrustedHostMiddleware ------------------------------------------------------------------------


HOSTS = ["example.com", "*.example.org", "127.0.0.1", "[::1]"]


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/",
        "http://example.com:8000/",
        "https://EXAMPLE.com/",
        "http://api.example.org/",
        "http://a.b.example.org:9000/",
        "http://127.0.0.1:8000/",
        "http://[::1]:8000/",
    ],
)
def test_allowed_hosts_reach_the_app(url: str) -> None:
    client = TestClient(make_app(TrustedHostMiddleware, allowed_hosts=HOSTS))
    response = client.get(url)
    assert response.status_code == 200
    assert response.json() == {"url": url.lower()}  # httpx lower-cases the host


@pytest.mark.parametrize(
    "url",
    [
        "http://evil.com/",
        "http://example.org/",  # "*.example.org" covers subdomains only
        "http://example.com.evil.net/",
        "http://notexample.com/",
        "http://evilexample.org/",
        "http://127.0.0.2/",
    ],
)
def test_other_hosts_get_400(url: str) -> None:
    client = TestClient(make_app(TrustedHostMiddleware, allowed_hosts=HOSTS))
    response = client.get(url)
    assert response.status_code == 400
    assert response.text == "Invalid host header"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


@pytest.mark.parametrize(
    "host",
    [
        "example.com/.example.org",
        "evil.com@x.example.org",
        "x.example.org:port",
        "a b.example.org",
        "x.example.org\\",
        "",
    ],
)
def test_malformed_host_headers_get_400(host: str) -> None:
    client = TestClient(make_app(TrustedHostMiddleware, allowed_hosts=HOSTS))
    response = client.get("/", headers={"host": host})
    assert (response.status_code, response.text) == (400, "Invalid host header")


def test_host_header_case_is_ignored() -> None:
    client = TestClient(make_app(TrustedHostMiddleware, allowed_hosts=["Example.COM", *HOSTS]))
    for host in ["EXAMPLE.com", "Api.Example.ORG:80", "example.com"]:
        assert client.get("/", headers={"host": host}).status_code == 200, host
    assert client.get("/", headers={"host": "EVIL.com"}).status_code == 400


@pytest.mark.anyio
async def test_missing_host_header_gets_400() -> None:
    app = make_app(TrustedHostMiddleware, allowed_hosts=HOSTS)
    sent = await call(app, raw_scope("http", []))
    assert sent[0]["status"] == 400
    assert sent[1]["body"] == b"Invalid host header"


def test_star_allows_any_host() -> None:
    for options in [{"allowed_hosts": ["*"]}, {}]:
        client = TestClient(make_app(TrustedHostMiddleware, **options))
        assert client.get("http://anything.test/").status_code == 200


def test_www_redirect() -> None:
    client = TestClient(
        make_app(TrustedHostMiddleware, allowed_hosts=["www.example.com"]), follow_redirects=False
    )
    response = client.get("https://example.com:8443/?q=1")
    assert response.status_code == 307
    assert response.headers["location"] == "https://www.example.com:8443/?q=1"
    response = client.get("http://other.com/")
    assert response.status_code == 400
    client = TestClient(
        make_app(TrustedHostMiddleware, allowed_hosts=["www.example.com"], www_redirect=False)
    )
    assert client.get("http://example.com/").status_code == 400


@pytest.mark.parametrize("pattern", ["*example.com", "example.*", "*.*.example.com", "a*b.com"])
def test_bad_wildcards_are_refused(pattern: str) -> None:
    with pytest.raises(ValueError, match=r"\*\.example\.com"):
        TrustedHostMiddleware(make_app(TrustedHostMiddleware), allowed_hosts=[pattern])


def test_parse_host() -> None:
    assert parse_host(b"Example.COM:8000") == "example.com"
    assert parse_host(b"[::1]:8000") == "[::1]"
    assert parse_host(b"[::1]") == "[::1]"
    assert parse_host(b"10.0.0.1") == "10.0.0.1"
    assert parse_host(b"example.com:") == "example.com"
    for bad in [b"", b"a/b", b"a@b", b"a b", b"::1", b"[::1", b"a:1:2"]:
        assert parse_host(bad) is None, bad


def test_websocket_from_an_allowed_host_connects() -> None:
    client = TestClient(make_app(TrustedHostMiddleware, allowed_hosts=HOSTS))
    with client.websocket_connect("ws://example.com/ws") as websocket:
        assert websocket.receive_text() == "hello ws://example.com/ws"


def test_websocket_from_another_host_is_refused() -> None:
    client = TestClient(make_app(TrustedHostMiddleware, allowed_hosts=HOSTS))
    with (
        pytest.raises(WebSocketDenialResponse) as refused,
        client.websocket_connect("ws://evil.com/ws"),
    ):
        pass  # pragma: no cover
    assert refused.value.status_code == 400
    assert refused.value.text == "Invalid host header"


@pytest.mark.anyio
async def test_websocket_refused_by_close_without_denial_extension() -> None:
    app = make_app(TrustedHostMiddleware, allowed_hosts=HOSTS)
    sent = await call(app, raw_scope("websocket", [(b"host", b"evil.com")]))
    assert sent == [{"type": "websocket.close", "code": 1008, "reason": ""}]
    sent = await call(app, raw_scope("websocket", [(b"host", b"example.com")]))
    assert [m["type"] for m in sent] == ["websocket.accept", "websocket.send", "websocket.close"]


def test_lifespan_passes_through_trusted_host() -> None:
    app = make_app(TrustedHostMiddleware, allowed_hosts=["example.com"])
    with TestClient(app, base_url="http://example.com") as client:
        assert client.get("/").status_code == 200


# -- HTTPSRedirectMiddleware ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "location"),
    [
        ("http://example.com/", "https://example.com/"),
        ("http://example.com/a%20b/c?x=1&y=%2F", "https://example.com/a%20b/c?x=1&y=%2F"),
        ("http://example.com:8080/", "https://example.com:8080/"),
        ("http://127.0.0.1:8000/p", "https://127.0.0.1:8000/p"),
    ],
)
def test_http_is_redirected_to_https_with_308(url: str, location: str) -> None:
    client = TestClient(make_app(HTTPSRedirectMiddleware), follow_redirects=False)
    response = client.get(url)
    assert response.status_code == 308
    assert response.headers["location"] == location
    assert response.content == b""


@pytest.mark.parametrize(
    ("host", "location"),
    [
        (b"example.com:80", b"https://example.com/"),
        (b"example.com:443", b"https://example.com/"),
        (b"[::1]:80", b"https://[::1]/"),
        (b"[::1]:8000", b"https://[::1]:8000/"),
    ],
)
@pytest.mark.anyio
async def test_default_ports_are_dropped(host: bytes, location: bytes) -> None:
    sent = await call(make_app(HTTPSRedirectMiddleware), raw_scope("http", [(b"host", host)]))
    assert sent[0]["status"] == 308
    assert (b"location", location) in sent[0]["headers"]


def test_redirect_keeps_the_method_and_https_passes_through() -> None:
    client = TestClient(make_app(HTTPSRedirectMiddleware))
    # httpx follows a 308 with the same method and body, now over https.
    response = client.post("http://example.com/submit", content=b"payload")
    assert response.status_code == 200
    assert response.json() == {"body": "payload"}
    assert [r.status_code for r in response.history] == [308]
    assert str(response.url) == "https://example.com/submit"
    assert client.get("https://example.com/").json() == {"url": "https://example.com/"}


@pytest.mark.anyio
async def test_request_without_any_host_gets_400() -> None:
    sent = await call(make_app(HTTPSRedirectMiddleware), raw_scope("http", []))
    assert sent[0]["status"] == 400
    assert sent[1]["body"] == b"Invalid host header"


def test_ws_is_refused_with_a_redirect_to_wss() -> None:
    client = TestClient(make_app(HTTPSRedirectMiddleware))
    with (
        pytest.raises(WebSocketDenialResponse) as refused,
        client.websocket_connect("ws://example.com/ws?room=1"),
    ):
        pass  # pragma: no cover
    assert refused.value.status_code == 308
    assert refused.value.headers["location"] == "wss://example.com/ws?room=1"
    with client.websocket_connect("wss://example.com/ws") as websocket:
        assert websocket.receive_text() == "hello wss://example.com/ws"


@pytest.mark.anyio
async def test_ws_closed_without_denial_extension() -> None:
    app = make_app(HTTPSRedirectMiddleware)
    sent = await call(app, raw_scope("websocket", [(b"host", b"example.com")]))
    assert sent == [{"type": "websocket.close", "code": 1008, "reason": ""}]
    sent = await call(app, raw_scope("websocket", [(b"host", b"example.com")], scheme="wss"))
    assert sent[0]["type"] == "websocket.accept"


def test_lifespan_passes_through_https_redirect() -> None:
    with TestClient(make_app(HTTPSRedirectMiddleware), base_url="https://example.com") as client:
        assert client.get("/").status_code == 200


def test_both_together() -> None:
    app = make_app(TrustedHostMiddleware, allowed_hosts=["example.com"])
    app.add_middleware(HTTPSRedirectMiddleware)
    client = TestClient(app)
    response = client.get("http://example.com/")
    assert str(response.url) == "https://example.com/"
    assert response.json() == {"url": "https://example.com/"}
