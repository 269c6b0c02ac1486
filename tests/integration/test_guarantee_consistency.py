"""The guarantee agrees with verify and act: the same distances, the same directives.

Two code paths measure distance to the contact line: ``guarantee.check_positions`` (the
reassurance force's minimum distance, through the agreement) and ``verify.ZoneChecker`` (the
withdrawal zones' vectorised index). A unit the posture check calls too close must be too close
for verify's distances as well, except within a hair of the limit where the two methods' rounding
may legitimately fall either side.
"""

from __future__ import annotations

import numpy as np
import shapely

from truceline.agreement import default_agreement
from truceline.guarantee import check_positions
from truceline.verify import ZoneChecker

TOLERANCE = 0.001  # 0.1 % of the distance: the geodesic accuracy both promise


def test_posture_and_verify_agree_on_distance_to_the_line() -> None:
    ag = default_agreement()
    rng = np.random.default_rng(12)
    vertices = shapely.get_coordinates(ag.contact_line)
    line_lon, line_lat = vertices[:, 0], vertices[:, 1]
    # Half the positions near the line (where the rule bites), half anywhere in the theatre.
    idx = rng.integers(0, len(line_lon), 4_000)
    near_lon = line_lon[idx] + rng.normal(0, 0.6, idx.size)
    near_lat = line_lat[idx] + rng.normal(0, 0.4, idx.size)
    lon = np.concatenate([near_lon, rng.uniform(22.5, 40.0, 4_000)])
    lat = np.concatenate([near_lat, rng.uniform(44.5, 52.2, 4_000)])

    posture = check_positions(ag, lon, lat, declared_in_ukraine=True)
    verify_km = ZoneChecker(ag).distance_m(lon, lat) / 1000.0

    np.testing.assert_allclose(posture.distance_km, verify_km, rtol=TOLERANCE, atol=0.01)
    limit = posture.min_distance_km
    verify_too_close = verify_km < limit
    clear = np.abs(verify_km - limit) > TOLERANCE * limit
    assert posture.too_close.any() and (~posture.too_close).any()
    np.testing.assert_array_equal(posture.too_close[clear], verify_too_close[clear])


def test_every_directive_a_pledge_answers_is_in_the_default_playbook_and_issued_by_a_scenario() -> None:
    """Pledges name the playbook directives that activate them; a name the playbook never issues
    would be a pledge that can never be called on."""
    from pathlib import Path

    import truceline.guarantee as guarantee
    from truceline.act import load_playbook
    from truceline.guarantee import load_coalition

    ag = default_agreement()
    coalition = load_coalition(Path(guarantee.__file__).parent / "data" / "coalition.yaml", ag)
    playbook = load_playbook(None, ag)
    pledged = set(coalition.directives())
    assert pledged, "the example coalition names no directives"
    assert pledged <= set(playbook.directives), sorted(pledged - set(playbook.directives))
    issued = {d for scenario in playbook.scenarios for d in scenario.directives}
    assert pledged <= issued, sorted(pledged - issued)
