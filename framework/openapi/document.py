"""The OpenAPI 3.1 document of an app, built from the plans its routes compiled.

:func:`get_openapi` reads each route's :class:`~framework.handlers.compile.Dependant` tree (the same
plan a request runs): its path, query, header and cookie parameters, its body, its dependencies
and the security schemes among them; and the route's response model, status code, response class
and extra ``responses``. Every type that needs a JSON Schema is handed to pydantic's generator in
one call, which names the models, lifts them into ``#/components/schemas`` and splits a model
into ``Name-Input`` and ``Name-Output`` when it validates and serialises differently.

The result is the document FastAPI produces for the same app. Nothing here runs per request: the
app builds the document the first time it is asked for (``app.openapi()``) and keeps it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import http.client
import inspect
import re
import typing
import warnings
from collections.abc import Callable, Iterator, Sequence
from enum import IntEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AnyUrl,
    BaseModel,
    ConfigDict,
    PydanticSchemaGenerationError,
    TypeAdapter,
    ValidationError,
    create_model,
)
from pydantic.fields import FieldInfo
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import CoreSchema, PydanticUndefined
from typing_extensions import Unpack

from framework.encoders import jsonable_encoder
from framework.handlers.annotations import is_class
from framework.handlers.compile import BodySpec, Dependant, FieldSpec, LocationGroup
from framework.handlers.params import File, Form, Header, Param
from framework.http.responses import JSONResponse, Response
from framework.routing.route import BaseRoute, Route, RouteOptions
from framework.routing.router import Router

__all__ = [
    "METHODS_WITH_BODY",
    "REF_PREFIX",
    "REF_TEMPLATE",
    "DocumentationRouter",
    "generate_unique_id",
    "get_openapi",
    "path_format",
]

REF_PREFIX = "#/components/schemas/"
REF_TEMPLATE = REF_PREFIX + "{model}"
METHODS_WITH_BODY = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"})
"""Methods whose operations describe a request body (as FastAPI: GET and DELETE included)."""

Mode = Literal["validation", "serialization"]

VALIDATION_ERROR_SCHEMA: dict[str, Any] = {
    "title": "ValidationError",
    "type": "object",
    "properties": {
        "loc": {
            "title": "Location",
            "type": "array",
            "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
        },
        "msg": {"title": "Message", "type": "string"},
        "type": {"title": "Error Type", "type": "string"},
        "input": {"title": "Input"},
        "ctx": {"title": "Context", "type": "object"},
    },
    "required": ["loc", "msg", "type"],
}
"""One item of a 422 answer's ``detail`` list."""

HTTP_VALIDATION_ERROR_SCHEMA: dict[str, Any] = {
    "title": "HTTPValidationError",
    "type": "object",
    "properties": {
        "detail": {
            "title": "Detail",
            "type": "array",
            "items": {"$ref": REF_PREFIX + "ValidationError"},
        }
    },
}
"""The body of a 422 answer."""

_STATUS_RANGES = {
    "1XX": "Information",
    "2XX": "Success",
    "3XX": "Redirection",
    "4XX": "Client Error",
    "5XX": "Server Error",
    "DEFAULT": "Default Response",
}
_LOCATIONS = ("path", "query", "header", "cookie")
_CONVERTOR = re.compile(r"{([^{}:]+):[^{}]*}")
_OPERATION_KEYS = (
    "tags",
    "summary",
    "description",
    "externalDocs",
    "operationId",
    "parameters",
    "requestBody",
    "responses",
    "callbacks",
    "deprecated",
    "security",
    "servers",
)
_NON_WORD = re.compile(r"\W")

try:  # pydantic >= 2.12 warns about Field options a bare type cannot use; those are expected
    from pydantic.warnings import UnsupportedFieldAttributeWarning as _FieldWarning
except ImportError:  # pragma: no cover - older pydantic
    _FieldWarning = UserWarning  # type: ignore[misc,assignment]


def path_format(path: str) -> str:
    """A route path as OpenAPI writes it: ``/items/{item_id:int}`` -> ``/items/{item_id}``."""
    return _CONVERTOR.sub(r"{\1}", path)


