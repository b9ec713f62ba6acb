"""Payment tokens on moto's KMS: the order API seals, only the payment service opens, for one order only;
one data key seals many tokens, and each side calls KMS once per data key."""

from __future__ import annotations

import base64
import json
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from order.handlers.api import lambda_handler as order_api
from payment.handlers import on_order_created
from shared import payment_tokens
from shared.payment_tokens import DataKeyTokenCipher, KmsTokenCipher, PaymentTokenUnreadable
from tests.component.conftest import Tables
from tests.support.builders import api_event, order_created, sqs_event

BODY = {"items": [{"productId": "PROD-001", "quantity": 2}], "totalAmount": "2599.98", "payment": {"token": "tok_ok"}}


@pytest.fixture(autouse=True)
def catalogue(tables: Tables) -> None:
    tables.price({"PROD-001": "1299.99"})


def place(context: LambdaContext, body: object = BODY) -> tuple[int, dict[str, Any]]:
    response = order_api(api_event("POST", "/orders", body, customer="sub-a"), context)
    return response["statusCode"], json.loads(response["body"])


def test_order_created_carries_the_token_sealed_for_its_order(tables: Tables, context: LambdaContext) -> None:
    status, body = place(context)

    assert status == 201
    [(_, detail)] = tables.order.outbox()
    sealed = detail["data"]["encryptedPaymentToken"]
    assert "paymentToken" not in detail["data"]
    assert tables.tokens.open(sealed, order_id=str(body["orderId"])) == "tok_ok"
    with pytest.raises(PaymentTokenUnreadable):
        tables.tokens.open(sealed, order_id="another-order")
    # Nothing the order service keeps holds the token, sealed or clear, but the outbox row of the event.
    kept = [item for item in tables.order.items() if not str(item["pk"]).startswith("OUTBOX#")]
    assert kept and "tok_ok" not in repr(kept) and sealed not in repr(kept)
    assert "tok_ok" not in repr(tables.order.items())


def test_garbage_does_not_open(tables: Tables) -> None:
    with pytest.raises(PaymentTokenUnreadable):
        tables.tokens.open("bm90IGNpcGhlcnRleHQ=", order_id="o-1")
    with pytest.raises(PaymentTokenUnreadable):
        tables.tokens.open("not base64!", order_id="o-1")
    # (A changed data key is KMS's to refuse: moto says AccessDenied where AWS says InvalidCiphertext, so
    # that mapping is held with a stubbed client below.)
    blob = base64.b64decode(tables.tokens.seal("tok_ok", order_id="o-1"))
    header, key_length = len(payment_tokens.ENVELOPE_HEADER), int.from_bytes(blob[5:7], "big")
    for garbled in (
        blob[: header + 2 + key_length],  # no nonce, no ciphertext
        blob[:-3],  # the tag cut short
        blob[:-1] + bytes([blob[-1] ^ 1]),  # the tag changed
        blob[:header] + (60_000).to_bytes(2, "big") + blob[header + 2 :],  # a length past the end
        blob[:header] + bytes(2) + blob[header + 2 :],  # no data key
    ):
        with pytest.raises(PaymentTokenUnreadable):
            tables.tokens.open(base64.b64encode(garbled).decode(), order_id="o-1")


def encrypted_data_key(sealed: str) -> bytes:
    blob = base64.b64decode(sealed)
    return blob[7 : 7 + int.from_bytes(blob[5:7], "big")]


