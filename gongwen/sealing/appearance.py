"""The visible seal: a PNG turned into PDF image XObjects (ISO 32000-1 §8.9.5, §11.6.5.3).

A transparent seal image (RGBA PNG from :mod:`gongwen.seals.ses.image`) becomes an RGB image
XObject with its alpha channel as a soft mask (``/SMask``, a DeviceGray image). Converting
and compressing a 600 dpi seal costs tens of milliseconds, so the result is cached per image
(a unit seals many documents with the same seal image); the object bodies do not depend on
object numbers except the ``/SMask`` reference, which is filled in when writing.
"""

from __future__ import annotations

import hashlib
import io
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass

from .errors import SealingError

__all__ = ["SealImage", "seal_image"]

_CACHE_SIZE = 16
_cache: OrderedDict[bytes, SealImage] = OrderedDict()
_lock = threading.Lock()


@dataclass(frozen=True)
class SealImage:
    """Encoded image XObject parts: ``rgb`` (Flate, DeviceRGB), ``alpha`` (Flate,
    DeviceGray soft mask) or ``None`` when the picture is opaque."""

    width: int
    height: int
    rgb: bytes
    alpha: bytes | None

    def image_dict(self, smask_ref: bytes | None) -> bytes:
        smask = b"/SMask " + smask_ref if smask_ref is not None else b""
        return (
            b"<</Type/XObject/Subtype/Image/Width %d/Height %d/ColorSpace/DeviceRGB"
            b"/BitsPerComponent 8/Filter/FlateDecode%s/Length %d>>"
            % (self.width, self.height, smask, len(self.rgb))
        )

    def smask_dict(self) -> bytes:
        assert self.alpha is not None
        return (
            b"<</Type/XObject/Subtype/Image/Width %d/Height %d/ColorSpace/DeviceGray"
            b"/BitsPerComponent 8/Filter/FlateDecode/Length %d>>"
            % (self.width, self.height, len(self.alpha))
        )


def _convert(png: bytes) -> SealImage:
    from PIL import Image

    try:
        im = Image.open(io.BytesIO(png))
        im.load()
    except Exception as exc:
        raise SealingError(
            f"cannot read the seal image: {exc}", message_zh="无法读取印章图像"
        ) from exc
    if im.mode not in ("RGBA", "LA", "P", "RGB", "L"):
        im = im.convert("RGBA")
    if im.mode == "P":
        im = im.convert("RGBA")
    alpha = None
    if im.mode in ("RGBA", "LA"):
        a = im.getchannel("A")
        if a.getextrema() != (255, 255):
            alpha = zlib.compress(a.tobytes(), 6)
    rgb = im.convert("RGB")
    return SealImage(im.width, im.height, zlib.compress(rgb.tobytes(), 6), alpha)


def seal_image(png: bytes) -> SealImage:
    """The (cached) XObject parts for a seal PNG."""
    key = hashlib.sha256(png).digest()
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    img = _convert(png)
    with _lock:
        _cache[key] = img
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return img
