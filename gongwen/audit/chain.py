"""Hash chain of the audit trail (R-AUDIT-1). Pure Python: no Django here.

Each entry's hash covers a canonical JSON encoding of its content together with the hash of
the previous entry, so an edited, deleted or inserted row breaks the chain from that point.
SM3 (GB/T 32905) is used when the Python build's OpenSSL provides it, else SHA-256; the
algorithm is stored in every entry so that a verifier always knows which one to apply.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

GENESIS_HASH = "0" * 64


def default_algorithm() -> str:
    try:
        hashlib.new("sm3")
    except ValueError:
        return "sha256"
    return "sm3"


def canonical_bytes(content: Mapping[str, Any]) -> bytes:
    """Deterministic encoding: sorted keys, no whitespace, UTF-8 (Chinese kept as is)."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str).encode("utf-8")


def entry_hash(algorithm: str, prev_hash: str, content: Mapping[str, Any]) -> str:
    h = hashlib.new(algorithm)
    h.update(prev_hash.encode("ascii"))
    h.update(b"\n")
    h.update(canonical_bytes(content))
    return h.hexdigest()


@dataclass(frozen=True)
class ChainEntry:
    seq: int
    algorithm: str
    prev_hash: str
    hash: str
    content: Mapping[str, Any]
    ref: Any = None  # the caller's handle (e.g. a primary key), reported back on failure


@dataclass(frozen=True)
class Checkpoint:
    """The chain head (``seq``, ``hash``) at time ``at`` (ISO 8601), MACed with a key kept
    outside the database, so that rewriting the chain up to ``seq`` and recomputing its
    hashes no longer matches (see ``checkpoint_mac``)."""

    seq: int
    hash: str
    at: str
    algorithm: str
    key_id: str
    mac: str
    source: str  # where it was read, for messages: "#3 in the database"
    source_zh: str  # the same in Chinese: "数据库第 3 号"


def key_id(key: bytes) -> str:
    """A short public name of a checkpoint key, to tell a checkpoint made with another key
    from a forged one."""
    return hashlib.sha256(b"gongwen audit checkpoint key\n" + key).hexdigest()[:16]


def checkpoint_mac(key: bytes, algorithm: str, seq: int, head_hash: str, at: str) -> str:
    """HMAC (RFC 2104) with ``algorithm`` (SM3 where available) over the checkpoint's fields."""
    message = f"gongwen audit checkpoint\n{seq}\n{head_hash}\n{at}".encode("ascii")
    return hmac.new(key, message, algorithm).hexdigest()


def checkpoint_is_genuine(key: bytes, cp: Checkpoint) -> bool:
    try:
        expected = checkpoint_mac(key, cp.algorithm, cp.seq, cp.hash, cp.at)
    except (ValueError, TypeError, UnicodeEncodeError):  # no such algorithm, or garbage
        return False
    return hmac.compare_digest(expected.encode("ascii"), cp.mac.encode("utf-8"))


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    ref: Any
    reason: str  # English, for logs and the CLI
    reason_zh: str


def verify(entries: Iterable[ChainEntry], head_seq: int | None = None,
           head_hash: str | None = None, checkpoints: Sequence[Checkpoint] = (),
           key: bytes | None = None) -> ChainBreak | None:
    """Return the first break in ``entries`` (ordered by seq), or None when intact.

    ``head_seq``/``head_hash`` are the chain head recorded separately: they detect the
    deletion of the newest entries, which no link check can see.

    ``checkpoints`` (signed heads, see ``Checkpoint``) are checked with ``key``: each must be
    genuine and match the entry of its ``seq``. They catch what the links cannot: a chain
    rewritten from some entry on with every later hash and the head recomputed.
    """
    if checkpoints:
        if key is None:
            newest = max(checkpoints, key=lambda cp: cp.seq)
            return ChainBreak(newest.seq, None,
                              f"{len(checkpoints)} signed checkpoints, but the checkpoint key "
                              "is missing: they cannot be checked",
                              f"有 {len(checkpoints)} 个签名检查点，但检查点密钥缺失，无法校验")
        ours = key_id(key)
        for cp in checkpoints:
            if not checkpoint_is_genuine(key, cp):
                other = f" (made with key {cp.key_id}, ours is {ours})" if cp.key_id != ours \
                    else ""
                return ChainBreak(cp.seq, None,
                                  f"checkpoint ({cp.source}) for entry #{cp.seq} has an invalid "
                                  f"MAC: forged or altered{other}",
                                  f"检查点（{cp.source_zh}，第 {cp.seq} 条）的签名无效："
                                  "被伪造或修改")
    due: dict[int, list[Checkpoint]] = {}
    for cp in checkpoints:
        due.setdefault(cp.seq, []).append(cp)
    matched = 0  # the newest checkpointed entry found as it was signed
    expected_seq = 1
    prev = GENESIS_HASH
    last: ChainEntry | None = None
    for entry in entries:
        if entry.seq != expected_seq:
            kind = "deleted" if entry.seq > expected_seq else "inserted or duplicated"
            return ChainBreak(entry.seq, entry.ref,
                              f"sequence gap: expected {expected_seq}, found {entry.seq} "
                              f"(an entry was {kind})",
                              f"序号不连续：应为 {expected_seq}，实为 {entry.seq}")
        if entry.prev_hash != prev:
            return ChainBreak(entry.seq, entry.ref, "link to the previous entry is broken",
                              "与前一条记录的链接被破坏")
        if entry_hash(entry.algorithm, entry.prev_hash, entry.content) != entry.hash:
            return ChainBreak(entry.seq, entry.ref, "content does not match its hash (edited)",
                              "记录内容与其哈希不符（被修改）")
        for cp in due.pop(entry.seq, ()):
            if cp.hash != entry.hash:
                return ChainBreak(entry.seq, entry.ref,
                                  f"entry #{entry.seq} does not match the checkpoint "
                                  f"({cp.source}) made {cp.at}: entries #{matched + 1} to #{entry.seq} "
                                  "were rewritten (hashes recomputed)",
                                  f"第 {entry.seq} 条记录与 {cp.at} 的签名检查点"
                                  f"（{cp.source_zh}）不符：第 {matched + 1} 至 "
                                  f"{entry.seq} 条记录被改写")
            matched = entry.seq
        prev = entry.hash
        expected_seq += 1
        last = entry
    if due:
        last_seq = last.seq if last else 0
        cp = due[min(due)][0]
        return ChainBreak(cp.seq, None,
                          f"checkpoint ({cp.source}) made {cp.at} signs entry #{cp.seq}, but the "
                          f"chain ends at #{last_seq} (newest entries deleted)",
                          f"{cp.at} 的签名检查点（{cp.source_zh}）记录到第 {cp.seq} 条，"
                          f"链上只有 {last_seq} 条（末尾记录被删除）")
    if head_seq is not None:
        last_seq = last.seq if last else 0
        if last_seq != head_seq or (last is not None and head_hash and last.hash != head_hash):
            return ChainBreak(last_seq + 1, None,
                              f"chain head says {head_seq} entries, found {last_seq} "
                              "(newest entries deleted or head altered)",
                              f"链头记录 {head_seq} 条，实有 {last_seq} 条（末尾记录被删除）")
    return None

