"""Token login with the standard library only: OAuth2 password form, scrypt, HMAC-signed tokens.

- Passwords are stored as ``hashlib.scrypt`` hashes with a random salt per user; the stored
  string carries its cost parameters, so they can be raised later without breaking old hashes.
- ``POST /token`` takes the OAuth2 password form (``username``, ``password``, optional ``scope``)
  and answers ``{"access_token": ..., "token_type": "bearer"}``.
- A token is ``base64url(JSON payload) + "." + base64url(HMAC-SHA256 of that text)``; the
  payload holds the user (``sub``), the granted ``scopes`` and the expiry (``exp``, Unix time).
  Signatures are compared with ``hmac.compare_digest``, in constant time.
- ``GET /users/me`` needs any valid token; ``GET /items`` needs one granted ``items:read``. The
  scope is declared with ``Security(get_current_user, scopes=[...])`` and checked in
  ``get_current_user`` through ``SecurityScopes``. A missing, malformed, tampered or expired
  token, or a missing scope, is answered with 401 and a ``WWW-Authenticate: Bearer`` challenge
  naming the scopes the endpoint needs.

The signing key comes from ``AUTH_SECRET_KEY`` (any text); without it a random key is made at
start-up, so tokens do not outlive the process. The users are ``alice`` (password
``wonderland``, may read items) and ``bob`` (password ``builder``, may not); ``carol`` is
disabled.

Run it::

    uvicorn examples.auth:app
    curl -d 'username=alice&password=wonderland&scope=items:read' http://127.0.0.1:8000/token
    curl -H 'Authorization: Bearer <access_token>' http://127.0.0.1:8000/items
"""

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import secrets
import time
from typing import Annotated

from pydantic import BaseModel, ValidationError

from framework import App, Depends, HTTPException, Security
from framework.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm, SecurityScopes

SECRET_KEY_ENV = "AUTH_SECRET_KEY"
SECRET_KEY = os.environ.get(SECRET_KEY_ENV, "").encode() or secrets.token_bytes(32)
TOKEN_LIFETIME = 30 * 60  # seconds

SCOPES = {"items:read": "Read the items."}

# scrypt cost: 2**14 iterations of 8 blocks, about 16 MiB and a few tens of milliseconds per
# hash. Production systems often go higher (OWASP suggests n=2**17, which needs maxmem raised).
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


