"""Reading a request's values: the :class:`Context` one request's steps share, and the readers.

A reader, made once per callable and location, picks its values from the raw source and
validates them with the location's one validator; what is parsed once stays on the context.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import ValidationError
from pydantic_core import PydanticUndefined, from_json

from framework.background import BackgroundTasks
from framework.exceptions import RequestValidationError
from framework.handlers.annotations import is_upload
from framework.handlers.compile import BodySpec, FieldSpec, LocationGroup
from framework.handlers.errors import (
    MAX_BODY_ERRORS,
    body_errors,
    json_invalid_error,
    missing_error,
    validation_errors,
)
from framework.handlers.params import File
from framework.http.datastructures import parse_query
from framework.http.forms import FormData, FormLimits, UploadFile
from framework.http.requests import Request, parse_cookies, raw_header, read_body
from framework.http.responses import Response
from framework.types import Receive, Scope, Send

__all__ = ["Context", "Reader", "body_reader", "form_values", "location_reader", "read_json_body"]

Limits = tuple[int | None, FormLimits | None]
"""A route's ``(max_body_size, form_limits)``, for the Request it makes."""
Reader = Callable[["Context", dict[str, Any]], None]
"""Reads one callable's values of one location into ``values``; problems go to ``ctx.errors``."""


class Context:
    """What the steps of one request share: the ASGI call, the connection, what was parsed, the
    errors so far, the ``Response`` and ``BackgroundTasks`` handed out, the exit stack. One is made
    per request, so what few requests use keeps the class's default until a step sets it."""

    __slots__ = (
        "__dict__",
        "body",
        "connection",
        "errors",
        "json_body",
        "limits",
        "query",
        "receive",
        "scope",
        "send",
    )
    cookies: dict[str, str] | None = None
    form: FormData | None = None
    stack: contextlib.AsyncExitStack | None = None
    sub_response: Response | None = None
    background: BackgroundTasks | None = None

    def __init__(self, scope: Scope, receive: Receive, send: Send, limits: Limits) -> None:
        self.scope = scope
        self.receive = receive
        self.send = send
        self.limits = limits
        self.errors: list[dict[str, Any]] = []
        self.connection: Any = None
        self.query: list[tuple[str, str]] | None = None
        self.body: Any = None
        self.json_body = True

    @property
    def request(self) -> Request:
        """The request, created the first time a step asks for it (a WebSocket route's socket)."""
        if self.connection is None:
            size, forms = self.limits
            self.connection = Request(
                self.scope, self.receive, self.send, max_body_size=size, form_limits=forms
            )
        request: Request = self.connection
        return request

    def response(self) -> Response:
        """The ``Response`` a callable asked for, to set headers, cookies or a status on."""
        if self.sub_response is None:
            response = self.sub_response = Response()
            response.raw_headers.clear()
            response.status_code = 0  # 0: not set by the handler
        return self.sub_response

    def tasks(self) -> BackgroundTasks:
        """The ``BackgroundTasks`` shared by every callable of this request."""
        if self.background is None:
            self.background = BackgroundTasks()
        return self.background

    def parsed_body(self) -> Any:
        """The body as a 422 answer's ``body`` carries it: parsed JSON, text, or the form."""
        if self.form is not None:
            return self.form
        body = self.body
        if isinstance(body, bytes):
            try:
                return from_json(body)
            except ValueError:
                return body.decode("utf-8", "replace")
        return body


def _cookie_map(ctx: Context) -> Any:
    cookies = ctx.cookies
    if cookies is None:
        header = raw_header(ctx.scope, b"cookie")
        cookies = ctx.cookies = parse_cookies(header.decode("latin-1")) if header else {}
    return cookies


Collect = Callable[[Context], dict[str, Any]]


