"""FileResponse: range requests, conditional requests and how the file is streamed.

The basics (headers, content types, Content-Disposition, HEAD, pathsend, chunking of whole
files) are in test_responses.py; the parsing helpers are tested here on their own too.
"""

from __future__ import annotations

import os
from email.utils import formatdate
from pathlib import Path
from typing import Any

import anyio
import pytest

from framework import App
from framework.background import BackgroundTask
from framework.datastructures import Headers
from framework.http.conditional import (
    if_range_matches,
    is_not_modified,
    none_match,
    parse_http_date,
    parse_range,
)
from framework.responses import FileResponse
from framework.testclient import TestClient
from framework.types import Message

DATA = bytes(range(256)) * 8  # 2048 bytes, every offset recognisable


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """The hand-driven ASGI tests of this module run on both anyio backends."""
    return str(request.param)


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "data.txt"
    path.write_bytes(DATA)
    return path


def client_for(path: Path, **options: Any) -> TestClient:
    """A TestClient whose GET/HEAD/POST ``/`` answers ``FileResponse(path, **options)``."""
    app = App()

    @app.api_route("/", methods=["GET", "HEAD", "POST"])
    async def endpoint() -> FileResponse:
        return FileResponse(path, **options)

    return TestClient(app)


class Sent:
    """The messages an ASGI response sent."""

    def __init__(self, messages: list[Message]) -> None:
        self.messages = messages

    @property
    def status(self) -> int:
        return int(self.messages[0]["status"])

    @property
    def headers(self) -> Headers:
        return Headers(raw=list(self.messages[0]["headers"]))

    @property
    def body_messages(self) -> list[Message]:
        return [m for m in self.messages if m["type"] == "http.response.body"]

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.body_messages)


async def call(
    response: FileResponse,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    spec_version: str = "2.4",
    extensions: dict[str, Any] | None = None,
) -> Sent:
    """Run ``response`` against a client that stays until the body is complete."""
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

    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": spec_version},
        "method": method,
        "path": "/",
        "headers": [(k.encode(), v.encode()) for k, v in (headers or {}).items()],
        "extensions": extensions or {},
    }
    with anyio.fail_after(10):
        await response(scope, receive, send)
    return Sent(messages)


def parse_multipart(content_type: str, body: bytes) -> list[tuple[dict[str, str], bytes]]:
    """The parts of a multipart/byteranges body: (headers, data) each, checking the framing."""
    media_type, _, parameter = content_type.partition("; ")
    assert media_type == "multipart/byteranges"
    name, _, boundary = parameter.partition("=")
    assert name == "boundary" and boundary
    delimiter = b"--" + boundary.encode()
    assert body.startswith(delimiter + b"\r\n")
    assert body.endswith(b"\r\n" + delimiter + b"--\r\n")
    inner = body[len(delimiter) + 2 : -len(delimiter) - 6]
    parts = []
    for raw in inner.split(b"\r\n" + delimiter + b"\r\n"):
        head, _, data = raw.partition(b"\r\n\r\n")
        headers = {}
        for line in head.decode("latin-1").split("\r\n"):
            key, _, value = line.partition(": ")
            headers[key.lower()] = value
        parts.append((headers, data))
    return parts


# -- range parsing ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-99", [(0, 100)]),
        ("bytes=100-", [(100, 1000)]),
        ("bytes=-100", [(900, 1000)]),
        ("bytes=-5000", [(0, 1000)]),  # a suffix longer than the file is the whole file
        ("bytes=990-5000", [(990, 1000)]),  # cut at the end
        ("bytes=999-999", [(999, 1000)]),
        ("BYTES = 0-0 , 10-19", [(0, 1), (10, 20)]),  # case and whitespace
        ("bytes=0-1,,5-6,", [(0, 2), (5, 7)]),  # empty list elements
        ("bytes=50-59,0-9", [(0, 10), (50, 60)]),  # sorted
        ("bytes=0-50,20-70", [(0, 71)]),  # overlapping: merged
        ("bytes=0-9,10-19", [(0, 20)]),  # adjacent: merged
        ("bytes=0-9,1000-,-0", [(0, 10)]),  # unsatisfiable ones left out
        ("bytes=1000-", []),
        ("bytes=5000-6000", []),
        ("bytes=-0", []),
        ("items=0-9", None),  # another unit: ignored
        ("bytes", None),
        ("bytes=", None),
        ("bytes=,", None),
        ("bytes=abc", None),
        ("bytes=9-3", None),  # last before first: invalid, ignored
        ("bytes=-", None),
        ("bytes=1-2-3", None),
        ("bytes=+1-2", None),
        ("bytes=0x1-2", None),
        ("bytes=\u0661-\u0662", None),  # non-ASCII digits
        ("bytes=0-9," * 101, None),  # too many ranges
        ("bytes=" + "9" * 5000 + "-", None),  # too many digits for int()
    ],
)
def test_parse_range(header: str, expected: list[tuple[int, int]] | None) -> None:
    assert parse_range(header, 1000) == expected


