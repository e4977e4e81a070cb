"""The text a PDF's pages show, fast, for the GB/T 9704 element check of the verification
report (发文字号, 标题, 成文日期, 署名 present on the pages).

The general extractor (pypdf's ``extract_text``) costs ~10–25 ms for a one-page notice; the
verification runs it for every received file. This reader does only what that check needs,
on our own object layer (:mod:`.cos`): the text-showing operators (``Tj``, ``TJ``, ``'``,
``"``) of each page's content streams, in stream order, each string decoded through the
ToUnicode map of the font set by ``Tf``. That is exactly what the platform's PDF writer
produces (one ``TJ`` per run, embedded subsets with ToUnicode maps), and what most
producers of CJK PDFs do.

Anything it does not handle — a font without a ToUnicode map, codes of mixed lengths, form
XObjects or inline images carrying text, a damaged stream — makes :func:`page_text` return
``None``, and the caller falls back to the general extractor: never a wrong answer, only a
slower one. Pure: no Django.
"""

from __future__ import annotations

import re
from typing import Any

from .cos import Name, PDFReader, PDFString, Ref, Stream, decode_stream, parse_object
from .errors import MalformedPDF, UnsupportedPDF

__all__ = ["page_text"]


class _Unsupported(Exception):
    """Something this reader does not handle: use the general extractor."""


# One token of a content stream that matters for its text, with the whitespace, comments
# and numbers before it skipped: a name, a string or an array start (parsed by
# ``cos.parse_object``), an operator, or a closing delimiter. Numbers are operands of
# positioning, colour and width operators; the text operators take a name (``Tf``) or a
# string or array (``Tj``, ``TJ``, ``'``, ``"``: the last operand), so they are not kept.
_SKIP = rb"[\x00\t\n\x0c\r ]*(?:%[^\r\n]*[\r\n]?[\x00\t\n\x0c\r ]*)*"
# A number is taken whole (the look-ahead) and the run of numbers without backtracking
# (``*+``): a long run of digits followed by a stray byte fails in linear time.
_NUMBER = rb"[+\-]?(?:\d+\.?\d*|\.\d+)(?![\d.])"
_NUMBERS = rb"(?:" + _NUMBER + _SKIP + rb")*+"
_TOKEN = re.compile(_SKIP + _NUMBERS +
                    rb"(?:([/(<\[])|([A-Za-z'\"*][A-Za-z0-9'\"*]*)|([\])>{}]))")
_END = re.compile(_SKIP + _NUMBERS + rb"\Z")  # the stream ends with numbers, or nothing
# A TJ array of hexadecimal strings and numbers (what our writer emits), read in one match
# instead of one ``parse_object`` per element; anything else goes through ``parse_object``.
_WS = rb"[\x00\t\n\x0c\r ]*"
_HEX_ARRAY = re.compile(rb"\[((?:" + _WS + rb"(?:<[0-9A-Fa-f\x00\t\n\x0c\r ]*>"
                        rb"|[+\-]?(?:\d+\.?\d*|\.\d+)))*)" + _WS + rb"\]")
_HEX_ITEM = re.compile(rb"<([0-9A-Fa-f\x00\t\n\x0c\r ]*)>")
_SHOW = {b"TJ", b"Tj", b"'", b'"'}
_TEXT_FREE_XOBJECT = {"Image"}


def page_text(data: bytes) -> str | None:
    """The text of every page in content-stream order, or ``None`` when the file needs the
    general extractor (see the module docstring)."""
    try:
        reader = PDFReader(data)
        cmaps: dict[Any, dict[bytes, str] | None] = {}
        out = []
        for _ref, page in reader.pages():
            resources = reader.inherited(page, "Resources") or {}
            fonts = reader.resolve(resources.get("Font")) or {}
            _refuse_text_xobjects(reader, resources)
            out.append(_show(_contents(reader, page), fonts, reader, cmaps))
        return "".join(out)
    except (_Unsupported, MalformedPDF, UnsupportedPDF, KeyError, TypeError, ValueError,
            IndexError, AttributeError, RecursionError, UnicodeDecodeError):
        return None


