"""The escalation model of one assessment, as the daily report and the dashboard's timeline plot it.

The assess stage fits each sector's fire of the trailing window with a bivariate Hawkes process
(:mod:`truceline.assess.escalation`) and keeps the fit in the sector-day's
:class:`~truceline.model.Assessment`: the branching ratio and its standard error, the retaliation
terms α_01 (``retaliation_ukr``, UKR answering RUS) and α_10 (``retaliation_rus``) with theirs,
the events and days of the window, each a field. It also states the fit in one driver, ``hawkes``
(or ``hawkes_spiral`` when a spiral was flagged), whose description reads

    branching ratio 0.43 ± 0.05 over 14 days (1000 fire incidents); retaliation UKR←RUS 0.29, RUS←UKR 0.48

(``± …`` only when the standard error is finite; ``; spiral: …`` with the reason when flagged).
Records stored before the fields existed have only that sentence: for them the numbers are read
back from it, at the precision the stage wrote them (two decimals). A window that could not be
fitted has no ratio; its driver's value is the number of events, with the reason as description.
A test holds this reader to the stage's own fit (``tests/browser/test_escalation_and_force_api.py``).
The report reads records, never a stage's code, so the sentence's form is restated here.

The 95 % interval is the ratio ± 1.96 standard errors (the normal approximation the stage itself
uses to flag a spiral), cut at zero.
"""

from __future__ import annotations

import re
from typing import Any

from truceline.model import Assessment

__all__ = ["HAWKES_DRIVERS", "SPIRAL_RATIO", "Z95", "escalation_of"]

HAWKES_DRIVERS = ("hawkes", "hawkes_spiral")
Z95 = 1.959964
SPIRAL_RATIO = 0.75
"""The assess stage flags a spiral when the interval's lower bound reaches this (or the ratio 1)."""

_NUMBER = r"\d+(?:\.\d+)?"
_FITTED = re.compile(
    rf"branching ratio (?P<ratio>{_NUMBER})(?: ± (?P<se>{_NUMBER}))? over (?P<days>{_NUMBER}) days "
    rf"\((?P<n>\d+) fire incidents\); retaliation UKR←RUS (?P<a01>{_NUMBER}), RUS←UKR (?P<a10>{_NUMBER})"
    r"(?:; spiral: (?P<spiral>.*))?$",
    re.DOTALL,
)


def escalation_of(assessment: Assessment) -> dict[str, Any] | None:
    """The Hawkes fit of ``assessment`` as plain numbers, or None when the stage fitted nothing.

    >>> from truceline.model import CreationInfo, Driver, Markings
    >>> from datetime import datetime, UTC
    >>> d = Driver(indicator="hawkes", value=0.4327, baseline=0.5, contribution=0.0, description=(
    ...     "branching ratio 0.43 ± 0.05 over 14 days (1000 fire incidents); retaliation UKR←RUS 0.29, RUS←UKR 0.48"))
    >>> a = Assessment(id="a", sector="CL-07", day="2026-09-02", warning_level=1, p_offensive_7d=0.1,
    ...     p_offensive_14d=0.1, branching_ratio=0.4327, drivers=(d,), markings=Markings(tlp="green", originator="MVM"),
    ...     creation_info=CreationInfo(agent="t", created=datetime(2026, 9, 3, tzinfo=UTC)))
    >>> e = escalation_of(a)
    >>> e["ratio"], e["lo"], e["hi"], e["ukr_answers_rus"], e["rus_answers_ukr"], e["n"]
    (0.433, 0.335, 0.531, 0.29, 0.48, 1000)
    """
    driver = next((d for d in assessment.drivers if d.indicator in HAWKES_DRIVERS), None)
    if driver is None:
        return None  # no fire in the sector's window: the stage ran no fit
    ratio = assessment.branching_ratio
    out: dict[str, Any] = {
        "fitted": ratio is not None,
        "ratio": None if ratio is None else round(ratio, 3),
        "se": None,
        "lo": None,
        "hi": None,
        "n": None,
        "window_days": None,
        "ukr_answers_rus": None,
        "rus_answers_ukr": None,
        "ukr_answers_rus_se": None,
        "rus_answers_ukr_se": None,
        "spiral": ratio is not None and driver.indicator == "hawkes_spiral",
        "note": "",
    }
    if ratio is None:
        n = assessment.escalation_events
        out["n"] = int(driver.value) if n is None else n
        out["window_days"] = assessment.escalation_window_days
        out["note"] = driver.description
        return out
    if assessment.escalation_events is not None:  # the fields (records since they exist)
        se = assessment.branching_ratio_se
        out["se"] = None if se is None else round(se, 4)
        out["n"] = assessment.escalation_events
        out["window_days"] = assessment.escalation_window_days
        out["ukr_answers_rus"] = _rounded(assessment.retaliation_ukr)
        out["rus_answers_ukr"] = _rounded(assessment.retaliation_rus)
        out["ukr_answers_rus_se"] = _rounded(assessment.retaliation_ukr_se)
        out["rus_answers_ukr_se"] = _rounded(assessment.retaliation_rus_se)
        spiral = _FITTED.match(driver.description)
        if spiral is not None and spiral["spiral"]:
            out["note"] = f"spiral: {spiral['spiral']}"
    else:  # an older record: the numbers are in the driver's sentence only
        match = _FITTED.match(driver.description)
        if match is None:
            out["note"] = "the fit's interval and retaliation terms are not stated in this assessment"
            return out
        out["se"] = None if match["se"] is None else float(match["se"])
        out["n"] = int(match["n"])
        out["window_days"] = float(match["days"])
        out["ukr_answers_rus"] = float(match["a01"])
        out["rus_answers_ukr"] = float(match["a10"])
        if match["spiral"]:
            out["note"] = f"spiral: {match['spiral']}"
    if out["se"] is not None:
        out["lo"] = round(max(ratio - Z95 * out["se"], 0.0), 3)
        out["hi"] = round(ratio + Z95 * out["se"], 3)
    return out


def _rounded(x: float | None) -> float | None:
    return None if x is None else round(x, 4)
