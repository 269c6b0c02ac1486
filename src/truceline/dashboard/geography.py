"""The map's fixed layers, drawn from the agreement and the shipped geodata (there is no tile server).

One GeoJSON-shaped document holds the base map (oblasts, borders, the larger settlements) and the
agreement's geometry (contact line, controlled areas, sectors, withdrawal zones per weapon class,
disengagement areas, air and sea zones, storage sites, the reassurance force's basing area). It
carries no marked record, so every participant gets the same bytes; it is still served only to a
logged-in participant, like the rest of the dashboard.

Building it costs seconds (withdrawal zones are buffers of a 1,400 km line), so it is built once
per agreement and process and kept as compressed JSON. Shapes are simplified for the screen
(:data:`SIMPLIFY_M`): the map shows where things are, the verify stage decides what is inside.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import threading
from collections.abc import Callable
from importlib import resources
from typing import Any

import numpy as np
import shapely

from truceline.agreement import WEAPON_LABELS, Agreement
from truceline.geo import SETTLEMENTS_FILE, buffer_line, geodesic_distance_m, unproject_geometry

SIMPLIFY_M = 250.0
"""Douglas–Peucker tolerance (theatre metres) for drawn shapes: below a pixel at the zoom that shows a sector."""
SIMPLIFY_DEG = 0.002
"""The same for shapes already in lon/lat (about 200 m)."""
SETTLEMENTS = 400
"""Largest settlements drawn (the file is in population order); enough to find one's way along the line."""
MERGE_KM = 6.0
LABEL_KM = 45.0
LABEL_POPULATION = 60_000
ATTRIBUTION = (
    "Boundaries © Мінрегіон (CC BY-SA); front line DeepStateMap.Live; places GeoNames (CC BY 4.0); "
    "zones and sites illustrative"
)


def _round(geom: Any) -> dict[str, Any]:
    # Five decimals is about a metre: more digits only make the download larger.
    mapping: dict[str, Any] = shapely.geometry.mapping(shapely.set_precision(geom, 1e-5))
    return mapping


