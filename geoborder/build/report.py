"""What a build tells: the notes and measures of the derivation, and the report as text."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class DeriveReport:
    notes: list[str] = field(default_factory=list)
    unplaced: list[dict] = field(default_factory=list)
    measures: dict = field(default_factory=dict)


def format_report(report: dict) -> str:
    """The build report as text for the terminal."""
    lines = ["Build report", "  features per layer:"]
    for k, v in report["counts"].items():
        lines.append(f"    {k:24s} {v:>7,}")
    for k, f in report.get("absent", {}).items():
        lines.append(f"  {k}: optional source {f} not in the pack, layer left out")
    if report["repaired"]:
        lines.append(
            "  geometries repaired (make_valid): " + ", ".join(f"{k} {v}" for k, v in report["repaired"].items())
        )
    for k, notes in report["load_notes"].items():
        for n in notes:
            lines.append(f"  {k}: {n}")
    for n in report["derive_notes"]:
        lines.append(f"  {n}")
    m = report["measures"]
    for vintage in (2025, 2009, "gb"):
        d = m.get(f"piece_to_commune_m_{vintage}")
        if d:
            lines.append(
                f"  border piece -> nearest {vintage} commune distance (m): "
                + ", ".join(f"{k} {v}" for k, v in d.items())
            )
    err = m.get("gates_derivation_error_km")
    if err:
        vals = sorted(err.values())
        lines.append(
            f"  gate derivation checked on {len(vals)} gates with a published position: "
            f"median {vals[len(vals) // 2]:.1f} km, max {vals[-1]:.1f} km off"
        )
    for sid, f in report.get("absent_sources", {}).items():
        lines.append(f"  {sid}: source {f} not in the pack")
    lines.extend(_whole_border_lines(m))
    if report["unplaced"]:
        lines.append(f"  not placed ({len(report['unplaced'])}):")
        for u in report["unplaced"]:
            lines.append(f"    {u['layer']} {u['id']}: {u['reason']}")
    return "\n".join(lines)


def _whole_border_lines(m: dict) -> list[str]:
    """Partner units on every side, villages and terrain, as report lines."""
    lines = []
    for vintage in (2025, 2009):
        f = m.get(f"facing_{vintage}") or {}
        if "KHM" in f:
            k = f["KHM"]
            lines.append(
                f"  {vintage}: {len(k['partner_units'])} Cambodian units face Vietnam "
                f"({', '.join(k['partner_units'])}); {len(k['vn_provinces'])} Vietnamese provinces face Cambodia"
            )
        if "CHN" in f and "partner_districts" in f["CHN"]:
            lines.append(f"  {vintage}: {len(f['CHN']['partner_districts'])} Chinese counties face Vietnam")
    v = m.get("villages")
    if v:
        for vintage in (2025, 2009):
            c = v.get(f"commune_{vintage}")
            if isinstance(c, dict):
                lines.append(
                    f"    {vintage} commune: {c['inside']:,} inside, {c['nearest_within_tolerance']} nearest "
                    f"within tolerance, {c['none']} none"
                )
    for vintage in (2025, 2009):
        t = m.get(f"terrain_{vintage}")
        if t and "dem" in t:
            lines.append(
                f"  terrain {vintage} ({t['dem']}): {t['cells_inside']:,} communes from the cells inside, "
                f"{t['centroid_cell']:,} from the centroid cell (smaller than a cell), {t['no_land_cell']} none"
            )
    return lines
