"""Reading the ``Authorization`` header."""

from __future__ import annotations

__all__ = ["get_authorization_scheme_param"]


def get_authorization_scheme_param(authorization_header_value: str | None) -> tuple[str, str]:
    """Split an ``Authorization`` value: ``"Bearer abc"`` gives ``("Bearer", "abc")``, a missing one
    ``("", "")``. The scheme keeps its case (compare it with ``.lower()``)."""
    if not authorization_header_value:
        return "", ""
    scheme, _, param = authorization_header_value.strip().partition(" ")
    return scheme, param.strip()
