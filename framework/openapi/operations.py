"""What one route's operations show, gathered from the plan the route compiled.

:func:`gather` walks the route's dependency tree (the plan a request runs) for its parameters,
body and security schemes, and reads its response models and callbacks. Each type that needs a
JSON Schema is registered on the way: the schemas are generated later, for the whole document.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import typing
from collections.abc import Callable, Iterator, Sequence
from typing import Annotated, Any

from pydantic import BaseModel, create_model
from pydantic_core import PydanticUndefined

from framework.encoders import jsonable_encoder
from framework.handlers.annotations import is_class
from framework.handlers.compile import BodySpec, Dependant, FieldSpec, LocationGroup
from framework.handlers.params import File, Form, Header, Param
from framework.openapi.schemas import (
    SchemaRegistry,
    Slot,
    default_title,
    field_warnings_ignored,
    schema_key,
)
from framework.routing import Route

_LOCATIONS = ("path", "query", "header", "cookie")
_Walked = tuple[Dependant, tuple[str, ...], bool]  # a dependant, its scopes, whether the root
_CONVERTOR = re.compile(r"{([^{}:]+):[^{}]*}")
_NON_WORD = re.compile(r"\W")


def path_format(path: str) -> str:
    """A route path as OpenAPI writes it: ``/items/{item_id:int}`` -> ``/items/{item_id}``."""
    return _CONVERTOR.sub(r"{\1}", path)


def declared_methods(route: Route) -> list[str]:
    """The methods the route was declared with (a GET route's implied HEAD left out)."""
    return sorted(route.methods - {"HEAD"} if route.implicit_head else route.methods)


def generate_unique_id(route: Route) -> str:
    """The default ``operationId`` of a route, as FastAPI derives it: the function name, the path
    and the (first) method, other characters than letters, digits and ``_`` made ``_``:
    ``read_item`` on ``GET /items/{item_id}`` gives ``read_item_items__item_id__get``."""
    method = declared_methods(route)[0]
    return _NON_WORD.sub("_", route.name + path_format(route.path)) + "_" + method.lower()


@dataclasses.dataclass(eq=False)
class Operations:
    """One route's operations (one per declared method), gathered before rendering."""

    route: Route
    # What every method's operation shares, as OpenAPI writes it with slots for the schemas:
    # tags, summary, description, operationId, deprecated, security, parameters, requestBody.
    operation: dict[str, Any]
    validated: bool  # it has parameters (listed or not) or a body: it may answer 422
    response: Slot | None  # the response model's schema
    extra_responses: dict[Any, Slot]  # responses={code: {"model": ...}}
    security_schemes: dict[str, Any]
    callbacks: list[Operations]


def gather(route: Route, schemas: SchemaRegistry) -> Operations:
    """Gather what ``route``'s operations need, registering the types they show."""
    options = route.options
    make_id = options.get("generate_unique_id_function") or generate_unique_id
    unique_id = options.get("operation_id") or make_id(route)
    walked = list(_walk(route.dependant))
    parameters, any_parameter = _parameters(schemas, [dependant for dependant, _, _ in walked])
    bodies = [dependant.body for dependant, _, _ in walked if dependant.body is not None]
    body = _body(schemas, bodies, unique_id)
    security, security_schemes = _security(walked)
    operation = _metadata(route, unique_id)
    for key, value in (("security", security), ("parameters", parameters), ("requestBody", body)):
        if value:
            operation[key] = value
    model = route.serializer.model
    title = default_title("Response_" + unique_id)
    response = schemas.add(model, "serialization", title) if model is not None else None
    extra = {
        code: schemas.add(
            answer["model"], "serialization", default_title(f"Response_{code}_{unique_id}")
        )
        for code, answer in route.responses.items()
        if isinstance(answer, dict) and answer.get("model") is not None
    }
    callbacks = [
        gather(callback, schemas)
        for callback in options.get("callbacks") or []
        if isinstance(callback, Route) and callback.include_in_schema
    ]
    validated = any_parameter or body is not None
    return Operations(route, operation, validated, response, extra, security_schemes, callbacks)


def _metadata(route: Route, unique_id: str) -> dict[str, Any]:
    """An operation's tags, summary, description, ``operationId`` and deprecation."""
    operation: dict[str, Any] = {}
    if route.tags:
        operation["tags"] = jsonable_encoder(list(route.tags))
    operation["summary"] = route.summary or route.name.replace("_", " ").title()
    description = route.description or inspect.cleandoc(
        getattr(route.endpoint, "__doc__", None) or ""
    )
    description = description.split("\f")[0].strip()  # what follows a form feed is private
    if description:
        operation["description"] = description
    operation["operationId"] = unique_id
    if route.deprecated:
        operation["deprecated"] = True
    return operation


def _is_security_scheme(call: Any) -> bool:
    """A dependency that declares a security scheme: it carries ``model`` (the OpenAPI Security
    Scheme Object) and ``scheme_name`` (its key in ``components.securitySchemes``)."""
    return (
        not inspect.isclass(call)
        and hasattr(call, "model")
        and isinstance(getattr(call, "scheme_name", None), str)
    )


def _hashable(call: Any) -> Any:
    """``call`` itself as a key when it can be hashed, else its identity."""
    try:
        hash(call)
    except TypeError:
        return id(call)
    return call


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


def _walk(root: Dependant) -> Iterator[_Walked]:
    """Each distinct dependant of the tree, depth first, with the OAuth2 scopes required along
    its branch and whether it is the root. A dependency used twice (same callable, same scopes)
    is listed once, as it runs once."""
    seen: set[Any] = set()
    cache: dict[int, bool] = {}
    stack: list[_Walked] = [(root, (), True)]
    while stack:
        dependant, parent_scopes, is_root = stack.pop()
        scopes = parent_scopes + tuple(s for s in dependant.scopes if s not in parent_scopes)
        used = tuple(sorted(set(scopes))) if _uses_scopes(dependant, cache) else ()
        key = (_hashable(dependant.call), used)
        if key in seen:
            continue
        seen.add(key)
        yield dependant, scopes, is_root
        stack.extend((sub, scopes, False) for sub in reversed(dependant.dependencies))


def _security(walked: list[_Walked]) -> tuple[list[dict[str, list[str]]], dict[str, Any]]:
    """The operation's ``security`` list, one entry per scheme its dependencies declare with the
    scopes required along every branch that uses it, and those Security Scheme Objects."""
    objects: dict[str, Any] = {}
    requirements: dict[str, list[str]] = {}
    for dependant, scopes, is_root in walked:
        call: Any = dependant.call
        if is_root or not _is_security_scheme(call):
            continue
        name = call.scheme_name
        model = call.model
        if isinstance(model, BaseModel):
            objects[name] = model.model_dump(mode="json", by_alias=True, exclude_none=True)
        else:
            objects[name] = jsonable_encoder(dict(model))
        listed = requirements.setdefault(name, [])
        listed.extend(scope for scope in scopes if scope not in listed)
    return [{name: scopes} for name, scopes in requirements.items()], objects


def _parameters(
    schemas: SchemaRegistry, dependants: list[Dependant]
) -> tuple[list[dict[str, Any]], bool]:
    """The operation's listed parameters, by location then dependant, and whether it has any
    (``include_in_schema=False`` ones are validated, not listed)."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    required: dict[tuple[str, str], dict[str, Any]] = {}
    any_parameter = False
    for location in _LOCATIONS:
        for dependant in dependants:
            for spec, group in _location_entries(dependant, location):
                any_parameter = True
                entry = _parameter(schemas, location, spec, group)
                if entry is None:
                    continue
                key = (location, entry["name"])
                found[key] = entry
                if entry["required"]:
                    required[key] = entry
    found.update(required)  # a required declaration of a name wins over an optional one
    return list(found.values()), any_parameter


def _positions(call: Callable[..., Any]) -> dict[str, int]:
    """Each parameter's position in the signature, to list parameters in declaration order."""
    try:
        return {name: index for index, name in enumerate(inspect.signature(call).parameters)}
    except (TypeError, ValueError):
        return {}


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


def _model_field_config(group: LocationGroup, spec: FieldSpec) -> Any:
    """The parameter model's config, which its fields validate under (a field that is a model,
    a dict or a dataclass has its own)."""
    annotation = spec.annotation
    if (is_class(annotation) and issubclass(annotation, (BaseModel, dict))) or (
        dataclasses.is_dataclass(annotation)
    ):
        return None
    assert group.model is not None  # model groups always have their model
    return group.model.model_config


def _parameter(
    schemas: SchemaRegistry, location: str, spec: FieldSpec, group: LocationGroup | None
) -> dict[str, Any] | None:
    """A parameter as OpenAPI lists it; ``None`` for one left out (``include_in_schema=False``),
    whose type is registered all the same: as in FastAPI, its models are in the document."""
    field = spec.field
    if group is None:
        name = titled = _wire_name(spec)
        required = field.is_required()
        examples = spec.marker.openapi_examples
    else:
        name = _model_wire_name(spec)
        titled = field.alias or spec.name  # a model field's title comes from its key
        required = field.is_required() and group.default is PydanticUndefined
        examples = getattr(field, "openapi_examples", None)
    schema = schemas.add(
        typing.cast(Any, Annotated)[spec.annotation, field],
        "validation",
        field.title or default_title(titled),
        config=None if group is None else _model_field_config(group, spec),
        key=schema_key(spec.annotation, field),
    )
    if not spec.marker.include_in_schema:
        return None
    entry = {"name": name, "in": location, "required": required, "schema": schema}
    if field.description:
        entry["description"] = field.description
    if examples:
        entry["examples"] = jsonable_encoder(examples)
    if field.deprecated:
        entry["deprecated"] = True
    return entry


def _body(schemas: SchemaRegistry, bodies: list[BodySpec], unique_id: str) -> dict[str, Any] | None:
    """The request body of an operation: one value, or an object of the body parameters of
    every callable of the plan (named ``Body_<operation id>``)."""
    specs = [spec for body in bodies for spec in body.specs]
    if not specs:
        return None
    if len({spec.name for spec in specs}) > 1 or any(body.embed for body in bodies):
        fields: dict[str, Any] = {}
        for spec in specs:
            fields.setdefault(spec.name, (spec.annotation, spec.field))
        with field_warnings_ignored():
            model: type[BaseModel] = create_model(f"Body_{unique_id}", **fields)
        media_type = _embedded_media_type([spec.marker for spec in specs])
        content: dict[str, Any] = {"schema": schemas.add(model, "validation", "Body")}
        required, examples = any(spec.required for spec in specs), None
    else:
        first, adapter = specs[0], bodies[0].adapter
        whole = first.marker.field_info(None, first.field.default)
        schema = schemas.add(
            typing.cast(Any, Annotated)[first.annotation, whole],
            "validation",
            whole.title or default_title(first.alias),
            key=schema_key(first.annotation, whole),
            core_schema=adapter.core_schema if adapter is not None else None,
        )
        media_type = getattr(first.marker, "media_type", "application/json")
        content = {"schema": schema}
        required, examples = first.required, first.marker.openapi_examples
    if examples:
        content["examples"] = jsonable_encoder(examples)
    request_body: dict[str, Any] = {"required": True} if required else {}
    request_body["content"] = {media_type: content}
    return request_body


def _embedded_media_type(markers: Sequence[Param]) -> str:
    if any(isinstance(marker, File) for marker in markers):
        return "multipart/form-data"
    types = [str(getattr(marker, "media_type", "application/json")) for marker in markers]
    if any(isinstance(marker, Form) for marker in markers):
        if "multipart/form-data" in types:
            return "multipart/form-data"
        return types[0] if len(set(types)) == 1 else "application/x-www-form-urlencoded"
    return types[0] if len(set(types)) == 1 else "application/json"
