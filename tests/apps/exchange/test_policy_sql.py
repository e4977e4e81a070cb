"""policy.sql: update_rows (bulk_update in one UPDATE … FROM (VALUES …)) and KeyedQuery (a
get by key compiled once), on both databases."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import FieldDoesNotExist
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from gongwen.exchange.models import Delivery, DeliveryState
from gongwen.policy.sql import FixedRows, KeyedQuery, update_rows


def _values(d: Delivery) -> tuple:
    return (d.state, d.verification, d.verified_at, d.handled_by_id, d.registration_year,
            d.registration_serial, d.return_reason)


def test_each_row_gets_its_own_values_of_every_type(dispatched, cast):
    rows = list(dispatched().deliveries.order_by("pk"))
    assert len(rows) >= 4
    untouched = rows.pop()
    before = _values(untouched)
    at = timezone.now().replace(microsecond=123456)
    for n, d in enumerate(rows):
        d.state = DeliveryState.SIGNED if n % 2 else DeliveryState.OPENED
        d.verification = {"ok": bool(n % 2), "reason_zh": f"第{n}项：“引号”'单引号'\\", "n": n,
                          "nested": [1, None, {"a": "甲"}]}
        d.verified_at = at + dt.timedelta(seconds=n)
        d.handled_by = cast["clerk_b"] if n % 2 else None
        d.registration_year = 2026 if n % 2 else None
        d.registration_serial = n + 1 if n % 2 else None
        d.return_reason = f"理由 {n}; DROP TABLE x; --"
    fields = ["state", "verification", "verified_at", "handled_by", "registration_year",
              "registration_serial", "return_reason"]

    assert update_rows(rows, fields) == len(rows)

    for d in rows:
        stored = Delivery.objects.get(pk=d.pk)
        assert _values(stored) == _values(d)
    untouched.refresh_from_db()
    assert _values(untouched) == before


def test_the_rows_go_in_batches_the_database_accepts(dispatched, monkeypatch):
    rows = list(dispatched().deliveries.order_by("pk"))
    monkeypatch.setattr(connection.ops, "bulk_batch_size", lambda fields, objs: 2)
    for n, d in enumerate(rows):
        d.return_reason = f"第{n}批"
    statements = []
    with connection.execute_wrapper(lambda ex, sql, *a: statements.append(sql) or ex(sql, *a)):
        assert update_rows(rows, ["return_reason"]) == len(rows)
    assert len(statements) == (len(rows) + 1) // 2
    assert [d.return_reason for d in Delivery.objects.filter(pk__in=[r.pk for r in rows])
            .order_by("pk")] == [f"第{n}批" for n in range(len(rows))]


def test_nothing_to_do_runs_no_statement(db):
    assert update_rows([], ["state"]) == 0


@pytest.mark.parametrize("fields, error", [
    (["id"], ValueError), (["dispatch__document"], FieldDoesNotExist),
    (["no_such_field"], FieldDoesNotExist)])
def test_keys_and_unknown_fields_are_refused(dispatched, fields, error):
    d = dispatched().deliveries.first()
    with pytest.raises(error):
        update_rows([d], fields)


def test_unsaved_objects_are_refused(db):
    with pytest.raises(ValueError):
        update_rows([Delivery()], ["state"])


def _locked():
    return (Delivery.objects.select_for_update(of=("self",))
            .select_related("dispatch", "dispatch__document", "dispatch__sender_unit",
                            "dispatch__by", "recipient_unit"))


def _as_seen(d: Delivery) -> dict:
    """Every column of the delivery and of the objects select_related loads."""
    def columns(obj):
        return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}
    return {"delivery": columns(d), "dispatch": columns(d.dispatch),
            "document": columns(d.dispatch.document),
            "sender": columns(d.dispatch.sender_unit), "by": columns(d.dispatch.by),
            "recipient": columns(d.recipient_unit)}


def test_a_keyed_query_returns_what_get_returns_in_one_statement(dispatched,
                                                                 django_assert_num_queries):
    query = KeyedQuery(_locked)
    ids = list(dispatched().deliveries.order_by("pk").values_list("pk", flat=True))
    with transaction.atomic():
        for pk in [*ids[:2], str(ids[2])]:  # compiled on the first, then reused
            expected = _locked().get(pk=pk)
            with django_assert_num_queries(1):
                got = query.get(pk)
                seen = _as_seen(got)  # the related objects are loaded: no query
            assert seen == _as_seen(expected)
            assert got._state.adding is False and got._state.db == connection.alias


@pytest.mark.parametrize("key", [10**9, 0, -1, "abc", None, 2**63, True])
def test_a_missing_or_impossible_key_is_does_not_exist(dispatched, key):
    dispatched()
    query = KeyedQuery(_locked)
    with transaction.atomic(), pytest.raises(Delivery.DoesNotExist):
        query.get(key)


def test_a_locking_query_is_refused_outside_a_transaction(dispatched, monkeypatch):
    d = dispatched().deliveries.first()
    query = KeyedQuery(_locked)
    with transaction.atomic():
        query.get(d.pk)  # compiled
    # The test itself runs in a transaction: autocommit as outside one.
    monkeypatch.setattr(connection, "get_autocommit", lambda: True)
    if not connection.features.has_select_for_update:
        assert query.get(d.pk).pk == d.pk  # SQLite: no row locks, nothing to refuse
        return
    with pytest.raises(TransactionManagementError):
        query.get(d.pk)


def test_a_shape_that_is_not_a_plain_get_is_refused(db):
    from django.db.models import Count

    query = KeyedQuery(lambda: Delivery.objects.annotate(n=Count("follow_ups")))
    with pytest.raises(ValueError):
        query.get(1)


def test_fixed_rows_are_what_the_queryset_gives_converted_alike(db, django_assert_num_queries):
    from gongwen.authority.models import CertificateAuthority
    from gongwen.authority.services import init_pki, publish_crl
    from gongwen.exchange.services import _crl_state_rows

    init_pki()
    ca = CertificateAuthority.objects.order_by("id").last()
    publish_crl(ca=ca)
    rows = FixedRows(_crl_state_rows)
    for _ in range(2):  # compiled, then reused
        with django_assert_num_queries(1):
            got = rows.rows()
        assert got == list(_crl_state_rows())
        assert any(has_crl for *_, has_crl in got)
        assert all(next_update is None or next_update.tzinfo is not None
                   for _, _, next_update, _ in got)


def test_fixed_rows_refuse_a_row_lock(db):
    with transaction.atomic(), pytest.raises(ValueError):
        FixedRows(lambda: Delivery.objects.select_for_update().values_list("pk")).rows()


def test_each_thread_gets_its_own_plan_and_connection(dispatched):
    """A plan keeps its compiler, and the compiler its connection: plans are per thread, as
    Django's connections are."""
    import threading

    from django.db import connections

    d = dispatched().deliveries.order_by("pk").first()
    query = KeyedQuery(lambda: Delivery.objects.select_related("recipient_unit"))
    assert query.get(d.pk).recipient_unit_id == d.recipient_unit_id
    seen: list = []

    def other_thread():
        try:
            try:
                query.get(10**9)  # its own plan, on its own connection
            except Delivery.DoesNotExist:
                seen.append(connections["default"])
        finally:
            connections.close_all()

    t = threading.Thread(target=other_thread)
    t.start()
    t.join(30)
    assert len(seen) == 1 and seen[0] is not connections["default"]
    assert set(query._plans) == {connections["default"], seen[0]}
