"""Running a compiled plan for one request: read, validate, resolve dependencies.

A :class:`Solver` lives for one request. It reads each location's raw values only for the names
the plan declared, validates each group with its prepared pydantic model, resolves dependencies
(once per request unless ``use_cache=False``, ``yield`` ones entered into an exit stack), and
collects every validation error before raising one :class:`RequestValidationError`.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from pydantic import ValidationError
from pydantic_core import PydanticUndefined, from_json

from framework.background import BackgroundTasks
from framework.concurrency import run_in_threadpool
from framework.exceptions import RequestValidationError
from framework.handlers.annotations import is_upload
from framework.handlers.compile import (
    BodySpec,
    Dependant,
    LocationGroup,
    compile_override,
)
from framework.handlers.errors import (
    MAX_BODY_ERRORS,
    first_errors,
    json_invalid_error,
    missing_error,
    validation_errors,
)
from framework.handlers.params import File, SecurityScopes
from framework.http.datastructures import Headers, parse_query
from framework.http.forms import UploadFile
from framework.http.requests import HTTPConnection, Request, parse_cookies, raw_header
from framework.http.responses import Response
from framework.types import Receive, Scope, Send

__all__ = [
    "MAX_BODY_ERRORS",
    "Plan",
    "Solver",
    "Step",
    "json_invalid_error",
    "parse_location",
    "run_plain",
    "solve_flat",
    "validate_group",
    "validation_errors",
]

_FAILED: Any = object()


class _ThreadedContext:
    """A sync context manager (a ``yield`` dependency) entered and exited in a worker thread."""

    def __init__(self, manager: contextlib.AbstractContextManager[Any]) -> None:
        self.manager = manager

    async def __aenter__(self) -> Any:
        return await run_in_threadpool(self.manager.__enter__)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool | None:
        return await run_in_threadpool(self.manager.__exit__, exc_type, exc, traceback)


@dataclasses.dataclass(frozen=True)
class Step:
    """One callable of a plan: its dependant, where its dependencies' results are (parameter
    name or None, slot), and the security scopes required down to it."""

    dependant: Dependant
    inputs: tuple[tuple[str | None, int], ...]
    scopes: tuple[str, ...]

    @property
    def reads_request(self) -> bool:
        """Whether the callable takes anything from the request besides dependency results."""
        dependant = self.dependant
        return bool(
            dependant.trusted_path or dependant.groups or dependant.injects or dependant.body
        )


class Plan:
    """A dependant tree flattened, once, into the order its callables run: dependencies before
    the callables that need them, a cached dependency (same callable and scopes) only once. The
    last step is the handler. A request runs the steps in a loop, without recursion.
    """

    def __init__(self, root: Dependant, overrides: Mapping[Any, Any] | None = None) -> None:
        self.root = root
        self.steps: list[Step] = []
        self._slots: dict[Any, int] = {}
        self._add(root, (), overrides, root=True)
        # (step, reads from the request, a plain async callable) for the loop in Solver.run
        self.program = tuple(
            (
                step,
                step.reads_request,
                step.dependant.is_async and step.dependant.context_manager is None,
            )
            for step in self.steps[:-1]
        )
        self.has_generators = any(
            step.dependant.is_generator or step.dependant.is_async_generator for step in self.steps
        )
        # For run_plain, when no callable has a body, an injected object or a yield.
        self.plain: PlainProgram | None = None
        if all(_is_plain(step.dependant) for step in self.steps):
            self.plain = PlainProgram(self.steps)
        self.calls = {dependant.call for dependant in root.walk()}
        self._with_overrides: dict[Any, Plan] = {}

    def _add(
        self,
        dependant: Dependant,
        parent_scopes: tuple[str, ...],
        overrides: Mapping[Any, Any] | None,
        root: bool = False,
    ) -> int:
        if overrides and not root and dependant.call in overrides:
            dependant = _overridden(dependant, overrides[dependant.call])
        scopes = (*parent_scopes, *dependant.scopes)
        key = None
        if dependant.use_cache and not root:
            key = (dependant.call, frozenset(scopes))
            if key in self._slots:
                return self._slots[key]
        inputs = tuple(
            (sub.name, self._add(sub, scopes, overrides)) for sub in dependant.dependencies
        )
        self.steps.append(Step(dependant, inputs, scopes))
        slot = len(self.steps) - 1
        if key is not None:
            self._slots[key] = slot
        return slot

    def for_overrides(self, overrides: Mapping[Any, Any]) -> Plan:
        """This plan with ``app.dependency_overrides`` applied (built once per set in use)."""
        key = tuple((call, overrides[call]) for call in self.calls if call in overrides)
        if not key:
            return self
        plan = self._with_overrides.get(key)
        if plan is None:
            if len(self._with_overrides) > 64:
                self._with_overrides.clear()  # overrides are for tests; keep this bounded
            plan = self._with_overrides[key] = Plan(self.root, overrides)
        return plan


def _is_plain(dependant: Dependant) -> bool:
    return dependant.body is None and not dependant.injects and dependant.context_manager is None


class PlainProgram:
    """The steps of a plan whose callables read only path, query, header and cookie values and
    each other's results, in the compact form :func:`run_plain` loops over."""

    __slots__ = ("handler", "steps")

    def __init__(self, steps: list[Step]) -> None:
        # Per dependency: (call, is_async, named inputs, all input slots, the dependant if it
        # reads the request else None); the handler: the same, its call included.
        self.steps = tuple(_plain_step(step) for step in steps[:-1])
        self.handler = _plain_step(steps[-1])


