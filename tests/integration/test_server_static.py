"""StaticFiles under real servers: a big file arrives intact, ranges and conditional requests
work on the wire, and path traversal sent byte for byte (no client normalising ``..``) fails."""

from __future__ import annotations

import hashlib
import random
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .servers import HOST, SERVER_KINDS, ServerProcess, raw_request, split_response

STATIC_DIR_ENV = "FRAMEWORK_IT_STATIC_DIR"  # read by staticapp.py (not imported here: it needs it)

BIG_SIZE = 8 * 1024 * 1024 + 123  # many 64 KiB chunks, and a short last one
SECRET = b"secret outside the served directory"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("static-site")
    root = base / "site"
    root.mkdir()
    (root / "big.bin").write_bytes(random.Random(5).randbytes(BIG_SIZE))
    (root / "hello.txt").write_bytes(b"hello, static\n")
    (root / "index.html").write_text("<h1>home</h1>")
    (root / "404.html").write_text("<h1>not here</h1>")
    (base / "secret.txt").write_bytes(SECRET)
    (root / "link-out.txt").symlink_to(base / "secret.txt")
    return root


@pytest.fixture(scope="module", params=SERVER_KINDS)
def static_server(
    request: pytest.FixtureRequest, site: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    kind: str = request.param
    log_path = tmp_path_factory.mktemp(f"static-{kind}") / "server.log"
    with ServerProcess.start(
        kind,
        "staticapp:app",
        log_path=log_path,
        env={STATIC_DIR_ENV: str(site)},
        ready_path="/health",
    ) as process:
        yield process


@pytest.fixture
def http(static_server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=static_server.url, timeout=20.0) as client:
        yield client


def raw_get(server: ServerProcess, target: bytes, *headers: bytes) -> tuple[int, bytes]:
    """GET ``target`` exactly as given, on its own connection."""
    request = b"GET " + target + b" HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\n"
    request += b"".join(header + b"\r\n" for header in headers)
    request += b"Connection: close\r\n\r\n"
    status, _, body = split_response(raw_request(server.port, request))
    return status, body


def test_big_file_arrives_intact(http: httpx.Client, site: Path) -> None:
    expected = hashlib.sha256((site / "big.bin").read_bytes()).hexdigest()
    digest = hashlib.sha256()
    with http.stream("GET", "/static/big.bin") as response:
        assert response.status_code == 200
        assert response.headers["content-length"] == str(BIG_SIZE)
        assert response.headers["content-type"] == "application/octet-stream"
        received = 0
        for chunk in response.iter_bytes():
            digest.update(chunk)
            received += len(chunk)
    assert received == BIG_SIZE
    assert digest.hexdigest() == expected


def test_head(http: httpx.Client) -> None:
    response = http.head("/static/big.bin")
    assert response.status_code == 200
    assert response.headers["content-length"] == str(BIG_SIZE)
    assert response.content == b""


def test_single_range(http: httpx.Client, site: Path) -> None:
    data = (site / "big.bin").read_bytes()
    response = http.get("/static/big.bin", headers={"range": "bytes=1000000-1199999"})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes 1000000-1199999/{BIG_SIZE}"
    assert response.content == data[1000000:1200000]
    tail = http.get("/static/big.bin", headers={"range": "bytes=-100"})
    assert tail.status_code == 206
    assert tail.content == data[-100:]


def test_multiple_ranges(http: httpx.Client, site: Path) -> None:
    data = (site / "big.bin").read_bytes()
    response = http.get("/static/big.bin", headers={"range": "bytes=0-9,5000000-5099999"})
    assert response.status_code == 206
    assert response.headers["content-length"] == str(len(response.content))
    boundary = response.headers["content-type"].split("boundary=")[1].encode()
    body = response.content
    assert body.startswith(b"--" + boundary + b"\r\n")
    assert body.endswith(b"\r\n--" + boundary + b"--\r\n")
    assert f"Content-Range: bytes 0-9/{BIG_SIZE}".encode() in body
    assert f"Content-Range: bytes 5000000-5099999/{BIG_SIZE}".encode() in body
    assert b"\r\n\r\n" + data[:10] + b"\r\n--" + boundary + b"\r\n" in body
    assert b"\r\n\r\n" + data[5000000:5100000] + b"\r\n--" + boundary + b"--\r\n" in body


def test_unsatisfiable_range(http: httpx.Client) -> None:
    response = http.get("/static/hello.txt", headers={"range": "bytes=100-"})
    assert response.status_code == 416
    assert response.headers["content-range"] == "bytes */14"


def test_not_modified(http: httpx.Client) -> None:
    etag = http.get("/static/hello.txt").headers["etag"]
    response = http.get("/static/hello.txt", headers={"if-none-match": etag})
    assert response.status_code == 304
    assert response.content == b""


def test_html_mode(http: httpx.Client) -> None:
    assert http.get("/static/").text == "<h1>home</h1>"
    missing = http.get("/static/missing")
    assert (missing.status_code, missing.text) == (404, "<h1>not here</h1>")


@pytest.mark.parametrize(
    "target",
    [
        b"/static/../secret.txt",
        b"/static/%2e%2e/secret.txt",
        b"/static/%2E%2E/secret.txt",
        b"/static/..%2fsecret.txt",
        b"/static/%2e%2e%2fsecret.txt",
        b"/static/./../secret.txt",
        b"/static/hello.txt%00.png",
        b"/static/link-out.txt",
    ],
)
def test_traversal_is_refused(static_server: ServerProcess, target: bytes) -> None:
    status, body = raw_get(static_server, target)
    assert status == 404
    assert SECRET not in body
    assert body == b"<h1>not here</h1>"  # html mode: the 404 page


def test_absolute_path_is_refused(static_server: ServerProcess, site: Path) -> None:
    target = b"/static/" + str(site.parent / "secret.txt").encode()  # /static//tmp/.../secret.txt
    status, body = raw_get(static_server, target)
    assert status == 404
    assert SECRET not in body


@pytest.mark.parametrize(
    ("target", "expected"),
    [(b"/static/hello.txt", b"hello, static\n"), (b"/stream", b"line 2\n")],
)
def test_connection_close_is_honoured(
    static_server: ServerProcess, target: bytes, expected: bytes
) -> None:
    """With ``Connection: close`` the server closes the connection once the body is sent (a
    response whose last send was cancelled by its disconnect watcher left it open on hypercorn;
    ``raw_request`` reads until the close, and times out otherwise)."""
    status, body = raw_get(static_server, target)
    assert status == 200
    assert expected in body


def test_client_leaving_mid_file_leaves_the_server_well(
    static_server: ServerProcess, http: httpx.Client
) -> None:
    log_start = static_server.output_size()
    with socket.create_connection((HOST, static_server.port), timeout=10) as sock:
        sock.sendall(b"GET /static/big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        received = 0
        while received < 256 * 1024:
            chunk = sock.recv(65536)
            assert chunk
            received += len(chunk)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    assert http.get("/static/hello.txt").content == b"hello, static\n"
    assert "Traceback" not in static_server.output_since(log_start)
