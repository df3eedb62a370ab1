"""``framework.formparsers``: form limits and parsing (from :mod:`framework.http.forms`)."""

from framework.http.forms import DEFAULT_LIMITS, FormLimits, parse_form

__all__ = ["DEFAULT_LIMITS", "FormLimits", "parse_form"]
