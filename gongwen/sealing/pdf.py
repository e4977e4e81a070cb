"""Seal a PDF: a visible seal image and a CMS signature in one incremental update.

ISO 32000-1 §12.8 (digital signatures), §7.5.6 (incremental updates); PAdES baseline B-B
and B-T (ETSI EN 319 142-1) for the INTL suite; GB/T 35275 CMS for the GM suite (see
:mod:`.cms`). The seal position (GB/T 9704-2012 7.3.5.1) comes from the caller as a box in
mm from the top-left corner of a page, as :func:`gongwen.documents.gbt9704.layout_document`
gives it.

Two engines write the same structure:

* ``"direct"`` (default) writes the incremental update itself: the seal image XObjects
  (cached per image), the appearance stream, one signature field/widget, the signature
  dictionary with a fixed-size ``/Contents`` placeholder, the updated page ``/Annots`` and
  ``/AcroForm``, a cross-reference section of the same kind as the file's last one
  (table or stream) and the trailer with ``/Prev``. The signed byte ranges are hashed
  straight from the buffers, so nothing is parsed or written twice. Earlier revisions
  are untouched, so earlier seals stay valid (联合行文).
* ``"pyhanko"`` goes through pyHanko's :func:`~pyhanko.sign.signers.sign_pdf` with a
  :class:`SuiteSigner` (a pyHanko ``Signer`` producing SM2/SM3 or ECDSA/RSA signatures with
  our keys). It is the reference the direct engine is checked against, and handles
  documents the direct engine refuses.

GM: ``/SubFilter /adbe.pkcs7.detached`` (GB/T 35275 signed data keeps its signing-time
attribute, which the ETSI profile forbids). INTL: ``/SubFilter /ETSI.CAdES.detached``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gongwen.pki import suites

from . import cms as _cms
from .appearance import seal_image
from .cos import Name, PDFReader, PDFString, Ref, dumps, text_string
from .errors import MalformedPDF, SealingError

__all__ = [
    "MM",
    "PageGeometry",
    "SealBox",
    "SealResult",
    "Sealer",
    "page_geometry",
    "seal_pdf",
]

MM = 72 / 25.4  # points per millimetre
_BYTE_RANGE_WIDTH = 10  # digits per ByteRange number in the placeholder


@dataclass(frozen=True)
class SealBox:
    """Where the seal goes: page index (0-based) and a box in mm from the page's top-left
    corner (GB/T 9704 layout coordinates)."""

    page: int
    x: float
    y: float
    w: float
    h: float

    @classmethod
    def of(cls, box: Any) -> SealBox | None:
        """Accept a :class:`SealBox`, the layout's ``SealBox`` (same attributes) or a tuple
        ``(page, x, y, w, h)``."""
        if box is None or isinstance(box, SealBox):
            return box
        if isinstance(box, (tuple, list)) and len(box) == 5:
            return cls(int(box[0]), *(float(v) for v in box[1:]))
        try:
            return cls(int(box.page), float(box.x), float(box.y), float(box.w), float(box.h))
        except AttributeError:
            raise SealingError(
                "box must be (page, x, y, w, h) in mm", message_zh="印章位置格式错误"
            ) from None


@dataclass(frozen=True)
class SealResult:
    """What :meth:`Sealer.seal_with_info` reports besides the bytes."""

    pdf: bytes
    field_name: str
    byte_range: tuple[int, int, int, int]
    cms: bytes
    # "<algorithm>:<hex>" of the whole sealed file with the signature's digest algorithm
    # (sm3 on the GM suite): the signature hashes all but /Contents anyway, so the file's
    # own digest costs only /Contents and what follows it (the blob store names it so).
    digest: str | None = None


@dataclass(frozen=True)
class PageGeometry:
    """A page as displayed: its visible box (CropBox within MediaBox) in default user space
    and its ``/Rotate``. Converts between displayed positions (points from the displayed
    top-left corner, y downwards, as GB/T 9704 measures) and user space."""

    llx: float
    lly: float
    urx: float
    ury: float
    rotate: int  # 0, 90, 180 or 270 (clockwise, ISO 32000-1 Table 30)

    def to_user(self, xd: float, yd: float) -> tuple[float, float]:
        r = self.rotate
        if r == 90:
            return self.llx + yd, self.lly + xd
        if r == 180:
            return self.urx - xd, self.lly + yd
        if r == 270:
            return self.urx - yd, self.ury - xd
        return self.llx + xd, self.ury - yd

    def from_user(self, ux: float, uy: float) -> tuple[float, float]:
        r = self.rotate
        if r == 90:
            return uy - self.lly, ux - self.llx
        if r == 180:
            return self.urx - ux, uy - self.lly
        if r == 270:
            return self.ury - uy, self.urx - ux
        return ux - self.llx, self.ury - uy

    def rect_for(self, box: SealBox) -> list[float]:
        """The widget ``/Rect`` (user space) of a box given in displayed mm."""
        x, y, w, h = box.x * MM, box.y * MM, box.w * MM, box.h * MM
        pts = [self.to_user(px, py) for px in (x, x + w) for py in (y, y + h)]
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        return [min(xs), min(ys), max(xs), max(ys)]

    def box_for(self, rect: Sequence[float]) -> tuple[float, float, float, float]:
        """Displayed (x, y, w, h) in mm of a user-space rectangle."""
        x1, y1, x2, y2 = rect
        pts = [self.from_user(px, py) for px in (x1, x2) for py in (y1, y2)]
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        return (min(xs) / MM, min(ys) / MM, (max(xs) - min(xs)) / MM, (max(ys) - min(ys)) / MM)

    @property
    def matrix(self) -> tuple[int, int, int, int]:
        """Appearance ``/Matrix`` (a b c d) turning the content counter-clockwise by the
        page rotation, so that it is upright once the page is displayed."""
        return {0: (1, 0, 0, 1), 90: (0, 1, -1, 0), 180: (-1, 0, 0, -1), 270: (0, -1, 1, 0)}[
            self.rotate
        ]


def page_geometry(reader: PDFReader, page: dict[str, Any]) -> PageGeometry:
    def box_of(key: str) -> list[float] | None:
        v = reader.inherited(page, key)
        if not (isinstance(v, list) and len(v) == 4):
            return None
        try:
            a, b, c, d = (float(reader.resolve(x)) for x in v)
        except (TypeError, ValueError):
            return None
        return [min(a, c), min(b, d), max(a, c), max(b, d)]

    mb = box_of("MediaBox")
    if mb is None:
        raise MalformedPDF("page has no MediaBox", message_zh="页面缺少 MediaBox")
    cb = box_of("CropBox")
    if cb is not None:  # the visible region: CropBox clipped to the MediaBox
        cb = [max(mb[0], cb[0]), max(mb[1], cb[1]), min(mb[2], cb[2]), min(mb[3], cb[3])]
        if cb[0] < cb[2] and cb[1] < cb[3]:
            mb = cb
    rot = reader.inherited(page, "Rotate")
    rot = rot % 360 if isinstance(rot, int) and not isinstance(rot, bool) else 0
    if rot % 90:
        raise MalformedPDF(f"bad /Rotate {rot}", message_zh="页面旋转角度无效")
    return PageGeometry(mb[0], mb[1], mb[2], mb[3], rot)


def _pdf_date(dt: datetime) -> PDFString:
    if dt.tzinfo is None:
        raise SealingError("signing_time must be timezone-aware")
    off = dt.utcoffset()
    assert off is not None
    minutes = int(off.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return PDFString(
        (dt.strftime("D:%Y%m%d%H%M%S") + f"{sign}{minutes // 60:02d}'{minutes % 60:02d}'").encode(
            "ascii"
        )
    )


def _fmt(v: float) -> bytes:
    s = (b"%.4f" % v).rstrip(b"0").rstrip(b".")
    return s if s not in (b"", b"-0") else b"0"


class Sealer:
    """A signer, its certificate chain, suite and seal image, ready to seal many documents.

    :func:`seal_pdf` builds one per call; keep one around to avoid re-checking the key
    against the certificate for every document.
    """

    def __init__(
        self,
        *,
        signer: Any,
        cert_der: bytes,
        chain: Sequence[bytes] = (),
        suite: Any = None,
        seal_image_png: bytes | None = None,
        timestamper: _cms.TimeStamper | None = None,
        timestamp_reserve: int = 12000,
    ) -> None:
        self.builder = _cms.CMSBuilder(signer=signer, cert_der=cert_der, chain=chain, suite=suite)
        self.suite = self.builder.suite
        self.signer = signer
        self.cert_der = self.builder.cert_der
        self.chain = list(chain)
        self.seal_image_png = seal_image_png
        self.timestamper = timestamper
        self.sub_filter = "adbe.pkcs7.detached" if self.builder.is_gm else "ETSI.CAdES.detached"
        reserve = timestamp_reserve if timestamper is not None else 0
        self.contents_size = self.builder.max_size(reserve)

    # ------------------------------------------------------------------ public

    def seal(self, pdf_bytes: bytes, **kw: Any) -> bytes:
        return self.seal_with_info(pdf_bytes, **kw).pdf

    def seal_with_info(
        self,
        pdf_bytes: bytes,
        *,
        box: Any = None,
        reason: str | None = None,
        location: str | None = None,
        contact_info: str | None = None,
        name: str | None = None,
        signing_time: datetime | None = None,
        field_name: str | None = None,
        engine: str = "direct",
    ) -> SealResult:
        signing_time = signing_time or datetime.now(UTC)
        if signing_time.tzinfo is None:
            raise SealingError("signing_time must be timezone-aware", message_zh="签章时间缺少时区")
        sbox = SealBox.of(box)
        if engine == "direct":
            return self._seal_direct(
                bytes(pdf_bytes),
                sbox,
                reason,
                location,
                contact_info,
                name,
                signing_time,
                field_name,
            )
        if engine == "pyhanko":
            from .pyhanko_engine import seal_with_pyhanko

            return seal_with_pyhanko(
                self,
                bytes(pdf_bytes),
                sbox,
                reason,
                location,
                contact_info,
                name,
                signing_time,
                field_name,
            )
        raise SealingError(f"unknown engine {engine!r}")

    # ------------------------------------------------------------------ direct engine

    def _seal_direct(
        self,
        data: bytes,
        box: SealBox | None,
        reason: str | None,
        location: str | None,
        contact_info: str | None,
        name: str | None,
        signing_time: datetime,
        field_name: str | None,
    ) -> SealResult:
        reader = PDFReader(data)
        if reader.repaired:
            raise MalformedPDF(
                "the cross-reference structure is damaged; repair the PDF before sealing",
                message_zh="PDF 交叉引用表已损坏，请先修复文件再签章",
            )
        trailer = reader.trailer
        size = trailer.get("Size")
        if not isinstance(size, int) or size <= 0:
            raise MalformedPDF("trailer has no valid /Size")
        root_ref = trailer.get("Root")
        if not isinstance(root_ref, Ref):
            raise MalformedPDF("trailer /Root is not an indirect reference")
        catalog = reader.catalog()
        pages = reader.pages()
        if not pages:
            raise MalformedPDF("the document has no pages")

        existing = {n for _r, _f, n in reader.iter_fields()}
        if field_name is None:
            k = 1
            while f"Seal{k}" in existing:
                k += 1
            field_name = f"Seal{k}"
        elif field_name in existing:
            raise SealingError(
                f"a field named {field_name!r} exists", message_zh=f"签章域 {field_name} 已存在"
            )

        next_num = size
        max_num = max(reader.xref) if reader.xref else 0
        next_num = max(next_num, max_num + 1)

        def alloc() -> int:
            nonlocal next_num
            next_num += 1
            return next_num - 1

        objs: list[tuple[int, bytes]] = []  # (num, body between "obj" and "endobj")
        widget_num = alloc()
        sig_num = alloc()
        widget: dict[str, Any] = {
            Name("Type"): Name("Annot"),
            Name("Subtype"): Name("Widget"),
            Name("FT"): Name("Sig"),
            Name("T"): text_string(field_name),
            Name("V"): Ref(sig_num),
            Name("F"): 132,  # Print | Locked
        }
        if box is not None:
            if not 0 <= box.page < len(pages):
                raise SealingError(
                    f"page {box.page} does not exist (the document has {len(pages)})",
                    message_zh=f"第 {box.page + 1} 页不存在",
                )
            page_ref, page = pages[box.page]
            geo = page_geometry(reader, page)
            w, h = box.w * MM, box.h * MM
            rect = geo.rect_for(box)
            widget[Name("Rect")] = rect
            widget[Name("P")] = page_ref
            if self.seal_image_png:
                img = seal_image(self.seal_image_png)
                img_num = alloc()
                smask_num = alloc() if img.alpha is not None else None
                ap_num = alloc()
                smask_ref = b"%d 0 R" % smask_num if smask_num is not None else None
                objs.append(
                    (img_num, img.image_dict(smask_ref) + b"\nstream\n" + img.rgb + b"\nendstream")
                )
                if smask_num is not None:
                    assert img.alpha is not None
                    objs.append(
                        (smask_num, img.smask_dict() + b"\nstream\n" + img.alpha + b"\nendstream")
                    )
                content = b"q %s 0 0 %s 0 0 cm /Im0 Do Q" % (_fmt(w), _fmt(h))
                # On a rotated page the appearance turns with it, so the seal reads upright.
                matrix = b"/Matrix[%d %d %d %d 0 0]" % geo.matrix if geo.rotate else b""
                objs.append(
                    (
                        ap_num,
                        b"<</Type/XObject/Subtype/Form/BBox[0 0 %s %s]%s/Resources<</XObject"
                        b"<</Im0 %d 0 R>>/ProcSet[/PDF/ImageC]>>/Length %d>>\nstream\n%s\nendstream"
                        % (_fmt(w), _fmt(h), matrix, img_num, len(content), content),
                    )
                )
                widget[Name("AP")] = {Name("N"): Ref(ap_num)}
        else:
            page_ref, page = pages[0]
            widget[Name("Rect")] = [0, 0, 0, 0]
            widget[Name("P")] = page_ref
        objs.append((widget_num, dumps(widget)))

        # the page's /Annots
        annots = page.get("Annots")
        if isinstance(annots, Ref):
            arr = reader.get(annots)
            arr = list(arr) if isinstance(arr, list) else []
            objs.append((annots.num, dumps([*arr, Ref(widget_num)])))
        else:
            new_page = dict(page)
            new_page[Name("Annots")] = [
                *(annots if isinstance(annots, list) else []),
                Ref(widget_num),
            ]
            objs.append((page_ref.num, dumps(new_page)))

        # the AcroForm
        acro_ref = catalog.get("AcroForm")
        if isinstance(acro_ref, Ref):
            acro = reader.get(acro_ref)
            acro = dict(acro) if isinstance(acro, dict) else {}
            fields = acro.get("Fields")
            if isinstance(fields, Ref):
                arr = reader.get(fields)
                arr = list(arr) if isinstance(arr, list) else []
                objs.append((fields.num, dumps([*arr, Ref(widget_num)])))
                if acro.get("SigFlags") != 3:
                    acro[Name("SigFlags")] = 3
                    objs.append((acro_ref.num, dumps(acro)))
            else:
                acro[Name("Fields")] = [
                    *(fields if isinstance(fields, list) else []),
                    Ref(widget_num),
                ]
                acro[Name("SigFlags")] = 3
                objs.append((acro_ref.num, dumps(acro)))
        else:
            acro = dict(acro_ref) if isinstance(acro_ref, dict) else {}
            fields = reader.resolve(acro.get("Fields"))
            acro[Name("Fields")] = [*(fields if isinstance(fields, list) else []), Ref(widget_num)]
            acro[Name("SigFlags")] = 3
            new_acro_num = alloc()
            objs.append((new_acro_num, dumps(acro)))
            new_catalog = dict(catalog)
            new_catalog[Name("AcroForm")] = Ref(new_acro_num)
            objs.append((root_ref.num, dumps(new_catalog)))

        # the signature dictionary, /Contents last so that the gap is easy to find
        sig: dict[str, Any] = {
            Name("Type"): Name("Sig"),
            Name("Filter"): Name("Adobe.PPKLite"),
            Name("SubFilter"): Name(self.sub_filter),
            Name("M"): _pdf_date(signing_time),
        }
        if name:
            sig[Name("Name")] = text_string(name)
        if reason:
            sig[Name("Reason")] = text_string(reason)
        if location:
            sig[Name("Location")] = text_string(location)
        if contact_info:
            sig[Name("ContactInfo")] = text_string(contact_info)
        sig[Name("Prop_Build")] = {Name("App"): {Name("Name"): Name("gongwen")}}
        placeholder = b"[0 " + b" ".join([b"0" * _BYTE_RANGE_WIDTH] * 3) + b"]"
        sig_body_head = dumps(sig)[:-2] + b"/ByteRange" + placeholder + b"/Contents"
        hex_len = 2 * self.contents_size + 2
        sig_body_tail = b">>"

        # ---- lay out the update
        hdr = reader.header_offset
        sep = b"" if data.endswith((b"\n", b"\r")) else b"\n"
        base = len(data) + len(sep)
        parts: list[bytes] = [sep]
        pos = base
        offsets: dict[int, int] = {}
        for num, body in objs:
            chunk = b"%d 0 obj\n%s\nendobj\n" % (num, body)
            offsets[num] = pos
            parts.append(chunk)
            pos += len(chunk)
        offsets[sig_num] = pos
        sig_head = b"%d 0 obj\n" % sig_num + sig_body_head
        range_at = pos + len(b"%d 0 obj\n" % sig_num) + len(dumps(sig)) - 2 + len(b"/ByteRange")
        gap_start = pos + len(sig_head)
        gap_end = gap_start + hex_len
        after_sig = sig_body_tail + b"\nendobj\n"
        pos = gap_end + len(after_sig)

        trailer_out: dict[str, Any] = {}
        for key in ("Root", "Info", "ID"):
            if key in trailer:
                trailer_out[Name(key)] = trailer[key]
        if "ID" not in trailer_out:
            ident = PDFString(os.urandom(16), hex=True)
            trailer_out[Name("ID")] = [ident, ident]
        prev = reader.sections[-1].offset - hdr
        xref_kind = reader.sections[-1].kind
        xref_pos = pos
        if xref_kind == "stream":
            xref_num = alloc()
            offsets[xref_num] = xref_pos
            tail = _xref_stream(offsets, xref_num, next_num, trailer_out, prev, hdr)
        else:
            tail = _xref_table(offsets, next_num, trailer_out, prev, hdr)
        tail += b"startxref\n%d\n%%%%EOF\n" % (xref_pos - hdr)

        head_bytes = b"".join(parts) + sig_head
        rest = after_sig + tail
        total = gap_end + len(rest)
        byte_range = (0, gap_start, gap_end, total - gap_end)
        br = b"[%d %d %d %d]" % byte_range
        if len(br) > len(placeholder):
            raise SealingError("document too large for the ByteRange placeholder")
        br = br[:-1] + b" " * (len(placeholder) - len(br)) + b"]"
        k = range_at - base
        head_bytes = head_bytes[:k] + br + head_bytes[k + len(placeholder) :]

        h = self.builder.new_hash()
        h.update(data)
        h.update(head_bytes)
        whole = h.copy()  # the file up to /Contents: the start of the file's own digest
        h.update(rest)
        cms_der = self.builder.sign(h.digest(), signing_time, self.timestamper)
        if len(cms_der) > self.contents_size:
            raise SealingError("signature larger than the space reserved for it")
        contents = (
            b"<"
            + cms_der.hex().encode("ascii")
            + b"0" * (2 * (self.contents_size - len(cms_der)))
            + b">"
        )
        out = b"".join((data, head_bytes, contents, rest))
        assert len(out) == total
        whole.update(contents)
        whole.update(rest)
        return SealResult(out, field_name, byte_range, cms_der,
                          f"{self.builder.digest_name}:{whole.digest().hex()}")


def _runs(nums: list[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for n in sorted(nums):
        if out and out[-1][0] + out[-1][1] == n:
            out[-1] = (out[-1][0], out[-1][1] + 1)
        else:
            out.append((n, 1))
    return out


def _xref_table(
    offsets: dict[int, int], size: int, trailer: dict[str, Any], prev: int, hdr: int
) -> bytes:
    lines = [b"xref\n"]
    for start, count in _runs(list(offsets)):
        lines.append(b"%d %d\n" % (start, count))
        for n in range(start, start + count):
            lines.append(b"%010d 00000 n\r\n" % (offsets[n] - hdr))
    t = dict(trailer)
    t[Name("Size")] = size
    t[Name("Prev")] = prev
    lines.append(b"trailer\n" + dumps(t) + b"\n")
    return b"".join(lines)


def _xref_stream(
    offsets: dict[int, int],
    xref_num: int,
    size: int,
    trailer: dict[str, Any],
    prev: int,
    hdr: int,
) -> bytes:
    runs = _runs(list(offsets))
    rows = bytearray()
    for start, count in runs:
        for n in range(start, start + count):
            rows += b"\x01" + (offsets[n] - hdr).to_bytes(4, "big") + b"\x00\x00"
    d: dict[str, Any] = {Name("Type"): Name("XRef")}
    d.update(trailer)
    d[Name("Size")] = size
    d[Name("Prev")] = prev
    d[Name("W")] = [1, 4, 2]
    d[Name("Index")] = [v for run in runs for v in run]
    d[Name("Length")] = len(rows)
    return b"%d 0 obj\n%s\nstream\n%s\nendstream\nendobj\n" % (xref_num, dumps(d), bytes(rows))


def seal_pdf(
    pdf_bytes: bytes,
    *,
    signer: Any,
    cert_der: bytes,
    chain: Sequence[bytes] = (),
    seal_image_png: bytes | None = None,
    box: Any = None,
    suite: Any = None,
    reason: str | None = None,
    location: str | None = None,
    contact_info: str | None = None,
    name: str | None = None,
    signing_time: datetime | None = None,
    field_name: str | None = None,
    timestamper: _cms.TimeStamper | None = None,
    engine: str = "direct",
) -> bytes:
    """Seal ``pdf_bytes`` and return the sealed PDF (the input plus one incremental update).

    ``signer``: the seal holder's private key or an :class:`~gongwen.pki.suites.ExternalSigner`;
    ``cert_der``: its unit-seal certificate; ``chain``: CA certificates to embed;
    ``seal_image_png``: the (transparent) seal picture drawn into ``box`` =
    ``(page, x, y, w, h)`` in mm from the top-left corner (GB/T 9704 seal box), or
    ``None`` for an invisible signature; ``suite``: ``"GM"``/``"INTL"`` (default: the key's);
    ``signing_time``: timezone-aware, default now; ``timestamper``: INTL B-T.
    """
    if suite is not None:
        suite = suites.get_suite(suite)
    sealer = Sealer(
        signer=signer,
        cert_der=cert_der,
        chain=chain,
        suite=suite,
        seal_image_png=seal_image_png,
        timestamper=timestamper,
    )
    return sealer.seal(
        pdf_bytes,
        box=box,
        reason=reason,
        location=location,
        contact_info=contact_info,
        name=name,
        signing_time=signing_time,
        field_name=field_name,
        engine=engine,
    )
