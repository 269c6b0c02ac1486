"""The stage entry point the pipeline calls after each processed batch."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from truceline.act.desk import DeskSettings
from truceline.act.signing import AlertSigner
from truceline.act.stage import ActSettings, ActStage, RecordCache
from truceline.agreement import Agreement
from truceline.store import Store

__all__ = ["ALERT_KEY_SUFFIX", "ActFollower", "default_signer", "run"]

ALERT_KEY_SUFFIX = ".alert-key"
CURSOR = "act.records"
"""The store cursor: the records-log position up to which act has considered alerts."""


def default_signer(store: Store) -> AlertSigner:
    """The alert key beside an embedded database (``<db>.alert-key``, 0600), else an in-memory key."""
    path = getattr(store, "path", None)
    if isinstance(path, Path | str) and str(path) not in ("", ":memory:"):
        return AlertSigner.load_or_create(Path(f"{path}{ALERT_KEY_SUFFIX}"))
    return AlertSigner.generate()


def run(
    store: Store,
    agreement: Agreement,
    *,
    after_seq: int,
    upto_seq: int,
    settings: ActSettings | None = None,
    now: datetime | None = None,
    records: RecordCache | None = None,
) -> dict[str, int]:
    """Act on everything stored so far, as of ``now`` (default: the latest time the records speak of).

    Act reads derived records, not observations, so the observation window (``after_seq``,
    ``upto_seq``] only says that new data arrived; re-running issues nothing twice (alert,
    activation and task ids come from what they are about).
    """
    del after_seq, upto_seq  # act's input is the derived records, whatever window produced them
    settings = settings or ActSettings(desk=DeskSettings(signer=default_signer(store)))
    stage = ActStage(store, agreement, settings, records=records)
    moment = now or stage.data_time()
    if moment is None:
        return {"alerts": 0, "activations": 0, "directive_tasks": 0, "consultations": 0,
                "hotline_escalations": 0, "deliveries": 0}
    since = store.get_cursor(CURSOR)
    head = store.tree_head("records")
    upto = head.tree_size if head is not None else 0
    counts = stage.tick(moment, since_seq=since).counts()
    # Records act wrote itself lie beyond ``upto``; they are not inputs, so skipping them is right.
    # If a changed record lay after ``moment`` the cursor stays, so that a later run considers it.
    if not stage.deferred:
        store.set_cursor(CURSOR, upto)
    return counts


class ActFollower:
    """:func:`run` for a following process (``process --follow``): the alert key and the playbook
    loaded once, and the assessments, findings and incidents kept between rounds
    (:class:`~truceline.act.stage.RecordCache`), each round reading only what changed."""

    def __init__(self) -> None:
        self.settings: ActSettings | None = None
        self.records = RecordCache()

    def run(self, store: Store, agreement: Agreement, *, after_seq: int, upto_seq: int) -> dict[str, int]:
        if self.settings is None:
            from truceline.act.playbook import load_playbook

            signer = default_signer(store)
            self.settings = ActSettings(desk=DeskSettings(signer=signer), playbook=load_playbook(None, agreement))
        settings, records = self.settings, self.records
        return run(store, agreement, after_seq=after_seq, upto_seq=upto_seq, settings=settings, records=records)
