"""Reading the ``Authorization`` header."""

from __future__ import annotations

__all__ = ["get_authorization_scheme_param"]


def get_authorization_scheme_param(authorization_header_value: str | None) -> tuple[str, str]:
    """Split an ``Authorization`` value into its scheme and the rest, stripped:
    ``"Bearer abc"`` gives ``("Bearer", "abc")``; a missing or empty value gives ``("", "")``.

    The scheme keeps its case (compare it with ``.lower()``: schemes are case-insensitive).
    """
    if not authorization_header_value:
        return "", ""
    scheme, _, param = authorization_header_value.strip().partition(" ")
    return scheme, param.strip()
