"""Signed checkpoints anchor the audit chain outside the database (R-AUDIT-1).

The hash chain alone catches an edited row, but not someone who edits a row and then
recomputes every later hash and the head: the chain is consistent again. A checkpoint is the
head (seq, hash) MACed with a key kept outside the database and also written to a file
outside it, so such a rewrite no longer matches the last checkpoint."""

from __future__ import annotations

import json
import secrets

import pytest
from django.db import connection

from gongwen import cli
from gongwen.audit import chain
from gongwen.audit.models import AuditEntry, AuditHead
from gongwen.audit.services import _content, record, verify_chain

pytestmark = pytest.mark.django_db


@pytest.fixture
def audit_key(settings, tmp_path):
    key_file = tmp_path / "audit-checkpoint.key"
    key_file.write_text(secrets.token_hex(32) + "\n")
    settings.GONGWEN = {**settings.GONGWEN, "AUDIT_KEY_FILE": str(key_file),
                        "AUDIT_CHECKPOINT_FILE": str(tmp_path / "audit-checkpoints.jsonl")}
    return key_file


def _append(n: int) -> list[AuditEntry]:
    return [record(None, "test.event", detail={"i": i}) for i in range(n)]


def _rewrite_from(seq: int, **changes) -> None:
    """What an attacker with write access to the database does: change entry ``seq``, then
    recompute its hash, every later hash and the head, so that the chain is consistent."""
    table = AuditEntry._meta.db_table
    prev = AuditEntry.objects.get(seq=seq - 1).hash if seq > 1 else chain.GENESIS_HASH
    with connection.cursor() as cursor:
        for entry in AuditEntry.objects.filter(seq__gte=seq).order_by("seq"):
            for field, value in changes.items() if entry.seq == seq else ():
                setattr(entry, field, value)
            new_hash = chain.entry_hash(entry.algorithm, prev, _content(entry))
            cursor.execute(f"UPDATE {table} SET actor_name = %s, prev_hash = %s, hash = %s "
                           "WHERE id = %s", [entry.actor_name, prev, new_hash, entry.pk])
            prev = new_hash
        cursor.execute(f"UPDATE {AuditHead._meta.db_table} SET hash = %s WHERE id = 1", [prev])


def test_rewritten_chain_fails_verify_against_the_checkpoint(audit_key, capsys,
                                                            django_capture_on_commit_callbacks):
    """GIVEN a trail of 5 entries checkpointed by `gongwen audit verify`
    WHEN entry #3 is edited and every later hash and the head recomputed
    THEN the chain's links are consistent, but verify fails and names the checkpoint."""
    _append(5)
    with django_capture_on_commit_callbacks(execute=True):
        assert cli.main(["audit", "verify"]) == 0
    capsys.readouterr()
    _rewrite_from(3, actor_name="mallory")
    assert chain.verify(  # the links alone no longer see it
        chain.ChainEntry(e.seq, e.algorithm, e.prev_hash, e.hash, _content(e))
        for e in AuditEntry.objects.order_by("seq")) is None

    broken = verify_chain()
    assert broken is not None and broken.seq == 5
    assert "checkpoint" in broken.reason and "#1" in broken.reason  # rewritten after #0
    assert cli.main(["audit", "verify"]) == 1
    err = capsys.readouterr().err
    assert "BROKEN" in err and "checkpoint" in err and "#5" in err


def test_checkpoint_rows_deleted_from_the_database_are_still_in_the_file(
        audit_key, django_capture_on_commit_callbacks):
    """GIVEN a checkpoint (in the database and in the file)
    WHEN the attacker also deletes the checkpoint rows before rewriting the chain
    THEN the file's copy still catches the rewrite."""
    from gongwen.audit.models import AuditCheckpoint
    from gongwen.audit.services import make_checkpoint

    _append(4)
    with django_capture_on_commit_callbacks(execute=True):
        make_checkpoint()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditCheckpoint._meta.db_table}")
    _rewrite_from(2, actor_name="mallory")
    broken = verify_chain()
    assert broken is not None and broken.seq == 4 and "file" in broken.reason