def _contents(reader: PDFReader, page: dict[str, Any]) -> bytes:
    contents = reader.resolve(page.get("Contents"))
    parts = contents if isinstance(contents, list) else [contents] if contents else []
    chunks = []
    for part in parts:
        stream = reader.resolve(part)
        if not isinstance(stream, Stream):
            raise _Unsupported("content is not a stream")
        chunks.append(decode_stream(stream, reader.resolve))
    return b"\n".join(chunks)


def _refuse_text_xobjects(reader: PDFReader, resources: dict[str, Any]) -> None:
    """Form XObjects may show text of their own: not read here."""
    xobjects = reader.resolve(resources.get("XObject")) or {}
    for ref in xobjects.values():
        obj = reader.resolve(ref)
        subtype = obj.get("Subtype") if isinstance(obj, (Stream, dict)) else None
        if subtype not in _TEXT_FREE_XOBJECT:
            raise _Unsupported("form XObject")


def _show(content: bytes, fonts: dict[str, Any], reader: PDFReader,
          cmaps: dict[Any, dict[bytes, str] | None]) -> str:
    out: list[str] = []
    operands: list[Any] = []
    cmap: dict[bytes, str] | None = None
    width = 1
    pos, n = 0, len(content)
    while pos < n:
        m = _TOKEN.match(content, pos)
        if m is None:
            if _END.match(content, pos):
                break
            raise _Unsupported(f"unexpected byte at {pos}")
        opener, operator, closer = m.groups()
        if opener is not None:
            start = m.start(1)
            fast = _HEX_ARRAY.match(content, start) if opener == b"[" else None
            if fast is not None:
                operands.append(_shown_codes(fast.group(1)))
                pos = fast.end()
                continue
            value, pos = parse_object(content, start)
            operands.append(value)
            continue
        pos = m.end()
        if operator is not None:
            if operator == b"Tf":
                if not operands:  # a size without a font name: which font is unknown
                    raise _Unsupported("Tf without a font name")
                cmap, width = _font_map(reader, fonts, operands[0], cmaps)
            elif operator in _SHOW and operands:
                if cmap is None:
                    raise _Unsupported("text shown before a font is set")
                shown = operands[-1]
                if isinstance(shown, _Codes):
                    out.extend(_decode(item, cmap, width) for item in shown)
                else:
                    for item in shown if isinstance(shown, list) else [shown]:
                        if isinstance(item, PDFString):
                            out.append(_decode(bytes(item), cmap, width))
            elif operator in (b"BI", b"ID"):
                raise _Unsupported("inline image")
            operands.clear()
        elif closer is not None:
            raise _Unsupported("unbalanced delimiter")
    return "".join(out)


class _Codes(list):
    """The strings of a ``TJ`` array of hexadecimal strings (its numbers dropped), as bytes."""


_EVEN_HEX = re.compile(rb"(?:[0-9A-Fa-f]{2})*")


def _shown_codes(body: bytes) -> _Codes:
    """The hexadecimal strings of a ``TJ`` array matched by ``_HEX_ARRAY``: the digits of
    all of them decoded at once when each is plain (no whitespace, even length: what our
    writer emits), else one by one."""
    items = _HEX_ITEM.findall(body)
    if not all(_EVEN_HEX.fullmatch(h) for h in items):
        return _Codes(_hex(h) for h in items)
    codes = bytes.fromhex(b"".join(items).decode("ascii"))
    out, at = _Codes(), 0
    for h in items:
        end = at + len(h) // 2
        out.append(codes[at:end])
        at = end
    return out


def _decode(codes: bytes, cmap: dict[bytes, str], width: int) -> str:
    if len(codes) % width:
        raise _Unsupported("string length does not fit the code space")
    try:
        return "".join(cmap[codes[i:i + width]] for i in range(0, len(codes), width))
    except KeyError:
        raise _Unsupported("code without a Unicode mapping") from None


def _font_map(reader: PDFReader, fonts: dict[str, Any], name: Any,
              cmaps: dict[Any, dict[bytes, str] | None]) -> tuple[dict[bytes, str], int]:
    if not isinstance(name, Name) or name not in fonts:
        raise _Unsupported("unknown font")
    ref = fonts[name]
    key = ref if isinstance(ref, Ref) else id(ref)
    if key not in cmaps:
        font = reader.resolve(ref)
        to_unicode = reader.resolve(font.get("ToUnicode")) if isinstance(font, dict) else None
        if not isinstance(to_unicode, Stream) or font.get("Subtype") == "Type3":
            cmaps[key] = None
        else:
            cmaps[key] = _parse_cmap(decode_stream(to_unicode, reader.resolve))
    found = cmaps[key]
    if not found:
        raise _Unsupported("font without a ToUnicode map")
    width = len(next(iter(found)))
    return found, width


