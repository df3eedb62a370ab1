"""The compile step: a handler's signature becomes a plan, once, when its route is added.

Every parameter is classified (path, query, header, cookie, body, a dependency, or something the
framework injects such as the ``Request``), and each location's parameters get one pydantic model
that validates them together. Dependencies are compiled the same way, to any depth. A request then
runs the plan (:mod:`framework.handlers.run`); nothing here runs per request.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import typing
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, TypeAdapter
from pydantic.fields import FieldInfo
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
    fail_fast_schema,
    location_validator,
    model_for,
    shared_adapter,
)
from framework.http.requests import HTTPConnection, Request
from framework.http.responses import Response

__all__ = ["Dependant", "compile_dependant", "signature_hints"]

_CONFIG = ConfigDict(extra="ignore", arbitrary_types_allowed=True)
_SEQUENCE_ORIGINS = (list, set, frozenset, tuple, Sequence, typing.Sequence)
_TRUSTED_PATH_TYPES: dict[str, tuple[Any, ...]] = {
    "str": (str,),
    "path": (str,),
    "int": (int,),
    "float": (float,),
    "uuid": (uuid.UUID,),
}


# -- type tests ------------------------------------------------------------------------------------


# -- compiled pieces ------------------------------------------------------------------------------


@dataclasses.dataclass(eq=False)
class FieldSpec:
    """One parameter read from the request: its Python name, its name on the wire, and the
    pydantic field (type, default, constraints) that validates it."""

    name: str
    alias: str
    annotation: Any
    field: FieldInfo
    marker: Param
    sequence: bool

    @property
    def required(self) -> bool:
        return self.field.is_required()


_T = typing.TypeVar("_T")


@dataclasses.dataclass(eq=False)
class LocationGroup:
    """The parameters of one callable from one location (path, query, header or cookie),
    validated by one pydantic model. ``model_param`` is set for ``Annotated[Model, Query()]``:
    the model's own fields are read and the validated model is passed whole."""

    location: str
    specs: list[FieldSpec]
    model: type[BaseModel] | None  # None for plain parameters: ``validator`` is given instead
    model_param: str | None = None
    # For a model group: wire name -> the key the model validates (its field's alias or name).
    # Other values of the location are passed too, so that the model's ``extra`` setting applies.
    model_keys: dict[str, str] = dataclasses.field(default_factory=dict)
    # For an optional model group (``Model | None = None``): its value when none of it is sent.
    default: Any = PydanticUndefined
    validator: Any = None

    def __post_init__(self) -> None:
        if self.validator is None:
            assert self.model is not None
            self.validator = self.model.__pydantic_validator__
        # model key -> wire name where they differ (errors report the header name)
        self.wire_names = {key: wire for wire, key in self.model_keys.items() if key != wire}
        # alias -> whether several values are collected (list[...])
        self.wanted = {spec.alias: spec.sequence for spec in self.specs}
        # raw header name (bytes, lower-case) -> alias, to pick headers without decoding others
        self.header_names = {spec.alias.encode("latin-1"): spec.alias for spec in self.specs}
        self.names = tuple((spec.name, f"f{index}") for index, spec in enumerate(self.specs))
        # When every parameter is text with no constraint (``str``, ``str | None``, ``Any``) and
        # a plain default: (name, alias, default) each, the raw text being the valid value.
        self.text: tuple[tuple[str, str, Any], ...] | None = None
        text_location = self.location in ("query", "header", "cookie")
        if text_location and self.model_param is None and all(map(_plain_text, self.specs)):
            self.text = tuple((spec.name, spec.alias, spec.field.default) for spec in self.specs)


_TEXT_TYPES: tuple[Any, ...] = (str, Any, str | None)


def _plain_text(spec: FieldSpec) -> bool:
    """A parameter whose validation of a text value can only be "it is there": one value, typed
    ``str`` (optional or not) or ``Any``, without constraints or a default factory."""
    field = spec.field
    default = field.default
    return (
        not spec.sequence
        and spec.annotation in _TEXT_TYPES
        and not field.metadata
        and field.default_factory is None
        and (default is PydanticUndefined or default is None or type(default) is str)
    )


