"""Serve the files of a directory: ``app.mount("/static", StaticFiles(directory="static"))``."""

from __future__ import annotations

import errno
import mimetypes
import os
import stat

import anyio.to_thread

from framework.exception_handlers import answer_with_handler
from framework.exceptions import HTTPException
from framework.http.datastructures import URL
from framework.http.files import FileResponse
from framework.http.responses import RedirectResponse
from framework.routing.router import route_path
from framework.types import Receive, Scope, Send

__all__ = ["StaticFiles"]

# stat() errors that mean "no such file here" rather than a broken server.
_MISSING_ERRNOS = frozenset(
    (errno.ENOENT, errno.ENOTDIR, errno.ENAMETOOLONG, errno.ELOOP, errno.EACCES, errno.EPERM)
)
_SEPARATORS = frozenset(sep for sep in (os.sep, os.altsep) if sep and sep != "/")

_Found = tuple[str, str, os.stat_result]  # the path to open, the path asked for, its stat


class StaticFiles:
    """An ASGI app serving the files under ``directory`` to GET and HEAD requests (others: 405),
    mounted or alone; missing files and anything outside ``directory`` (``..``, NUL, symlinks
    leading out) get 404, through the app's ``HTTPException`` handlers if any.

    - ``html=True``: a directory serves its ``index.html`` (``/docs`` redirects to ``/docs/``
      first) and a miss the top-level ``404.html`` with status 404, when those files exist.
    - ``check_dir=True``: raise ``RuntimeError`` here, not at the first request, when
      ``directory`` is not a directory.
    - ``follow_symlink=True``: follow every symlink in the directory, not only those leading
      inside it (the request's path still cannot leave it with ``..``).
    """

    def __init__(
        self,
        *,
        directory: str | os.PathLike[str],
        html: bool = False,
        check_dir: bool = True,
        follow_symlink: bool = False,
    ) -> None:
        self.directory = os.fspath(directory)
        self.html = html
        self.follow_symlink = follow_symlink
        self._root: str | None = self._check_directory() if check_dir else None

    def _check_directory(self) -> str:
        """The directory as served from: absolute, and resolved unless symlinks are followed."""
        if not os.path.isdir(self.directory):
            raise RuntimeError(f"StaticFiles directory '{self.directory}' does not exist")
        return (os.path.abspath if self.follow_symlink else os.path.realpath)(self.directory)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1000, "reason": ""})
            return
        if scope["type"] != "http":
            raise RuntimeError(f"StaticFiles cannot handle ASGI scope type {scope['type']!r}")
        if scope["method"] not in ("GET", "HEAD"):
            await _error(HTTPException(405, headers={"Allow": "GET, HEAD"}), scope, receive, send)
            return
        if self._root is None:
            self._root = await anyio.to_thread.run_sync(self._check_directory)
        segments = _segments(route_path(scope))
        response = await anyio.to_thread.run_sync(self._respond, scope, segments)
        if response is None:
            await _error(HTTPException(404), scope, receive, send)
            return
        await response(scope, receive, send)

    def _respond(
        self, scope: Scope, segments: list[str] | None
    ) -> FileResponse | RedirectResponse | None:
        """The response from disk (in a worker thread), or None for a 404; ``segments`` is None
        for a refused path, which can only get the 404 page."""
        found = None if segments is None else self._lookup(segments)
        wants_directory = scope["path"].endswith("/")
        if found is not None and segments is not None:
            real, asked, result = found
            if stat.S_ISREG(result.st_mode) and not (wants_directory and segments):
                return _file(real, asked, result)
            if stat.S_ISDIR(result.st_mode) and self.html:
                index = self._lookup([*segments, "index.html"])
                if index is not None and stat.S_ISREG(index[2].st_mode):
                    if not wants_directory:
                        url = URL(scope=scope)
                        return RedirectResponse(url.replace(path=url.path + "/"))
                    return _file(*index)
        if self.html:
            page = self._lookup(["404.html"])
            if page is not None and stat.S_ISREG(page[2].st_mode):
                return _file(*page, status_code=404)
        return None

    def _lookup(self, segments: list[str]) -> _Found | None:
        """Stat the file ``segments`` name inside the directory; None if it is missing or
        outside the directory."""
        root = self._root
        assert root is not None
        asked = os.path.join(root, *segments)
        if self.follow_symlink:
            real = asked
        else:
            real = os.path.realpath(asked)
            if real != root and not real.startswith(root.rstrip(os.sep) + os.sep):
                return None
        try:
            return real, asked, os.stat(real)
        except OSError as exc:
            if exc.errno in _MISSING_ERRNOS:
                return None
            raise


def _file(real: str, asked: str, result: os.stat_result, status_code: int = 200) -> FileResponse:
    media_type = mimetypes.guess_type(asked)[0] or "application/octet-stream"
    return FileResponse(real, status_code=status_code, media_type=media_type, stat_result=result)


def _segments(path: str) -> list[str] | None:
    """The segments of a request path without empty and ``.`` ones, or None when it is refused:
    for ``..``, NUL bytes, and on Windows backslashes and drive letters."""
    segments = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if (
            segment == ".."
            or "\x00" in segment
            or any(sep in segment for sep in _SEPARATORS)
            or os.path.splitdrive(segment)[0]
        ):
            return None
        segments.append(segment)
    return segments


async def _error(exc: HTTPException, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer with the app's handler for ``exc`` (the JSON default when served alone)."""
    if not await answer_with_handler(exc, scope, receive, send):
        raise exc
