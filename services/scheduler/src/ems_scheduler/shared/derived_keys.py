"""Keys EMS derives for one purpose each from the keys it already keeps.

EMS keeps one secret of its own, the unsubscribe keyring (`shared.unsubscribe_links`, stored in
Secrets Manager by `unsubscribe_keys`). Other purposes (the console's session cookie, ...) get
their own key from it with HKDF (RFC 5869), each under a distinct `info` label: a key derived
for one purpose tells nothing about the ring or another purpose's key, and no second secret has
to be made, stored or rotated. Adding a key to the ring changes every derived key; the keys
derived from the older ring keys are returned too, so what they signed still verifies.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ems_scheduler.shared.unsubscribe_links import UnsubscribeKeys

DERIVED_KEY_BYTES = 32


def derive_keys(keys: UnsubscribeKeys, info: bytes) -> list[bytes]:
    """One key for the purpose `info` per key of the ring, oldest id first, the current last
    (the order itsdangerous and Flask take secret keys in: the last signs, all verify)."""
    ids = [*sorted(key_id for key_id in keys.keys if key_id != keys.current), keys.current]
    return [
        HKDF(algorithm=hashes.SHA256(), length=DERIVED_KEY_BYTES, salt=None, info=info).derive(
            keys.keys[key_id]
        )
        for key_id in ids
    ]