def _collector(location: str, group: LocationGroup) -> Collect:
    """The raw input of ``group``'s validator, each wanted value under the key it reads."""
    keys = group.model_keys or {spec.alias: spec.alias for spec in group.specs}
    many = {spec.alias: spec.sequence for spec in group.specs}
    not_extra = None
    if group.model_param is not None:  # the location's other values too, for ``extra``
        not_extra = {key for wire, key in keys.items() if key != wire}
    if location == "header":
        byte_keys = {wire.encode("latin-1"): wire for wire in keys}

        def collect_headers(ctx: Context) -> dict[str, Any]:
            raw: dict[str, Any] = {}
            others: list[tuple[str, str]] = []
            for name, value in ctx.scope["headers"]:
                wire = byte_keys.get(name)
                if wire is None:
                    if not_extra is not None:
                        others.append((name.decode("latin-1"), value.decode("latin-1")))
                elif many[wire]:
                    raw.setdefault(keys[wire], []).append(value.decode("latin-1"))
                elif keys[wire] not in raw:
                    raw[keys[wire]] = value.decode("latin-1")
            return _add_extras(raw, others, not_extra) if others else raw

        return collect_headers
    if location == "query":

        def collect_query(ctx: Context) -> dict[str, Any]:
            raw: dict[str, Any] = {}
            others: list[tuple[str, str]] = []
            pairs = ctx.query
            if pairs is None:
                pairs = ctx.query = parse_query(ctx.scope.get("query_string", b""))
            for name, value in pairs:
                key = keys.get(name)
                if key is None:
                    if not_extra is not None:
                        others.append((name, value))
                elif many[name]:
                    raw.setdefault(key, []).append(value)
                else:
                    raw[key] = value
            return _add_extras(raw, others, not_extra) if others else raw

        return collect_query
    source = _cookie_map if location == "cookie" else lambda ctx: ctx.scope["path_params"]

    def collect(ctx: Context) -> dict[str, Any]:
        found = source(ctx)
        raw = {keys[w]: [found[w]] if many[w] else found[w] for w in keys if w in found}
        if not_extra is not None:
            others = [(name, value) for name, value in found.items() if name not in keys]
            return _add_extras(raw, others, not_extra)
        return raw

    return collect


def _add_extras(
    raw: dict[str, Any], others: list[tuple[str, str]], not_extra: set[str] | None
) -> dict[str, Any]:
    grouped: dict[str, list[str]] = {}
    for name, value in others:
        grouped.setdefault(name, []).append(value)
    for name, found in grouped.items():
        if not_extra is None or name not in not_extra:
            raw[name] = found[0] if len(found) == 1 else found
    return raw


def location_reader(group: LocationGroup) -> Reader:
    """The reader of one callable's parameters of one location (see :class:`LocationGroup`)."""
    location = group.location
    collect = _collector(location, group)
    validate = group.validate
    if validate is None:
        return _text_reader(location, collect, group.specs)
    names = tuple((spec.name, f"f{index}") for index, spec in enumerate(group.specs))
    model_param = group.model_param
    default = group.default
    model_keys = tuple(group.model_keys.values())
    wire_names = {key: wire for wire, key in group.model_keys.items() if key != wire}

    def read(ctx: Context, values: dict[str, Any]) -> None:
        raw = collect(ctx)
        try:
            if model_param is None:
                fields = validate(raw)
                if type(fields) is not dict:
                    fields = fields.__dict__
                for name, key in names:
                    values[name] = fields[key]
            elif default is not PydanticUndefined and not any(key in raw for key in model_keys):
                values[model_param] = default  # an optional model of which nothing was sent
            else:
                values[model_param] = validate(raw)
        except ValidationError as exc:
            errors = validation_errors(exc, (location,), missing_input=model_param is not None)
            for error in errors:  # a model field is reported under its wire name
                loc = error["loc"]
                if len(loc) > 1 and loc[1] in wire_names:
                    loc[1] = wire_names[loc[1]]
            ctx.errors.extend(errors)

    return read


def _text_reader(location: str, collect: Collect, specs: Sequence[FieldSpec]) -> Reader:
    """Unconstrained text parameters: valid when there (or defaulted), else reported missing."""
    fields = tuple((spec.name, spec.alias, spec.field.default) for spec in specs)

    def read(ctx: Context, values: dict[str, Any]) -> None:
        raw = collect(ctx)
        for name, alias, default in fields:
            value = raw.get(alias, default)
            if value is PydanticUndefined:
                ctx.errors.append(missing_error([location, alias]))
            else:
                values[name] = value

    return read


async def read_json_body(*, ctx: Context, through_request: bool) -> None:
    """Read the whole body once, before any callable runs, for the JSON body readers: through
    the ``Request`` when a callable is handed one (it may ask for the body again), else
    straight from ``receive``, without making one."""
    if through_request:
        ctx.body = await ctx.request.body()
    else:
        ctx.body = await read_body(ctx.scope, ctx.receive, ctx.limits[0])
    content_type = raw_header(ctx.scope, b"content-type")
    if content_type is not None and content_type != b"application/json":
        media = content_type.split(b";", 1)[0].strip().lower()
        ctx.json_body = media == b"application/json" or media.endswith(b"+json")