class CountingKms:
    """moto's KMS client, counting the calls made through it."""

    def __init__(self) -> None:
        self.client = boto3.client("kms")
        self.calls: list[str] = []
        self.client.meta.events.register("before-call.kms.*", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        self.calls.append(model.name)


def test_one_data_key_seals_many_tokens_and_is_decrypted_once(tables: Tables) -> None:
    kms, key = CountingKms(), tables.tokens.key_id
    sealer, opener = DataKeyTokenCipher(kms.client, key), DataKeyTokenCipher(kms.client, key)

    sealed = {f"o-{n}": sealer.seal(f"tok_{n}", order_id=f"o-{n}") for n in range(20)}

    assert [opener.open(token, order_id=order_id) for order_id, token in sealed.items()] == [
        f"tok_{n}" for n in range(20)
    ]
    assert kms.calls == ["GenerateDataKey", "Decrypt"]
    # Each token has its own nonce: equal tokens of one order never seal alike.
    assert sealer.seal("tok_ok", order_id="o-1") != sealer.seal("tok_ok", order_id="o-1")


def test_a_data_key_is_replaced_when_old_or_used_up_and_its_tokens_still_open(
    tables: Tables, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(payment_tokens, "DATA_KEY_MAX_USES", 3)
    kms, now = CountingKms(), [0.0]
    sealer = DataKeyTokenCipher(kms.client, tables.tokens.key_id, clock=lambda: now[0])
    opener = DataKeyTokenCipher(kms.client, tables.tokens.key_id, clock=lambda: now[0])

    first = [sealer.seal("tok_a", order_id="o-1") for _ in range(3)]
    fourth = sealer.seal("tok_a", order_id="o-1")  # the first key sealed 3 tokens: a new one
    now[0] = payment_tokens.DATA_KEY_MAX_AGE_SECONDS
    fifth = sealer.seal("tok_a", order_id="o-1")  # the second is five minutes old: a new one

    data_keys = {encrypted_data_key(token) for token in [*first, fourth, fifth]}
    assert len(data_keys) == 3 and kms.calls.count("GenerateDataKey") == 3
    assert {opener.open(token, order_id="o-1") for token in [*first, fourth, fifth]} == {"tok_a"}
    # The opener keeps a decrypted data key as long as the sealer uses it, then asks KMS again.
    assert kms.calls.count("Decrypt") == 3
    now[0] += payment_tokens.DATA_KEY_MAX_AGE_SECONDS
    assert opener.open(fifth, order_id="o-1") == "tok_a"
    assert kms.calls.count("Decrypt") == 4


def test_a_token_sealed_by_kms_alone_still_opens(tables: Tables) -> None:
    # Tokens sealed before data keys (in events in flight, in DLQs) are charged as before.
    legacy = KmsTokenCipher(tables.tokens.client, tables.tokens.key_id).seal("tok_ok", order_id="o-1")

    assert tables.tokens.open(legacy, order_id="o-1") == "tok_ok"
    with pytest.raises(PaymentTokenUnreadable):
        tables.tokens.open(legacy, order_id="o-2")


# moto answers a ciphertext of another key with AccessDenied; AWS answers IncorrectKeyException (and
# InvalidCiphertextException for garbage), so the mapping of KMS's answers is held with a stubbed client.
# Both forms: a token sealed by KMS alone, and one sealed with a data key (KMS decrypts the data key).
FORMS = ["AAAA", base64.b64encode(payment_tokens.ENVELOPE_HEADER + b"\x00\x04" + bytes(40)).decode()]


@pytest.mark.parametrize("sealed", FORMS)
@pytest.mark.parametrize("code", ["InvalidCiphertextException", "IncorrectKeyException", "InvalidKeyUsageException"])
def test_what_kms_refuses_for_good_is_unreadable(code: str, sealed: str) -> None:
    client = boto3.client("kms", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error("decrypt", service_error_code=code, http_status_code=400)
        with pytest.raises(PaymentTokenUnreadable):
            DataKeyTokenCipher(client, "key").open(sealed, order_id="o-1")


@pytest.mark.parametrize("sealed", FORMS)
@pytest.mark.parametrize("code", ["ThrottlingException", "AccessDeniedException", "KMSInternalException"])
def test_what_may_pass_propagates_so_the_delivery_is_retried(code: str, sealed: str) -> None:
    # An outage or a broken key policy must not decline customers' charges: the event is retried, and
    # after a fix a redrive charges it.
    client = boto3.client("kms", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error("decrypt", service_error_code=code, http_status_code=400)
        with pytest.raises(ClientError):
            DataKeyTokenCipher(client, "key").open(sealed, order_id="o-1")


def test_payment_charges_with_the_opened_token_and_declines_a_token_of_another_order(
    tables: Tables, context: LambdaContext
) -> None:
    on_order_created.lambda_handler(sqs_event(order_created(order_id="o-1", sealer=tables.tokens)), context)
    stolen = order_created(order_id="o-1", sealer=tables.tokens).data.encrypted_payment_token
    forged = order_created(order_id="o-2", sealer=tables.tokens)
    forged = forged.model_copy(update={"data": forged.data.model_copy(update={"encrypted_payment_token": stolen})})
    on_order_created.lambda_handler(sqs_event(forged), context)

    charged, declined = tables.payment.item("PAYMENT#o-1"), tables.payment.item("PAYMENT#o-2")
    assert charged is not None and charged["status"] == "CHARGED"
    assert declined is not None and declined["status"] == "DECLINED"
    assert [detail["data"].get("reason") for _, detail in tables.payment.outbox()] == [None, "payment_token_unreadable"]


def test_a_rejected_token_is_not_echoed_in_the_error(tables: Tables, context: LambdaContext) -> None:
    secret = "tok_" + "s3cr3t" * 12  # too long, so refused
    status, body = place(context, {**BODY, "payment": {"token": secret}})

    assert status == 400
    assert body["errors"][0]["field"] == "payment.token"
    assert "s3cr3t" not in json.dumps(body)
    assert tables.order.items() == tables.order.baseline


def test_a_rotated_key_still_opens_what_it_sealed_before_a_replaced_key_does_not(tables: Tables) -> None:
    kms = boto3.client("kms")
    key_id = tables.tokens.key_id
    before = tables.tokens.seal("tok_ok", order_id="o-1")  # an order in flight when the key rotates
    kms.enable_key_rotation(KeyId=key_id)
    kms.rotate_key_on_demand(KeyId=key_id)
    fresh = DataKeyTokenCipher(kms, key_id)  # a new worker after the rotation: new data keys

    assert fresh.open(before, order_id="o-1") == "tok_ok"  # rotation keeps the old key material
    assert fresh.open(fresh.seal("tok_ok", order_id="o-2"), order_id="o-2") == "tok_ok"
    # Replacing the key (a new KMS key, a stack that re-creates it) is not rotation: in-flight tokens
    # no longer open and their orders decline, payment_token_unreadable (docs/decisions.md).
    replaced = DataKeyTokenCipher(kms, kms.create_key()["KeyMetadata"]["KeyId"])
    # (AWS answers IncorrectKeyException, which is PaymentTokenUnreadable: held with a stub above; moto answers
    # AccessDeniedException, which the cipher leaves to be retried.)
    with pytest.raises(ClientError) as refused:
        replaced.open(before, order_id="o-1")
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
