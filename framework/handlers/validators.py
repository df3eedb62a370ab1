"""The pydantic validators of parameters, bodies and response models, shared between routes.

Building a validator is the slow part of adding a route, and routes that declare the same
parameters or models can use the same one: each builder here is cached by what it validates.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, TypeAdapter, create_model
from pydantic_core import SchemaValidator, core_schema

if TYPE_CHECKING:
    from framework.handlers.compile import FieldSpec

_CONFIG = ConfigDict(extra="ignore", arbitrary_types_allowed=True)
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


def location_validator(specs: Sequence[FieldSpec]) -> SchemaValidator | None:
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


def model_for(name: str, specs: Sequence[FieldSpec]) -> type[BaseModel]:
    # Fields get neutral names (f0, f1, ...) so that a parameter called "json" or "copy" cannot
    # shadow a BaseModel attribute; the alias is the wire name, which is what errors report.
    fields: dict[str, Any] = {
        f"f{index}": (spec.annotation, spec.field) for index, spec in enumerate(specs)
    }

    def build() -> type[BaseModel]:
        return create_model(name, __config__=_CONFIG, **fields)

    return _cached(_MODELS, (name, _specs_key(specs)), build)


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
