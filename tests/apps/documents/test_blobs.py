"""The content-addressed blob store (R-OPS-2)."""

from __future__ import annotations

import hashlib
import io
import os

import pytest

from gongwen.documents import blobs


@pytest.fixture(autouse=True)
def blob_dir(settings, tmp_path):
    settings.GONGWEN = {**settings.GONGWEN, "BLOB_DIR": str(tmp_path / "blobs")}
    return tmp_path / "blobs"


def test_blob_is_named_by_its_sm3_digest(settings):
    settings.GONGWEN = {**settings.GONGWEN, "SUITE": "GM"}
    ref = blobs.put(b"gongwen")
    assert ref.digest == "sm3:" + hashlib.new("sm3", b"gongwen").hexdigest()
    assert ref.size == 7
    assert blobs.read(ref.digest) == b"gongwen"


def test_intl_suite_uses_sha256(settings):
    settings.GONGWEN = {**settings.GONGWEN, "SUITE": "INTL"}
    ref = blobs.put(b"gongwen")
    assert ref.digest == "sha256:" + hashlib.sha256(b"gongwen").hexdigest()


def test_same_bytes_are_stored_once(blob_dir):
    a = blobs.put(b"x" * 1000)
    b = blobs.put(b"x" * 1000)
    assert a == b
    files = [p for p in blob_dir.rglob("*") if p.is_file()]
    assert len(files) == 1


def test_blob_is_write_once():
    ref = blobs.put(b"original")
    path = blobs.path_for(ref.digest)
    assert not os.access(path, os.W_OK) or os.geteuid() == 0
    assert oct(path.stat().st_mode & 0o777) == oct(0o444)


def test_stream_matches_put():
    data = os.urandom(3 * 1024 * 1024 + 17)
    ref = blobs.put_stream(io.BytesIO(data))
    assert ref == blobs.put(data)
    assert blobs.verify(ref.digest)


def test_tampered_blob_fails_verification():
    ref = blobs.put(b"original")
    path = blobs.path_for(ref.digest)
    path.chmod(0o644)
    path.write_bytes(b"changed")
    assert not blobs.verify(ref.digest)


@pytest.mark.parametrize("digest", ["", "md5:00", "sm3:../../etc/passwd", "sm3:" + "g" * 64])
def test_malformed_digest_is_refused(digest):
    with pytest.raises(blobs.BlobError):
        blobs.path_for(digest)


def test_missing_blob_raises():
    with pytest.raises(blobs.BlobError):
        blobs.read("sm3:" + "0" * 64)
    assert not blobs.verify("sm3:" + "0" * 64)


def test_new_blobs_go_one_level_deep(blob_dir):
    ref = blobs.put(b"one level")
    name, hexdigest = ref.digest.split(":")
    assert blobs.path_for(ref.digest) == blob_dir / name / hexdigest[:2] / hexdigest
    assert blobs.path_for(ref.digest).is_file()


def _as_earlier_store(blob_dir, data: bytes) -> str:
    """A blob as a store written before 27 Nov 2026 keeps it: two directory levels."""
    hexdigest = hashlib.new("sm3", data).hexdigest()
    path = blob_dir / "sm3" / hexdigest[:2] / hexdigest[2:4] / hexdigest
    path.parent.mkdir(parents=True)
    path.write_bytes(data)
    path.chmod(0o444)
    return f"sm3:{hexdigest}"


def test_a_blob_of_the_earlier_two_level_layout_is_still_found(blob_dir, settings):
    settings.GONGWEN = {**settings.GONGWEN, "SUITE": "GM"}
    digest = _as_earlier_store(blob_dir, b"stored in 2026")
    assert blobs.exists(digest)
    assert blobs.read(digest) == b"stored in 2026"
    assert blobs.verify(digest)
    # The same bytes stored again: found there, not written a second time.
    assert blobs.put(b"stored in 2026").digest == digest
    assert blobs.put_stream(io.BytesIO(b"stored in 2026")).digest == digest
    assert [p for p in blob_dir.rglob("*") if p.is_file()] == [
        blob_dir / "sm3" / digest[4:6] / digest[6:8] / digest[4:]]


