"""Payment tokens sealed so that only the payment service can read them.

The order API seals a customer's token with a KMS key before the token enters the saga (the key's
policy lets the order API encrypt and only the payment service's charging function decrypt), so
`OrderCreated` carries ciphertext: subscribers, the archive, DLQs and logs never see the token. The
ciphertext is bound to its order through the encryption context, so a sealed token copied into another
order's event does not open.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from botocore.exceptions import ClientError

from shared.errors import ShopError

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

# What every sealed token is bound to besides its order; a key policy can require it.
PURPOSE = "payment-token"
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
            if exc.response.get("Error", {}).get("Code") in _UNREADABLE:
                raise PaymentTokenUnreadable(f"the payment token of order {order_id} does not open") from None
            raise
        except (ValueError, UnicodeDecodeError):
            raise PaymentTokenUnreadable(f"the payment token of order {order_id} is not valid ciphertext") from None
