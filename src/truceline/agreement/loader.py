"""Load an agreement file: YAML → validated spec → geometry → cross-checked :class:`Agreement`.

Every problem raises :class:`~truceline.model.AgreementError` naming the file, the dotted path of
the field (``withdrawal.mlrs.distance_km``, ``storage_sites[2].party``) and the reason, with the
YAML line where the field was written.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, get_args

import numpy as np
import pydantic
import shapely
from shapely.geometry import shape

from truceline.agreement._yaml import PathKey, format_path, line_of, parse_yaml
from truceline.agreement.core import (
    Agreement,
    Border,
    Clause,
    DisengagementArea,
    InventoryItem,
    Oblast,
    ReassuranceForce,
    RestrictedZone,
    Sector,
    StorageSite,
    Trigger,
    Withdrawal,
)
from truceline.agreement.schema import (
    AgreementSpec,
    BufferRef,
    FileRef,
    InlineGeometry,
    TriggerBase,
    field_names,
)
from truceline.geo import SpatialIndex, buffer_line, distance_to_line_m, project_geometry, unproject_geometry
from truceline.model import AgreementError, AirTrack, Participant, SeaTrack

__all__ = ["DEFAULT_AGREEMENT_PATH", "WEAPON_LABELS", "default_agreement", "load_agreement"]

DEFAULT_AGREEMENT_PATH = Path(__file__).resolve().parent / "data" / "default.yaml"
"""The shipped default agreement (built by ``tools/build_default_agreement.py``)."""

WEAPON_LABELS: dict[str, str] = {
    "artillery_ge100": "Artillery of 100 mm calibre and above",
    "artillery_lt100": "Artillery below 100 mm calibre",
    "mlrs": "Multiple-launch rocket systems",
    "heavy_mlrs_missile": "Heavy MLRS and tactical missile systems",
    "tank": "Tanks",
    "mortar": "Mortars",
    "anti_tank_gun": "Anti-tank guns",
    "air_defence": "Air-defence systems",
    "armoured_vehicle": "Armoured vehicles",
    "small_arms": "Small arms",
    "unknown": "Unidentified weapons",
}

# What restricted zones may close, in the words of air and sea track reports.
_CRAFT: dict[str, tuple[str, ...]] = {
    "air": get_args(AirTrack.model_fields["aircraft_class"].annotation),
    "sea": get_args(SeaTrack.model_fields["vessel_class"].annotation),
}

# Two controlled areas may touch along the line but not share area; a hectare absorbs rounding.
_OVERLAP_TOLERANCE_M2 = 10_000.0
# Every vertex of the contact line must lie this close to a contact-line sector.
_SECTOR_COVER_TOLERANCE_M = 1_000.0


def load_agreement(path: str | Path) -> Agreement:
    """Read, validate and cross-check an agreement file; raise AgreementError on any problem."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AgreementError(str(p), "", "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AgreementError(str(p), "", f"cannot read the file: {exc}") from None
    data, lines = parse_yaml(text, str(p))
    if not isinstance(data, dict):
        raise AgreementError(str(p), "", "the document must be a mapping of fields (format_version, id, …)")
    try:
        spec = AgreementSpec.model_validate(data)
    except pydantic.ValidationError as exc:
        raise _translate(exc, str(p), data, lines) from None
    return _Builder(spec, p, lines).build()


@cache
def default_agreement() -> Agreement:
    """The shipped default agreement, loaded once per process."""
    return load_agreement(DEFAULT_AGREEMENT_PATH)


# -- pydantic errors → AgreementError ---------------------------------------------------------


def _data_path(loc: Sequence[str | int], data: Any) -> tuple[tuple[str | int, ...], bool]:
    """Map pydantic's ``loc`` onto the document: drop union tags, note dictionary-key errors."""
    out: list[str | int] = []
    node = data
    key_error = False
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if part == "[key]":
            key_error = True
            continue
        if isinstance(part, str) and part.startswith("<"):
            continue
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
            out.append(part)
            node = node[part]
        elif last:
            out.append(part)
        # otherwise it is a tag of a discriminated union (a trigger's kind): not in the document
    return tuple(out), key_error


