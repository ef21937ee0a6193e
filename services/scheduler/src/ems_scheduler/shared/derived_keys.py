"""Keys EMS derives for one purpose each from the keys it already keeps.

EMS keeps one secret of its own, the unsubscribe keyring (`shared.unsubscribe_links`, stored in
Secrets Manager by `unsubscribe_keys`). Other purposes (the API's page tokens, the console's
session cookie and CSRF tokens) get their own keys from it with HKDF (RFC 5869), each under a
distinct `info` label (`KeyPurpose`): a key derived for one purpose tells nothing about the ring
or another purpose's key, and no second secret has to be made, stored or rotated. Adding a key
to the ring adds a derived key per purpose; the keys derived from the older ring keys are
returned too, so what they signed or sealed still opens. Removing a ring key invalidates what
its derived keys signed.
"""

from __future__ import annotations

import enum
from typing import Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ems_scheduler.shared.unsubscribe_links import UnsubscribeKeys

DERIVED_KEY_BYTES: Final = 32  # AES-256 (page tokens), HMAC-SHA256 (session, CSRF)


@enum.unique  # one label per purpose: two purposes never share a key
class KeyPurpose(bytes, enum.Enum):
    """What a derived key is for: its HKDF `info` label. A label never changes once shipped
    (its keys would change, and what they sealed would no longer open)."""

    PAGE_TOKENS = b"ems page tokens v1"
    CONSOLE_SESSION = b"ems console session cookie v1"
    CONSOLE_CSRF = b"ems console csrf token v1"


def derive_keys(keys: UnsubscribeKeys, purpose: KeyPurpose) -> dict[int, bytes]:
    """One key for `purpose` per key of the ring, by the ring key's id: the older ids first,
    the current one last (the order itsdangerous and Flask take secret keys in: the last signs,
    all verify)."""
    ids = [*sorted(key_id for key_id in keys.keys if key_id != keys.current), keys.current]
    return {
        key_id: HKDF(
            algorithm=hashes.SHA256(), length=DERIVED_KEY_BYTES, salt=None, info=purpose.value
        ).derive(keys.keys[key_id])
        for key_id in ids
    }
