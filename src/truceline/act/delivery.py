"""Delivering signed alerts: to files, to HTTP webhooks with retries and backoff, to a NATS subject.

Every attempt becomes a :class:`DeliveryAttempt` record, successful or not. An alert whose
delivery failed after all retries stays *pending* (:func:`pending_deliveries`) and is tried again
on the next run, so a webhook that times out or answers 500 loses nothing: the alert is already
stored and signed before the first attempt.

Sinks are addressed per participant: each sink serves one participant (``recipient``) or, with
``recipient=None``, receives every addressee's copy (a file drop per participant folder).
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from truceline.act.records import DeliveryAttempt, SignedCap
from truceline.model import Clock, CreationInfo, SystemClock

__all__ = [
    "CAP_MEDIA_TYPE",
    "DeliveryError",
    "FileSink",
    "NatsSink",
    "RetryPolicy",
    "Sink",
    "WebhookSink",
    "attempt_counts",
    "deliver",
    "delivered_set",
    "pending_deliveries",
]

CAP_MEDIA_TYPE = "application/common-alerting-protocol+xml"


class DeliveryError(Exception):
    """One attempt failed; ``status_code`` when the server answered, ``retryable`` if worth retrying."""

    def __init__(self, reason: str, *, status_code: int | None = None, retryable: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status_code = status_code
        self.retryable = retryable


class Sink(Protocol):
    """A destination for signed alerts."""

    name: str
    recipient: str | None

    def send(self, message: SignedCap, recipient: str) -> int | None:
        """Deliver one copy for ``recipient``; return an HTTP-like status or raise DeliveryError."""
        ...


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


@dataclass
class FileSink:
    """Writes ``<dir>/<participant>/<alert id>.xml`` and its detached signature ``.sig`` (JSON)."""

    directory: Path
    name: str = "files"
    recipient: str | None = None

    def send(self, message: SignedCap, recipient: str) -> int | None:
        folder = Path(self.directory) / recipient
        try:
            folder.mkdir(parents=True, exist_ok=True)
            stem = message.alert_id.replace("/", "_")
            _atomic_write(folder / f"{stem}.xml", message.xml.encode("utf-8"))
            sig = (
                f'{{"alert_id": "{message.alert_id}", "sha256": "{message.sha256}", '
                f'"signature": "{message.signature}", "key_id": "{message.key_id}", "scheme": "truceline-cap-v1"}}\n'
            )
            _atomic_write(folder / f"{stem}.sig", sig.encode("utf-8"))
        except OSError as exc:
            raise DeliveryError(f"cannot write to {folder}: {exc.strerror or exc}") from None
        return None


@dataclass
class WebhookSink:
    """POSTs the CAP XML to ``url``; the signature travels in ``X-Truceline-Signature`` headers."""

    url: str
    recipient: str | None = None
    name: str = ""
    timeout_s: float = 5.0

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise ValueError(f"a webhook needs an http(s) URL, not {self.url!r}")
        self.name = self.name or self.url

    def send(self, message: SignedCap, recipient: str) -> int | None:
        request = urllib.request.Request(
            self.url,
            data=message.xml.encode("utf-8"),
            method="POST",
            headers={
                "Content-Type": CAP_MEDIA_TYPE,
                "X-Truceline-Alert": message.alert_id,
                "X-Truceline-Recipient": recipient,
                "X-Truceline-Signature": message.signature,
                "X-Truceline-Key-Id": message.key_id,
                "X-Truceline-Sha256": message.sha256,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                status = int(response.status)
        except urllib.error.HTTPError as exc:
            # 4xx other than 408/429 will not get better by trying again; 5xx may.
            retryable = exc.code >= 500 or exc.code in (408, 429)
            raise DeliveryError(f"{self.url} answered {exc.code} {exc.reason}", status_code=exc.code,
                                retryable=retryable) from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DeliveryError(f"{self.url}: {reason}") from None
        return status


@dataclass
class NatsSink:
    """Publishes to ``<subject>.<participant>`` on a NATS server (server mode; needs ``nats-py``)."""

    servers: str
    subject: str = "truceline.alerts"
    recipient: str | None = None
    name: str = "nats"
    timeout_s: float = 5.0

    def send(self, message: SignedCap, recipient: str) -> int | None:
        import asyncio

        try:
            import nats
        except ImportError:  # pragma: no cover - depends on the installed extras
            raise DeliveryError("nats-py is not installed (pip install 'truceline[server]')", retryable=False) from None

        async def publish() -> None:
            client = await nats.connect(
                self.servers, connect_timeout=self.timeout_s, allow_reconnect=False, max_reconnect_attempts=0
            )
            try:
                headers = {"X-Truceline-Signature": message.signature, "X-Truceline-Key-Id": message.key_id}
                await client.publish(f"{self.subject}.{recipient}", message.xml.encode("utf-8"), headers=headers)
                await client.flush(timeout=max(1, round(self.timeout_s)))
            finally:
                await client.close()

        async def bounded() -> None:
            await asyncio.wait_for(publish(), timeout=3 * self.timeout_s)

        try:
            asyncio.run(bounded())
        except Exception as exc:  # nats raises many kinds; each is one failed attempt
            raise DeliveryError(f"nats {self.servers}: {type(exc).__name__}: {exc}") from None
        return None


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: ``base_s``, ×``factor`` per retry, capped at ``max_s``; ``attempts`` in all."""

    attempts: int = 5
    base_s: float = 0.5
    factor: float = 2.0
    max_s: float = 30.0

    def delay(self, attempt: int) -> float:
        """The wait after failed attempt number ``attempt`` (1-based).

        >>> [RetryPolicy().delay(i) for i in range(1, 5)]
        [0.5, 1.0, 2.0, 4.0]
        """
        return float(min(self.base_s * self.factor ** (attempt - 1), self.max_s))


