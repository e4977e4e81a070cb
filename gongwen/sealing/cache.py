"""Safe caches of the verification path (issue 9 performance).

Verifying a sealed document parses the same few certificates and CRLs and validates the same
certificate chain over and over (the recipient opens a delivery, 签收 checks again). These
bounded LRU caches keep what does not depend on time or on the database:

* parsed CRLs and certificate summaries, **by the SHA-256 of their DER** (the same bytes
  always parse the same way; a changed byte is another key); parsed certificates are kept
  by ``gongwen.pki.x509.load_certificate`` itself, for every caller;
* the page text of a sealed file, by the SHA-256 of the file;
* successful chain validations, keyed by the exact DER digests of the end certificate, the
  trust anchors, the intermediates and **the CRLs in use**, and the key usages asked for.
  A result is reused only when the validation time lies strictly inside the window where the
  cold validation is bound to give the same answer: every certificate of the path within
  its validity, every CRL between thisUpdate and nextUpdate, and before any revocation date
  the CRLs list for a certificate of the path. A newly published CRL is other bytes, hence
  another key: a revocation is never missed. Failures are not cached.

Pure core: no Django. The caches are per process and thread-safe.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Sequence
from datetime import datetime
from typing import Any

__all__ = ["LRU", "certificate", "certificate_info", "clear", "crl", "digest", "page_text",
           "stats", "validate_chain"]


class LRU:
    """A bounded, thread-safe least-recently-used map with hit/miss counters."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, default: Any = None) -> Any:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                self.hits += 1
                return self._data[key]
            self.misses += 1
            return default

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def get_or_make(self, key: Hashable, make: Callable[[], Any]) -> Any:
        missing = object()
        found = self.get(key, missing)
        if found is not missing:
            return found
        value = make()  # outside the lock: parsing may be slow; a race only parses twice
        self.put(key, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._data)


_CRLS = LRU(64)
_INFO = LRU(256)
_TEXT = LRU(64)
_CHAINS = LRU(1024)
_ALL = {"crls": _CRLS, "certificate_info": _INFO, "page_text": _TEXT,
        "chains": _CHAINS}


def digest(data: bytes | bytearray | memoryview) -> bytes:
    return hashlib.sha256(bytes(data)).digest()


def clear() -> None:
    for lru in _ALL.values():
        lru.clear()


def stats() -> dict[str, dict[str, int]]:
    return {name: {"size": len(lru), "hits": lru.hits, "misses": lru.misses}
            for name, lru in _ALL.items()}


def certificate(der: bytes) -> Any:
    """The parsed certificate (asn1crypto, fully parsed by ``load_certificate``, which keeps
    the parse per process). Callers must not modify it."""
    from gongwen.pki.x509 import load_certificate

    return load_certificate(der)


def crl(der: bytes) -> Any:
    """The parsed CRL (asn1crypto). Callers must not modify it."""
    from gongwen.pki.crl import load_crl

    if not isinstance(der, (bytes, bytearray, memoryview)):
        return load_crl(der)
    return _CRLS.get_or_make(digest(der), lambda: load_crl(bytes(der)))


def certificate_info(der: bytes) -> Any:
    """``gongwen.pki.x509.certificate_info`` (a frozen summary) of the certificate."""
    from gongwen.pki.x509 import certificate_info as info

    return _INFO.get_or_make(digest(der), lambda: info(certificate(der)))


def page_text(data: bytes, file_format: str, extract: Callable[[bytes, str], str]) -> str:
    """``extract(data, file_format)``, once per file content."""
    return _TEXT.get_or_make((digest(data), file_format), lambda: extract(data, file_format))


def _window(path: Sequence[Any], crls: Sequence[Any]) -> tuple[datetime, datetime] | None:
    """Where a success of the cold validation with these certificates and CRLs is bound to
    repeat: (lower, upper), lower bound included, upper excluded. None when there is no such window."""
    lows: list[datetime] = []
    highs: list[datetime] = []
    serials = set()
    for c in path:
        validity = c["tbs_certificate"]["validity"]
        lows.append(validity["not_before"].native)
        highs.append(validity["not_after"].native)
        serials.add(c.serial_number)
    for cl in crls:
        tbs = cl["tbs_cert_list"]
        lows.append(tbs["this_update"].native)
        nxt = tbs["next_update"].native
        if nxt is None:
            return None
        highs.append(nxt)
        for entry in tbs["revoked_certificates"]:
            if entry["user_certificate"].native in serials:
                # Listed (maybe with a later revocation date): only before that date.
                highs.append(entry["revocation_date"].native)
    lo, hi = max(lows), min(highs)
    return (lo, hi) if lo < hi else None


def validate_chain(cert_der: bytes, anchors: Iterable[bytes], intermediates: Iterable[bytes],
                   crls: Iterable[bytes], at: datetime, *,
                   key_usage: Iterable[str] | None = None) -> bool:
    """``gongwen.pki.crl.validate_chain`` of ``cert_der`` at ``at`` with exactly these trust
    anchors, intermediates and CRLs; raises its PKIError on failure. Returns True when a
    cached success was reused (see the module docstring), False after a cold validation."""
    from gongwen.pki import crl as pki_crl

    anchors, intermediates, crls = list(anchors), list(intermediates), list(crls)
    usage = tuple(sorted(key_usage or ()))
    key = (digest(cert_der), tuple(map(digest, anchors)), tuple(map(digest, intermediates)),
           tuple(map(digest, crls)), usage)
    window = _CHAINS.get(key)
    if window is not None and window[0] <= at < window[1]:
        return True
    parsed_crls = [crl(c) for c in crls]
    path = pki_crl.validate_chain(certificate(cert_der), [certificate(a) for a in anchors],
                                  [certificate(c) for c in intermediates], parsed_crls, at,
                                  key_usage=usage or None)
    window = _window(path, parsed_crls)
    # From the window's start inclusive (notBefore and thisUpdate are: a CRL published in
    # the very second of the check is in force), to its end exclusive.
    if window is not None and window[0] <= at < window[1]:
        _CHAINS.put(key, window)
    return False
