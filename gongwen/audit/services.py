"""Writing and checking the audit trail. ``record`` is called inside every service that
changes security-relevant state, in the same transaction, so the audit row and the change
commit or roll back together."""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, models, transaction
from django.http import Http404
from django.utils import timezone

from . import chain
from .models import AuditCheckpoint, AuditEntry, AuditHead

_ALGORITHM = chain.default_algorithm()
log = logging.getLogger("gongwen.audit")


def _content(entry: AuditEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": entry.at.isoformat(),
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "unit_id": entry.unit_id,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "target_repr": entry.target_repr,
        "detail": entry.detail,
        "ip": entry.ip,
    }


def client_ip(request) -> str:
    if request is None:
        return ""
    return request.META.get("REMOTE_ADDR", "")[:64]


def record(actor, action: str, target: models.Model | None = None, *, unit=None,
           detail: dict[str, Any] | None = None, request=None, actor_name: str = "",
           target_repr: str | None = None) -> AuditEntry:
    """Append one entry to the chain, in the caller's transaction.

    Inside an ``audited()`` transaction (every ``policy.verbs.verb``, the PKI operator verbs,
    seal execution) the entry is only *prepared* here and appended when that transaction's
    body ends, as its last writes: see ``audited``. The returned entry then gets its
    ``seq``/``hash`` at that moment. Anywhere else it is appended at once: lock and read the
    head, insert the entry, move the head (two statements on PostgreSQL, three on SQLite);
    no savepoint of its own (a failed append fails the caller's transaction, which is what
    an audited change must do);
    outside a transaction it opens one. There, call it as late as possible: the head lock
    is held until the transaction commits.

    ``target_repr``: what the trail shows of the target instead of ``str(target)`` (a
    permission denial names the object by type and id only: its title is not the actor's
    unit's to read)."""
    entry = _prepare(actor, action, target, unit=unit, detail=detail, request=request,
                     actor_name=actor_name, target_repr=target_repr)
    pending = _pending()
    if pending is not None and connection.in_atomic_block:
        # A no-op commit hook marks the savepoint this entry belongs to: Django drops the
        # hooks of a rolled-back savepoint, and so ``_flush`` drops the entry with it.
        marker = _Marker()
        transaction.on_commit(marker)
        pending.append((marker, entry))
        return entry
    with transaction.atomic(savepoint=False):
        _append([entry])
    return entry


def _prepare(actor, action: str, target: models.Model | None, *, unit, detail, request,
             actor_name: str, target_repr: str | None = None) -> AuditEntry:
    user = actor if getattr(actor, "pk", None) else None
    entry = AuditEntry(
        actor=user,
        actor_name=(actor_name or (user.username if user else "system"))[:150],
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_repr=(str(target) if target_repr is None else target_repr)[:200]
        if target is not None else "",
        detail=_jsonable(detail or {}),
        ip=client_ip(request),
        algorithm=_ALGORITHM,
    )
    if unit is not None:
        entry.unit = unit
    elif user is not None:
        entry.unit_id = user.unit_id  # the id is enough: no query for the unit row
    return entry


def _append(entries: list[AuditEntry], *, immediate_constraints: bool = False) -> None:
    """Chain ``entries`` onto the head, in order, under the head's row lock: lock and read
    the head, insert the entries (one statement), move the head (on PostgreSQL with the
    insert, see ``_insert``).

    The statements are written as SQL: every audited verb runs them, and building
    them through the ORM (query compilation, model saving) cost several times the
    statements themselves. The values still go through the model fields
    (``get_db_prep_save``), so they are stored exactly as the ORM would store them."""
    seq, prev = _locked_head(immediate_constraints=immediate_constraints)
    before = seq
    for entry in entries:
        seq += 1
        entry.seq, entry.at, entry.prev_hash = seq, timezone.now(), prev
        entry.hash = prev = chain.entry_hash(entry.algorithm, entry.prev_hash, _content(entry))
    _insert(entries, head=(seq, prev))
    every = settings.GONGWEN.get("AUDIT_CHECKPOINT_EVERY", 1000)
    if seq // every > before // every:  # one MAC per N entries, not one per entry
        _checkpoint_if_keyed(seq, prev)


_ENTRY_FIELDS = [f for f in AuditEntry._meta.concrete_fields if not f.primary_key]


def _head_table() -> str:
    return connection.ops.quote_name(AuditHead._meta.db_table)