def test_a_digest_given_by_the_caller_names_the_blob(settings):
    """The PDF sealer passes the digest its signature's hashing gave: taken when it is of
    the store's algorithm (here SM3), hashed again when it is of another, refused when
    malformed."""
    settings.GONGWEN = {**settings.GONGWEN, "SUITE": "GM"}
    data = b"sealed file"
    own = "sm3:" + hashlib.new("sm3", data).hexdigest()
    assert blobs.put(data, digest=own).digest == own
    assert blobs.read(own) == data
    other = "sha256:" + hashlib.sha256(data).hexdigest()
    assert blobs.put(data, digest=other).digest == own
    with pytest.raises(blobs.BlobError):
        blobs.put(data, digest="sm3:not-hex")


def _files(blob_dir):
    return sorted(p.name for p in blob_dir.rglob("*") if p.is_file())


@pytest.mark.skipif(not hasattr(os, "O_TMPFILE"), reason="needs Linux O_TMPFILE")
def test_a_blob_is_written_unnamed_and_linked_into_place(blob_dir, monkeypatch):
    """On Linux no temporary name is made: the file is created unnamed and linked."""
    def no_named_file(*args, **kwargs):
        raise AssertionError("a named temporary file was made")

    monkeypatch.setattr(blobs, "_unnamed_works", True)
    monkeypatch.setattr(blobs.tempfile, "mkstemp", no_named_file)
    ref = blobs.put(b"unnamed first")
    assert blobs.read(ref.digest) == b"unnamed first"
    assert oct(blobs.path_for(ref.digest).stat().st_mode & 0o777) == oct(0o444)
    assert _files(blob_dir) == [ref.hex]


def test_without_o_tmpfile_a_named_temporary_file_is_used(blob_dir, monkeypatch):
    monkeypatch.delattr(os, "O_TMPFILE", raising=False)
    ref = blobs.put(b"named on this platform")
    assert blobs.read(ref.digest) == b"named on this platform"
    assert oct(blobs.path_for(ref.digest).stat().st_mode & 0o777) == oct(0o444)
    assert _files(blob_dir) == [ref.hex]  # the temporary name is gone


def test_a_link_refused_falls_back_to_a_named_file(blob_dir, monkeypatch):
    """/proc unavailable or a file system that refuses the link: the blob is written
    again under a temporary name, and nothing is left behind."""
    monkeypatch.setattr(blobs, "_unnamed_works", True)
    real_link = os.link

    def link(src, dst, *, src_dir_fd=None, **kwargs):
        if src_dir_fd is not None:
            raise OSError(18, "Invalid cross-device link")
        return real_link(src, dst, **kwargs)

    monkeypatch.setattr(blobs.os, "link", link)
    ref = blobs.put(b"linked the old way")
    assert blobs.read(ref.digest) == b"linked the old way"
    assert blobs.verify(ref.digest)
    assert _files(blob_dir) == [ref.hex]


def test_a_failed_write_leaves_nothing(blob_dir):
    def broken(fh):
        fh.write(b"half")
        raise OSError(28, "No space left on device")

    digest = blobs.digest_of(b"whole")
    with pytest.raises(OSError):
        blobs._store(digest, 5, broken)
    assert not blobs.exists(digest)
    assert _files(blob_dir) == []


@pytest.mark.parametrize("unnamed", [True, False])
def test_blobs_are_read_only_for_all_whatever_the_umask(blob_dir, monkeypatch, unnamed):
    """A service started with umask 077 still stores 0444 blobs (backups read them)."""
    if not unnamed:
        monkeypatch.delattr(os, "O_TMPFILE", raising=False)
    old = os.umask(0o077)
    try:
        ref = blobs.put(b"umask " + str(unnamed).encode())
    finally:
        os.umask(old)
    assert oct(blobs.path_for(ref.digest).stat().st_mode & 0o777) == oct(0o444)


def test_after_a_refused_link_the_process_goes_the_named_way_at_once(blob_dir, monkeypatch):
    """One refusal is remembered: later blobs are not written twice."""
    monkeypatch.setattr(blobs, "_unnamed_works", True)
    real_link = os.link
    tries = []

    def link(src, dst, *, src_dir_fd=None, **kwargs):
        if src_dir_fd is not None:
            tries.append(dst)
            raise OSError(1, "Operation not permitted")
        return real_link(src, dst, **kwargs)

    monkeypatch.setattr(blobs.os, "link", link)
    first, second = blobs.put(b"first"), blobs.put(b"second")
    assert len(tries) == 1
    assert blobs.read(first.digest) == b"first" and blobs.read(second.digest) == b"second"
    assert _files(blob_dir) == sorted([first.hex, second.hex])