def _plain_step(
    step: Step,
) -> tuple[Any, bool, tuple[tuple[str, int], ...], tuple[int, ...], Dependant | None]:
    dependant = step.dependant
    named = tuple((name, slot) for name, slot in step.inputs if name is not None)
    slots = tuple(slot for _, slot in step.inputs)
    reads = dependant if dependant.trusted_path or dependant.groups else None
    return dependant.call, dependant.is_async, named, slots, reads


def _overridden(dependant: Dependant, replacement: Any) -> Dependant:
    compiled = dependant.overrides.get(replacement)
    if compiled is None:
        compiled = dependant.overrides[replacement] = compile_override(dependant, replacement)
    return compiled


class Solver:
    """Runs a :class:`Plan` for one request or WebSocket connection."""

    __slots__ = (
        "_connection",
        "_sources",
        "background",
        "body",
        "errors",
        "max_body_size",
        "receive",
        "responding",
        "scope",
        "send",
        "stack",
        "sub_response",
    )

    def __init__(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        *,
        connection: HTTPConnection | None = None,
        max_body_size: int | None = None,
        stack: contextlib.AsyncExitStack | None = None,
    ) -> None:
        self.scope = scope
        self.receive = receive
        self.send = send
        self._connection = connection
        self.max_body_size = max_body_size
        self.stack = stack
        self.errors: list[dict[str, Any]] = []
        self.sub_response: Response | None = None
        self.background: BackgroundTasks | None = None
        self.body: Any = None
        self.responding = False  # set once the response starts: later errors are not answered
        self._sources: dict[str, Any] = {}

    @property
    def connection(self) -> HTTPConnection:
        """The Request (or WebSocket) of this call, created when first needed."""
        if self._connection is None:
            self._connection = Request(
                self.scope, self.receive, self.send, max_body_size=self.max_body_size
            )
        return self._connection

    @property
    def request(self) -> Request | None:
        """The Request, if one was created (the WebSocket is not one)."""
        connection = self._connection
        return connection if isinstance(connection, Request) else None

    async def run(self, plan: Plan) -> dict[str, Any]:
        """Run every dependency and return the handler's keyword arguments.

        Every step validates its own parameters, so all problems are reported together; a
        callable whose parameters or dependencies failed is not called. Raises
        RequestValidationError when anything failed.
        """
        overrides = getattr(self.scope.get("app"), "dependency_overrides", None)
        if overrides:
            plan = plan.for_overrides(overrides)
        results: list[Any] = []
        errors = self.errors
        for step, reads_request, plain_async in plan.program:
            dependant = step.dependant
            values: dict[str, Any] = {}
            usable = True
            for name, slot in step.inputs:
                value = results[slot]
                if value is _FAILED:
                    usable = False
                elif name is not None:
                    values[name] = value
            if reads_request:
                errors_before = len(errors)
                self._fill(dependant, values, step.scopes)
                if dependant.body is not None:
                    await self._read_body(dependant.body, values)
                usable = usable and len(errors) == errors_before
            if not usable:
                results.append(_FAILED)
            elif plain_async:
                results.append(await dependant.call(**values))
            else:
                results.append(await self._call(dependant, values))
        # The handler itself: its arguments, validated like the others.
        step = plan.steps[-1]
        dependant = step.dependant
        values = {}
        for name, slot in step.inputs:
            if name is not None:
                values[name] = results[slot]
        if dependant.trusted_path or dependant.groups or dependant.injects:
            self._fill(dependant, values, step.scopes)
        if dependant.body is not None:
            await self._read_body(dependant.body, values)
        if errors:
            raise RequestValidationError(errors, body=self._parsed_body())
        return values

    def _parsed_body(self) -> Any:
        if isinstance(self.body, bytes):
            try:
                return from_json(self.body)
            except ValueError:
                return self.body.decode("utf-8", "replace")
        return self.body

    # -- one callable -------------------------------------------------------------------------

    def _fill(self, dependant: Dependant, values: dict[str, Any], scopes: tuple[str, ...]) -> None:
        """The arguments read from the request (all but the body) and the injected objects."""
        if dependant.trusted_path:
            path_params = self.scope["path_params"]
            for name, alias in dependant.trusted_path:
                values[name] = path_params[alias]
        for group in dependant.groups:
            self._validate_group(group, values)
        if dependant.injects:
            if dependant.connection_param is not None:
                values[dependant.connection_param] = self.connection
            if dependant.response_param is not None:
                values[dependant.response_param] = self._sub_response()
            if dependant.background_param is not None:
                if self.background is None:
                    self.background = BackgroundTasks()
                values[dependant.background_param] = self.background
            if dependant.scopes_param is not None:
                values[dependant.scopes_param] = SecurityScopes(list(scopes))

    async def _call(self, dependant: Dependant, values: dict[str, Any]) -> Any:
        if dependant.context_manager is not None:  # a yield dependency
            if self.stack is None:
                raise RuntimeError("A yield dependency needs the route's exit stack")
            manager = dependant.context_manager(**values)
            if dependant.is_async_generator:
                return await self.stack.enter_async_context(manager)
            return await self.stack.enter_async_context(_ThreadedContext(manager))
        if dependant.is_async:
            return await dependant.call(**values)
        return await run_in_threadpool(dependant.call, **values)

    def _sub_response(self) -> Response:
        if self.sub_response is None:
            response = Response()
            response.raw_headers.clear()
            response.status_code = 0  # 0: not set by the handler
            self.sub_response = response
        return self.sub_response

    # -- locations ----------------------------------------------------------------------------

    def _validate_group(self, group: LocationGroup, values: dict[str, Any]) -> None:
        location = group.location
        source = self._sources.get(location)
        if source is None:
            source = self._sources[location] = parse_location(location, self.scope)
        errors = validate_group(group, source, values)
        if errors:
            self.errors.extend(errors)

    async def _read_body(self, spec: BodySpec, values: dict[str, Any]) -> None:
        request = self.connection
        if not isinstance(request, Request):
            raise RuntimeError("Body parameters need an HTTP request")
        if spec.form:
            await self._read_form(request, spec, values)
            return
        body = self.body = await request.body()
        if not body:
            self._missing_body(spec, values)
            return
        content_type = raw_header(self.scope, b"content-type")
        is_json = content_type is None or _is_json(content_type)
        try:
            if spec.model is not None:
                validator = spec.model.__pydantic_validator__
                validated = (
                    validator.validate_json(body) if is_json else validator.validate_python(body)
                )
                fields = validated.__dict__
                for name, key in spec.names:
                    values[name] = fields[key]
            else:
                validator = spec.validator
                value = (
                    validator.validate_json(body) if is_json else validator.validate_python(body)
                )
                values[spec.specs[0].name] = value
        except ValidationError as exc:
            self._body_failed(spec, body, is_json, exc, values)

    def _body_failed(
        self,
        spec: BodySpec,
        body: bytes,
        is_json: bool,
        exc: ValidationError,
        values: dict[str, Any],
    ) -> None:
        """The body did not pass the fast path (JSON mode): validate it again as FastAPI does,
        parsed first and then in Python mode, to report the same errors (and accept the rare
        value only Python mode takes)."""
        if exc.error_count() > MAX_BODY_ERRORS:
            self.errors.extend(first_errors(spec, body, is_json, exc))
            return
        if is_json:
            try:
                if any(
                    error["type"] == "json_invalid" and not error["loc"] for error in exc.errors()
                ):
                    raise ValueError("not JSON")
                data = from_json(body)
            except ValueError:
                # As FastAPI: a body that is not JSON is the only error reported.
                text = body.decode("utf-8", "replace")
                raise RequestValidationError([json_invalid_error(body, exc)], body=text) from None
        else:
            data = body
        try:
            if spec.model is None:
                value = spec.validator.validate_python(data, from_attributes=True)
                values[spec.specs[0].name] = value
                return
            if isinstance(data, bytes):
                data = {}  # not JSON: no embedded value given
            elif not isinstance(data, dict):
                for field_spec in spec.specs:  # FastAPI reports each one missing
                    self.errors.append(missing_error(["body", field_spec.alias]))
                return
            validated = spec.model.__pydantic_validator__.validate_python(
                data, from_attributes=True
            )
        except ValidationError as error:
            errors = validation_errors(error, ("body",))
            if spec.model is not None:
                for item in errors:  # a missing key: no input, as for a parameter
                    if item["type"] == "missing" and len(item["loc"]) == 2:
                        item["input"] = None
            self.errors.extend(errors)
            return
        fields = validated.__dict__
        for name, key in spec.names:
            values[name] = fields[key]

    def _missing_body(self, spec: BodySpec, values: dict[str, Any]) -> None:
        if spec.required:
            if spec.model is None:
                self.errors.append(missing_error(["body"]))
            else:  # embedded values: each one the handler requires is missing
                self.errors.extend(
                    missing_error(["body", field_spec.alias])
                    for field_spec in spec.specs
                    if field_spec.required
                )
            return
        for field_spec in spec.specs:
            values[field_spec.name] = field_spec.field.get_default(call_default_factory=True)

    async def _read_form(self, request: Request, spec: BodySpec, values: dict[str, Any]) -> None:
        content_type = (request.headers.get("content-type") or "").lower()
        form_types = ("multipart/form-data", "application/x-www-form-urlencoded")
        # Another content type reads as an empty form: its fields are then reported missing.
        form = await request.form() if content_type.startswith(form_types) else None
        self.body = form
        raw: dict[str, Any] = {}
        for field_spec in spec.specs:
            if form is None:
                break
            alias = field_spec.alias
            found: Any
            if field_spec.sequence:
                found = [
                    item
                    for item in form.getlist(alias)
                    if isinstance(item, str) or not _empty_input(item)
                ]
            else:
                found = form.get(alias)
            if found is None or found == [] or _empty_input(found):
                continue  # an empty field of an HTML form means "not given"
            if isinstance(field_spec.marker, File) and not is_upload(field_spec.annotation):
                found = await _read_files(found)
            raw[alias] = found
        assert spec.model is not None
        try:
            validated = spec.model.__pydantic_validator__.validate_python(raw)
        except ValidationError as exc:
            self.errors.extend(validation_errors(exc, ("body",), missing_input=False))
            return
        fields = validated.__dict__
        for name, key in spec.names:
            values[name] = fields[key]


