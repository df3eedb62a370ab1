"""Form bodies (urlencoded and multipart) parsed as they stream in, with python-multipart.

python-multipart does the byte-level parsing; this module turns its callbacks into a
:class:`FormData`, spools files through :class:`UploadFile`, and turns every malformed or oversized
form into an :class:`HTTPException` with a clear 4xx status.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import IO, Any, BinaryIO
from urllib.parse import parse_qsl

import anyio.to_thread
from pydantic_core import CoreSchema, core_schema
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from framework.exceptions import HTTPException
from framework.http.datastructures import Headers, ImmutableMultiDict


@dataclass(frozen=True)
class FormLimits:
    """How much a form may hold. Past a limit the request is answered with 413.

    ``max_files``/``max_fields`` count parts; ``max_part_size`` bounds one text field;
    ``max_file_size`` one file (``None``: only the body size limit applies).
    """

    max_files: int = 1000
    max_fields: int = 1000
    max_part_size: int = 1024 * 1024
    max_file_size: int | None = None


DEFAULT_LIMITS = FormLimits()


def _too_large(what: str) -> HTTPException:
    return HTTPException(413, detail=f"Form has too many {what}")


@dataclass
class _Part:
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    name: str = ""
    data: bytearray = field(default_factory=bytearray)
    upload: UploadFile | None = None


class _MultipartReader:
    """Collects parser callbacks synchronously; :meth:`drain` applies them with async file writes."""

    def __init__(self, boundary: bytes, limits: FormLimits) -> None:
        self.limits = limits
        self.events: list[tuple[str, Any]] = []
        self.items: list[tuple[str, UploadFile | str]] = []
        self.files = 0
        self.fields = 0
        self.ended = False
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._part = _Part()
        self.parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._on_part_begin,
                "on_part_data": self._on_part_data,
                "on_part_end": lambda: self.events.append(("end", None)),
                "on_header_field": self._on_header_field,
                "on_header_value": self._on_header_value,
                "on_header_end": self._on_header_end,
                "on_headers_finished": lambda: self.events.append(("headers", None)),
                "on_end": self._on_end,
            },
        )

    # python-multipart calls these synchronously from parser.write().
    def _on_part_begin(self) -> None:
        self.events.append(("begin", None))

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        self.events.append(("data", data[start:end]))

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _on_header_end(self) -> None:
        header = (bytes(self._header_field).lower(), bytes(self._header_value))
        self.events.append(("header", header))
        self._header_field.clear()
        self._header_value.clear()

    def _on_end(self) -> None:
        self.ended = True

    async def drain(self) -> None:
        events, self.events = self.events, []
        for kind, payload in events:
            if kind == "begin":
                self._part = _Part()
            elif kind == "header":
                self._part.headers.append(payload)
            elif kind == "headers":
                await self._start_part()
            elif kind == "data":
                await self._add_data(payload)
            elif kind == "end":
                await self._finish_part()

    async def _start_part(self) -> None:
        part = self._part
        disposition = b""
        for name, value in part.headers:
            if name == b"content-disposition":
                disposition = value
        kind, options = parse_options_header(disposition)
        if kind != b"form-data" or b"name" not in options:
            raise HTTPException(400, detail="Multipart part without a form-data name")
        part.name = options[b"name"].decode("utf-8", "replace")
        if b"filename" in options:
            self.files += 1
            if self.files > self.limits.max_files:
                raise _too_large("files")
            part.upload = UploadFile(
                filename=options[b"filename"].decode("utf-8", "replace"),
                size=0,
                headers=Headers(raw=part.headers),
            )
            self.items.append((part.name, part.upload))
        else:
            self.fields += 1
            if self.fields > self.limits.max_fields:
                raise _too_large("fields")

    async def _add_data(self, data: bytes) -> None:
        part = self._part
        if part.upload is None:
            part.data += data
            if len(part.data) > self.limits.max_part_size:
                raise HTTPException(413, detail=f"Form field {part.name!r} is too large")
            return
        await part.upload.write(data)
        limit = self.limits.max_file_size
        if limit is not None and (part.upload.size or 0) > limit:
            raise HTTPException(413, detail=f"Uploaded file {part.upload.filename!r} is too large")

    async def _finish_part(self) -> None:
        part = self._part
        if part.upload is None:
            self.items.append((part.name, part.data.decode("utf-8", "replace")))
        else:
            await part.upload.seek(0)


async def _parse_multipart(
    content_type_options: dict[bytes, bytes], stream: AsyncIterator[bytes], limits: FormLimits
) -> FormData:
    boundary = content_type_options.get(b"boundary")
    if not boundary:
        raise HTTPException(400, detail="Multipart body without a boundary in Content-Type")
    try:
        reader = _MultipartReader(boundary, limits)
    except FormParserError as exc:
        raise HTTPException(400, detail=f"Invalid multipart boundary: {exc}") from None
    try:
        async for chunk in stream:
            try:
                reader.parser.write(chunk)
            except FormParserError as exc:
                raise HTTPException(400, detail=f"Malformed multipart body: {exc}") from None
            await reader.drain()
        if not reader.ended:
            raise HTTPException(400, detail="Multipart body ended before its closing boundary")
    except BaseException:
        await FormData(reader.items).close()
        raise
    return FormData(reader.items)


async def parse_form(
    headers: Headers, stream: AsyncIterator[bytes], limits: FormLimits = DEFAULT_LIMITS
) -> FormData:
    """Parse a request body as a form, as ``await request.form()`` does.

    ``application/x-www-form-urlencoded`` and ``multipart/form-data`` are understood; any other
    content type is answered with 415, a malformed body with 400 and one past ``limits`` with 413.
    """
    content_type, options = parse_options_header(headers.get("content-type"))
    content_type = content_type.lower()  # python-multipart lowers it only in recent versions
    if content_type == b"multipart/form-data":
        return await _parse_multipart(options, stream, limits)
    if content_type == b"application/x-www-form-urlencoded":
        body = b"".join([chunk async for chunk in stream])
        pairs = parse_qsl(body.decode("latin-1"), keep_blank_values=True, encoding="latin-1")
        if len(pairs) > limits.max_fields:
            raise _too_large("fields")
        for name, value in pairs:
            if len(value) > limits.max_part_size:
                raise HTTPException(413, detail=f"Form field {name!r} is too large")
        return FormData(
            (
                k.encode("latin-1").decode("utf-8", "replace"),
                v.encode("latin-1").decode("utf-8", "replace"),
            )
            for k, v in pairs
        )
    raise HTTPException(
        415,
        detail="Expected a form body: Content-Type multipart/form-data or "
        "application/x-www-form-urlencoded",
    )


class UploadFile:
    """A file that came in a multipart form.

    The content lives in a temporary file that stays in memory up to 1 MiB and rolls over to disk
    past that. The async methods run disk I/O in a worker thread so they never block the loop.
    """

    spool_max_size = 1024 * 1024

    def __init__(
        self,
        file: BinaryIO | IO[bytes] | None = None,
        *,
        size: int | None = None,
        filename: str | None = None,
        headers: Headers | None = None,
    ) -> None:
        self.file: IO[bytes] = (
            tempfile.SpooledTemporaryFile(max_size=self.spool_max_size)  # noqa: SIM115
            if file is None
            else file
        )
        self.size = size
        self.filename = filename
        self.headers = headers if headers is not None else Headers()

    @property
    def content_type(self) -> str | None:
        """The part's ``Content-Type``, when it declared one."""
        value = self.headers.get("content-type")
        return None if value is None else str(value)

    @property
    def _in_memory(self) -> bool:
        rolled: bool = getattr(self.file, "_rolled", True)
        return not rolled

    async def write(self, data: bytes) -> None:
        """Append ``data`` (the parser uses this while the upload streams in)."""
        if self.size is not None:
            self.size += len(data)
        if self._in_memory:
            self.file.write(data)
        else:
            await anyio.to_thread.run_sync(self.file.write, data)

    async def read(self, size: int = -1) -> bytes:
        """Read up to ``size`` bytes (all by default) from the current position."""
        if self._in_memory:
            return self.file.read(size)
        return await anyio.to_thread.run_sync(self.file.read, size)

    async def seek(self, offset: int) -> None:
        """Move to byte ``offset``."""
        if self._in_memory:
            self.file.seek(offset)
        else:
            await anyio.to_thread.run_sync(self.file.seek, offset)

    async def close(self) -> None:
        """Close and discard the temporary file."""
        if self._in_memory:
            self.file.close()
        else:
            await anyio.to_thread.run_sync(self.file.close)

    def __repr__(self) -> str:
        return (
            f"UploadFile(filename={self.filename!r}, size={self.size!r}, headers={self.headers!r})"
        )

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> CoreSchema:
        # Lets handlers and models declare UploadFile fields: validated by isinstance, shown in
        # JSON Schema (OpenAPI 3.1) as a string of binary content, as FastAPI shows it.
        return core_schema.json_or_python_schema(
            json_schema=core_schema.str_schema(),
            python_schema=core_schema.is_instance_schema(cls),
            metadata={"pydantic_js_functions": [_binary_json_schema]},
        )


def _binary_json_schema(schema: Any, handler: Any) -> dict[str, Any]:
    return {"type": "string", "contentMediaType": "application/octet-stream"}


class FormData(ImmutableMultiDict["UploadFile | str"]):
    """A parsed form: text fields as ``str``, files as :class:`UploadFile`."""

    __slots__ = ()

    async def close(self) -> None:
        """Close every uploaded file of the form."""
        for _, value in self._list:
            if isinstance(value, UploadFile):
                await value.close()
