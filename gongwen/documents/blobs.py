"""Content-addressed blob store for uploads and renditions (R-OPS-2).

A blob is named by the digest of its bytes: ``sm3:<64 hex>`` on the GM suite (the default),
``sha256:<64 hex>`` on the INTL suite or where the Python build has no SM3. Files live under
``settings.GONGWEN["BLOB_DIR"]/<algorithm>/<2 hex>/<hex>``: one level of 256 directories, as
in git's object store (ext4 indexes large directories; a million blobs are ~4 000 files a
directory). Stores written before 27 Nov 2026 used two levels, ``<2 hex>/<2 hex>/<hex>``:
those files are still found where they are (read only; nothing is moved). The two-level
fan-out has 65 536 leaf directories, so a young store created a directory for nearly every
file it wrote, which cost more than writing the file (~2.5 ms per sealed document in
``gongwen bench exchange``); one level has them all after a few hundred files.

Blobs are write-once: storing the same bytes twice keeps one file (in either layout), and an
existing file is never rewritten. A file is written unnamed (``O_TMPFILE``; a temporary
name where the platform has none) in the target directory, synced, and linked into place, so a
reader never sees half a blob and concurrent writers of the same bytes do not collide.

Rows that point at a blob keep the digest string; a database rollback may leave an orphan
file, which is harmless (the same bytes stored later reuse it).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.conf import settings

__all__ = ["BlobError", "BlobRef", "algorithm", "digest_of", "exists", "open_blob", "path_for",
           "put", "put_stream", "read", "verify"]

_CHUNK = 1 << 20
_HEX = frozenset("0123456789abcdef")


class BlobError(Exception):
    """A missing, malformed or corrupted blob."""


@dataclass(frozen=True)
class BlobRef:
    digest: str  # "sm3:…" or "sha256:…"
    size: int

    @property
    def algorithm(self) -> str:
        return self.digest.split(":", 1)[0]

    @property
    def hex(self) -> str:
        return self.digest.split(":", 1)[1]


def algorithm() -> str:
    """The digest algorithm of new blobs: SM3 on the GM suite when available, else SHA-256."""
    suite = str(getattr(settings, "GONGWEN", {}).get("SUITE", "GM")).upper()
    if suite == "GM" and "sm3" in hashlib.algorithms_available:
        return "sm3"
    return "sha256"


def _root() -> str:
    # Paths are strings inside this module: a blob's places are computed several times per
    # document in the exchange, and pathlib's joins cost more than the file lookups.
    return os.fspath(settings.GONGWEN["BLOB_DIR"])


def _hasher(name: str):
    return hashlib.new(name)


def _split(digest: str) -> tuple[str, str]:
    try:
        name, hexdigest = digest.split(":", 1)
    except ValueError:
        raise BlobError(f"malformed blob digest: {digest!r}") from None
    if name not in ("sm3", "sha256") or len(hexdigest) != 64 or not set(hexdigest) <= _HEX:
        raise BlobError(f"malformed blob digest: {digest!r}")
    return name, hexdigest


def _places(digest: str) -> tuple[str, str]:
    """Where the blob ``digest`` is written (and read first), and where a store written
    before 27 Nov 2026 keeps it (two levels; read only)."""
    name, hexdigest = _split(digest)
    folder = f"{_root()}/{name}/{hexdigest[:2]}"
    return f"{folder}/{hexdigest}", f"{folder}/{hexdigest[2:4]}/{hexdigest}"


def path_for(digest: str) -> Path:
    """Where the blob ``digest`` is written (and read first)."""
    return Path(_places(digest)[0])


def _stored_at(places: tuple[str, str]) -> str | None:
    """The first of a blob's ``_places`` that holds it, or None."""
    for path in places:
        if os.path.isfile(path):
            return path
    return None


def exists(digest: str) -> bool:
    return _stored_at(_places(digest)) is not None


def put(data: bytes, *, digest: str | None = None) -> BlobRef:
    """Store ``data`` (once) and return its reference. ``digest``: ``"<algorithm>:<hex>"``
    of ``data`` when the caller has computed it while making the bytes (the PDF sealer
    does: its signature hashes the file anyway); used when its algorithm is the store's,
    else the bytes are hashed here."""
    name = algorithm()
    if digest is None or not digest.startswith(f"{name}:"):
        digest = digest_of(data)
    else:
        _split(digest)  # well-formed, or BlobError
    return _store(digest, len(data), lambda fh: fh.write(data))