def parse_location(location: str, scope: Scope) -> Any:
    """What a location's values are read from, parsed once per request: the query string's
    pairs, the raw header list, the cookies, or the path parameters."""
    if location == "query":
        return parse_query(scope.get("query_string", b""))
    if location == "header":
        return scope["headers"]
    if location == "cookie":
        header = Headers(scope=scope).get("cookie")
        return parse_cookies(header) if header else {}
    return scope.get("path_params", {})


def _collect(group: LocationGroup, source: Any) -> dict[str, Any]:
    """The raw values of ``group``'s names (a repeated scalar keeps its last value)."""
    raw: dict[str, Any] = {}
    wanted = group.wanted
    if group.location in ("query", "header"):
        decode = group.location == "header"
        for key, value in source:
            if decode:
                key = group.header_names.get(key)
                if key is None:
                    continue
                value = value.decode("latin-1")
            sequence = wanted.get(key)
            if sequence is None:
                continue
            if sequence:
                raw.setdefault(key, []).append(value)
            elif decode:
                raw.setdefault(key, value)  # a repeated header: the first, as Headers.get
            else:
                raw[key] = value
    else:
        for key, sequence in wanted.items():
            if key in source:
                raw[key] = [source[key]] if sequence else source[key]
    return raw


def _validate_text(
    group: LocationGroup, source: Any, values: dict[str, Any]
) -> list[dict[str, Any]] | None:
    """:func:`validate_group` for a group of unconstrained text values (``group.text``): a
    value that is there (or has a default) is valid, one that is missing is reported as pydantic
    would. Picked as :func:`_collect` does, in fewer steps."""
    raw: dict[str, Any] = {}
    location = group.location
    if location == "header":
        names = group.header_names
        for key, value in source:
            alias = names.get(key)
            if alias is not None and alias not in raw:  # a repeated header: the first
                raw[alias] = value.decode("latin-1")
    elif location == "query":
        wanted = group.wanted
        for key, value in source:
            if key in wanted:
                raw[key] = value  # a repeated name: the last
    else:
        for key in group.wanted:
            if key in source:
                raw[key] = source[key]
    missing: list[dict[str, Any]] | None = None
    for name, alias, default in group.text or ():
        value = raw.get(alias, default)
        if value is PydanticUndefined:
            missing = missing or []
            missing.append(missing_error([location, alias]))
        else:
            values[name] = value
    return missing


