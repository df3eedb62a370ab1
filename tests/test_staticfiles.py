"""StaticFiles: serving a directory, html mode, and refusing every way out of the directory."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import anyio
import pytest

from framework import App, PlainTextResponse, Request
from framework.datastructures import Headers
from framework.exceptions import HTTPException
from framework.staticfiles import StaticFiles
from framework.testclient import TestClient
from framework.types import ASGIApp, Message

SECRET = b"top secret, outside the served directory"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """``tmp_path/site`` to serve, and ``tmp_path/secret.txt`` next to it, never served."""
    root = tmp_path / "site"
    root.mkdir()
    (root / "hello.txt").write_bytes(b"hello, static\n")
    (root / "style.css").write_text("body { color: red }")
    (root / "app.js").write_text("console.log(1)")
    (root / "logo.png").write_bytes(b"\x89PNG\r\n")
    (root / "data.unknownext").write_bytes(b"??")
    (root / "docs").mkdir()
    (root / "docs" / "index.html").write_text("<h1>docs</h1>")
    (root / "docs" / "guide.txt").write_text("guide")
    (root / "empty").mkdir()
    (root / "index.html").write_text("<h1>home</h1>")
    (root / "404.html").write_text("<h1>not here</h1>")
    (tmp_path / "secret.txt").write_bytes(SECRET)
    return root


class Sent:
    """What an ASGI app sent for one request."""

    def __init__(self, messages: list[Message]) -> None:
        self.messages = messages

    @property
    def status(self) -> int:
        return int(self.messages[0]["status"])

    @property
    def headers(self) -> Headers:
        return Headers(raw=list(self.messages[0]["headers"]))

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.messages[1:])


async def call_raw(app: ASGIApp, path: str, method: str = "GET", **scope: Any) -> Sent:
    """Send a request with exactly this (decoded) ``path``, as a server would hand it over:
    no client library normalising ``..`` on the way."""
    messages: list[Message] = []
    complete = anyio.Event()

    async def receive() -> Message:
        await complete.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        messages.append(message)
        if message["type"] == "http.response.pathsend" or (
            message["type"] == "http.response.body" and not message.get("more_body", False)
        ):
            complete.set()

    full_scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "scheme": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode("utf-8", "surrogateescape"),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "server": ("testserver", 80),
    }
    full_scope.update(scope)
    with anyio.fail_after(10):
        await app(full_scope, receive, send)
    return Sent(messages)


# -- serving files ----------------------------------------------------------------------------


def test_serves_a_file(site: Path) -> None:
    client = TestClient(StaticFiles(directory=site))
    response = client.get("/hello.txt")
    assert response.status_code == 200
    assert response.content == b"hello, static\n"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["content-length"] == "14"
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["etag"].startswith('"')
    assert response.headers["last-modified"].endswith(" GMT")


def test_serves_nested_files_and_accepts_a_path_object_or_str(site: Path) -> None:
    for directory in (site, str(site)):
        response = TestClient(StaticFiles(directory=directory)).get("/docs/guide.txt")
        assert response.status_code == 200
        assert response.text == "guide"


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("style.css", "text/css; charset=utf-8"),
        ("logo.png", "image/png"),
        ("docs/index.html", "text/html; charset=utf-8"),
        ("data.unknownext", "application/octet-stream"),
    ],
)
def test_content_type_from_the_extension(site: Path, name: str, content_type: str) -> None:
    response = TestClient(StaticFiles(directory=site)).get(f"/{name}")
    assert response.headers["content-type"] == content_type


def test_javascript_content_type(site: Path) -> None:
    content_type = TestClient(StaticFiles(directory=site)).get("/app.js").headers["content-type"]
    assert content_type.split(";")[0] in ("text/javascript", "application/javascript")


def test_head_sends_headers_only(site: Path) -> None:
    response = TestClient(StaticFiles(directory=site)).head("/hello.txt")
    assert response.status_code == 200
    assert response.headers["content-length"] == "14"
    assert response.content == b""


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods_are_405(site: Path, method: str) -> None:
    response = TestClient(StaticFiles(directory=site)).request(method, "/hello.txt")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
    assert response.json() == {"detail": "Method Not Allowed"}


@pytest.mark.parametrize("path", ["/missing.txt", "/docs/missing", "/docs", "/docs/", "/"])
def test_missing_files_and_directories_are_404(site: Path, path: str) -> None:
    response = TestClient(StaticFiles(directory=site)).get(path)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_file_with_a_trailing_slash_is_404(site: Path) -> None:
    response = TestClient(StaticFiles(directory=site)).get("/hello.txt/")
    assert response.status_code == 404


def test_percent_encoded_names(site: Path) -> None:
    (site / "with space é.txt").write_text("spaced")
    response = TestClient(StaticFiles(directory=site)).get("/with%20space%20%C3%A9.txt")
    assert response.status_code == 200
    assert response.text == "spaced"


def test_conditional_request(site: Path) -> None:
    client = TestClient(StaticFiles(directory=site))
    first = client.get("/hello.txt")
    again = client.get("/hello.txt", headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    since = client.get("/hello.txt", headers={"if-modified-since": first.headers["last-modified"]})
    assert since.status_code == 304


def test_range_request(site: Path) -> None:
    response = TestClient(StaticFiles(directory=site)).get(
        "/hello.txt", headers={"range": "bytes=7-12"}
    )
    assert response.status_code == 206
    assert response.headers["content-range"] == "bytes 7-12/14"
    assert response.content == b"static"


def test_unsatisfiable_range(site: Path) -> None:
    response = TestClient(StaticFiles(directory=site)).get(
        "/hello.txt", headers={"range": "bytes=100-"}
    )
    assert response.status_code == 416
    assert response.headers["content-range"] == "bytes */14"


def test_file_changed_between_requests_gets_new_validators(site: Path) -> None:
    client = TestClient(StaticFiles(directory=site))
    etag = client.get("/hello.txt").headers["etag"]
    path = site / "hello.txt"
    path.write_bytes(b"changed and longer")
    stat = path.stat()
    os.utime(path, (stat.st_atime, stat.st_mtime + 10))
    response = client.get("/hello.txt", headers={"if-none-match": etag})
    assert response.status_code == 200
    assert response.content == b"changed and longer"


@pytest.mark.anyio
async def test_uses_pathsend_when_offered(site: Path) -> None:
    sent = await call_raw(
        StaticFiles(directory=site), "/hello.txt", extensions={"http.response.pathsend": {}}
    )
    assert sent.status == 200
    assert sent.messages[1:] == [
        {"type": "http.response.pathsend", "path": os.path.realpath(site / "hello.txt")}
    ]


@pytest.mark.anyio
async def test_websocket_is_refused(site: Path) -> None:
    messages: list[Message] = []

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        messages.append(message)

    scope = {"type": "websocket", "path": "/hello.txt", "headers": []}
    await StaticFiles(directory=site)(scope, receive, send)
    assert messages == [{"type": "websocket.close", "code": 1000, "reason": ""}]


# -- html mode --------------------------------------------------------------------------------


def test_html_mode_serves_index_html(site: Path) -> None:
    client = TestClient(StaticFiles(directory=site, html=True))
    home = client.get("/")
    assert home.status_code == 200
    assert home.text == "<h1>home</h1>"
    assert home.headers["content-type"] == "text/html; charset=utf-8"
    docs = client.get("/docs/")
    assert docs.status_code == 200
    assert docs.text == "<h1>docs</h1>"


def test_html_mode_redirects_a_directory_to_its_slash_form(site: Path) -> None:
    client = TestClient(StaticFiles(directory=site, html=True), follow_redirects=False)
    response = client.get("/docs?lang=en")
    assert response.status_code == 307
    assert response.headers["location"] == "http://testserver/docs/?lang=en"
    followed = TestClient(StaticFiles(directory=site, html=True)).get("/docs")
    assert followed.text == "<h1>docs</h1>"


def test_html_mode_serves_404_html_for_misses(site: Path) -> None:
    client = TestClient(StaticFiles(directory=site, html=True))
    for path in ("/missing", "/docs/missing.html", "/empty/", "/empty"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.text == "<h1>not here</h1>"
        assert response.headers["content-type"] == "text/html; charset=utf-8"
    head = client.head("/missing")
    assert head.status_code == 404
    assert head.content == b""


def test_html_mode_404_html_ignores_conditions_and_ranges(site: Path) -> None:
    client = TestClient(StaticFiles(directory=site, html=True))
    response = client.get("/missing", headers={"if-none-match": "*", "range": "bytes=0-1"})
    assert response.status_code == 404
    assert response.text == "<h1>not here</h1>"


def test_html_mode_without_404_html(site: Path) -> None:
    (site / "404.html").unlink()
    response = TestClient(StaticFiles(directory=site, html=True)).get("/missing")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_html_mode_serves_files_as_usual(site: Path) -> None:
    response = TestClient(StaticFiles(directory=site, html=True)).get("/docs/guide.txt")
    assert response.status_code == 200
    assert response.text == "guide"


# -- the directory ----------------------------------------------------------------------------


def test_check_dir_raises_for_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="does not exist"):
        StaticFiles(directory=tmp_path / "nope")
    (tmp_path / "file").write_text("x")
    with pytest.raises(RuntimeError, match="does not exist"):
        StaticFiles(directory=tmp_path / "file")


def test_without_check_dir_the_first_request_checks(tmp_path: Path) -> None:
    directory = tmp_path / "later"
    client = TestClient(StaticFiles(directory=directory, check_dir=False))
    with pytest.raises(RuntimeError, match="does not exist"):
        client.get("/a.txt")
    directory.mkdir()
    (directory / "a.txt").write_text("now here")
    assert client.get("/a.txt").text == "now here"


# -- under an App -----------------------------------------------------------------------------


def test_mounted_under_an_app(site: Path) -> None:
    app = App()

    @app.get("/api/ping")
    async def ping() -> dict[str, bool]:
        return {"pong": True}

    app.mount("/static", StaticFiles(directory=site, html=True), name="static")
    client = TestClient(app, follow_redirects=False)
    assert client.get("/api/ping").json() == {"pong": True}
    assert client.get("/static/hello.txt").content == b"hello, static\n"
    assert client.get("/static/").text == "<h1>home</h1>"
    assert client.get("/static").headers["location"] == "http://testserver/static/"
    docs = client.get("/static/docs")
    assert docs.status_code == 307
    assert docs.headers["location"] == "http://testserver/static/docs/"
    assert client.get("/static/missing").text == "<h1>not here</h1>"
    assert app.url_path_for("static", path="hello.txt") == "/static/hello.txt"


def test_errors_go_through_the_apps_handlers(site: Path) -> None:
    app = App()
    app.mount("/static", StaticFiles(directory=site))

    @app.exception_handler(HTTPException)
    async def plain(request: Request, exc: HTTPException) -> PlainTextResponse:
        return PlainTextResponse(f"custom {exc.status_code}", exc.status_code, exc.headers)

    client = TestClient(app)
    missing = client.get("/static/missing.txt")
    assert (missing.status_code, missing.text) == (404, "custom 404")
    wrong = client.post("/static/hello.txt")
    assert (wrong.status_code, wrong.text) == (405, "custom 405")
    assert wrong.headers["allow"] == "GET, HEAD"


# -- path traversal ---------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("html", [False, True])
@pytest.mark.parametrize("follow_symlink", [False, True])
@pytest.mark.parametrize(
    "path",
    [
        "/../secret.txt",
        "/docs/../../secret.txt",
        "/docs/../hello.txt",  # even when it would stay inside
        "/..",
        "/./../secret.txt",
        "/hello.txt\x00.png",
        "/\x00",
    ],
)
async def test_traversal_is_refused(
    site: Path, path: str, html: bool, follow_symlink: bool
) -> None:
    app = StaticFiles(directory=site, html=html, follow_symlink=follow_symlink)
    sent = await call_raw(app, path)
    assert sent.status == 404
    assert SECRET not in sent.body
    assert b"hello, static" not in sent.body


@pytest.mark.anyio
async def test_absolute_path_stays_inside_the_directory(site: Path) -> None:
    secret = site.parent / "secret.txt"
    sent = await call_raw(StaticFiles(directory=site), "/" + str(secret))
    assert sent.status == 404
    assert SECRET not in sent.body
    # The same path inside the directory is what "//abs/path" names.
    inside = site / str(secret).lstrip("/")
    inside.parent.mkdir(parents=True)
    inside.write_text("the copy inside")
    sent = await call_raw(StaticFiles(directory=site), "/" + str(secret))
    assert sent.status == 200
    assert sent.body == b"the copy inside"


@pytest.mark.parametrize(
    "url",
    [
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/docs/%2e%2e/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/docs/..%2F..%2Fsecret.txt",
        "/%2e%2e%2fsecret.txt",
        "/hello.txt%00",
        "/%00/../secret.txt",
    ],
)
def test_encoded_traversal_is_refused(site: Path, url: str) -> None:
    response = TestClient(StaticFiles(directory=site)).get(url)
    assert response.status_code == 404
    assert SECRET not in response.content


def test_double_encoded_dots_are_a_file_name(site: Path) -> None:
    response = TestClient(StaticFiles(directory=site)).get("/%252e%252e/secret.txt")
    assert response.status_code == 404
    (site / "%2e%2e").mkdir()
    (site / "%2e%2e" / "secret.txt").write_text("a harmless name")
    assert TestClient(StaticFiles(directory=site)).get("/%252e%252e/secret.txt").text == (
        "a harmless name"
    )


def test_very_long_name_is_404(site: Path) -> None:
    response = TestClient(StaticFiles(directory=site)).get("/" + "a" * 5000)
    assert response.status_code == 404


@pytest.fixture
def links(site: Path) -> Path:
    """Symlinks in the served directory: out of it, and within it."""
    outside_dir = site.parent / "outside"
    outside_dir.mkdir()
    (outside_dir / "data.txt").write_text("outside data")
    # A sibling whose name starts like the served directory's: a prefix check must not pass it.
    sibling = site.parent / (site.name + "-private")
    sibling.mkdir()
    (sibling / "key.txt").write_text("private key")
    (site / "link-out.txt").symlink_to(site.parent / "secret.txt")
    (site / "dir-out").symlink_to(outside_dir, target_is_directory=True)
    (site / "sibling").symlink_to(sibling, target_is_directory=True)
    (site / "link-in.txt").symlink_to(site / "hello.txt")
    (site / "dir-in").symlink_to(site / "docs", target_is_directory=True)
    (site / "loop").symlink_to(site / "loop")
    return site


@pytest.mark.parametrize(
    "url", ["/link-out.txt", "/dir-out/data.txt", "/sibling/key.txt", "/loop", "/loop/x"]
)
def test_symlinks_out_of_the_directory_are_refused(links: Path, url: str) -> None:
    response = TestClient(StaticFiles(directory=links)).get(url)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_symlinks_within_the_directory_are_followed(links: Path) -> None:
    client = TestClient(StaticFiles(directory=links))
    assert client.get("/link-in.txt").content == b"hello, static\n"
    assert client.get("/dir-in/guide.txt").text == "guide"


def test_follow_symlink_serves_links_out_of_the_directory(links: Path) -> None:
    client = TestClient(StaticFiles(directory=links, follow_symlink=True))
    assert client.get("/link-out.txt").content == SECRET
    assert client.get("/dir-out/data.txt").text == "outside data"
    assert client.get("/sibling/key.txt").text == "private key"
    assert client.get("/link-in.txt").content == b"hello, static\n"
    assert client.get("/loop").status_code == 404
    assert client.get("/%2e%2e/secret.txt").status_code == 404


def test_served_directory_may_itself_be_a_symlink(site: Path, tmp_path: Path) -> None:
    alias = tmp_path / "alias"
    alias.symlink_to(site, target_is_directory=True)
    for follow in (False, True):
        client = TestClient(StaticFiles(directory=alias, follow_symlink=follow))
        assert client.get("/hello.txt").content == b"hello, static\n"
        assert client.get("/%2e%2e/secret.txt").status_code == 404


def test_content_type_follows_the_requested_name(links: Path) -> None:
    (links / "plain.txt").write_text("text")
    (links / "page.html").symlink_to(links / "plain.txt")
    response = TestClient(StaticFiles(directory=links)).get("/page.html")
    assert response.headers["content-type"] == "text/html; charset=utf-8"