def _feature(geom: Any, **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": properties, "geometry": _round(geom)}


def _lonlat(geom: Any, deg: float = SIMPLIFY_DEG) -> Any:
    return shapely.simplify(geom, deg, preserve_topology=True)


def _from_metric(geom: Any) -> Any:
    return unproject_geometry(shapely.simplify(geom, SIMPLIFY_M, preserve_topology=True))


def _settlements() -> list[dict[str, Any]]:
    """The largest places, each with ``label`` set when no larger labelled place is near it.

    GeoNames lists city districts as places of their own (Kyiv's, Dnipro's): a place within
    :data:`MERGE_KM` of a larger one is left out, and labels keep :data:`LABEL_KM` apart.
    """
    ref = resources.files("truceline.geo").joinpath("data", SETTLEMENTS_FILE)
    text = gzip.decompress(ref.read_bytes()).decode("utf-8")
    out: list[dict[str, Any]] = []
    kept_lon: list[float] = []
    kept_lat: list[float] = []
    labelled: list[int] = []
    for row in csv.DictReader(io.StringIO(text)):  # population order: larger places first
        lon, lat = float(row["lon"]), float(row["lat"])
        if kept_lon:
            near = geodesic_distance_m(lon, lat, np.array(kept_lon), np.array(kept_lat))
            if float(near.min()) < MERGE_KM * 1000.0:
                continue
        population = int(row["population"])
        label = population >= LABEL_POPULATION and (
            not labelled or float(near[labelled].min()) >= LABEL_KM * 1000.0
        )
        if label:
            labelled.append(len(out))
        kept_lon.append(lon)
        kept_lat.append(lat)
        out.append({"name": row["name"], "lat": round(lat, 4), "lon": round(lon, 4), "population": population,
                    "label": label})
        if len(out) >= SETTLEMENTS:
            break
    return out


def _withdrawal(agreement: Agreement) -> list[dict[str, Any]]:
    """One feature per (distance, party): weapon classes sharing a distance share the shape."""
    # The line is simplified before buffering: buffering the full line at 70 km takes seconds,
    # and a 250 m simplification is invisible beside a 15 km band.
    line = shapely.simplify(agreement.contact_line_metric, SIMPLIFY_M)
    by_distance: dict[float, list[str]] = {}
    for wc, rule in agreement.withdrawal.items():
        by_distance.setdefault(rule.distance_km, []).append(wc)
    out = []
    for distance_km, classes in sorted(by_distance.items()):
        band = buffer_line(line, distance_km * 1000.0)
        for party in (p.id for p in agreement.parties):
            area = shapely.simplify(agreement.controlled_area(party, metric=True), SIMPLIFY_M)
            zone = shapely.intersection(band, area)
            if zone.is_empty:
                continue
            out.append(
                _feature(
                    _from_metric(zone),
                    party=party,
                    distance_km=distance_km,
                    weapon_classes=sorted(classes),
                    labels=[WEAPON_LABELS.get(c, c) for c in sorted(classes)],
                    clauses=sorted(agreement.withdrawal[c].clause for c in classes),
                )
            )
    return out


def build_geography(agreement: Agreement) -> dict[str, Any]:
    """Every fixed layer of the map as GeoJSON features (lon/lat, simplified for the screen)."""
    parties = [p.id for p in agreement.parties]
    return {
        "agreement": {"id": agreement.id, "version": agreement.version, "title": agreement.title},
        "attribution": ATTRIBUTION,
        "parties": parties,
        "oblasts": [_feature(_lonlat(o.geometry), name=o.name, iso=o.iso_3166_2) for o in agreement.oblasts],
        "borders": [_feature(_lonlat(b.geometry), id=b.id, name=b.name) for b in agreement.borders],
        "settlements": _settlements(),
        "contact_line": _feature(_lonlat(agreement.contact_line, 0.0005), source=agreement.contact_line_source),
        "controlled_areas": [_feature(_lonlat(agreement.controlled_area(p)), party=p) for p in parties],
        "sectors": [
            _feature(_lonlat(s.geometry, 0.0005), id=s.id, name=s.name, kind=s.kind) for s in agreement.sectors
        ],
        "withdrawal_zones": _withdrawal(agreement),
        "weapon_classes": {wc: WEAPON_LABELS.get(wc, wc) for wc in agreement.withdrawal},
        "disengagement_areas": [
            _feature(d.geometry, id=d.id, name=d.name, clause=d.clause) for d in agreement.disengagement_areas
        ],
        "restricted_zones": [
            _feature(_lonlat(z.geometry), id=z.id, name=z.name, kind=z.kind, applies_to=list(z.applies_to),
                     clause=z.clause)
            for z in agreement.restricted_zones
        ],
        "storage_sites": [
            {"id": s.id, "party": s.party, "name": s.name, "lat": s.lat, "lon": s.lon, "radius_m": s.radius_m,
             "declared": s.counts(), "clause": s.clause}
            for s in agreement.storage_sites
        ],
        "reassurance_force": _feature(
            _lonlat(agreement.reassurance_force.basing_area, 0.01),
            min_distance_km=agreement.reassurance_force.min_distance_km,
            basing_oblasts=list(agreement.reassurance_force.basing_oblasts),
            contributors=list(agreement.reassurance_force.contributors),
        ),
    }


def feature_count(doc: dict[str, Any]) -> int:
    """The features of a geography document: every list's items and every single feature."""
    return sum(len(v) if isinstance(v, list) else 1 for v in doc.values()
               if isinstance(v, list) or (isinstance(v, dict) and v.get("type") == "Feature"))


class GeographyCache:
    """The geography document of one agreement, built on first use and kept gzip-compressed.

    ``load`` gives the agreement; it is called on first use, not here (the shipped agreement
    takes about two seconds to load, and an app is often built without ever showing a map).
    """

    def __init__(self, load: Callable[[], Agreement]) -> None:
        self._load = load
        self._lock = threading.Lock()  # held for the whole build
        self._body: bytes | None = None
        self._features = 0
        self._flag = threading.Lock()  # held for an instant: warm() runs on the event loop
        self._started = False

    def warm(self) -> None:
        """Build in the background unless built or building."""
        with self._flag:
            if self._started:
                return
            self._started = True
        threading.Thread(target=self.gzipped, name="dashboard-geography", daemon=True).start()

    def gzipped(self) -> bytes:
        with self._lock:
            if self._body is None:
                doc = build_geography(self._load())
                raw = json.dumps(doc, separators=(",", ":")).encode("utf-8")
                self._body = gzip.compress(raw, compresslevel=6, mtime=0)
                self._features = feature_count(doc)
            return self._body

    def features(self) -> int:
        """How many features (shapes, places, sites) the document holds: the size its audit event records."""
        self.gzipped()
        return self._features