def _attempt_record(
    message: SignedCap, sink: Sink, recipient: str, attempt: int, at: datetime, status: int | None, error: str
) -> DeliveryAttempt:
    return DeliveryAttempt(
        id=f"delivery--{message.alert_id}--{sink.name}--{recipient}--{attempt}"[:200],
        alert_id=message.alert_id,
        destination=sink.name[:200],
        recipient=recipient,
        attempt=attempt,
        at=at,
        ok=not error,
        status_code=status,
        error=error[:2000],
        markings=message.markings,
        creation_info=CreationInfo(agent="truceline.act.delivery", created=at),
    )


def deliver(
    message: SignedCap,
    sinks: Sequence[Sink],
    *,
    policy: RetryPolicy | None = None,
    clock: Clock | None = None,
    sleep: Callable[[float], None] | None = None,
    delivered: Collection[tuple[str, str, str | None]] = (),
    tried: Mapping[tuple[str, str, str | None], int] | None = None,
) -> list[DeliveryAttempt]:
    """Send ``message`` to each sink for each addressee it serves; one record per attempt.

    Only addressees receive a copy: a sink bound to a participant the markings exclude gets nothing.
    ``delivered`` holds (alert id, sink name, recipient) already done, which are not sent again;
    ``tried`` counts earlier attempts per key, so attempt numbers (and record ids) continue across runs.
    """
    import time

    policy = policy or RetryPolicy()
    clock = clock or SystemClock()
    pause = sleep or time.sleep
    records: list[DeliveryAttempt] = []
    for sink in sinks:
        recipients = message.addresses if sink.recipient is None else (
            (sink.recipient,) if sink.recipient in message.addresses else ()
        )
        for recipient in recipients:
            key = (message.alert_id, sink.name[:200], recipient)
            if key in delivered:
                continue
            before = (tried or {}).get(key, 0)
            for attempt in range(1, policy.attempts + 1):
                number = before + attempt
                try:
                    status = sink.send(message, recipient)
                except DeliveryError as exc:
                    records.append(
                        _attempt_record(message, sink, recipient, number, clock.now(), exc.status_code, exc.reason)
                    )
                    if not exc.retryable or attempt == policy.attempts:
                        break
                    pause(policy.delay(attempt))
                else:
                    records.append(_attempt_record(message, sink, recipient, number, clock.now(), status, ""))
                    break
    return records


def delivered_set(attempts: Iterable[DeliveryAttempt]) -> set[tuple[str, str, str | None]]:
    """(alert id, destination, recipient) of every successful attempt."""
    return {(a.alert_id, a.destination, a.recipient) for a in attempts if a.ok}


def attempt_counts(attempts: Iterable[DeliveryAttempt]) -> dict[tuple[str, str, str | None], int]:
    """How many attempts each (alert id, destination, recipient) has had."""
    counts: dict[tuple[str, str, str | None], int] = {}
    for a in attempts:
        key = (a.alert_id, a.destination, a.recipient)
        counts[key] = max(counts.get(key, 0), a.attempt)
    return counts


def pending_deliveries(
    messages: Iterable[SignedCap], attempts: Iterable[DeliveryAttempt], sinks: Sequence[Sink]
) -> list[SignedCap]:
    """Messages that some sink has not yet delivered to some addressee it serves (to retry)."""
    done = delivered_set(attempts)
    out = []
    for message in messages:
        for sink in sinks:
            recipients = message.addresses if sink.recipient is None else (
                (sink.recipient,) if sink.recipient in message.addresses else ()
            )
            if any((message.alert_id, sink.name[:200], r) not in done for r in recipients):
                out.append(message)
                break
    return out
