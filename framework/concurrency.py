"""Running blocking code without blocking the event loop."""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any, ParamSpec, TypeVar

import anyio.to_thread

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


class _StopIterationSentinel(Exception):
    pass


def _next_or_stop(iterator: Iterator[_T]) -> _T:
    # StopIteration cannot cross a thread boundary into a coroutine; translate it.
    try:
        return next(iterator)
    except StopIteration:
        raise _StopIterationSentinel from None


async def iterate_in_threadpool(iterable: Iterable[_T]) -> AsyncIterator[_T]:
    """Iterate a blocking iterator, each ``next()`` in a worker thread."""
    iterator = iter(iterable)
    while True:
        try:
            yield await anyio.to_thread.run_sync(_next_or_stop, iterator)
        except _StopIterationSentinel:
            break