def _describe_error(err: Any, key_error: bool, path: PathKey) -> str:
    kind = err["type"]
    value = err.get("input")
    msg = str(err["msg"]).removeprefix("Value error, ")
    if kind == "extra_forbidden":
        name = str(path[-1]) if path else "?"
        hint = difflib.get_close_matches(name, sorted(field_names()), n=1)
        return f"unknown field {name!r}" + (f" (did you mean {hint[0]!r}?)" if hint else "")
    if kind == "missing":
        return "required field is missing"
    if kind == "literal_error":
        expected = str(err.get("ctx", {}).get("expected", ""))
        what = "weapon class" if "artillery_ge100" in expected else "value"
        return f"unknown {what} {value!r}; expected {expected}"
    if key_error:
        return f"key {value!r}: {msg[0].lower() + msg[1:]}"
    text = msg[0].lower() + msg[1:] if msg else kind
    if isinstance(value, str | int | float | bool) and not isinstance(value, dict):
        text += f" (got {value!r})"
    return text


def _translate(
    exc: pydantic.ValidationError, file: str, data: Any, lines: dict[PathKey, int]
) -> AgreementError:
    messages: list[tuple[str, str]] = []
    for err in exc.errors(include_url=False):
        loc, key_error = _data_path(err["loc"], data)
        reason = _describe_error(err, key_error, loc)
        line = line_of(lines, loc)
        messages.append((format_path(loc), reason + (f" (line {line})" if line else "")))
    first_path, first_reason = messages[0]
    if len(messages) > 1:
        others = "; ".join(f"{p}: {r}" for p, r in messages[1:4])
        more = f" and {len(messages) - 4} more" if len(messages) > 4 else ""
        first_reason += f" [also: {others}{more}]"
    return AgreementError(file, first_path, first_reason)


# -- building the agreement -------------------------------------------------------------------


@dataclass
class _Features:
    """The features of one GeoJSON document: (id, properties, geometry) each."""

    file: str
    items: list[tuple[str | None, dict[str, Any], Any]] = field(default_factory=list)