def _collect_model(group: LocationGroup, source: Any) -> dict[str, Any]:
    """A model group's input: its fields under the model's keys, and every other value of the
    location under its own name (repeated: a list), so ``extra="forbid"`` rejects them."""
    raw: dict[str, Any] = {}
    extras: dict[str, list[Any]] = {}
    keys = group.model_keys
    wanted = group.wanted
    if group.location in ("query", "header"):
        header = group.location == "header"
        for name, value in source:
            if header:
                name, value = name.decode("latin-1"), value.decode("latin-1")
            key = keys.get(name)
            if key is None:
                extras.setdefault(name, []).append(value)
            elif wanted[name]:
                raw.setdefault(key, []).append(value)
            elif not header or key not in raw:
                raw[key] = value
    else:
        for name, value in source.items():
            key = keys.get(name)
            if key is None:
                extras[name] = [value]
            else:
                raw[key] = [value] if wanted[name] else value
    for name, found in extras.items():
        if name not in group.wire_names:  # a field's own name is not an extra value
            raw[name] = found[0] if len(found) == 1 else found
    return raw


def validate_group(
    group: LocationGroup, source: Any, values: dict[str, Any]
) -> list[dict[str, Any]] | None:
    """Validate one group from its parsed location into ``values``; the errors, if any."""
    if group.text is not None:  # unconstrained text: present (or defaulted) is valid
        return _validate_text(group, source, values)
    model_param = group.model_param
    model_group = model_param is not None
    try:
        raw = _collect_model(group, source) if model_group else _collect(group, source)
        if (
            model_param is not None
            and group.default is not PydanticUndefined
            and not any(key in raw for key in group.model_keys.values())
        ):
            values[model_param] = group.default  # an optional group of which nothing was sent
            return None
        validated = group.validator.validate_python(raw)
    except ValidationError as exc:
        errors = validation_errors(exc, (group.location,), missing_input=model_group)
        if group.wire_names:
            for error in errors:
                loc = error["loc"]
                if len(loc) > 1 and loc[1] in group.wire_names:
                    loc[1] = group.wire_names[loc[1]]
        return errors
    if group.model_param is not None:
        values[group.model_param] = validated
    else:
        fields = validated if type(validated) is dict else validated.__dict__
        for name, key in group.names:
            values[name] = fields[key]
    return None


