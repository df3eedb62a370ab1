"""Running blocking code without blocking the event loop."""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any, ParamSpec, TypeVar, cast

import anyio.to_thread

from framework.types import UNSET

_P = ParamSpec("_P")
_T = TypeVar("_T")


def is_async_callable(obj: Any) -> bool:
    """True for ``async def`` functions, partials of them, and objects with an async ``__call__``."""
    while isinstance(obj, functools.partial):
        obj = obj.func
    return inspect.iscoroutinefunction(obj) or (
        callable(obj) and inspect.iscoroutinefunction(getattr(obj, "__call__", None))  # noqa: B004
    )


async def run_in_threadpool(func: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """Call a blocking ``func`` in a worker thread (anyio's pool) and await its result."""
    if kwargs:
        return await anyio.to_thread.run_sync(functools.partial(func, *args, **kwargs))
    return await anyio.to_thread.run_sync(func, *args)


async def iterate_in_threadpool(iterable: Iterable[_T]) -> AsyncIterator[_T]:
    """Iterate a blocking iterator, each ``next()`` in a worker thread."""
    iterator = iter(iterable)
    # next()'s default marks the end: StopIteration cannot cross from a thread into a coroutine.
    while (item := await anyio.to_thread.run_sync(next, iterator, UNSET)) is not UNSET:
        yield cast(_T, item)
