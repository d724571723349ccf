"""Legacy Vietnamese 8-bit encodings (TCVN3/ABC, VNI-Windows, Windows-1258) -> Unicode.

Provincial shapefiles made with the Vietnamese fonts of the 1990s-2000s store attribute text in
the bytes of a font encoding, not in a code page GDAL knows: a DBF field that should read
"Mường Lèo" holds ``M\\xad\\xeang L\\xcco`` (TCVN3) or ``M\\xf6\\xf4\\xf8ng Le\\xf8o`` (VNI), which
a GIS shows as "M­êng LÌo" / "Möôøng Leøo".

- TCVN3 (TCVN 5712:1993, the "ABC" fonts .VnTime etc.) is one byte per letter. The table below
  holds the VN3 letters the ABC fonts use (lower case and the seven bare capitals Ă Â Ê Ô Ơ Ư Đ)
  and the toned capitals of VN1, from the published TCVN 5712:1993 character map (checked
  against glibc's ``TCVN5712-1`` converter in the tests).
- VNI-Windows is "base letter + mark byte": ``a`` + ``ø`` = à, ``o`` + ``â`` = ô, ``ô`` alone = ơ.
- Windows-1258 is a real code page (Python's ``cp1258``), with combining tone marks.

`detect` chooses among them by how many words come out as valid Vietnamese syllables.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

ENCODINGS = ("utf-8", "tcvn3", "vni", "cp1258")

# --------------------------------------------------------------------------- TCVN3 (TCVN 5712:1993)

# byte -> letter. VN3 (ABC fonts): the bare capitals and every lower-case letter.
_TCVN3_VN3 = {
    0xA1: "Ă",
    0xA2: "Â",
    0xA3: "Ê",
    0xA4: "Ô",
    0xA5: "Ơ",
    0xA6: "Ư",
    0xA7: "Đ",
    0xA8: "ă",
    0xA9: "â",
    0xAA: "ê",
    0xAB: "ô",
    0xAC: "ơ",
    0xAD: "ư",
    0xAE: "đ",
    0xB5: "à",
    0xB6: "ả",
    0xB7: "ã",
    0xB8: "á",
    0xB9: "ạ",
    0xBB: "ằ",
    0xBC: "ẳ",
    0xBD: "ẵ",
    0xBE: "ắ",
    0xC6: "ặ",
    0xC7: "ầ",
    0xC8: "ẩ",
    0xC9: "ẫ",
    0xCA: "ấ",
    0xCB: "ậ",
    0xCC: "è",
    0xCE: "ẻ",
    0xCF: "ẽ",
    0xD0: "é",
    0xD1: "ẹ",
    0xD2: "ề",
    0xD3: "ể",
    0xD4: "ễ",
    0xD5: "ế",
    0xD6: "ệ",
    0xD7: "ì",
    0xD8: "ỉ",
    0xDC: "ĩ",
    0xDD: "í",
    0xDE: "ị",
    0xDF: "ò",
    0xE1: "ỏ",
    0xE2: "õ",
    0xE3: "ó",
    0xE4: "ọ",
    0xE5: "ồ",
    0xE6: "ổ",
    0xE7: "ỗ",
    0xE8: "ố",
    0xE9: "ộ",
    0xEA: "ờ",
    0xEB: "ở",
    0xEC: "ỡ",
    0xED: "ớ",
    0xEE: "ợ",
    0xEF: "ù",
    0xF1: "ủ",
    0xF2: "ũ",
    0xF3: "ú",
    0xF4: "ụ",
    0xF5: "ừ",
    0xF6: "ử",
    0xF7: "ữ",
    0xF8: "ứ",
    0xF9: "ự",
    0xFA: "ỳ",
    0xFB: "ỷ",
    0xFC: "ỹ",
    0xFD: "ý",
    0xFE: "ỵ",
}
# VN1 adds the toned capitals in the positions VN3 leaves free.
_TCVN3_VN1_CAPITALS = {
    0x01: "Ú",
    0x02: "Ụ",
    0x04: "Ừ",
    0x05: "Ử",
    0x06: "Ữ",
    0x11: "Ứ",
    0x12: "Ự",
    0x13: "Ỳ",
    0x14: "Ỷ",
    0x15: "Ỹ",
    0x16: "Ý",
    0x17: "Ỵ",
    0x80: "À",
    0x81: "Ả",
    0x82: "Ã",
    0x83: "Á",
    0x84: "Ạ",
    0x85: "Ặ",
    0x86: "Ậ",
    0x87: "È",
    0x88: "Ẻ",
    0x89: "Ẽ",
    0x8A: "É",
    0x8B: "Ẹ",
    0x8C: "Ệ",
    0x8D: "Ì",
    0x8E: "Ỉ",
    0x8F: "Ĩ",
    0x90: "Í",
    0x91: "Ị",
    0x92: "Ò",
    0x93: "Ỏ",
    0x94: "Õ",
    0x95: "Ó",
    0x96: "Ọ",
    0x97: "Ộ",
    0x98: "Ờ",
    0x99: "Ở",
    0x9A: "Ỡ",
    0x9B: "Ớ",
    0x9C: "Ợ",
    0x9D: "Ù",
    0x9E: "Ủ",
    0x9F: "Ũ",
    0xAF: "Ằ",
    0xBA: "Ẳ",
    0xBF: "Ẵ",
    0xC0: "Ắ",
    0xC1: "Ầ",
    0xC2: "Ẩ",
    0xC3: "Ẫ",
    0xC4: "Ấ",
    0xC5: "Ề",
    0xCD: "Ể",
    0xD9: "Ễ",
    0xDA: "Ế",
    0xDB: "Ồ",
    0xE0: "Ổ",
    0xF0: "Ỗ",
    0xFF: "Ố",
}
TCVN3_TABLE: dict[int, str] = {**_TCVN3_VN3, **_TCVN3_VN1_CAPITALS}


def decode_tcvn3(raw: bytes) -> str:
    """TCVN3 bytes -> Unicode (NFC). Bytes outside the table are read as Latin-1."""
    return "".join(TCVN3_TABLE.get(b, chr(b)) for b in raw)


# --------------------------------------------------------------------------- VNI-Windows

_GRAVE, _ACUTE, _HOOK, _TILDE, _DOT = "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"
_CIRC, _BREVE = "\u0302", "\u0306"
_TONES = (_GRAVE, _ACUTE, _HOOK, _TILDE, _DOT)

# mark byte (lower-case form; the upper-case form is the same letter upper-cased) -> combining marks
_VNI_MARKS = {
    "ø": _GRAVE,
    "ù": _ACUTE,
    "û": _HOOK,
    "õ": _TILDE,
    "ï": _DOT,
    "â": _CIRC,
    "á": _CIRC + _ACUTE,
    "à": _CIRC + _GRAVE,
    "å": _CIRC + _HOOK,
    "ã": _CIRC + _TILDE,
    "ä": _CIRC + _DOT,
    "ê": _BREVE,
    "é": _BREVE + _ACUTE,
    "è": _BREVE + _GRAVE,
    "ú": _BREVE + _HOOK,
    "ü": _BREVE + _TILDE,
    "ë": _BREVE + _DOT,
}
VNI_MARKS = {**_VNI_MARKS, **{k.upper(): v for k, v in _VNI_MARKS.items()}}
# bytes that are letters on their own
_VNI_LETTERS = {"ñ": "đ", "ô": "ơ", "ö": "ư", "ò": "ị", "ó": "ĩ", "æ": "ỉ", "î": "ỵ", "ì": "ì", "í": "í"}
VNI_LETTERS = {**_VNI_LETTERS, **{k.upper(): v.upper() for k, v in _VNI_LETTERS.items()}}


def decode_vni(raw: bytes) -> str:
    """VNI-Windows bytes -> Unicode (NFC)."""
    out: list[str] = []
    for ch in raw.decode("latin-1"):
        if ch in VNI_MARKS and out and _mark_fits(out[-1], VNI_MARKS[ch]):
            out[-1] = unicodedata.normalize("NFC", out[-1] + VNI_MARKS[ch])
        elif ch in VNI_LETTERS:
            out.append(VNI_LETTERS[ch])
        else:
            out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def _mark_fits(prev: str, marks: str) -> bool:
    """A mark byte combines with the vowel before it only if the result is a Vietnamese letter:
    a tone on a vowel without tone; a circumflex on a bare a/e/o; a breve on a bare a."""
    d = unicodedata.normalize("NFD", prev)
    if not d or d[0].lower() not in "aeiouy" or any(t in d for t in _TONES):
        return False
    if marks[0] == _CIRC:
        return len(d) == 1 and d[0].lower() in "aeo"
    if marks[0] == _BREVE:
        return len(d) == 1 and d[0].lower() == "a"
    return True


# --------------------------------------------------------------------------- decoding


def decode(raw: bytes, encoding: str) -> str:
    """Bytes in one of ENCODINGS -> NFC Unicode. Raises UnicodeDecodeError for bad UTF-8."""
    if encoding == "utf-8":
        text = raw.decode("utf-8")
    elif encoding == "tcvn3":
        text = decode_tcvn3(raw)
    elif encoding == "vni":
        text = decode_vni(raw)
    elif encoding == "cp1258":
        text = raw.decode("cp1258", errors="replace")
    else:
        raise ValueError(f"unknown encoding {encoding!r}; one of {', '.join(ENCODINGS)}")
    return unicodedata.normalize("NFC", text)


def raw_bytes(value: str) -> bytes | None:
    """The bytes a text value was decoded from, when it was read as Latin-1 / Windows-1252
    (what GDAL and most tools do with a legacy DBF); None if it cannot have been."""
    for cp in ("latin-1", "cp1252"):
        try:
            return value.encode(cp)
        except UnicodeEncodeError:
            continue
    return None


# --------------------------------------------------------------------------- syllable check

_INITIALS = "ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|b|c|d|đ|g|h|k|l|m|n|p|q|r|s|t|v|x"
_NUCLEI = (
    "a|ă|â|e|ê|i|o|ô|ơ|u|ư|y|ai|ao|au|ay|âu|ây|eo|êu|ia|iê|iêu|iu|oa|oă|oai|oao|oay|oe|oeo|oi|ôi|ơi|"
    "oo|ua|uâ|uây|ue|uê|ui|uô|uôi|uơ|uy|uya|uyê|uyu|ưa|ưi|ươ|ươi|ươu|ưu|yê|yêu"
)
_FINALS = "ch|ng|nh|c|m|n|p|t"
_SYLLABLE = re.compile(rf"^(?:{_INITIALS})?(?:{_NUCLEI})(?:{_FINALS})?$")
_WORD = re.compile(r"[^\s\d.,;:()\[\]/\\\-_'\"]+")


def syllable_ok(word: str) -> bool:
    """Is `word` one well-formed Vietnamese syllable (at most one tone, a known vowel group)?"""
    d = unicodedata.normalize("NFD", word.lower())
    tones = sum(d.count(t) for t in _TONES)
    if tones > 1:
        return False
    base = unicodedata.normalize("NFC", "".join(c for c in d if c not in _TONES))
    return bool(_SYLLABLE.match(base))


def _non_ascii_words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text) if not w.isascii()]


def score(text: str) -> tuple[int, int]:
    """(well-formed, ill-formed) non-ASCII words of a text."""
    good = bad = 0
    for w in _non_ascii_words(text):
        if syllable_ok(w):
            good += 1
        else:
            bad += 1
    return good, bad


# --------------------------------------------------------------------------- detection


@dataclass
class Detection:
    """Which encoding a set of text values is in, and why."""

    encoding: str  # "ascii", "unicode" (already right), or one of ENCODINGS (to convert from)
    scores: dict[str, tuple[int, int]] = field(default_factory=dict)
    samples: list[tuple[str, str]] = field(default_factory=list)  # (as read, converted)

    @property
    def converted(self) -> bool:
        return self.encoding in ("utf-8", "tcvn3", "vni", "cp1258")

    def describe(self) -> str:
        if self.encoding == "ascii":
            return "ASCII only, nothing to convert"
        sc = ", ".join(f"{k} {g} good/{b} bad" for k, (g, b) in self.scores.items())
        if not self.converted:
            return f"already Unicode ({sc})"
        ex = "; ".join(f"{a!r} -> {b!r}" for a, b in self.samples[:3])
        what = "UTF-8 bytes read as Latin-1" if self.encoding == "utf-8" else self.encoding.upper()
        return f"converted from {what} ({sc}); e.g. {ex}"


def _candidates(value: str) -> dict[str, str]:
    """A text value as read, and what it would be if its bytes were each legacy encoding."""
    out = {"unicode": value}
    raw = raw_bytes(value)
    if raw is None:
        return out
    with contextlib.suppress(UnicodeDecodeError):
        out["utf-8"] = raw.decode("utf-8")
    for enc in ("tcvn3", "vni", "cp1258"):
        out[enc] = decode(raw, enc)
    return out


def detect(values: Iterable[str], forced: str = "auto") -> Detection:
    """Detect the encoding of text values as read (Latin-1 view of the bytes, or real Unicode).

    Every value is decoded with every candidate; the candidate with the most well-formed
    Vietnamese syllables (ties: fewest ill-formed, then "as read") wins. `forced` skips the vote.
    """
    vals = [v for v in values if isinstance(v, str) and v and not v.isascii()]
    if not vals:
        return Detection("ascii")
    totals: dict[str, list[int]] = {}
    for v in vals:
        for enc, text in _candidates(v).items():
            g, b = score(text)
            t = totals.setdefault(enc, [0, 0, 0])
            t[0] += g
            t[1] += b
            t[2] += 1
    # a candidate must be able to decode every value
    usable = {k: v for k, v in totals.items() if v[2] == len(vals)}
    if forced != "auto":
        enc = {"utf8": "utf-8", "abc": "tcvn3", "tcvn": "tcvn3", "vni-windows": "vni"}.get(forced, forced)
        if enc not in ENCODINGS:
            raise ValueError(f"unknown encoding {forced!r}; use auto or one of {', '.join(ENCODINGS)}")
        best = "unicode" if enc == "utf-8" and "utf-8" not in usable else enc
    else:
        order = ["unicode", "utf-8", "tcvn3", "vni", "cp1258"]
        best = max(
            (k for k in order if k in usable),
            key=lambda k: (usable[k][0] - usable[k][1], -usable[k][1], -order.index(k)),
        )
    det = Detection(best, scores={k: (v[0], v[1]) for k, v in usable.items()})
    for v in vals:
        conv = convert(v, best)
        if conv != v and len(det.samples) < 5:
            det.samples.append((v, conv))
    return det


def convert(value, encoding: str):
    """One value as read -> Unicode, given the detected encoding (non-text values unchanged)."""
    if not isinstance(value, str) or encoding in ("ascii", "unicode") or value.isascii():
        return value
    raw = raw_bytes(value)
    if raw is None:
        return value
    if encoding == "utf-8":
        try:
            return unicodedata.normalize("NFC", raw.decode("utf-8"))
        except UnicodeDecodeError:
            return value
    return decode(raw, encoding)
