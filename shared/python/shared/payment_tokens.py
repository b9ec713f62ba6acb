"""Payment tokens sealed so that only the payment service can read them.

The order API seals a customer's token before the token enters the saga (the key's policy lets the order
API make data keys and only the payment service's charging function decrypt them), so `OrderCreated`
carries ciphertext: subscribers, the archive, DLQs and logs never see the token. The ciphertext is bound
to its order (AES-GCM's associated data), so a sealed token copied into another order's event does not
open.

Envelope encryption with cached data keys, as the AWS Encryption SDK's caching does: the order API asks
KMS for a data key once per few minutes (not once per order) and seals each token with it locally; the
sealed form carries the data key encrypted under the KMS key, which the payment service decrypts once per
data key and caches for as long. A KMS call per token cost 6 µ$ an order (docs/benchmarks.md); now both
sides make about one call per function worker per five minutes. Tokens sealed by KMS alone (the form
before) still open.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from botocore.exceptions import ClientError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.errors import ShopError

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

# What every sealed token is bound to besides its order; a key policy can require it.
PURPOSE = "payment-token"
# The sealed form of envelope encryption, base64 as the contract requires: this header, the encrypted data
# key's length (2 bytes) and the key, the nonce, the ciphertext with its tag. A KMS ciphertext (the form
# sealed by KMS alone, which still opens) never starts with a zero byte.
ENVELOPE_HEADER = b"\x00SDK1"
_LENGTH_BYTES = 2
# How long, and for how many tokens, one data key seals (the Encryption SDK's caching limits); the payment
# service keeps a decrypted data key as long. Random 96-bit nonces stay far from AES-GCM's 2**32 limit.
DATA_KEY_MAX_AGE_SECONDS = 300.0
DATA_KEY_MAX_USES = 10_000
OPENED_KEYS_KEPT = 64
NONCE_BYTES = 12
# KMS refuses these ciphertexts for good: retrying cannot help, so the charge is declined.
_UNREADABLE = frozenset({"InvalidCiphertextException", "IncorrectKeyException", "InvalidKeyUsageException"})


class PaymentTokenUnreadable(ShopError):
    """A sealed token that does not open: not sealed by the order API, for another order, or garbled."""


class TokenSealer(Protocol):
    """What the order API needs: seal a customer's token for one order."""

    def seal(self, token: str, *, order_id: str) -> str:
        """The token as base64 ciphertext that only the payment service can open, for `order_id` only."""
        ...


class TokenOpener(Protocol):
    """What the payment service needs: open a sealed token of one order."""

    def open(self, sealed: str, *, order_id: str) -> str:
        """The token sealed for `order_id`.

        Raises
        ------
        PaymentTokenUnreadable
            When the ciphertext does not open for this order with this key.
        """
        ...


def encryption_context(order_id: str) -> dict[str, str]:
    """What binds a sealed token to its order (logged by CloudTrail with every KMS call, never secret)."""
    return {"purpose": PURPOSE, "orderId": order_id}


def _associated_data(order_id: str) -> bytes:
    # The order's context, authenticated with each token sealed under a data key.
    return json.dumps(encryption_context(order_id), sort_keys=True, separators=(",", ":")).encode()


# A data key serves many orders, so KMS binds it to the purpose only; the order binding is AES-GCM's.
DATA_KEY_CONTEXT = {"purpose": PURPOSE}


def _unreadable_on_refusal(exc: ClientError, order_id: str) -> None:
    """Raise PaymentTokenUnreadable when KMS refused the ciphertext for good; else return (propagate)."""
    if exc.response.get("Error", {}).get("Code") in _UNREADABLE:
        raise PaymentTokenUnreadable(f"the payment token of order {order_id} does not open") from None


@dataclass(frozen=True)
class KmsTokenCipher:
    """Seals and opens payment tokens with one symmetric KMS key."""

    client: KMSClient
    key_id: str

    def seal(self, token: str, *, order_id: str) -> str:
        """Encrypt `token` for `order_id`."""
        answer = self.client.encrypt(
            KeyId=self.key_id, Plaintext=token.encode(), EncryptionContext=encryption_context(order_id)
        )
        return base64.b64encode(answer["CiphertextBlob"]).decode()

    def open(self, sealed: str, *, order_id: str) -> str:
        """Decrypt a token sealed for `order_id` with this key.

        Raises
        ------
        PaymentTokenUnreadable
            When KMS refuses the ciphertext for good; other errors (throttling, an outage) propagate and
            the delivery is retried.
        """
        try:
            blob = base64.b64decode(sealed, validate=True)
            answer = self.client.decrypt(
                KeyId=self.key_id, CiphertextBlob=blob, EncryptionContext=encryption_context(order_id)
            )
            return answer["Plaintext"].decode()
        except ClientError as exc:
            _unreadable_on_refusal(exc, order_id)
            raise
        except (ValueError, UnicodeDecodeError):
            raise PaymentTokenUnreadable(f"the payment token of order {order_id} is not valid ciphertext") from None


