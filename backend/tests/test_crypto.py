"""AES-256-GCM token encryption bound to row, user, field and key id."""

from __future__ import annotations

import uuid

import pytest
from foryou.config import parse_encryption_keys
from foryou.crypto import DecryptionError, TokenCipher, TokenContext

from scripts.harness_constants import ENCRYPTION_KEY_1, ENCRYPTION_KEY_2

ROW, USER = uuid.uuid4(), uuid.uuid4()


def cipher(spec: str) -> TokenCipher:
    return TokenCipher(parse_encryption_keys(spec))


def test_round_trip_and_fresh_nonce() -> None:
    keys = cipher(f"k1:{ENCRYPTION_KEY_1}")
    context = TokenContext(ROW, USER, "access_token")
    first = keys.encrypt("def50200secret", context)
    second = keys.encrypt("def50200secret", context)
    assert first != second
    assert "def50200secret" not in first
    assert keys.decrypt(first, "k1", context) == "def50200secret"


@pytest.mark.parametrize(
    "other",
    [
        TokenContext(uuid.uuid4(), USER, "access_token"),
        TokenContext(ROW, uuid.uuid4(), "access_token"),
        TokenContext(ROW, USER, "refresh_token"),
    ],
)
def test_ciphertext_cannot_move_to_another_row_user_or_field(other: TokenContext) -> None:
    keys = cipher(f"k1:{ENCRYPTION_KEY_1}")
    sealed = keys.encrypt("token", TokenContext(ROW, USER, "access_token"))
    with pytest.raises(DecryptionError):
        keys.decrypt(sealed, "k1", other)


def test_key_id_is_bound_and_rotation_keeps_old_rows_readable() -> None:
    old = cipher(f"k1:{ENCRYPTION_KEY_1}")
    context = TokenContext(ROW, USER, "refresh_token")
    sealed = old.encrypt("token", context)
    rotated = cipher(f"k2:{ENCRYPTION_KEY_2},k1:{ENCRYPTION_KEY_1}")
    assert rotated.current_key_id == "k2"
    assert rotated.decrypt(sealed, "k1", context) == "token"
    with pytest.raises(DecryptionError):
        rotated.decrypt(sealed, "k2", context)
    with pytest.raises(DecryptionError):
        cipher(f"k2:{ENCRYPTION_KEY_2}").decrypt(sealed, "k1", context)


def test_tampering_is_detected() -> None:
    keys = cipher(f"k1:{ENCRYPTION_KEY_1}")
    context = TokenContext(ROW, USER, "access_token")
    sealed = bytearray(keys.encrypt("token", context).encode())
    sealed[-3] = ord("A") if sealed[-3] != ord("A") else ord("B")
    with pytest.raises(DecryptionError):
        keys.decrypt(sealed.decode(), "k1", context)
