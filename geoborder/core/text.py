"""Vietnamese text normalisation shared by the build, matching and queries."""

from __future__ import annotations

import re
import unicodedata

# Unit-type prefixes as they appear in Vietnamese sources, longest first so that
# "thị trấn" wins over "thị".
UNIT_PREFIXES = ("thành phố", "thị trấn", "thị xã", "đặc khu", "phường", "huyện", "quận", "tỉnh", "xã")
_PREFIX_RE = re.compile(r"^(?:" + "|".join(re.escape(p) for p in UNIT_PREFIXES) + r")\s+", re.IGNORECASE)
_BRACKETS_RE = re.compile(r"\s*[\(\[].*?[\)\]]")


def nfc(value):
    """NFC-normalise a string (Vietnamese sources mix composed and decomposed forms)."""
    if not isinstance(value, str):
        return value
    return unicodedata.normalize("NFC", value).strip()


def split_unit_prefix(name: str) -> tuple[str | None, str]:
    """'Xã Mường Lèo' -> ('Xã', 'Mường Lèo'); a name without prefix -> (None, name)."""
    name = nfc(name)
    m = _PREFIX_RE.match(name)
    if not m:
        return None, name
    prefix = name[: m.end()].strip()
    return prefix[0].upper() + prefix[1:], name[m.end() :].strip()


def _ascii(value: str) -> str:
    s = nfc(value).replace("đ", "d").replace("Đ", "D")
    s = unicodedata.normalize("NFD", s)
    s = "".join(c for c in s if unicodedata.category(c) != "Mn").lower()
    return re.sub(r"[^a-z0-9]+", " ", s).strip()


# Without diacritics only multi-word prefixes are unambiguous: "xa", "tinh", "phuong" and "quan"
# also begin real names ("Xa Mát", "Tịnh Biên", "Phương Tú", "Quan Sơn").
_ASCII_PREFIXES = ("thanh pho ", "thi tran ", "thi xa ", "dac khu ")


def fold(value: str) -> str:
    """Diacritics-, case-, prefix- and bracket-insensitive key: 'Xã Mường Lèo' -> 'muong leo'."""
    if not isinstance(value, str):
        return ""
    s = _BRACKETS_RE.sub("", nfc(value))
    s = _PREFIX_RE.sub("", s, count=1) if _PREFIX_RE.match(s) and len(_PREFIX_RE.sub("", s)) else s
    s = _ascii(s)
    for p in _ASCII_PREFIXES:
        if s.startswith(p) and len(s) > len(p):
            return s[len(p) :]
    return s


def slug(value: str) -> str:
    """'Xa Mát' -> 'xa-mat' (keeps every word)."""
    return _ascii(value if isinstance(value, str) else "").replace(" ", "-")
