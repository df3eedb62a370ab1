"""``framework.datastructures``: URL, headers, query parameters, state, forms and uploads (from
:mod:`framework.http.datastructures` and :mod:`framework.http.forms`)."""

from framework.http.datastructures import (
    URL,
    Address,
    Headers,
    ImmutableMultiDict,
    MutableHeaders,
    QueryParams,
    State,
    URLPath,
)
from framework.http.forms import FormData, UploadFile

__all__ = [
    "URL",
    "Address",
    "FormData",
    "Headers",
    "ImmutableMultiDict",
    "MutableHeaders",
    "QueryParams",
    "State",
    "URLPath",
    "UploadFile",
]