def generate_unique_id(route: Route) -> str:
    """The default ``operationId`` of a route, as FastAPI derives it: the function name, the path
    and the (first) method, other characters than letters, digits and ``_`` made ``_``:
    ``read_item`` on ``GET /items/{item_id}`` gives ``read_item_items__item_id__get``."""
    method = _declared_methods(route)[0]
    return _NON_WORD.sub("_", route.name + path_format(route.path)) + "_" + method.lower()


def _declared_methods(route: Route) -> list[str]:
    """The methods the route was declared with (a GET route's implied HEAD left out)."""
    methods = route.methods - {"HEAD"} if route.implicit_head else route.methods
    return sorted(methods)


class DocumentationRouter(Router):
    """Operations that are described in the document but not served: webhooks (``app.webhooks``)
    and callbacks (``callbacks=router.routes`` on a route).

    Paths are kept as written: a webhook's name (``"new-subscription"``) or a callback's URL
    expression (``"{$callback_url}/invoices/{$request.body.id}"``). The endpoints' signatures
    describe the request the API sends, as they would for a route.
    """

    def add_api_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        methods: Sequence[str] | None = None,
        **options: Unpack[RouteOptions],
    ) -> None:
        """Describe ``endpoint`` under ``path`` (any text) and ``methods`` (GET by default)."""
        full = self.prefix + path
        merged = self._route_options(options)
        try:
            route = Route(full, endpoint, methods=methods, **merged)
        except ValueError:  # not a route path: described without path parameters
            route = Route("/", endpoint, methods=methods, **merged)
            route.path = full
        self.routes.append(route)  # described only: not in the path index


# -- JSON Schemas -----------------------------------------------------------------------------


class SchemaGenerator(GenerateJsonSchema):
    """pydantic's generator, with ``bytes`` described as OpenAPI 3.1 (and FastAPI) do: a string
    of ``application/octet-stream`` content; a value it cannot describe (an arbitrary class)
    is left open (``{}``) instead of failing the whole document."""

    def handle_invalid_for_json_schema(self, schema: Any, error_info: str) -> JsonSchemaValue:
        """``{}``: any value."""
        return {}

    def bytes_schema(self, schema: Any) -> JsonSchemaValue:
        """``{"type": "string", "contentMediaType": "application/octet-stream"}``, base64 when
        the model's config says so."""
        result: dict[str, Any] = {
            "type": "string",
            "contentMediaType": "application/octet-stream",
        }
        config = self._config
        encoding = config.ser_json_bytes if self.mode == "serialization" else config.val_json_bytes
        if encoding == "base64":
            result["contentEncoding"] = "base64"
        self.update_with_validations(result, schema, self.ValidationsMapping.bytes)
        return result


Handle = tuple[int, Mode]


class _Schemas:
    """The types the document needs schemas for, generated together in one pydantic call.

    A type seen before (the same annotation and field options, as most apps repeat ``limit:
    int = 10`` or a response model across routes) reuses its core schema and its generated
    schema: each distinct one is built and generated once.
    """

    def __init__(self, separate_input_output: bool) -> None:
        self.separate = separate_input_output
        self.inputs: list[tuple[int, Mode, CoreSchema]] = []
        self.mapping: dict[Handle, JsonSchemaValue] = {}
        self.definitions: dict[str, Any] = {}
        self._core: dict[Any, CoreSchema] = {}  # cache key -> core schema
        self._handles: dict[tuple[int, Mode], Handle] = {}  # (id(core schema), mode) -> handle

    def add(
        self,
        annotation: Any,
        mode: Mode,
        *,
        config: Any = None,
        key: Any = None,
        core_schema: CoreSchema | None = None,
    ) -> Handle:
        """Register ``annotation`` (a type, or ``Annotated`` with a ``FieldInfo``).

        ``key`` (hashable) identifies it for reuse; ``core_schema``, when given, is its already
        built pydantic-core schema.
        """
        if key is None:
            key = _type_key(annotation)
        if key is not None:
            key = (key, _config_key(config))
        cached = self._core.get(key) if key is not None else None
        if cached is not None:
            core_schema = cached
        if core_schema is None:
            core_schema = _core_schema(annotation, config)
        if key is not None:
            self._core[key] = core_schema
        if not self.separate and not _has_computed_fields(annotation, core_schema):
            mode = "validation"
        identity = (id(core_schema), mode)
        handle = self._handles.get(identity)
        if handle is None:
            handle = self._handles[identity] = (len(self.inputs), mode)
            self.inputs.append((handle[0], mode, core_schema))
        return handle

    def generate(self) -> None:
        """Generate every registered schema, and the definitions they refer to."""
        generator = SchemaGenerator(ref_template=REF_TEMPLATE)
        mapping, definitions = generator.generate_definitions(inputs=self.inputs)
        self.mapping = dict(mapping)
        for definition in definitions.values():
            text = definition.get("description")
            if isinstance(text, str):  # a docstring's part after a form feed is private
                definition["description"] = text.split("\f")[0]
        self.definitions = {str(name): value for name, value in definitions.items()}

    def schema(self, handle: Handle, title: str) -> dict[str, Any]:
        """The schema of a registered type; one that is not a reference gets ``title``."""
        result = dict(self.mapping[handle])
        if "$ref" not in result:
            result["title"] = title
        return result


