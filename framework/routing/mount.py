"""``Mount``: any ASGI app (another App, StaticFiles, ...) served under a path prefix."""

from __future__ import annotations

from typing import Any

from framework.http.datastructures import URL, URLPath
from framework.http.responses import RedirectResponse
from framework.routing.paths import PathTemplate
from framework.routing.route import BaseRoute, NoMatchFound
from framework.types import Receive, Scope, Send

__all__ = ["Mount"]


class Mount(BaseRoute):
    """Any ASGI app under a path prefix: ``Mount("/static", StaticFiles(...), name="static")``.

    Requests for ``/static`` and below go to ``app`` with ``root_path`` extended by the prefix
    (``path`` stays the full path, as ASGI asks); ``/static`` alone is redirected to ``/static/``.
    The app's own routes are tried first, then mounts in the order added. Only the outermost app
    runs a lifespan.
    """

    def __init__(self, path: str, app: Any, name: str | None = None) -> None:
        path = path.rstrip("/")
        if path and not path.startswith("/"):
            raise ValueError("A mount path must start with '/'")
        if "{" in path:
            raise ValueError("Mount paths with parameters are not supported")
        self.path, self.app, self.name = path, app, name or ""
        self.template = PathTemplate.compile(path + "/{path:path}")

    @property
    def routes(self) -> list[BaseRoute]:
        """The mounted app's routes, when it has any."""
        return list(getattr(self.app, "routes", []))

    def with_prefix(self, prefix: str) -> Mount:
        """A copy of this mount under ``prefix``."""
        return Mount(prefix + self.path, self.app, name=self.name or None)

    def matches(self, path: str) -> bool:
        """Whether ``path`` (without the root path) is at or below this mount's prefix."""
        return not self.path or path == self.path or path.startswith(self.path + "/")

    def url_path_for(self, name: str, /, **params: Any) -> URLPath:
        """``"static", path="a.css"`` gives ``/static/a.css``; ``"api:items"`` asks the mounted
        app for its ``items`` route (without a mount name, the mounted app's names are used as
        they are)."""
        if self.name and name == self.name and set(params) == {"path"}:
            return URLPath(self.path + "/" + str(params["path"]).lstrip("/"))
        lookup = getattr(self.app, "url_path_for", None)
        if lookup is None or (self.name and not name.startswith(self.name + ":")):
            raise NoMatchFound(name, params)
        inner = name[len(self.name) + 1 :] if self.name else name
        try:
            return URLPath(self.path + lookup(inner, **params))
        except NoMatchFound:
            raise NoMatchFound(name, params) from None

    async def handle(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        """Hand the connection to the mounted app (``path`` is the routed path)."""
        if path == self.path and self.path and scope["type"] == "http":
            url = URL(scope=scope)
            await RedirectResponse(url.replace(path=url.path + "/"), status_code=307)(
                scope, receive, send
            )
            return
        root_path = scope.get("root_path", "")
        child = {**scope, "root_path": root_path + self.path}
        child.setdefault("app_root_path", root_path)
        await self.app(child, receive, send)
