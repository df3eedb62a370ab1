"""Reading a callable's annotations, once, when its route is added: its resolved type hints, and
what kind of type each is."""

from __future__ import annotations

import dataclasses
import inspect
import sys
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Union

from pydantic import BaseModel

from framework.http.forms import UploadFile

_SEQUENCE_ORIGINS = (list, set, frozenset, tuple, Sequence, typing.Sequence)


def signature_hints(call: Callable[..., Any]) -> tuple[inspect.Signature, dict[str, Any]]:
    """The signature of ``call`` and its type hints (``Annotated`` extras kept), resolved against
    its module; a hint that cannot be resolved is left as written."""
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
    """Undo Python 3.10's ``Optional[...]`` around ``Annotated[X, Query()] = None`` (hiding it)."""
    if typing.get_origin(hint) is typing.Union:
        args = typing.get_args(hint)
        if len(args) == 2 and type(None) in args:
            inner = args[0] if args[1] is type(None) else args[1]
            if typing.get_origin(inner) is Annotated:
                return inner
    return hint


def _hints_one_by_one(target: Any) -> dict[str, Any]:
    """Each hint resolved alone, so that one unresolvable name leaves the others resolved."""
    namespace = getattr(inspect.unwrap(target), "__globals__", {})
    hints: dict[str, Any] = {}
    for name, annotation in getattr(target, "__annotations__", {}).items():
        holder = types.SimpleNamespace(__annotations__={name: annotation})
        try:
            hints.update(typing.get_type_hints(holder, namespace, include_extras=True))
        except Exception:
            hints[name] = annotation
    return hints


def strip_optional(annotation: Any) -> Any:
    """``X`` for ``X | None``, ``Optional[X]`` or ``Annotated[X, ...]``."""
    origin = typing.get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return strip_optional(args[0])
    if origin is Annotated:
        return strip_optional(typing.get_args(annotation)[0])
    return annotation


def is_class(obj: Any) -> typing.TypeGuard[type[Any]]:
    """Whether ``obj`` is a real class: ``list[int]`` passes ``inspect.isclass`` on Python 3.10
    but cannot be given to ``issubclass``."""
    return isinstance(obj, type) and not isinstance(obj, types.GenericAlias)


def is_subclass(annotation: Any, base: type) -> bool:
    """Whether ``annotation`` is a class derived from ``base`` (False for anything else)."""
    return is_class(annotation) and issubclass(annotation, base)


def is_sequence(annotation: Any) -> bool:
    """``list[int]``, ``tuple[str, ...]``, ``set[str] | None``: several values of one name."""
    inner = strip_optional(annotation)
    origin = typing.get_origin(inner) or inner
    return (
        is_class(origin)
        and issubclass(origin, _SEQUENCE_ORIGINS)
        and not issubclass(origin, (str, bytes, bytearray, memoryview))
    )


def _is_complex(annotation: Any) -> bool:
    """A type read from a body rather than a query string: models, dataclasses, mappings."""
    inner = strip_optional(annotation)
    origin = typing.get_origin(inner)
    if origin is Union or origin is types.UnionType:
        return any(_is_complex(arg) for arg in typing.get_args(inner))
    target = origin or inner
    return (
        is_subclass(target, BaseModel)
        or dataclasses.is_dataclass(target)
        or is_subclass(target, Mapping)
        or target is dict
    )


def is_scalar_or_scalar_sequence(annotation: Any) -> bool:
    """What a query string, a header or a cookie can carry: scalars, or sequences of them."""
    if is_sequence(annotation):
        args = typing.get_args(strip_optional(annotation))
        if not args or args[0] is Any:
            return False  # a bare ``list`` (or ``list[Any]``) is a JSON body, as ``dict`` is
        return not any(_is_complex(arg) or is_sequence(arg) for arg in args if arg is not Ellipsis)
    return not _is_complex(annotation)


def is_upload(annotation: Any) -> bool:
    """``UploadFile`` or a sequence of them (optional or not)."""
    inner = strip_optional(annotation)
    if is_sequence(inner):
        args = typing.get_args(inner)
        return bool(args) and is_subclass(strip_optional(args[0]), UploadFile)
    return is_subclass(inner, UploadFile)