def _core_schema(annotation: Any, config: Any) -> CoreSchema:
    """pydantic-core's schema of ``annotation``. A type pydantic cannot describe (a plain class
    the route accepts as an arbitrary type) gets an empty JSON Schema, not a broken document."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", _FieldWarning)
        try:
            return TypeAdapter(annotation, config=config).core_schema
        except PydanticSchemaGenerationError:
            if config is not None:
                raise
            lenient = ConfigDict(arbitrary_types_allowed=True)
            return TypeAdapter(annotation, config=lenient).core_schema


def _type_key(annotation: Any) -> Any:
    """A cache key for a bare type, or None for one that cannot be hashed."""
    try:
        hash(annotation)
    except TypeError:
        return None
    return ("type", annotation)


def _field_key(annotation: Any, field: FieldInfo) -> Any:
    """A cache key for a type with field options (default, constraints, description, ...)."""
    try:
        hash(annotation)
    except TypeError:
        return None
    return ("field", annotation, type(field.default), repr(field))


def _config_key(config: Any) -> Any:
    if config is None:
        return None
    try:
        items = tuple(sorted(config.items()))
        hash(items)
    except TypeError:
        return id(config)
    return items


def _has_computed_fields(annotation: Any, core_schema: Any = None) -> bool:
    """Whether the type holds a model (or dataclass) with computed fields: its output schema
    then differs from its input schema even when they are not separated."""
    if isinstance(core_schema, dict):
        inner = core_schema.get("schema")
        if isinstance(inner, dict) and inner.get("computed_fields"):
            return True
    return _computed_in(annotation, set())


def _computed_in(annotation: Any, seen: set[Any]) -> bool:
    if is_class(annotation) and issubclass(annotation, BaseModel):
        if annotation in seen:
            return False
        seen.add(annotation)
        if annotation.model_computed_fields:
            return True
        return any(_computed_in(f.annotation, seen) for f in annotation.model_fields.values())
    return any(_computed_in(arg, seen) for arg in typing.get_args(annotation))


def _title(name: str) -> str:
    """FastAPI's title of a parameter or body named ``name``: ``item_id`` -> ``Item Id``."""
    return name.title().replace("_", " ")


# -- what an operation needs, gathered before the schemas are generated ------------------------


@dataclasses.dataclass(eq=False)
class _Param:
    location: str
    name: str
    handle: Handle
    title: str
    required: bool
    description: str | None
    examples: Any
    deprecated: bool
    include: bool


@dataclasses.dataclass(eq=False)
class _Body:
    handle: Handle
    title: str
    required: bool
    media_type: str
    examples: Any


@dataclasses.dataclass(eq=False)
class _Operations:
    """One route's operations (one per declared method) before rendering."""

    route: Route
    unique_id: str
    params: list[_Param]
    body: _Body | None
    response: Handle | None
    extra_responses: dict[Any, Handle]
    security: list[tuple[Any, tuple[str, ...]]]
    callbacks: list[_Operations]


def _hashable_call(call: Any) -> Any:
    try:
        hash(call)
    except TypeError:
        return id(call)
    return call


