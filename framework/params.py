"""``framework.params``: the parameter markers (they live in :mod:`framework.handlers.params`)."""

from framework.handlers.params import *  # noqa: F403
from framework.handlers.params import __all__ as __all__
