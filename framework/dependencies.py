"""The compile step: a handler's signature becomes a plan, once, when its route is added.

Every parameter is classified (path, query, header, cookie, body, a dependency, or something the
framework injects such as the ``Request``), and each location's parameters get one pydantic model
that validates them together. Dependencies are compiled the same way, to any depth. A request then
runs the plan (:mod:`framework.solving`); nothing here runs per request.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import sys
import types
import typing
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Union

from pydantic import BaseModel, ConfigDict, TypeAdapter, create_model
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined, SchemaValidator, core_schema

from framework.background import BackgroundTasks
from framework.concurrency import is_async_callable
from framework.datastructures import UploadFile
from framework.params import (
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
from framework.requests import HTTPConnection, Request
from framework.responses import Response

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


def signature_hints(call: Callable[..., Any]) -> tuple[inspect.Signature, dict[str, Any]]:
    """The signature of ``call`` and its resolved type hints (``Annotated`` extras kept).

    Hints written as strings (``from __future__ import annotations``) are resolved against the
    function's module; a hint that cannot be resolved is left as written.
    """
    signature = inspect.signature(call)
    target = call if inspect.isfunction(call) or inspect.ismethod(call) else type(call).__call__
    if inspect.isclass(call):
        target = call.__init__
    try:
        hints = typing.get_type_hints(target, include_extras=True)
    except Exception:
        hints = _hints_one_by_one(target)
    if sys.version_info < (3, 11):
        hints = {name: _unwrap_implicit_optional(hint) for name, hint in hints.items()}
    return signature, hints


def _unwrap_implicit_optional(hint: Any) -> Any:
    """Python 3.10's ``get_type_hints`` wraps ``Annotated[X, Query()] = None`` in
    ``Optional[...]``, hiding the marker; 3.11 no longer does. Undo it."""
    if typing.get_origin(hint) is typing.Union:
        args = typing.get_args(hint)
        if len(args) == 2 and type(None) in args:
            inner = args[0] if args[1] is type(None) else args[1]
            if typing.get_origin(inner) is Annotated:
                return inner
    return hint


def _hints_one_by_one(target: Any) -> dict[str, Any]:
    """Resolve each annotation on its own, so one unresolvable name (a ``TYPE_CHECKING`` import)
    does not leave the others, ``Request`` among them, unresolved."""
    namespace = getattr(inspect.unwrap(target), "__globals__", {})
    hints: dict[str, Any] = {}
    for name, annotation in getattr(target, "__annotations__", {}).items():
        holder = types.SimpleNamespace(__annotations__={name: annotation})
        try:
            hints.update(typing.get_type_hints(holder, namespace, include_extras=True))
        except Exception:
            hints[name] = annotation
    return hints


# -- type tests ------------------------------------------------------------------------------------


def _strip_optional(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return _strip_optional(args[0])
    if origin is Annotated:
        return _strip_optional(typing.get_args(annotation)[0])
    return annotation


def is_class(obj: Any) -> typing.TypeGuard[type[Any]]:
    """Whether ``obj`` is a real class: ``list[int]`` passes ``inspect.isclass`` on Python 3.10
    but cannot be given to ``issubclass``."""
    return isinstance(obj, type) and not isinstance(obj, types.GenericAlias)


def _is_class(annotation: Any, base: type) -> bool:
    return is_class(annotation) and issubclass(annotation, base)


def is_sequence(annotation: Any) -> bool:
    """``list[int]``, ``tuple[str, ...]``, ``set[str] | None``: several values of one name."""
    inner = _strip_optional(annotation)
    origin = typing.get_origin(inner) or inner
    return (
        is_class(origin)
        and issubclass(origin, _SEQUENCE_ORIGINS)
        and not issubclass(origin, (str, bytes, bytearray, memoryview))
    )


def _is_complex(annotation: Any) -> bool:
    """A type read from a body rather than a query string: models, dataclasses, mappings."""
    inner = _strip_optional(annotation)
    origin = typing.get_origin(inner)
    if origin is Union or origin is types.UnionType:
        return any(_is_complex(arg) for arg in typing.get_args(inner))
    target = origin or inner
    return (
        _is_class(target, BaseModel)
        or dataclasses.is_dataclass(target)
        or _is_class(target, Mapping)
        or target is dict
    )


def is_scalar_or_scalar_sequence(annotation: Any) -> bool:
    """What a query string, a header or a cookie can carry: scalars, or sequences of them."""
    if is_sequence(annotation):
        args = typing.get_args(_strip_optional(annotation))
        if not args or args[0] is Any:
            return False  # a bare ``list`` (or ``list[Any]``) is a JSON body, as ``dict`` is
        return not any(_is_complex(arg) or is_sequence(arg) for arg in args if arg is not Ellipsis)
    return not _is_complex(annotation)


def is_upload(annotation: Any) -> bool:
    """``UploadFile`` or a sequence of them (optional or not)."""
    inner = _strip_optional(annotation)
    if is_sequence(inner):
        args = typing.get_args(inner)
        return bool(args) and _is_class(_strip_optional(args[0]), UploadFile)
    return _is_class(inner, UploadFile)


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


def _cached(
    cache: dict[Any, Any],
    key: Any,
    build: Callable[[], _T],
    keep: Callable[[_T], bool] | None = None,
) -> _T:
    """``cache[key]``, built by ``build`` the first time (and stored if ``keep`` allows). What
    adding routes builds is shared this way: routes declaring the same parameters, bodies or
    response models get the same validators. An unhashable key is never stored."""
    try:
        found: _T | None = cache.get(key)
    except TypeError:
        return build()
    if found is None:
        found = build()
        if found is not None and (keep is None or keep(found)):
            cache[key] = found
    return found


def _specs_key(specs: Sequence[FieldSpec]) -> tuple[tuple[Any, str], ...]:
    # FieldInfo's repr lists everything that differs from the defaults (alias, constraints,
    # validators by identity); the annotation object itself tells types apart.
    return tuple((spec.annotation, repr(spec.field)) for spec in specs)


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def shared_adapter(annotation: Any) -> TypeAdapter[Any]:
    """A TypeAdapter for ``annotation``, shared by every route that declares the same type (the
    same body model, the same response model): building one is the slow part of adding a route.
    Adapters whose types are not complete yet (forward references) are not shared."""
    key: Any = annotation
    if typing.get_origin(annotation) is Annotated:
        # FieldInfo compares by identity: key on its repr, and on the type object itself so
        # that two classes of the same name stay apart.
        key = (typing.get_args(annotation)[0], repr(annotation))
    return _cached(
        _ADAPTERS,
        key,
        lambda: TypeAdapter(annotation),
        keep=lambda adapter: getattr(adapter, "pydantic_complete", True),
    )


_VALIDATORS: dict[Any, SchemaValidator | None] = {}


def _location_validator(specs: Sequence[FieldSpec]) -> SchemaValidator | None:
    """One validator for a location's plain parameters, composed from each parameter's own
    schema (shared between routes) instead of a model class: far cheaper to build, and it
    returns a dict of ``f0, f1, ...``. None when a parameter needs what only a model gives
    (alias choices, a discriminator, types pydantic builds with definitions)."""
    return _cached(_VALIDATORS, _specs_key(specs), lambda: _compose_validator(specs))


def _compose_validator(specs: Sequence[FieldSpec]) -> SchemaValidator | None:
    fields: dict[str, Any] = {}
    for index, spec in enumerate(specs):
        field = spec.field
        alias = field.validation_alias or field.alias or spec.alias
        if not isinstance(alias, str) or field.discriminator is not None:
            return None
        annotation: Any = spec.annotation
        if field.metadata:
            arguments = (annotation, *field.metadata)
            annotation = typing.cast(Any, Annotated)[arguments]
        try:
            adapter = shared_adapter(annotation)
        except Exception:
            return None
        schema: Any = adapter.core_schema
        if schema.get("type") == "definitions" or not getattr(adapter, "pydantic_complete", True):
            return None
        required = field.is_required()
        if not required:
            if field.default_factory is not None:
                schema = core_schema.with_default_schema(
                    schema,
                    default_factory=typing.cast(Any, field.default_factory),
                    validate_default=bool(field.validate_default),
                )
            else:
                schema = core_schema.with_default_schema(
                    schema, default=field.default, validate_default=bool(field.validate_default)
                )
        fields[f"f{index}"] = core_schema.typed_dict_field(
            schema, required=required, validation_alias=alias
        )
    return SchemaValidator(
        core_schema.typed_dict_schema(fields, extra_behavior="ignore", total=True)
    )


_MODELS: dict[Any, type[BaseModel]] = {}
"""Location and body models by what they validate (see :func:`_cached`)."""


def _model_for(name: str, specs: Sequence[FieldSpec]) -> type[BaseModel]:
    # Fields get neutral names (f0, f1, ...) so that a parameter called "json" or "copy" cannot
    # shadow a BaseModel attribute; the alias is the wire name, which is what errors report.
    fields: dict[str, Any] = {
        f"f{index}": (spec.annotation, spec.field) for index, spec in enumerate(specs)
    }

    def build() -> type[BaseModel]:
        return create_model(name, __config__=_CONFIG, **fields)

    return _cached(_MODELS, (name, _specs_key(specs)), build)


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
            self.model: type[BaseModel] | None = _model_for("Body", self.specs)
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
            self._fail_fast = SchemaValidator(typing.cast(Any, _fail_fast_schema(schema)))
        return self._fail_fast


_CONTAINER_SCHEMAS = frozenset({"list", "tuple", "set", "frozenset", "dict"})


def _fail_fast_schema(schema: Any) -> Any:
    """A copy of a pydantic-core schema with ``fail_fast`` set on every container."""
    if isinstance(schema, dict):
        copied = {
            key: value if key == "metadata" else _fail_fast_schema(value)
            for key, value in _without_classes(schema).items()
        }
        if copied.get("type") in _CONTAINER_SCHEMAS:
            copied["fail_fast"] = True
        return copied
    if isinstance(schema, list):
        return [_fail_fast_schema(item) for item in schema]
    return schema


def _without_classes(schema: dict[str, Any]) -> dict[str, Any]:
    """pydantic-core reuses the validator a model, dataclass or typed dict already has when a
    schema names its class, which would ignore any change below it: validate their fields
    instead (without the validators that expect an instance of the class)."""
    ref = schema.get("ref")
    kind = schema.get("type")
    inner: Any = schema.get("schema")
    wrapped = isinstance(inner, dict) and inner.get("type") in ("model", "dataclass")
    if kind in ("function-after", "function-wrap") and wrapped:
        schema, kind, inner = inner, inner["type"], inner.get("schema")
    if kind in ("model", "dataclass") and isinstance(inner, dict):
        fields = dict(inner)
        extra = (schema.get("config") or {}).get("extra_fields_behavior")
        if extra is not None and fields.get("type") in ("model-fields", "dataclass-args"):
            fields.setdefault("extra_behavior", extra)
        ref = ref or schema.get("ref")
        schema = fields
    elif kind == "typed-dict":
        schema = {key: value for key, value in schema.items() if key != "cls"}
    if ref is not None:
        schema = {**schema, "ref": ref}
    return schema


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
    if _is_class(base, HTTPConnection):
        if not issubclass(connection, base):
            raise TypeError(
                f"Parameter {name!r} of {qualname} wants a {base.__name__}, but this route "
                f"provides a {connection.__name__}"
            )
        dependant.connection_param = name
    elif _is_class(base, Response):
        dependant.response_param = name
    elif _is_class(base, BackgroundTasks):
        dependant.background_param = name
    elif _is_class(base, SecurityScopes):
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
    elif not is_scalar_or_scalar_sequence(base) and _is_class(_strip_optional(base), BaseModel):
        if default is PydanticUndefined:
            default = marker.default
        model = _strip_optional(base)
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
            validator = _location_validator(specs)
            if validator is not None:
                dependant.groups.append(LocationGroup(location, specs, None, validator=validator))
            else:
                model = _model_for(f"{location.title()}Parameters", specs)
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
