"""The front door on the running stack: customers sign in, an order is its customer's alone, operators
sign their calls, stale writes are refused, restocks never oversell, and a fuzzer finds nothing."""

from __future__ import annotations

import json
import os
import random
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from shopctl.stack import ApiClient
from tests.e2e.conftest import BusListener
from tests.e2e.saga import available, place, settle
from tests.support.fuzz import fuzz_stack

ORDER = {"items": [{"productId": "ANY", "quantity": 1}], "totalAmount": "10.00", "payment": {"token": "tok_ok"}}


def test_every_customer_route_needs_a_token(
    anonymous: ApiClient, api: ApiClient, new_product: Callable[..., str]
) -> None:
    order_id = place(api, [(new_product(5), 1)], "10.00")

    for method, path, body in (
        ("POST", "/orders", ORDER),
        ("GET", f"/orders/{order_id}", None),
        ("POST", f"/orders/{order_id}/cancel", None),
    ):
        assert anonymous.call(method, path, body).status == 401, path
        assert anonymous.as_customer("not-a-token").call(method, path, body).status == 401, path
    assert api.call("GET", f"/orders/{order_id}").status == 200


def test_another_customers_order_is_not_found(
    api: ApiClient, other_customer: ApiClient, bus: BusListener, new_product: Callable[..., str]
) -> None:
    order_id = place(api, [(new_product(5), 1)], "10.00")

    unknown_id = str(uuid.uuid4())
    theirs = other_customer.call("GET", f"/orders/{order_id}")
    unknown = other_customer.call("GET", f"/orders/{unknown_id}")
    cancel = other_customer.call("POST", f"/orders/{order_id}/cancel")

    assert theirs.status == unknown.status == cancel.status == 404
    assert (
        theirs.body["detail"].replace(order_id, "ID")
        == unknown.body["detail"].split(" does ")[0].rsplit(" ", 1)[0] + " ID does not exist"
    )
    mine = settle(api, bus, order_id)
    assert mine["status"] == "CONFIRMED"  # B's cancel changed nothing
    own = other_customer.call("GET", f"/orders/{place(other_customer, [(new_product(5), 1)], '10.00')}").body
    assert own["customerId"] != mine["customerId"]  # each order belongs to the token that placed it


def test_product_writes_need_a_signature(anonymous: ApiClient, operator: ApiClient) -> None:
    product_id = f"E2E-{uuid.uuid4().hex[:10]}"
    body = {"name": "signed", "price": "1.00", "available": 3}

    unsigned = anonymous.call("PUT", f"/products/{product_id}", body)
    restock = anonymous.call("POST", f"/products/{product_id}/restock", {"quantity": 1})
    signed = operator.call("PUT", f"/products/{product_id}", body)

    assert unsigned.status in (401, 403) and restock.status in (401, 403)
    assert signed.status == 200 and signed.headers["ETag"] == '"1"'
    assert anonymous.call("GET", f"/products/{product_id}").body["available"] == 3  # the catalogue is public


def test_a_stale_if_match_is_refused_so_a_reservation_is_never_overwritten(
    api: ApiClient, operator: ApiClient, bus: BusListener, new_product: Callable[..., str]
) -> None:
    product = new_product(5)
    etag = operator.call("GET", f"/products/{product}").headers["ETag"]
    settle(api, bus, place(api, [(product, 2)], "20.00"))  # reserves 2 since the operator's read

    stale = operator.call(
        "PUT", f"/products/{product}", {"name": "x", "price": "10.00", "available": 5}, headers={"If-Match": etag}
    )

    assert stale.status == 412
    assert available(api, product) == 3
    fresh = operator.call("GET", f"/products/{product}").headers["ETag"]
    assert (
        operator.call(
            "PUT", f"/products/{product}", {"name": "x", "price": "10.00", "available": 9}, headers={"If-Match": fresh}
        ).status
        == 200
    )


def test_restocks_racing_fifty_orders_never_oversell(
    api: ApiClient, operator: ApiClient, bus: BusListener, new_product: Callable[..., str]
) -> None:
    initial, orders, restocks, units = 10, 50, 5, 4
    product = new_product(initial, "5.00")
    jobs = ["order"] * orders + ["restock"] * restocks
    random.Random(3).shuffle(jobs)

    def run(job: str) -> str | None:
        if job == "restock":
            assert operator.call("POST", f"/products/{product}/restock", {"quantity": units}).status == 200
            return None
        return place(api, [(product, 1)], "5.00")

    with ThreadPoolExecutor(max_workers=4) as pool:
        order_ids = [order_id for order_id in pool.map(run, jobs) if order_id]
    finals = [settle(api, bus, order_id, timeout=240) for order_id in order_ids]

    confirmed = Counter(order["status"] for order in finals)["CONFIRMED"]
    assert confirmed <= initial + restocks * units
    assert available(api, product) == initial + restocks * units - confirmed >= 0


def test_an_id_no_order_can_have_is_a_clear_404(api: ApiClient) -> None:
    result = api.call("GET", "/orders/" + "x" * 3000)
    assert result.status == 404 and result.headers["Content-Type"] == "application/problem+json"


def test_a_fuzzer_finds_no_5xx_no_broken_contract_and_no_change_from_a_rejected_request(
    capsys: pytest.CaptureFixture[str],
) -> None:
    report = fuzz_stack(os.environ["AWS_SAM_STACK_NAME"], examples=int(os.environ.get("FUZZ_EXAMPLES", "45")))

    with capsys.disabled():
        print("\n" + report.render())
    assert report.requests >= 1000
    # Every route of the OpenAPI document was fuzzed.
    document = json.loads((Path(__file__).resolve().parents[2] / "docs" / "openapi.json").read_text())
    assert set(report.routes) == {f"{m.upper()} {path}" for path, ops in document["paths"].items() for m in ops}
    assert not [status for status in report.statuses if status >= 500]
    assert report.findings == []
