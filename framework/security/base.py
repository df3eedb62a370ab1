"""What every security class shares: the OpenAPI description and the 401 it answers."""

from __future__ import annotations

from framework.exceptions import HTTPException
from framework.security.models import SecuritySchemeModel

__all__ = ["SecurityBase"]


class SecurityBase:
    """A dependency that reads a credential and declares a security scheme: ``model`` is the
    OpenAPI Security Scheme Object, ``scheme_name`` its key in ``components.securitySchemes`` (the
    class name unless given). With ``auto_error=False`` a missing credential gives ``None``."""

    model: SecuritySchemeModel
    scheme_name: str
    auto_error: bool = True
    #: The ``WWW-Authenticate`` challenge of the 401 answers.
    challenge: str = "Bearer"

    def _init_base(self, model: SecuritySchemeModel, name: str | None, auto_error: bool) -> None:
        self.model = model
        self.scheme_name = name or type(self).__name__
        self.auto_error = auto_error

    def make_not_authenticated_error(self) -> HTTPException:
        """The 401 answered when the credential is missing (or of another scheme)."""
        return self._unauthorized("Not authenticated")

    def make_invalid_credentials_error(self) -> HTTPException:
        """The 401 answered when the credential is there but cannot be read."""
        return self._unauthorized("Invalid authentication credentials")

    def make_authenticate_headers(self) -> dict[str, str]:
        """The headers of the 401 answers: the ``WWW-Authenticate`` challenge."""
        return {"WWW-Authenticate": self.challenge}

    def _unauthorized(self, detail: str) -> HTTPException:
        return HTTPException(401, detail=detail, headers=self.make_authenticate_headers())

    def _missing(self) -> None:
        """Raise the 401 for a missing credential, unless ``auto_error=False``."""
        if self.auto_error:
            raise self.make_not_authenticated_error()

    def _present(self, credential: str | None) -> str | None:
        """``credential``, or :meth:`_missing` (and ``None``) when it is missing or empty."""
        if not credential:
            self._missing()
            return None
        return credential

    def __repr__(self) -> str:
        return f"{type(self).__name__}(scheme_name={self.scheme_name!r})"
