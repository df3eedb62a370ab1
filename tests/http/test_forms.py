"""Form bodies (framework/http/forms.py): urlencoded and multipart, parsed as they stream in,
with every malformed or oversized form answered with a clear 4xx."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from framework import App, Request
from framework.datastructures import FormData, Headers, UploadFile
from framework.exceptions import HTTPException
from framework.http.forms import DEFAULT_LIMITS, FormLimits, parse_form
from framework.testclient import TestClient

BOUNDARY = "boundary42"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}".encode()
URLENCODED = b"application/x-www-form-urlencoded"


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """The parser tests of this module run on both anyio backends."""
    return str(request.param)


# -- helpers ----------------------------------------------------------------------------------


def field_part(name: str, value: str | bytes) -> bytes:
    data = value.encode() if isinstance(value, str) else value
    head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
    return head.encode() + data + b"\r\n"


def file_part(name: str, filename: str, data: bytes, content_type: str | None = None) -> bytes:
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
    )
    if content_type is not None:
        head += f"Content-Type: {content_type}\r\n"
    return head.encode() + b"\r\n" + data + b"\r\n"


def multipart(*parts: bytes) -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


async def chunks_of(body: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


async def parse(
    content_type: bytes | None,
    body: bytes,
    chunk_size: int = 1 << 16,
    limits: FormLimits = DEFAULT_LIMITS,
) -> FormData:
    raw = [] if content_type is None else [(b"content-type", content_type)]
    return await parse_form(Headers(raw=raw), chunks_of(body, max(chunk_size, 1)), limits)


async def summary(form: FormData) -> list[tuple[str, Any]]:
    """Form items with each upload as ``(filename, content_type, size, content)``."""
    items: list[tuple[str, Any]] = []
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            content = await value.read()
            items.append((key, (value.filename, value.content_type, value.size, content)))
        else:
            items.append((key, value))
    return items


def form_app() -> App:
    app = App()

    @app.post("/form")
    async def form(request: Request) -> list[Any]:
        return await summary_json(await request.form())

    return app


async def summary_json(form: FormData) -> list[Any]:
    result: list[Any] = []
    for key, value in await summary(form):
        if isinstance(value, tuple):
            filename, content_type, size, content = value
            value = {
                "filename": filename,
                "content_type": content_type,
                "size": size,
                "content": content.decode("latin-1"),
            }
        result.append([key, value])
    return result


# -- urlencoded -------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_urlencoded_fields() -> None:
    form = await parse(URLENCODED, b"a=1&a=2&b=x+y%21&c=&d&e=caf%C3%A9")
    assert form.multi_items() == [
        ("a", "1"),
        ("a", "2"),
        ("b", "x y!"),
        ("c", ""),
        ("d", ""),
        ("e", "café"),
    ]
    assert form["a"] == "2"
    assert form.getlist("a") == ["1", "2"]


@pytest.mark.anyio
async def test_urlencoded_split_across_chunks() -> None:
    form = await parse(URLENCODED, b"first=abc%20def&second=%C3%A9t%C3%A9", chunk_size=1)
    assert form.multi_items() == [("first", "abc def"), ("second", "été")]


@pytest.mark.anyio
async def test_urlencoded_invalid_utf8_and_raw_bytes() -> None:
    form = await parse(URLENCODED + b"; charset=utf-8", b"%ff=%fe&raw=" + "é".encode() + b"\xff")
    assert form.multi_items() == [("\ufffd", "\ufffd"), ("raw", "é\ufffd")]


@pytest.mark.anyio
async def test_urlencoded_empty_body() -> None:
    assert (await parse(URLENCODED, b"")).multi_items() == []


@pytest.mark.anyio
async def test_urlencoded_too_many_fields() -> None:
    limits = FormLimits(max_fields=3)
    assert len((await parse(URLENCODED, b"a=1&b=2&c=3", limits=limits)).multi_items()) == 3
    with pytest.raises(HTTPException) as info:
        await parse(URLENCODED, b"a=1&b=2&c=3&d=4", limits=limits)
    assert info.value.status_code == 413
    assert info.value.detail == "Form has too many fields"


# -- content types ----------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    "content_type",
    [None, b"", b"application/json", b"text/plain", b"multipart/mixed; boundary=x"],
)
async def test_other_content_type_is_415(content_type: bytes | None) -> None:
    with pytest.raises(HTTPException) as info:
        await parse(content_type, b"a=1")
    assert info.value.status_code == 415


@pytest.mark.anyio
async def test_content_type_is_case_insensitive() -> None:
    content_type = f"Multipart/Form-Data; boundary={BOUNDARY}".encode()
    form = await parse(content_type, multipart(field_part("a", "1")))
    assert form.multi_items() == [("a", "1")]
    assert (await parse(b"Application/X-WWW-Form-Urlencoded", b"a=1")).multi_items() == [("a", "1")]


@pytest.mark.anyio
async def test_quoted_boundary() -> None:
    content_type = f'multipart/form-data; boundary="{BOUNDARY}"'.encode()
    form = await parse(content_type, multipart(field_part("a", "1")))
    assert form.multi_items() == [("a", "1")]


# -- multipart --------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_multipart_fields_and_files() -> None:
    body = multipart(
        field_part("title", "Report"),
        file_part("attachment", "notes.txt", b"line 1\nline 2\n", "text/plain"),
        field_part("title", "Second"),
        file_part("attachment", "data.bin", b"\x00\x01\xff\r\n--not-a-boundary", None),
        field_part("empty", ""),
    )
    form = await parse(MULTIPART, body)
    assert await summary(form) == [
        ("title", "Report"),
        ("attachment", ("notes.txt", "text/plain", 14, b"line 1\nline 2\n")),
        ("title", "Second"),
        ("attachment", ("data.bin", None, 21, b"\x00\x01\xff\r\n--not-a-boundary")),
        ("empty", ""),
    ]
    assert form["title"] == "Second"
    assert [upload.filename for upload in form.getlist("attachment")] == [  # type: ignore[union-attr]
        "notes.txt",
        "data.bin",
    ]
    await form.close()


@pytest.mark.anyio
async def test_multipart_upload_headers() -> None:
    form = await parse(MULTIPART, multipart(file_part("f", "a.csv", b"1,2", "text/csv")))
    upload = form["f"]
    assert isinstance(upload, UploadFile)
    assert upload.headers["content-type"] == "text/csv"
    assert upload.headers["content-disposition"] == 'form-data; name="f"; filename="a.csv"'
    await form.close()


@pytest.mark.anyio
@pytest.mark.parametrize("chunk_size", [1, 2, 7, 64, 1 << 16])
async def test_multipart_any_chunking(chunk_size: int) -> None:
    body = multipart(
        field_part("a", "value one"),
        file_part("f", "x.txt", b"file contents " * 20, "text/plain"),
        field_part("b", "ü"),
    )
    form = await parse(MULTIPART, body, chunk_size=chunk_size)
    assert await summary(form) == [
        ("a", "value one"),
        ("f", ("x.txt", "text/plain", 280, b"file contents " * 20)),
        ("b", "ü"),
    ]
    await form.close()


@pytest.mark.anyio
async def test_multipart_utf8_names_and_filenames() -> None:
    body = multipart(
        field_part("naïve", "ça va"),
        file_part("fichier", "résumé 📄.pdf", b"%PDF", "application/pdf"),
    )
    form = await parse(MULTIPART, body)
    assert await summary(form) == [
        ("naïve", "ça va"),
        ("fichier", ("résumé 📄.pdf", "application/pdf", 4, b"%PDF")),
    ]
    await form.close()


@pytest.mark.anyio
async def test_multipart_invalid_utf8_value_is_replaced() -> None:
    form = await parse(MULTIPART, multipart(field_part("a", b"ok\xff")))
    assert form["a"] == "ok\ufffd"


@pytest.mark.anyio
async def test_multipart_empty_filename_is_still_a_file() -> None:
    # What a browser sends for a file input left empty.
    form = await parse(MULTIPART, multipart(file_part("f", "", b"", "application/octet-stream")))
    upload = form["f"]
    assert isinstance(upload, UploadFile)
    assert upload.filename == ""
    assert upload.size == 0
    assert await upload.read() == b""
    await form.close()


@pytest.mark.anyio
async def test_multipart_no_parts() -> None:
    form = await parse(MULTIPART, f"--{BOUNDARY}--\r\n".encode())
    assert form.multi_items() == []


@pytest.mark.anyio
async def test_multipart_large_file_spools_to_disk() -> None:
    data = bytes(range(256)) * (5 * 1024)  # 1.25 MiB
    form = await parse(MULTIPART, multipart(file_part("f", "big.bin", data)), chunk_size=50_000)
    upload = form["f"]
    assert isinstance(upload, UploadFile)
    assert upload.size == len(data)
    assert upload.file._rolled is True  # type: ignore[attr-defined]
    assert await upload.read() == data
    await form.close()
    assert upload.file.closed


@pytest.mark.anyio
async def test_multipart_small_file_stays_in_memory() -> None:
    form = await parse(MULTIPART, multipart(file_part("f", "small.bin", b"x" * 1000)))
    upload = form["f"]
    assert isinstance(upload, UploadFile)
    assert upload.file._rolled is False  # type: ignore[attr-defined]
    await form.close()


# -- malformed multipart ----------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    "content_type",
    [
        b"multipart/form-data",
        b'multipart/form-data; boundary=""',
        b"multipart/form-data; charset=utf-8",
    ],
)
async def test_multipart_without_boundary_is_400(content_type: bytes) -> None:
    with pytest.raises(HTTPException) as info:
        await parse(content_type, multipart(field_part("a", "1")))
    assert info.value.status_code == 400
    assert "boundary" in info.value.detail


@pytest.mark.anyio
@pytest.mark.parametrize(
    "body",
    [
        b"this is not multipart at all",
        f"--{BOUNDARY}\r\nno colon in this header\r\n\r\nx\r\n--{BOUNDARY}--\r\n".encode(),
        b"--other\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--other--\r\n",
    ],
    ids=["garbage", "bad-header", "wrong-boundary"],
)
async def test_malformed_multipart_is_400(body: bytes) -> None:
    with pytest.raises(HTTPException) as info:
        await parse(MULTIPART, body)
    assert info.value.status_code == 400
    assert info.value.detail.startswith("Malformed multipart body")


@pytest.mark.anyio
@pytest.mark.parametrize("cut", [0, 5, 30, 60, -len(f"--{BOUNDARY}--\r\n")])
async def test_truncated_multipart_is_400(cut: int) -> None:
    body = multipart(field_part("a", "1"), file_part("f", "x.txt", b"contents"))
    with pytest.raises(HTTPException) as info:
        await parse(MULTIPART, body[:cut])
    assert info.value.status_code == 400
    assert info.value.detail == "Multipart body ended before its closing boundary"


@pytest.mark.anyio
@pytest.mark.parametrize(
    "disposition",
    [
        "Content-Disposition: form-data",
        'Content-Disposition: attachment; name="a"',
        "Content-Type: text/plain",
    ],
    ids=["no-name", "not-form-data", "no-disposition"],
)
async def test_multipart_part_without_form_data_name_is_400(disposition: str) -> None:
    body = f"--{BOUNDARY}\r\n{disposition}\r\n\r\nvalue\r\n--{BOUNDARY}--\r\n".encode()
    with pytest.raises(HTTPException) as info:
        await parse(MULTIPART, body)
    assert info.value.status_code == 400
    assert info.value.detail == "Multipart part without a form-data name"


# -- limits -----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_multipart_max_files() -> None:
    limits = FormLimits(max_files=2)
    two = multipart(file_part("f", "1", b"a"), field_part("x", "y"), file_part("f", "2", b"b"))
    form = await parse(MULTIPART, two, limits=limits)
    assert len(form.getlist("f")) == 2
    await form.close()
    three = multipart(
        file_part("f", "1", b"a"), file_part("f", "2", b"b"), file_part("f", "3", b"")
    )
    with pytest.raises(HTTPException) as info:
        await parse(MULTIPART, three, limits=limits)
    assert info.value.status_code == 413
    assert info.value.detail == "Form has too many files"


@pytest.mark.anyio
async def test_multipart_max_fields_counts_only_fields() -> None:
    limits = FormLimits(max_fields=1)
    form = await parse(
        MULTIPART,
        multipart(field_part("a", "1"), file_part("f", "1", b"a"), file_part("g", "2", b"b")),
        limits=limits,
    )
    assert len(form.multi_items()) == 3
    await form.close()
    with pytest.raises(HTTPException) as info:
        await parse(MULTIPART, multipart(field_part("a", "1"), field_part("b", "2")), limits=limits)
    assert info.value.status_code == 413
    assert info.value.detail == "Form has too many fields"


@pytest.mark.anyio
@pytest.mark.parametrize("chunk_size", [1, 1 << 16])
async def test_multipart_max_part_size_applies_to_fields(chunk_size: int) -> None:
    limits = FormLimits(max_part_size=10)
    body = multipart(field_part("a", "x" * 10), file_part("f", "big", b"y" * 100))
    form = await parse(MULTIPART, body, chunk_size=chunk_size, limits=limits)
    assert form["a"] == "x" * 10
    assert isinstance(form["f"], UploadFile)  # files are not bounded by max_part_size
    await form.close()
    with pytest.raises(HTTPException) as info:
        await parse(MULTIPART, multipart(field_part("a", "x" * 11)), chunk_size, limits)
    assert info.value.status_code == 413
    assert info.value.detail == "Form field 'a' is too large"


@pytest.mark.anyio
async def test_urlencoded_max_part_size_applies_to_values() -> None:
    limits = FormLimits(max_part_size=10)
    form = await parse(URLENCODED, b"a=" + b"x" * 10, limits=limits)
    assert form["a"] == "x" * 10
    with pytest.raises(HTTPException) as info:
        await parse(URLENCODED, b"a=" + b"x" * 11, limits=limits)
    assert info.value.status_code == 413
    assert info.value.detail == "Form field 'a' is too large"


@pytest.mark.anyio
async def test_multipart_max_file_size() -> None:
    limits = FormLimits(max_file_size=5)
    form = await parse(MULTIPART, multipart(file_part("f", "ok.txt", b"12345")), limits=limits)
    assert isinstance(form["f"], UploadFile)
    await form.close()
    with pytest.raises(HTTPException) as info:
        await parse(MULTIPART, multipart(file_part("f", "big.txt", b"123456")), limits=limits)
    assert info.value.status_code == 413
    assert info.value.detail == "Uploaded file 'big.txt' is too large"


def test_default_limits() -> None:
    assert FormLimits(1000, 1000, 1024 * 1024, None) == DEFAULT_LIMITS


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("body", "limits"),
    [
        (
            multipart(
                file_part("f", "1", b"a"), file_part("f", "2", b"b"), file_part("f", "3", b"")
            ),
            FormLimits(max_files=2),
        ),
        (multipart(file_part("f", "1", b"a"), file_part("f", "2", b"b"))[:-8], DEFAULT_LIMITS),
        (
            multipart(file_part("f", "1", b"a"), field_part("x", "too long")),
            FormLimits(max_part_size=2),
        ),
    ],
    ids=["too-many-files", "truncated", "field-too-large"],
)
async def test_uploads_are_closed_when_parsing_fails(
    monkeypatch: pytest.MonkeyPatch, body: bytes, limits: FormLimits
) -> None:
    created: list[UploadFile] = []

    class TrackedUploadFile(UploadFile):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            created.append(self)

    monkeypatch.setattr("framework.http.forms.UploadFile", TrackedUploadFile)
    with pytest.raises(HTTPException):
        await parse(MULTIPART, body, limits=limits)
    assert created
    assert all(upload.file.closed for upload in created)


# -- through an App ---------------------------------------------------------------------------


def test_form_through_an_app() -> None:
    client = TestClient(form_app())
    response = client.post(
        "/form",
        data={"name": "Zoë", "tag": ["a", "b"]},
        files=[
            ("upload", ("ünï.txt", b"first", "text/plain")),
            ("upload", ("second.bin", b"\x00\x01", "application/octet-stream")),
        ],
    )
    assert response.status_code == 200
    assert response.json() == [
        ["name", "Zoë"],
        ["tag", "a"],
        ["tag", "b"],
        [
            "upload",
            {"filename": "ünï.txt", "content_type": "text/plain", "size": 5, "content": "first"},
        ],
        [
            "upload",
            {
                "filename": "second.bin",
                "content_type": "application/octet-stream",
                "size": 2,
                "content": "\x00\x01",
            },
        ],
    ]


def test_urlencoded_through_an_app() -> None:
    client = TestClient(form_app())
    response = client.post("/form", data={"q": "a b&c", "n": ["1", "2"]})
    assert response.json() == [["q", "a b&c"], ["n", "1"], ["n", "2"]]


def test_large_upload_through_an_app() -> None:
    app = App()

    @app.post("/upload")
    async def upload(request: Request) -> dict[str, Any]:
        form = await request.form()
        file = form["file"]
        assert isinstance(file, UploadFile)
        data = await file.read()
        return {
            "size": file.size,
            "on_disk": file.file._rolled,  # type: ignore[attr-defined]
            "intact": data == payload,
        }

    payload = b"0123456789abcdef" * (100 * 1024)  # 1.6 MiB
    response = TestClient(app).post("/upload", files={"file": ("big.bin", payload)})
    assert response.json() == {"size": len(payload), "on_disk": True, "intact": True}


@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [
        ("multipart/form-data", multipart(field_part("a", "1")), 400),
        (MULTIPART.decode(), b"garbage", 400),
        (MULTIPART.decode(), multipart(field_part("a", "1"))[:20], 400),
        (MULTIPART.decode(), b"--boundary42\r\nContent-Type: x\r\n\r\n\r\n--boundary42--\r\n", 400),
        ("application/json", b"{}", 415),
        ("text/plain", b"a=1", 415),
    ],
    ids=["no-boundary", "garbage", "truncated", "no-name", "json", "text"],
)
def test_bad_forms_through_an_app(content_type: str, body: bytes, status: int) -> None:
    client = TestClient(form_app())
    response = client.post("/form", content=body, headers={"content-type": content_type})
    assert response.status_code == status
    assert isinstance(response.json()["detail"], str)
    # The app keeps serving.
    assert client.post("/form", data={"a": "1"}).json() == [["a", "1"]]
