"""Security helpers. ``SecurityScopes`` receives the OAuth2 scopes that ``Security(...)``
dependencies above a dependency require."""

from framework.params import SecurityScopes

__all__ = ["SecurityScopes"]