def _is_security_scheme(call: Any) -> bool:
    """A dependency that declares a security scheme: it carries ``model`` (the OpenAPI Security
    Scheme Object) and ``scheme_name`` (its key in ``components.securitySchemes``)."""
    return (
        not inspect.isclass(call)
        and hasattr(call, "model")
        and isinstance(getattr(call, "scheme_name", None), str)
    )


def _uses_scopes(dependant: Dependant, cache: dict[int, bool]) -> bool:
    found = cache.get(id(dependant))
    if found is None:
        found = bool(
            dependant.scopes
            or dependant.scopes_param is not None
            or _is_security_scheme(dependant.call)
            or any(_uses_scopes(sub, cache) for sub in dependant.dependencies)
        )
        cache[id(dependant)] = found
    return found


def _walk(root: Dependant) -> Iterator[tuple[Dependant, tuple[str, ...], bool]]:
    """Each distinct dependant of the tree, depth first, with the OAuth2 scopes required along
    its branch and whether it is the root. A dependency used twice (same callable, same scopes)
    is listed once, as it runs once."""
    seen: set[Any] = set()
    cache: dict[int, bool] = {}
    stack: list[tuple[Dependant, tuple[str, ...], bool]] = [(root, (), True)]
    while stack:
        dependant, parent_scopes, is_root = stack.pop()
        scopes = parent_scopes + tuple(s for s in dependant.scopes if s not in parent_scopes)
        used = tuple(sorted(set(scopes))) if _uses_scopes(dependant, cache) else ()
        key = (_hashable_call(dependant.call), used)
        if key in seen:
            continue
        seen.add(key)
        yield dependant, scopes, is_root
        stack.extend((sub, scopes, False) for sub in reversed(dependant.dependencies))


def _positions(call: Callable[..., Any]) -> dict[str, int]:
    """Each parameter's position in the signature, to list parameters in declaration order."""
    try:
        return {name: index for index, name in enumerate(inspect.signature(call).parameters)}
    except (TypeError, ValueError):
        return {}


def _wire_name(spec: FieldSpec) -> str:
    """The name of a parameter in the request, as declared (header aliases keep their case)."""
    marker = spec.marker
    if isinstance(marker, Header):
        if marker.alias is not None:
            return marker.alias
        return spec.name.replace("_", "-") if marker.convert_underscores else spec.name
    return spec.alias


def _model_wire_name(spec: FieldSpec) -> str:
    """The request name of a field of a parameter model (``Annotated[Model, Header()]``)."""
    key = spec.field.alias or spec.name
    marker = spec.marker
    if isinstance(marker, Header) and marker.convert_underscores and not spec.field.alias:
        return key.replace("_", "-")
    return key


def _location_entries(
    dependant: Dependant, location: str
) -> list[tuple[FieldSpec, LocationGroup | None]]:
    """The parameters of one callable in one location, in signature order: plain parameters
    and the fields of parameter models (with their group)."""
    runs: list[tuple[list[FieldSpec], LocationGroup | None]] = []
    if location == "path" and dependant.path_specs:
        runs.append((dependant.path_specs, None))
    for group in dependant.groups:
        if group.location != location or not group.specs:
            continue
        if group.model_param is not None:
            runs.append((group.specs, group))
        elif location != "path":  # path parameters are all in path_specs
            runs.append((group.specs, None))
    if len(runs) > 1:
        # Plain parameters and parameter models of one location: back to signature order.
        positions = _positions(dependant.call)
        pieces: list[tuple[int, int, FieldSpec, LocationGroup | None]] = []
        for specs, owner in runs:
            for index, spec in enumerate(specs):
                name = spec.name if owner is None else str(owner.model_param)
                pieces.append((positions.get(name, -1), index, spec, owner))
        pieces.sort(key=lambda piece: (piece[0], piece[1]))
        return [(spec, owner) for _, _, spec, owner in pieces]
    return [(spec, owner) for specs, owner in runs for spec in specs]


def _field_annotation(spec: FieldSpec) -> Any:
    """The type and field options of a parameter, as one ``Annotated`` for a TypeAdapter."""
    arguments = (spec.annotation, spec.field)
    return typing.cast(Any, Annotated)[arguments]


def _model_field_config(group: LocationGroup, spec: FieldSpec) -> Any:
    annotation = spec.annotation
    if (is_class(annotation) and issubclass(annotation, (BaseModel, dict))) or (
        dataclasses.is_dataclass(annotation)
    ):
        return None
    assert group.model is not None  # model groups always have their model
    return group.model.model_config


