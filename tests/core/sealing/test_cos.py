"""The small PDF object layer: lexer, serialiser, cross-reference tables and streams."""

from __future__ import annotations

import zlib

import pytest

from gongwen.sealing.cos import (
    Name,
    PDFReader,
    PDFString,
    Real,
    Ref,
    Stream,
    decode_stream,
    dumps,
    parse_object,
)
from gongwen.sealing.errors import MalformedPDF, UnsupportedPDF


def xref_stream_pdf() -> bytes:
    """A one-page PDF 1.5 whose catalog, page tree and page live in an object stream and
    whose cross-reference stream is Flate + PNG-Up predictor coded (W [1 2 1])."""
    objs = [
        (2, b"<</Type/Catalog/Pages 3 0 R>>"),
        (3, b"<</Type/Pages/Kids[4 0 R]/Count 1>>"),
        (
            4,
            b"<</Type/Page/Parent 3 0 R/MediaBox[0 0 595.2756 841.8898]/Contents 5 0 R"
            b"/Resources<<>>>>",
        ),
    ]
    body = b""
    header = b""
    for num, data in objs:
        header += b"%d %d " % (num, len(body))
        body += data + b"\n"
    stm = header + body
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    z = zlib.compress(stm)
    offsets[1] = len(out)
    out += b"1 0 obj\n<</Type/ObjStm/N 3/First %d/Filter/FlateDecode/Length %d>>\nstream\n" % (
        len(header),
        len(z),
    )
    out += z + b"\nendstream\nendobj\n"
    content = b"0 0 1 rg 72 600 200 100 re f 0 g BT ET"
    offsets[5] = len(out)
    out += b"5 0 obj\n<</Length %d>>\nstream\n%s\nendstream\nendobj\n" % (len(content), content)
    offsets[6] = len(out)
    rows = [
        (0, 0, 0),
        (1, offsets[1], 0),
        (2, 1, 0),
        (2, 1, 1),
        (2, 1, 2),
        (1, offsets[5], 0),
        (1, offsets[6], 0),
    ]
    raw = [bytes([t]) + a.to_bytes(2, "big") + bytes([b]) for t, a, b in rows]
    prev = bytes(4)
    coded = b""
    for r in raw:  # PNG "Up" predictor, filter byte 2
        coded += b"\x02" + bytes((x - y) & 0xFF for x, y in zip(r, prev, strict=True))
        prev = r
    xz = zlib.compress(coded)
    out += (
        b"6 0 obj\n<</Type/XRef/Size 7/Root 2 0 R/W[1 2 1]/Filter/FlateDecode"
        b"/DecodeParms<</Predictor 12/Columns 4>>/Length %d>>\nstream\n" % len(xz)
    )
    out += xz + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % offsets[6]
    return bytes(out)


def test_parses_every_object_type():
    src = (
        b"<</A 1 0 R/B[1 2.5 -.5 +3 (a\\(b\\)c) <48656c6c6f> /N#20x true false null]"
        b"/C<<>>/D 12 /E[1 0 R 2]% comment\n/F(nested (paren) ok)>>"
    )
    obj, end = parse_object(src, 0)
    assert end == len(src)
    assert obj["A"] == Ref(1, 0)
    b = obj["B"]
    assert b[:4] == [1, 2.5, -0.5, 3]
    assert b[4] == b"a(b)c" and not b[4].hex
    assert b[5] == b"Hello" and b[5].hex
    assert b[6] == Name("N x")
    assert b[7:] == [True, False, None]
    assert obj["C"] == {} and obj["D"] == 12 and obj["E"] == [Ref(1, 0), 2]
    assert obj["F"] == b"nested (paren) ok"


def test_literal_string_escapes():
    obj, _ = parse_object(b"(a\\nb\\\\c\\101\\0537\\\nd\r\ne\\q)", 0)
    assert obj == b"a\nb\\cA+7d\ne" + b"q"


def test_odd_hex_string_and_whitespace():
    obj, _ = parse_object(b"<4 8 6>", 0)
    assert obj == b"\x48\x60"


def test_dumps_round_trips():
    value = {
        Name("Type"): Name("Annot"),
        Name("Rect"): [Real(b"595.2756"), 0, -1.5, Real(b".25")],
        Name("T"): PDFString("印章".encode("utf-16-be"), hex=True),
        Name("S"): PDFString(b"a(b)\\c\r"),
        Name("N"): Name("A B#"),
        Name("R"): Ref(3, 0),
        Name("X"): [True, False, None],
    }
    text = dumps(value)
    assert b"595.2756" in text and b".25" in text
    again, _ = parse_object(text, 0)
    assert again == value
    assert dumps(Stream({Name("Length"): 99}, b"abc")).endswith(b"stream\nabc\nendstream")


@pytest.mark.parametrize(
    "bad",
    [b"<</A 1", b"[1 2", b"(abc", b"<4g>", b"<</A>>", b"<<1 2>>", b"}", b"1.2.3"],
)
def test_malformed_objects_raise(bad):
    with pytest.raises(MalformedPDF):
        parse_object(bad + b" ", 0)


def test_reads_xref_stream_and_object_stream():
    r = PDFReader(xref_stream_pdf())
    assert [s.kind for s in r.sections] == ["stream"]
    assert r.catalog()["Type"] == "Catalog"
    ((ref, page),) = r.pages()
    assert ref == Ref(4, 0) and page["MediaBox"][2] == Real(b"595.2756")
    assert decode_stream(r.get(5)).startswith(b"0 0 1 rg")
    assert r.entry(2)[0] == "c"


