"""A small PDF object layer (ISO 32000-1 §7.2–7.5): parse objects, read cross-reference
sections and incremental updates, serialise objects for an update.

Only what sealing and verification need: every object type, classic cross-reference tables,
cross-reference streams (PDF 1.5, with PNG predictors), object streams, hybrid files and
``/Prev`` chains; FlateDecode only. Objects are read lazily, so opening a document costs a
trailer and a few dictionaries, not a full parse. Encrypted documents are refused.

The reader also keeps the revision structure (one cross-reference section per incremental
update) that verification needs: what each update defines, where each revision ends.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .errors import MalformedPDF, UnsupportedPDF

__all__ = [
    "Name",
    "PDFReader",
    "PDFString",
    "Real",
    "Ref",
    "Revision",
    "Stream",
    "XrefSection",
    "decode_stream",
    "dumps",
    "parse_object",
]

# ------------------------------------------------------------------------------- types


class Name(str):
    """A PDF name, without the slash; bytes are kept as latin-1 characters."""

    __slots__ = ()


class Ref(NamedTuple):
    """An indirect reference ``num gen R``."""

    num: int
    gen: int = 0


class PDFString(bytes):
    """A PDF string (literal or hexadecimal); ``hex`` tells how it was (or will be) written."""

    hex: bool

    def __new__(cls, value: bytes, hex: bool = False) -> PDFString:
        obj = super().__new__(cls, value)
        obj.hex = hex
        return obj


class Real(float):
    """A real number that keeps its source text, so rewriting an object keeps it exact."""

    src: bytes

    def __new__(cls, src: bytes | float) -> Real:
        if isinstance(src, bytes):
            obj = super().__new__(cls, float(src))
            obj.src = src
        else:
            obj = super().__new__(cls, src)
            obj.src = _fmt_real(float(src))
        return obj


@dataclass
class Stream:
    """A stream object: its dictionary and its raw (still encoded) data."""

    dict: dict[str, Any]
    raw: bytes

    def get(self, key: str, default: Any = None) -> Any:
        return self.dict.get(key, default)


# --------------------------------------------------------------------------------- lexer

_WS_CLASS = rb" \t\r\n\x0c\x00"
_REGULAR_CLASS = rb"[^ \t\r\n\x0c\x00()<>\[\]{}/%]"
_RE_WS = re.compile(rb"(?:[ \t\r\n\x0c\x00]+|%[^\r\n]*)*")
_RE_REGULAR = re.compile(_REGULAR_CLASS + rb"+")
_RE_INT = re.compile(rb"[+-]?\d+")
# An array of numbers only (a font's /Widths, a /W run, a /MediaBox), read in one match:
# parsing it item by item was most of the cost of reading a font dictionary. A reference
# ("1 0 R"), a comment or anything else fails the match and goes the general way.
_RE_NUMBER = re.compile(rb"[+-]?(?:\d+\.?\d*|\.\d+)")
_RE_NUM_ARRAY = re.compile(rb"((?:[ \t\r\n\x0c\x00]*[+-]?(?:\d+\.?\d*|\.\d+)"
                           rb"(?=[ \t\r\n\x0c\x00\]]))*)[ \t\r\n\x0c\x00]*\]")
_RE_REF_TAIL = re.compile(
    rb"[ \t\r\n\x0c\x00]+(\d+)[ \t\r\n\x0c\x00]+R(?!" + _REGULAR_CLASS + rb")"
)
# One dictionary entry whose value is a leaf (a name, a reference, a number, true, false or
# null) read in one match: parsing key and value as two ``parse_object`` calls was most of the
# cost of reading a page or font dictionary. Any other value (a string, an array, a nested
# dictionary, a malformed token) leaves the value group empty and goes the general way, with
# the same result: the alternatives accept exactly what ``parse_object`` reads for them.
# Possessive (``*+``): a run of whitespace before a byte that fails the match is not
# re-split in every possible way (exponential backtracking).
_WS_OR_COMMENT = rb"(?:[ \t\r\n\x0c\x00]+|%[^\r\n]*)*+"
_NOT_REGULAR_NEXT = rb"(?!" + _REGULAR_CLASS + rb")"
_RE_DICT_ENTRY = re.compile(
    _WS_OR_COMMENT + rb"/(" + _REGULAR_CLASS + rb"*)" + _WS_OR_COMMENT
    + rb"(?:/(" + _REGULAR_CLASS + rb"*)"
    + rb"|(\d+)[ \t\r\n\x0c\x00]+(\d+)[ \t\r\n\x0c\x00]+R" + _NOT_REGULAR_NEXT
    + rb"|([+-]?\d+)" + _NOT_REGULAR_NEXT
    + rb"|([+-]?(?:\d+\.\d*|\.\d+))" + _NOT_REGULAR_NEXT
    + rb"|(true|false|null)" + _NOT_REGULAR_NEXT + rb")?"
)
_WORDS = {b"true": True, b"false": False, b"null": None}
_RE_NAME_ESC = re.compile(rb"#([0-9A-Fa-f]{2})")
_RE_LITERAL_SPECIAL = re.compile(rb"[()\\\r]")
_RE_OBJ_HDR = re.compile(
    rb"[ \t\r\n\x0c\x00]*(\d+)[ \t\r\n\x0c\x00]+(\d+)[ \t\r\n\x0c\x00]+obj(?!"
    + _REGULAR_CLASS
    + rb")"
)
_RE_OBJ_SCAN = re.compile(rb"(?<![0-9])(\d+)[ \t\r\n\x0c\x00]+(\d+)[ \t\r\n\x0c\x00]+obj\b")
_RE_XREF_SUBSECTION = re.compile(rb"[ \t\r\n\x0c\x00]*(\d+)[ \t]+(\d+)[ \t]*(?:\r\n|\r|\n)?")
_RE_XREF_ENTRY = re.compile(rb"[ \t\r\n\x0c\x00]*(\d{1,10})[ \t]+(\d{1,5})[ \t]+([nf])")
_RE_XREF_FAST = re.compile(rb"(\d{10}) (\d{5}) ([nf])(?: \r| \n|\r\n)")
_ESCAPES = {
    ord("n"): b"\n",
    ord("r"): b"\r",
    ord("t"): b"\t",
    ord("b"): b"\b",
    ord("f"): b"\f",
    ord("("): b"(",
    ord(")"): b")",
    ord("\\"): b"\\",
}

_MAX_DEPTH = 100


def _skip_ws(data: bytes, pos: int) -> int:
    return _RE_WS.match(data, pos).end()  # type: ignore[union-attr]


# The names met so far (a PDF uses a few dozen: Type, Page, Font, Filter…), each decoded
# once per process. Bounded: a file with a flood of distinct names only stops adding to it.
_NAMES: dict[bytes, Name] = {}
_NAMES_MAX = 4096
_NAME_CACHED_MAX = 127  # the longest name ISO 32000-1 (Annex C) expects a reader to take


def _decode_name(raw: bytes) -> Name:
    name = _NAMES.get(raw)
    if name is not None:
        return name
    text = raw
    if b"#" in text:
        text = _RE_NAME_ESC.sub(lambda m: bytes([int(m.group(1), 16)]), text)
    name = Name(text.decode("latin-1"))
    if len(raw) <= _NAME_CACHED_MAX and len(_NAMES) < _NAMES_MAX:
        _NAMES[raw] = name
    return name


def parse_object(data: bytes, pos: int, depth: int = 0) -> tuple[Any, int]:
    """Parse one direct object at ``pos``; return it and the position after it."""
    if depth > _MAX_DEPTH:
        raise MalformedPDF("objects nested too deeply")
    pos = _skip_ws(data, pos)
    if pos >= len(data):
        raise MalformedPDF("unexpected end of data")
    c = data[pos]
    if c == 0x2F:  # /
        m = _RE_REGULAR.match(data, pos + 1)
        if m is None:
            return Name(""), pos + 1
        return _decode_name(m.group()), m.end()
    if c == 0x3C:  # <
        if data[pos + 1 : pos + 2] == b"<":
            return _parse_dict(data, pos + 2, depth)
        return _parse_hex(data, pos + 1)
    if c == 0x28:  # (
        return _parse_literal(data, pos + 1)
    if c == 0x5B:  # [
        return _parse_array(data, pos + 1, depth)
    m = _RE_REGULAR.match(data, pos)
    if m is None:
        raise MalformedPDF(f"unexpected {chr(c)!r} at offset {pos}")
    tok = m.group()
    end = m.end()
    first = tok[0]
    if 0x30 <= first <= 0x39 or first in (0x2B, 0x2D, 0x2E):  # digit + - .
        if _RE_INT.fullmatch(tok):
            if 0x30 <= first <= 0x39:
                r = _RE_REF_TAIL.match(data, end)
                if r is not None:
                    return Ref(int(tok), int(r.group(1))), r.end()
            return int(tok), end
        try:
            return Real(tok), end
        except ValueError:
            raise MalformedPDF(f"bad number {tok!r} at offset {pos}") from None
    if tok == b"true":
        return True, end
    if tok == b"false":
        return False, end
    if tok == b"null":
        return None, end
    raise MalformedPDF(f"unexpected token {tok[:20]!r} at offset {pos}")


def _parse_dict(data: bytes, pos: int, depth: int) -> tuple[dict[str, Any], int]:
    out: dict[str, Any] = {}
    n = len(data)
    # At the nesting limit the general path raises "nested too deeply" for any entry.
    entry = _RE_DICT_ENTRY.match if depth < _MAX_DEPTH else None
    while True:
        m = entry(data, pos) if entry is not None else None
        if m is not None:
            key, name, num, gen, integer, real, word = m.groups()
            pos = m.end()
            if name is not None:
                out[_decode_name(key)] = _decode_name(name)
            elif num is not None:
                out[_decode_name(key)] = Ref(int(num), int(gen))
            elif integer is not None:
                out[_decode_name(key)] = int(integer)
            elif real is not None:
                out[_decode_name(key)] = Real(real)
            elif word is not None:
                out[_decode_name(key)] = _WORDS[word]
            else:  # a string, an array, a dictionary…
                out[_decode_name(key)], pos = parse_object(data, pos, depth + 1)
            continue
        pos = _skip_ws(data, pos)
        if pos >= n:
            raise MalformedPDF("unterminated dictionary")
        if data[pos] == 0x3E:  # >
            if data[pos + 1 : pos + 2] != b">":
                raise MalformedPDF(f"bad dictionary end at offset {pos}")
            return out, pos + 2
        key, pos = parse_object(data, pos, depth + 1)
        if not isinstance(key, Name):
            raise MalformedPDF(f"dictionary key is not a name at offset {pos}")
        value, pos = parse_object(data, pos, depth + 1)
        out[key] = value


def _parse_array(data: bytes, pos: int, depth: int) -> tuple[list[Any], int]:
    fast = _RE_NUM_ARRAY.match(data, pos)
    if fast is not None:
        return [Real(t) if b"." in t else int(t) for t in _RE_NUMBER.findall(fast.group(1))], \
            fast.end()
    out: list[Any] = []
    n = len(data)
    while True:
        pos = _skip_ws(data, pos)
        if pos >= n:
            raise MalformedPDF("unterminated array")
        if data[pos] == 0x5D:  # ]
            return out, pos + 1
        value, pos = parse_object(data, pos, depth + 1)
        out.append(value)


def _parse_hex(data: bytes, pos: int) -> tuple[PDFString, int]:
    end = data.find(b">", pos)
    if end < 0:
        raise MalformedPDF("unterminated hexadecimal string")
    raw = data[pos:end]
    try:
        value = bytes.fromhex(raw.decode("latin-1"))
    except ValueError:
        cleaned = re.sub(rb"[ \t\r\n\x0c\x00]", b"", raw)
        if not re.fullmatch(rb"[0-9A-Fa-f]*", cleaned):
            raise MalformedPDF(f"bad hexadecimal string at offset {pos}") from None
        if len(cleaned) % 2:
            cleaned += b"0"
        value = bytes.fromhex(cleaned.decode("ascii"))
    return PDFString(value, hex=True), end + 1


def _parse_literal(data: bytes, pos: int) -> tuple[PDFString, int]:
    out = bytearray()
    depth = 1
    n = len(data)
    while True:
        m = _RE_LITERAL_SPECIAL.search(data, pos)
        if m is None:
            raise MalformedPDF("unterminated literal string")
        i = m.start()
        out += data[pos:i]
        c = data[i]
        if c == 0x28:
            depth += 1
            out.append(c)
            pos = i + 1
        elif c == 0x29:
            depth -= 1
            if depth == 0:
                return PDFString(bytes(out)), i + 1
            out.append(c)
            pos = i + 1
        elif c == 0x0D:  # an end of line in a string reads as \n
            out += b"\n"
            pos = i + 2 if data[i + 1 : i + 2] == b"\n" else i + 1
        else:  # backslash
            if i + 1 >= n:
                raise MalformedPDF("unterminated literal string")
            e = data[i + 1]
            if e in _ESCAPES:
                out += _ESCAPES[e]
                pos = i + 2
            elif 0x30 <= e <= 0x37:
                j = i + 1
                while j < i + 4 and j < n and 0x30 <= data[j] <= 0x37:
                    j += 1
                out.append(int(data[i + 1 : j], 8) & 0xFF)
                pos = j
            elif e == 0x0D:
                pos = i + 3 if data[i + 2 : i + 3] == b"\n" else i + 2
            elif e == 0x0A:
                pos = i + 2
            else:
                out.append(e)
                pos = i + 2


# ---------------------------------------------------------------------------- serialiser


def _fmt_real(v: float) -> bytes:
    if v == int(v) and abs(v) < 1e15:
        return b"%d" % int(v)
    s = (b"%.6f" % v).rstrip(b"0").rstrip(b".")
    return s if s not in (b"-0", b"") else b"0"


_NAME_SAFE = frozenset(range(0x21, 0x7F)) - frozenset(b"()<>[]{}/%#")


def _dump_name(name: str) -> bytes:
    raw = name.encode("latin-1")
    if all(b in _NAME_SAFE for b in raw):
        return b"/" + raw
    return b"/" + b"".join(bytes([b]) if b in _NAME_SAFE else b"#%02X" % b for b in raw)


def _dump_string(value: bytes, as_hex: bool) -> bytes:
    if as_hex:
        return b"<" + value.hex().encode("ascii") + b">"
    escaped = (
        value.replace(b"\\", b"\\\\")
        .replace(b"(", b"\\(")
        .replace(b")", b"\\)")
        .replace(b"\r", b"\\r")
    )
    return b"(" + escaped + b")"


def dumps(obj: Any) -> bytes:
    """Serialise a direct object (a :class:`Stream` gets ``/Length`` of its raw data)."""
    if obj is None:
        return b"null"
    if obj is True:
        return b"true"
    if obj is False:
        return b"false"
    if isinstance(obj, Name):
        return _dump_name(obj)
    if isinstance(obj, Ref):
        return b"%d %d R" % (obj.num, obj.gen)
    if isinstance(obj, Real):
        return obj.src
    if isinstance(obj, int):
        return b"%d" % obj
    if isinstance(obj, float):
        return _fmt_real(obj)
    if isinstance(obj, PDFString):
        return _dump_string(bytes(obj), obj.hex)
    if isinstance(obj, (bytes, bytearray)):
        return _dump_string(bytes(obj), False)
    if isinstance(obj, str):
        return _dump_name(obj)
    if isinstance(obj, dict):
        return b"<<" + b"".join(_dump_name(k) + b" " + dumps(v) for k, v in obj.items()) + b">>"
    if isinstance(obj, (list, tuple)):
        return b"[" + b" ".join(dumps(v) for v in obj) + b"]"
    if isinstance(obj, Stream):
        d = dict(obj.dict)
        d[Name("Length")] = len(obj.raw)
        return dumps(d) + b"\nstream\n" + obj.raw + b"\nendstream"
    raise TypeError(f"cannot serialise {type(obj).__name__}")


# ------------------------------------------------------------------------- stream filters


def _png_unpredict(data: bytes, columns: int, colors: int, bpc: int) -> bytes:
    bpp = max(1, colors * bpc // 8)
    row_len = (columns * colors * bpc + 7) // 8
    out = bytearray()
    prev = bytearray(row_len)
    stride = row_len + 1
    for start in range(0, len(data) - row_len, stride):
        ftype = data[start]
        row = bytearray(data[start + 1 : start + stride])
        if ftype == 1:
            for i in range(bpp, row_len):
                row[i] = (row[i] + row[i - bpp]) & 0xFF
        elif ftype == 2:
            for i in range(row_len):
                row[i] = (row[i] + prev[i]) & 0xFF
        elif ftype == 3:
            for i in range(row_len):
                left = row[i - bpp] if i >= bpp else 0
                row[i] = (row[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif ftype == 4:
            for i in range(row_len):
                a = row[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if (pa <= pb and pa <= pc) else (b if pb <= pc else c)
                row[i] = (row[i] + pred) & 0xFF
        elif ftype != 0:
            raise MalformedPDF(f"bad PNG predictor row type {ftype}")
        out += row
        prev = row
    return bytes(out)


def _inflate(raw: bytes) -> bytes:
    try:
        return zlib.decompress(raw)
    except zlib.error:
        try:  # truncated or trailing garbage: take what decodes
            return zlib.decompressobj().decompress(raw)
        except zlib.error as exc:
            raise MalformedPDF(f"bad Flate stream: {exc}") from exc


def decode_stream(stream: Stream, resolve: Any = None) -> bytes:
    """Decoded stream data. Only FlateDecode (with PNG/TIFF-less predictors) is supported."""

    def r(v: Any) -> Any:
        return resolve(v) if resolve is not None else v

    filters = r(stream.dict.get("Filter"))
    params = r(stream.dict.get("DecodeParms"))
    if filters is None:
        return stream.raw
    if not isinstance(filters, list):
        filters = [filters]
        params = [params]
    elif not isinstance(params, list):
        params = [params] * len(filters)
    data = stream.raw
    for f, p in zip(filters, params, strict=False):
        f = r(f)
        p = r(p) or {}
        if f not in ("FlateDecode", "Fl"):
            raise UnsupportedPDF(f"stream filter {f} is not supported")
        data = _inflate(data)
        predictor = r(p.get("Predictor", 1)) if isinstance(p, dict) else 1
        if predictor and predictor >= 10:
            data = _png_unpredict(
                data,
                int(r(p.get("Columns", 1))),
                int(r(p.get("Colors", 1))),
                int(r(p.get("BitsPerComponent", 8))),
            )
        elif predictor not in (None, 1):
            raise UnsupportedPDF(f"predictor {predictor} is not supported")
    return data


# --------------------------------------------------------------------------------- reader


@dataclass
class XrefSection:
    """One cross-reference section (the original file or one incremental update)."""

    offset: int  # where the section (``xref`` or the xref stream object) starts
    kind: str  # "table" | "stream"
    entries: dict[int, tuple[Any, ...]]  # num -> ("n", offset, gen) | ("c", stm, idx) | ("f",)
    trailer: dict[str, Any]
    eof_end: int = 0  # end of the ``%%EOF`` line that closes this section


@dataclass
class Revision:
    """A document revision: the sections written in one update, oldest first in the list."""

    index: int
    sections: list[XrefSection]
    end: int  # file offset just after this revision's ``%%EOF`` (and its end-of-line)
    start: int  # first byte of this revision's update (0 for the original)
    entries: dict[int, tuple[Any, ...]] = field(default_factory=dict)

    @property
    def trailer(self) -> dict[str, Any]:
        return self.sections[-1].trailer


class PDFReader:
    """Read access to a PDF held in memory (bytes). See the module docstring."""

    def __init__(self, data: bytes) -> None:
        if not isinstance(data, bytes):
            data = bytes(data)
        self.data = data
        self.repaired = False
        self._cache: dict[Any, Any] = {}
        self._objstm_cache: dict[Any, tuple[bytes, list[tuple[int, int]], int]] = {}
        self._xrefs: dict[int, dict[int, tuple[Any, ...]]] = {}
        head = data[:1024]
        if b"%PDF-" not in head:
            raise MalformedPDF("not a PDF file (no %PDF- header)")
        self.header_offset = head.find(b"%PDF-")
        try:
            sections = self._load_sections()
        except (MalformedPDF, ValueError, IndexError, KeyError, TypeError) as exc:
            sections = self._reconstruct(exc)
        self.sections = sections  # oldest first
        self.revisions = self._group_revisions(sections)
        self.xref: dict[int, tuple[Any, ...]] = {}
        for sec in sections:
            self.xref.update(sec.entries)
        self.trailer: dict[str, Any] = sections[-1].trailer
        if "Encrypt" in self.trailer:
            raise UnsupportedPDF("encrypted PDF documents are not supported")

    # ---- cross-reference sections

    def _startxref(self) -> int:
        tail_at = max(0, len(self.data) - 4096)
        pos = self.data.rfind(b"startxref", tail_at)
        if pos < 0:
            raise MalformedPDF("no startxref")
        m = re.compile(rb"startxref[ \t\r\n\x0c\x00]+(\d+)").match(self.data, pos)
        if m is None:
            raise MalformedPDF("bad startxref")
        return int(m.group(1)) + self.header_offset

    def _load_sections(self) -> list[XrefSection]:
        out: list[XrefSection] = []
        seen: set[int] = set()
        off: int | None = self._startxref()
        while off is not None:
            if off in seen or len(seen) > 10000:
                break
            seen.add(off)
            sec = self._read_section(off)
            out.append(sec)
            prev = sec.trailer.get("Prev")
            off = prev + self.header_offset if isinstance(prev, int) and prev >= 0 else None
        out.reverse()
        return out

    def _read_section(self, off: int) -> XrefSection:
        data = self.data
        if off >= len(data):
            raise MalformedPDF("cross-reference offset beyond end of file")
        pos = _skip_ws(data, off)
        if data.startswith(b"xref", pos):
            entries, trailer = self._read_table(pos + 4)
            sec = XrefSection(pos, "table", entries, trailer)
            stm = trailer.get("XRefStm")
            if isinstance(stm, int):  # hybrid file: the stream adds compressed objects
                hidden = self._read_section(stm + self.header_offset)
                for num, e in hidden.entries.items():
                    if entries.get(num, ("f",))[0] == "f":
                        entries[num] = e
        else:
            entries, trailer = self._read_xref_stream(pos)
            sec = XrefSection(pos, "stream", entries, trailer)
        eof = data.find(b"%%EOF", pos)
        if eof < 0:
            sec.eof_end = len(data)
        else:
            end = eof + 5
            if data[end : end + 2] == b"\r\n":
                end += 2
            elif data[end : end + 1] in (b"\r", b"\n"):
                end += 1
            sec.eof_end = end
        return sec

    def _read_table(self, pos: int) -> tuple[dict[int, tuple[Any, ...]], dict[str, Any]]:
        data = self.data
        entries: dict[int, tuple[Any, ...]] = {}
        hdr = self.header_offset
        while True:
            pos = _skip_ws(data, pos)
            if data.startswith(b"trailer", pos):
                trailer, _ = parse_object(data, pos + 7)
                if not isinstance(trailer, dict):
                    raise MalformedPDF("trailer is not a dictionary")
                return entries, trailer
            m = _RE_XREF_SUBSECTION.match(data, pos)
            if m is None:
                raise MalformedPDF(f"bad cross-reference table at offset {pos}")
            start, count = int(m.group(1)), int(m.group(2))
            pos = m.end()
            block = data[pos : pos + 20 * count]
            fast = _RE_XREF_FAST.findall(block) if count else []
            if len(fast) == count:
                for i, (o, g, k) in enumerate(fast):
                    entries[start + i] = ("n", int(o) + hdr, int(g)) if k == b"n" else ("f",)
                pos += 20 * count
                continue
            for i in range(count):
                e = _RE_XREF_ENTRY.match(data, pos)
                if e is None:
                    raise MalformedPDF(f"bad cross-reference entry at offset {pos}")
                pos = e.end()
                if e.group(3) == b"n":
                    entries[start + i] = ("n", int(e.group(1)) + hdr, int(e.group(2)))
                else:
                    entries[start + i] = ("f",)

    def _read_xref_stream(self, pos: int) -> tuple[dict[int, tuple[Any, ...]], dict[str, Any]]:
        _num, _gen, obj, _end = self._read_indirect_at(pos)
        if not isinstance(obj, Stream) or obj.dict.get("Type") != "XRef":
            raise MalformedPDF(f"no cross-reference stream at offset {pos}")
        d = obj.dict
        data = decode_stream(obj)
        w = d.get("W")
        if not (isinstance(w, list) and len(w) == 3 and all(isinstance(x, int) for x in w)):
            raise MalformedPDF("bad /W in cross-reference stream")
        size = d.get("Size")
        index = d.get("Index", [0, size])
        if not isinstance(index, list) or len(index) % 2:
            raise MalformedPDF("bad /Index in cross-reference stream")
        w1, w2, w3 = w
        row = w1 + w2 + w3
        entries: dict[int, tuple[Any, ...]] = {}
        p = 0
        hdr = self.header_offset
        for k in range(0, len(index), 2):
            start, count = index[k], index[k + 1]
            for i in range(count):
                if p + row > len(data):
                    raise MalformedPDF("cross-reference stream too short")
                t = int.from_bytes(data[p : p + w1], "big") if w1 else 1
                f2 = int.from_bytes(data[p + w1 : p + w1 + w2], "big")
                f3 = int.from_bytes(data[p + w1 + w2 : p + row], "big")
                p += row
                if t == 1:
                    entries[start + i] = ("n", f2 + hdr, f3)
                elif t == 2:
                    entries[start + i] = ("c", f2, f3)
                else:
                    entries[start + i] = ("f",)
        trailer = {k: v for k, v in d.items() if k not in ("Length", "Filter", "DecodeParms")}
        return entries, trailer

    def _reconstruct(self, cause: Exception) -> list[XrefSection]:
        """Rebuild a cross-reference table by scanning for ``n g obj`` (damaged files)."""
        self.repaired = True
        data = self.data
        entries: dict[int, tuple[Any, ...]] = {}
        for m in _RE_OBJ_SCAN.finditer(data):
            entries[int(m.group(1))] = ("n", m.start(), int(m.group(2)))
        trailer: dict[str, Any] = {}
        pos = 0
        while True:
            pos = data.find(b"trailer", pos)
            if pos < 0:
                break
            try:
                t, _ = parse_object(data, pos + 7)
                if isinstance(t, dict):
                    trailer.update(t)
            except MalformedPDF:
                pass
            pos += 7
        if "Root" not in trailer:  # xref streams carry the trailer keys
            for num, (_k, off, _g) in sorted(entries.items()):
                try:
                    _n, _g2, obj, _e = self._read_indirect_at(off)
                except MalformedPDF:
                    continue
                if isinstance(obj, dict) and obj.get("Type") == "Catalog":
                    trailer["Root"] = Ref(num, 0)
        if not entries or "Root" not in trailer:
            raise MalformedPDF(f"cannot read the PDF structure: {cause}") from cause
        return [XrefSection(0, "reconstructed", entries, trailer, len(data))]

    def _group_revisions(self, sections: list[XrefSection]) -> list[Revision]:
        revisions: list[Revision] = []
        end = 0
        for sec in sections:
            # Linearized files: the first-page section precedes the main one in the file but
            # follows it in the /Prev chain; both belong to the original revision.
            sec_end = max(end, sec.eof_end)
            if revisions and sec_end == revisions[-1].end:
                revisions[-1].sections.append(sec)
                revisions[-1].entries.update(sec.entries)
                continue
            revisions.append(Revision(len(revisions), [sec], sec_end, end, dict(sec.entries)))
            end = sec_end
        return revisions

    # ---- objects

    def _read_indirect_at(self, offset: int) -> tuple[int, int, Any, int]:
        data = self.data
        m = _RE_OBJ_HDR.match(data, offset)
        if m is None:
            raise MalformedPDF(f"no object at offset {offset}")
        num, gen = int(m.group(1)), int(m.group(2))
        obj, pos = parse_object(data, m.end())
        pos = _skip_ws(data, pos)
        if isinstance(obj, dict) and data.startswith(b"stream", pos):
            start = pos + 6
            if data[start : start + 2] == b"\r\n":
                start += 2
            elif data[start : start + 1] in (b"\n", b"\r"):
                start += 1
            length = obj.get("Length")
            if isinstance(length, Ref):
                length = self._length_of(length)
            end = None
            if isinstance(length, int) and 0 <= length <= len(data) - start:
                after = _skip_ws(data, start + length)
                if data.startswith(b"endstream", after):
                    end = start + length
                    pos = after + 9
            if end is None:  # wrong /Length: find endstream
                k = data.find(b"endstream", start)
                if k < 0:
                    raise MalformedPDF(f"unterminated stream in object {num}")
                end = k
                if data[end - 2 : end] == b"\r\n":
                    end -= 2
                elif data[end - 1 : end] in (b"\n", b"\r"):
                    end -= 1
                pos = k + 9
            obj = Stream(obj, data[start:end])
        return num, gen, obj, pos

    def _length_of(self, ref: Ref) -> int | None:
        try:
            v = self.get(ref)
        except (MalformedPDF, RecursionError):
            return None
        return v if isinstance(v, int) else None

    def _map(self, rev: int | None) -> dict[int, tuple[Any, ...]]:
        if rev is None or rev >= len(self.revisions) - 1:
            return self.xref
        got = self._xrefs.get(rev)
        if got is None:
            got = {}
            for r in self.revisions[: rev + 1]:
                got.update(r.entries)
            self._xrefs[rev] = got
        return got

    def entry(self, num: int, rev: int | None = None) -> tuple[Any, ...]:
        return self._map(rev).get(num, ("f",))

    def get(self, ref: Ref | int, rev: int | None = None) -> Any:
        """The object ``ref`` points to as of revision ``rev`` (default: the newest);
        ``None`` for free or missing objects, as ISO 32000-1 §7.3.10 says."""
        num = ref.num if isinstance(ref, Ref) else int(ref)
        e = self.entry(num, rev)
        if e in self._cache:
            return self._cache[e]
        if e[0] == "n":
            got_num, _gen, obj, _end = self._read_indirect_at(e[1])
            if got_num != num:
                raise MalformedPDF(f"object {num} expected at offset {e[1]}, found {got_num}")
        elif e[0] == "c":
            obj = self._from_objstm(e[1], e[2], num, rev)
        else:
            obj = None
        self._cache[e] = obj
        return obj

    def _from_objstm(self, stm_num: int, index: int, num: int, rev: int | None) -> Any:
        e = self.entry(stm_num, rev)
        if e not in self._objstm_cache:
            if e[0] != "n":
                raise MalformedPDF(f"object stream {stm_num} missing")
            _n, _g, stm, _end = self._read_indirect_at(e[1])
            if not isinstance(stm, Stream) or stm.dict.get("Type") != "ObjStm":
                raise MalformedPDF(f"object {stm_num} is not an object stream")
            data = decode_stream(stm, self.resolve)
            n = self.resolve(stm.dict.get("N", 0))
            first = self.resolve(stm.dict.get("First", 0))
            if not isinstance(n, int) or not isinstance(first, int):
                raise MalformedPDF(f"bad object stream {stm_num}")
            nums: list[tuple[int, int]] = []
            pos = 0
            for _ in range(n):
                a, pos = parse_object(data, pos)
                b, pos = parse_object(data, pos)
                if not isinstance(a, int) or not isinstance(b, int):
                    raise MalformedPDF(f"bad object stream {stm_num}")
                nums.append((a, b))
            self._objstm_cache[e] = (data, nums, first)
        data, nums, first = self._objstm_cache[e]
        if index >= len(nums) or nums[index][0] != num:
            raise MalformedPDF(f"object {num} not in object stream {stm_num}")
        obj, _ = parse_object(data, first + nums[index][1])
        return obj

    def resolve(self, obj: Any, rev: int | None = None) -> Any:
        """Follow references until a direct object."""
        for _ in range(32):
            if not isinstance(obj, Ref):
                return obj
            obj = self.get(obj, rev)
        raise MalformedPDF("reference chain too long")

    # ---- document structure

    def trailer_at(self, rev: int | None = None) -> dict[str, Any]:
        return self.trailer if rev is None else self.revisions[rev].trailer

    def catalog(self, rev: int | None = None) -> dict[str, Any]:
        root = self.resolve(self.trailer_at(rev).get("Root"), rev)
        if not isinstance(root, dict):
            raise MalformedPDF("no document catalog")
        return root

    def pages(self, rev: int | None = None) -> list[tuple[Ref, dict[str, Any]]]:
        """(reference, dictionary) of every page, in order."""
        root = self.catalog(rev)
        out: list[tuple[Ref, dict[str, Any]]] = []
        seen: set[Ref] = set()

        def walk(ref: Any, depth: int) -> None:
            if depth > 64 or not isinstance(ref, Ref) or ref in seen:
                return
            seen.add(ref)
            node = self.get(ref, rev)
            if not isinstance(node, dict):
                return
            kids = self.resolve(node.get("Kids"), rev)
            if node.get("Type") == "Pages" or (isinstance(kids, list) and "Type" not in node):
                for kid in kids or []:
                    walk(kid, depth + 1)
            else:
                out.append((ref, node))

        walk(root.get("Pages"), 0)
        return out

    def inherited(self, page: dict[str, Any], key: str, rev: int | None = None) -> Any:
        """A page attribute, looked up the page tree (MediaBox, Rotate, Resources…)."""
        node: Any = page
        for _ in range(64):
            if not isinstance(node, dict):
                return None
            if key in node:
                return self.resolve(node[key], rev)
            node = self.resolve(node.get("Parent"), rev)
        return None

    def iter_fields(
        self, rev: int | None = None
    ) -> Iterator[tuple[Ref | None, dict[str, Any], str]]:
        """(reference, dictionary, fully qualified name) of every terminal form field."""
        root = self.catalog(rev)
        acro = self.resolve(root.get("AcroForm"), rev)
        if not isinstance(acro, dict):
            return
        fields = self.resolve(acro.get("Fields"), rev)
        if not isinstance(fields, list):
            return
        seen: set[Ref] = set()
        stack: list[tuple[Any, str, Any]] = [(f, "", None) for f in reversed(fields)]
        while stack:
            ref, prefix, inherited_ft = stack.pop()
            if isinstance(ref, Ref):
                if ref in seen:
                    continue
                seen.add(ref)
            node = self.resolve(ref, rev)
            if not isinstance(node, dict):
                continue
            t = self.resolve(node.get("T"), rev)
            part = _text(t) if isinstance(t, bytes) else ""
            name = f"{prefix}.{part}" if prefix and part else (part or prefix)
            ft = node.get("FT", inherited_ft)
            kids = self.resolve(node.get("Kids"), rev)
            field_kids = []
            if isinstance(kids, list):
                for k in kids:
                    kd = self.resolve(k, rev)
                    if isinstance(kd, dict) and ("T" in kd or "FT" in kd or "Kids" in kd):
                        field_kids.append(k)
            if field_kids:
                for k in reversed(field_kids):
                    stack.append((k, name, ft))
            else:
                node = dict(node)
                if ft is not None:
                    node.setdefault("FT", ft)
                yield (ref if isinstance(ref, Ref) else None), node, name


def _text(value: bytes) -> str:
    """A PDF text string (UTF-16BE with BOM, UTF-8 with BOM, or PDFDocEncoding≈latin-1)."""
    if value.startswith(b"\xfe\xff"):
        return value[2:].decode("utf-16-be", "replace")
    if value.startswith(b"\xef\xbb\xbf"):
        return value[3:].decode("utf-8", "replace")
    return value.decode("latin-1")


def text_string(value: str) -> PDFString:
    """Encode a text string: PDFDocEncoding-compatible ASCII as is, otherwise UTF-16BE+BOM."""
    try:
        return PDFString(value.encode("ascii"))
    except UnicodeEncodeError:
        return PDFString(b"\xfe\xff" + value.encode("utf-16-be"), hex=True)


def decode_text(value: Any) -> str:
    return _text(bytes(value)) if isinstance(value, bytes) else ""