def _param(
    schemas: _Schemas, location: str, spec: FieldSpec, group: LocationGroup | None
) -> _Param:
    field: FieldInfo = spec.field
    if group is None:
        name = _wire_name(spec)
        handle = schemas.add(
            _field_annotation(spec), "validation", key=_field_key(spec.annotation, field)
        )
        required = field.is_required()
        examples = spec.marker.openapi_examples
    else:
        name = _model_wire_name(spec)
        handle = schemas.add(
            _field_annotation(spec),
            "validation",
            config=_model_field_config(group, spec),
            key=_field_key(spec.annotation, field),
        )
        required = field.is_required() and group.default is PydanticUndefined
        examples = getattr(field, "openapi_examples", None)
    # A model field's title comes from its key, a parameter's from its name in the request.
    titled = name if group is None else field.alias or spec.name
    return _Param(
        location=location,
        name=name,
        handle=handle,
        title=field.title or _title(titled),
        required=required,
        description=field.description,
        examples=examples,
        deprecated=bool(field.deprecated),
        include=spec.marker.include_in_schema,
    )


def _body(schemas: _Schemas, bodies: list[BodySpec], unique_id: str) -> _Body | None:
    """The request body of an operation: one value, or an object of the body parameters of
    every callable of the plan (named ``Body_<operation id>``)."""
    specs = [spec for body in bodies for spec in body.specs]
    if not specs:
        return None
    first = specs[0]
    embed = len({spec.name for spec in specs}) > 1 or any(body.embed for body in bodies)
    if not embed:
        body = bodies[0]
        whole = first.marker.field_info(None, first.field.default)
        annotation = typing.cast(Any, Annotated)[first.annotation, whole]
        handle = schemas.add(
            annotation,
            "validation",
            key=_field_key(first.annotation, whole),
            core_schema=body.adapter.core_schema if body.adapter is not None else None,
        )
        marker = first.marker
        return _Body(
            handle=handle,
            title=whole.title or _title(first.alias),
            required=first.required,
            media_type=getattr(marker, "media_type", "application/json"),
            examples=marker.openapi_examples,
        )
    fields: dict[str, Any] = {}
    for spec in specs:
        fields.setdefault(spec.name, (spec.annotation, spec.field))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", _FieldWarning)
        model: type[BaseModel] = create_model(f"Body_{unique_id}", **fields)
    return _Body(
        handle=schemas.add(model, "validation"),
        title=_title("body"),
        required=any(spec.required for spec in specs),
        media_type=_embedded_media_type([spec.marker for spec in specs]),
        examples=None,
    )


def _embedded_media_type(markers: Sequence[Param]) -> str:
    if any(isinstance(marker, File) for marker in markers):
        return "multipart/form-data"
    types = [str(getattr(marker, "media_type", "application/json")) for marker in markers]
    if any(isinstance(marker, Form) for marker in markers):
        if "multipart/form-data" in types:
            return "multipart/form-data"
        return types[0] if len(set(types)) == 1 else "application/x-www-form-urlencoded"
    return types[0] if len(set(types)) == 1 else "application/json"


def _plan(route: Route, schemas: _Schemas) -> _Operations:
    """Gather what ``route``'s operations need, registering the types they show."""
    options = route.options
    make_id = options.get("generate_unique_id_function") or generate_unique_id
    unique_id = options.get("operation_id") or make_id(route)
    walked = list(_walk(route.dependant))
    params: list[_Param] = []
    for location in _LOCATIONS:
        for dependant, _, _ in walked:
            for spec, group in _location_entries(dependant, location):
                params.append(_param(schemas, location, spec, group))
    bodies = [dependant.body for dependant, _, _ in walked if dependant.body is not None]
    body = _body(schemas, bodies, unique_id)
    model = route.serializer.model
    response = schemas.add(model, "serialization") if model is not None else None
    extra: dict[Any, Handle] = {}
    for code, answer in route.responses.items():
        if isinstance(answer, dict) and answer.get("model") is not None:
            extra[code] = schemas.add(answer["model"], "serialization")
    security = [
        (dependant.call, scopes)
        for dependant, scopes, is_root in walked
        if not is_root and _is_security_scheme(dependant.call)
    ]
    callbacks = [
        _plan(callback, schemas)
        for callback in options.get("callbacks") or []
        if isinstance(callback, Route) and callback.include_in_schema
    ]
    return _Operations(route, unique_id, params, body, response, extra, security, callbacks)