@dataclass
class _DataKey:
    plaintext: bytes
    encrypted: bytes
    made_at: float
    uses: int = 0


@dataclass
class DataKeyTokenCipher:
    """Seals with a data key KMS made for this worker, and opens with the data key each token carries.

    Sealing needs `kms:GenerateDataKey` on the key, opening `kms:Decrypt`: the same split as before, since
    a data key's plaintext leaves KMS only to the order API (which sees tokens in the clear anyway) and to
    whoever may decrypt. A worker's objects are used by one invocation at a time, but the lock keeps the
    cache sound in any caller.
    """

    client: KMSClient
    key_id: str
    clock: Callable[[], float] = time.monotonic
    _sealing: _DataKey | None = field(default=None, init=False, repr=False)
    _opened: OrderedDict[bytes, tuple[bytes, float]] = field(default_factory=OrderedDict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def seal(self, token: str, *, order_id: str) -> str:
        """Encrypt `token` for `order_id` with the current data key (a new one when it is too old or used)."""
        key = self._data_key()
        nonce = os.urandom(NONCE_BYTES)
        ciphertext = AESGCM(key.plaintext).encrypt(nonce, token.encode(), _associated_data(order_id))
        length = len(key.encrypted).to_bytes(_LENGTH_BYTES, "big")
        return base64.b64encode(ENVELOPE_HEADER + length + key.encrypted + nonce + ciphertext).decode()

    def open(self, sealed: str, *, order_id: str) -> str:
        """Decrypt a token sealed for `order_id` (by a data key of this KMS key, or by the key itself).

        Raises
        ------
        PaymentTokenUnreadable
            When the token was not sealed for this order with this key, or is garbled; other KMS errors
            (throttling, an outage) propagate and the delivery is retried.
        """
        try:
            blob = base64.b64decode(sealed, validate=True)
        except ValueError:
            raise PaymentTokenUnreadable(f"the payment token of order {order_id} is not valid ciphertext") from None
        if not blob.startswith(ENVELOPE_HEADER):
            return KmsTokenCipher(self.client, self.key_id).open(sealed, order_id=order_id)
        start = len(ENVELOPE_HEADER) + _LENGTH_BYTES
        length = int.from_bytes(blob[len(ENVELOPE_HEADER) : start], "big")
        encrypted, body = blob[start : start + length], blob[start + length :]
        if not length or len(encrypted) < length or len(body) <= NONCE_BYTES:
            raise PaymentTokenUnreadable(f"the payment token of order {order_id} is not valid ciphertext")
        key = self._opened_key(encrypted, order_id)
        try:
            plaintext = AESGCM(key).decrypt(body[:NONCE_BYTES], body[NONCE_BYTES:], _associated_data(order_id))
            return plaintext.decode()
        except (InvalidTag, UnicodeDecodeError):
            raise PaymentTokenUnreadable(f"the payment token of order {order_id} does not open") from None

    def _data_key(self) -> _DataKey:
        with self._lock:
            now, key = self.clock(), self._sealing
            if key is None or now - key.made_at >= DATA_KEY_MAX_AGE_SECONDS or key.uses >= DATA_KEY_MAX_USES:
                answer = self.client.generate_data_key(
                    KeyId=self.key_id, KeySpec="AES_256", EncryptionContext=DATA_KEY_CONTEXT
                )
                key = self._sealing = _DataKey(answer["Plaintext"], answer["CiphertextBlob"], now)
            key.uses += 1
            return key

    def _opened_key(self, encrypted: bytes, order_id: str) -> bytes:
        with self._lock:
            now = self.clock()
            if (kept := self._opened.get(encrypted)) is not None and now - kept[1] < DATA_KEY_MAX_AGE_SECONDS:
                return kept[0]
        try:
            answer = self.client.decrypt(
                KeyId=self.key_id, CiphertextBlob=encrypted, EncryptionContext=DATA_KEY_CONTEXT
            )
        except ClientError as exc:
            _unreadable_on_refusal(exc, order_id)
            raise
        with self._lock:
            self._opened[encrypted] = (answer["Plaintext"], now)
            self._opened.move_to_end(encrypted)
            while len(self._opened) > OPENED_KEYS_KEPT:
                self._opened.popitem(last=False)
        return answer["Plaintext"]
