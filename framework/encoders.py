"""``jsonable_encoder``: any value as plain JSON-compatible Python data, as FastAPI's (for
storing values, building documents and custom responses; routes serialise on their own).
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
from collections import deque
from collections.abc import Callable, Iterator
from decimal import Decimal
from enum import Enum
from pathlib import PurePath
from types import GeneratorType
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticSerializationError, to_jsonable_python

__all__ = ["IncEx", "jsonable_encoder"]

IncEx = set[int] | set[str] | dict[int, Any] | dict[str, Any] | None
"""What ``include`` and ``exclude`` accept: sets of names or indexes, or nested dicts of them."""

_SEQUENCES = (list, tuple, set, frozenset, deque, GeneratorType)


def jsonable_encoder(
    obj: Any,
    include: IncEx = None,
    exclude: IncEx = None,
    by_alias: bool = True,
    exclude_unset: bool = False,
    exclude_defaults: bool = False,
    exclude_none: bool = False,
    custom_encoder: dict[Any, Callable[[Any], Any]] | None = None,
    sqlalchemy_safe: bool = True,
) -> Any:
    """``obj`` as plain JSON-compatible Python data (dicts, lists, str, int, float, bool, None),
    ready for ``json.dumps`` or for storing, as FastAPI's ``jsonable_encoder`` returns it.

    - pydantic models are dumped in JSON mode with ``include``, ``exclude``, ``by_alias``,
      ``exclude_unset``, ``exclude_defaults`` and ``exclude_none``; dataclasses become dicts.
    - dicts: ``include``/``exclude`` select top-level keys, ``exclude_none`` drops ``None``
      values at every level, keys are encoded too. Lists, tuples, sets, deques and generators
      become lists (``include``/``exclude`` then apply to each item).
    - ``datetime``/``date``/``time`` give ``isoformat()``, ``timedelta`` its seconds as a float,
      ``Decimal`` an int (no fractional digits) or a float, an ``Enum`` its value, a path its
      string; UUIDs, IP addresses, URLs, bytes, secrets and the other types pydantic knows are
      converted by pydantic-core.
    - ``custom_encoder`` maps a type to a function, tried first (the exact type, then
      ``isinstance``). Any other object is read as ``dict(obj)``, then ``vars(obj)`` (skipping
      ``_sa*`` attributes of SQLAlchemy objects while ``sqlalchemy_safe``); else ``ValueError``.
    """
    if custom_encoder:
        encoder = custom_encoder.get(type(obj))
        if encoder is None:
            encoder = next(
                (func for kind, func in custom_encoder.items() if isinstance(obj, kind)), None
            )
        if encoder is not None:
            return encoder(obj)
    if obj is None or (isinstance(obj, (str, int, float)) and not isinstance(obj, Enum)):
        return obj
    options: dict[str, Any] = dict(
        by_alias=by_alias,
        exclude_unset=exclude_unset,
        exclude_defaults=exclude_defaults,
        exclude_none=exclude_none,
    )
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json", include=include, exclude=exclude, **options)
    again: Callable[..., Any] = functools.partial(
        jsonable_encoder, custom_encoder=custom_encoder, sqlalchemy_safe=sqlalchemy_safe, **options
    )
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        fields = {field.name: getattr(obj, field.name) for field in dataclasses.fields(obj)}
        return again(fields, include, exclude)
    if isinstance(obj, Enum):
        return again(obj.value)
    if isinstance(obj, dict):
        items = _kept_items(obj, include, exclude, exclude_none, sqlalchemy_safe)
        return {again(key): again(value) for key, value in items}
    if isinstance(obj, _SEQUENCES):
        return [again(item, include, exclude) for item in obj]
    return _encode_other(obj, by_alias, lambda data: again(data, include, exclude))


def _kept_items(
    obj: dict[Any, Any], include: IncEx, exclude: IncEx, exclude_none: bool, sqlalchemy_safe: bool
) -> Iterator[tuple[Any, Any]]:
    keys: set[Any] | None = None
    if include is not None or exclude is not None:
        keys = set(obj) if include is None else set(obj) & set(include)
        keys -= set(exclude or ())
    for key, value in obj.items():
        if (keys is not None and key not in keys) or (value is None and exclude_none):
            continue
        if not (sqlalchemy_safe and isinstance(key, str) and key.startswith("_sa")):
            yield key, value


def _encode_other(obj: Any, by_alias: bool, encode_data: Callable[[Any], Any]) -> Any:
    """A value of no type above: known scalars converted, any other object read as data."""
    if isinstance(obj, (datetime.date, datetime.time)):  # datetime is a date
        return obj.isoformat()
    if isinstance(obj, datetime.timedelta):
        return obj.total_seconds()
    if isinstance(obj, Decimal):
        exponent = obj.as_tuple().exponent
        return int(obj) if isinstance(exponent, int) and exponent >= 0 else float(obj)
    if isinstance(obj, PurePath):
        return str(obj)
    try:
        return to_jsonable_python(obj, by_alias=by_alias)
    except PydanticSerializationError:
        pass
    try:
        data = dict(obj)
    except Exception:
        try:
            data = vars(obj)
        except TypeError:
            raise ValueError(
                f"Object of type {type(obj).__name__} cannot be converted to JSON data"
            ) from None
    return encode_data(data)
