"""The compile step: a handler's signature becomes a :class:`Dependant` when its route is added.

Each parameter is classified (path, query, header, cookie, body, a dependency, or an object the
framework injects), each location's parameters get one validator, dependencies recursively.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import inspect
import typing
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any

from pydantic import BaseModel, TypeAdapter
from pydantic_core import PydanticUndefined, SchemaValidator

from framework.background import BackgroundTasks
from framework.concurrency import is_async_callable
from framework.handlers.annotations import (
    is_scalar_or_scalar_sequence,
    is_sequence,
    is_subclass,
    is_upload,
    signature_hints,
    strip_optional,
)
from framework.handlers.params import (
    Body,
    Depends,
    File,
    Form,
    Header,
    Param,
    Path,
    Query,
    SecurityScopes,
)
from framework.handlers.validators import (
    FieldSpec,
    Validate,
    annotated,
    fail_fast_schema,
    is_plain_text,
    location_validator,
    model_for,
    shared_adapter,
)
from framework.http.requests import HTTPConnection, Request
from framework.http.responses import Response

__all__ = [
    "BodySpec",
    "Dependant",
    "FieldSpec",
    "LocationGroup",
    "compile_dependant",
    "compile_override",
    "embed_shared_body",
]

_CONVERTED_TYPES = {"str": str, "path": str, "int": int, "float": float, "uuid": uuid.UUID}


@dataclasses.dataclass(eq=False)
class LocationGroup:
    """One callable's parameters of one location and the validator that checks them together
    (raw values by wire name in, ``f0, f1, ...`` out); ``model_param`` for ``Annotated[Model,
    Query()]``, whose fields are read and whose validated model is passed whole."""

    location: str
    specs: list[FieldSpec]
    validate: Validate | None  # None: unconstrained text, whose check is only "it is there"
    model: type[BaseModel] | None = None  # the class behind ``validate``, when there is one
    model_param: str | None = None
    # For a model group: wire name -> the key the model validates (its field's alias or name).
    model_keys: dict[str, str] = dataclasses.field(default_factory=dict)
    # For an optional model group (``Model | None = None``): its value when none of it is sent.
    default: Any = PydanticUndefined


@dataclasses.dataclass(eq=False)
class BodySpec:
    """The body parameters of one callable. ``embed``: the body is an object keyed by their
    aliases (several body parameters, or ``Body(embed=True)``), else the whole body is the one
    parameter. ``form``: read with the form parser (``Form``/``File``) instead of as JSON."""

    specs: list[FieldSpec]
    embed: bool
    form: bool
    media_type: str

    def __post_init__(self) -> None:
        self.model: type[BaseModel] | None = None
        self.adapter: TypeAdapter[Any] | None = None
        if self.embed or self.form:
            self.model = model_for("Body", self.specs)
            self.validator: Any = self.model.__pydantic_validator__
        else:
            spec = self.specs[0]
            # The whole body is this one value: no key, so no alias.
            field = spec.marker.field_info(None, spec.field.default)
            self.adapter = shared_adapter(annotated(spec.annotation, field))
            self.validator = self.adapter.validator
        self.required = any(spec.required for spec in self.specs)
        self.names = tuple((spec.name, f"f{index}") for index, spec in enumerate(self.specs))

    @functools.cached_property
    def fail_fast_validator(self) -> SchemaValidator:
        """A validator of the same body that stops every container at its first invalid item,
        for a body with too many errors to list (a 10 MiB array of wrong items)."""
        model, adapter = self.model, self.adapter
        schema = model.__pydantic_core_schema__ if model is not None else adapter.core_schema  # type: ignore[union-attr]
        return SchemaValidator(typing.cast(Any, fail_fast_schema(schema)))


@dataclasses.dataclass(eq=False)
class Dependant:
    """A callable (handler or dependency) and where each of its parameters comes from."""

    call: Callable[..., Any]
    name: str | None = None  # the parameter of the caller that receives the result
    use_cache: bool = True
    scopes: tuple[str, ...] = ()
    groups: list[LocationGroup] = dataclasses.field(default_factory=list)
    body: BodySpec | None = None
    dependencies: list[Dependant] = dataclasses.field(default_factory=list)
    connection_param: str | None = None
    response_param: str | None = None
    background_param: str | None = None
    scopes_param: str | None = None
    # (parameter, template name) of path parameters the converter typed: passed on unvalidated.
    trusted_path: tuple[tuple[str, str], ...] = ()
    # Every path parameter, trusted or not, in signature order (for the OpenAPI document).
    path_specs: list[FieldSpec] = dataclasses.field(default_factory=list)
    # What compiling an override of this dependency needs (app.dependency_overrides).
    context: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        call = self.call
        self.is_async = is_async_callable(call)
        function = call if inspect.isfunction(call) else getattr(call, "__call__", call)  # noqa: B004
        #: A ``yield`` dependency, as a context manager factory (async or sync), else None.
        self.context_manager: Callable[..., Any] | None = None
        if inspect.isasyncgenfunction(function) or inspect.isasyncgenfunction(call):
            self.context_manager = contextlib.asynccontextmanager(call)
            self.is_async = True
        elif inspect.isgeneratorfunction(function) or inspect.isgeneratorfunction(call):
            self.context_manager = contextlib.contextmanager(call)

    def walk(self) -> typing.Iterator[Dependant]:
        """This dependant and every dependency below it."""
        yield self
        for dependency in self.dependencies:
            yield from dependency.walk()


def _marker_of(annotation: Any, default: Any) -> tuple[Any, Param | Depends | None, list[Any], Any]:
    """A parameter's type, framework marker, other ``Annotated`` metadata and real default."""
    base, metadata = annotation, []
    if typing.get_origin(annotation) is Annotated:
        base, *metadata = typing.get_args(annotation)
    markers = [item for item in metadata if isinstance(item, (Param, Depends))]
    marker: Param | Depends | None = markers[-1] if markers else None
    rest = [item for item in metadata if not isinstance(item, (Param, Depends))]
    if isinstance(default, (Param, Depends)):
        marker, default = default, PydanticUndefined
    elif default is inspect.Parameter.empty:
        default = PydanticUndefined
    return base, marker, rest, default


