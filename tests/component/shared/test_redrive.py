"""The redrive command moves a dead-letter queue's messages back to their queue and counts them."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from scripts.redrive import Redrive, count, redrive


@pytest.fixture
def queues() -> Iterator[Redrive]:
    with mock_aws():
        sqs = boto3.client("sqs")
        yield Redrive(
            "PaymentOnOrderCancelled",
            sqs.create_queue(QueueName="dlq")["QueueUrl"],
            sqs.create_queue(QueueName="queue")["QueueUrl"],
        )


def test_every_message_moves_back_once(queues: Redrive) -> None:
    sqs = boto3.client("sqs")
    for index in range(23):
        sqs.send_message(QueueUrl=queues.dead_letter_queue_url, MessageBody=f"event-{index}")

    assert redrive(sqs, queues) == 23

    assert count(sqs, queues.dead_letter_queue_url) == 0
    bodies = set()
    while batch := sqs.receive_message(QueueUrl=queues.queue_url, MaxNumberOfMessages=10).get("Messages", []):
        for message in batch:
            bodies.add(message["Body"])
            sqs.delete_message(QueueUrl=queues.queue_url, ReceiptHandle=message["ReceiptHandle"])
    assert bodies == {f"event-{index}" for index in range(23)}


def test_an_empty_dead_letter_queue_moves_nothing(queues: Redrive) -> None:
    assert redrive(boto3.client("sqs"), queues) == 0
