"""The compile step: an endpoint's signature becomes a plan, once, when its route is added.

A request then runs the plan: take the converted path parameters from the match, make a
:class:`~framework.requests.Request` only if the endpoint asked for one, and call the endpoint.
Nothing here runs ``inspect`` or builds a type on the request path.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable
from typing import Any

from framework.concurrency import is_async_callable
from framework.requests import HTTPConnection, Request


def signature_hints(call: Callable[..., Any]) -> tuple[inspect.Signature, dict[str, Any]]:
    """The signature of ``call`` and its resolved type hints (``Annotated`` extras kept).

    Hints written as strings (``from __future__ import annotations``) are resolved against the
    function's module; a hint that cannot be resolved is left as written.
    """
    signature = inspect.signature(call)
    target = call if inspect.isfunction(call) or inspect.ismethod(call) else type(call).__call__
    if inspect.isclass(call):
        target = call.__init__
    try:
        hints = typing.get_type_hints(target, include_extras=True)
    except Exception:
        hints = _hints_one_by_one(target)
    return signature, hints


def _hints_one_by_one(target: Any) -> dict[str, Any]:
    """Resolve each annotation on its own, so one unresolvable name (a ``TYPE_CHECKING`` import)
    does not leave the others, ``Request`` among them, unresolved."""
    namespace = getattr(inspect.unwrap(target), "__globals__", {})
    hints: dict[str, Any] = {}
    for name, annotation in getattr(target, "__annotations__", {}).items():
        holder = types.SimpleNamespace(__annotations__={name: annotation})
        try:
            hints.update(typing.get_type_hints(holder, namespace, include_extras=True))
        except Exception:
            hints[name] = annotation
    return hints


def _is_connection_class(annotation: Any) -> bool:
    return inspect.isclass(annotation) and issubclass(annotation, HTTPConnection)


class EndpointPlan:
    """What a route does for each request, decided from the endpoint's signature.

    - ``path_params``: endpoint parameters filled from the path, by name.
    - ``request_param``: the parameter annotated ``Request`` (or ``WebSocket``), if any.
    - ``is_async``: awaited on the loop, or run in a worker thread.
    - ``needs_request``/``takes_arguments``: precomputed flags the route reads per request.
    """

    __slots__ = (
        "endpoint",
        "is_async",
        "needs_request",
        "path_params",
        "request_param",
        "return_annotation",
        "takes_arguments",
    )

    def __init__(
        self,
        endpoint: Callable[..., Any],
        path_params: tuple[str, ...],
        request_param: str | None,
        is_async: bool,
        return_annotation: Any,
    ) -> None:
        self.endpoint = endpoint
        self.path_params = path_params
        self.request_param = request_param
        self.is_async = is_async
        self.return_annotation = return_annotation
        self.needs_request = request_param is not None
        self.takes_arguments = bool(path_params) or self.needs_request

    def arguments(
        self, path_params: dict[str, Any], request: HTTPConnection | None
    ) -> dict[str, Any]:
        """The keyword arguments for one call."""
        if self.path_params:
            kwargs = {name: path_params[name] for name in self.path_params}
        else:
            kwargs = {}
        if self.request_param is not None:
            kwargs[self.request_param] = request
        return kwargs


def compile_endpoint(
    endpoint: Callable[..., Any],
    path: str,
    path_names: tuple[str, ...],
    connection: type[HTTPConnection] = Request,
) -> EndpointPlan:
    """Read ``endpoint``'s signature once and decide where each parameter comes from.

    Raises ``TypeError`` naming the parameter when one can be filled from nowhere, so a mistake
    shows when the route is added, not on the first request.
    """
    signature, hints = signature_hints(endpoint)
    from_path: list[str] = []
    request_param: str | None = None
    for name, parameter in signature.parameters.items():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        annotation = hints.get(name, parameter.annotation)
        if _is_connection_class(annotation):
            if not issubclass(connection, annotation):
                raise TypeError(
                    f"Parameter {name!r} of {getattr(endpoint, '__qualname__', endpoint)} wants "
                    f"a {annotation.__name__}, but this route provides a {connection.__name__}"
                )
            request_param = name
        elif name in path_names:
            from_path.append(name)
        elif parameter.default is parameter.empty:
            raise TypeError(
                f"Cannot fill parameter {name!r} of {getattr(endpoint, '__qualname__', endpoint)}: "
                f"it is not a parameter of the path {path!r} and not annotated as "
                f"{connection.__name__}"
            )
    return_annotation = hints.get("return", signature.return_annotation)
    return EndpointPlan(
        endpoint=endpoint,
        path_params=tuple(from_path),
        request_param=request_param,
        is_async=is_async_callable(endpoint),
        return_annotation=return_annotation,
    )
