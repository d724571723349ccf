"""The report's tables as rows of text (HTML, PDF) and of plain values (XLSX), one function per
table, so the three outputs show the same numbers."""

from __future__ import annotations

from geoborder.reports.labels import headline, is_integer, labels, num, rule_text, title, unit, units_text


def summary(report: dict, lang: str) -> tuple[list[str], list[list]]:
    L = labels(lang)
    head = [
        L["indicator"],
        L["unit"],
        L["rule"],
        L["first"],
        L["last"],
        L["change_abs"],
        L["change_pct"],
        L["annual_rate"],
    ]
    rows = []
    for f in report["indicators"]:
        c = f["change"]
        rows.append(
            [
                title(f, lang),
                unit(f, lang),
                rule_text(f, lang),
                None if c["from_year"] is None else f"{c['from_year']}: {num(c['first'], lang, integer=is_integer(f))}",
                None if c["to_year"] is None else f"{c['to_year']}: {num(c['last'], lang, integer=is_integer(f))}",
                num(c["absolute"], lang, integer=is_integer(f), signed=True) if c["absolute"] is not None else "—",
                num(c["percent"], lang, signed=True) if c["percent"] is not None else "—",
                num(c["annual_rate_percent"], lang, signed=True) if c["annual_rate_percent"] is not None else "—",
            ]
        )
    return head, rows


def series(f: dict, lang: str) -> tuple[list[str], list[list[str]]]:
    L = labels(lang)
    head = [L["year"], f"{L['value']} ({unit(f, lang)})", L["with_value"], L["reported_on"], L["version"]]
    rows = []
    for s in f["series"]:
        v = headline(f, s)
        rows.append(
            [
                str(s["year"]),
                num(v, lang, integer=is_integer(f)),
                f"{s['n_with_value']}/{s['n_communes']}",
                units_text(s["units"], lang) + (" → 2025" if s["carried"] else ""),
                ", ".join(str(x) for x in s["versions"]) or "—",
            ]
        )
    return head, rows


def thresholds(f: dict, lang: str) -> list[tuple[str, list[str], list[list[str]]]]:
    L = labels(lang)
    out = []
    for t in f["thresholds"]:
        head = [L["year"], L["meet"], L["share"], L["reported_on"], L["not_meet"]]
        rows = []
        for y in t["years"]:
            if y["units"] is None:
                rows.append([str(y["year"]), L["no_data"], "—", "—", ""])
                continue
            nm = ", ".join(c["name"] for c in y["not_meet"])
            rows.append(
                [
                    str(y["year"]),
                    f"{y['n_meet']}/{y['n_with_value']}"
                    + (f" (+{len(y['no_data'])} {L['no_data']})" if y["no_data"] else ""),
                    num(y["share_percent"], lang),
                    units_text(y["units"], lang),
                    nm,
                ]
            )
        out.append((f"{title(f, lang)} {t['label_en'] if lang == 'en' else t['label_vi']}", head, rows))
    return out


def ranked(f: dict, key: str, lang: str) -> tuple[list[str], list[list[str]]]:
    L = labels(lang)
    c = f["change"]
    head = [L["code"], L["commune"], str(c["from_year"]), str(c["to_year"]), L["change_abs"]]
    whole = f["type"] in ("count", "boolean")
    rows = [
        [
            r["commune_code"],
            r["name"],
            num(r["first"], lang, integer=whole),
            num(r["last"], lang, integer=whole),
            num(r["change"], lang, integer=whole, signed=True),
        ]
        for r in f[key]
    ]
    return head, rows


def reform_lines(report: dict, f: dict, lang: str) -> list[str]:
    L = labels(lang)
    r = f["reform"]
    lines = []
    if r["years_carried"]:
        lines.append(f"{L['years_carried']}: {', '.join(str(y) for y in r['years_carried'])}.")
    for p in r["partly_merged"]:
        to = ", ".join(f"{c['name']} ({c['commune_code']})" for c in p["communes_2025"])
        lines.append(f"{L['partly_merged']}: {p['name']} ({p['commune_code']}) → {to}.")
    for e in r["incomplete"]:
        miss = ", ".join(f"{m['name']} ({m['commune_code']})" for m in e["missing"])
        extra = f" — {L['not_carried']}" if e.get("not_carried") else ""
        lines.append(f"{L['incomplete']}: {e['name']} ({e['commune_code']}), {L['missing']} {miss}{extra}.")
    if f["not_comparable"] and f["change"]["from_year"] != f["change"]["to_year"]:
        lines.append(f"{L['not_comparable']}: " + ", ".join(c["name"] for c in f["not_comparable"]) + ".")
    if f["years_without_data"]:
        lines.append(f"{L['years_without_data']}: {', '.join(str(y) for y in f['years_without_data'])}.")
    if f["change"].get("like_for_like") is False:
        lines.append(L["like_for_like"] + ".")
    return lines


def area_note_lines(report: dict, lang: str) -> list[str]:
    lines = []
    for n in report["area"]["notes"]:
        others = ", ".join(f"{c['name']} ({c['commune_code']})" for c in n["communes"])
        if n["kind"] == "2025_takes_outside":
            t = "cũng gồm xã cũ ngoài khu vực" if lang == "vi" else "also takes pre-2025 units outside the area"
        elif n["kind"] == "2009_goes_outside":
            t = "một phần sang xã mới ngoài khu vực" if lang == "vi" else "partly went to new communes outside the area"
        else:
            t = "không liên kết được với xã 2025" if lang == "vi" else "not linked to a 2025 commune"
        lines.append(f"{n['name']} ({n['commune_code']}) {t}{': ' + others if others else ''}.")
    return lines


def targets(report: dict, lang: str) -> tuple[list[str], list[list[str]]]:
    L = labels(lang)
    head = [L["indicator"], L["year"], L["target"], L["actual"], L["status"], L["basis"], L["version"]]
    by = {f["name"]: f for f in report["indicators"]}
    rows = []
    for t in report["targets"]:
        f = by.get(t["indicator"])
        rows.append(
            [
                title(f, lang) if f else t["indicator"],
                str(t["year"]),
                f"{t['op']} {num(t['value'], lang)}",
                num(t["actual"], lang) if t["actual"] is not None else L["no_data"],
                L.get(t["status"], t["status"]) if t["status"] != "no_data" else L["no_data"],
                t.get("basis_en" if lang == "en" else "basis_vi") or "",
                f"{t['import_id']} ({t['file_name']})",
            ]
        )
    return head, rows


def imports(report: dict, lang: str) -> tuple[list[str], list[list[str]]]:
    L = labels(lang)
    head = [L["version"], L["file"], "sha256", L["imported_at"], L["who"], L["units"]]
    rows = [
        [
            str(i["version"]),
            i["file_name"],
            i["sha256"][:12],
            i["imported_at"],
            i["who"],
            units_text(i["vintage"], lang),
        ]
        for i in report["imports"]
    ]
    return head, rows


def communes(f: dict, lang: str) -> tuple[list[str], list[list[str]]]:
    L = labels(lang)
    years = [str(s["year"]) for s in f["series"]]
    head = [L["code"], L["commune"], *years]
    rows = [
        [
            c["commune_code"],
            c["name"],
            *[
                num(c["values"][y], lang, integer=f["type"] in ("count", "boolean"))
                if c["values"][y] is not None
                else "—"
                for y in years
            ],
        ]
        for c in f["communes"]
    ]
    return head, rows
