"""``framework.responses``: the response classes (they live in :mod:`framework.http.responses`
and :mod:`framework.http.files`)."""

from framework.http.files import *  # noqa: F403
from framework.http.responses import *  # noqa: F403
