"""Hash chain of the audit trail (R-AUDIT-1). Pure Python: no Django here.

Each entry's hash covers a canonical JSON encoding of its content together with the hash of
the previous entry, so an edited, deleted or inserted row breaks the chain from that point.
SM3 (GB/T 32905) is used when the Python build's OpenSSL provides it, else SHA-256; the
algorithm is stored in every entry so that a verifier always knows which one to apply.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
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
class ChainBreak:
    seq: int
    ref: Any
    reason: str  # English, for logs and the CLI
    reason_zh: str


def verify(entries: Iterable[ChainEntry], head_seq: int | None = None,
           head_hash: str | None = None) -> ChainBreak | None:
    """Return the first break in ``entries`` (ordered by seq), or None when intact.

    ``head_seq``/``head_hash`` are the chain head recorded separately: they detect the
    deletion of the newest entries, which no link check can see.
    """
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
        prev = entry.hash
        expected_seq += 1
        last = entry
    if head_seq is not None:
        last_seq = last.seq if last else 0
        if last_seq != head_seq or (last is not None and head_hash and last.hash != head_hash):
            return ChainBreak(last_seq + 1, None,
                              f"chain head says {head_seq} entries, found {last_seq} "
                              "(newest entries deleted or head altered)",
                              f"链头记录 {head_seq} 条，实有 {last_seq} 条（末尾记录被删除）")
    return None
