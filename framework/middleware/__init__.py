"""Middleware: plain ASGI classes ``cls(app, **options)`` wrapped around the app, given as
``App(middleware=[Middleware(GZipMiddleware, minimum_size=1000)])`` or to ``app.add_middleware``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

from framework.types import ASGIApp


class Middleware:
    """A middleware class and the options to build it with, for ``App(middleware=[...])``."""

    def __init__(self, cls: Any, *args: Any, **kwargs: Any) -> None:
        self.cls = cls
        self.args = args
        self.kwargs = kwargs

    def build(self, app: ASGIApp) -> ASGIApp:
        """Instantiate around ``app``."""
        return cast(ASGIApp, self.cls(app, *self.args, **self.kwargs))

    def __iter__(self) -> Iterator[Any]:
        return iter((self.cls, self.args, self.kwargs))

    def __repr__(self) -> str:
        options = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        name = getattr(self.cls, "__name__", repr(self.cls))
        return f"Middleware({', '.join([name, *options])})"


__all__ = ["Middleware"]
