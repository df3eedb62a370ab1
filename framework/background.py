"""Work that runs after the response has been sent."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, ParamSpec

from framework.concurrency import is_async_callable, run_in_threadpool

_P = ParamSpec("_P")
logger = logging.getLogger("framework.background")


class BackgroundTask:
    """One call to make after the response is sent: ``BackgroundTask(send_email, to, body)``
    (``async def`` functions are awaited, plain ones run in a worker thread)."""

    def __init__(self, func: Callable[_P, Any], *args: _P.args, **kwargs: _P.kwargs) -> None:
        self.func = func
        self.args = args
        self.kwargs = kwargs
        self.is_async = is_async_callable(func)

    async def __call__(self) -> None:
        if self.is_async:
            await self.func(*self.args, **self.kwargs)
        else:
            await run_in_threadpool(self.func, *self.args, **self.kwargs)


class BackgroundTasks(BackgroundTask):
    """Background tasks run in order after the response (``tasks.add_task(fn, *args)`` appends
    one); a task that raises is logged and the rest still run."""

    def __init__(self, tasks: Sequence[BackgroundTask] | None = None) -> None:
        self.tasks = list(tasks) if tasks is not None else []

    def add_task(self, func: Callable[_P, Any], *args: _P.args, **kwargs: _P.kwargs) -> None:
        """Run ``func(*args, **kwargs)`` after the response is sent."""
        self.tasks.append(BackgroundTask(func, *args, **kwargs))

    async def __call__(self) -> None:
        for task in self.tasks:
            try:
                await task()
            except Exception:
                logger.exception("Background task %r failed", getattr(task.func, "__name__", task))