def _insert(entries: list[AuditEntry], *, head: tuple[int, str]) -> None:
    """INSERT the entries (in batches the database accepts), their ids returned in order
    (RETURNING: PostgreSQL, SQLite ≥ 3.35, as ``bulk_create`` does), and move the head to
    ``head`` (seq, hash). On PostgreSQL the head's UPDATE rides on the first INSERT (a
    data-modifying WITH): one statement fewer in every audited verb."""
    qn = connection.ops.quote_name
    meta = AuditEntry._meta
    columns = ", ".join(qn(f.column) for f in _ENTRY_FIELDS)
    row = "(" + ", ".join(["%s"] * len(_ENTRY_FIELDS)) + ")"
    size = max(1, connection.ops.bulk_batch_size(_ENTRY_FIELDS, entries) or len(entries))
    move_head = f"UPDATE {_head_table()} SET seq = %s, hash = %s WHERE id = 1"
    together = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        for first in range(0, len(entries), size):
            batch = entries[first:first + size]
            params = [f.get_db_prep_save(f.pre_save(e, True), connection)
                      for e in batch for f in _ENTRY_FIELDS]
            insert = (f"INSERT INTO {qn(meta.db_table)} ({columns}) VALUES "
                      + ", ".join([row] * len(batch)) + f" RETURNING {qn(meta.pk.column)}")
            if together and first == 0:
                insert, params = f"WITH head AS ({move_head}) {insert}", [*head, *params]
            cursor.execute(insert, params)
            for entry, (pk,) in zip(batch, cursor.fetchall(), strict=True):
                entry.pk = pk
                entry._state.adding = False
                entry._state.db = connection.alias
        if not together:
            cursor.execute(move_head, list(head))


class _Marker:
    """The commit hook ``record`` registers for a deferred entry; it does nothing."""

    __slots__ = ()

    def __call__(self) -> None:
        return None


_state = threading.local()


def _pending() -> list[tuple[_Marker, AuditEntry]] | None:
    return getattr(_state, "pending", None)


@contextmanager
def audited(*, durable: bool = False) -> Iterator[None]:
    """A transaction whose audit entries are appended last (deadlock freedom).

    Every append locks the single ``AuditHead`` row until commit. A transaction that
    appended and *then* locked or updated another row (a seal, a CA's CRL counter, a key
    disk) could wait for a second transaction that held that row and was itself waiting
    for the head: PostgreSQL aborts one of them (deadlock, SQLSTATE 40P01), a 500 for the
    user. Inside ``audited`` the head is always the *last* lock a transaction takes, after
    all its other work, so no transaction ever waits for a row while holding the head, and
    such a cycle cannot form. This was chosen over the alternatives:

    - taking the head lock *first* in every audited transaction would serialise every
      audited verb for its whole length (all of them write the trail);
    - retrying on 40P01/40001 would need every verb's side effects outside the database
      (key generation, PIN-attempt counting, files) to be safe to repeat, and still costs
      a deadlock-detection wait (``deadlock_timeout``, 1 s) each time.

    ``record`` calls inside the block only prepare their entries; when the block's body
    finishes without an exception they are appended in one go (lock head, insert all, move
    head: two statements on PostgreSQL, three on SQLite, however many entries) just before
    the transaction commits. An entry recorded inside a savepoint that was rolled back is
    dropped with it, so the trail never claims a change that did not happen. ``at`` and
    ``seq`` are given at that moment, so the chain's order is still commit order and
    gapless. A nested ``audited`` block is a savepoint of the outer one as usual and leaves
    its entries to the outermost ``audited`` block; an ``audited`` block inside a caller's
    plain ``transaction.atomic`` appends at its own end, which is not the commit: there the
    head stays locked for the rest of the caller's transaction, as it did before
    ``audited``.

    Locks the head does wait for: none. On PostgreSQL the transaction's deferred
    foreign-key checks are run just before the head is locked (``SET CONSTRAINTS ALL
    IMMEDIATE``, sent with the head's read, only when ``audited`` is the outermost
    transaction), and the entries' own references (actor, unit) carry no database
    constraint, so nothing after the head lock takes a lock on another row.
    """
    if _pending() is not None:
        with transaction.atomic(durable=durable):
            yield
        return
    pending: list[tuple[_Marker, AuditEntry]] = []
    outermost = not connection.in_atomic_block
    _state.pending = pending
    try:
        with transaction.atomic(durable=durable):
            try:
                yield
            finally:
                _state.pending = None
            _flush(pending, commits_next=outermost)
    except (PermissionDenied, Http404):
        _keep_denials(pending)
        raise
    finally:
        _state.pending = None


