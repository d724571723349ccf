"""The vocabularies of the border records (geoborder.records.kinds): gate classes, event statuses,
point kinds, marker conditions, patrols, objects and borders, each word in any spelling (with or
without diacritics) mapped to its canonical value."""

from __future__ import annotations

from geoborder.core.text import fold
from geoborder.records.cells import empty

# a gate's class, lowest first (lối mở = an opening, below a secondary gate)
CLASSES = ("opening", "secondary", "main", "international")
CLASS_WORDS = {
    "international": "international",
    "quoc te": "international",
    "cua khau quoc te": "international",
    "main": "main",
    "chinh": "main",
    "cua khau chinh": "main",
    "quoc gia": "main",  # the old vi-wiki table's Quốc gia, read as main (border_facts.md)
    "song phuong": "main",
    "bilateral": "main",
    "secondary": "secondary",
    "phu": "secondary",
    "cua khau phu": "secondary",
    "opening": "opening",
    "loi mo": "opening",
}
# the events of a crossing point; what each does to its status ("": nothing)
EVENT_STATUS = {
    "proposed": "proposed",
    "agreed": "agreed",
    "approved": "",
    "opened": "open",
    "upgraded": "",
    "downgraded": "",
    "classified": "",
    "relocated": "",
    "closed": "closed",
    "reopened": "open",
}
EVENT_WORDS = {
    **{e: e for e in EVENT_STATUS},
    "de xuat": "proposed",
    "de nghi": "proposed",
    "thong nhat": "agreed",
    "thoa thuan": "agreed",
    "agreed as a pair": "agreed",
    "phe duyet": "approved",
    "chap thuan": "approved",
    "mo": "opened",
    "mo cua": "opened",
    "khai truong": "opened",
    "open": "opened",
    "nang cap": "upgraded",
    "upgrade": "upgraded",
    "ha cap": "downgraded",
    "tam dong": "closed",
    "tam dung": "closed",
    "temporarily closed": "closed",
    "close": "closed",
    "mo lai": "reopened",
    "reopen": "reopened",
    "di doi": "relocated",
}
POINT_KINDS = {
    "gate": "gate",
    "cua khau": "gate",
    "opening": "opening",
    "loi mo": "opening",
    "market": "market",
    "border market": "market",
    "cho bien gioi": "market",
    "cho": "market",
}
CONDITIONS = {
    "intact": "intact",
    "nguyen ven": "intact",
    "con nguyen": "intact",
    "binh thuong": "intact",
    "tot": "intact",
    "damaged": "damaged",
    "hu hong": "damaged",
    "bi hu hong": "damaged",
    "hong": "damaged",
    "nut vo": "damaged",
    "displaced": "displaced",
    "xe dich": "displaced",
    "bi xe dich": "displaced",
    "dich chuyen": "displaced",
    "bi dich chuyen": "displaced",
    "lost": "lost",
    "mat": "lost",
    "bi mat": "lost",
    "that lac": "lost",
    "rebuilt": "rebuilt",
    "xay lai": "rebuilt",
    "da xay lai": "rebuilt",
    "khoi phuc": "rebuilt",
    "da khoi phuc": "rebuilt",
    "phuc hoi": "rebuilt",
}
PATROLS = {
    "bilateral": "bilateral",
    "song phuong": "bilateral",
    "tuan tra song phuong": "bilateral",
    "joint": "bilateral",
    "unilateral": "unilateral",
    "don phuong": "unilateral",
    "tuan tra don phuong": "unilateral",
}
OBJECTS = {"marker": "marker", "moc": "marker", "moc quoc gioi": "marker", "stake": "stake", "coc dau": "stake"}
BORDERS = {
    "vn la": "VN-LA",
    "lao": "VN-LA",
    "la": "VN-LA",
    "viet lao": "VN-LA",
    "viet nam lao": "VN-LA",
    "vn cn": "VN-CN",
    "chn": "VN-CN",
    "cn": "VN-CN",
    "trung quoc": "VN-CN",
    "viet trung": "VN-CN",
    "viet nam trung quoc": "VN-CN",
    "vn kh": "VN-KH",
    "khm": "VN-KH",
    "kh": "VN-KH",
    "campuchia": "VN-KH",
    "viet nam campuchia": "VN-KH",
}
BORDER_OF_COUNTRY = {"LAO": "VN-LA", "CHN": "VN-CN", "KHM": "VN-KH"}


def word(cell, vocab: dict, what: str) -> tuple[str | None, str | None]:
    """A vocabulary word (any spelling, with or without diacritics) as its canonical value."""
    if empty(cell):
        return None, None
    got = vocab.get(fold(str(cell)))
    if got is None:
        return None, f"{str(cell)!r} is not a {what}; one of: {', '.join(sorted(set(vocab.values())))}"
    return got, None


def class_word(cell) -> tuple[str | None, str | None]:
    """A gate class from free text: 'international', 'chính', 'Cửa khẩu phụ' ..."""
    if empty(cell):
        return None, None
    key = fold(str(cell))
    got = CLASS_WORDS.get(key) or CLASS_WORDS.get(key.split(" ")[0])
    if got is None:
        return None, f"{str(cell)!r} is not a gate class; one of: {', '.join(CLASSES)} (quốc tế, chính, phụ, lối mở)"
    return got, None
