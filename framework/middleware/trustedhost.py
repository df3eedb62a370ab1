"""Refuse requests whose ``Host`` the app does not serve (Host-header attacks: poisoned URLs,
caches): ``app.add_middleware(TrustedHostMiddleware, allowed_hosts=["*.example.com"])``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from framework.http.datastructures import URL
from framework.http.responses import PlainTextResponse, RedirectResponse, Response
from framework.types import ASGIApp, Receive, Scope, Send

__all__ = ["TrustedHostMiddleware", "parse_host", "refuse"]

ENFORCE_DOMAIN_WILDCARD = "Domain wildcard patterns must be like '*.example.com'."

# RFC 3986 host (reg-name, IPv4 or bracketed IP literal) and an optional port.
_HOST = re.compile(
    rb"(?P<host>[a-z0-9\-._~%!$&'()*+,;=]+|\[[a-z0-9.:%_\-]+\])(?::(?P<port>[0-9]*))?",
    re.IGNORECASE,
)
_CACHE_LIMIT = 256
_Verdict = Literal["allowed", "redirect", "invalid"]


def parse_host(value: bytes) -> str | None:
    """The host of a ``Host`` value, lower-case, without port (IPv6 brackets kept), or ``None``."""
    match = _HOST.fullmatch(value)
    if match is None:
        return None
    return match["host"].decode("ascii").lower()


async def refuse(response: Response, scope: Scope, receive: Receive, send: Send) -> None:
    """Send ``response`` instead of the app's: to a WebSocket handshake as a denial response where
    the server supports it, else as a close (1008)."""
    if scope["type"] == "http":
        await response(scope, receive, send)
    elif "websocket.http.response" in scope.get("extensions", {}):
        start = {"status": response.status_code, "headers": response.raw_headers}
        await send({"type": "websocket.http.response.start", **start})
        await send({"type": "websocket.http.response.body", "body": response.body})
    else:
        await send({"type": "websocket.close", "code": 1008, "reason": ""})


class TrustedHostMiddleware:
    """Only let through requests whose ``Host`` (port and case ignored) is in ``allowed_hosts``:
    host names, ``"*.example.com"`` for every subdomain (not ``example.com`` itself), or ``"*"``
    (the default) for any. Others, and a missing or malformed ``Host``, get ``400 Invalid host
    header`` (a WebSocket: see :func:`refuse`). ``www_redirect`` (default ``True``): redirect (307)
    ``example.com`` to ``www.example.com`` when only the latter is allowed.
    """

    def __init__(
        self, app: ASGIApp, allowed_hosts: Sequence[str] | None = None, www_redirect: bool = True
    ) -> None:
        if allowed_hosts is None:
            allowed_hosts = ["*"]
        for pattern in allowed_hosts:
            wildcard = pattern.startswith("*") and pattern != "*"
            if "*" in pattern[1:] or (wildcard and not pattern.startswith("*.")):
                raise ValueError(ENFORCE_DOMAIN_WILDCARD)
        self.app = app
        self.allowed_hosts = [pattern.lower() for pattern in allowed_hosts]
        self.allow_any = "*" in self.allowed_hosts
        self.www_redirect = www_redirect
        self._exact = frozenset(p for p in self.allowed_hosts if not p.startswith("*"))
        self._suffixes = tuple(p[1:] for p in self.allowed_hosts if p.startswith("*."))
        self._verdicts: dict[bytes, _Verdict] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.allow_any or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = b""
        for name, value in scope["headers"]:
            if name == b"host":
                host = value
                break
        verdict = self._verdicts.get(host)
        if verdict is None:
            verdict = self._judge(bytes(host))
            if len(self._verdicts) < _CACHE_LIMIT:
                self._verdicts[bytes(host)] = verdict
        if verdict == "allowed":
            await self.app(scope, receive, send)
            return
        response: Response
        if verdict == "redirect":
            url = URL(scope=scope)
            response = RedirectResponse(url.replace(netloc="www." + url.netloc))
        else:
            response = PlainTextResponse("Invalid host header", status_code=400)
        await refuse(response, scope, receive, send)

    def is_allowed_host(self, host: str) -> bool:
        """Whether ``host`` (lower-case, no port) is allowed."""
        return self.allow_any or host in self._exact or host.endswith(self._suffixes)

    def _judge(self, value: bytes) -> _Verdict:
        host = parse_host(value)
        if host is None:
            return "invalid"
        if self.is_allowed_host(host):
            return "allowed"
        if self.www_redirect and "www." + host in self._exact:
            return "redirect"
        return "invalid"
