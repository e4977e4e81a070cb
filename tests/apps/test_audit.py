"""Audit trail (R-AUDIT-1): append-only, hash-chained, tamper-evident, concurrency-safe."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from gongwen import cli
from gongwen.audit import chain
from gongwen.audit.models import AuditEntry, AuditHead
from gongwen.audit.services import algorithm, record, verify_chain


def _append(n: int, actor=None) -> list[AuditEntry]:
    return [record(actor, "test.event", detail={"i": i, "text": "公文"}) for i in range(n)]


def test_chain_core_detects_edit_without_django():
    entries, prev = [], chain.GENESIS_HASH
    for seq in range(1, 4):
        content = {"seq": seq, "x": seq}
        h = chain.entry_hash("sha256", prev, content)
        entries.append(chain.ChainEntry(seq, "sha256", prev, h, content, ref=seq))
        prev = h
    assert chain.verify(entries, head_seq=3, head_hash=prev) is None
    edited = [*entries[:1], chain.ChainEntry(2, "sha256", entries[1].prev_hash,
                                             entries[1].hash, {"seq": 2, "x": 99}, ref=2),
              entries[2]]
    broken = chain.verify(edited)
    assert broken is not None and broken.seq == 2 and "edited" in broken.reason


@pytest.mark.django_db
def test_uses_sm3_when_available():
    assert algorithm() == "sm3"
    entry = _append(1)[0]
    assert entry.algorithm == "sm3" and len(entry.hash) == 64


@pytest.mark.django_db
def test_intact_chain_verifies(clerk_a):
    _append(5, clerk_a)
    assert verify_chain() is None
    assert AuditHead.objects.get().seq == AuditEntry.objects.count()


@pytest.mark.django_db
def test_orm_refuses_update_and_delete():
    entry = _append(1)[0]
    entry.action = "changed"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()


@pytest.mark.django_db
def test_raw_edit_is_detected_and_named_by_cli(capsys):
    entries = _append(5)
    victim = entries[2]
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {AuditEntry._meta.db_table} SET actor_name = %s WHERE id = %s",
                       ["mallory", victim.pk])
    broken = verify_chain()
    assert broken is not None and broken.seq == victim.seq and broken.ref == victim.pk
    assert cli.main(["audit", "verify"]) == 1
    err = capsys.readouterr().err
    assert f"#{victim.seq}" in err and f"row id {victim.pk}" in err


@pytest.mark.django_db
def test_raw_delete_in_the_middle_is_detected():
    entries = _append(5)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditEntry._meta.db_table} WHERE id = %s",
                       [entries[1].pk])
    broken = verify_chain()
    assert broken is not None and broken.seq == entries[2].seq


@pytest.mark.django_db
def test_raw_delete_of_the_newest_entry_is_detected():
    entries = _append(3)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditEntry._meta.db_table} WHERE id = %s",
                       [entries[-1].pk])
    broken = verify_chain()
    assert broken is not None and "deleted" in broken.reason


@pytest.mark.django_db
def test_raw_insert_is_detected():
    entries = _append(3)
    last = entries[-1]
    # A forger appends a row that links to the real head but cannot compute a valid hash
    # without also rewriting the separately kept head.
    AuditEntry.objects.bulk_create([AuditEntry(
        seq=last.seq + 1, at=last.at, actor_name="forger", action="test.event", detail={},
        algorithm="sm3", prev_hash=last.hash, hash="f" * 64)])
    broken = verify_chain()
    assert broken is not None and broken.seq == last.seq + 1


@pytest.mark.django_db
def test_cli_reports_ok_on_intact_chain(capsys):
    _append(2)
    assert cli.main(["audit", "verify"]) == 0
    assert "OK" in capsys.readouterr().out


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_never_fork_the_chain():
    if connection.vendor != "postgresql":
        pytest.skip("row-lock concurrency is exercised on PostgreSQL")
    errors = []

    def worker():
        try:
            for i in range(15):
                record(None, "test.concurrent", detail={"i": i})
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(AuditEntry.objects.values_list("seq", flat=True)) == list(range(1, 91))
    assert verify_chain() is None


@pytest.mark.django_db
def test_a_large_append_goes_in_batches_and_the_head_moves_once(monkeypatch):
    from gongwen.audit.services import audited

    _append(1)  # the head exists
    monkeypatch.setattr(connection.ops, "bulk_batch_size", lambda fields, objs: 2)
    statements: list[str] = []
    with (connection.execute_wrapper(lambda ex, sql, *a: statements.append(sql) or ex(sql, *a)),
          audited()):
        entries = _append(5)
    inserts = [s for s in statements if "INSERT INTO" in s and "audit_auditentry" in s]
    head_moves = [s for s in statements if "UPDATE \"audit_audithead\" SET" in s]
    assert len(inserts) == 3 and len(head_moves) == 1
    assert all(e.pk for e in entries) and [e.seq for e in entries] == list(
        range(entries[0].seq, entries[0].seq + 5))
    head = AuditHead.objects.get(pk=1)
    assert (head.seq, head.hash) == (entries[-1].seq, entries[-1].hash)
    assert verify_chain() is None