@dataclasses.dataclass(eq=False)
class BodySpec:
    """The body parameters of one callable.

    ``embed``: the body is an object whose keys are the parameters' aliases (several body
    parameters, or ``Body(embed=True)``); otherwise the whole body is the one parameter.
    ``form``: read with the form parser (``Form``/``File`` parameters) instead of as JSON.
    """

    specs: list[FieldSpec]
    embed: bool
    form: bool
    media_type: str

    def __post_init__(self) -> None:
        if self.embed or self.form:
            self.model: type[BaseModel] | None = model_for("Body", self.specs)
            self.adapter: TypeAdapter[Any] | None = None
        else:
            spec = self.specs[0]
            self.model = None
            # The whole body is this one value: no key, so no alias.
            field = spec.marker.field_info(None, spec.field.default)
            self.adapter = shared_adapter(_annotated(spec.annotation, field))
            self.validator: Any = self.adapter.validator
        self.required = any(spec.required for spec in self.specs)
        self.names = tuple((spec.name, f"f{index}") for index, spec in enumerate(self.specs))
        self._fail_fast: SchemaValidator | None = None

    def fail_fast_validator(self) -> SchemaValidator:
        """A validator of the same body that stops every list, tuple, set and dict at its first
        invalid item. Built the first time a body fails with very many errors (a 10 MiB array
        of wrong items), where listing them all would take seconds."""
        if self._fail_fast is None:
            if self.model is not None:
                schema = self.model.__pydantic_core_schema__
            else:
                assert self.adapter is not None
                schema = self.adapter.core_schema
            self._fail_fast = SchemaValidator(typing.cast(Any, fail_fast_schema(schema)))
        return self._fail_fast


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
    # Path parameters the converter already typed, as (parameter name, template name): passed on
    # without validation.
    trusted_path: tuple[tuple[str, str], ...] = ()
    # Every path parameter, trusted or not, in signature order (for the OpenAPI document).
    path_specs: list[FieldSpec] = dataclasses.field(default_factory=list)
    # What compiling an override of this dependency needs (app.dependency_overrides).
    context: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        call = self.call
        self.is_async = is_async_callable(call)
        unwrapped = call if inspect.isfunction(call) else getattr(call, "__call__", call)  # noqa: B004
        self.is_generator = inspect.isgeneratorfunction(unwrapped) or inspect.isgeneratorfunction(
            call
        )
        self.is_async_generator = inspect.isasyncgenfunction(
            unwrapped
        ) or inspect.isasyncgenfunction(call)
        self.context_manager: Callable[..., Any] | None = None
        if self.is_async_generator:
            self.context_manager = contextlib.asynccontextmanager(call)
        elif self.is_generator:
            self.context_manager = contextlib.contextmanager(call)
        # Compiled stand-ins for this dependency, by replacement (app.dependency_overrides).
        self.overrides: dict[Any, Dependant] = {}
        self.injects = False  # set by seal()

    def seal(self) -> None:
        """Precompute what a request checks, once the parameters are classified."""
        self.injects = (
            self.connection_param is not None
            or self.response_param is not None
            or self.background_param is not None
            or self.scopes_param is not None
        )

    @property
    def flat(self) -> bool:
        """Only path, query, header and cookie values (and perhaps the connection): no
        dependencies, no body, no other injected object."""
        return not (self.body or self.dependencies) and (
            self.response_param is None
            and self.background_param is None
            and self.scopes_param is None
        )

    def walk(self) -> typing.Iterator[Dependant]:
        """This dependant and every dependency below it."""
        yield self
        for dependency in self.dependencies:
            yield from dependency.walk()

    @property
    def has_generators(self) -> bool:
        """Whether a ``yield`` dependency needs an exit stack for this request."""
        return any(d.is_generator or d.is_async_generator for d in self.walk())

    @property
    def needs_body(self) -> bool:
        return any(d.body is not None for d in self.walk())


# -- classification -------------------------------------------------------------------------------


def _annotated(base: Any, *metadata: Any) -> Any:
    """``Annotated[base, *metadata]`` built at run time."""
    arguments = (base, *metadata)
    return typing.cast(Any, Annotated)[arguments]


def _split_annotated(annotation: Any) -> tuple[Any, list[Any]]:
    if typing.get_origin(annotation) is Annotated:
        base, *metadata = typing.get_args(annotation)
        return base, list(metadata)
    return annotation, []


