"""The local cloud's server fills in the condition keys AWS evaluates, from each request as AWS reads it."""

from __future__ import annotations

from typing import Any

from tools.dev.localcloud_server import aws_condition_keys, dynamodb_leading_keys, iam_action_of


def entry(source: str, detail_type: str = "OrderCreated") -> dict[str, Any]:
    return {"EventBusName": "bus", "Source": source, "DetailType": detail_type, "Detail": "{}"}


def test_put_events_carries_the_source_and_detail_type_of_its_entries() -> None:
    keys = aws_condition_keys("events", "events:PutEvents", {"Entries": [entry("shop.order"), entry("shop.order")]})
    assert keys == {"events:source": "shop.order", "events:detail-type": "OrderCreated"}


def test_a_put_events_of_several_sources_names_them_all_so_a_grant_of_one_does_not_match() -> None:
    keys = aws_condition_keys("events", "events:PutEvents", {"Entries": [entry("shop.order"), entry("shop.payment")]})
    assert keys["events:source"] == ["shop.order", "shop.payment"]


def test_dynamodb_leading_keys_are_the_partition_keys_a_request_names() -> None:
    key = {"pk": {"S": "OUTBOX#1"}}
    assert dynamodb_leading_keys({"TableName": "t", "Key": key}) == ["OUTBOX#1"]
    assert dynamodb_leading_keys({"TableName": "t", "Item": {"pk": {"S": "ORDER#2"}, "n": {"N": "1"}}}) == []
    batch = {"t": [{"DeleteRequest": {"Key": key}}, {"DeleteRequest": {"Key": {"pk": {"S": "ORDER#2"}}}}]}
    assert dynamodb_leading_keys({"RequestItems": batch}) == ["ORDER#2", "OUTBOX#1"]
    transaction = [{"Put": {"TableName": "t", "Item": key}}, {"Update": {"TableName": "t", "Key": key}}]
    assert dynamodb_leading_keys({"TransactItems": transaction}) == ["OUTBOX#1"]


def test_an_item_of_several_attributes_is_not_guessed_without_the_tables_key_schema() -> None:
    # Outside the emulator there is no schema to ask: a one-attribute key is the partition key, an item is not.
    assert dynamodb_leading_keys({"TableName": "t", "Key": {"pk": {"S": "A"}, "sk": {"S": "B"}}}) == []


def test_a_query_names_its_partition_key_but_an_index_query_names_none() -> None:
    query = {
        "TableName": "t",
        "KeyConditionExpression": "#k = :v",
        "ExpressionAttributeNames": {"#k": "pk"},
        "ExpressionAttributeValues": {":v": {"S": "ORDER#1"}},
    }
    assert dynamodb_leading_keys(query) == []  # no schema outside the emulator: nothing guessed
    assert dynamodb_leading_keys({**query, "IndexName": "by-state"}) == []


def test_kms_calls_carry_their_encryption_context() -> None:
    keys = aws_condition_keys("kms", "kms:Decrypt", {"EncryptionContext": {"purpose": "payment-token"}})
    assert keys == {"kms:encryptioncontext:purpose": "payment-token", "kms:encryptioncontextkeys": ["purpose"]}
    assert aws_condition_keys("kms", "kms:Decrypt", {}) == {}


def test_other_calls_get_no_keys() -> None:
    assert aws_condition_keys("sqs", "sqs:SendMessage", {"QueueUrl": "q"}) == {}


def test_sqs_batch_calls_are_authorised_by_their_single_calls_action_as_aws_does() -> None:
    assert iam_action_of("sqs:ChangeMessageVisibilityBatch") == "sqs:ChangeMessageVisibility"
    assert iam_action_of("sqs:DeleteMessageBatch") == "sqs:DeleteMessage"
    assert iam_action_of("sqs:SendMessageBatch") == "sqs:SendMessage"
    assert iam_action_of("sqs:ReceiveMessage") == "sqs:ReceiveMessage"
