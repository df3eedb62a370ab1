"""Validation errors in FastAPI's shape, as a 422 answer lists them: ``{"type", "loc", "msg",
"input", "ctx"?}``, ``loc`` starting at the location (``"query"``, ``"body"``, ...)."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

if TYPE_CHECKING:
    from framework.handlers.compile import BodySpec

__all__ = [
    "MAX_BODY_ERRORS",
    "body_errors",
    "json_invalid_error",
    "missing_error",
    "validation_errors",
]


def validation_errors(
    exc: ValidationError, prefix: tuple[str | int, ...], *, missing_input: bool = True
) -> list[dict[str, Any]]:
    """pydantic's errors in FastAPI's shape, ``loc`` prefixed with the location; ``missing_input``
    keeps the input of a missing value (for bodies; parameters report ``None``)."""
    result = []
    for error in exc.errors(include_url=False):
        item: dict[str, Any] = {
            "type": error["type"],
            "loc": [*prefix, *error["loc"]],
            "msg": error["msg"],
            "input": None if error["type"] == "missing" and not missing_input else error["input"],
        }
        if isinstance(item["input"], (bytes, bytearray)):
            item["input"] = bytes(item["input"]).decode("utf-8", "replace")
        if "ctx" in error:
            item["ctx"] = {key: _plain(value) for key, value in error["ctx"].items()}
        result.append(item)
    return result


def _plain(value: Any) -> Any:
    if isinstance(value, BaseException):
        return {}  # a validator's exception: its text is in "msg" already (FastAPI's shape)
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)


MAX_BODY_ERRORS = 1000
"""Past this many errors in a body, only the first of each list, tuple, set or dict is reported:
listing millions (a 10 MiB array of wrong items) would take seconds and gigabytes."""


def body_errors(
    spec: BodySpec, body: bytes, is_json: bool, exc: ValidationError
) -> list[dict[str, Any]]:
    """The errors of a body with more than :data:`MAX_BODY_ERRORS`: the first of each container
    (validated again, stopping at each container's first bad item), or one ``too_many_errors``."""
    try:
        validator = spec.fail_fast_validator
        (validator.validate_json if is_json else validator.validate_python)(body)
    except ValidationError as first:
        if first.error_count() <= MAX_BODY_ERRORS:
            return validation_errors(first, ("body",))
    except Exception:  # a model validator that expected its model: list none
        pass
    count = exc.error_count()
    message = f"The body has {count} validation errors, too many to list"
    return [{"type": "too_many_errors", "loc": ["body"], "msg": message, "input": {}}]


def missing_error(loc: list[str | int]) -> dict[str, Any]:
    """A required value that was not sent, as pydantic reports it (without an input)."""
    return {"type": "missing", "loc": loc, "msg": "Field required", "input": None}


_LINE_COLUMN = re.compile(r" at line (\d+) column (\d+)$")


def json_invalid_error(body: bytes, exc: ValidationError) -> dict[str, Any]:
    """FastAPI's error for a body that is not JSON: ``loc`` ``["body", position]``, the
    position and reason as the standard library's parser reports them."""
    try:
        json.loads(body)
    except json.JSONDecodeError as error:
        position, reason = error.pos, error.msg
    except (ValueError, RecursionError):
        # Not UTF-8, nested too deep, or an integer too long: pydantic's reason and position.
        position, reason = _json_position(body, exc)
    else:  # what only the standard library accepts (a lone surrogate escape)
        position, reason = _json_position(body, exc)
    return {
        "type": "json_invalid",
        "loc": ["body", position],
        "msg": "JSON decode error",
        "input": {},
        "ctx": {"error": reason},
    }


def _json_position(body: bytes, exc: ValidationError) -> tuple[int, str]:
    reason = str(exc.errors()[0].get("ctx", {}).get("error", "invalid JSON"))
    found = _LINE_COLUMN.search(reason)
    if found is None:
        return 0, reason
    line, column = int(found[1]), int(found[2])
    lines = body.decode("utf-8", "replace").split("\n")
    position = sum(len(text) + 1 for text in lines[: line - 1]) + column - 1
    return position, reason[: found.start()]