def test_reconstructs_a_damaged_cross_reference(small_pdf):
    broken = small_pdf.replace(b"startxref", b"startxrex")
    r = PDFReader(broken)
    assert r.repaired
    assert len(r.pages()) == 2


def test_refuses_non_pdf_and_encrypted():
    with pytest.raises(MalformedPDF):
        PDFReader(b"hello world")
    enc = xref_stream_pdf().replace(b"/Root 2 0 R", b"/Root 2 0 R/Encrypt 9 0 R")
    with pytest.raises(UnsupportedPDF):
        PDFReader(enc)


def test_unsupported_filter():
    s = Stream({Name("Filter"): Name("DCTDecode")}, b"\xff\xd8")
    with pytest.raises(UnsupportedPDF):
        decode_stream(s)


@pytest.mark.parametrize("src, expected", [
    (b"[1 2 -3 +4\n\x0050]", [1, 2, -3, 4, 50]),     # integers only: the one-match path
    (b"[]", []),
    (b"[ 1 0 R 7 ]", [Ref(1, 0), 7]),                # a reference: the general path
    (b"[1 2.5 3]", [1, Real(b"2.5"), 3]),             # numbers: the one-match path too
    (b"[0 0 595.276 841.89]", [0, 0, Real(b"595.276"), Real(b"841.89")]),
    (b"[-.5 +4. 299.8047]", [Real(b"-.5"), Real(b"+4."), Real(b"299.8047")]),
    (b"[1 0 R]", [Ref(1, 0)]),
    (b"[1 %c\n 2]", [1, 2]),                           # a comment
    (b"[1 [2 3] /N]", [1, [2, 3], Name("N")]),
])
def test_arrays_read_the_same_on_both_paths(src, expected):
    obj, end = parse_object(src + b" tail", 0)
    assert obj == expected and end == len(src)
    assert [type(x) for x in obj] == [type(x) for x in expected]
    reals = [x for x in obj if isinstance(x, Real)]
    assert [x.src for x in reals] == [x.src for x in expected if isinstance(x, Real)]


@pytest.mark.parametrize("bad", [b"[1-2]", b"[1 2", b"[1.2.3]", b"[1 2.5"])
def test_a_malformed_integer_array_is_refused(bad):
    with pytest.raises(MalformedPDF):
        parse_object(bad, 0)


# A dictionary entry with a leaf value is read in one match (cos._RE_DICT_ENTRY); every other
# value, and anything malformed, goes through parse_object. Both must read the same.
DICT_VALUES = [
    b"/Page", b"/", b"/A#20B", b"/F1+0", b"12 0 R", b"12   3\nR", b"0", b"-5", b"+7",
    b"00012", b"5.", b"-.5", b"+4.", b"595.2756", b"true", b"false", b"null", b"(text)",
    b"<feff>", b"[1 0 R 2 0 R]", b"<</X 1>>", b"1e5", b"12 0 Rx", b"truex", b"1.2.3",
    b"%comment\n/Name", b"3 %c\n0 R",
]


def _read_value(src: bytes):
    try:
        value, _end = parse_object(src + b" ", 0)
        return "ok", value, type(value)
    except MalformedPDF:
        return "malformed", None, None


# Read alone, these are a value followed by more tokens; in a dictionary the leftover
# token is a key that is not a name.
LEFTOVER = {b"12 0 Rx", b"3 %c\n0 R"}


@pytest.mark.parametrize(("value", "spacing"), [
    (value, spacing) for value in DICT_VALUES for spacing in (b" ", b"", b"\n%note\n")
    if spacing or value[:1] in b"/(<[%"  # only a delimiter may follow the key directly
])
def test_dictionary_entries_read_like_their_values(value, spacing):
    state, alone, kind = _read_value(value)
    src = b"<</K" + spacing + value + b" /Z 1>>"
    if state == "malformed" or value in LEFTOVER:
        with pytest.raises(MalformedPDF):
            parse_object(src, 0)
        return
    got, end = parse_object(src, 0)
    assert end == len(src) and got["Z"] == 1
    assert got["K"] == alone and type(got["K"]) is kind
    if isinstance(alone, Real):
        assert got["K"].src == alone.src


def test_dictionary_keys_and_names_are_decoded():
    got, _ = parse_object(b"<< /A#20B /C#2fD /Type/Page/E%c\n/F>>", 0)
    assert got == {"A B": "C/D", "Type": "Page", "E": "F"}
    assert all(type(k) is Name for k in got) and type(got["Type"]) is Name


def test_a_long_run_of_whitespace_before_a_bad_byte_fails_fast():
    """The entry pattern's whitespace is possessive: no exponential backtracking."""
    with pytest.raises(MalformedPDF):
        parse_object(b"<<" + b" \n" * 50_000 + b"x>>", 0)


def test_the_nesting_limit_holds_for_dictionaries_of_leaf_values():
    deep = b"<</A " * 100 + b"<</K 1>>" + b">>" * 100
    with pytest.raises(MalformedPDF, match="nested"):
        parse_object(deep, 0)


def test_long_names_are_not_kept_in_the_name_cache():
    from gongwen.sealing import cos

    name = b"N" * 5000
    got, _ = parse_object(b"<</" + name + b" 1>>", 0)
    assert list(got) == ["N" * 5000] and name not in cos._NAMES