def solve_flat(dependant: Dependant, scope: Scope) -> dict[str, Any]:
    """The arguments of a handler that only reads path, query, header and cookie values (no
    dependencies, body or injected objects besides the connection): no Solver needed."""
    values: dict[str, Any] = {}
    errors = _read(dependant, scope, values, {})
    if errors:
        raise RequestValidationError(errors)
    return values


async def run_plain(program: PlainProgram, scope: Scope) -> Any:
    """Run a plan whose callables read only path, query, header and cookie values and each
    other's results (``Plan.plain``: no body, no injected objects, no ``yield``), handler
    included, and return what the handler returned: :meth:`Solver.run` without a Solver.

    As there, every callable validates its own parameters, one whose parameters or dependencies
    failed is not called, and all errors are raised together as a RequestValidationError.
    """
    results: list[Any] = []
    errors: list[dict[str, Any]] = []
    sources: dict[str, Any] | None = None  # parsed locations, shared by the steps
    for call, is_async, named, slots, reads in program.steps:
        values: dict[str, Any] = {}
        for name, slot in named:
            values[name] = results[slot]
        if reads is not None:
            if sources is None:
                sources = {}
            found = _read(reads, scope, values, sources)
            if found:
                errors.extend(found)
                results.append(_FAILED)
                continue
        if errors and any(results[slot] is _FAILED for slot in slots):
            results.append(_FAILED)
        elif is_async:
            results.append(await call(**values))
        else:
            results.append(await run_in_threadpool(call, **values))
    call, is_async, named, slots, reads = program.handler
    values = {}
    for name, slot in named:
        values[name] = results[slot]
    if reads is not None:
        found = _read(reads, scope, values, {} if sources is None else sources)
        if found:
            errors.extend(found)
    if errors:
        raise RequestValidationError(errors)
    if is_async:
        return await call(**values)
    return await run_in_threadpool(call, **values)