_HEX = rb"<([0-9A-Fa-f\s]*)>"
_CODESPACE = re.compile(rb"begincodespacerange(.*?)endcodespacerange", re.S)
_BFCHAR = re.compile(rb"beginbfchar(.*?)endbfchar", re.S)
_BFRANGE = re.compile(rb"beginbfrange(.*?)endbfrange", re.S)
_PAIR = re.compile(_HEX + rb"\s*" + _HEX)
_RANGE = re.compile(_HEX + rb"\s*" + _HEX + rb"\s*(?:" + _HEX + rb"|\[([^\]]*)\])")


def _hex(raw: bytes) -> bytes:
    try:
        return bytes.fromhex(raw.decode("ascii"))  # skips whitespace
    except ValueError:  # an odd number of digits: the last one is followed by 0 (7.3.4.3)
        digits = re.sub(rb"\s", b"", raw)
        return bytes.fromhex((digits + b"0" * (len(digits) % 2)).decode("ascii"))


def _unicode(raw: bytes) -> str:
    return _hex(raw).decode("utf-16-be")


_PLAIN_HEX = re.compile(rb"[0-9A-Fa-f]+")


def _bfchars(pairs: list[tuple[bytes, bytes]]) -> dict[bytes, str]:
    """The (code, text) entries of a ``bfchar`` block. The common shape — every code of one
    even length, every text one UTF-16 unit, no whitespace inside the brackets (what our
    writer and most producers emit) — is decoded with one ``bytes.fromhex`` for all codes
    and one for all texts; anything else entry by entry, with the same result."""
    if not pairs:
        return {}
    srcs, dsts = zip(*pairs, strict=True)
    size, count = len(srcs[0]), len(srcs)
    if size % 2 == 0 and len(set(map(len, srcs))) == 1 and len(set(map(len, dsts))) == 1 \
            and len(dsts[0]) == 4:
        codes, units = b"".join(srcs), b"".join(dsts)
        if _PLAIN_HEX.fullmatch(codes) and _PLAIN_HEX.fullmatch(units):
            try:
                texts = bytes.fromhex(units.decode("ascii")).decode("utf-16-be")
            except UnicodeDecodeError:
                texts = ""  # a lone surrogate: the entry by entry reading refuses it too
            if len(texts) == count:  # else a surrogate pair spans two entries
                raw, width = bytes.fromhex(codes.decode("ascii")), size // 2
                keys = [raw[i:i + width] for i in range(0, len(raw), width)]
                return dict(zip(keys, texts, strict=True))
    return {_hex(src): _unicode(dst) for src, dst in pairs}


def _parse_cmap(data: bytes) -> dict[bytes, str]:
    """A ToUnicode CMap (bfchar and bfrange entries) for one code length; a CMap with codes
    of several lengths is not handled (the caller falls back)."""
    widths = {len(_hex(lo)) for block in _CODESPACE.findall(data)
              for lo, _hi in _PAIR.findall(block)}
    out: dict[bytes, str] = {}
    for block in _BFCHAR.findall(data):
        out.update(_bfchars(_PAIR.findall(block)))
    for block in _BFRANGE.findall(data):
        for lo, hi, dst, array in _RANGE.findall(block):
            first, last = _hex(lo), _hex(hi)
            start, end = int.from_bytes(first, "big"), int.from_bytes(last, "big")
            if end < start or end - start > 0xFFFF:
                raise _Unsupported("bad bfrange")
            size = len(first)
            if array:
                targets = [_unicode(t) for t in re.findall(_HEX, array)]
                for i, text in zip(range(start, end + 1), targets, strict=False):
                    out[i.to_bytes(size, "big")] = text
                continue
            base = _unicode(dst)
            for i in range(start, end + 1):
                # The last UTF-16 code unit is incremented along the range (9.10.3).
                text = base[:-1] + chr(ord(base[-1]) + (i - start)) if base else ""
                out[i.to_bytes(size, "big")] = text
    lengths = {len(code) for code in out} | widths
    if len(lengths) != 1:
        raise _Unsupported("codes of several lengths")
    return out