def test_parse_range_on_an_empty_file_is_unsatisfiable() -> None:
    assert parse_range("bytes=0-", 0) == []
    assert parse_range("bytes=-10", 0) == []


@pytest.mark.parametrize(
    ("if_none_match", "matches"),
    [
        ('"abc"', True),
        ('W/"abc"', True),  # weak comparison
        ('"x", "abc"', True),
        ('"x",W/"abc"', True),
        ("*", True),
        ('"abcd"', False),
        ('"ab"', False),
        ("abc", False),  # not quoted: not an entity tag
        ('"a,b", "c"', False),
    ],
)
def test_none_match(if_none_match: str, matches: bool) -> None:
    assert none_match(if_none_match, '"abc"') is matches


def test_none_match_with_a_weak_etag_of_ours() -> None:
    assert none_match('"abc"', 'W/"abc"')
    assert none_match('"a,b"', '"a,b"')


def test_is_not_modified_precedence() -> None:
    modified = "Wed, 21 Oct 2015 07:28:00 GMT"
    later = "Thu, 22 Oct 2015 07:28:00 GMT"
    earlier = "Tue, 20 Oct 2015 07:28:00 GMT"
    assert is_not_modified(None, modified, '"e"', modified)
    assert is_not_modified(None, later, '"e"', modified)
    assert not is_not_modified(None, earlier, '"e"', modified)
    assert not is_not_modified(None, "not a date", '"e"', modified)
    # If-None-Match decides alone when present.
    assert not is_not_modified('"other"', later, '"e"', modified)
    assert is_not_modified('"e"', earlier, '"e"', modified)
    assert not is_not_modified(None, None, '"e"', modified)


def test_if_range_matches() -> None:
    modified = "Wed, 21 Oct 2015 07:28:00 GMT"
    assert if_range_matches('"e"', '"e"', modified)
    assert not if_range_matches('"f"', '"e"', modified)
    assert not if_range_matches('W/"e"', '"e"', modified)  # strong comparison only
    assert not if_range_matches('"e"', 'W/"e"', modified)
    assert if_range_matches(modified, '"e"', modified)
    assert not if_range_matches("Tue, 20 Oct 2015 07:28:00 GMT", '"e"', modified)
    assert not if_range_matches("garbage", '"e"', modified)
    assert not if_range_matches(modified, '"e"', None)


def test_parse_http_date() -> None:
    assert parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT") == 1445412480.0
    assert parse_http_date("yesterday") is None
    assert parse_http_date("") is None


# -- ranges through FileResponse --------------------------------------------------------------


def test_accept_ranges_header(data_file: Path) -> None:
    response = client_for(data_file).get("/")
    assert response.status_code == 200
    assert response.headers["accept-ranges"] == "bytes"


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-99", 0, 100),
        ("bytes=-100", 1948, 2048),
        ("bytes=100-", 100, 2048),
        ("bytes=0-", 0, 2048),
        ("bytes=2000-99999", 2000, 2048),
        ("bytes=5-5", 5, 6),
    ],
)
def test_single_range(data_file: Path, header: str, start: int, end: int) -> None:
    response = client_for(data_file).get("/", headers={"range": header})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes {start}-{end - 1}/2048"
    assert response.headers["content-length"] == str(end - start)
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.content == DATA[start:end]


