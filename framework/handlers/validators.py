"""The pydantic validators of parameters, bodies and response models, each builder cached by
what it validates, so that routes declaring the same ones share them (building is slow)."""

from __future__ import annotations

import dataclasses
import functools
import typing
from collections.abc import Callable, Sequence
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, TypeAdapter, create_model
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined, SchemaValidator, core_schema

from framework.handlers.params import Param

_CONFIG = ConfigDict(extra="ignore", arbitrary_types_allowed=True)
_TEXT_TYPES: tuple[Any, ...] = (str, Any, str | None)
Validate = Callable[[dict[str, Any]], Any]
"""A validator: the raw values of a location in, the validated ones (a dict or a model) out."""


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
        """Whether the request must carry the value."""
        return self.field.is_required()


@dataclasses.dataclass(frozen=True)
class _Same:
    """``value`` (a class or FieldInfo: compared by identity) compared by ``key`` alone."""

    key: Any
    value: Any = dataclasses.field(compare=False)


def _same_specs(specs: Sequence[FieldSpec]) -> _Same:
    # FieldInfo's repr lists everything that differs from the defaults (alias, constraints,
    # validators by identity); the annotation object itself tells types apart.
    key = tuple((spec.annotation, repr(spec.field)) for spec in specs)
    return _Same(key, tuple(specs))


def annotated(base: Any, *metadata: Any) -> Any:
    """``Annotated[base, *metadata]`` built at run time (``base`` itself without metadata)."""
    arguments = (base, *metadata)
    return typing.cast(Any, Annotated)[arguments] if metadata else base


def shared_adapter(annotation: Any) -> TypeAdapter[Any]:
    """A TypeAdapter for ``annotation``, shared by every route that declares the same type (the
    same body model, the same response model). An adapter whose types are not complete yet
    (forward references) is not shared: it may still be rebuilt against its own module."""
    key: Any = annotation
    if typing.get_origin(annotation) is Annotated:
        # FieldInfo compares by identity: key on its repr, and on the type object itself so
        # that two classes of the same name stay apart.
        key = (typing.get_args(annotation)[0], repr(annotation))
    try:
        adapter = _adapter(_Same(key, annotation))
    except TypeError:  # an unhashable annotation: not shared
        return TypeAdapter(annotation)
    if not getattr(adapter, "pydantic_complete", True):
        return TypeAdapter(annotation)
    return adapter


@functools.lru_cache(maxsize=4096)
def _adapter(same: _Same) -> TypeAdapter[Any]:
    return TypeAdapter(same.value)


def is_plain_text(specs: Sequence[FieldSpec]) -> bool:
    """Whether validating ``specs`` is only "the value is there": each one a single value (not
    of the path), typed ``str`` (optional or not) or ``Any``, without constraints or a factory."""
    return all(
        not spec.sequence
        and spec.annotation in _TEXT_TYPES
        and not spec.field.metadata
        and spec.field.default_factory is None
        and type(spec.field.default) in (type(PydanticUndefined), type(None), str)
        and spec.marker.location != "path"
        for spec in specs
    )


def location_validator(specs: Sequence[FieldSpec]) -> Validate | None:
    """One validator for a location's plain parameters, returning a dict of ``f0, f1, ...``,
    composed from each parameter's own schema (far cheaper to build than a model class). None
    when a parameter needs what only a model gives (alias choices, a discriminator, recursive
    types)."""
    return _cached(_composed, _same_specs(specs))  # type: ignore[no-any-return]


def _cached(builder: Any, *key: Any) -> Any:
    try:
        return builder(*key)
    except TypeError:  # an unhashable annotation: built for this route alone
        return builder.__wrapped__(*key)


@functools.lru_cache(maxsize=4096)
def _composed(same: _Same) -> Validate | None:
    specs: tuple[FieldSpec, ...] = same.value
    fields: dict[str, Any] = {}
    for index, spec in enumerate(specs):
        field = spec.field
        alias = field.validation_alias or field.alias or spec.alias
        if not isinstance(alias, str) or field.discriminator is not None:
            return None
        annotation = annotated(spec.annotation, *field.metadata)
        try:
            adapter = shared_adapter(annotation)
        except Exception:
            return None
        schema: Any = adapter.core_schema
        if schema.get("type") == "definitions" or not getattr(adapter, "pydantic_complete", True):
            return None
        required = field.is_required()
        if not required:
            default: dict[str, Any] = {"default": field.default}
            if field.default_factory is not None:
                default = {"default_factory": field.default_factory}
            schema = core_schema.with_default_schema(
                schema, validate_default=bool(field.validate_default), **default
            )
        fields[f"f{index}"] = core_schema.typed_dict_field(
            schema, required=required, validation_alias=alias
        )
    schema = core_schema.typed_dict_schema(fields, extra_behavior="ignore", total=True)
    return SchemaValidator(schema).validate_python


def model_for(name: str, specs: Sequence[FieldSpec]) -> type[BaseModel]:
    """A model class validating ``specs`` (body parameters, or location parameters that need
    one), shared by routes that declare the same ones."""
    return _cached(_model, name, _same_specs(specs))  # type: ignore[no-any-return]


@functools.lru_cache(maxsize=4096)
def _model(name: str, same: _Same) -> type[BaseModel]:
    # Fields get neutral names (f0, f1, ...) so that a parameter called "json" or "copy" cannot
    # shadow a BaseModel attribute; the alias is the wire name, which is what errors report.
    fields: dict[str, Any] = {
        f"f{index}": (spec.annotation, spec.field) for index, spec in enumerate(same.value)
    }
    return create_model(name, __config__=_CONFIG, **fields)


def clear_caches() -> None:
    """Forget every shared validator (the start-up benchmark starts each round from nothing)."""
    for cache in (_adapter, _composed, _model):
        cache.cache_clear()


_CONTAINER_SCHEMAS = frozenset({"list", "tuple", "set", "frozenset", "dict"})


def fail_fast_schema(schema: Any) -> Any:
    """A copy of a pydantic-core schema with ``fail_fast`` set on every container."""
    if isinstance(schema, dict):
        copied = {
            key: value if key == "metadata" else fail_fast_schema(value)
            for key, value in _without_classes(schema).items()
        }
        if copied.get("type") in _CONTAINER_SCHEMAS:
            copied["fail_fast"] = True
        return copied
    if isinstance(schema, list):
        return [fail_fast_schema(item) for item in schema]
    return schema


def _without_classes(schema: dict[str, Any]) -> dict[str, Any]:
    """The fields of a model, dataclass or typed dict, whose named class's own validator would
    ignore any change below it."""
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