def test_a_forged_checkpoint_row_fails(audit_key):
    """A checkpoint inserted by someone without the key has a MAC that does not verify."""
    from gongwen.audit.models import AuditCheckpoint

    entries = _append(3)
    AuditCheckpoint.objects.create(seq=3, hash=entries[-1].hash, at=entries[-1].at,
                                   key_id="0" * 16, mac="0" * 64)
    broken = verify_chain()
    assert broken is not None and "MAC" in broken.reason


def test_truncation_behind_a_checkpoint_fails(audit_key):
    """Deleting the newest entries and moving the head back is caught by a later checkpoint."""
    from gongwen.audit.services import make_checkpoint

    entries = _append(4)
    make_checkpoint()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditEntry._meta.db_table} WHERE seq = 4")
        cursor.execute(f"UPDATE {AuditHead._meta.db_table} SET seq = 3, hash = %s WHERE id = 1",
                       [entries[2].hash])
    broken = verify_chain()
    assert broken is not None and broken.seq == 4 and "checkpoint" in broken.reason


def test_checkpoint_every_n_entries_costs_one_mac_per_n(audit_key, settings,
                                                       django_capture_on_commit_callbacks):
    from gongwen.audit.models import AuditCheckpoint

    settings.GONGWEN = {**settings.GONGWEN, "AUDIT_CHECKPOINT_EVERY": 4}
    with django_capture_on_commit_callbacks(execute=True):
        entries = _append(9)
    assert list(AuditCheckpoint.objects.order_by("seq").values_list("seq", "hash")) == [
        (4, entries[3].hash), (8, entries[7].hash)]
    lines = [json.loads(line) for line in audit_key.with_name(
        "audit-checkpoints.jsonl").read_text().splitlines()]
    assert [line["seq"] for line in lines] == [4, 8]
    assert verify_chain() is None


def test_checkpoints_are_skipped_without_a_key_and_check_says_so(settings, tmp_path, capsys):
    from gongwen.audit.models import AuditCheckpoint
    from gongwen.audit.services import make_checkpoint

    settings.GONGWEN = {**settings.GONGWEN, "AUDIT_KEY_FILE": str(tmp_path / "none.key"),
                        "AUDIT_CHECKPOINT_EVERY": 1}
    _append(2)
    assert make_checkpoint() is None and not AuditCheckpoint.objects.exists()
    assert verify_chain() is None  # nothing to check against: the links still are
    cli.main(["check"])
    assert "[FAIL] audit checkpoint key missing" in capsys.readouterr().out


def test_checkpoints_cannot_be_verified_without_the_key(audit_key):
    from gongwen.audit.services import make_checkpoint

    _append(2)
    make_checkpoint()
    audit_key.unlink()
    broken = verify_chain()
    assert broken is not None and "key" in broken.reason


def test_init_creates_the_key_outside_the_database_once(settings, tmp_path, capsys):
    from gongwen.audit.services import ensure_checkpoint_key

    key_file = tmp_path / "keys" / "audit.key"
    settings.GONGWEN = {**settings.GONGWEN, "AUDIT_KEY_FILE": str(key_file)}
    assert ensure_checkpoint_key() is True
    first = key_file.read_text()
    assert len(first.strip()) == 64 and (key_file.stat().st_mode & 0o777) == 0o600
    assert ensure_checkpoint_key() is False and key_file.read_text() == first
    cli.main(["check"])
    assert "[ok] audit checkpoint key" in capsys.readouterr().out


def test_a_checkpoint_is_made_only_when_the_head_moved(audit_key):
    from gongwen.audit.models import AuditCheckpoint
    from gongwen.audit.services import make_checkpoint

    _append(2)
    assert make_checkpoint().seq == 2
    assert make_checkpoint().seq == 2 and AuditCheckpoint.objects.count() == 1  # head unmoved
    _append(1)
    assert make_checkpoint().seq == 3


def test_the_worker_scheduler_signs_a_moved_head(audit_key, monkeypatch):
    from gongwen.audit.models import AuditCheckpoint
    from gongwen.authority import services as authority
    from gongwen.exchange import scheduler

    monkeypatch.setattr(authority, "refresh_due_crls", lambda **kw: None)
    entries = _append(3)
    scheduler.tick()
    assert list(AuditCheckpoint.objects.values_list("seq", "hash")) == [(3, entries[-1].hash)]
