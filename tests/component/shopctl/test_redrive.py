"""The redrive command moves a dead-letter queue's messages back to their queue and counts them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from shopctl import redrive as redrive_module
from shopctl.redrive import Redrive, count, redrive


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

    assert redrive(sqs, queues).moved == 23

    assert count(sqs, queues.dead_letter_queue_url) == 0
    bodies = set()
    while batch := sqs.receive_message(QueueUrl=queues.queue_url, MaxNumberOfMessages=10).get("Messages", []):
        for message in batch:
            bodies.add(message["Body"])
            sqs.delete_message(QueueUrl=queues.queue_url, ReceiptHandle=message["ReceiptHandle"])
    assert bodies == {f"event-{index}" for index in range(23)}


def test_an_empty_dead_letter_queue_moves_nothing(queues: Redrive) -> None:
    assert redrive(boto3.client("sqs"), queues).moved == 0


def test_a_window_finds_its_messages_behind_older_ones_and_says_what_it_skipped(queues: Redrive) -> None:
    sqs = boto3.client("sqs")
    for index in range(10):
        sqs.send_message(QueueUrl=queues.dead_letter_queue_url, MessageBody=f"old-{index}")
    time.sleep(1.1)  # SentTimestamp has millisecond resolution; the window starts after the old ones
    since = datetime.now(UTC)
    for index in range(5):
        sqs.send_message(QueueUrl=queues.dead_letter_queue_url, MessageBody=f"new-{index}")

    dry = redrive(sqs, queues, since=since, dry_run=True)
    done = redrive(sqs, queues, since=since)

    assert (dry.examined, dry.moved, dry.outside_window) == (15, 5, 10)
    assert (done.examined, done.moved, done.outside_window) == (15, 5, 10)
    assert count(sqs, queues.dead_letter_queue_url) == 10  # the old ones stay, visible again
    assert count(sqs, queues.queue_url) == 5


class ParksAgain:
    """SQS, with a consumer that parks every event sent back to its queue in its dead-letter queue at once
    (a poison event stays poison after a redrive)."""

    def __init__(self, sqs: Any, target: Redrive) -> None:
        self.sqs, self.target, self.sent = sqs, target, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sqs, name)

    def send_message(self, **kwargs: Any) -> Any:
        self.sent += 1
        assert self.sent <= 50, "the redrive keeps moving the messages it parked itself"
        answer = self.sqs.send_message(**kwargs)
        if kwargs["QueueUrl"] == self.target.queue_url:
            self.sqs.send_message(QueueUrl=self.target.dead_letter_queue_url, MessageBody=kwargs["MessageBody"])
        return answer


def test_a_message_parked_again_during_the_redrive_is_not_moved_again(queues: Redrive) -> None:
    sqs = boto3.client("sqs")
    for index in range(3):
        sqs.send_message(QueueUrl=queues.dead_letter_queue_url, MessageBody=f"poison-{index}")
    time.sleep(0.01)

    report = redrive(ParksAgain(sqs, queues), queues)

    assert (report.examined, report.moved, report.arrived_during_scan) == (3, 3, 3)
    assert count(sqs, queues.dead_letter_queue_url) == 3  # parked again, waiting for the next redrive


def test_a_message_another_reader_holds_for_a_moment_is_waited_for_and_moved(
    queues: Redrive, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A dead-letter reporter's scan hides the message for a moment, then shows it again.
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=queues.dead_letter_queue_url, MessageBody="refund")
    [held] = sqs.receive_message(QueueUrl=queues.dead_letter_queue_url, VisibilityTimeout=30)["Messages"]
    slept: list[float] = []

    def reporter_done(seconds: float) -> None:
        slept.append(seconds)
        sqs.change_message_visibility(
            QueueUrl=queues.dead_letter_queue_url, ReceiptHandle=held["ReceiptHandle"], VisibilityTimeout=0
        )

    monkeypatch.setattr(time, "sleep", reporter_done)

    report = redrive(sqs, queues)

    assert (report.moved, report.held_elsewhere) == (1, 0)
    assert slept  # it waited rather than report the queue done
    assert count(sqs, queues.queue_url) == 1


def test_a_message_held_elsewhere_throughout_is_reported_not_silently_left(
    queues: Redrive, monkeypatch: pytest.MonkeyPatch
) -> None:
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=queues.dead_letter_queue_url, MessageBody="refund")
    sqs.receive_message(QueueUrl=queues.dead_letter_queue_url, VisibilityTimeout=300)
    monkeypatch.setattr(redrive_module, "HELD_ELSEWHERE_WAIT_SECONDS", 0)

    report = redrive(sqs, queues)

    assert (report.moved, report.held_elsewhere) == (0, 1)