def _read(
    dependant: Dependant, scope: Scope, values: dict[str, Any], sources: dict[str, Any]
) -> list[dict[str, Any]] | None:
    """Read and validate ``dependant``'s path, query, header and cookie values into ``values``;
    the errors, if any."""
    if dependant.trusted_path:
        path_params = scope["path_params"]
        for name, alias in dependant.trusted_path:
            values[name] = path_params[alias]
    errors = None
    for group in dependant.groups:
        location = group.location
        if location == "header":
            source = scope["headers"]  # parse_location's answer, without the call
        else:
            source = sources.get(location)
            if source is None:
                source = sources[location] = parse_location(location, scope)
        found = validate_group(group, source, values)
        if found:
            errors = found if errors is None else errors + found
    return errors


def _is_json(content_type: bytes) -> bool:
    if content_type == b"application/json":
        return True
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == b"application/json" or media.endswith(b"+json")


def _empty_input(value: Any) -> bool:
    """An empty text field, or a file input with no file chosen (what browsers send)."""
    if isinstance(value, str):
        return value == ""
    return isinstance(value, UploadFile) and not value.filename and not value.size


async def _read_files(found: Any) -> Any:
    """``File()`` parameters annotated ``bytes``: the uploads' contents."""
    if isinstance(found, list):
        return [await _read_files(item) for item in found]
    if isinstance(found, UploadFile):
        return await found.read()
    return found