def _marker_of(metadata: list[Any], default: Any) -> tuple[Param | Depends | None, list[Any], Any]:
    """The framework marker of a parameter (from Annotated or the default), the other metadata,
    and the real default."""
    marker: Param | Depends | None = None
    rest = []
    for item in metadata:
        if isinstance(item, (Param, Depends)):
            marker = item
        else:
            rest.append(item)
    if isinstance(default, (Param, Depends)):
        marker, default = default, PydanticUndefined
    elif default is inspect.Parameter.empty:
        default = PydanticUndefined
    return marker, rest, default


def _spec(name: str, base: Any, rest: list[Any], marker: Param, default: Any) -> FieldSpec:
    if marker.alias is not None:
        alias = marker.alias
    elif isinstance(marker, Header) and marker.convert_underscores:
        alias = name.replace("_", "-")
    else:
        alias = name
    if isinstance(marker, Header):
        alias = alias.lower()
    annotation = _annotated(base, *rest) if rest else base
    field = marker.field_info(alias, default)
    return FieldSpec(name, alias, annotation, field, marker, is_sequence(base))


class _Collected:
    """What classification found for one callable, before the models are built."""

    def __init__(self) -> None:
        self.by_location: dict[str, list[FieldSpec]] = {"path": [], "query": [], "header": []}
        self.by_location["cookie"] = []
        self.model_groups: list[LocationGroup] = []
        self.body: list[FieldSpec] = []


def embed_shared_body(root: Dependant) -> None:
    """When a route's body parameters are spread over the handler and its dependencies, the
    body is one object with a key per parameter (as FastAPI reads it): each JSON body that
    was compiled as "the whole body" becomes embedded under its alias."""
    bodies: list[Dependant] = []
    seen: set[int] = set()
    pending = [root]
    while pending:
        dependant = pending.pop()
        if id(dependant) in seen:
            continue
        seen.add(id(dependant))
        if dependant.body is not None:
            bodies.append(dependant)
        pending.extend(dependant.dependencies)
    names = {spec.alias for dependant in bodies for spec in dependant.body.specs}  # type: ignore[union-attr]
    if len(names) < 2:
        return
    for dependant in bodies:
        body = dependant.body
        assert body is not None
        if not body.embed and not body.form:
            dependant.body = BodySpec(
                body.specs, embed=True, form=False, media_type=body.media_type
            )


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
    """Read ``call``'s signature once and decide where each parameter comes from.

    ``dependencies`` are extra ``Depends`` run first (route, router and app ``dependencies=``).
    Raises ``TypeError`` for a parameter that cannot be filled, when the route is added.
    """
    signature, hints = signature_hints(call)
    dependant = Dependant(call, name=name, use_cache=use_cache, scopes=tuple(scopes))
    dependant.context = {
        "path": path,
        "path_names": path_names,
        "connection": connection,
        "path_convertors": path_convertors,
    }
    for extra in dependencies:
        dependant.dependencies.append(_sub_dependant(extra, None, None, dependant.context))
    collected = _Collected()
    qualname = getattr(call, "__qualname__", repr(call))
    for param_name, parameter in signature.parameters.items():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        annotation = hints.get(param_name, parameter.annotation)
        if isinstance(annotation, str):
            # A name that cannot be resolved: a TYPE_CHECKING import, or a class defined inside a
            # function under `from __future__ import annotations`. With a default the parameter
            # still works (as Any); without one, guessing would silently misread it.
            if parameter.default is inspect.Parameter.empty:
                raise TypeError(
                    f"Cannot resolve the annotation {annotation!r} of parameter {param_name!r} "
                    f"of {qualname}: define the names it uses at module level"
                )
            annotation = Any
        elif annotation is inspect.Parameter.empty:
            annotation = Any
        base, metadata = _split_annotated(annotation)
        marker, rest, default = _marker_of(metadata, parameter.default)
        if isinstance(marker, Depends):
            dependant.dependencies.append(
                _sub_dependant(marker, param_name, base, dependant.context)
            )
        elif marker is None and _inject(dependant, param_name, base, connection, qualname):
            continue
        else:
            _classify(collected, param_name, base, rest, marker, default, path_names, qualname)
    _build_groups(dependant, collected, path_convertors or {}, qualname)
    dependant.seal()
    return dependant