def test_multiple_ranges(data_file: Path) -> None:
    response = client_for(data_file).get("/", headers={"range": "bytes=1000-1099, 0-9, -5"})
    assert response.status_code == 206
    assert "content-range" not in response.headers
    assert response.headers["content-length"] == str(len(response.content))
    parts = parse_multipart(response.headers["content-type"], response.content)
    assert [(headers["content-range"], data) for headers, data in parts] == [
        ("bytes 0-9/2048", DATA[0:10]),
        ("bytes 1000-1099/2048", DATA[1000:1100]),
        ("bytes 2043-2047/2048", DATA[2043:2048]),
    ]
    assert all(headers["content-type"] == "text/plain; charset=utf-8" for headers, _ in parts)


def test_each_multipart_response_has_its_own_boundary(data_file: Path) -> None:
    client = client_for(data_file)
    types = {
        client.get("/", headers={"range": "bytes=0-1,5-6"}).headers["content-type"]
        for _ in range(3)
    }
    assert len(types) == 3


def test_overlapping_ranges_merge_into_one(data_file: Path) -> None:
    response = client_for(data_file).get("/", headers={"range": "bytes=0-99,50-149,150-199"})
    assert response.status_code == 206
    assert response.headers["content-range"] == "bytes 0-199/2048"
    assert response.content == DATA[:200]


@pytest.mark.parametrize("header", ["bytes=2048-", "bytes=5000-6000", "bytes=-0"])
def test_unsatisfiable_range_is_416(data_file: Path, header: str) -> None:
    response = client_for(data_file).get("/", headers={"range": header})
    assert response.status_code == 416
    assert response.headers["content-range"] == "bytes */2048"
    assert response.headers["content-length"] == "0"
    assert response.content == b""


def test_unsatisfiable_ranges_next_to_a_satisfiable_one_are_left_out(data_file: Path) -> None:
    response = client_for(data_file).get("/", headers={"range": "bytes=0-1,5000-6000"})
    assert response.status_code == 206
    assert response.headers["content-range"] == "bytes 0-1/2048"
    assert response.content == DATA[:2]


def test_range_on_an_empty_file_is_416(tmp_path: Path) -> None:
    path = tmp_path / "empty.bin"
    path.write_bytes(b"")
    response = client_for(path).get("/", headers={"range": "bytes=0-"})
    assert response.status_code == 416
    assert response.headers["content-range"] == "bytes */0"


@pytest.mark.parametrize(
    "header", ["items=0-9", "bytes=abc", "bytes=9-3", "bytes", "bytes=0-1," * 101]
)
def test_invalid_range_header_is_ignored(data_file: Path, header: str) -> None:
    response = client_for(data_file).get("/", headers={"range": header})
    assert response.status_code == 200
    assert "content-range" not in response.headers
    assert response.content == DATA


def test_head_ignores_range(data_file: Path) -> None:
    response = client_for(data_file).head("/", headers={"range": "bytes=0-9"})
    assert response.status_code == 200
    assert response.headers["content-length"] == "2048"
    assert "content-range" not in response.headers
    assert response.content == b""


def test_post_ignores_range(data_file: Path) -> None:
    response = client_for(data_file).post("/", headers={"range": "bytes=0-9"})
    assert response.status_code == 200
    assert response.content == DATA


def test_range_ignored_for_other_statuses(data_file: Path) -> None:
    response = client_for(data_file, status_code=404).get("/", headers={"range": "bytes=0-9"})
    assert response.status_code == 404
    assert response.content == DATA


def test_if_range_with_current_validators(data_file: Path) -> None:
    client = client_for(data_file)
    full = client.get("/")
    etag, modified = full.headers["etag"], full.headers["last-modified"]
    for validator in (etag, modified):
        response = client.get("/", headers={"range": "bytes=0-9", "if-range": validator})
        assert response.status_code == 206
        assert response.content == DATA[:10]


@pytest.mark.parametrize(
    "if_range", ['"stale"', "W/{etag}", "Thu, 01 Jan 1970 00:00:00 GMT", "not a validator"]
)
def test_if_range_with_stale_validator_sends_whole_file(data_file: Path, if_range: str) -> None:
    client = client_for(data_file)
    etag = client.get("/").headers["etag"]
    response = client.get(
        "/", headers={"range": "bytes=0-9", "if-range": if_range.format(etag=etag)}
    )
    assert response.status_code == 200
    assert response.content == DATA


