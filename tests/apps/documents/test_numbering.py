"""发文字号 under concurrency (R-DOC-1): N parallel approvals get exactly 1..N.

GIVEN N submitted documents of one unit and one series
WHEN N threads approve them at the same moment, each in its own transaction and connection
THEN the numbers are exactly 1..N: no gap, no duplicate.

PostgreSQL only: SQLite has no row locks and serialises whole write transactions, so the
test would prove nothing there.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction

from gongwen.documents import services
from gongwen.documents.models import NumberCounter, OfficialDocument

N = 12

needs_postgres = pytest.mark.skipif(
    "connection.vendor != 'postgresql'",
    reason="row locks (SELECT … FOR UPDATE) need PostgreSQL; SQLite serialises writers")


def _parallel(worker, args):
    barrier = threading.Barrier(len(args))
    results, errors = [], []

    def run(arg):
        try:
            barrier.wait(timeout=30)
            results.append(worker(arg))
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(a,)) for a in args]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    return results


@needs_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_approvals_get_exactly_one_to_n(clerk_a, head_a, draft_fields, unit_a):
    assert connection.vendor == "postgresql"
    ids = []
    for _ in range(N):
        doc = services.create_draft(actor=clerk_a, **draft_fields())
        ids.append(services.submit(actor=clerk_a, doc_id=doc.pk).pk)

    serials = _parallel(lambda doc_id: services.approve(actor=head_a, doc_id=doc_id)
                        .number_serial, ids)

    assert sorted(serials) == list(range(1, N + 1))
    stored = sorted(OfficialDocument.objects.values_list("number_serial", flat=True))
    assert stored == list(range(1, N + 1))
    assert NumberCounter.objects.get(unit=unit_a).last == N


@needs_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_counter_lock_alone_prevents_duplicates(clerk_a, draft_fields, monkeypatch):
    """Without the audit chain's own lock in the way: assign_number on its own, with the
    first counter row created by the racing transactions themselves, and a pause between
    reading the counter and writing it back so that an unlocked read would collide."""
    ids = [services.create_draft(actor=clerk_a, **draft_fields()).pk for _ in range(N)]
    real_save = NumberCounter.save

    def slow_save(self, *args, **kwargs):
        time.sleep(0.05)
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(NumberCounter, "save", slow_save)

    def number(doc_id):
        with transaction.atomic():
            doc = OfficialDocument.objects.select_for_update(of=("self",)).select_related("unit") \
                .get(pk=doc_id)
            services.assign_number(doc)
            doc.save()
            return doc.number_serial

    assert sorted(_parallel(number, ids)) == list(range(1, N + 1))


@pytest.mark.django_db
def test_assign_number_refuses_to_run_outside_a_transaction(make_draft, monkeypatch):
    doc = make_draft()
    monkeypatch.setattr(transaction.get_connection(), "in_atomic_block", False)
    with pytest.raises(RuntimeError):
        services.assign_number(doc)
