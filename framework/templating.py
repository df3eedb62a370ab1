"""HTML pages from Jinja2 templates (the ``templates`` extra; see ``docs/templates.md``):
``return templates.TemplateResponse(request, "item.html", {"item_id": item_id})``.
Templates see the ``request`` and ``url_for(name, **path_params)``."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from framework.background import BackgroundTask
from framework.http.datastructures import URL
from framework.http.requests import Request
from framework.http.responses import HTMLResponse
from framework.types import Receive, Scope, Send

try:
    import jinja2
except ImportError as error:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "framework.templating needs Jinja2: pip install 'framework[templates]'"
    ) from error

__all__ = ["Jinja2Templates", "TemplateResponse"]

ContextProcessor = Callable[[Request], Mapping[str, Any]]


class TemplateResponse(HTMLResponse):
    """An HTML response rendered from ``template`` with ``context``, both kept as attributes
    (``response.template.name``, ``response.context``) for tests and middleware."""

    def __init__(
        self,
        template: jinja2.Template,
        context: dict[str, Any],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        self.template = template
        self.context = context
        super().__init__(template.render(context), status_code, headers, media_type, background)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if "http.response.debug" in scope.get("extensions", {}):
            # Test clients that offer this extension can show which template was rendered.
            info = {"template": self.template, "context": self.context}
            await send({"type": "http.response.debug", "info": info})
        await super().__call__(scope, receive, send)


@jinja2.pass_context
def _url_for(context: Mapping[str, Any], name: str, /, **path_params: Any) -> URL:
    request: Request = context["request"]
    return request.url_for(name, **path_params)


class Jinja2Templates:
    """Renders Jinja2 templates into :class:`TemplateResponse` objects, from ``directory`` (a
    folder, or folders searched in order; autoescaping ``.html``, ``.htm``, ``.xml``) or a ready
    ``env``. ``context_processors`` are functions of the request whose dicts are added to every
    context. A ``url_for`` global is added to the environment unless it has one."""

    def __init__(
        self,
        directory: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
        *,
        context_processors: Sequence[ContextProcessor] | None = None,
        env: jinja2.Environment | None = None,
    ) -> None:
        if (directory is None) == (env is None):
            raise TypeError("Jinja2Templates needs either directory= or env=, not both")
        self.context_processors = list(context_processors or ())
        if directory is not None:
            loader = jinja2.FileSystemLoader(directory)
            env = jinja2.Environment(loader=loader, autoescape=jinja2.select_autoescape())
        assert env is not None
        self.env = env
        env.globals.setdefault("url_for", _url_for)

    def get_template(self, name: str) -> jinja2.Template:
        """The template called ``name`` (``jinja2.TemplateNotFound`` if there is none)."""
        return self.env.get_template(name)

    def TemplateResponse(
        self,
        request: Request,
        name: str,
        context: dict[str, Any] | None = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> TemplateResponse:
        """Render template ``name`` with ``context``, ``request`` and the context processors'
        values into an HTML response (``jinja2.TemplateNotFound`` if there is no such template)."""
        if isinstance(request, str):
            raise TypeError(
                "TemplateResponse() takes the request first: "
                "templates.TemplateResponse(request, name, context)"
            )
        context = dict(context or {})
        context.setdefault("request", request)
        for processor in self.context_processors:
            context.update(processor(request))
        template = self.get_template(name)
        return TemplateResponse(template, context, status_code, headers, media_type, background)
