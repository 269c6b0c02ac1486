"""Ceilings: declared troop strengths and weapon holdings against the agreed limits, with the trend.

Consecutive declarations over a limit are one finding under ``ceiling.<party>`` (from the first
declaration over it, open until a declaration is back under it); its evidence gives the series
of declared figures and the change per week, so a creeping approach to the ceiling is visible.
"""

from __future__ import annotations

from collections.abc import Sequence

from truceline.model import Evidence, Finding, ForceDeclaration
from truceline.verify._common import Context, ref_of, ref_text

__all__ = ["ceiling_findings", "declared_series"]


def declared_series(
    declarations: Sequence[tuple[int, ForceDeclaration]], party: str, what: str
) -> list[tuple[int, ForceDeclaration, int]]:
    """(seq, declaration, figure) of ``party``'s declarations of ``what`` (``troops`` or a class), by time."""
    out = []
    for seq, d in declarations:
        if d.declaring_party != party:
            continue
        value = d.troop_strength if what == "troops" else {str(k): n for k, n in d.weapons.items()}.get(what)
        if value is not None:
            out.append((seq, d, int(value)))
    out.sort(key=lambda t: (t[1].time, t[0]))
    return out


def _trend(series: list[tuple[int, ForceDeclaration, int]]) -> str:
    if len(series) < 2:
        return "one declaration"
    (_, d0, v0), (_, d1, v1) = series[0], series[-1]
    weeks = max((d1.time - d0.time).total_seconds() / (7 * 86_400.0), 1e-9)
    return f"{v0:,} → {v1:,} over {len(series)} declarations ({(v1 - v0) / weeks:+,.0f} a week)"


def ceiling_findings(
    ctx: Context, declarations: Sequence[tuple[int, ForceDeclaration]], *, after_seq: int = 0
) -> list[Finding]:
    ag = ctx.agreement
    out: list[Finding] = []
    for party in sorted(ag.party_ids()):
        limits: dict[str, int] = {}
        troops = ag.troop_ceiling(party)
        if troops is not None:
            limits["troops"] = troops
        limits.update(ag.weapon_ceilings(party))
        for what, limit in limits.items():
            series = declared_series(declarations, party, what)
            runs: list[list[tuple[int, ForceDeclaration, int]]] = []
            previous_over = False
            for item in series:
                over = item[2] > limit
                if over and not previous_over:
                    runs.append([])
                if over:
                    runs[-1].append(item)
                previous_over = over
            still_over = runs[-1] if runs and series[-1][2] > limit else None
            for run in runs:
                if not any(seq > after_seq for seq, _, _ in run):
                    continue
                decls = [d for _, d, _ in run]
                peak = max(v for _, _, v in run)
                label = "troops" if what == "troops" else what
                out.append(
                    ctx.finding(
                        clause_id=f"ceiling.{party}",
                        anchor=f"{what}/{ref_text(ref_of(decls[0]))}",
                        side=party,
                        confidence=0.99,
                        evidence=[
                            Evidence(
                                kind="declaration",
                                description=f"{party} declared up to {peak:,} {label} against a ceiling of "
                                f"{limit:,} in {len(run)} declaration(s)",
                                refs=tuple(ref_of(d) for d in decls),
                            ),
                            Evidence(kind="trend", description=f"declared {label}: {_trend(series)}"),
                        ],
                        sources=decls,
                        first_seen=decls[0].time,
                        last_seen=decls[-1].time,
                        status="provisional" if run is still_over else "closed",
                    )
                )
    return out
