"""Payment tokens on moto's KMS: the order API seals, only the payment service opens, for one order only."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from order.handlers.api import lambda_handler as order_api
from payment.handlers import on_order_created
from shared.payment_tokens import KmsTokenCipher, PaymentTokenUnreadable
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


# moto answers a ciphertext of another key with AccessDenied; AWS answers IncorrectKeyException (and
# InvalidCiphertextException for garbage), so the mapping of KMS's answers is held with a stubbed client.
@pytest.mark.parametrize("code", ["InvalidCiphertextException", "IncorrectKeyException", "InvalidKeyUsageException"])
def test_what_kms_refuses_for_good_is_unreadable(code: str) -> None:
    client = boto3.client("kms", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error("decrypt", service_error_code=code, http_status_code=400)
        with pytest.raises(PaymentTokenUnreadable):
            KmsTokenCipher(client, "key").open("AAAA", order_id="o-1")


@pytest.mark.parametrize("code", ["ThrottlingException", "AccessDeniedException", "KMSInternalException"])
def test_what_may_pass_propagates_so_the_delivery_is_retried(code: str) -> None:
    # An outage or a broken key policy must not decline customers' charges: the event is retried, and
    # after a fix a redrive charges it.
    client = boto3.client("kms", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error("decrypt", service_error_code=code, http_status_code=400)
        with pytest.raises(ClientError):
            KmsTokenCipher(client, "key").open("AAAA", order_id="o-1")


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