def _spec(name: str, base: Any, rest: list[Any], marker: Param, default: Any) -> FieldSpec:
    if marker.alias is not None:
        alias = marker.alias
    elif isinstance(marker, Header) and marker.convert_underscores:
        alias = name.replace("_", "-")
    else:
        alias = name
    if isinstance(marker, Header):
        alias = alias.lower()
    annotation = annotated(base, *rest)
    field = marker.field_info(alias, default)
    return FieldSpec(name, alias, annotation, field, marker, is_sequence(base))


def embed_shared_body(root: Dependant) -> None:
    """Body parameters spread over a route's callables make the body one object with a key per
    parameter (as FastAPI reads it): each "whole body" JSON parameter is embedded."""
    bodies = [(dependant, dependant.body) for dependant in root.walk() if dependant.body]
    if len({spec.alias for _, body in bodies for spec in body.specs}) < 2:
        return
    for dependant, body in bodies:
        if not body.embed and not body.form:
            dependant.body = dataclasses.replace(body, embed=True)


def compile_dependant(
    call: Callable[..., Any],
    *,
    path: str,
    path_names: Sequence[str],
    connection: type[HTTPConnection] = Request,
    name: str | None = None,
    use_cache: bool = True,
    scopes: Sequence[str] = (),
    dependencies: Sequence[Depends] = (),
    path_convertors: Mapping[str, str] | None = None,
) -> Dependant:
    """Read ``call``'s signature and decide where each parameter comes from; ``dependencies``
    are extra ``Depends`` run first. ``TypeError`` for a parameter that cannot be filled."""
    signature, hints = signature_hints(call)
    dependant = Dependant(call, name=name, use_cache=use_cache, scopes=tuple(scopes))
    dependant.context = dict(
        path=path, path_names=path_names, connection=connection, path_convertors=path_convertors
    )
    for extra in dependencies:
        dependant.dependencies.append(_sub_dependant(extra, None, None, dependant.context))
    qualname = getattr(call, "__qualname__", repr(call))
    parameters = _Parameters(path_names, qualname)
    for param_name, parameter in signature.parameters.items():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        annotation = hints.get(param_name, parameter.annotation)
        if isinstance(annotation, str):
            # An unresolvable name (a TYPE_CHECKING import, a class defined in a function): with a
            # default the parameter works as Any; without one, guessing could silently misread it.
            if parameter.default is inspect.Parameter.empty:
                raise TypeError(
                    f"Cannot resolve the annotation {annotation!r} of parameter {param_name!r} "
                    f"of {qualname}: define the names it uses at module level"
                )
            annotation = Any
        elif annotation is inspect.Parameter.empty:
            annotation = Any
        base, marker, rest, default = _marker_of(annotation, parameter.default)
        if isinstance(marker, Depends):
            dependant.dependencies.append(
                _sub_dependant(marker, param_name, base, dependant.context)
            )
        elif marker is not None or not _inject(dependant, param_name, base, connection, qualname):
            parameters.add(param_name, base, rest, marker, default)
    parameters.build(dependant, path_convertors or {})
    return dependant


def _inject(
    dependant: Dependant, name: str, base: Any, connection: type[HTTPConnection], qualname: str
) -> bool:
    """Parameters the framework fills itself; True if ``name`` is one of them."""
    for kind, attribute in _INJECTED:
        if is_subclass(base, kind):
            if kind is HTTPConnection and not issubclass(connection, base):
                raise TypeError(
                    f"Parameter {name!r} of {qualname} wants a {base.__name__}, but this route "
                    f"provides a {connection.__name__}"
                )
            setattr(dependant, attribute, name)
            return True
    return False


_INJECTED = (
    (HTTPConnection, "connection_param"),
    (Response, "response_param"),
    (BackgroundTasks, "background_param"),
    (SecurityScopes, "scopes_param"),
)


