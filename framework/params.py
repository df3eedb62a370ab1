"""``framework.params``: the parameter markers (from :mod:`framework.handlers.params`)."""

from framework.handlers.params import (
    Body,
    Cookie,
    Depends,
    File,
    Form,
    Header,
    Param,
    Path,
    Query,
    Security,
    SecurityScopes,
)

__all__ = [
    "Body",
    "Cookie",
    "Depends",
    "File",
    "Form",
    "Header",
    "Param",
    "Path",
    "Query",
    "Security",
    "SecurityScopes",
]
