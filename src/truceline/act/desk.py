"""The alert desk: address, encode, validate, sign, store, then deliver — in that order.

Storing comes before delivery so that no alert is ever lost: the alert and its signed CAP text
enter the store (and so the records ledger) in one transaction, then each sink is tried with
retries; what fails stays pending and is retried by :meth:`AlertDesk.retry_pending`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from truceline.act.alerts import IssuedAlert, cap_message
from truceline.act.delivery import RetryPolicy, Sink, attempt_counts, deliver, delivered_set, pending_deliveries
from truceline.act.markings import addressees
from truceline.act.records import DeliveryAttempt, SignedCap, register_records
from truceline.act.signing import AlertSigner
from truceline.agreement import Agreement
from truceline.interop.cap import to_xml
from truceline.model import Clock, CreationInfo, SystemClock
from truceline.policy import PolicyContext
from truceline.store import Store

__all__ = ["AlertDesk", "DeskSettings"]


@dataclass
class DeskSettings:
    """How the desk signs, who it says it is, and where it sends."""

    signer: AlertSigner
    sender: str = "truceline@MVM"
    sinks: Sequence[Sink] = ()
    exercise: bool = False
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    clock: Clock = field(default_factory=SystemClock)
    sleep: Callable[[float], None] | None = None


class AlertDesk:
    """Issues alerts into a store for the participants of ``agreement``."""

    def __init__(self, store: Store, agreement: Agreement, settings: DeskSettings) -> None:
        register_records()
        self.store = store
        self.agreement = agreement
        self.settings = settings
        self.context = PolicyContext.of(agreement.participants)

    def roles(self, *roles: str) -> tuple[str, ...]:
        """Participants of the agreement holding any of ``roles``."""
        return tuple(p.id for p in self.agreement.participants if set(p.roles) & set(roles))

    def issue(self, issued: IssuedAlert, *, candidates: Iterable[str] | None = None) -> SignedCap | None:
        """Issue one alert unless an alert with its id was issued already; return its signed CAP."""
        alert = issued.alert
        if self.store.get_record("alert", alert.id) is not None:
            return None
        to = addressees(self.context, alert.markings, candidates)
        alert = alert.model_copy(update={"addresses": to})
        issued = IssuedAlert(alert, issued.event, issued.urgency, issued.certainty, issued.parameters,
                             issued.location, issued.instruction)
        message = cap_message(issued, sender=self.settings.sender, addresses=to, exercise=self.settings.exercise)
        xml = to_xml(message)  # validated against the CAP 1.2 schema, or CapError
        signature = self.settings.signer.sign(xml)
        signed = SignedCap(
            id=alert.id,
            alert_id=alert.id,
            xml=xml.decode("utf-8"),
            sha256=signature.sha256,
            signature=signature.signature,
            key_id=signature.key_id,
            addresses=to,
            markings=alert.markings,
            creation_info=CreationInfo(agent="truceline.act", created=self.settings.clock.now()),
        )
        self.store.put_records([alert, signed])
        self._send([signed])
        return signed

    def _send(self, messages: Sequence[SignedCap], history: Sequence[DeliveryAttempt] = ()) -> int:
        if not self.settings.sinks:
            return 0
        already, tried = delivered_set(history), attempt_counts(history)
        attempts: list[DeliveryAttempt] = []
        for message in messages:
            attempts += deliver(
                message,
                self.settings.sinks,
                policy=self.settings.retry,
                clock=self.settings.clock,
                sleep=self.settings.sleep,
                delivered=already,
                tried=tried,
            )
        if attempts:
            self.store.put_records(attempts)
        return sum(1 for a in attempts if a.ok)

    def retry_pending(self) -> int:
        """Try again every delivery that has not yet succeeded; return the number now delivered."""
        if not self.settings.sinks:
            return 0
        messages = [s.record for s in self.store.records("signedcap") if isinstance(s.record, SignedCap)]
        attempts = [s.record for s in self.store.records("deliveryattempt") if isinstance(s.record, DeliveryAttempt)]
        pending = pending_deliveries(messages, attempts, self.settings.sinks)
        return self._send(pending, attempts) if pending else 0
