"""What the review page (/reports/review, HTML) says when a choice is wrong or has no data: a page
for people in the page's language, with the library's message as the technical detail. The JSON,
PDF and XLSX forms keep the JSON errors of api/errors.py."""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse

from ..errors import html_error_route

TEXT = {
    "vi": {
        "title": "Không lập được báo cáo",
        "no_values": "Chưa có số liệu của các chỉ tiêu đã chọn cho khu vực này trong giai đoạn đã chọn. "
        "Hãy nhập bảng số liệu trước, hoặc chọn giai đoạn khác.",
        "area": "Không có khu vực «{value}».",
        "area_hint": "Khu vực viết như: border:Sơn La, communes:04045,04240, districts:Si Ma Cai;Bắc Hà, "
        "zone:10, hoặc tên một khu vực đã lưu (danh sách: /reports/areas).",
        "indicator": "Không lập được báo cáo cho chỉ tiêu đã chọn.",
        "period": "Giai đoạn không hợp lệ: năm đầu và năm cuối là số năm, từ 1990 đến 2100, năm đầu không sau năm cuối.",
        "other": "Một lựa chọn của báo cáo không hợp lệ.",
        "detail": "Chi tiết kỹ thuật",
        "other_lang": "English",
    },
    "en": {
        "title": "The report cannot be made",
        "no_values": "The chosen indicators have no values for this area in this period yet. "
        "Import their tables first, or pick another period.",
        "area": "There is no area “{value}”.",
        "area_hint": "Write an area as border:Sơn La, communes:04045,04240, districts:Si Ma Cai;Bắc Hà, "
        "zone:10, or the name of a saved area (list: /reports/areas).",
        "indicator": "No report can be made for the chosen indicator.",
        "period": "The period is not valid: from and to are years from 1990 to 2100, from not after to.",
        "other": "A choice of the report is not valid.",
        "detail": "Technical detail",
        "other_lang": "Tiếng Việt",
    },
}


def _explain(detail: str, request: Request, lang: str) -> tuple[str, str]:
    t = TEXT[lang]
    low = detail.lower()
    if "no values of" in low:
        return t["no_values"], ""
    if low.startswith("area") or "saved area" in low:
        return t["area"].format(value=request.query_params.get("area", "")), t["area_hint"]
    if low.startswith(("from", "to", "year", "the period")) or "period" in low:
        return t["period"], ""
    if "indicator" in low or "threshold" in low:
        return t["indicator"], ""
    return t["other"], ""


def review_error_page(request: Request, status: int, detail: str) -> HTMLResponse:
    lang = "en" if request.query_params.get("lang") == "en" else "vi"
    t = TEXT[lang]
    message, hint = _explain(detail, request, lang)
    other = urlencode({**dict(request.query_params.items()), "lang": "vi" if lang == "en" else "en"})
    body = (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{escape(t["title"])}</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<style>body{font-family:sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem}"
        ".gb-error{border-left:4px solid #b3261e;padding:.4rem 1rem;background:#fdf3f2}</style></head><body>"
        f'<nav><a id="gb-other-lang" href="{escape(request.url.path)}?{escape(other)}">{t["other_lang"]}</a></nav>'
        f"<h1>{escape(t['title'])}</h1>"
        f'<div class="gb-error" role="alert"><p id="gb-error-message">{escape(message)}</p>'
        + (f"<p>{escape(hint)}</p>" if hint else "")
        + f"</div><details><summary>{t['detail']} (HTTP {status})</summary><p><code>{escape(detail)}</code></p>"
        "</details></body></html>"
    )
    return HTMLResponse(body, status_code=status)


ReviewPageRoute = html_error_route(
    lambda request, status, detail, exc: review_error_page(request, status, detail),
    wants_html=lambda request: request.query_params.get("f", "html") == "html",
)
"""The review route: a 4xx of the HTML form (f=html or no f) is a page for people."""
