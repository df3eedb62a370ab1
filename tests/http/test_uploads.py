"""Uploads through typed handlers: UploadFile's API and the configurable form limits."""

from __future__ import annotations

from typing import Annotated, Any

import pytest

from framework import App, File, Form, Request, Router, UploadFile
from framework.formparsers import FormLimits
from framework.testclient import TestClient


def make_app(**options: Any) -> App:
    app = App(**options)

    @app.post("/upload")
    async def upload(file: UploadFile, note: Annotated[str, Form()] = "") -> dict[str, Any]:
        first = await file.read(3)
        await file.seek(0)
        whole = await file.read()
        size = file.size
        await file.write(b"!")  # appends at the end of what was read
        await file.seek(0)
        after_write = await file.read()
        await file.close()
        return {
            "filename": file.filename,
            "content_type": file.content_type,
            "x_part": file.headers.get("x-part"),
            "size": size,
            "size_after_write": file.size,
            "first": first.decode(),
            "whole": whole.decode(),
            "after_write": after_write.decode(),
            "closed": file.file.closed,
            "note": note,
        }

    @app.post("/many")
    async def many(files: Annotated[list[UploadFile], File()]) -> list[Any]:
        return [(f.filename, f.size) for f in files]

    @app.post("/tight", form_limits=FormLimits(max_files=1, max_file_size=4))
    async def tight(files: Annotated[list[UploadFile], File()]) -> int:
        return len(files)

    @app.post("/raw")
    async def raw(request: Request) -> list[str]:
        form = await request.form(max_fields=1)
        return list(form.keys())

    return app


def multipart(*parts: bytes, boundary: bytes = b"XyZ") -> tuple[bytes, dict[str, str]]:
    body = b"".join(b"--" + boundary + b"\r\n" + part + b"\r\n" for part in parts)
    body += b"--" + boundary + b"--\r\n"
    return body, {"content-type": f"multipart/form-data; boundary={boundary.decode()}"}


def file_part(name: str, filename: str, data: bytes, extra: bytes = b"") -> bytes:
    return (
        f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'.encode()
        + b"Content-Type: text/plain\r\n"
        + extra
        + b"\r\n"
        + data
    )


def field_part(name: str, value: bytes) -> bytes:
    return f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value


def test_upload_file_attributes_and_async_methods() -> None:
    body, headers = multipart(
        file_part("file", "notes.txt", b"hello world", extra=b"X-Part: one\r\n"),
        field_part("note", b"hi"),
    )
    response = TestClient(make_app()).post("/upload", content=body, headers=headers)
    assert response.status_code == 200
    assert response.json() == {
        "filename": "notes.txt",
        "content_type": "text/plain",
        "x_part": "one",
        "size": 11,
        "size_after_write": 12,
        "first": "hel",
        "whole": "hello world",
        "after_write": "hello world!",
        "closed": True,
        "note": "hi",
    }


def test_list_of_uploads_keeps_order() -> None:
    body, headers = multipart(file_part("files", "a.txt", b"aa"), file_part("files", "b.txt", b"b"))
    response = TestClient(make_app()).post("/many", content=body, headers=headers)
    assert response.json() == [["a.txt", 2], ["b.txt", 1]]


def test_httpx_files_argument_works() -> None:
    response = TestClient(make_app()).post(
        "/upload", files={"file": ("r.bin", b"\x00\x01", "application/octet-stream")}
    )
    assert response.status_code == 200
    assert response.json()["content_type"] == "application/octet-stream"
    assert response.json()["size"] == 2


def test_missing_file_is_422_with_body_location() -> None:
    body, headers = multipart(field_part("note", b"no file"))
    response = TestClient(make_app()).post("/upload", content=body, headers=headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "file"]
    assert response.json()["detail"][0]["type"] == "missing"


def test_route_limits_answer_413() -> None:
    client = TestClient(make_app())
    body, headers = multipart(file_part("files", "a", b"1234"))
    assert client.post("/tight", content=body, headers=headers).json() == 1
    body, headers = multipart(file_part("files", "a", b"12345"))
    response = client.post("/tight", content=body, headers=headers)
    assert response.status_code == 413
    assert "detail" in response.json()
    body, headers = multipart(file_part("files", "a", b"1"), file_part("files", "b", b"2"))
    response = client.post("/tight", content=body, headers=headers)
    assert response.status_code == 413
    assert response.json() == {"detail": "Form has too many files"}
    # The same client goes on being served.
    assert client.post("/many", content=body, headers=headers).status_code == 200


def test_app_and_router_limits_apply_to_their_routes() -> None:
    app = make_app(form_limits=FormLimits(max_files=1))
    router = Router(prefix="/r", form_limits=FormLimits(max_files=3))

    @router.post("/many")
    async def router_many(files: Annotated[list[UploadFile], File()]) -> int:
        return len(files)

    app.include_router(router)
    client = TestClient(app)
    body, headers = multipart(*(file_part("files", f"{i}", b"x") for i in range(2)))
    assert client.post("/many", content=body, headers=headers).status_code == 413
    assert client.post("/r/many", content=body, headers=headers).json() == 2
    body, headers = multipart(*(file_part("files", f"{i}", b"x") for i in range(4)))
    assert client.post("/r/many", content=body, headers=headers).status_code == 413


def test_explicit_request_form_limits_win() -> None:
    body, headers = multipart(field_part("a", b"1"), field_part("b", b"2"))
    response = TestClient(make_app()).post("/raw", content=body, headers=headers)
    assert response.status_code == 413
    assert response.json() == {"detail": "Form has too many fields"}


@pytest.mark.parametrize("cut", [20, 60, -12, -3])
def test_body_cut_off_mid_part_is_400(cut: int) -> None:
    body, headers = multipart(file_part("file", "notes.txt", b"hello world" * 10))
    client = TestClient(make_app())
    response = client.post("/upload", content=body[:cut], headers=headers)
    assert response.status_code == 400
    assert response.json()["detail"]
    assert client.post("/upload", content=body, headers=headers).status_code == 200