def _inject(
    dependant: Dependant, name: str, base: Any, connection: type[HTTPConnection], qualname: str
) -> bool:
    """Parameters the framework fills itself; True if ``name`` is one of them."""
    if is_subclass(base, HTTPConnection):
        if not issubclass(connection, base):
            raise TypeError(
                f"Parameter {name!r} of {qualname} wants a {base.__name__}, but this route "
                f"provides a {connection.__name__}"
            )
        dependant.connection_param = name
    elif is_subclass(base, Response):
        dependant.response_param = name
    elif is_subclass(base, BackgroundTasks):
        dependant.background_param = name
    elif is_subclass(base, SecurityScopes):
        dependant.scopes_param = name
    else:
        return False
    return True


def _sub_dependant(
    marker: Depends, name: str | None, annotation: Any, context: dict[str, Any]
) -> Dependant:
    call = marker.dependency if marker.dependency is not None else annotation
    if call is None or not callable(call):
        raise TypeError(f"Depends() for parameter {name!r} needs a callable or an annotated class")
    return compile_dependant(
        call, name=name, use_cache=marker.use_cache, scopes=marker.scopes, **context
    )


def compile_override(original: Dependant, replacement: Callable[..., Any]) -> Dependant:
    """The dependant for ``replacement`` standing in for ``original`` (dependency_overrides)."""
    return compile_dependant(
        replacement,
        name=original.name,
        use_cache=original.use_cache,
        scopes=original.scopes,
        **original.context,
    )


def _classify(
    collected: _Collected,
    name: str,
    base: Any,
    rest: list[Any],
    marker: Param | None,
    default: Any,
    path_names: Sequence[str],
    qualname: str,
) -> None:
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
            raise TypeError(f"Path parameter {name!r} of {qualname} is not in the route's path")
        default = PydanticUndefined  # path parameters are always required
    spec = _spec(name, base, rest, marker, default)
    if isinstance(marker, Body):
        collected.body.append(spec)
    elif not is_scalar_or_scalar_sequence(base) and is_subclass(strip_optional(base), BaseModel):
        if default is PydanticUndefined:
            default = marker.default
        model = strip_optional(base)
        optional = model is not base  # ``Model | None``: the default when none of it is sent
        group = _model_group(marker.location, name, model, marker)
        group.default = default if optional else PydanticUndefined
        collected.model_groups.append(group)
    else:
        collected.by_location[marker.location].append(spec)


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
        specs.append(
            FieldSpec(
                field_name, alias, info.annotation, info, marker, is_sequence(info.annotation)
            )
        )
    return LocationGroup(location, specs, model, model_param=name, model_keys=keys)


def _trusted(spec: FieldSpec, convertors: Mapping[str, str]) -> bool:
    """A path parameter whose converter already produced the annotated type, unconstrained."""
    if spec.field.metadata or typing.get_origin(spec.annotation) is Annotated:
        return False
    annotation = spec.annotation
    return annotation is Any or annotation in _TRUSTED_PATH_TYPES.get(
        convertors.get(spec.alias, "str"), ()
    )


def _build_groups(
    dependant: Dependant, collected: _Collected, convertors: Mapping[str, str], qualname: str
) -> None:
    path_specs = dependant.path_specs = collected.by_location["path"]
    trusted = [spec for spec in path_specs if _trusted(spec, convertors)]
    dependant.trusted_path = tuple((spec.name, spec.alias) for spec in trusted)
    collected.by_location["path"] = [spec for spec in path_specs if spec not in trusted]
    for location, specs in collected.by_location.items():
        if specs:
            validator = location_validator(specs)
            if validator is not None:
                dependant.groups.append(LocationGroup(location, specs, None, validator=validator))
            else:
                model = model_for(f"{location.title()}Parameters", specs)
                dependant.groups.append(LocationGroup(location, specs, model))
    dependant.groups.extend(collected.model_groups)
    if collected.body:
        specs = collected.body
        is_form = any(isinstance(spec.marker, Form) for spec in specs)
        if is_form and not all(isinstance(spec.marker, Form) for spec in specs):
            raise TypeError(f"{qualname} mixes JSON body parameters with form parameters")
        embed = len(specs) > 1 or bool(getattr(specs[0].marker, "embed", False))
        media_type = getattr(specs[0].marker, "media_type", "application/json")
        if any(isinstance(spec.marker, File) for spec in specs):
            media_type = "multipart/form-data"
        dependant.body = BodySpec(specs, embed=embed, form=is_form, media_type=media_type)