# -- rendering ----------------------------------------------------------------------------------


def _security_scheme(call: Any) -> dict[str, Any]:
    model = call.model
    if isinstance(model, BaseModel):
        return model.model_dump(mode="json", by_alias=True, exclude_none=True)
    encoded: dict[str, Any] = jsonable_encoder(dict(model))
    return encoded


def _security(
    plan: _Operations,
) -> tuple[dict[str, Any], list[dict[str, list[str]]]]:
    """The security schemes the operation's dependencies declare, and its ``security`` list:
    one entry per scheme, with the scopes required along every branch that uses it."""
    schemes: dict[str, Any] = {}
    requirements: dict[str, list[str]] = {}
    for call, scopes in plan.security:
        name = call.scheme_name
        schemes[name] = _security_scheme(call)
        listed = requirements.setdefault(name, [])
        listed.extend(scope for scope in scopes if scope not in listed)
    return schemes, [{name: scopes} for name, scopes in requirements.items()]


def _parameters(plan: _Operations, schemas: _Schemas) -> list[dict[str, Any]]:
    found: dict[tuple[str, str], dict[str, Any]] = {}
    required: dict[tuple[str, str], dict[str, Any]] = {}
    for param in plan.params:
        if not param.include:
            continue
        entry: dict[str, Any] = {
            "name": param.name,
            "in": param.location,
            "required": param.required,
            "schema": schemas.schema(param.handle, param.title),
        }
        if param.description:
            entry["description"] = param.description
        if param.examples:
            entry["examples"] = jsonable_encoder(param.examples)
        if param.deprecated:
            entry["deprecated"] = True
        key = (param.location, param.name)
        found[key] = entry
        if param.required:
            required[key] = entry
    found.update(required)  # a required declaration of a name wins over an optional one
    return list(found.values())


def _default_status(response_class: type[Response]) -> str | None:
    try:
        parameter = inspect.signature(response_class.__init__).parameters.get("status_code")
    except (TypeError, ValueError):  # pragma: no cover
        return None
    if parameter is not None and isinstance(parameter.default, int):
        return str(parameter.default)
    return None


def body_allowed(status_code: int | str | None) -> bool:
    """Whether a response with this status (``None``, a number, ``"4XX"`` or ``"default"``)
    may have a body."""
    if status_code is None:
        return True
    if str(status_code).upper() in _STATUS_RANGES:
        return True
    code = int(status_code)
    return not (code < 200 or code in (204, 205, 304))


def _status_text(code: Any) -> str | None:
    key = str(code).upper()
    if key in _STATUS_RANGES:
        return _STATUS_RANGES[key]
    try:
        return http.client.responses.get(int(code))
    except ValueError:
        return None


def deep_update(target: dict[Any, Any], update: dict[Any, Any]) -> None:
    """Merge ``update`` into ``target``: dicts merged key by key, lists concatenated, other
    values replaced (how ``openapi_extra`` and ``responses`` extend an operation)."""
    for key, value in update.items():
        current = target.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            deep_update(current, value)
        elif isinstance(current, list) and isinstance(value, list):
            target[key] = current + value
        else:
            target[key] = value


