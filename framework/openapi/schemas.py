"""JSON Schemas for the document. Gathering registers each type an operation shows with a
:class:`SchemaRegistry` and puts the :class:`Slot` it gets where the schema goes; one pydantic call
then generates them all (naming the models, splitting ``Name-Input`` and ``Name-Output``), and
rendering fills the slots."""

from __future__ import annotations

import contextlib
import dataclasses
import typing
import warnings
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, PydanticSchemaGenerationError, TypeAdapter
from pydantic.fields import FieldInfo
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import CoreSchema

from framework.handlers.annotations import is_class

REF_PREFIX = "#/components/schemas/"
REF_TEMPLATE = REF_PREFIX + "{model}"

Mode = Literal["validation", "serialization"]
Handle = tuple[int, Mode]  # a registered type: its index among the generator's inputs, its mode

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

try:  # pydantic >= 2.12 warns about Field options a bare type cannot use; those are expected
    from pydantic.warnings import UnsupportedFieldAttributeWarning as _FieldWarning
except ImportError:  # pragma: no cover - older pydantic
    _FieldWarning = UserWarning  # type: ignore[misc,assignment]


@contextlib.contextmanager
def field_warnings_ignored() -> Iterator[None]:
    """Silence pydantic's warnings about field options (``alias``, ``examples``...) that are
    meant for the request, not for the schema's type."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", _FieldWarning)
        yield


def default_title(name: str) -> str:
    """FastAPI's title of a parameter or body named ``name``: ``item_id`` -> ``Item Id``."""
    return name.title().replace("_", " ")


class SchemaGenerator(GenerateJsonSchema):
    """pydantic's generator, with ``bytes`` as OpenAPI 3.1 (and FastAPI) write it, and ``{}`` for
    a value it cannot describe (an arbitrary class) instead of failing the whole document."""

    def handle_invalid_for_json_schema(self, schema: Any, error_info: str) -> JsonSchemaValue:
        """``{}``: any value."""
        return {}

    def bytes_schema(self, schema: Any) -> JsonSchemaValue:
        """A string of ``application/octet-stream`` content, base64 when the config says so."""
        result: dict[str, Any] = {"type": "string", "contentMediaType": "application/octet-stream"}
        config = self._config
        encoding = config.ser_json_bytes if self.mode == "serialization" else config.val_json_bytes
        if encoding == "base64":
            result["contentEncoding"] = "base64"
        self.update_with_validations(result, schema, self.ValidationsMapping.bytes)
        return result


@dataclasses.dataclass(frozen=True)
class Slot:
    """Where a registered type's schema goes, titled ``title`` unless it is a reference."""

    handle: Handle
    title: str


class SchemaRegistry:
    """The types the document needs schemas for, generated together in one pydantic call. A type
    seen before (same annotation and field options: apps repeat ``limit: int = 10`` and response
    models across routes) reuses its core schema and its generated schema."""

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
        title: str,
        field: FieldInfo | None = None,
        *,
        config: Any = None,
        core_schema: CoreSchema | None = None,
    ) -> Slot:
        """Register ``annotation`` (with its ``field`` options) under ``title``; ``core_schema`` is
        its pydantic-core schema when already built."""
        key = schema_key(annotation, field)
        if field is not None:
            annotation = typing.cast(Any, Annotated)[annotation, field]
        cache_key = None if key is None else (key, _config_key(config))
        core_schema = self._core.get(cache_key) or core_schema or _core_schema(annotation, config)
        if cache_key is not None:
            self._core[cache_key] = core_schema
        if not self.separate and not _has_computed_fields(annotation, core_schema):
            mode = "validation"
        identity = (id(core_schema), mode)
        handle = self._handles.get(identity)
        if handle is None:
            handle = self._handles[identity] = (len(self.inputs), mode)
            self.inputs.append((handle[0], mode, core_schema))
        return Slot(handle, title)

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

    def fill(self, value: Any) -> Any:
        """A copy of ``value`` (dicts and lists) with each :class:`Slot` replaced by its schema."""
        if isinstance(value, Slot):
            schema = dict(self.mapping[value.handle])
            if "$ref" not in schema:
                schema["title"] = value.title
            return schema
        if isinstance(value, dict):
            return {key: self.fill(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.fill(item) for item in value]
        return value


def schema_key(annotation: Any, field: FieldInfo | None = None) -> Any:
    """A cache key for a type, with its field options (default, constraints, description...)
    when given; ``None`` for a type that cannot be hashed."""
    try:
        hash(annotation)
    except TypeError:
        return None
    if field is None:
        return ("type", annotation)
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


def _core_schema(annotation: Any, config: Any) -> CoreSchema:
    """pydantic-core's schema; an arbitrary class gets one (JSON Schema ``{}``), not an error."""
    with field_warnings_ignored():
        try:
            return TypeAdapter(annotation, config=config).core_schema
        except PydanticSchemaGenerationError:
            if config is not None:
                raise
            lenient = ConfigDict(arbitrary_types_allowed=True)
            return TypeAdapter(annotation, config=lenient).core_schema


def _has_computed_fields(annotation: Any, core_schema: Any) -> bool:
    """Whether the type's output schema differs from its input one even when not separated."""
    inner = core_schema.get("schema") if isinstance(core_schema, dict) else None
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
