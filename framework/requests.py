"""``framework.requests``: :class:`Request` and :class:`HTTPConnection` (from :mod:`framework.http.requests`)."""

from framework.http.requests import ClientDisconnect, HTTPConnection, Request

__all__ = ["ClientDisconnect", "HTTPConnection", "Request"]
