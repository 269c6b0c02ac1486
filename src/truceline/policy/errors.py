"""Errors of the policy layer, and the one message a hidden record and a missing one share::

    TrucelineError
    └── PolicyError
        ├── NotFoundOrHidden   404: the record does not exist, or the requester may not see it
        ├── AccessDenied       403: the requester may see the record but not do this to it
        └── ExportRefused      403: the requester may see the record but not send it there

``AccessDenied`` and ``ExportRefused`` are raised only once the requester is known to be entitled
to see the record, so their reasons can be specific without disclosing anything.
"""

from __future__ import annotations

from truceline.model import TrucelineError

_MAX_REF = 200


class PolicyError(TrucelineError):
    """Base of the policy layer's refusals."""


class NotFoundOrHidden(PolicyError):
    """The same error whether the record is absent or hidden: only ``ref`` (as requested) is kept."""

    def __init__(self, ref: str) -> None:
        self.ref = ref
        super().__init__(f"{ref[:_MAX_REF]!r} was not found or is not visible to you")


class AccessDenied(PolicyError):
    """The principal may not take this action; ``reason`` says which rule refused it."""

    def __init__(self, participant: str, action: str, ref: str, reason: str) -> None:
        self.participant = participant
        self.action = action
        self.ref = ref
        self.reason = reason
        super().__init__(f"{participant} may not {action} {ref[:_MAX_REF]!r}: {reason}")


class ExportRefused(PolicyError):
    """A visible record may not go to ``destination``; ``reason`` says which rule refused it."""

    def __init__(self, ref: str, destination: str, reason: str) -> None:
        self.ref = ref
        self.destination = destination
        self.reason = reason
        super().__init__(f"{ref[:_MAX_REF]!r} may not be exported to {destination}: {reason}")


def not_found_or_hidden(ref: str) -> NotFoundOrHidden:
    """The error for a record that is missing *or* hidden; pass the ref exactly as requested.

    Passing the stored record's own id instead would leak (a normalised or versioned id tells the
    requester the record exists), so callers must echo only what the requester sent.

    >>> str(not_found_or_hidden("incident/INC-7"))
    "'incident/INC-7' was not found or is not visible to you"
    """
    return NotFoundOrHidden(ref)
