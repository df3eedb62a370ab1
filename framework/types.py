"""The ASGI 3 callable signature, spelled once for the whole package, and the one sentinel."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class _Unset:
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()
"""The one "nothing here" marker: an option left to the enclosing router or app (where ``None``
has a meaning of its own, "no limit"), a value not computed yet, a step that failed."""