class _Builder:
    def __init__(self, spec: AgreementSpec, path: Path, lines: dict[PathKey, int]) -> None:
        self.spec = spec
        self.file = str(path)
        self.base = path.parent
        self.lines = lines
        self._files: dict[Path, _Features] = {}
        self.contact_line: Any = None
        self.contact_line_metric: Any = None
        self.borders: dict[str, Border] = {}

    # errors -----------------------------------------------------------------------------------
    def error(self, path: PathKey, reason: str, file: str | None = None) -> AgreementError:
        line = line_of(self.lines, path)
        where = f" ({Path(self.file).name} line {line})" if file else f" (line {line})"
        return AgreementError(file or self.file, format_path(path), reason + (where if line else ""))

    # geometry ---------------------------------------------------------------------------------
    def _load_file(self, ref: FileRef, path: PathKey) -> _Features:
        target = (self.base / ref.file).resolve()
        if target in self._files:
            return self._files[target]
        try:
            raw = json.loads(target.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise self.error((*path, "file"), f"file not found: {ref.file} (looked in {self.base})") from None
        except json.JSONDecodeError as exc:
            raise self.error(
                path, f"not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}", file=str(target)
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise self.error((*path, "file"), f"cannot read {ref.file}: {exc}") from None
        feats = self._features(raw, path, str(target))
        self._files[target] = feats
        return feats

    def _features(self, raw: Any, path: PathKey, file: str) -> _Features:
        out = _Features(file)
        if not isinstance(raw, dict) or "type" not in raw:
            raise self.error(path, "not a GeoJSON object (no 'type')", file=file)
        if raw["type"] == "FeatureCollection":
            items = raw.get("features")
            if not isinstance(items, list):
                raise self.error(path, "a FeatureCollection needs a 'features' list", file=file)
        elif raw["type"] == "Feature":
            items = [raw]
        else:
            items = [{"type": "Feature", "properties": {}, "geometry": raw}]
        for i, feat in enumerate(items):
            if not isinstance(feat, dict) or not isinstance(feat.get("geometry"), dict):
                raise self.error(path, f"feature {i} has no geometry", file=file)
            props = feat.get("properties") or {}
            fid = feat.get("id", props.get("id") if isinstance(props, dict) else None)
            try:
                geom = shape(feat["geometry"])
            except Exception as exc:  # shapely raises several kinds on malformed GeoJSON
                raise self.error(
                    path, f"feature {i}: not a valid GeoJSON geometry: {exc}", file=file
                ) from None
            out.items.append(
                (None if fid is None else str(fid), dict(props) if isinstance(props, dict) else {}, geom)
            )
        return out

    def features(self, spec: Any, path: PathKey) -> _Features:
        """All features a geometry spec stands for (inline or file; buffers are single)."""
        if isinstance(spec, FileRef):
            feats = self._load_file(spec, path)
            if spec.feature is None:
                return feats
            chosen = [f for f in feats.items if f[0] == spec.feature]
            if not chosen:
                ids = [f[0] for f in feats.items if f[0] is not None]
                listed = ", ".join(ids[:12]) + (" …" if len(ids) > 12 else "")
                raise self.error(
                    (*path, "feature"), f"no feature {spec.feature!r} in {spec.file} (ids: {listed})"
                )
            return _Features(feats.file, chosen)
        if isinstance(spec, InlineGeometry):
            return self._features(spec.model_dump(), path, self.file)
        raise self.error(path, "a buffer cannot stand for a set of features")

    def geometry(self, spec: Any, path: PathKey, expect: str) -> Any:
        """One geometry in lon/lat, checked: right kind, valid, coordinates in range."""
        if isinstance(spec, BufferRef):
            return self._buffer(spec, path)
        feats = self.features(spec, path)
        geoms = [g for _, _, g in feats.items]
        if not geoms:
            raise self.error(path, "no geometry", file=None if feats.file == self.file else feats.file)
        geom = geoms[0] if len(geoms) == 1 else shapely.union_all(geoms)
        self.check(geom, path, expect, feats.file)
        return geom

    def _buffer(self, spec: BufferRef, path: PathKey) -> Any:
        of = spec.buffer.of
        if of == "contact_line":
            base = self.contact_line_metric
        else:
            border = self.borders.get(of.removeprefix("border."))
            if border is None:
                raise self.error(
                    (*path, "buffer", "of"), f"unknown border {of!r}; known: {sorted(self.borders)}"
                )
            base = border.geometry_metric
        return unproject_geometry(buffer_line(base, spec.buffer.distance_km * 1000.0))

    def check(self, geom: Any, path: PathKey, expect: str, file: str) -> None:
        other = None if file == self.file else file
        if geom is None or geom.is_empty:
            raise self.error(path, "the geometry is empty", file=other)
        coords = shapely.get_coordinates(geom)
        if not np.isfinite(coords).all():
            raise self.error(path, "coordinates must be finite numbers", file=other)
        x0, y0, x1, y1 = geom.bounds
        if x0 < -180 or x1 > 180 or y0 < -90 or y1 > 90:
            raise self.error(
                path,
                f"coordinates out of range (lon, lat): bounds {x0:.5g}, {y0:.5g}, {x1:.5g}, {y1:.5g}",
                file=other,
            )
        kinds = {
            "polygonal": ("Polygon", "MultiPolygon"),
            "lineal": ("LineString", "MultiLineString"),
            "extent": ("LineString", "MultiLineString", "Polygon", "MultiPolygon"),
        }[expect]
        if geom.geom_type not in kinds:
            raise self.error(path, f"expected {' or '.join(kinds)}, got {geom.geom_type}", file=other)
        if not shapely.is_valid(geom):
            raise self.error(path, f"invalid geometry: {shapely.is_valid_reason(geom)}", file=other)

    # the parts --------------------------------------------------------------------------------
    def build(self) -> Agreement:
        s = self.spec
        participants = self._participants()
        ids = {p.id for p in participants}
        parties = self._parties(participants)

        self.contact_line = self.geometry(s.contact_line.geometry, ("contact_line", "geometry"), "lineal")
        self.contact_line_metric = project_geometry(self.contact_line)
        self._borders()
        areas = self._controlled_areas(parties)
        oblasts = self._oblasts()
        withdrawal, clauses = self._withdrawal()
        disengagement = self._disengagement(clauses)
        zones = self._zones(ids, clauses)
        sites = self._storage(parties, areas, withdrawal, clauses)
        ceilings = self._ceilings(parties, clauses)
        reassurance = self._reassurance(ids, oblasts, clauses)
        sectors = self._sectors()
        for cid, text in s.clauses.items():  # texts in the document win over generated ones
            base = clauses.get(cid)
            clauses[cid] = Clause(cid, text, base.kind if base else cid.split(".")[0])
        triggers = self._triggers(parties, zones, clauses)
        return Agreement(
            id=s.id,
            version=s.version,
            title=s.title,
            effective=s.effective,
            description=s.description,
            source=self.file,
            participants=participants,
            party_order=s.parties,
            contact_line=self.contact_line,
            contact_line_source=s.contact_line.source,
            borders=tuple(self.borders.values()),
            controlled_areas=areas,
            oblasts=oblasts,
            withdrawal=withdrawal,
            quiet_days_required=s.disengagement.quiet_days_required,
            disengagement_areas=disengagement,
            restricted_zones=zones,
            storage_sites=sites,
            ceilings=ceilings,
            reassurance_force=reassurance,
            sectors=sectors,
            sector_max_distance_km=s.sectors.max_distance_km,
            triggers=triggers,
            clauses=clauses,
        )

    def _participants(self) -> tuple[Participant, ...]:
        seen: set[str] = set()
        out = []
        for i, p in enumerate(self.spec.participants):
            if p.id in seen:
                raise self.error(("participants", i, "id"), f"participant {p.id!r} is listed twice")
            seen.add(p.id)
            try:
                out.append(
                    Participant(id=p.id, name=p.name, kind=p.kind, roles=tuple(dict.fromkeys(p.roles)))
                )
            except pydantic.ValidationError as exc:
                raise self.error(("participants", i), str(exc.errors()[0]["msg"])) from None
        return tuple(out)

    def _parties(self, participants: tuple[Participant, ...]) -> tuple[str, ...]:
        by_id = {p.id: p for p in participants}
        if self.spec.parties[0] == self.spec.parties[1]:
            raise self.error(("parties", 1), "the two parties must differ")
        for i, party in enumerate(self.spec.parties):
            if party not in by_id:
                raise self.error(("parties", i), f"unknown party {party!r}: not among the participants")
            if "party" not in by_id[party].roles:
                raise self.error(("parties", i), f"participant {party!r} does not have the role 'party'")
        return self.spec.parties

    def _borders(self) -> None:
        for i, b in enumerate(self.spec.borders):
            if b.id in self.borders:
                raise self.error(("borders", i, "id"), f"border {b.id!r} is defined twice")
            g = self.geometry(b.geometry, ("borders", i, "geometry"), "lineal")
            self.borders[b.id] = Border(b.id, b.name, b.neighbour, g, project_geometry(g))

    def _controlled_areas(self, parties: tuple[str, ...]) -> dict[str, Any]:
        areas: dict[str, Any] = {}
        for party, spec in self.spec.controlled_areas.items():
            path: PathKey = ("controlled_areas", party)
            if party not in parties:
                raise self.error(path, f"unknown party {party!r}; the parties are {', '.join(parties)}")
            areas[party] = self.geometry(spec, path, "polygonal")
        for party in parties:
            if party not in areas:
                raise self.error(("controlled_areas",), f"no controlled area for party {party!r}")
        names = list(areas)
        metric = {p: project_geometry(areas[p]) for p in names}
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                overlap = shapely.intersection(metric[a], metric[b]).area
                if overlap > _OVERLAP_TOLERANCE_M2:
                    raise self.error(
                        ("controlled_areas", b),
                        f"overlaps the controlled area of {a} by {overlap / 1e6:.3f} km² "
                        "(areas must not overlap)",
                    )
        return areas

    def _oblasts(self) -> tuple[Oblast, ...]:
        if self.spec.oblasts is None:
            return ()
        path: PathKey = ("oblasts",)
        feats = self.features(self.spec.oblasts, path)
        out = []
        for fid, props, geom in feats.items:
            iso = str(props.get("iso_3166_2") or fid or "")
            if not iso:
                raise self.error(path, "every oblast feature needs an iso_3166_2 property", file=feats.file)
            self.check(geom, (*path, iso), "polygonal", feats.file)
            out.append(Oblast(iso, str(props.get("name_en") or props.get("name") or iso), geom))
        return tuple(out)

    def _withdrawal(self) -> tuple[dict[str, Withdrawal], dict[str, Clause]]:
        rules: dict[str, Withdrawal] = {}
        clauses: dict[str, Clause] = {}
        for wc, rule in self.spec.withdrawal.items():
            cid = f"withdrawal.{wc}"
            per_side = rule.per_side_km
            rules[wc] = Withdrawal(wc, per_side, per_side * 2.0, cid)
            default = (
                f"{WEAPON_LABELS.get(wc, wc)} are withdrawn at least {per_side:g} km from the contact line "
                f"on each side (a zone {per_side * 2:g} km wide)."
            )
            clauses[cid] = Clause(cid, rule.text or default, "withdrawal")
        return rules, clauses

    def _disengagement(self, clauses: dict[str, Clause]) -> tuple[DisengagementArea, ...]:
        spec = self.spec.disengagement
        out: list[DisengagementArea] = []
        for i, a in enumerate(spec.areas):
            path: PathKey = ("disengagement", "areas", i)
            if any(d.id == a.id for d in out):
                raise self.error((*path, "id"), f"disengagement area {a.id!r} is defined twice")
            g = self.geometry(a.geometry, (*path, "geometry"), "polygonal")
            gm = project_geometry(g)
            if not shapely.intersects(gm, self.contact_line_metric):
                raise self.error((*path, "geometry"), "a disengagement area must straddle the contact line")
            cid = f"disengagement.{a.id}"
            default = (
                f"No forces or weapons of either side inside the {a.name} disengagement area; disengagement "
                f"proceeds after {spec.quiet_days_required} consecutive days without violations."
            )
            clauses[cid] = Clause(cid, a.text or default, "disengagement")
            out.append(DisengagementArea(a.id, a.name, g, gm, cid))
        return tuple(out)

    def _zones(self, participants: set[str], clauses: dict[str, Clause]) -> tuple[RestrictedZone, ...]:
        out: list[RestrictedZone] = []
        for i, z in enumerate(self.spec.restricted_zones):
            path: PathKey = ("restricted_zones", i)
            if any(o.id == z.id for o in out):
                raise self.error((*path, "id"), f"restricted zone {z.id!r} is defined twice")
            for j, who in enumerate(z.exempt):
                if who not in participants:
                    raise self.error((*path, "exempt", j), f"unknown participant {who!r}")
            vocabulary = _CRAFT[z.kind]
            for j, craft in enumerate(z.applies_to):
                if craft not in vocabulary:
                    raise self.error(
                        (*path, "applies_to", j),
                        f"unknown {z.kind} craft {craft!r}; known: {', '.join(vocabulary)}",
                    )
            g = self.geometry(z.geometry, (*path, "geometry"), "polygonal")
            cid = f"{z.kind}.{z.id}"
            default = (
                f"No {', '.join(a.replace('_', ' ') for a in z.applies_to)} inside the {z.name}"
                + (f" (exempt: {', '.join(z.exempt)})" if z.exempt else "")
                + "."
            )
            clauses[cid] = Clause(cid, z.text or default, z.kind)
            out.append(
                RestrictedZone(
                    z.id,
                    z.kind,
                    z.name,
                    g,
                    project_geometry(g),
                    z.applies_to,
                    z.exempt,
                    z.max_altitude_m,
                    cid,
                )
            )
        return tuple(out)

    def _storage(
        self,
        parties: tuple[str, ...],
        areas: dict[str, Any],
        withdrawal: dict[str, Withdrawal],
        clauses: dict[str, Clause],
    ) -> tuple[StorageSite, ...]:
        out: list[StorageSite] = []
        serial_home: dict[str, str] = {}
        for i, site in enumerate(self.spec.storage_sites):
            path: PathKey = ("storage_sites", i)
            if any(o.id == site.id for o in out):
                raise self.error((*path, "id"), f"storage site {site.id!r} is declared twice")
            if site.party not in parties:
                raise self.error(
                    (*path, "party"), f"unknown party {site.party!r}; the parties are {', '.join(parties)}"
                )
            lon, lat = site.location
            if not shapely.contains_xy(areas[site.party], lon, lat):
                raise self.error((*path, "location"), f"the site lies outside the area {site.party} controls")
            dist_km = float(distance_to_line_m([lon], [lat], self.contact_line_metric)[0]) / 1000.0
            for j, item in enumerate(site.inventory):
                rule = withdrawal.get(item.weapon_class)
                need = 0.0 if rule is None else rule.distance_km + site.radius_m / 1000.0
                if dist_km < need:
                    raise self.error(
                        (*path, "inventory", j, "weapon_class"),
                        f"{item.weapon_class} stored {dist_km:.1f} km from the contact line, inside its "
                        f"{rule.distance_km if rule else 0:g} km withdrawal zone",
                    )
                for k, serial in enumerate(item.serials):
                    if serial in serial_home:
                        raise self.error(
                            (*path, "inventory", j, "serials", k),
                            f"serial {serial!r} is already declared at {serial_home[serial]}",
                        )
                    serial_home[serial] = site.id
            cid = f"storage.{site.id}"
            default = (
                f"Weapons withdrawn from the line are kept at the declared site {site.name}, open to "
                "inspection; every declared serial number is present at each visit."
            )
            clauses[cid] = Clause(cid, site.text or default, "storage")
            items = tuple(InventoryItem(it.weapon_class, it.model, it.serials) for it in site.inventory)
            out.append(StorageSite(site.id, site.party, site.name, lon, lat, site.radius_m, items, cid))
        return tuple(out)

    def _ceilings(
        self, parties: tuple[str, ...], clauses: dict[str, Clause]
    ) -> dict[str, tuple[int | None, MappingProxyType[str, int]]]:
        out: dict[str, tuple[int | None, MappingProxyType[str, int]]] = {}
        for party, c in self.spec.ceilings.items():
            if party not in parties:
                raise self.error(
                    ("ceilings", party), f"unknown party {party!r}; the parties are {', '.join(parties)}"
                )
            cid = f"ceiling.{party}"
            parts = []
            if c.troops is not None:
                parts.append(f"at most {c.troops:,} troops")
            parts += [f"at most {n:,} {WEAPON_LABELS.get(w, w).lower()}" for w, n in c.weapons.items()]
            clauses[cid] = Clause(
                cid, c.text or f"{party} keeps {', '.join(parts) or 'no declared limit'}.", "ceiling"
            )
            out[party] = (c.troops, MappingProxyType({str(w): n for w, n in c.weapons.items()}))
        return out

    def _reassurance(
        self, participants: set[str], oblasts: tuple[Oblast, ...], clauses: dict[str, Clause]
    ) -> ReassuranceForce:
        spec = self.spec.reassurance_force
        path: PathKey = ("reassurance_force",)
        for j, who in enumerate(spec.contributors):
            if who not in participants:
                raise self.error((*path, "contributors", j), f"unknown participant {who!r}")
        if spec.basing.geometry is not None:
            area = self.geometry(spec.basing.geometry, (*path, "basing", "geometry"), "polygonal")
        else:
            by_iso = {o.iso_3166_2: o for o in oblasts}
            if not by_iso:
                raise self.error((*path, "basing", "oblasts"), "basing by oblast needs the 'oblasts' layer")
            for j, iso in enumerate(spec.basing.oblasts):
                if iso not in by_iso:
                    raise self.error((*path, "basing", "oblasts", j), f"unknown oblast {iso!r}")
            area = shapely.union_all([by_iso[iso].geometry for iso in spec.basing.oblasts])
        area_m = project_geometry(area)
        gap_km = shapely.distance(area_m, self.contact_line_metric) / 1000.0
        if gap_km < spec.min_distance_km:
            raise self.error(
                (*path, "basing"),
                f"the basing area comes within {gap_km:.0f} km of the contact line "
                f"(minimum distance {spec.min_distance_km:g} km)",
            )
        clauses["reassurance.distance"] = Clause(
            "reassurance.distance",
            spec.text
            or f"Reassurance-force units stay at least {spec.min_distance_km:g} km from the contact line.",
            "reassurance",
        )
        named = (
            ", ".join(o.name for o in oblasts if o.iso_3166_2 in spec.basing.oblasts)
            or "the agreed basing area"
        )
        clauses["reassurance.basing"] = Clause(
            "reassurance.basing", f"Reassurance-force units are based in {named}.", "reassurance"
        )
        return ReassuranceForce(spec.min_distance_km, spec.basing.oblasts, area, area_m, spec.contributors)

    def _sectors(self) -> tuple[Sector, ...]:
        spec = self.spec.sectors
        out: list[Sector] = []
        groups = [("contact_line", spec.contact_line), ("approach_axes", spec.approach_axes)]
        for group, items in groups:
            for i, sec in enumerate(items):
                path: PathKey = ("sectors", group, i)
                if any(o.id == sec.id for o in out):
                    raise self.error((*path, "id"), f"sector {sec.id!r} is defined twice")
                border = getattr(sec, "border", None)
                if border is not None and border not in self.borders:
                    raise self.error(
                        (*path, "border"), f"unknown border {border!r}; known: {sorted(self.borders)}"
                    )
                g = self.geometry(sec.geometry, (*path, "geometry"), "extent")
                kind: Literal["contact_line", "approach_axis"] = (
                    "contact_line" if group == "contact_line" else "approach_axis"
                )
                out.append(Sector(sec.id, sec.name, kind, g, project_geometry(g), border))
        # Sectors must leave no stretch of the line unassigned: every vertex lies near one.
        line_sectors = SpatialIndex([s.geometry_metric for s in out if s.kind == "contact_line"])
        xy = shapely.get_coordinates(self.contact_line_metric)
        _, dist = line_sectors.nearest(xy[:, 0], xy[:, 1])
        worst = int(np.argmax(dist))
        if dist[worst] > _SECTOR_COVER_TOLERANCE_M:
            lon, lat = shapely.get_coordinates(self.contact_line)[worst]
            km = (
                "no sector"
                if math.isinf(dist[worst])
                else f"{dist[worst] / 1000:.1f} km from the nearest sector"
            )
            raise self.error(
                ("sectors", "contact_line"),
                f"the sectors leave the contact line uncovered at {lon:.4f}, {lat:.4f} ({km})",
            )
        return tuple(out)

    def _triggers(
        self, parties: tuple[str, ...], zones: tuple[RestrictedZone, ...], clauses: dict[str, Clause]
    ) -> tuple[Trigger, ...]:
        out: list[Trigger] = []
        zone_ids = {z.id for z in zones}
        base_fields = set(TriggerBase.model_fields)
        for i, t in enumerate(self.spec.triggers):
            path: PathKey = ("triggers", i)
            if any(o.id == t.id for o in out):
                raise self.error((*path, "id"), f"trigger {t.id!r} is defined twice")
            for j, who in enumerate(t.by):
                if who not in parties:
                    raise self.error(
                        (*path, "by", j), f"unknown party {who!r}; the parties are {', '.join(parties)}"
                    )
            for j, line in enumerate(getattr(t, "lines", ())):
                if line != "contact_line" and line.removeprefix("border.") not in self.borders:
                    raise self.error(
                        (*path, "lines", j), f"unknown line {line!r}; known: contact_line, border.<id>"
                    )
            for j, zone in enumerate(getattr(t, "zones", ())):
                if zone not in zone_ids:
                    raise self.error((*path, "zones", j), f"unknown restricted zone {zone!r}")
            cid = f"trigger.{t.id}"
            clauses[cid] = Clause(cid, t.text or t.name, "trigger")
            cited = t.clause or cid
            if cited not in clauses:
                raise self.error((*path, "clause"), f"unknown clause {cited!r}")
            params = {k: v for k, v in t.model_dump().items() if k not in base_fields and k != "kind"}
            out.append(
                Trigger(
                    t.id, t.name, t.kind, t.by, t.requires_status, t.response, cited, MappingProxyType(params)
                )
            )
        return tuple(out)
