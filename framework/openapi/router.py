""":class:`DocumentationRouter`: operations the document describes but the app never serves."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from typing_extensions import Unpack

from framework.routing import Route, RouteOptions, Router


class DocumentationRouter(Router):
    """Operations described in the document but not served: webhooks (``app.webhooks``) and
    callbacks (``callbacks=router.routes`` on a route). Paths are kept as written (a webhook's
    name, or a callback's URL expression such as ``"{$callback_url}/invoices/{$request.body.id}"``);
    the endpoints' signatures describe the request the API sends.
    """

    def add_api_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        methods: Sequence[str] | None = None,
        **options: Unpack[RouteOptions],
    ) -> None:
        """Describe ``endpoint`` under ``path`` (any text) and ``methods`` (GET by default)."""
        full, merged = self.prefix + path, self.route_options(options)
        try:
            route = Route(full, endpoint, methods=methods, **merged)
        except ValueError:  # not a route path: described without path parameters
            route = Route("/", endpoint, methods=methods, **merged)
            route.path = full
        self.routes.append(route)  # described only: not in the path index
