"""``framework.requests``: the request classes (from :mod:`framework.http.requests`)."""

from framework.http.requests import ClientDisconnect, HTTPConnection, Request

__all__ = ["ClientDisconnect", "HTTPConnection", "Request"]
