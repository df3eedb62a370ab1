"""Turning what a handler returns into JSON bytes, with pydantic-core.

A value is validated against the route's model (from attributes: an ORM object with the same
fields works) and serialised by its schema, so undeclared fields (a password) never leave; one
that does not fit is a :class:`~framework.exceptions.ResponseValidationError`, a server error.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, PydanticSchemaGenerationError, PydanticUserError, TypeAdapter
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import to_json as _core_to_json

from framework.encoders import IncEx
from framework.exceptions import ResponseValidationError
from framework.handlers.annotations import is_class, is_subclass
from framework.handlers.validators import shared_adapter
from framework.http.responses import Response

__all__ = ["ResponseSerializer", "to_json"]


to_json = functools.partial(_core_to_json, inf_nan_mode="null")
"""pydantic-core's JSON encoder writing NaN and infinities as ``null``, as pydantic models do
(JSON has no spelling for them; ``Infinity`` would make the answer unreadable to clients)."""


# Annotations whose validation is only a type check of the container.
_UNCONSTRAINED: dict[Any, type] = {
    dict: dict,
    dict[str, Any]: dict,
    typing.Dict[str, Any]: dict,  # noqa: UP006
    list: list,
    list[Any]: list,
    typing.List[Any]: list,  # noqa: UP006
}


def _no_model(annotation: Any) -> bool:
    return annotation in (inspect.Signature.empty, Any, None, type(None)) or is_subclass(
        annotation, Response
    )


def _unresolved_annotation(annotation: str | None) -> RuntimeError:
    return RuntimeError(
        f"The response model {annotation} names a type that is not defined: define it at module "
        "level (a class inside a function cannot be found from a string annotation) or pass "
        "response_model="
    )


class ResponseSerializer:
    """Validates and serialises a route's return values, with the options of FastAPI's
    ``response_model_*`` (``include``, ``exclude``, ``by_alias``, ``exclude_unset``, ...)."""

    def __init__(
        self,
        model: Any,
        *,
        include: IncEx = None,
        exclude: IncEx = None,
        by_alias: bool = True,
        exclude_unset: bool = False,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
        namespace: Mapping[str, Any] | None = None,
    ) -> None:
        # Where names in a return annotation are looked up: the handler's module's own dict (not
        # a copy), so that a model declared further down the module is found once it exists.
        self.namespace: dict[str, Any] = (
            namespace if isinstance(namespace, dict) else dict(namespace or {})
        )
        self._unresolved = model if isinstance(model, str) else None
        if self._unresolved is not None:
            model = self._evaluate(self._unresolved)
        self.model = None if _no_model(model) else model
        self.options: dict[str, Any] = {
            "include": include,
            "exclude": exclude,
            "by_alias": by_alias,
            "exclude_unset": exclude_unset,
            "exclude_defaults": exclude_defaults,
            "exclude_none": exclude_none,
        }
        # Values of the model's own class are already valid: serialised without validating.
        trusted = is_subclass(model, BaseModel) or (
            is_class(model) and dataclasses.is_dataclass(model)
        )
        self._trusted_class = model if trusted and not (exclude_unset or exclude_defaults) else None
        self.serialize: Callable[[Any], bytes] = self._build()

    def _build(self) -> Callable[[Any], bytes]:
        if self._unresolved is not None:
            return self._deferred
        options = self.options
        filtered = any(options[key] for key in ("include", "exclude", "exclude_none"))
        try:
            container = _UNCONSTRAINED.get(self.model)
        except TypeError:  # an unhashable annotation
            container = None
        if container is not None and not filtered:
            # dict[str, Any], list[Any] and the like: the only check is the container's type.
            return _container_checker(container)
        if self.model is None:
            if not filtered:
                return to_json
            keys = ("include", "exclude", "by_alias", "exclude_none")
            return functools.partial(to_json, **{key: options[key] for key in keys})
        adapter = self._make_adapter()
        return self._deferred if adapter is None else self._checked(adapter)

    def _evaluate(self, annotation: str) -> Any:
        """The object a string annotation names, or None while a name in it is undefined."""
        try:
            value = eval(annotation, self.namespace)
        except Exception:
            return None
        self._unresolved = None
        return value

    def _make_adapter(self) -> TypeAdapter[Any] | None:
        try:
            adapter: TypeAdapter[Any] = shared_adapter(self.model)
        except (PydanticSchemaGenerationError, PydanticUserError, TypeError, NameError):
            self.model = None
            return None
        # pydantic defers a type whose references are not defined yet (a model declared further
        # down the module): try again on later calls.
        rebuild = getattr(adapter, "rebuild", None)
        if rebuild is not None:
            try:
                complete = rebuild(raise_errors=False, _types_namespace=self.namespace or None)
            except TypeError:  # a pydantic without the namespace argument
                complete = rebuild(raise_errors=False)
            if complete is False:
                return None
        return adapter

    def _deferred(self, value: Any) -> bytes:
        if self._unresolved is not None:
            self.model = self._evaluate(self._unresolved)
        if self._unresolved is not None or self.model is None:
            raise _unresolved_annotation(self._unresolved)
        adapter = self._make_adapter()
        if adapter is None:
            # Sending the value unchecked could leak what the model is there to filter out.
            raise _unresolved_annotation(repr(self.model))
        self.serialize = self._checked(adapter)
        return self.serialize(value)

    def _checked(self, adapter: TypeAdapter[Any]) -> Callable[[Any], bytes]:
        """Validate, then serialise with pydantic-core directly (TypeAdapter's wrapper is slow)."""
        options, trusted, report = self.options, self._trusted_class, self.validate
        self._validate = adapter.validator.validate_python
        validate: Callable[..., Any] = self._validate
        if options["exclude_unset"] or options["exclude_defaults"]:
            # Through :meth:`validate`, which keeps what a model value left unset.
            validate = lambda value, from_attributes: report(value)  # noqa: E731
        to_json: Callable[..., bytes] = adapter.serializer.to_json
        by_alias: bool = options["by_alias"]
        others = {key: value for key, value in options.items() if value not in (None, False)}
        others.pop("by_alias", None)
        if others:
            to_json = functools.partial(to_json, **others)

        def serialize(value: Any) -> bytes:
            if trusted is None or not isinstance(value, trusted):
                try:
                    value = validate(value, from_attributes=True)
                except PydanticValidationError:
                    report(value)  # raises ResponseValidationError
                    raise
            return to_json(value, by_alias=by_alias, warnings=False)

        return serialize

    def validate(self, value: Any) -> Any:
        """``value`` checked against the model; ResponseValidationError if it does not fit."""
        options = self.options
        if isinstance(value, BaseModel) and (
            options["exclude_unset"] or options["exclude_defaults"]
        ):
            # Keep "unset" meaningful across models: only what was set is carried over.
            value = value.model_dump(
                by_alias=True,
                exclude_unset=options["exclude_unset"],
                exclude_defaults=options["exclude_defaults"],
            )
        try:
            return self._validate(value, from_attributes=True)
        except PydanticValidationError as exc:
            found = exc.errors(include_url=False, include_context=False)
            errors = [{**error, "loc": ["response", *error["loc"]]} for error in found]
            raise ResponseValidationError(errors, body=value) from None


def _container_checker(container: type) -> Callable[[Any], bytes]:
    def serialize(value: Any) -> bytes:
        if not isinstance(value, container):
            name = container.__name__
            message = f"Input should be a valid {name}"
            error = {"type": f"{name}_type", "loc": ["response"], "msg": message, "input": value}
            raise ResponseValidationError([error], body=value)
        return to_json(value)

    return serialize