# -- passwords ------------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$hash``: a fresh random salt, and the cost it was made with."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32
    )
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` hashes to ``stored`` (with the salt and cost stored with it)."""
    _, n, r, p, salt, expected = stored.split("$")
    wanted = _unb64(expected)
    digest = hashlib.scrypt(
        password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p), dklen=len(wanted)
    )
    return hmac.compare_digest(digest, wanted)


# -- users ----------------------------------------------------------------------------------------


class User(BaseModel):
    """A user as the API shows it."""

    username: str
    full_name: str
    scopes: list[str]  # what the user may be granted


class StoredUser(User):
    """A user as stored: with the password hash and the disabled flag."""

    hashed_password: str
    disabled: bool = False


USERS = {
    "alice": StoredUser(
        username="alice",
        full_name="Alice Liddell",
        scopes=["items:read"],
        hashed_password=hash_password("wonderland"),
    ),
    "bob": StoredUser(
        username="bob",
        full_name="Bob Builder",
        scopes=[],
        hashed_password=hash_password("builder"),
    ),
    "carol": StoredUser(
        username="carol",
        full_name="Carol Disabled",
        scopes=["items:read"],
        hashed_password=hash_password("gone"),
        disabled=True,
    ),
}

# Checked when the user name is unknown, so that answering takes as long as for a known one.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def authenticate(username: str, password: str) -> StoredUser | None:
    """The user with this name and password, if both are right and the user is enabled."""
    user = USERS.get(username)
    if user is None:
        verify_password(password, _DUMMY_HASH)
        return None
    if not verify_password(password, user.hashed_password) or user.disabled:
        return None
    return user


# -- tokens ---------------------------------------------------------------------------------------


class TokenPayload(BaseModel):
    """What a token says: who, which scopes, until when."""

    sub: str
    scopes: list[str]
    exp: int


class Token(BaseModel):
    """The answer of ``POST /token``."""

    access_token: str
    token_type: str


_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


def _sign(payload: str) -> str:
    return _b64(hmac.new(SECRET_KEY, payload.encode("ascii"), hashlib.sha256).digest())


def create_access_token(username: str, scopes: list[str], lifetime: float = TOKEN_LIFETIME) -> str:
    """A signed token for ``username`` with ``scopes``, valid for ``lifetime`` seconds."""
    payload = TokenPayload(sub=username, scopes=scopes, exp=int(time.time() + lifetime))
    encoded = _b64(payload.model_dump_json().encode())
    return f"{encoded}.{_sign(encoded)}"


class InvalidToken(Exception):
    """A token that is malformed, badly signed or expired (the message says which)."""


def decode_access_token(token: str) -> TokenPayload:
    """The payload of a token this app signed and that has not expired; else InvalidToken."""
    if not _TOKEN_SHAPE.fullmatch(token):
        raise InvalidToken("Could not validate credentials")
    encoded, signature = token.split(".")
    if not hmac.compare_digest(_sign(encoded), signature):
        raise InvalidToken("Could not validate credentials")
    try:
        payload = TokenPayload.model_validate(json.loads(_unb64(encoded)))
    except (binascii.Error, ValueError, ValidationError):  # a key that signs garbage
        raise InvalidToken("Could not validate credentials") from None
    if payload.exp <= time.time():
        raise InvalidToken("Token expired")
    return payload


# -- dependencies ---------------------------------------------------------------------------------

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token", scopes=SCOPES)


async def get_current_user(
    security_scopes: SecurityScopes, token: Annotated[str, Depends(oauth2_scheme)]
) -> User:
    """The user of a valid token that grants every scope the endpoint asks for, else 401."""
    if security_scopes.scopes:
        challenge = f'Bearer scope="{security_scopes.scope_str}"'
    else:
        challenge = "Bearer"
    try:
        payload = decode_access_token(token)
    except InvalidToken as exc:
        raise HTTPException(401, detail=str(exc), headers={"WWW-Authenticate": challenge}) from None
    user = USERS.get(payload.sub)
    if user is None or user.disabled:
        raise HTTPException(
            401, detail="Could not validate credentials", headers={"WWW-Authenticate": challenge}
        )
    missing = [scope for scope in security_scopes.scopes if scope not in payload.scopes]
    if missing:
        raise HTTPException(
            401, detail="Not enough permissions", headers={"WWW-Authenticate": challenge}
        )
    return User(username=user.username, full_name=user.full_name, scopes=payload.scopes)


# -- routes ---------------------------------------------------------------------------------------

app = App(title="Auth example")

ITEMS = [{"name": "Looking glass", "owner": "alice"}, {"name": "Hammer", "owner": "bob"}]


@app.get("/")
async def index() -> dict[str, str]:
    return {"login": "POST /token", "me": "GET /users/me", "items": "GET /items"}


@app.post("/token")
def login(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    """Trade a user name and password for a token. ``scope`` asks for scopes; a scope the user
    may not have is refused (400), as OAuth2's ``invalid_scope``."""
    user = authenticate(form.username, form.password)
    if user is None:
        raise HTTPException(400, detail="Incorrect username or password")
    refused = [scope for scope in form.scopes if scope not in user.scopes]
    if refused:
        raise HTTPException(400, detail=f"Scope not allowed: {' '.join(refused)}")
    token = create_access_token(user.username, form.scopes)
    return Token(access_token=token, token_type="bearer")


@app.get("/users/me")
async def read_me(user: Annotated[User, Depends(get_current_user)]) -> User:
    return user


@app.get("/items")
async def read_items(
    user: Annotated[User, Security(get_current_user, scopes=["items:read"])],
) -> list[dict[str, str]]:
    return ITEMS
