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
from pydantic_core import from_json

from framework.background import BackgroundTasks
from framework.concurrency import run_in_threadpool
from framework.datastructures import Headers, UploadFile, parse_query
from framework.dependencies import (
    BodySpec,
    Dependant,
    LocationGroup,
    compile_override,
    is_upload,
)
from framework.exceptions import RequestValidationError
from framework.params import File, SecurityScopes
from framework.requests import HTTPConnection, Request, parse_cookies, raw_header
from framework.responses import Response
from framework.types import Receive, Scope, Send

__all__ = [
    "Plan",
    "Solver",
    "Step",
    "parse_location",
    "solve_flat",
    "validate_group",
    "validation_errors",
]

_FAILED: Any = object()


def validation_errors(
    exc: ValidationError, prefix: tuple[str | int, ...], *, missing_input: bool = True
) -> list[dict[str, Any]]:
    """pydantic's errors in FastAPI's shape, ``loc`` prefixed with the location.

    ``missing_input`` keeps pydantic's input for a missing value (for bodies, the body); for
    parameters FastAPI reports ``None``. Values that JSON cannot carry become text.
    """
    result = []
    for error in exc.errors(include_url=False):
        item: dict[str, Any] = {
            "type": error["type"],
            "loc": [*prefix, *error["loc"]],
            "msg": error["msg"],
            "input": None if error["type"] == "missing" and not missing_input else error["input"],
        }
        if isinstance(item["input"], (bytes, bytearray)):
            item["input"] = bytes(item["input"]).decode("utf-8", "replace")
        if "ctx" in error:
            item["ctx"] = {key: _plain(value) for key, value in error["ctx"].items()}
        result.append(item)
    return result


def _plain(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)


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
        values = {name: results[slot] for name, slot in step.inputs if name is not None}
        self._fill(step.dependant, values, step.scopes)
        if step.dependant.body is not None:
            await self._read_body(step.dependant.body, values)
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
            self.errors.extend(validation_errors(exc, ("body",)))

    def _missing_body(self, spec: BodySpec, values: dict[str, Any]) -> None:
        if spec.required:
            self.errors.append(
                {"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}
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
            found = form.getlist(alias) if field_spec.sequence else form.get(alias)
            if found is None or found == []:
                continue
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
            else:
                raw[key] = value
    else:
        for key, sequence in wanted.items():
            if key in source:
                raw[key] = [source[key]] if sequence else source[key]
    return raw


def validate_group(
    group: LocationGroup, source: Any, values: dict[str, Any]
) -> list[dict[str, Any]] | None:
    """Validate one group from its parsed location into ``values``; the errors, if any."""
    try:
        validated = group.validator.validate_python(_collect(group, source))
    except ValidationError as exc:
        return validation_errors(exc, (group.location,), missing_input=False)
    if group.model_param is not None:
        values[group.model_param] = validated
    else:
        fields = validated.__dict__
        for name, key in group.names:
            values[name] = fields[key]
    return None


def solve_flat(dependant: Dependant, scope: Scope) -> dict[str, Any]:
    """The arguments of a handler that only reads path, query, header and cookie values (no
    dependencies, body or injected objects besides the connection): no Solver needed."""
    values: dict[str, Any] = {}
    if dependant.trusted_path:
        path_params = scope["path_params"]
        for name, alias in dependant.trusted_path:
            values[name] = path_params[alias]
    errors: list[dict[str, Any]] = []
    for group in dependant.groups:
        found = validate_group(group, parse_location(group.location, scope), values)
        if found:
            errors.extend(found)
    if errors:
        raise RequestValidationError(errors)
    return values


def _is_json(content_type: bytes) -> bool:
    if content_type == b"application/json":
        return True
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == b"application/json" or media.endswith(b"+json")


async def _read_files(found: Any) -> Any:
    """``File()`` parameters annotated ``bytes``: the uploads' contents."""
    if isinstance(found, list):
        return [await _read_files(item) for item in found]
    if isinstance(found, UploadFile):
        return await found.read()
    return found