_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


async def form_values(*, ctx: Context, specs: Sequence[FieldSpec]) -> None:
    """Parse the form (once, before any callable runs) and keep the values ``specs`` want, by
    alias: an empty field or file input counts as not sent, a ``File`` typed ``bytes`` gets the
    content. Another content type reads as an empty form (its fields are reported missing)."""
    request = ctx.request
    content_type = (request.headers.get("content-type") or "").lower()
    form = ctx.form = await request.form() if content_type.startswith(_FORM_TYPES) else FormData()
    raw: dict[str, Any] = {}
    for spec in specs:
        alias = spec.alias
        found: Any
        if spec.sequence:
            found = [item for item in form.getlist(alias) if not _empty_input(item)]
        else:
            found = form.get(alias)
        if found is None or found == [] or _empty_input(found):
            continue
        if isinstance(spec.marker, File) and not is_upload(spec.annotation):
            found = [await item.read() for item in found] if spec.sequence else await found.read()
        raw[alias] = found
    ctx.body = raw


def _empty_input(value: Any) -> bool:
    """An empty text field, or a file input with no file chosen (what browsers send)."""
    if isinstance(value, str):
        return value == ""
    return isinstance(value, UploadFile) and not value.filename and not value.size


def body_reader(spec: BodySpec) -> Reader:
    """The reader of one callable's body parameters, from what :func:`read_json_body` or
    :func:`form_values` read."""
    names = spec.names
    if spec.form:
        validate_form = spec.validator.validate_python
        aliases = tuple(field.alias for field in spec.specs)

        def read_form(ctx: Context, values: dict[str, Any]) -> None:
            found = ctx.body
            raw = {alias: found[alias] for alias in aliases if alias in found}
            try:
                fields = validate_form(raw).__dict__
            except ValidationError as exc:
                ctx.errors.extend(validation_errors(exc, ("body",), missing_input=False))
                return
            for name, key in names:
                values[name] = fields[key]

        return read_form
    validator = spec.validator
    whole = spec.model is None

    def read_json(ctx: Context, values: dict[str, Any]) -> None:
        body = ctx.body
        if not body:
            _missing_body(spec, ctx, values)
            return
        try:
            if ctx.json_body:
                validated = validator.validate_json(body)
            else:
                validated = validator.validate_python(body)
        except ValidationError as exc:
            validated = _retry_body(spec, ctx, exc)
            if validated is None:
                return
        if whole:
            values[spec.specs[0].name] = validated
        else:
            fields = validated.__dict__
            for name, key in names:
                values[name] = fields[key]

    return read_json


def _missing_body(spec: BodySpec, ctx: Context, values: dict[str, Any]) -> None:
    if spec.required:
        if spec.model is None:
            ctx.errors.append(missing_error(["body"]))
        else:  # embedded values: each one the handler requires is missing
            required = (field for field in spec.specs if field.required)
            ctx.errors.extend(missing_error(["body", field.alias]) for field in required)
        return
    for field in spec.specs:
        values[field.name] = field.field.get_default(call_default_factory=True)


def _retry_body(spec: BodySpec, ctx: Context, exc: ValidationError) -> Any:
    """A body that failed in JSON mode, validated again parsed and in Python mode (as FastAPI)."""
    body: bytes = ctx.body
    if exc.error_count() > MAX_BODY_ERRORS:
        ctx.errors.extend(body_errors(spec, body, ctx.json_body, exc))
        return None
    data: Any = body
    if ctx.json_body:
        try:
            if any(error["type"] == "json_invalid" and not error["loc"] for error in exc.errors()):
                raise ValueError("not JSON")
            data = from_json(body)
        except ValueError:
            # As FastAPI: a body that is not JSON is the only error reported.
            text = body.decode("utf-8", "replace")
            raise RequestValidationError([json_invalid_error(body, exc)], body=text) from None
    if spec.model is not None:
        if isinstance(data, bytes):
            data = {}  # not JSON: no embedded value given
        elif not isinstance(data, dict):
            ctx.errors.extend(missing_error(["body", field.alias]) for field in spec.specs)
            return None
    try:
        return spec.validator.validate_python(data, from_attributes=True)
    except ValidationError as error:
        errors = validation_errors(error, ("body",))
        if spec.model is not None:
            for item in errors:  # a missing key: no input, as for a parameter
                if item["type"] == "missing" and len(item["loc"]) == 2:
                    item["input"] = None
        ctx.errors.extend(errors)
        return None
