"""What one route's operations show: :func:`gather` walks the plan the route compiled (its
dependency tree) for parameters, body and security schemes, reads its response models and
callbacks, and registers every type they show; the schemas are generated later, all at once."""

from __future__ import annotations

import dataclasses
import inspect
import re
from collections.abc import Iterator, Sequence
from typing import Any

from pydantic import BaseModel, create_model
from pydantic_core import PydanticUndefined

from framework.encoders import jsonable_encoder
from framework.handlers.annotations import is_class
from framework.handlers.compile import BodySpec, Dependant, FieldSpec, LocationGroup
from framework.handlers.params import File, Form, Header, Param
from framework.openapi.schemas import SchemaRegistry, Slot, default_title, field_warnings_ignored
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
    operation: dict[str, Any]  # what every method's operation shares, with schema slots
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
    docstring = getattr(route.endpoint, "__doc__", None) or ""
    description = route.description or inspect.cleandoc(docstring)
    operation: dict[str, Any] = {  # _path_item puts the keys in OpenAPI's order
        "tags": jsonable_encoder(list(route.tags)) if route.tags else None,
        "summary": route.summary or route.name.replace("_", " ").title(),
        "description": description.split("\f")[0].strip() or None,  # after a form feed: private
        "deprecated": True if route.deprecated else None,
        "security": security or None,
        "parameters": parameters or None,
        "requestBody": body,
    }
    operation = {key: value for key, value in operation.items() if value is not None}
    operation["operationId"] = unique_id
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


def _is_security_scheme(call: Any) -> bool:
    """A dependency declaring a security scheme: it has ``model`` and ``scheme_name``."""
    modelled = not inspect.isclass(call) and hasattr(call, "model")
    return modelled and isinstance(getattr(call, "scheme_name", None), str)


def _hashable(call: Any) -> Any:
    try:
        hash(call)
    except TypeError:
        return id(call)
    return call


def _uses_scopes(dependant: Dependant, cache: dict[int, bool]) -> bool:
    found = cache.get(id(dependant))
    if found is None:
        found = cache[id(dependant)] = bool(
            dependant.scopes
            or dependant.scopes_param is not None
            or _is_security_scheme(dependant.call)
            or any(_uses_scopes(sub, cache) for sub in dependant.dependencies)
        )
    return found


def _walk(root: Dependant) -> Iterator[_Walked]:
    """Each distinct dependant, depth first, with its branch's OAuth2 scopes and whether root."""
    seen: set[Any] = set()
    cache: dict[int, bool] = {}
    stack: list[_Walked] = [(root, (), True)]
    while stack:
        dependant, parent_scopes, is_root = stack.pop()
        scopes = parent_scopes + tuple(s for s in dependant.scopes if s not in parent_scopes)
        used = tuple(sorted(set(scopes))) if _uses_scopes(dependant, cache) else ()
        key = (_hashable(dependant.call), used)
        if key in seen:  # the same callable with the same scopes runs once
            continue
        seen.add(key)
        yield dependant, scopes, is_root
        stack.extend((sub, scopes, False) for sub in reversed(dependant.dependencies))


def _security(walked: list[_Walked]) -> tuple[list[dict[str, list[str]]], dict[str, Any]]:
    """The ``security`` list (each scheme with its scopes) and the Security Scheme Objects."""
    objects: dict[str, Any] = {}
    requirements: dict[str, list[str]] = {}
    for dependant, scopes, is_root in walked:
        call: Any = dependant.call
        if is_root or not _is_security_scheme(call):
            continue
        model = call.model
        objects[call.scheme_name] = (
            model.model_dump(mode="json", by_alias=True, exclude_none=True)
            if isinstance(model, BaseModel)
            else jsonable_encoder(dict(model))
        )
        listed = requirements.setdefault(call.scheme_name, [])
        listed.extend(scope for scope in scopes if scope not in listed)
    return [{name: scopes} for name, scopes in requirements.items()], objects


def _parameters(
    schemas: SchemaRegistry, dependants: list[Dependant]
) -> tuple[list[dict[str, Any]], bool]:
    """The listed parameters, by location then dependant, and whether there are any at all."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    any_parameter = False
    for location in _LOCATIONS:
        for dependant in dependants:
            for spec, group in _location_entries(dependant, location):
                any_parameter = True
                entry = _parameter(schemas, location, spec, group)
                if entry is None:
                    continue
                key = (location, entry["name"])
                # The last required declaration of a name wins, else the last declaration.
                if entry["required"] or not found.get(key, {}).get("required"):
                    found[key] = entry
    return list(found.values()), any_parameter


def _location_entries(
    dependant: Dependant, location: str
) -> list[tuple[FieldSpec, LocationGroup | None]]:
    """One callable's parameters (and parameter model fields) in one location, signature order."""
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
    pieces = [
        (spec.name if owner is None else str(owner.model_param), index, spec, owner)
        for specs, owner in runs
        for index, spec in enumerate(specs)
    ]
    if len(runs) > 1:  # plain parameters and parameter models: back to signature order
        try:
            names = list(inspect.signature(dependant.call).parameters)
        except (TypeError, ValueError):
            names = []
        pieces.sort(
            key=lambda piece: (names.index(piece[0]) if piece[0] in names else -1, piece[1])
        )
    return [(spec, owner) for _, _, spec, owner in pieces]


def _parameter(
    schemas: SchemaRegistry, location: str, spec: FieldSpec, group: LocationGroup | None
) -> dict[str, Any] | None:
    """A parameter as OpenAPI lists it; ``None`` if hidden (its schemas are shown all the same)."""
    field, marker, annotation = spec.field, spec.marker, spec.annotation
    config = None
    if group is None:
        name = spec.alias
        if isinstance(marker, Header):  # header aliases keep their case
            converted = spec.name.replace("_", "-") if marker.convert_underscores else spec.name
            name = converted if marker.alias is None else marker.alias
        titled = name
        required = field.is_required()
        examples = marker.openapi_examples
    else:  # a field of a parameter model (``Annotated[Model, Header()]``)
        name = titled = field.alias or spec.name  # a model field's title comes from its key
        if isinstance(marker, Header) and marker.convert_underscores and not field.alias:
            name = spec.name.replace("_", "-")
        required = field.is_required() and group.default is PydanticUndefined
        examples = getattr(field, "openapi_examples", None)
        # Fields validate under the model's config, except a model, dict or dataclass (its own).
        own = is_class(annotation) and issubclass(annotation, (BaseModel, dict))
        if not (own or dataclasses.is_dataclass(annotation)):
            assert group.model is not None  # model groups always have their model
            config = group.model.model_config
    title = field.title or default_title(titled)
    schema = schemas.add(annotation, "validation", title, field, config=config)
    if not marker.include_in_schema:
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
    """The request body: one value, or an object ``Body_<operation id>`` of all body parameters."""
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
            first.annotation,
            "validation",
            whole.title or default_title(first.alias),
            whole,
            core_schema=adapter.core_schema if adapter is not None else None,
        )
        media_type = getattr(first.marker, "media_type", "application/json")
        content = {"schema": schema}
        required, examples = first.required, first.marker.openapi_examples
    if examples:
        content["examples"] = jsonable_encoder(examples)
    return (
        {"required": True, "content": {media_type: content}}
        if required
        else {"content": {media_type: content}}
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
