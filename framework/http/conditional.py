"""Conditional and range requests for files (RFC 9110 sections 13 and 14), for
:class:`~framework.http.files.FileResponse`: pure functions over header values, no I/O."""

from __future__ import annotations

import hashlib
import os
import re
from email.utils import formatdate, parsedate_to_datetime

MAX_RANGES = 100
"""A ``Range`` header asking for more parts than this is ignored (the whole file is sent)."""

# Entity tags in a list: an optional weak prefix and a quoted opaque part (which may hold commas).
_ETAG = re.compile(r'(W/)?"([^"]*)"')

# One range of a set: "first-last", "first-" or "-suffix", in ASCII digits.
_RANGE_SPEC = re.compile(r"\s*([0-9]*)\s*-\s*([0-9]*)\s*")

Ranges = list[tuple[int, int]]
"""Byte ranges as ``(start, end)`` pairs, ``end`` excluded."""


def make_etag(result: os.stat_result) -> str:
    """A strong entity tag from the file's modification time and size (a quoted md5 hex)."""
    digest = hashlib.md5(f"{result.st_mtime}-{result.st_size}".encode(), usedforsecurity=False)
    return f'"{digest.hexdigest()}"'


def http_date(timestamp: float) -> str:
    """``Wed, 21 Oct 2015 07:28:00 GMT`` for a POSIX timestamp."""
    return formatdate(timestamp, usegmt=True)


def parse_http_date(value: str) -> float | None:
    """The POSIX timestamp of an HTTP date, or None when ``value`` is not one."""
    try:
        parsed = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:  # "-0000" dates come back naive: they are UTC as well
        return None
    return parsed.timestamp()


def none_match(if_none_match: str, etag: str | None) -> bool:
    """Whether ``If-None-Match`` names ``etag`` (weak comparison) or is ``*``."""
    if if_none_match.strip() == "*":
        return True
    if etag is None:
        return False
    ours = etag.strip().removeprefix("W/")
    return any(f'"{match[1]}"' == ours for match in _ETAG.findall(if_none_match))


def is_not_modified(
    if_none_match: str | None,
    if_modified_since: str | None,
    etag: str | None,
    last_modified: str | None,
) -> bool:
    """Whether a GET or HEAD with these request headers gets a 304: ``If-None-Match`` decides
    when present, else ``If-Modified-Since`` is compared with ``last_modified`` (if a date)."""
    if if_none_match is not None:
        return none_match(if_none_match, etag)
    if if_modified_since is None or last_modified is None:
        return False
    since = parse_http_date(if_modified_since)
    modified = parse_http_date(last_modified)
    return since is not None and modified is not None and modified <= since


def if_range_matches(if_range: str, etag: str | None, last_modified: str | None) -> bool:
    """Whether ``If-Range`` still names the current file, so the ``Range`` applies: an entity tag
    must equal ``etag`` and neither be weak; a date must equal ``last_modified``."""
    if_range = if_range.strip()
    if if_range.startswith(("W/", '"')):
        # Equal to ``etag`` and not weak, so ``etag`` is not weak either.
        return etag is not None and not if_range.startswith("W/") and if_range == etag.strip()
    if last_modified is None:
        return False
    date = parse_http_date(if_range)
    return date is not None and date == parse_http_date(last_modified)


def parse_range(header: str, size: int, max_ranges: int = MAX_RANGES) -> Ranges | None:
    """The byte ranges of a ``Range`` header (``0-99``, ``100-``, ``-100``) for a file of
    ``size`` bytes: ``None`` to ignore it (another unit, malformed, more than ``max_ranges``),
    ``[]`` if none is satisfiable (416), else the satisfiable ones, sorted and merged, cut at
    the end of the file."""
    unit, equals, spec = header.partition("=")
    if not equals or unit.strip().lower() != "bytes":
        return None
    parts = [part for part in spec.split(",") if part.strip()]
    if not parts or len(parts) > max_ranges:
        return None
    ranges: Ranges = []
    for part in parts:
        match = _RANGE_SPEC.fullmatch(part)
        if match is None:
            return None
        first_text, last_text = match.groups()
        try:
            first = int(first_text) if first_text else None
            last = int(last_text) if last_text else None
        except ValueError:  # more digits than Python converts
            return None
        if first is None:  # a suffix range: the last N bytes
            if last is None:
                return None
            if last > 0 and size > 0:
                ranges.append((max(size - last, 0), size))
        elif last is not None and last < first:
            return None
        elif first < size:
            ranges.append((first, size if last is None else min(last + 1, size)))
    ranges.sort()
    merged: Ranges = []
    for start, end in ranges:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def content_range(start: int, end: int, size: int) -> str:
    """The ``Content-Range`` value of bytes ``start`` to ``end`` (excluded) of ``size``."""
    return f"bytes {start}-{end - 1}/{size}"


def multipart_heads(
    ranges: Ranges, size: int, content_type: str, boundary: str
) -> tuple[list[bytes], bytes, int]:
    """The framing of a ``multipart/byteranges`` body ``heads[0] + data0 + ... + tail``: one
    head per part (boundary line and part headers), the tail, and the length of the whole."""
    heads = []
    for index, (start, end) in enumerate(ranges):
        separator = "\r\n" if index else ""  # ends the previous part's data
        head = (
            f"{separator}--{boundary}\r\n"
            f"Content-Type: {content_type}\r\n"
            f"Content-Range: {content_range(start, end, size)}\r\n\r\n"
        )
        heads.append(head.encode("latin-1"))
    tail = f"\r\n--{boundary}--\r\n".encode("latin-1")
    length = sum(map(len, heads)) + sum(end - start for start, end in ranges) + len(tail)
    return heads, tail, length