def _keep_denials(pending: list[tuple[_Marker, AuditEntry]]) -> None:
    """A refusal rolled the block back, and its prepared entries with it; the denial's own
    entry is appended again after the rollback: the trail says who tried what, even when
    the verb checked the permission inside its transaction."""
    denials = [entry for _marker, entry in pending if entry.action == "permission.denied"]
    if denials:
        with transaction.atomic():
            _append(denials)


def _flush(pending: list[tuple[_Marker, AuditEntry]], *, commits_next: bool) -> None:
    if not pending or connection.needs_rollback:
        return  # nothing to append, or the transaction is rolled back anyway
    live = {id(func) for _sids, func, _robust in connection.run_on_commit}
    entries = [entry for marker, entry in pending if id(marker) in live]
    if not entries:
        return
    # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED on PostgreSQL: their checks
    # (key-share locks on the referenced rows) would run at COMMIT, i.e. while we hold the
    # head, and could wait for a row that a transaction waiting for the head has locked.
    # Run them now, before the head is locked (sent with the head's locking read, in one
    # round trip: see _locked_head). Only when the commit follows (``audited`` is the
    # outermost transaction): inside a caller's plain transaction the mode would stay
    # changed for the caller's remaining work.
    _append(entries, immediate_constraints=commits_next and connection.vendor == "postgresql")