def _responses(plan: _Operations, schemas: _Schemas) -> dict[str, Any]:
    route = plan.route
    options = route.options
    response_class = route.response_class
    media_type = response_class.media_type
    status_code: Any = options.get("status_code")
    if isinstance(status_code, IntEnum):
        status_code = int(status_code)
    key = str(status_code) if status_code is not None else _default_status(response_class)
    responses: dict[str, Any] = {}
    if key is not None:
        main: dict[str, Any] = {
            "description": options.get("response_description", "Successful Response")
        }
        responses[key] = main
        if body_allowed(status_code) and media_type:
            schema: dict[str, Any] = {"type": "string"}
            if issubclass(response_class, JSONResponse):
                schema = (
                    schemas.schema(plan.response, _title("Response_" + plan.unique_id))
                    if plan.response is not None
                    else {}
                )
            main["content"] = {media_type: {"schema": schema}}
    for code, answer in route.responses.items():
        extra = jsonable_encoder({key: value for key, value in answer.items() if key != "model"})
        code_key = str(code).upper()
        if code_key == "DEFAULT":
            code_key = "default"
        target = responses.setdefault(code_key, {})
        handle = plan.extra_responses.get(code)
        if handle is not None:
            title = _title(f"Response_{code}_{plan.unique_id}")
            content = extra.setdefault("content", {})
            schema_slot = content.setdefault(media_type or "application/json", {})
            deep_update(schema_slot.setdefault("schema", {}), schemas.schema(handle, title))
        description = (
            extra.get("description")
            or target.get("description")
            or _status_text(code)
            or "Additional Response"
        )
        deep_update(target, extra)
        target["description"] = description
    return responses


def _render(
    plan: _Operations, schemas: _Schemas, operation_ids: set[str]
) -> tuple[dict[str, Any], dict[str, Any], bool]:
    """The path item of one route (method -> operation), the security schemes it uses, and
    whether it answers 422 (so the validation error schemas are needed)."""
    route = plan.route
    options = route.options
    path_item: dict[str, Any] = {}
    schemes: dict[str, Any] = {}
    needs_errors = False
    if not route.include_in_schema:
        return path_item, schemes, needs_errors
    for method in _declared_methods(route):
        operation: dict[str, Any] = {}
        if route.tags:
            operation["tags"] = jsonable_encoder(list(route.tags))
        operation["summary"] = route.summary or route.name.replace("_", " ").title()
        description = route.description or inspect.cleandoc(
            getattr(route.endpoint, "__doc__", None) or ""
        )
        description = description.split("\f")[0].strip()
        if description:
            operation["description"] = description
        if plan.unique_id in operation_ids:
            endpoint = getattr(route.endpoint, "__name__", "<unnamed endpoint>")
            warnings.warn(
                f"Duplicate Operation ID {plan.unique_id} for function {endpoint}",
                stacklevel=3,
            )
        operation_ids.add(plan.unique_id)
        operation["operationId"] = plan.unique_id
        if route.deprecated:
            operation["deprecated"] = True
        used_schemes, requirements = _security(plan)
        if requirements:
            operation["security"] = requirements
        schemes.update(used_schemes)
        parameters = _parameters(plan, schemas)
        if parameters:
            operation["parameters"] = parameters
        body = plan.body
        if method in METHODS_WITH_BODY and body is not None:
            content: dict[str, Any] = {"schema": schemas.schema(body.handle, body.title)}
            if body.examples:
                content["examples"] = jsonable_encoder(body.examples)
            request_body: dict[str, Any] = {}
            if body.required:
                request_body["required"] = True
            request_body["content"] = {body.media_type: content}
            operation["requestBody"] = request_body
        if plan.callbacks:
            callbacks: dict[str, Any] = {}
            for callback in plan.callbacks:
                # The callback's own schemes and error schemas are not added, as in FastAPI.
                item, _, _ = _render(callback, schemas, operation_ids)
                callbacks[callback.route.name] = {callback.route.path: item}
            operation["callbacks"] = callbacks
        responses = operation["responses"] = _responses(plan, schemas)
        if (plan.params or body is not None) and not any(
            key in responses for key in ("422", "4XX", "default")
        ):
            responses["422"] = {
                "description": "Validation Error",
                "content": {
                    "application/json": {"schema": {"$ref": REF_PREFIX + "HTTPValidationError"}}
                },
            }
            needs_errors = True
        extra = options.get("openapi_extra")
        if extra:
            deep_update(operation, jsonable_encoder(extra))
        path_item[method.lower()] = _ordered(operation)
    return path_item, schemes, needs_errors


def _ordered(operation: dict[str, Any]) -> dict[str, Any]:
    """The operation's keys in the OpenAPI Operation Object's order, extensions last."""
    known = {key: operation[key] for key in _OPERATION_KEYS if key in operation}
    known.update((key, value) for key, value in operation.items() if key not in known)
    return known


