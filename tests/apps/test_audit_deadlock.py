"""The audit chain's head row never takes part in a deadlock (``audit.services.audited``).

Every append locks the single ``AuditHead`` row until commit. A verb that recorded an entry
and then locked another row used to deadlock with a verb that locked that row first and then
recorded (PostgreSQL: "deadlock detected", SQLSTATE 40P01). Inside ``audited`` (every
``policy.verbs.verb``) entries are appended last, so the head is always the last lock taken.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from gongwen.accounts.models import User
from gongwen.audit.models import AuditEntry
from gongwen.audit.services import audited, record, verify_chain
from gongwen.policy.verbs import verb

_WAIT = 20  # seconds; only a safety net against a hung test, never a threshold


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_verbs_locking_a_row_after_and_before_recording_do_not_deadlock(clerk_a, clerk_b):
    """Verb A records, then locks row X; verb B locks X, then records. Before ``audited``,
    A held the head and waited for X while B held X and waited for the head."""
    if connection.vendor != "postgresql":
        pytest.skip("row-lock deadlocks are exercised on PostgreSQL")
    a_recorded, b_locked = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    @verb
    def record_then_lock():
        record(clerk_a, "test.a.first")
        a_recorded.set()
        assert b_locked.wait(_WAIT)
        User.objects.select_for_update().get(pk=clerk_b.pk)  # waits for B's commit

    @verb
    def lock_then_record():
        assert a_recorded.wait(_WAIT)
        User.objects.select_for_update().get(pk=clerk_b.pk)
        b_locked.set()
        record(clerk_b, "test.b.second")

    def run(fn):
        try:
            fn()
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)
            a_recorded.set()
            b_locked.set()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(fn,))
               for fn in (record_then_lock, lock_then_record)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    # B committed first (A waited for its row lock), so B's entry comes first in the chain.
    assert list(AuditEntry.objects.order_by("seq").values_list("seq", "action")) == [
        (1, "test.b.second"), (2, "test.a.first")]
    assert verify_chain() is None


@pytest.mark.django_db
def test_audited_appends_at_the_end_in_order(clerk_a):
    with audited():
        first = record(clerk_a, "test.one")
        second = record(clerk_a, "test.two", detail={"n": 2})
        assert not AuditEntry.objects.exists()  # not appended yet: the head is not locked
    assert (first.seq, second.seq) == (1, 2) and second.prev_hash == first.hash
    assert list(AuditEntry.objects.order_by("seq").values_list("action", flat=True)) == [
        "test.one", "test.two"]
    assert verify_chain() is None


@pytest.mark.django_db
def test_audited_drops_entries_of_a_rolled_back_savepoint_and_of_a_failed_block(clerk_a):
    with audited():
        record(clerk_a, "test.kept")
        try:
            with transaction.atomic():
                record(clerk_a, "test.rolled_back")
                raise RuntimeError("boom")
        except RuntimeError:
            pass
        with transaction.atomic():
            record(clerk_a, "test.kept_too")
    with pytest.raises(RuntimeError), audited():
        record(clerk_a, "test.failed")
        raise RuntimeError("boom")
    assert list(AuditEntry.objects.order_by("seq").values_list("action", flat=True)) == [
        "test.kept", "test.kept_too"]
    assert verify_chain() is None


@pytest.mark.django_db
def test_nested_audited_leaves_its_entries_to_the_outermost(clerk_a):
    with audited():
        with audited():
            record(clerk_a, "test.inner")
        assert not AuditEntry.objects.exists()
        record(clerk_a, "test.outer")
    assert list(AuditEntry.objects.order_by("seq").values_list("action", flat=True)) == [
        "test.inner", "test.outer"]


@pytest.mark.django_db(transaction=True)
def test_a_verb_with_one_entry_costs_no_extra_statement(clerk_a):
    """Single-user path: deferring the append adds no statement (lock head, insert entry,
    move head, as before: on PostgreSQL the last two are one), and a second entry costs no
    further lock or head update."""

    def body(n):
        User.objects.filter(pk=clerk_a.pk).update(last_name="x")
        for i in range(n):
            record(clerk_a, "test.counted", detail={"i": i})

    record(None, "test.warm")  # the head row exists, as in any running system

    def count(fn) -> list[str]:
        with CaptureQueriesContext(connection) as ctx:
            fn()
        return [q["sql"] for q in ctx.captured_queries]

    def plain_one():
        with transaction.atomic(durable=True):
            body(1)

    plain = count(plain_one)  # the previous verb: a plain transaction, immediate append
    one = count(lambda: verb(body)(1))
    three = count(lambda: verb(body)(3))
    # PostgreSQL: SET CONSTRAINTS ALL IMMEDIATE before the head lock (the deferred
    # foreign-key checks run then instead of at COMMIT: moved, not added work), sent in the
    # same query string as the head's locking read; the head moves with the INSERT.
    pg = connection.vendor == "postgresql"
    assert len(one) == len(plain)
    constrained = [sql for sql in one if "SET CONSTRAINTS" in sql]
    if pg:
        assert len(constrained) == 1
        assert constrained[0].startswith("SET CONSTRAINTS ALL IMMEDIATE; SELECT")
        assert "FOR UPDATE" in constrained[0]
        assert [sql for sql in plain if "SET CONSTRAINTS" in sql] == []
    else:
        assert constrained == []
    assert len(three) == len(one)  # bulk insert: lock, insert all, move head once
    if pg:
        assert sum("FOR UPDATE" in sql for sql in three) == 1
        assert sum(sql.startswith("WITH head AS (UPDATE") for sql in three) == 1
        assert not any(sql.startswith("UPDATE") and "audithead" in sql for sql in three)
    assert verify_chain() is None


def _wait_until_blocked_or_done(pid: int, done: threading.Event) -> None:
    """Poll (on this thread's own connection) until backend ``pid`` waits for a lock or its
    verb has committed."""

    for _ in range(400):
        if done.is_set():
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s",
                           [pid])
            row = cursor.fetchone()
        if row and row[0] == "Lock":
            return
        time.sleep(0.05)
    raise AssertionError(f"backend {pid} neither waited for a lock nor finished")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_commit_time_foreign_key_check_against_a_locked_row(clerk_a, unit_b):
    """Verb B locks a unit row FOR UPDATE and then records; verb A's entry names that unit.
    With a foreign-key constraint on the entry's unit, its (deferred) check at A's commit
    needed a key-share lock on that row while A held the chain head: deadlock with B."""
    if connection.vendor != "postgresql":
        pytest.skip("row-lock deadlocks are exercised on PostgreSQL")
    from gongwen.units.models import Unit

    b_locked, a_done, a_pid = threading.Event(), threading.Event(), []
    errors: list[BaseException] = []

    @verb
    def record_for_unit():
        assert b_locked.wait(_WAIT)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            a_pid.append(cursor.fetchone()[0])
        record(clerk_a, "test.a", unit=unit_b)

    @verb
    def lock_unit_then_record():
        Unit.objects.select_for_update().get(pk=unit_b.pk)
        b_locked.set()
        while not a_pid and not a_done.is_set():
            time.sleep(0.05)
        if a_pid:
            _wait_until_blocked_or_done(a_pid[0], a_done)
        record(clerk_a, "test.b", unit=unit_b)

    def run(fn):
        try:
            fn()
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)
            b_locked.set()
        finally:
            if fn is record_for_unit:
                a_done.set()
            connections.close_all()

    threads = [threading.Thread(target=run, args=(fn,))
               for fn in (record_for_unit, lock_unit_then_record)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sorted(AuditEntry.objects.values_list("action", flat=True)) == ["test.a", "test.b"]
    assert verify_chain() is None
