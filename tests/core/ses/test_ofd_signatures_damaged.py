"""A damaged zip never escapes as a stray exception: read_package reports MalformedSES."""

from __future__ import annotations

import io
import zipfile

import pytest

from gongwen.seals.ses.errors import MalformedSES
from gongwen.seals.ses.ofd_signatures import read_package


def _zip(data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("OFD.xml", data)
    return buf.getvalue()


def test_corrupt_deflate_stream_is_malformed():
    package = bytearray(_zip(b"<ofd:OFD>" + b"x" * 2000 + b"</ofd:OFD>"))
    start = package.index(b"OFD.xml") + len(b"OFD.xml")  # the local header's file name ends
    for i in range(start + 2, start + 12):
        package[i] ^= 0xFF
    with pytest.raises(MalformedSES):
        read_package(bytes(package))


@pytest.mark.parametrize("data", [b"", b"PK\x03\x04", b"not a zip at all"])
def test_garbage_is_malformed(data):
    with pytest.raises(MalformedSES):
        read_package(data)
