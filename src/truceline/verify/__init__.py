"""Verify: the agreement as code, checked against every report and incident as it arrives.

One module per kind of clause, each turning observations (and the fuse stage's incidents) into
:class:`~truceline.model.Finding` records that name the clause, the side, the evidence (with
references to the reports), a confidence, first and last seen, and a status:

- :mod:`~truceline.verify.ceasefire` — every incident of fire (``ceasefire``);
- :mod:`~truceline.verify.withdrawal` — weapons inside their class's withdrawal zone
  (``withdrawal.<class>``), grouped so that one weapon seen many times is one finding;
- :mod:`~truceline.verify.disengagement` — forces inside disengagement areas, and the quiet-day counter;
- :mod:`~truceline.verify.airsea` — military air and sea tracks in restricted zones (``air.*``, ``sea.*``);
- :mod:`~truceline.verify.storage` — storage-site visits against the declared inventory (``storage.<site>``);
- :mod:`~truceline.verify.movement` — denials of the monitors' access (``freedom_of_movement``);
- :mod:`~truceline.verify.ceilings` — declared strengths and holdings against ceilings (``ceiling.<party>``).

- :mod:`~truceline.verify.reassurance` — coalition units' declared positions against the
  reassurance force's distance and basing clauses (``reassurance.*``); the positions come from
  the coalition file, not from observations (``truceline coalition posture --db``).
:class:`ZoneChecker` does the vectorised zone and distance checks. :func:`run` is the stage's
entry point for the pipeline.
"""

from truceline.verify.check import check_agreement
from truceline.verify.reassurance import reassurance_findings
from truceline.verify.run import run, verify
from truceline.verify.zones import ZoneChecker

__all__ = ["ZoneChecker", "check_agreement", "reassurance_findings", "run", "verify"]
