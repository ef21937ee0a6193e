"""The console's session: who signed in with the API key, in a signed cookie; and CSRF tokens.

Signing in takes the API key once (compared in constant time, as `api.auth` compares the
header); the browser then holds a cookie signed with a key derived from EMS's own keyring
(`shared.derived_keys`): HttpOnly, SameSite=Strict, Secure except on localhost, limited to
`/console`, and valid `SESSION_HOURS` from the sign-in. It also carries a fingerprint of the API
key it was made with, so a new API key signs everyone out. The JSON API never opens a session.

Forms carry a CSRF token (flask-wtf's, bound to the session); `check_csrf` refuses a POST
without a valid one.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from flask import Flask, Request, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_wtf.csrf import generate_csrf, validate_csrf
from itsdangerous import BadSignature, URLSafeTimedSerializer
from pydantic import SecretStr

from ems_scheduler.console.paths import PREFIX, is_console
from ems_scheduler.shared.derived_keys import KeyPurpose, derive_keys
from ems_scheduler.shared.unsubscribe_links import UnsubscribeKeys

SESSION_HOURS: Final = 12
COOKIE_NAME: Final = "ems_console"
CSRF_FIELD: Final = "csrf_token"
_SIGNED_IN_AT: Final = "at"
_KEY_FINGERPRINT: Final = "key"
# Browsers send Secure cookies to these over plain http: the local stack's console works.
_LOCAL_HOSTS: Final = frozenset({"localhost", "127.0.0.1", "[::1]"})


class ConsoleKeys:
    """The session and CSRF keys, derived from the keyring on first use (none at start: on AWS
    reading the ring is a Secrets Manager call, which the JSON API must not wait for)."""

    def __init__(self, ring: Callable[[], UnsubscribeKeys]) -> None:
        self._ring = functools.cache(ring)

    @functools.cached_property
    def session(self) -> list[bytes]:
        """Session-cookie keys, the current one last."""
        return list(derive_keys(self._ring(), KeyPurpose.CONSOLE_SESSION).values())

    @functools.cached_property
    def csrf(self) -> bytes:
        """The key CSRF tokens are signed with."""
        ring = self._ring()
        return derive_keys(ring, KeyPurpose.CONSOLE_CSRF)[ring.current]


def is_local(host: str) -> bool:
    """Whether the request came to this machine by name (no TLS there)."""
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return name in _LOCAL_HOSTS


class ConsoleSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, for console pages only, with the console's keys."""

    salt = "ems-console-session"

    def __init__(self, keys: ConsoleKeys) -> None:
        self._keys = keys

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """A serializer over every session key (the current one signs)."""
        return URLSafeTimedSerializer(
            list(self._keys.session),
            salt=self.salt,
            serializer=self.serializer,
            signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha256},
        )

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """The console's session; none (a null session) for the JSON API."""
        if not is_console(request.path):
            return None
        value = request.cookies.get(COOKIE_NAME)
        if not value:
            return self.session_class()
        serializer = self.get_signing_serializer(app)
        if serializer is None:  # never: the keys are always there
            return None
        try:
            data = serializer.loads(value, max_age=SESSION_HOURS * 3600)
        except BadSignature:
            return self.session_class()
        return self.session_class(data)

    def get_cookie_name(self, app: Flask) -> str:
        """`ems_console`."""
        return COOKIE_NAME

    def get_cookie_path(self, app: Flask) -> str:
        """Sent to console pages only."""
        return PREFIX

    def get_cookie_httponly(self, app: Flask) -> bool:
        """Scripts never read it."""
        return True

    def get_cookie_samesite(self, app: Flask) -> str:
        """Never sent with a request another site starts."""
        return "Strict"

    def get_cookie_secure(self, app: Flask) -> bool:
        """HTTPS only, except on this machine (the local stack serves plain http)."""
        return not is_local(request.host)

    def get_expiration_time(self, app: Flask, session: Any) -> datetime | None:
        """The sign-in's end: `SESSION_HOURS` after it (a session never outlives it)."""
        signed_in_at = session.get(_SIGNED_IN_AT)
        if not isinstance(signed_in_at, int):
            return None
        return datetime.fromtimestamp(signed_in_at, UTC) + timedelta(hours=SESSION_HOURS)

    def should_set_cookie(self, app: Flask, session: Any) -> bool:
        """Only when it changed: the cookie's end is the sign-in's, not the last request's."""
        return bool(session.modified)


def _fingerprint(keys: ConsoleKeys, api_key: SecretStr) -> str:
    digest = hmac.new(keys.session[-1], api_key.get_secret_value().encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def sign_in(keys: ConsoleKeys, api_key: SecretStr, given: str) -> bool:
    """Start a session if `given` is the API key (constant-time comparison); False otherwise."""
    expected = api_key.get_secret_value().encode()
    if not given or not hmac.compare_digest(given.encode(), expected):
        return False
    session.clear()  # a fresh session (and CSRF token) at every sign-in
    session[_SIGNED_IN_AT] = int(time.time())
    session[_KEY_FINGERPRINT] = _fingerprint(keys, api_key)
    session.permanent = True
    return True


def sign_out() -> None:
    """End the session (the cookie is deleted)."""
    session.clear()


def is_signed_in(keys: ConsoleKeys, api_key: SecretStr) -> bool:
    """Whether the session was signed in with the current API key less than
    `SESSION_HOURS` ago."""
    signed_in_at = session.get(_SIGNED_IN_AT)
    if not isinstance(signed_in_at, int):
        return False
    if time.time() - signed_in_at > SESSION_HOURS * 3600:
        return False
    fingerprint = session.get(_KEY_FINGERPRINT)
    return isinstance(fingerprint, str) and hmac.compare_digest(
        fingerprint, _fingerprint(keys, api_key)
    )


def csrf_token(keys: ConsoleKeys) -> str:
    """This session's CSRF token, for a form's hidden field."""
    return str(generate_csrf(secret_key=keys.csrf, token_key=CSRF_FIELD))


def check_csrf(keys: ConsoleKeys) -> str | None:
    """None if the POST carries this session's CSRF token; else what is wrong with it."""
    try:
        validate_csrf(
            request.form.get(CSRF_FIELD),
            secret_key=keys.csrf,
            time_limit=SESSION_HOURS * 3600,
            token_key=CSRF_FIELD,
        )
    except ValueError as error:  # wtforms' ValidationError: missing, expired, not this session's
        return str(error)
    return None
