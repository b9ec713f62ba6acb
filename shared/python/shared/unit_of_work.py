"""The unit of work: one step of a service, from the event it reacts to until its commit.

    with uow.reacting_to(cause) as step:
        step.payments.mark_refunded(payment)
        step.emit(PaymentRefunded(...))

A step stages the inbox mark of its cause, the writes its repositories describe, and the events it
emits (the outbox), and commits them together when the block ends; if the block raises, nothing is
written. The mark rides on the cause's subject, the service's record of the order
(`shared.outbox.with_inbox_mark`). A failed guard comes out as the typed error its write names
(`DuplicateEvent` for the inbox, `PaymentChangedConcurrently`, ...), so logic never sees a transaction,
a label or a DynamoDB error.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, overload

from shared.observability import logger
from shared.outbox import outbox_put, with_inbox_mark
from shared.storage import Key, Table, Write, forget_read_ahead, read_ahead
from shop_contracts.base import DomainEvent
from shop_contracts.envelope import Envelope, EventMetadata, caused_by, start_saga


class Step:
    """The writes and events of one step; a service's subclass adds its repositories bound to it."""

    def __init__(self, table: Table, *, origin: EventMetadata | None, correlation_id: str) -> None:
        self.table = table
        self.origin = origin
        self.correlation_id = correlation_id
        self.writes: list[Write] = []
        self.emitted: list[Envelope[DomainEvent]] = []

    def stage(self, write: Write) -> None:
        """Add a write to the commit."""
        self.writes.append(write)

    def emit[EventT: DomainEvent](self, data: EventT) -> Envelope[EventT]:
        """Publish `data` if, and only if, the step commits: same saga, caused by what the step reacts to."""
        envelope = caused_by(data, self.origin) if self.origin else start_saga(data, correlation_id=self.correlation_id)
        self.stage(outbox_put(envelope))  # type: ignore[arg-type]
        self.emitted.append(envelope)  # type: ignore[arg-type]
        return envelope


REPORTED = "/failure-reported"
"""The suffix of an event id that marks its failure reported (`UnitOfWork.reporting_failure_of`)."""


class UnitOfWork[StepT: Step]:
    """Opens the steps of one service on its table; subclasses name the step type and the read side."""

    step_type: type[StepT]

    def __init__(self, table: Table) -> None:
        self.table = table

    @contextmanager
    def reacting_to(self, cause: Envelope[Any]) -> Iterator[StepT]:
        """A step in reaction to `cause`, once per event: its events name `cause` as what they reacted to, and
        the inbox mark of `cause` commits with it.

        Raises
        ------
        DuplicateEvent
            On commit, when `cause` was applied before.
        """
        step = self._step(origin=cause.metadata, correlation_id=cause.metadata.correlation_id)
        yield step
        self.table.write(with_inbox_mark(step.writes, cause, self.subject(cause)))

    @contextmanager
    def claiming(self, cause: Envelope[Any]) -> Iterator[StepT]:
        """A claim in reaction to `cause`, taken before an outside call (a charge, a refund): it commits
        without the inbox mark, because the reaction is not done until the call's answer is recorded, and a
        later delivery must be able to find the claim and finish it."""
        step = self._step(origin=cause.metadata, correlation_id=cause.metadata.correlation_id)
        yield step
        self.table.write(step.writes)

    @contextmanager
    def reporting_failure_of(self, cause: Envelope[Any]) -> Iterator[StepT]:
        """A step that tells operators reacting to `cause` failed for good, at most once per event: it
        carries a mark of its own (not the inbox mark), so a redrive of `cause` after a fix still applies
        it. The consumer's last delivery and the dead-letter reporter both report through here, so a
        failure either of them saw is reported once.

        Raises
        ------
        DuplicateEvent
            On commit, when the failure was reported before.
        """
        step = self._step(origin=cause.metadata, correlation_id=cause.metadata.correlation_id)
        yield step
        report = cause.metadata.model_copy(update={"event_id": f"{cause.metadata.event_id}{REPORTED}"})
        marked = with_inbox_mark(step.writes, cause.model_copy(update={"metadata": report}), self.subject(cause))
        self.table.write(marked)

    def read_ahead(self, causes: Sequence[Envelope[Any]]) -> None:
        """Read the records these causes' reactions will read first, their subjects, in one call, when the
        table can (`shared.storage.dynamodb.ReadAhead`); for a consumer whose every reaction reads its
        subject before it writes, so a batch costs one read, not one per record."""
        read_ahead(self.table, [key for cause in causes if (key := self.subject(cause)) is not None])

    def forget_read_ahead(self) -> None:
        """Drop what `read_ahead` read and no reaction used."""
        forget_read_ahead(self.table)

    def subject(self, cause: Envelope[Any]) -> Key | None:
        """The key of the item every effect of `cause` on this service writes, which then carries its inbox
        mark: this service's record of the order a saga event names (`order_record`); None gives the
        mark a record of its own."""
        order_id = getattr(cause.data, "order_id", None)
        return self.order_record(order_id) if isinstance(order_id, str) else None

    def order_record(self, order_id: str) -> Key | None:
        """The key of this service's record of an order, if every reaction to the order's events writes it."""
        return None

    def _step(self, *, origin: EventMetadata | None, correlation_id: str) -> StepT:
        # Every log line from here on names the saga (the order id) it belongs to.
        logger.append_keys(correlation_id=correlation_id)
        return self.step_type(self.table, origin=origin, correlation_id=correlation_id)

    @contextmanager
    def starting(self, correlation_id: str) -> Iterator[StepT]:
        """A step nothing on the bus caused (an API request): its events have no cause, and they start
        the correlation `correlation_id` (an order's saga, a product's history)."""
        step = self._step(origin=None, correlation_id=correlation_id)
        yield step
        self.table.write(step.writes)

    @contextmanager
    def acting_for(self, origin: EventMetadata) -> Iterator[StepT]:
        """A step nothing on the bus caused (a customer's cancel, a deadline): its events name `origin`."""
        step = self._step(origin=origin, correlation_id=origin.correlation_id)
        yield step
        self.table.write(step.writes)


class Repository:
    """Base of a service's repositories: reads from the table, writes staged on a step."""

    def __init__(self, table: Table, step: Step | None = None) -> None:
        self.table = table
        self._step = step

    def _stage(self, write: Write) -> None:
        if self._step is None:
            raise RuntimeError(f"{type(self).__name__} writes go through a step: `with uow.reacting_to(...) as step`")
        self._step.stage(write)


class repository[RepositoryT: Repository]:
    """Declares a repository once, on a class both a service's step and its unit of work inherit:

        class OrderRepositories:
            orders = repository(OrderRepository)

    `step.orders` stages its writes on the step; `uow.orders`, outside any step, only reads.
    """

    def __init__(self, kind: type[RepositoryT]) -> None:
        self.kind = kind

    @overload
    def __get__(self, owner: None, cls: type) -> repository[RepositoryT]: ...

    @overload
    def __get__(self, owner: Step | UnitOfWork[Any], cls: type) -> RepositoryT: ...

    def __get__(self, owner: Step | UnitOfWork[Any] | None, cls: type) -> RepositoryT | repository[RepositoryT]:
        if owner is None:
            return self
        return self.kind(owner.table, owner if isinstance(owner, Step) else None)