def _api_routes(routes: Sequence[BaseRoute] | None) -> list[Route]:
    """The HTTP routes to describe (hidden ones left out, their models with them)."""
    return [route for route in routes or () if isinstance(route, Route) and route.include_in_schema]


def get_openapi(
    *,
    title: str,
    version: str,
    openapi_version: str = "3.1.0",
    summary: str | None = None,
    description: str | None = None,
    routes: Sequence[BaseRoute],
    webhooks: Sequence[BaseRoute] | None = None,
    tags: list[dict[str, Any]] | None = None,
    servers: list[dict[str, Any]] | None = None,
    terms_of_service: str | None = None,
    contact: dict[str, Any] | None = None,
    license_info: dict[str, Any] | None = None,
    separate_input_output_schemas: bool = True,
    external_docs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The OpenAPI document (a JSON-ready dict) describing ``routes`` and ``webhooks``.

    The app calls it once for ``app.openapi()``; call it yourself to build a customised document
    (``app.openapi_schema = get_openapi(...)``, edited as you like, replaces the app's).
    Routes with ``include_in_schema=False``, WebSocket routes and mounts are left out.
    ``separate_input_output_schemas=False`` describes every model by its input schema (one
    ``Model`` instead of ``Model-Input`` and ``Model-Output``).
    """
    info: dict[str, Any] = {"title": title}
    if summary:
        info["summary"] = summary
    if description:
        info["description"] = description
    if terms_of_service:
        info["termsOfService"] = terms_of_service
    if contact:
        info["contact"] = _with_url(contact)
    if license_info:
        info["license"] = _with_url(license_info)
    info["version"] = version
    output: dict[str, Any] = {"openapi": openapi_version, "info": info}
    if servers:
        output["servers"] = jsonable_encoder(servers)

    schemas = _Schemas(separate_input_output_schemas)
    route_plans = [_plan(route, schemas) for route in _api_routes(routes)]
    webhook_plans = [_plan(route, schemas) for route in _api_routes(webhooks)]
    schemas.generate()

    operation_ids: set[str] = set()
    definitions = dict(schemas.definitions)
    security_schemes: dict[str, Any] = {}
    sections: list[dict[str, Any]] = []
    for plans in (route_plans, webhook_plans):
        section: dict[str, dict[str, Any]] = {}
        for plan in plans:
            item, schemes, needs_errors = _render(plan, schemas, operation_ids)
            if item:
                section.setdefault(path_format(plan.route.path), {}).update(item)
            security_schemes.update(schemes)
            if needs_errors:
                definitions.setdefault("ValidationError", VALIDATION_ERROR_SCHEMA)
                definitions.setdefault("HTTPValidationError", HTTP_VALIDATION_ERROR_SCHEMA)
        sections.append(section)
    paths, webhook_paths = sections
    output["paths"] = paths
    if webhook_paths:
        output["webhooks"] = webhook_paths
    components: dict[str, Any] = {}
    if definitions:
        components["schemas"] = {name: definitions[name] for name in sorted(definitions)}
    if security_schemes:
        components["securitySchemes"] = security_schemes
    if components:
        output["components"] = components
    if tags:
        output["tags"] = [
            {**tag, "externalDocs": _with_url(tag["externalDocs"])}
            if isinstance(tag.get("externalDocs"), dict)
            else tag
            for tag in jsonable_encoder(tags)
        ]
    if external_docs:
        output["externalDocs"] = _with_url(external_docs)
    result: dict[str, Any] = _without_none(output)
    return result


@functools.cache
def _url_adapter() -> TypeAdapter[AnyUrl]:
    return TypeAdapter(AnyUrl)


def _with_url(entry: dict[str, Any]) -> dict[str, Any]:
    """A contact, license or external documentation object with its ``url`` normalised as a
    URL (``https://example.com`` -> ``https://example.com/``), as FastAPI's models write it."""
    result: dict[str, Any] = jsonable_encoder(entry)
    url = result.get("url")
    if isinstance(url, str):
        with contextlib.suppress(ValidationError):  # not a URL: kept as written
            result["url"] = str(_url_adapter().validate_python(url))
    return result


def _without_none(value: Any) -> Any:
    """``value`` with every ``None`` dict value left out, at any depth (list items stay)."""
    if isinstance(value, dict):
        return {key: _without_none(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_none(item) for item in value]
    return value