@pytest.mark.anyio
async def test_range_spanning_chunks(tmp_path: Path) -> None:
    data = os.urandom(300 * 1024)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    start, end = 1000, 250 * 1024
    sent = await call(FileResponse(path), headers={"range": f"bytes={start}-{end - 1}"})
    assert sent.status == 206
    assert sent.body == data[start:end]
    chunks = sent.body_messages
    assert len(chunks) > 1
    assert all(len(m["body"]) <= FileResponse.chunk_size for m in chunks)
    assert [m["more_body"] for m in chunks] == [True] * (len(chunks) - 1) + [False]


@pytest.mark.anyio
async def test_multipart_with_large_parts(tmp_path: Path) -> None:
    data = os.urandom(400 * 1024)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    sent = await call(FileResponse(path), headers={"range": "bytes=0-99999,200000-399999,-10"})
    assert sent.status == 206
    assert sent.headers["content-length"] == str(len(sent.body))
    assert all(len(m["body"]) <= FileResponse.chunk_size for m in sent.body_messages)
    parts = parse_multipart(sent.headers["content-type"], sent.body)
    assert [data_ for _, data_ in parts] == [data[:100000], data[200000:400000], data[-10:]]
    assert parts[0][0]["content-type"] == "application/octet-stream"


@pytest.mark.anyio
async def test_ranges_do_not_use_pathsend(data_file: Path) -> None:
    sent = await call(
        FileResponse(data_file),
        headers={"range": "bytes=0-9"},
        extensions={"http.response.pathsend": {}},
    )
    assert sent.status == 206
    assert [m["type"] for m in sent.messages[1:]] == ["http.response.body"]
    assert sent.body == DATA[:10]


# -- conditional requests ---------------------------------------------------------------------


@pytest.mark.parametrize("form", ["{etag}", "W/{etag}", '"other", {etag}', "*"])
def test_if_none_match_gives_304(data_file: Path, form: str) -> None:
    client = client_for(data_file, headers={"cache-control": "max-age=60"})
    etag = client.get("/").headers["etag"]
    response = client.get("/", headers={"if-none-match": form.format(etag=etag)})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag
    assert response.headers["cache-control"] == "max-age=60"
    assert "last-modified" in response.headers
    assert "content-type" not in response.headers
    assert "content-length" not in response.headers


def test_if_none_match_other_etag_gives_200(data_file: Path) -> None:
    response = client_for(data_file).get("/", headers={"if-none-match": '"other"'})
    assert response.status_code == 200
    assert response.content == DATA


def test_if_none_match_on_head(data_file: Path) -> None:
    response = client_for(data_file).head("/", headers={"if-none-match": "*"})
    assert response.status_code == 304


def test_if_modified_since(data_file: Path) -> None:
    client = client_for(data_file)
    modified = client.get("/").headers["last-modified"]
    mtime = os.stat(data_file).st_mtime
    assert client.get("/", headers={"if-modified-since": modified}).status_code == 304
    later = formatdate(mtime + 3600, usegmt=True)
    assert client.get("/", headers={"if-modified-since": later}).status_code == 304
    earlier = formatdate(mtime - 3600, usegmt=True)
    response = client.get("/", headers={"if-modified-since": earlier})
    assert response.status_code == 200
    assert response.content == DATA
    assert client.get("/", headers={"if-modified-since": "garbage"}).status_code == 200


def test_if_none_match_takes_precedence_over_if_modified_since(data_file: Path) -> None:
    client = client_for(data_file)
    modified = client.get("/").headers["last-modified"]
    response = client.get("/", headers={"if-none-match": '"other"', "if-modified-since": modified})
    assert response.status_code == 200


def test_not_modified_comes_before_range(data_file: Path) -> None:
    response = client_for(data_file).get("/", headers={"if-none-match": "*", "range": "bytes=0-9"})
    assert response.status_code == 304


def test_conditions_ignored_for_post_and_other_statuses(data_file: Path) -> None:
    assert client_for(data_file).post("/", headers={"if-none-match": "*"}).status_code == 200
    response = client_for(data_file, status_code=404).get("/", headers={"if-none-match": "*"})
    assert response.status_code == 404
    assert response.content == DATA


def test_own_etag_header_is_compared(data_file: Path) -> None:
    client = client_for(data_file, headers={"etag": '"v2"'})
    assert client.get("/").headers["etag"] == '"v2"'
    assert client.get("/", headers={"if-none-match": '"v2"'}).status_code == 304
    response = client.get("/", headers={"range": "bytes=0-1", "if-range": '"v2"'})
    assert response.status_code == 206


