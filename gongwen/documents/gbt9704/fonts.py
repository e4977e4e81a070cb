"""Fonts for the four GB/T 9704 type roles (仿宋, 小标宋, 黑体, 楷体; plus 宋体 for 页码).

The official faces (仿宋_GB2312, 方正小标宋简体, 黑体, 楷体_GB2312) are proprietary: the caller
passes their paths (from settings) to :meth:`FontSet.load`. Roles left unconfigured use the open
Debian substitutes in :data:`DEBIAN_SUBSTITUTES`. Only TrueType (glyf) outlines are accepted,
because both the PDF writer (reportlab) and the OFD subsetter embed TrueType; a missing file, a
CFF-flavoured OpenType font or a font without Chinese characters raises :class:`FontError`.

Also here: :meth:`FontFace.subset`, a small TrueType subsetter that cuts one face (also a TTC
member) down to the characters used, as a standalone TTF for the OFD ``FontFile``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import struct
import threading
from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "DEBIAN_SUBSTITUTES",
    "OFFICIAL_NAMES",
    "FontError",
    "FontFace",
    "FontRole",
    "FontSet",
    "FontSpec",
    "load_face",
]


class FontError(Exception):
    """A font that cannot be used. ``message_zh`` is the sentence to show a Chinese user."""

    def __init__(self, message: str, message_zh: str, path: str | None = None) -> None:
        super().__init__(message)
        self.message_zh = message_zh
        self.path = path


class FontRole(StrEnum):
    FANGSONG = "仿宋"  # body text, 3号 (GB/T 9704 5.1)
    XIAOBIAOSONG = "小标宋"  # 标题 and the red 发文机关标志
    HEITI = "黑体"  # 一、 headings, 密级, 紧急程度, 附件 label
    KAITI = "楷体"  # （一） headings, 签发人 names
    SONGTI = "宋体"  # 页码 (7.5)


OFFICIAL_NAMES: Mapping[FontRole, str] = {
    FontRole.FANGSONG: "仿宋_GB2312",
    FontRole.XIAOBIAOSONG: "方正小标宋简体",
    FontRole.HEITI: "黑体",
    FontRole.KAITI: "楷体_GB2312",
    FontRole.SONGTI: "宋体",
}


@dataclass(frozen=True)
class FontSpec:
    """Where a role's font lives. ``index`` selects a member of a .ttc collection;
    ``synthetic_bold`` (a fraction of the em) strokes the outlines to embolden a light
    substitute (used for 小标宋, which no free font imitates well)."""

    path: str
    index: int = 0
    synthetic_bold: float = 0.0


_UMING = "/usr/share/fonts/truetype/arphic/uming.ttc"
_WQY = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
_GBSN = "/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf"
_GKAI = "/usr/share/fonts/truetype/arphic-gkai00mp/gkai00mp.ttf"

#: Open substitutes from Debian packages (fonts-arphic-uming, fonts-arphic-gbsn00lp,
#: fonts-wqy-zenhei, fonts-arphic-gkai00mp). No free 仿宋 or 小标宋 is packaged.
DEBIAN_SUBSTITUTES: Mapping[FontRole, FontSpec] = {
    FontRole.FANGSONG: FontSpec(_UMING, 0),  # AR PL UMing CN (明体)
    FontRole.XIAOBIAOSONG: FontSpec(_GBSN, 0, synthetic_bold=0.035),  # AR PL SungtiL GB, stroked
    FontRole.HEITI: FontSpec(_WQY, 0),  # WenQuanYi Zen Hei
    FontRole.KAITI: FontSpec(_GKAI, 0),  # AR PL KaitiM GB
    FontRole.SONGTI: FontSpec(_GBSN, 0),  # AR PL SungtiL GB
}

# Glyph coverage fallbacks, tried in order when a role's face lacks a character.
_FALLBACKS = (FontSpec(_WQY, 0), FontSpec(_UMING, 0))


def _cff_error(path: str) -> FontError:
    return FontError(
        f"{path}: CFF-flavoured OpenType font; only TrueType (glyf) outlines can be embedded",
        f"字体文件 {path} 是CFF轮廓的OpenType字体，无法嵌入PDF/OFD，"
        "请改用TrueType（.ttf/.ttc）字体",
        path,
    )


class FontFace:
    """One loaded TrueType face: metrics, cmap and the raw tables for subsetting."""

    def __init__(self, path: str, index: int = 0) -> None:
        self.path = path
        self.index = index
        try:
            with open(path, "rb") as fh:
                self._data = fh.read()
        except FileNotFoundError:
            raise FontError(
                f"font file not found: {path}", f"找不到字体文件：{path}", path
            ) from None
        except OSError as exc:
            raise FontError(
                f"cannot read font file {path}: {exc}", f"无法读取字体文件：{path}", path
            ) from None
        self._tables = self._read_directory()
        if "CFF " in self._tables or "CFF2" in self._tables:
            raise _cff_error(path)
        for tag in ("head", "hhea", "maxp", "hmtx", "loca", "glyf", "cmap"):
            if tag not in self._tables:
                raise FontError(
                    f"{path}: not a usable TrueType font (no {tag!r} table)",
                    f"字体文件 {path} 不是可用的TrueType字体（缺少 {tag.strip()} 表）",
                    path,
                )
        self._parse()
        digest = hashlib.sha1(f"{os.path.abspath(path)}#{index}".encode()).hexdigest()[:10]
        #: Stable identifier, used as the reportlab font name and in layouts.
        self.key = f"gw{digest}"
        self._subset_lock = threading.Lock()

    # -- parsing -------------------------------------------------------------------
    def _read_directory(self) -> dict[str, tuple[int, int]]:
        d = self._data
        path = self.path
        if len(d) < 12:
            raise FontError(f"{path}: not a font file", f"文件 {path} 不是有效的字体文件", path)
        offset = 0
        if d[:4] == b"ttcf":
            (count,) = struct.unpack(">I", d[8:12])
            if not 0 <= self.index < count:
                raise FontError(
                    f"{path}: collection has {count} fonts, index {self.index} requested",
                    f"字体集 {path} 只有 {count} 个字体，无第 {self.index} 号",
                    path,
                )
            (offset,) = struct.unpack(">I", d[12 + 4 * self.index : 16 + 4 * self.index])
        elif self.index != 0:
            raise FontError(
                f"{path}: not a collection, index must be 0",
                f"字体文件 {path} 不是字体集，序号只能为0",
                path,
            )
        version = d[offset : offset + 4]
        if version == b"OTTO":
            raise _cff_error(path)
        if version not in (b"\x00\x01\x00\x00", b"true"):
            raise FontError(f"{path}: not a font file", f"文件 {path} 不是有效的字体文件", path)
        (num,) = struct.unpack(">H", d[offset + 4 : offset + 6])
        tables = {}
        for i in range(num):
            rec = offset + 12 + 16 * i
            tag = d[rec : rec + 4].decode("latin-1")
            _, toff, tlen = struct.unpack(">III", d[rec + 4 : rec + 16])
            if toff + tlen > len(d):
                raise FontError(
                    f"{path}: truncated font file", f"字体文件 {path} 已损坏（不完整）", path
                )
            tables[tag] = (toff, tlen)
        return tables

    def table(self, tag: str) -> bytes:
        off, length = self._tables[tag]
        return self._data[off : off + length]

    def _view(self, tag: str) -> memoryview:
        off, length = self._tables[tag]
        return memoryview(self._data)[off : off + length]

    def _parse(self) -> None:
        head = self.table("head")
        self.units_per_em = struct.unpack(">H", head[18:20])[0]
        loca_format = struct.unpack(">h", head[50:52])[0]
        self.num_glyphs = struct.unpack(">H", self.table("maxp")[4:6])[0]
        hhea = self.table("hhea")
        num_hmetrics = struct.unpack(">H", hhea[34:36])[0]
        hm = array("H", self.table("hmtx")[: 4 * num_hmetrics])
        hm.byteswap()
        adv = list(hm[0::2])
        lsb_tail = self.num_glyphs - num_hmetrics
        if lsb_tail > 0:
            adv.extend([adv[-1]] * lsb_tail)
        self._advances = adv
        lsb = array("h", self.table("hmtx")[: 4 * num_hmetrics])
        lsb.byteswap()
        lsbs = list(lsb[1::2])
        if lsb_tail > 0:
            extra = array(
                "h", self.table("hmtx")[4 * num_hmetrics : 4 * num_hmetrics + 2 * lsb_tail]
            )
            extra.byteswap()
            lsbs.extend(extra)
        self._lsbs = lsbs
        if loca_format == 0:
            loca = array("H", self.table("loca")[: 2 * (self.num_glyphs + 1)])
            loca.byteswap()
            self._loca = [2 * v for v in loca]
        else:
            loca32 = array("I", self.table("loca")[: 4 * (self.num_glyphs + 1)])
            loca32.byteswap()
            self._loca = list(loca32)
        self.cmap = _parse_cmap(self.table("cmap"), self.path)
        self.family = _family_name(self.table("name")) if "name" in self._tables else ""
        self.family = self.family or os.path.basename(self.path)
        if 0x6587 not in self.cmap:  # 文
            raise FontError(
                f"{self.path}: font has no Chinese characters",
                f"字体文件 {self.path} 不含汉字，不能用于公文",
                self.path,
            )

    # -- metrics -------------------------------------------------------------------
    def has(self, ch: str) -> bool:
        return ord(ch) in self.cmap

    def advance(self, ch: str) -> float:
        """Advance width of ``ch`` in em."""
        gid = self.cmap.get(ord(ch), 0)
        return self._advances[gid] / self.units_per_em

    # -- subsetting ----------------------------------------------------------------
    def subset(self, chars: Iterable[str]) -> bytes:
        """A standalone TrueType font holding only ``chars`` (plus .notdef), with a Unicode
        cmap, for embedding (OFD ``FontFile``). Deterministic for the same characters."""
        codes = sorted({ord(c) for c in chars if ord(c) in self.cmap})
        gids = [0]
        seen = {0}
        for cp in codes:
            g = self.cmap[cp]
            if g not in seen:
                seen.add(g)
                gids.append(g)
        glyf = self._view("glyf")
        # Composite glyphs pull in their components.
        i = 0
        while i < len(gids):
            for comp in _components(self._glyph_bytes(glyf, gids[i])):
                if comp not in seen and comp < self.num_glyphs:
                    seen.add(comp)
                    gids.append(comp)
            i += 1
        new_id = {g: n for n, g in enumerate(gids)}
        glyf_out = bytearray()
        loca_out = array("I")
        for g in gids:
            loca_out.append(len(glyf_out))
            data = self._glyph_bytes(glyf, g)
            if data and struct.unpack(">h", data[:2])[0] < 0:
                data = _remap_components(data, new_id)
            glyf_out += data
            glyf_out += b"\0" * (-len(glyf_out) % 4)
        loca_out.append(len(glyf_out))
        loca_out.byteswap()
        hm = array("h")
        for g in gids:
            hm.append(self._advances[g] if self._advances[g] < 32768 else 32767)
            hm.append(self._lsbs[g])
        hm.byteswap()
        n = len(gids)
        head = bytearray(self.table("head"))
        head[8:12] = b"\0\0\0\0"  # checkSumAdjustment, set below
        head[50:52] = struct.pack(">h", 1)  # long loca
        hhea = bytearray(self.table("hhea"))
        hhea[34:36] = struct.pack(">H", n)
        maxp = bytearray(self.table("maxp"))
        maxp[4:6] = struct.pack(">H", n)
        post = bytearray(self.table("post")[:32]) if "post" in self._tables else bytearray(32)
        post[0:4] = struct.pack(">I", 0x00030000)
        tables = {
            "head": bytes(head),
            "hhea": bytes(hhea),
            "maxp": bytes(maxp),
            "hmtx": hm.tobytes(),
            "loca": loca_out.tobytes(),
            "glyf": bytes(glyf_out),
            "cmap": _build_cmap({cp: new_id[self.cmap[cp]] for cp in codes}),
            "post": bytes(post),
        }
        for tag in ("OS/2", "name", "cvt ", "fpgm", "prep", "gasp"):
            if tag in self._tables:
                tables[tag] = self.table(tag)  # copied as they are
        return _assemble(tables)

    def _glyph_bytes(self, glyf: memoryview, gid: int) -> bytes:
        return glyf[self._loca[gid] : self._loca[gid + 1]].tobytes()

    def __repr__(self) -> str:
        return f"<FontFace {self.family!r} {self.path}#{self.index}>"


def _components(data: bytes) -> list[int]:
    if len(data) < 10 or struct.unpack(">h", data[:2])[0] >= 0:
        return []
    out = []
    off = 10
    while True:
        flags, gid = struct.unpack(">HH", data[off : off + 4])
        out.append(gid)
        off += 4 + (4 if flags & 0x0001 else 2)
        if flags & 0x0008:
            off += 2
        elif flags & 0x0040:
            off += 4
        elif flags & 0x0080:
            off += 8
        if not flags & 0x0020:
            return out


def _remap_components(data: bytes, new_id: Mapping[int, int]) -> bytes:
    buf = bytearray(data)
    off = 10
    while True:
        flags, gid = struct.unpack(">HH", buf[off : off + 4])
        buf[off + 2 : off + 4] = struct.pack(">H", new_id.get(gid, 0))
        off += 4 + (4 if flags & 0x0001 else 2)
        if flags & 0x0008:
            off += 2
        elif flags & 0x0040:
            off += 4
        elif flags & 0x0080:
            off += 8
        if not flags & 0x0020:
            return bytes(buf)


def _parse_cmap(data: bytes, path: str) -> dict[int, int]:
    """Unicode → glyph id from the best Unicode subtable (format 12 preferred, then 4)."""
    (num,) = struct.unpack(">H", data[2:4])
    subtables = {}
    for i in range(num):
        pid, eid, off = struct.unpack(">HHI", data[4 + 8 * i : 12 + 8 * i])
        fmt = struct.unpack(">H", data[off : off + 2])[0]
        subtables[(pid, eid, fmt)] = off
    for key in ((3, 10, 12), (0, 4, 12), (0, 6, 12), (3, 1, 4), (0, 3, 4), (0, 1, 4), (0, 0, 4)):
        if key in subtables:
            off = subtables[key]
            return _cmap12(data, off) if key[2] == 12 else _cmap4(data, off)
    raise FontError(
        f"{path}: no Unicode cmap", f"字体文件 {path} 没有Unicode字符映射表，无法使用", path
    )


def _cmap4(data: bytes, off: int) -> dict[int, int]:
    seg2 = struct.unpack(">H", data[off + 6 : off + 8])[0]
    seg = seg2 // 2
    base = off + 14
    ends = struct.unpack(f">{seg}H", data[base : base + seg2])
    starts = struct.unpack(f">{seg}H", data[base + seg2 + 2 : base + 2 * seg2 + 2])
    deltas = struct.unpack(f">{seg}h", data[base + 2 * seg2 + 2 : base + 3 * seg2 + 2])
    ro_base = base + 3 * seg2 + 2
    ranges = struct.unpack(f">{seg}H", data[ro_base : ro_base + seg2])
    out = {}
    for i in range(seg):
        s, e, dlt, ro = starts[i], ends[i], deltas[i], ranges[i]
        if s == 0xFFFF:
            continue
        for c in range(s, e + 1):
            if ro == 0:
                g = (c + dlt) & 0xFFFF
            else:
                p = ro_base + 2 * i + ro + 2 * (c - s)
                g = struct.unpack(">H", data[p : p + 2])[0]
                if g:
                    g = (g + dlt) & 0xFFFF
            if g:
                out[c] = g
    return out


def _cmap12(data: bytes, off: int) -> dict[int, int]:
    (ngroups,) = struct.unpack(">I", data[off + 12 : off + 16])
    out = {}
    for i in range(ngroups):
        s, e, g = struct.unpack(">III", data[off + 16 + 12 * i : off + 28 + 12 * i])
        for c in range(s, e + 1):
            out[c] = g + c - s
    return out


def _build_cmap(mapping: Mapping[int, int]) -> bytes:
    codes = sorted(mapping)
    bmp = [c for c in codes if c <= 0xFFFF]
    # Format 4: merge runs where code and glyph id both increase by one.
    segs: list[list[int]] = []  # [start, end, delta]
    for c in bmp:
        g = mapping[c]
        if segs and segs[-1][1] == c - 1 and (c + segs[-1][2]) & 0xFFFF == g:
            segs[-1][1] = c
        else:
            segs.append([c, c, (g - c) & 0xFFFF])
    segs.append([0xFFFF, 0xFFFF, 1])
    n = len(segs)
    search = 2 ** (n.bit_length() - 1)
    body = struct.pack(">HHHH", 2 * n, 2 * search, search.bit_length() - 1, 2 * n - 2 * search)
    body += struct.pack(f">{n}H", *(s[1] for s in segs)) + b"\0\0"
    body += struct.pack(f">{n}H", *(s[0] for s in segs))
    body += struct.pack(f">{n}H", *(s[2] for s in segs))
    body += struct.pack(f">{n}H", *([0] * n))
    sub4 = struct.pack(">HHH", 4, 6 + len(body), 0) + body
    subtables = [((3, 1), sub4)]
    if len(bmp) != len(codes):
        groups: list[list[int]] = []
        for c in codes:
            g = mapping[c]
            if groups and groups[-1][1] == c - 1 and groups[-1][2] + c - groups[-1][0] == g:
                groups[-1][1] = c
            else:
                groups.append([c, c, g])
        sub12 = struct.pack(">HHIII", 12, 0, 16 + 12 * len(groups), 0, len(groups))
        sub12 += b"".join(struct.pack(">III", *grp) for grp in groups)
        subtables.append(((3, 10), sub12))
    out = struct.pack(">HH", 0, len(subtables))
    off = 4 + 8 * len(subtables)
    blobs = b""
    for (pid, eid), sub in subtables:
        out += struct.pack(">HHI", pid, eid, off + len(blobs))
        blobs += sub
    return out + blobs


def _checksum(data: bytes) -> int:
    padded = data + b"\0" * (-len(data) % 4)
    a = array("I", padded)
    a.byteswap()
    return sum(a) & 0xFFFFFFFF


def _assemble(tables: Mapping[str, bytes]) -> bytes:
    tags = sorted(tables)
    n = len(tags)
    search = 2 ** (n.bit_length() - 1)
    header = struct.pack(
        ">IHHHH", 0x00010000, n, 16 * search, search.bit_length() - 1, 16 * n - 16 * search
    )
    offset = 12 + 16 * n
    directory = b""
    body = bytearray()
    for tag in tags:
        data = tables[tag]
        directory += struct.pack(
            ">4sIII", tag.encode("latin-1"), _checksum(data), offset + len(body), len(data)
        )
        body += data
        body += b"\0" * (-len(body) % 4)
    font = bytearray(header + directory + body)
    adjust = (0xB1B0AFBA - _checksum(bytes(font))) & 0xFFFFFFFF
    head_off = offset + sum(
        len(tables[t]) + (-len(tables[t]) % 4) for t in tags[: tags.index("head")]
    )
    font[head_off + 8 : head_off + 12] = struct.pack(">I", adjust)
    return bytes(font)


def _family_name(data: bytes) -> str:
    count, string_off = struct.unpack(">HH", data[2:6])
    best: dict[tuple[int, int], str] = {}
    for i in range(count):
        pid, eid, lid, nid, length, off = struct.unpack(">6H", data[6 + 12 * i : 18 + 12 * i])
        if nid != 1:
            continue
        raw = data[string_off + off : string_off + off + length]
        if pid == 3 or pid == 0:
            try:
                text = raw.decode("utf-16-be")
            except UnicodeDecodeError:
                continue
            rank = (0 if lid == 0x409 else 1, 0)
        elif pid == 1 and eid == 0:
            text = raw.decode("latin-1")
            rank = (2, 0)
        else:
            continue
        best.setdefault(rank, text)
    return best[min(best)] if best else ""


_FACES: dict[tuple[str, int, float], FontFace] = {}
_FACES_LOCK = threading.Lock()


def load_face(path: str, index: int = 0) -> FontFace:
    """Load (once per process and file version) the face ``index`` of ``path``."""
    try:
        mtime = os.stat(path).st_mtime
    except FileNotFoundError:
        raise FontError(f"font file not found: {path}", f"找不到字体文件：{path}", path) from None
    key = (os.path.abspath(path), index, mtime)
    with _FACES_LOCK:
        face = _FACES.get(key)
    if face is None:
        face = FontFace(path, index)
        with _FACES_LOCK:
            _FACES[key] = face
    return face


@dataclass(frozen=True)
class RoleFont:
    """The face chosen for a role and how to draw it."""

    role: FontRole
    face: FontFace
    synthetic_bold: float
    substitute: bool  # True when an open substitute stands in for the official font


class FontSet:
    """The fonts of one rendering: a face per :class:`FontRole` plus glyph fallbacks."""

    def __init__(
        self, roles: Mapping[FontRole, RoleFont], fallbacks: Iterable[FontFace] = ()
    ) -> None:
        missing = [r for r in FontRole if r not in roles]
        if missing:
            names = "、".join(r.value for r in missing)
            raise FontError(f"no font for roles {missing}", f"未配置以下字体：{names}")
        self.roles = dict(roles)
        self.fallbacks = tuple(fallbacks)
        self._resolve_cache: dict[tuple[FontRole, str], FontFace] = {}

    @classmethod
    def load(
        cls,
        official: Mapping[FontRole | str, str | FontSpec] | None = None,
        *,
        allow_substitutes: bool = True,
    ) -> FontSet:
        """Fonts for rendering. ``official`` maps a role (``FontRole`` or its Chinese name,
        e.g. "仿宋") to a font path or :class:`FontSpec`; unconfigured roles use
        :data:`DEBIAN_SUBSTITUTES` unless ``allow_substitutes`` is false."""
        given: dict[FontRole, FontSpec] = {}
        for role, spec in (official or {}).items():
            r = FontRole(role) if not isinstance(role, FontRole) else role
            if not spec:
                continue
            given[r] = spec if isinstance(spec, FontSpec) else FontSpec(str(spec))
        roles = {}
        for role in FontRole:
            if role in given:
                spec, sub = given[role], False
            elif allow_substitutes:
                spec, sub = DEBIAN_SUBSTITUTES[role], True
            else:
                raise FontError(
                    f"no official font configured for {role.name}",
                    f"未配置{OFFICIAL_NAMES[role]}字体文件路径",
                )
            roles[role] = RoleFont(role, load_face(spec.path, spec.index), spec.synthetic_bold, sub)
        fallbacks = []
        for spec in _FALLBACKS:
            with contextlib.suppress(FontError):  # fallbacks are optional
                fallbacks.append(load_face(spec.path, spec.index))
        return cls(roles, fallbacks)

    @classmethod
    def default(cls) -> FontSet:
        """The Debian substitutes for every role."""
        return cls.load()

    def role(self, role: FontRole) -> RoleFont:
        return self.roles[role]

    def face_for(self, role: FontRole, ch: str) -> FontFace:
        """The face that draws ``ch`` in ``role``: the role's face, else a fallback that has
        the glyph; raises FontError if none has it."""
        face = self._face_or_none(role, ch)
        if face is None:
            raise FontError(
                f"no font has a glyph for U+{ord(ch):04X} {ch!r}",
                f"字体中没有字符「{ch}」（U+{ord(ch):04X}），无法排版",
            )
        return face

    def _face_or_none(self, role: FontRole, ch: str) -> FontFace | None:
        key = (role, ch)
        face = self._resolve_cache.get(key)
        if face is not None:
            return face
        primary = self.roles[role].face
        if primary.has(ch) or ch in "\n\t":
            face = primary
        else:
            face = next((f for f in self.fallbacks if f.has(ch)), None)
            if face is None:
                if not ch.isspace():
                    return None  # not cached: a miss is rare and costs a few dict lookups
                face = primary
        self._resolve_cache[key] = face
        return face

    def can_draw(self, ch: str) -> bool:
        """Whether every role draws ``ch`` (:meth:`face_for` finds a face for it): text that
        passes can be laid out in any element, also one whose role changes later (a body line
        that becomes a heading). A few dict lookups per character, no layout."""
        return all(self._face_or_none(role, ch) is not None for role in self.roles)

    def undrawable(self, text: str) -> list[str]:
        """The distinct characters of ``text`` that :meth:`can_draw` refuses, in the order
        they first appear (empty when the whole text can be typeset)."""
        return [ch for ch in dict.fromkeys(text) if not self.can_draw(ch)]

    def substituted(self) -> list[FontRole]:
        """Roles drawn with an open substitute instead of the official font."""
        return [r for r, rf in self.roles.items() if rf.substitute]
