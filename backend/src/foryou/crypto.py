"""AES-256-GCM encryption of amoCRM tokens at rest, with a key id per row for rotation."""

from __future__ import annotations

import base64
import os
import uuid
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from foryou.config import EncryptionKey

_NONCE_BYTES = 12


class DecryptionError(Exception):
    """A ciphertext could not be opened: unknown key id, tampering, or a swapped field."""


@dataclass(frozen=True)
class TokenContext:
    """What a ciphertext is bound to (the AAD): a copied or swapped value fails to open."""

    connection_id: uuid.UUID
    user_id: uuid.UUID
    field: str

    def aad(self, key_id: str) -> bytes:
        return f"{self.connection_id}|{self.user_id}|{self.field}|{key_id}".encode()


class TokenCipher:
    """The first key encrypts; every key decrypts (newest first, as configured)."""

    def __init__(self, keys: list[EncryptionKey]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is required")
        self._keys = {key.key_id: AESGCM(key.key) for key in keys}
        self.current_key_id = keys[0].key_id

    def encrypt(self, plaintext: str, context: TokenContext) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._keys[self.current_key_id].encrypt(
            nonce, plaintext.encode(), context.aad(self.current_key_id)
        )
        return base64.b64encode(nonce + sealed).decode("ascii")

    def decrypt(self, ciphertext: str, key_id: str, context: TokenContext) -> str:
        aes = self._keys.get(key_id)
        if aes is None:
            raise DecryptionError(f"encryption key {key_id!r} is not configured")
        try:
            raw = base64.b64decode(ciphertext, validate=True)
            opened = aes.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.aad(key_id))
        except (InvalidTag, ValueError):
            raise DecryptionError("token ciphertext failed authentication") from None
        return opened.decode()