def _sub_dependant(
    marker: Depends, name: str | None, annotation: Any, context: dict[str, Any]
) -> Dependant:
    call = marker.dependency if marker.dependency is not None else annotation
    if call is None or not callable(call):
        raise TypeError(f"Depends() for parameter {name!r} needs a callable or an annotated class")
    return compile_dependant(
        call, name=name, use_cache=marker.use_cache, scopes=marker.scopes, **context
    )


@functools.lru_cache(maxsize=1024)
def compile_override(original: Dependant, replacement: Callable[..., Any]) -> Dependant:
    """The dependant for ``replacement`` standing in for ``original`` (dependency_overrides),
    compiled once per pair while the overrides are in use."""
    return compile_dependant(
        replacement,
        name=original.name,
        use_cache=original.use_cache,
        scopes=original.scopes,
        **original.context,
    )


def _model_group(location: str, name: str, model: type[BaseModel], marker: Param) -> LocationGroup:
    """``Annotated[Model, Query()]``: the model's fields are parameters of ``location``."""
    specs = []
    keys = {}
    for field_name, info in model.model_fields.items():
        key = alias = info.alias or field_name
        if isinstance(marker, Header):
            if not info.alias and marker.convert_underscores:
                alias = alias.replace("_", "-")
            alias = alias.lower()
        keys[alias] = key
        annotation = info.annotation
        specs.append(
            FieldSpec(field_name, alias, annotation, info, marker, is_sequence(annotation))
        )
    validate = model.__pydantic_validator__.validate_python
    return LocationGroup(location, specs, validate, model, model_param=name, model_keys=keys)


def _trusted(spec: FieldSpec, convertors: Mapping[str, str]) -> bool:
    """A path parameter whose converter already produced the annotated type, unconstrained."""
    annotation = spec.annotation
    if spec.field.metadata or typing.get_origin(annotation) is Annotated:
        return False
    converted = _CONVERTED_TYPES.get(convertors.get(spec.alias, "str"))
    return annotation is Any or annotation is converted


class _Parameters:
    """One callable's parameters, sorted by where they come from, then built into groups."""

    def __init__(self, path_names: Sequence[str], qualname: str) -> None:
        self.path_names, self.qualname = path_names, qualname
        self.by_location: dict[str, list[FieldSpec]] = {
            location: [] for location in ("path", "query", "header", "cookie")
        }
        self.model_groups: list[LocationGroup] = []
        self.body: list[FieldSpec] = []

    def add(
        self, name: str, base: Any, rest: list[Any], marker: Param | None, default: Any
    ) -> None:
        path_names = self.path_names
        if marker is None:
            if name in path_names:
                marker = Path()
            elif is_upload(base):
                marker = File()
            elif is_scalar_or_scalar_sequence(base):
                marker = Query()
            else:
                marker = Body()
        if isinstance(marker, Path):
            if name not in path_names and (marker.alias or name) not in path_names:
                raise TypeError(
                    f"Path parameter {name!r} of {self.qualname} is not in the route's path"
                )
            default = PydanticUndefined  # path parameters are always required
        spec = _spec(name, base, rest, marker, default)
        if isinstance(marker, Body):
            self.body.append(spec)
        elif not is_scalar_or_scalar_sequence(base) and is_subclass(
            strip_optional(base), BaseModel
        ):
            model = strip_optional(base)
            group = _model_group(marker.location, name, model, marker)
            if model is not base:  # ``Model | None``: its default when none of it is sent
                group.default = marker.default if default is PydanticUndefined else default
            self.model_groups.append(group)
        else:
            self.by_location[marker.location].append(spec)

    def build(self, dependant: Dependant, convertors: Mapping[str, str]) -> None:
        path_specs = dependant.path_specs = self.by_location["path"]
        trusted = [spec for spec in path_specs if _trusted(spec, convertors)]
        dependant.trusted_path = tuple((spec.name, spec.alias) for spec in trusted)
        self.by_location["path"] = [spec for spec in path_specs if spec not in trusted]
        for location, specs in self.by_location.items():
            if not specs:
                continue
            if is_plain_text(specs):
                dependant.groups.append(LocationGroup(location, specs, None))
            elif (validate := location_validator(specs)) is not None:
                dependant.groups.append(LocationGroup(location, specs, validate))
            else:
                model = model_for(f"{location.title()}Parameters", specs)
                validate = model.__pydantic_validator__.validate_python
                dependant.groups.append(LocationGroup(location, specs, validate, model))
        dependant.groups.extend(self.model_groups)
        if self.body:
            specs = self.body
            is_form = any(isinstance(spec.marker, Form) for spec in specs)
            if is_form and not all(isinstance(spec.marker, Form) for spec in specs):
                raise TypeError(f"{self.qualname} mixes JSON body parameters with form parameters")
            embed = len(specs) > 1 or bool(getattr(specs[0].marker, "embed", False))
            media_type = getattr(specs[0].marker, "media_type", "application/json")
            if any(isinstance(spec.marker, File) for spec in specs):
                media_type = "multipart/form-data"
            dependant.body = BodySpec(specs, embed=embed, form=is_form, media_type=media_type)
