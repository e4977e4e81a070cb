"""Tools to forge sealed OFDs for the tamper tests: re-sign a signature as an insider holding
some key would (bypassing the builder's refusals), and DER surgery on seals."""

from __future__ import annotations

import base64
import random
import re
from collections.abc import Callable
from datetime import datetime

from asn1crypto import core

from gongwen.pki.suites import get_suite, sm3
from gongwen.seals.ses.asn1 import OID_SM3_WITH_SM2, bit_string, encode_sequence, split_sequence

from .conftest import SIGNED_AT, Unit

GM = get_suite("GM")


def resign(
    files: dict[str, bytes],
    sign_dir: str,
    unit: Unit,
    *,
    edit: Callable[[str], str] | None = None,
    seal: bytes | None = None,
    cert: bytes | None = None,
    key=None,
    when: datetime = SIGNED_AT,
) -> dict[str, bytes]:
    """A copy of ``files`` whose ``sign_dir`` signature is rebuilt: Signature.xml optionally
    edited, Seal.esl replaced by ``seal``, every Reference digest recomputed, dataHash and
    the SM2 signature over TBS_Sign made with ``key`` (default the unit's) and ``cert`` put
    in SES_Signature (default the unit's)."""
    out = dict(files)
    seal = seal if seal is not None else out[f"{sign_dir}/Seal.esl"]
    out[f"{sign_dir}/Seal.esl"] = seal
    xml = out[f"{sign_dir}/Signature.xml"].decode()
    if edit is not None:
        xml = edit(xml)

    def digest(m: re.Match) -> str:
        value = base64.b64encode(sm3(out[m.group(1).lstrip("/")])).decode()
        return f'<ofd:Reference FileRef="{m.group(1)}"><ofd:CheckValue>{value}</ofd:CheckValue>'

    xml = re.sub(
        r'<ofd:Reference FileRef="([^"]+)"><ofd:CheckValue>[^<]*</ofd:CheckValue>', digest, xml
    )
    sig_xml = xml.encode()
    tbs = encode_sequence(
        core.Integer(4).dump(),
        seal,
        core.GeneralizedTime(when).dump(),
        bit_string(sm3(sig_xml)).dump(),
        core.IA5String(f"/{sign_dir}/Signature.xml").dump(),
    )
    signature = GM.sign(key or unit.key, tbs)
    out[f"{sign_dir}/Signature.xml"] = sig_xml
    out[f"{sign_dir}/SignedValue.dat"] = encode_sequence(
        tbs,
        core.OctetString(cert or unit.cert).dump(),
        core.ObjectIdentifier(OID_SM3_WITH_SM2).dump(),
        bit_string(signature).dump(),
    )
    return out


def _seal_parts(seal_der: bytes) -> tuple[list[bytes], list[bytes]]:
    seal = split_sequence(seal_der)  # eSealInfo, cert, signAlgID, signedValue
    info = split_sequence(seal[0])  # header, esID, property, picture
    return seal, info


def replace_picture(seal_der: bytes, png: bytes) -> bytes:
    """The seal with another picture; the maker's signature is kept (and so no longer fits)."""
    seal, info = _seal_parts(seal_der)
    pic = split_sequence(info[3])  # type, data, width, height
    info[3] = encode_sequence(pic[0], core.OctetString(png).dump(), pic[2], pic[3])
    return encode_sequence(encode_sequence(*info), *seal[1:])


def replace_cert_list(seal_der: bytes, certs: list[bytes]) -> bytes:
    seal, info = _seal_parts(seal_der)
    prop = split_sequence(info[2])  # type, name, certListType, certList, dates…
    prop[3] = encode_sequence(*(core.OctetString(c).dump() for c in certs))
    info[2] = encode_sequence(*prop)
    return encode_sequence(encode_sequence(*info), *seal[1:])


def replace_maker_cert(seal_der: bytes, cert: bytes) -> bytes:
    seal, _ = _seal_parts(seal_der)
    return encode_sequence(seal[0], core.OctetString(cert).dump(), *seal[2:])


def flip(data: bytes, pos: int, mask: int = 0x01) -> bytes:
    b = bytearray(data)
    b[pos] ^= mask
    return bytes(b)


def sample_positions(sizes: dict[str, int], total: int, *, seed: int = 9704,
                     minimum: int = 8) -> list[tuple[str, int]]:  # fmt: skip
    """About ``total`` (name, offset) pairs spread over the files in proportion to their size,
    at least ``minimum`` per file plus its first and last byte; deterministic."""
    rng = random.Random(seed)
    whole = sum(sizes.values())
    out: list[tuple[str, int]] = []
    for name, size in sizes.items():
        k = max(minimum, round(total * size / whole))
        picks = {0, size - 1} | {rng.randrange(size) for _ in range(k)}
        out.extend((name, p) for p in sorted(picks))
    return out
