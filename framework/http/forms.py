"""Form bodies (urlencoded and multipart) parsed as they stream in: python-multipart's callbacks
become a :class:`FormData` (files spooled in :class:`UploadFile`), bad forms a 4xx."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import IO, Any, BinaryIO, TypeVar
from urllib.parse import parse_qsl

import anyio.to_thread
from pydantic_core import CoreSchema, core_schema
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from framework.exceptions import HTTPException
from framework.http.datastructures import Headers, ImmutableMultiDict, latin1_as_utf8


@dataclass(frozen=True)
class FormLimits:
    """How much a form may hold (past a limit: 413): ``max_files``/``max_fields`` count parts,
    ``max_part_size`` bounds a text field, ``max_file_size`` a file (``None``: no own limit)."""

    max_files: int = 1000
    max_fields: int = 1000
    max_part_size: int = 1024 * 1024
    max_file_size: int | None = None


DEFAULT_LIMITS = FormLimits()
_T = TypeVar("_T")


def _too_large(what: str) -> HTTPException:
    return HTTPException(413, detail=f"Form has too many {what}")


@dataclass
class _Part:
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    name: str = ""
    data: bytearray = field(default_factory=bytearray)  # a text field's value
    upload: UploadFile | None = None
    size: int = 0  # bytes of the upload so far


class _MultipartReader:
    """Builds the form from python-multipart's callbacks. They run synchronously inside
    ``parser.write()``, so file data waits in ``pending`` until :meth:`flush` writes it."""

    def __init__(self, boundary: bytes, limits: FormLimits) -> None:
        self.limits = limits
        self.items: list[tuple[str, UploadFile | str]] = []
        self.pending: list[tuple[UploadFile, bytes | None]] = []  # data to write, None: rewind
        self.files = self.fields = 0
        self.ended = False
        self._part = _Part()
        self._field = bytearray()
        self._value = bytearray()
        self.parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._begin_part,
                "on_header_field": lambda data, start, end: self._field.extend(data[start:end]),
                "on_header_value": lambda data, start, end: self._value.extend(data[start:end]),
                "on_header_end": self._end_header,
                "on_headers_finished": self._start_part,
                "on_part_data": self._add_data,
                "on_part_end": self._finish_part,
                "on_end": self._end,
            },
        )

    def _begin_part(self) -> None:
        self._part = _Part()

    def _end_header(self) -> None:
        self._part.headers.append((bytes(self._field).lower(), bytes(self._value)))
        self._field.clear()
        self._value.clear()

    def _start_part(self) -> None:
        part = self._part
        kind, options = parse_options_header(dict(part.headers).get(b"content-disposition", b""))
        if kind != b"form-data" or b"name" not in options:
            raise HTTPException(400, detail="Multipart part without a form-data name")
        part.name = options[b"name"].decode("utf-8", "replace")
        if b"filename" in options:
            self.files += 1
            if self.files > self.limits.max_files:
                raise _too_large("files")
            filename = options[b"filename"].decode("utf-8", "replace")
            part.upload = UploadFile(filename=filename, size=0, headers=Headers(raw=part.headers))
            self.items.append((part.name, part.upload))
        else:
            self.fields += 1
            if self.fields > self.limits.max_fields:
                raise _too_large("fields")

    def _add_data(self, data: bytes, start: int, end: int) -> None:
        part = self._part
        if part.upload is None:
            part.data += data[start:end]
            if len(part.data) > self.limits.max_part_size:
                raise HTTPException(413, detail=f"Form field {part.name!r} is too large")
            return
        part.size += end - start
        limit = self.limits.max_file_size
        if limit is not None and part.size > limit:
            raise HTTPException(413, detail=f"Uploaded file {part.upload.filename!r} is too large")
        self.pending.append((part.upload, data[start:end]))

    def _finish_part(self) -> None:
        part = self._part
        if part.upload is None:
            self.items.append((part.name, part.data.decode("utf-8", "replace")))
        else:
            self.pending.append((part.upload, None))

    def _end(self) -> None:
        self.ended = True

    async def flush(self) -> None:
        """Write the file data of the last ``parser.write()``, and rewind the files it ended."""
        pending, self.pending = self.pending, []
        for upload, data in pending:
            await (upload.seek(0) if data is None else upload.write(data))


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
            await reader.flush()
        if not reader.ended:
            raise HTTPException(400, detail="Multipart body ended before its closing boundary")
    except BaseException:
        await FormData(reader.items).close()
        raise
    return FormData(reader.items)


async def parse_form(
    headers: Headers, stream: AsyncIterator[bytes], limits: FormLimits = DEFAULT_LIMITS
) -> FormData:
    """Parse a urlencoded or multipart body as ``await request.form()`` does: another content
    type is answered with 415, a malformed body with 400, one past ``limits`` with 413."""
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
        return FormData((latin1_as_utf8(k), latin1_as_utf8(v)) for k, v in pairs)
    raise HTTPException(
        415,
        detail="Expected a form body: Content-Type multipart/form-data or "
        "application/x-www-form-urlencoded",
    )


class UploadFile:
    """A file that came in a multipart form, in a temporary file kept in memory up to 1 MiB;
    the async methods run disk I/O in a worker thread."""

    spool_max_size = 1024 * 1024

    def __init__(
        self,
        file: BinaryIO | IO[bytes] | None = None,
        *,
        size: int | None = None,
        filename: str | None = None,
        headers: Headers | None = None,
    ) -> None:
        if file is None:
            file = tempfile.SpooledTemporaryFile(max_size=self.spool_max_size)  # noqa: SIM115
        self.file: IO[bytes] = file
        self.size = size
        self.filename = filename
        self.headers = headers if headers is not None else Headers()

    @property
    def content_type(self) -> str | None:
        """The part's ``Content-Type``, when it declared one."""
        value = self.headers.get("content-type")
        return None if value is None else str(value)

    async def _io(self, method: Callable[..., _T], *args: Any) -> _T:
        # A spooled file still in memory is called directly; a file on disk in a worker thread.
        if not getattr(self.file, "_rolled", True):
            return method(*args)
        return await anyio.to_thread.run_sync(method, *args)

    async def write(self, data: bytes) -> None:
        """Append ``data`` (the parser uses this while the upload streams in)."""
        if self.size is not None:
            self.size += len(data)
        await self._io(self.file.write, data)

    async def read(self, size: int = -1) -> bytes:
        """Read up to ``size`` bytes (all by default) from the current position."""
        return await self._io(self.file.read, size)

    async def seek(self, offset: int) -> None:
        """Move to byte ``offset``."""
        await self._io(self.file.seek, offset)

    async def close(self) -> None:
        """Close and discard the temporary file."""
        await self._io(self.file.close)

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