def digest_of(data: bytes, like: str | None = None) -> str:
    """The blob name of ``data`` ("sm3:<hex>"): in the store's algorithm, or with ``like``
    (another blob name) in that one."""
    name = _split(like)[0] if like else algorithm()
    h = _hasher(name)
    h.update(data)
    return f"{name}:{h.hexdigest()}"


def put_stream(stream: BinaryIO | Iterator[bytes]) -> BlobRef:
    """Store a file object or an iterator of chunks without holding it all in memory."""
    name = algorithm()
    h = _hasher(name)
    size = 0
    root = _root()
    os.makedirs(root, exist_ok=True)
    chunks = iter(lambda: stream.read(_CHUNK), b"") if hasattr(stream, "read") else stream
    fd, tmp = tempfile.mkstemp(prefix=".incoming-", dir=root)
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:
                h.update(chunk)
                size += len(chunk)
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        digest = f"{name}:{h.hexdigest()}"
        places = _places(digest)
        if _stored_at(places) is None:  # else the same bytes are already there
            _link_into_place(tmp, places[0])
        return BlobRef(digest, size)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _store(digest: str, size: int, write) -> BlobRef:
    places = _places(digest)
    if _stored_at(places) is not None:
        return BlobRef(digest, size)  # dedup: the same bytes are already there
    target = places[0]
    folder = os.path.dirname(target)
    os.makedirs(folder, exist_ok=True)
    if not _store_unnamed(folder, target, write):
        _store_named(folder, target, write)
    return BlobRef(digest, size)


# False once this process found that unnamed files cannot be made or linked here: every
# later blob goes the named way at once instead of being written twice.
_unnamed_works = True


def _store_unnamed(folder: str, target: str, write) -> bool:
    """Write the blob into an unnamed file of ``folder`` (Linux ``O_TMPFILE``) and link it
    at ``target`` through ``/proc/self/fd``. Two directory operations fewer than a named
    temporary file (its creation and its removal): about a third less time per blob on
    ext4, and a crash leaves no temporary file behind. False where the platform, the file
    system or a missing ``/proc`` does not allow it (nothing is left behind then; ``write``
    is then run again for the named file, so it must be repeatable)."""
    global _unnamed_works
    flag = getattr(os, "O_TMPFILE", 0)
    if not flag or not _unnamed_works:
        return False
    try:
        fd = os.open(folder, flag | os.O_WRONLY, 0o444)
    except OSError:
        _unnamed_works = False
        return False
    try:
        with os.fdopen(fd, "wb", closefd=False) as fh:
            write(fh)
            fh.flush()
            os.fchmod(fd, 0o444)  # write-once, whatever the process's umask
            os.fsync(fd)
        try:
            proc = os.open("/proc/self/fd", os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            _unnamed_works = False
            return False
        try:
            # linkat(…, AT_SYMLINK_FOLLOW) on the descriptor's /proc entry names the file.
            os.link(str(fd), target, src_dir_fd=proc)
        except FileExistsError:
            pass  # the same bytes are there: never overwrite
        except OSError:
            _unnamed_works = False
            return False
        finally:
            os.close(proc)
    finally:
        os.close(fd)
    return True


def _store_named(folder: str, target: str, write) -> None:
    """Write the blob to a named temporary file of ``folder`` and link it at ``target``."""
    fd, tmp = tempfile.mkstemp(prefix=".incoming-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        _link_into_place(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _link_into_place(tmp: str, target: str) -> None:
    os.makedirs(os.path.dirname(target), exist_ok=True)
    os.chmod(tmp, 0o444)  # write-once: nobody edits a blob in place
    with contextlib.suppress(FileExistsError):  # the same bytes are there: never overwrite
        os.link(tmp, target)


def open_blob(digest: str) -> BinaryIO:
    for path in _places(digest):
        try:
            return open(path, "rb")
        except FileNotFoundError:
            continue
    raise BlobError(f"blob not found: {digest}")


def read(digest: str) -> bytes:
    with open_blob(digest) as fh:
        return fh.read()


def verify(digest: str) -> bool:
    """True when the stored bytes still hash to their name."""
    name, hexdigest = _split(digest)
    h = _hasher(name)
    try:
        with open_blob(digest) as fh:
            for chunk in iter(lambda: fh.read(_CHUNK), b""):
                h.update(chunk)
    except BlobError:
        return False
    return h.hexdigest() == hexdigest
