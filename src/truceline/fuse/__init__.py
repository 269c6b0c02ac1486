"""Fuse: associate detections into incidents, locate their origins, count each event once.

``run(store, agreement, after_seq=…, upto_seq=…)`` is the stage entry point the pipeline calls;
the pieces are usable alone: :class:`Weather` (sound speed and wind from met reports),
:func:`locate` (vectorised Gauss–Newton TDOA + bearings with the Fisher covariance) and its plain
twin :func:`locate_reference`, :func:`associate` (back-projection seeds, predict and match);
:class:`FuseStream` is ``run`` for a following process (recent arrivals kept in memory).
Radar tracks and observers' patrol reports join the acoustic incidents they match; tracks no
located origin confirms and observers' fixes make incidents of their own (``_radar_only``,
``_observers``, ``_solo``).
The modules are private; this list is the public surface.
"""

from truceline.fuse._associate import Arrivals, Association, associate
from truceline.fuse._locate import REASONS, Picks, Solutions, locate, locate_reference
from truceline.fuse._met import Weather, sound_speed
from truceline.fuse._records import incident_id, merge_markings
from truceline.fuse._review import ACTIONS, Bulletin, BulletinEntry, accept, bulletin, merge, reject, split
from truceline.fuse._run import run
from truceline.fuse._stream import FuseStream

__all__ = [
    "ACTIONS",
    "REASONS",
    "Arrivals",
    "Association",
    "Bulletin",
    "BulletinEntry",
    "FuseStream",
    "Picks",
    "Solutions",
    "Weather",
    "accept",
    "associate",
    "bulletin",
    "incident_id",
    "locate",
    "locate_reference",
    "merge",
    "merge_markings",
    "reject",
    "run",
    "sound_speed",
    "split",
]