@pytest.mark.anyio
async def test_background_runs_after_304_and_416(data_file: Path) -> None:
    log: list[str] = []
    for headers in ({"if-none-match": "*"}, {"range": "bytes=9999-"}):
        response = FileResponse(data_file, background=BackgroundTask(log.append, "task"))
        sent = await call(response, headers=headers)
        assert sent.status in (304, 416)
    assert log == ["task", "task"]


# -- what is read and sent --------------------------------------------------------------------


@pytest.mark.anyio
async def test_file_grown_since_stat_sends_the_announced_length(tmp_path: Path) -> None:
    path = tmp_path / "log.txt"
    path.write_bytes(b"a" * 100)
    response = FileResponse(path, stat_result=os.stat(path))
    path.write_bytes(b"a" * 100 + b"b" * 50)
    sent = await call(response)
    assert sent.headers["content-length"] == "100"
    assert sent.body == b"a" * 100


@pytest.mark.anyio
async def test_file_shrunk_since_stat_raises(tmp_path: Path) -> None:
    path = tmp_path / "log.txt"
    path.write_bytes(b"a" * 100)
    response = FileResponse(path, stat_result=os.stat(path))
    path.write_bytes(b"a" * 10)
    with pytest.raises(RuntimeError, match="shorter than expected"):
        await call(response)


@pytest.mark.anyio
async def test_file_removed_after_stat_fails_before_sending(tmp_path: Path) -> None:
    path = tmp_path / "gone.txt"
    path.write_bytes(b"x")
    response = FileResponse(path, stat_result=os.stat(path))
    path.unlink()
    messages: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        messages.append(message)

    scope = {"type": "http", "method": "GET", "path": "/", "headers": []}
    with pytest.raises(RuntimeError, match="does not exist"):
        await response(scope, receive, send)
    assert messages == []


@pytest.mark.anyio
async def test_send_failing_with_oserror_ends_the_transfer_quietly(tmp_path: Path) -> None:
    """ASGI 2.4 servers raise OSError from send() once the client has gone."""
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(1024 * 1024))
    log: list[str] = []
    response = FileResponse(path, background=BackgroundTask(log.append, "task"))
    bodies = 0

    async def receive() -> Message:
        await anyio.sleep_forever()
        raise AssertionError

    async def send(message: Message) -> None:
        nonlocal bodies
        if message["type"] == "http.response.body":
            bodies += 1
            if bodies == 2:
                raise OSError("connection lost")

    scope = {"type": "http", "asgi": {"spec_version": "2.4"}, "method": "GET", "headers": []}
    with anyio.fail_after(10):
        await response(scope, receive, send)
    assert bodies == 2
    assert log == ["task"]


@pytest.mark.anyio
async def test_disconnect_stops_the_transfer_on_older_servers(tmp_path: Path) -> None:
    """Before ASGI 2.4, send() keeps succeeding after the client left: receive() tells."""
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(2 * 1024 * 1024))
    gone = anyio.Event()
    bodies = 0

    async def receive() -> Message:
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal bodies
        if message["type"] == "http.response.body":
            bodies += 1
            if bodies == 3:
                gone.set()
            await anyio.sleep(0)

    scope = {"type": "http", "asgi": {"spec_version": "2.3"}, "method": "GET", "headers": []}
    with anyio.fail_after(10):
        await FileResponse(path)(scope, receive, send)
    # 32 chunks make the file; the transfer stopped soon after the disconnect.
    assert 3 <= bodies < 10


@pytest.mark.anyio
async def test_disconnect_reported_during_the_last_send_does_not_cut_it(tmp_path: Path) -> None:
    """hypercorn reports http.disconnect while the last body message is still being sent;
    cancelling that send left the connection open."""
    path = tmp_path / "small.txt"
    path.write_bytes(b"abc")
    gone = anyio.Event()
    completed: list[bytes] = []

    async def receive() -> Message:
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body" and not message["more_body"]:
            gone.set()
            await anyio.sleep(0.05)  # the watcher sees the disconnect meanwhile
            completed.append(message["body"])

    scope = {"type": "http", "asgi": {"spec_version": "2.1"}, "method": "GET", "headers": []}
    with anyio.fail_after(10):
        await FileResponse(path)(scope, receive, send)
    assert completed == [b"abc"]
