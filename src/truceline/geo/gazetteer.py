"""Place names to coordinates: the shipped GeoNames gazetteer of Ukrainian settlements.

Reports name places in Ukrainian, Russian or a Latin transliteration of either ("Avdiivka",
"Avdeevka", "Авдіївка", "Авдеевка"); names repeat across oblasts, so a report's own position (or
its area of responsibility) disambiguates them.

>>> gaz = Gazetteer.default()
>>> [p.name for p in gaz.resolve("Авдіївка", near=(37.7, 48.1))][:2]
['Avdiyivka', 'Avdiyivka']
>>> gaz.resolve("Avdeevka", near=(37.7, 48.1))[0].oblast
'Donetsk Oblast'
>>> gaz.resolve("Atlantis")
[]

Data: GeoNames (geonames.org), CC BY 4.0; see ``data/PROVENANCE.md``.
"""

from __future__ import annotations

import csv
import gzip
import io
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from truceline.geo.distance import geodesic_distance_m

__all__ = ["SETTLEMENTS_FILE", "Gazetteer", "Place", "normalise_name"]

SETTLEMENTS_FILE = "settlements.csv.gz"
"""The shipped gazetteer inside ``truceline/geo/data``."""

_COLUMNS = (
    "geonameid",
    "name",
    "lat",
    "lon",
    "population",
    "oblast_en",
    "iso_3166_2",
    "names_latin",
    "names_cyrillic",
)
_APOSTROPHES = str.maketrans("", "", "'’ʼ`´‘ʹ\u02bb\u02bc")
_SEPARATORS = str.maketrans({c: " " for c in "-‐‑‒–—.,()"})


def normalise_name(name: str) -> str:
    """A place name folded for matching: no case, no diacritics, no apostrophes, single spaces.

    Combining marks are dropped in every script, so Ukrainian ї/й fold like і/и and Russian ё
    like е — on both sides of the comparison, which is what matters.

    >>> normalise_name("Kam'yans'ke"), normalise_name("Авдіївка"), normalise_name("Zaporizhzhia ")
    ('kamyanske', 'авдіівка', 'zaporizhzhia')
    """
    decomposed = unicodedata.normalize("NFKD", name)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    folded = stripped.casefold().translate(_APOSTROPHES).translate(_SEPARATORS)
    return " ".join(folded.split())


@dataclass(frozen=True, slots=True)
class Place:
    """One settlement; ``distance_m`` is set when it was resolved near a point."""

    geonameid: int
    name: str
    lon: float
    lat: float
    population: int
    oblast: str
    iso_3166_2: str
    distance_m: float | None = None


class Gazetteer:
    """Settlements with their main and alternate names, resolvable by name and by position."""

    def __init__(self, rows: Iterable[dict[str, str]]) -> None:
        records = list(rows)
        self._ids = np.array([int(r["geonameid"]) for r in records], dtype=np.int64)
        self._names = [r["name"] for r in records]
        self._lon = np.array([float(r["lon"]) for r in records], dtype=np.float64)
        self._lat = np.array([float(r["lat"]) for r in records], dtype=np.float64)
        self._pop = np.array([int(r["population"] or 0) for r in records], dtype=np.int64)
        self._oblast = [r["oblast_en"] for r in records]
        self._iso = [r["iso_3166_2"] for r in records]
        index: dict[str, set[int]] = {}
        for i, r in enumerate(records):
            names = [r["name"], *r["names_latin"].split("|"), *r["names_cyrillic"].split("|")]
            for n in names:
                key = normalise_name(n)
                if key:
                    index.setdefault(key, set()).add(i)
        self._index = {k: np.array(sorted(v), dtype=np.intp) for k, v in index.items()}

    @classmethod
    def from_csv(cls, path: str | Path) -> Gazetteer:
        """Load a gazetteer CSV (optionally gzipped) with the columns of the shipped file."""
        raw = Path(path).read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        reader = csv.DictReader(io.StringIO(raw.decode("utf-8")))
        missing = set(_COLUMNS) - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: missing columns {sorted(missing)}")
        return cls(reader)

    @classmethod
    @cache
    def default(cls) -> Gazetteer:
        """The shipped gazetteer (5,488 places of ≥ 500 people), loaded once."""
        ref = resources.files("truceline.geo").joinpath("data", SETTLEMENTS_FILE)
        with resources.as_file(ref) as path:
            return cls.from_csv(path)

    def __len__(self) -> int:
        return len(self._names)

    def _place(self, i: int, distance_m: float | None = None) -> Place:
        return Place(
            geonameid=int(self._ids[i]),
            name=self._names[i],
            lon=float(self._lon[i]),
            lat=float(self._lat[i]),
            population=int(self._pop[i]),
            oblast=self._oblast[i],
            iso_3166_2=self._iso[i],
            distance_m=distance_m,
        )

    def resolve(
        self,
        name: str,
        near: tuple[float, float] | None = None,
        *,
        max_distance_km: float | None = None,
        limit: int | None = None,
    ) -> list[Place]:
        """Every place whose main or alternate name matches ``name``, best candidate first.

        With ``near`` (lon, lat) the candidates are ordered by distance from it (and those
        beyond ``max_distance_km`` dropped); without it, by population. No match → ``[]``.
        """
        hits = self._index.get(normalise_name(name))
        if hits is None:
            return []
        if near is None:
            order = hits[np.lexsort((hits, -self._pop[hits]))]
            places = [self._place(int(i)) for i in order]
        else:
            dist = geodesic_distance_m(
                np.full(hits.size, float(near[0])),
                np.full(hits.size, float(near[1])),
                self._lon[hits],
                self._lat[hits],
            )
            keep = (
                np.ones(hits.size, dtype=bool)
                if max_distance_km is None
                else dist <= max_distance_km * 1000.0
            )
            sel = np.flatnonzero(keep)
            sel = sel[np.lexsort((-self._pop[hits[sel]], dist[sel]))]
            places = [self._place(int(hits[j]), float(dist[j])) for j in sel]
        return places if limit is None else places[:limit]

    def nearest(self, lon: float, lat: float, *, min_population: int = 0) -> Place:
        """The place nearest to (lon, lat) among those of at least ``min_population``.

        >>> Gazetteer.default().nearest(30.52, 50.45, min_population=1_000_000).name
        'Kyiv'
        """
        cand = np.flatnonzero(self._pop >= min_population)
        if cand.size == 0:
            raise LookupError(f"no place has a population of {min_population} or more")
        dist = geodesic_distance_m(
            np.full(cand.size, lon), np.full(cand.size, lat), self._lon[cand], self._lat[cand]
        )
        j = int(np.argmin(dist))
        return self._place(int(cand[j]), float(dist[j]))

    def arrays(self) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
        """(lon, lat, population) of every place, in file order (population descending)."""
        return self._lon.copy(), self._lat.copy(), self._pop.copy()