def _locked_head(*, immediate_constraints: bool = False) -> tuple[int, str]:
    """The chain head's (seq, hash), locked (SELECT … FOR UPDATE where the database has
    row locks; SQLite's writer lock serialises appends); created on the first append. The
    creation races safely: ``ignore_conflicts`` and then the locking read again.

    ``immediate_constraints`` (PostgreSQL): ``SET CONSTRAINTS ALL IMMEDIATE`` runs first, in
    the same round trip (two statements in one query string: psycopg's client-side
    binding cursor sends it as a simple query; the SELECT is its second result)."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    sql = f"SELECT seq, hash FROM {_head_table()} WHERE id = 1{lock}"
    with connection.cursor() as cursor:
        if immediate_constraints:
            cursor.execute(f"SET CONSTRAINTS ALL IMMEDIATE; {sql}")
            if not cursor.nextset():  # pragma: no cover - psycopg gives both results
                raise RuntimeError("the audit head's read returned no result")
        else:
            cursor.execute(sql)
        row = cursor.fetchone()
        if row is None:
            AuditHead.objects.bulk_create([AuditHead(id=1, seq=0, hash=chain.GENESIS_HASH)],
                                          ignore_conflicts=True)
            cursor.execute(sql)
            row = cursor.fetchone()
    return int(row[0]), row[1]


def _jsonable(detail: dict[str, Any]) -> dict[str, Any]:
    # Round-trip through the canonical encoder so what we hash is exactly what the JSON
    # column gives back when the chain is verified (dates become strings, etc.).
    import json

    return json.loads(chain.canonical_bytes(detail))


def _entries() -> Iterator[chain.ChainEntry]:
    for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=2000):
        yield chain.ChainEntry(entry.seq, entry.algorithm, entry.prev_hash, entry.hash,
                               _content(entry), ref=entry.pk)


def verify_chain() -> chain.ChainBreak | None:
    """The first break of the chain, or None: its links, its head, and the signed
    checkpoints kept in the database and in the checkpoint file."""
    checkpoints, unreadable = _all_checkpoints()
    if unreadable is not None:
        return unreadable
    try:
        key = checkpoint_key()
    except CheckpointKeyError:
        key = None  # reported as missing by the core, and by `gongwen check` in detail
    head = AuditHead.objects.filter(id=1).first()
    return chain.verify(_entries(), head_seq=head.seq if head else 0,
                        head_hash=head.hash if head else None,
                        checkpoints=checkpoints, key=key)


# -- signed checkpoints (R-AUDIT-1) ------------------------------------------------------------
# The hash chain shows an edited row, but whoever can write the database can also recompute
# every later hash and the head. A checkpoint MACs the head with a key kept outside the
# database and is copied to a file outside it, so such a rewrite no longer matches. They are
# made every AUDIT_CHECKPOINT_EVERY entries (inside the append, under the head lock), by the
# worker's scheduler when the head moved, and by `gongwen audit verify|checkpoint`.


class CheckpointKeyError(Exception):
    """The checkpoint key file exists but cannot be used."""


def _key_file() -> Path:
    return Path(settings.GONGWEN["AUDIT_KEY_FILE"])


def _checkpoint_file() -> Path:
    return Path(settings.GONGWEN["AUDIT_CHECKPOINT_FILE"])


def checkpoint_key() -> bytes | None:
    """The HMAC key of the checkpoints, None when its file does not exist."""
    path = _key_file()
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise CheckpointKeyError(f"{path}: {exc}") from None
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) < 32:
        raise CheckpointKeyError(f"{path}: not a key of 64 hex digits")
    return key


def ensure_checkpoint_key() -> bool:
    """Create the key file (readable by its owner only) unless it exists; True if created."""
    path = _key_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(secrets.token_hex(32) + "\n")
    return True


def key_health() -> tuple[bool, str]:
    """For `gongwen check`: whether checkpoints can be made, in one line."""
    try:
        key = checkpoint_key()
    except CheckpointKeyError as exc:
        return False, f"audit checkpoint key unusable: {exc}"
    if key is None:
        return False, (f"audit checkpoint key missing: {_key_file()} (run `gongwen init`); "
                       "the audit chain is not anchored outside the database")
    return True, (f"audit checkpoint key {chain.key_id(key)} ({_key_file()}); checkpoints "
                  f"also written to {_checkpoint_file()}")


@transaction.atomic
def make_checkpoint() -> AuditCheckpoint | None:
    """Sign the current head unless it is signed already; None without a key or entries."""
    key = checkpoint_key()
    if key is None:
        return None
    seq, head_hash = _locked_head()
    if seq == 0:
        return None
    last = AuditCheckpoint.objects.order_by("-seq").first()
    if last is not None and last.seq == seq:
        return last
    return _checkpoint(key, seq, head_hash)


def _checkpoint_if_keyed(seq: int, head_hash: str) -> None:
    # A missing or broken key must not fail the audited change: `gongwen check` reports it.
    try:
        key = checkpoint_key()
    except CheckpointKeyError:
        log.exception("audit checkpoint skipped")
        return
    if key is not None:
        _checkpoint(key, seq, head_hash)


def _checkpoint(key: bytes, seq: int, head_hash: str) -> AuditCheckpoint:
    at = timezone.now()
    cp = AuditCheckpoint(seq=seq, hash=head_hash, at=at, algorithm=_ALGORITHM,
                         key_id=chain.key_id(key),
                         mac=chain.checkpoint_mac(key, _ALGORITHM, seq, head_hash,
                                                  at.isoformat()))
    cp.save()
    # The file gets only committed checkpoints.
    transaction.on_commit(lambda: _write_to_file(cp), robust=True)
    return cp


def _file_line(cp: AuditCheckpoint) -> str:
    return json.dumps({"seq": cp.seq, "hash": cp.hash, "at": cp.at.isoformat(),
                       "algorithm": cp.algorithm, "key_id": cp.key_id, "mac": cp.mac},
                      sort_keys=True) + "\n"


def _write_to_file(cp: AuditCheckpoint) -> None:
    path = _checkpoint_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # One write() of one short line with O_APPEND: concurrent writers never interleave.
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, _file_line(cp).encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        log.exception("audit checkpoint #%s not written to %s", cp.seq, path)


def _all_checkpoints() -> tuple[list[chain.Checkpoint], chain.ChainBreak | None]:
    """The checkpoints of the database and of the file (the same one once), or the file's
    first unreadable line as a break."""
    found: dict[tuple, chain.Checkpoint] = {}
    for cp in AuditCheckpoint.objects.order_by("seq"):
        at = cp.at.isoformat()
        found[(cp.seq, cp.hash, at, cp.mac)] = chain.Checkpoint(
            cp.seq, cp.hash, at, cp.algorithm, cp.key_id, cp.mac,
            source=f"#{cp.pk} in the database", source_zh=f"数据库第 {cp.pk} 号")
    path = _checkpoint_file()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        lines = []
    except (OSError, UnicodeDecodeError) as exc:
        return [], chain.ChainBreak(0, None, f"checkpoint file {path} unreadable: {exc}",
                                    f"检查点文件 {path} 无法读取")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            cp = chain.Checkpoint(int(data["seq"]), str(data["hash"]), str(data["at"]),
                                  str(data["algorithm"]), str(data["key_id"]),
                                  str(data["mac"]), source=f"line {number} of the checkpoint file",
                                  source_zh=f"检查点文件第 {number} 行")
        except (ValueError, KeyError, TypeError):
            return [], chain.ChainBreak(0, None,
                                        f"line {number} of checkpoint file {path} unreadable",
                                        f"检查点文件 {path} 第 {number} 行无法读取")
        found.setdefault((cp.seq, cp.hash, cp.at, cp.mac), cp)
    return list(found.values()), None


def algorithm() -> str:
    return _ALGORITHM
