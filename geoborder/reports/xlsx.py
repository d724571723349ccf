"""The report as a workbook for the annex: one sheet per table, numbers as numbers (not text), and
every value with the import version (and file) it came from."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from geoborder.reports.labels import headline, labels, title, units_text

if TYPE_CHECKING:
    from openpyxl import Workbook


def _sheet(wb: Workbook, name: str, head: list, rows: list[list]):
    ws = wb.create_sheet(name[:31])
    ws.append(head)
    for r in rows:
        ws.append(r)
    ws.freeze_panes = "A2"
    return ws


def write_xlsx(report: dict, lang: str = "vi") -> bytes:
    from openpyxl import Workbook  # imported when a workbook is written, not by every worker

    L = labels(lang)
    wb = Workbook()
    wb.remove(wb.active)
    files = {i["version"]: i["file_name"] for i in report["imports"]}
    _report_sheet(wb, report, L, lang)
    _summary_sheet(wb, report, L, lang)
    _series_sheet(wb, report, files)
    _thresholds_sheet(wb, report)
    _improved_sheet(wb, report)
    _communes_sheets(wb, report)
    _reform_sheet(wb, report)
    _targets_sheet(wb, report)
    _imports_sheet(wb, report)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _report_sheet(wb: Workbook, report: dict, L: dict, lang: str) -> None:
    area = report["area_title_en"] if lang == "en" else report["area_title_vi"]
    info = [
        [L["title"], area],
        [L["area"], report["area"]["key"]],
        [L["period"], f"{report['period']['from']}–{report['period']['to']}"],
        [L["units"], units_text(report["vintage"], lang)],
    ]
    _sheet(wb, "report", ["", ""], info)


def _summary_sheet(wb: Workbook, report: dict, L: dict, lang: str) -> None:
    rows = []
    for f in report["indicators"]:
        c = f["change"]
        rows.append(
            [
                f["name"],
                title(f, lang),
                f["aggregation"],
                c["from_year"],
                c["first"],
                c["to_year"],
                c["last"],
                c["absolute"],
                c["percent"],
                c["annual_rate_percent"],
            ]
        )
    _sheet(
        wb,
        "summary",
        [
            "indicator",
            L["indicator"],
            L["rule"],
            L["first"],
            "first_value",
            L["last"],
            "last_value",
            L["change_abs"],
            L["change_pct"],
            L["annual_rate"],
        ],
        rows,
    )


def _series_sheet(wb: Workbook, report: dict, files: dict) -> None:
    rows = []
    for f in report["indicators"]:
        for s in f["series"]:
            rows.append(
                [
                    f["name"],
                    s["year"],
                    headline(f, s),
                    s.get("value"),
                    s["n_with_value"],
                    s["n_communes"],
                    s["units"],
                    s["carried"],
                    ", ".join(map(str, s["versions"])),
                    "; ".join(files.get(v, "") for v in s["versions"]),
                ]
            )
    _sheet(
        wb,
        "series",
        [
            "indicator",
            "year",
            "figure",
            "combined_value",
            "communes_with_value",
            "communes",
            "reported_on_units",
            "carried_to_2025",
            "import_versions",
            "files",
        ],
        rows,
    )


def _thresholds_sheet(wb: Workbook, report: dict) -> None:
    rows = []
    for f in report["indicators"]:
        for t in f["thresholds"]:
            for y in t["years"]:
                rows.append(
                    [
                        f["name"],
                        f"{t['op']} {t['value']:g}",
                        y["year"],
                        y["n_meet"],
                        y["n_with_value"],
                        y.get("share_percent"),
                        y["units"],
                        ", ".join(c["commune_code"] for c in y.get("meet", [])),
                        ", ".join(c["commune_code"] for c in y.get("not_meet", [])),
                    ]
                )
    _sheet(
        wb,
        "thresholds",
        [
            "indicator",
            "threshold",
            "year",
            "communes_meeting",
            "communes_with_value",
            "share_percent",
            "units",
            "meeting",
            "not_meeting",
        ],
        rows,
    )


def _improved_sheet(wb: Workbook, report: dict) -> None:
    rows = []
    for f in report["indicators"]:
        for key in ("improved_most", "improved_least"):
            for r in f[key]:
                rows.append(
                    [
                        f["name"],
                        key,
                        r["commune_code"],
                        r["name"],
                        f["change"]["from_year"],
                        r["first"],
                        f["change"]["to_year"],
                        r["last"],
                        r["change"],
                    ]
                )
    _sheet(
        wb,
        "improved",
        ["indicator", "list", "commune_code", "name", "from_year", "first", "to_year", "last", "change"],
        rows,
    )


def _communes_sheets(wb: Workbook, report: dict) -> None:
    """One sheet per indicator: its value of each year in each commune."""
    for i, f in enumerate(report["indicators"], 1):
        years = [str(s["year"]) for s in f["series"]]
        _sheet(
            wb,
            f"communes {i} {f['name']}",
            ["commune_code", "name", *[int(y) for y in years]],
            [[c["commune_code"], c["name"], *[c["values"][y] for y in years]] for c in f["communes"]],
        )


def _reform_sheet(wb: Workbook, report: dict) -> None:
    rows = []
    for f in report["indicators"]:
        r = f["reform"]
        for p in r["partly_merged"]:
            rows.append(
                [
                    f["name"],
                    "partly_merged",
                    p["commune_code"],
                    p["name"],
                    ", ".join(c["commune_code"] for c in p["communes_2025"]),
                    ", ".join(map(str, p["years"])),
                ]
            )
        for e in r["incomplete"]:
            rows.append(
                [
                    f["name"],
                    "not_carried" if e.get("not_carried") else "incomplete",
                    e["commune_code"],
                    e["name"],
                    ", ".join(m["commune_code"] for m in e["missing"]),
                    ", ".join(map(str, e["years"])),
                ]
            )
    for n in report["area"]["notes"]:
        rows.append(
            ["", n["kind"], n["commune_code"], n["name"], ", ".join(c["commune_code"] for c in n["communes"]), ""]
        )
    _sheet(wb, "reform", ["indicator", "kind", "commune_code", "name", "other_communes", "years"], rows)


def _targets_sheet(wb: Workbook, report: dict) -> None:
    _sheet(
        wb,
        "targets",
        [
            "indicator",
            "area",
            "year",
            "op",
            "target",
            "actual",
            "status",
            "projection",
            "annual_rate_percent",
            "projected_from",
            "basis",
            "target_version",
            "file",
        ],
        [
            [
                t["indicator"],
                t["area"],
                t["year"],
                t["op"],
                t["value"],
                t["actual"],
                t["status"],
                (t.get("projection") or {}).get("value"),
                (t.get("projection") or {}).get("annual_rate_percent"),
                (t.get("projection") or {}).get("to_year"),
                t.get("basis_en") or "",
                t["import_id"],
                t["file_name"],
            ]
            for t in report["targets"]
        ],
    )


def _imports_sheet(wb: Workbook, report: dict) -> None:
    _sheet(
        wb,
        "imports",
        ["version", "file", "sha256", "imported_at", "who", "vintage"],
        [
            [i["version"], i["file_name"], i["sha256"], i["imported_at"], i["who"], i["vintage"]]
            for i in report["imports"]
        ],
    )
