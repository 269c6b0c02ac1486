"""The agreement package's surface is pinned, its examples run, and its data rebuilds byte for byte."""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import pkgutil
import sys
from pathlib import Path

import pytest

import truceline.agreement

REPO = Path(__file__).resolve().parents[3]
SHARED_DATA = REPO.parent / "shared" / "data"
EXPECTED = {
    "DEFAULT_AGREEMENT_PATH",
    "FORMAT_VERSION",
    "WEAPON_LABELS",
    "Agreement",
    "AgreementError",
    "Border",
    "Clause",
    "DisengagementArea",
    "InventoryItem",
    "Oblast",
    "ReassuranceForce",
    "RestrictedZone",
    "Sector",
    "StorageSite",
    "Trigger",
    "Withdrawal",
    "default_agreement",
    "describe",
    "load_agreement",
}
MODULES = [
    "truceline.agreement",
    *(f"truceline.agreement.{m.name}" for m in pkgutil.iter_modules(truceline.agreement.__path__)),
]


def test_public_surface_is_pinned() -> None:
    assert set(truceline.agreement.__all__) == EXPECTED
    assert all(hasattr(truceline.agreement, name) for name in EXPECTED)


@pytest.mark.parametrize("module", MODULES)
def test_agreement_imports_only_model_and_geo(module: str) -> None:
    source = Path(importlib.import_module(module).__file__ or "").read_text(encoding="utf-8")
    imported = {
        line.split()[1]
        for line in source.splitlines()
        if line.startswith(("from truceline", "import truceline"))
    }
    assert all(m.startswith(("truceline.agreement", "truceline.model", "truceline.geo")) for m in imported), (
        imported
    )


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_run(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_shipped_geodata_is_small() -> None:
    data = Path(truceline.agreement.DEFAULT_AGREEMENT_PATH).parent
    assert sum(p.stat().st_size for p in data.iterdir()) < 1_000_000
    assert (data / "PROVENANCE.md").read_text(encoding="utf-8").count("DeepStateMap.Live") >= 1


@pytest.mark.skipif(
    not SHARED_DATA.is_dir(), reason=f"the real geodata is not beside this checkout ({SHARED_DATA})"
)
def test_the_build_tool_reproduces_the_shipped_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = importlib.util.spec_from_file_location(
        "build_default_agreement", REPO / "tools" / "build_default_agreement.py"
    )
    assert spec is not None and spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = tool
    try:
        spec.loader.exec_module(tool)
        assert (
            tool.main(
                [
                    str(SHARED_DATA),
                    "--agreement-out",
                    str(tmp_path / "agreement"),
                    "--geo-out",
                    str(tmp_path / "geo"),
                ]
            )
            == 0
        )
    finally:
        del sys.modules[spec.name]
    assert "Truceline default agreement" in capsys.readouterr().out
    shipped_agreement = Path(truceline.agreement.DEFAULT_AGREEMENT_PATH).parent
    shipped_geo = REPO / "src" / "truceline" / "geo" / "data"
    for built_dir, shipped_dir in (
        (tmp_path / "agreement", shipped_agreement),
        (tmp_path / "geo", shipped_geo),
    ):
        built = sorted(p.name for p in built_dir.iterdir())
        assert built == sorted(p.name for p in shipped_dir.iterdir() if p.is_file())
        for name in built:
            if name.endswith(".geojson"):
                # Geometry may differ in the last bits between GEOS releases; compare with a
                # tolerance far below the 1e-5° rounding of the shipped coordinates.
                _assert_same_features(built_dir / name, shipped_dir / name)
            else:
                assert (built_dir / name).read_bytes() == (shipped_dir / name).read_bytes(), name


def _assert_same_features(built: Path, shipped: Path) -> None:
    import json

    import shapely.geometry

    a = json.loads(built.read_text(encoding="utf-8"))
    b = json.loads(shipped.read_text(encoding="utf-8"))
    assert len(a["features"]) == len(b["features"]), built.name
    for fa, fb in zip(a["features"], b["features"], strict=True):
        assert fa["properties"] == fb["properties"], built.name
        ga, gb = shapely.geometry.shape(fa["geometry"]), shapely.geometry.shape(fb["geometry"])
        assert ga.equals_exact(gb, tolerance=1e-4) or ga.symmetric_difference(gb).area < 1e-6, built.name
