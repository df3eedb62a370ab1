"""Turning what a handler returns into JSON bytes, with pydantic-core.

:class:`ResponseSerializer` is built once per route from its ``response_model`` (or return
annotation): a value is validated against the model (read from attributes, so another model, a
dataclass or an ORM object with the same fields works) and serialised by the model's schema, so
fields the model does not declare (a password) never leave. A value that does not fit is a
:class:`~framework.exceptions.ResponseValidationError`, a server error, never a silent send.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, PydanticSchemaGenerationError, PydanticUserError, TypeAdapter
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import to_json

from framework.exceptions import ResponseValidationError
from framework.responses import Response

__all__ = ["ResponseSerializer"]

IncEx = set[int] | set[str] | dict[int, Any] | dict[str, Any] | None


# Annotations whose validation is only a type check of the container.
_UNCONSTRAINED: dict[Any, type] = {
    dict: dict,
    dict[str, Any]: dict,
    typing.Dict[str, Any]: dict,  # noqa: UP006
    list: list,
    list[Any]: list,
    typing.List[Any]: list,  # noqa: UP006
}


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _no_model(annotation: Any) -> bool:
    return annotation in (inspect.Signature.empty, Any, None, type(None)) or (
        inspect.isclass(annotation) and issubclass(annotation, Response)
    )


class ResponseSerializer:
    """Validates and serialises a route's return values (built once per route).

    Options as FastAPI's ``response_model_*``: ``include``, ``exclude``, ``by_alias`` (True),
    ``exclude_unset``, ``exclude_defaults``, ``exclude_none``.
    """

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
    ) -> None:
        self.model = None if _no_model(model) or isinstance(model, str) else model
        self.options: dict[str, Any] = {
            "include": include,
            "exclude": exclude,
            "by_alias": by_alias,
            "exclude_unset": exclude_unset,
            "exclude_defaults": exclude_defaults,
            "exclude_none": exclude_none,
        }
        self._adapter: TypeAdapter[Any] | None = None
        # Passed to pydantic-core's serializer: only what differs from its defaults.
        self._dump_options: dict[str, Any] = {"by_alias": by_alias, "warnings": False}
        self._dump_options.update(
            (key, value)
            for key, value in self.options.items()
            if key != "by_alias" and value not in (None, False)
        )
        # Values of the model's own class are already valid: serialise without validating.
        self._trusted_class = (
            model
            if inspect.isclass(model)
            and (issubclass(model, BaseModel) or dataclasses.is_dataclass(model))
            and not (exclude_unset or exclude_defaults)
            else None
        )
        self.serialize: Callable[[Any], bytes] = self._build()

    def _build(self) -> Callable[[Any], bytes]:
        container = _UNCONSTRAINED.get(self.model) if _hashable(self.model) else None
        if container is not None and not any(
            self.options[k] for k in ("include", "exclude", "exclude_none")
        ):
            # dict[str, Any], list[Any] and the like: the only check is the container's type.
            return self._container_checker(container)
        if self.model is None:
            options = self.options
            if not any(options[k] for k in ("include", "exclude", "exclude_none")):
                return to_json
            return self._plain
        adapter = self._make_adapter()
        if adapter is None:
            return self._deferred
        self._use(adapter)
        return self._typed

    def _use(self, adapter: TypeAdapter[Any]) -> None:
        self._adapter = adapter
        self._validate = adapter.validator.validate_python
        self._to_json = adapter.serializer.to_json

    def _make_adapter(self) -> TypeAdapter[Any] | None:
        try:
            adapter: TypeAdapter[Any] = TypeAdapter(typing.cast(Any, self.model))
        except (PydanticSchemaGenerationError, PydanticUserError, TypeError, NameError):
            self.model = None
            return None
        # pydantic defers a type whose references are not defined yet (a model declared further
        # down the module): try again on later calls.
        rebuild = getattr(adapter, "rebuild", None)
        if rebuild is not None and rebuild(raise_errors=False) is False:
            return None
        return adapter

    def _container_checker(self, container: type) -> Callable[[Any], bytes]:
        def serialize(value: Any) -> bytes:
            if not isinstance(value, container):
                raise ResponseValidationError(
                    [
                        {
                            "type": f"{container.__name__}_type",
                            "loc": ["response"],
                            "msg": f"Input should be a valid {container.__name__}",
                            "input": value,
                        }
                    ],
                    body=value,
                )
            return to_json(value)

        return serialize

    def _plain(self, value: Any) -> bytes:
        options = self.options
        return to_json(
            value,
            include=options["include"],
            exclude=options["exclude"],
            by_alias=options["by_alias"],
            exclude_none=options["exclude_none"],
        )

    def _deferred(self, value: Any) -> bytes:
        if self.model is None:
            return to_json(value)
        adapter = self._make_adapter()
        if adapter is None:
            return to_json(value)  # still undefined: by value, never a 500
        self._use(adapter)
        self.serialize = self._typed
        return self._typed(value)

    def _typed(self, value: Any) -> bytes:
        trusted = self._trusted_class
        if trusted is None or not isinstance(value, trusted):
            value = self.validate(value)
        # pydantic-core's serializer directly: TypeAdapter's wrapper costs as much again.
        serialized: bytes = self._to_json(value, **self._dump_options)
        return serialized

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
            errors = [
                {
                    "type": error["type"],
                    "loc": ["response", *error["loc"]],
                    "msg": error["msg"],
                    "input": error["input"],
                }
                for error in exc.errors(include_url=False)
            ]
            raise ResponseValidationError(errors, body=value) from None
