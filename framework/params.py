"""``framework.params``: the parameter markers (from :mod:`framework.handlers.params`)."""

from framework.handlers.params import *  # noqa: F403
from framework.handlers.params import __all__ as __all__
