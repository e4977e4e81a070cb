"""批量分发 (issue 9): a stack of sealed documents dispatched at once with the rules of
``dispatch`` per document, few statements, one outbox task each for notices and
verification; the worker verifies each dispatched file once; opening with a stored report
is lean."""

from __future__ import annotations

import uuid

import pytest

from gongwen.audit.models import AuditEntry
from gongwen.documents.models import OfficialDocument, State
from gongwen.exchange import hooks, services, tasks
from gongwen.exchange.models import Delivery, DeliveryState, Dispatch, Notification

from .test_batch_sign import to_b
from .test_outbox import DB_QUEUE, _queued_paths

pytestmark = pytest.mark.django_db


def test_stack_is_dispatched_fanned_out_notified_and_verified(
        cast, sealed_doc, django_capture_on_commit_callbacks):
    docs = [sealed_doc(f"关于第{i}项工作的通知") for i in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        items = services.dispatch_many(actor=cast["clerk_a"], doc_ids=[d.pk for d in docs],
                                       key=uuid.uuid4())
    assert [i.doc_id for i in items] == [d.pk for d in docs]
    assert all(i.ok and not i.already and not i.error_zh for i in items)
    assert Dispatch.objects.count() == 3
    for item in items:
        rows = {d.recipient_unit.name: d for d in
                item.result.deliveries.select_related("recipient_unit")}
        assert len(rows) == 5  # 东海县 once (主送 wins), the group's members, 发改委
        assert rows["东海县人民政府"].role == "main" and rows["东海县人民政府"].via_group is None
        assert rows["赣榆县人民政府"].via_group == cast["group"]
        assert rows["海州区人民政府"].paper
        # The worker's verification ran for every networked delivery.
        assert all(d.verification.get("ok") for d in rows.values() if not d.paper)
    assert set(OfficialDocument.objects.filter(pk__in=[d.pk for d in docs])
               .values_list("state", flat=True)) == {State.DISPATCHED}
    assert AuditEntry.objects.filter(action="exchange.dispatched").count() == 3
    assert AuditEntry.objects.filter(action="exchange.verified").count() == 3 * 4
    incoming = Notification.objects.filter(kind="incoming", user__username="dhx_clerk")
    assert incoming.count() == 3


def test_retry_and_second_click_never_dispatch_twice(cast, sealed_doc):
    docs = [sealed_doc(f"关于第{i}项工作的通知") for i in range(2)]
    key = uuid.uuid4()
    first = services.dispatch_many(actor=cast["clerk_a"], doc_ids=[d.pk for d in docs],
                                   key=key)
    again = services.dispatch_many(actor=cast["clerk_a"], doc_ids=[d.pk for d in docs],
                                   key=str(key))
    other = services.dispatch_many(actor=cast["clerk_a"], doc_ids=[docs[1].pk],
                                   key=uuid.uuid4())
    single = services.dispatch(actor=cast["clerk_a"], doc_id=docs[0].pk, key=uuid.uuid4())
    assert [i.result.pk for i in first] == [i.result.pk for i in again]
    assert all(i.already for i in again) and other[0].already
    assert other[0].result.pk == first[1].result.pk and single.pk == first[0].result.pk
    assert Dispatch.objects.count() == 2 and Delivery.objects.count() == 10
    # Per-document keys: uuid5(key, doc id).
    assert first[0].result.idempotency_key == uuid.uuid5(key, str(docs[0].pk))
    assert AuditEntry.objects.filter(action="exchange.dispatched").count() == 2


def test_mixed_stack_dispatches_what_it_can_with_a_reason_for_each_other(cast, sealed_doc):
    from gongwen.documents import services as docs_services

    good = sealed_doc("关于第一项工作的通知")
    draft = docs_services.create_draft(actor=cast["clerk_a"], doc_type="notice",
                                       title="关于草稿的通知", body_text="正文。",
                                       main_units=[cast["b"].pk])
    classified = sealed_doc("关于第二项工作的通知")
    OfficialDocument.objects.filter(pk=classified.pk).update(title="关于第二项工作的通知（秘密★1年）")
    foreign = OfficialDocument.objects.create(unit=cast["b"], created_by=cast["clerk_b"],
                                              title="东海县的公文", state=State.SEALED)
    items = services.dispatch_many(
        actor=cast["clerk_a"],
        doc_ids=[good.pk, draft.pk, classified.pk, foreign.pk, 987654, "abc", good.pk],
        key=uuid.uuid4())
    by_id = {i.doc_id: i for i in items}
    assert len(items) == 6  # the repeated id once
    assert by_id[good.pk].ok
    assert "不能分发" in by_id[draft.pk].error_zh and not by_id[draft.pk].ok
    assert "秘密" in by_id[classified.pk].error_zh
    assert by_id[foreign.pk].error_zh == "未找到该公文。"
    assert by_id[987654].error_zh == "未找到该公文。"
    assert by_id[0].error_zh == "未找到该公文。"
    assert Dispatch.objects.get().document_id == good.pk
    assert OfficialDocument.objects.get(pk=classified.pk).state == State.SEALED
    assert OfficialDocument.objects.get(pk=draft.pk).state == State.DRAFT
    # The refusals are audited, in the stack's own transaction.
    assert AuditEntry.objects.filter(action="document.classified_refused",
                                     target_id=str(classified.pk)).count() == 1
    assert AuditEntry.objects.filter(action="permission.denied",
                                     target_id=str(foreign.pk)).count() == 1


def test_only_clerks_dispatch_a_stack(cast, sealed_doc):
    from django.core.exceptions import PermissionDenied

    doc = sealed_doc()
    with pytest.raises(PermissionDenied):
        services.dispatch_many(actor=cast["head_a"], doc_ids=[doc.pk], key=uuid.uuid4())
    assert not Dispatch.objects.exists()
    assert AuditEntry.objects.filter(action="permission.denied").count() == 1


def test_empty_or_oversized_stack_is_refused_in_chinese(cast):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="请选择要分发的公文"):
        services.dispatch_many(actor=cast["clerk_a"], doc_ids=[], key=uuid.uuid4())
    with pytest.raises(ValidationError, match="一次最多分发"):
        services.dispatch_many(actor=cast["clerk_a"], doc_ids=list(range(1, 300)),
                               key=uuid.uuid4())
    with pytest.raises(ValidationError, match="幂等键"):
        services.dispatch_many(actor=cast["clerk_a"], doc_ids=[1], key="")


@pytest.mark.parametrize("step", ["dispatch_created", "deliveries_created", "audited"])
def test_fault_between_steps_leaves_no_dispatch_of_the_stack(cast, sealed_doc, monkeypatch,
                                                             step):
    docs = [sealed_doc(f"关于第{i}项工作的通知") for i in range(2)]
    audit_before = AuditEntry.objects.count()

    def boom(name):
        if name == step:
            raise RuntimeError("power cut")

    monkeypatch.setattr(services, "_checkpoint", boom)
    key = uuid.uuid4()
    with pytest.raises(RuntimeError):
        services.dispatch_many(actor=cast["clerk_a"], doc_ids=[d.pk for d in docs], key=key)
    assert not Dispatch.objects.exists() and not Delivery.objects.exists()
    assert set(OfficialDocument.objects.filter(pk__in=[d.pk for d in docs])
               .values_list("state", flat=True)) == {State.SEALED}
    assert AuditEntry.objects.count() == audit_before
    monkeypatch.setattr(services, "_checkpoint", lambda name: None)
    items = services.dispatch_many(actor=cast["clerk_a"], doc_ids=[d.pk for d in docs], key=key)
    assert all(i.ok and not i.already for i in items)


def test_one_outbox_row_each_for_the_notices_and_the_verification_of_a_stack(settings, cast,
                                                                             sealed_doc):
    settings.TASKS = DB_QUEUE
    docs = [sealed_doc(f"关于第{i}项工作的通知") for i in range(3)]
    items = services.dispatch_many(actor=cast["clerk_a"], doc_ids=[d.pk for d in docs],
                                   key=uuid.uuid4())
    assert _queued_paths() == ["notify_dispatches", "verify_dispatches"]
    from django_tasks_db.models import DBTaskResult

    row = DBTaskResult.objects.get(task_path=tasks.verify_dispatches.module_path)
    assert row.args_kwargs["args"] == [[i.result.pk for i in items]]


def test_sweep_counts_dispatches_waiting_in_a_stack_task_as_queued(settings, cast, sealed_doc):
    import datetime as dt

    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from gongwen.exchange import scheduler

    settings.TASKS = DB_QUEUE
    docs = [sealed_doc(f"关于第{i}项工作的通知") for i in range(2)]
    services.dispatch_many(actor=cast["clerk_a"], doc_ids=[d.pk for d in docs],
                           key=uuid.uuid4())
    later = timezone.now() + dt.timedelta(minutes=11)
    assert scheduler.sweep(now=later) == {"notify": 0, "verify": 0, "email": 0}
    DBTaskResult.objects.all().delete()  # lost: each dispatch is enqueued again, once
    assert scheduler.sweep(now=later) == {"notify": 2, "verify": 2, "email": 0}
    assert scheduler.sweep(now=later) == {"notify": 0, "verify": 0, "email": 0}


# -- statement budgets (stand-in verification; see test_batch_sign) --------------------------
# Both include one read of the roll-out phases per stack (R-POLICY-1).
SINGLE_BUDGET = 14        # dispatch, one recipient (test transaction; 16 before)
STACK_BUDGET = 14         # a stack of one document with one recipient (test transaction)
STACK_PER_DOCUMENT = 1    # every further document: its 密级 guard's read of its attachments
OPEN_WITH_REPORT_BUDGET = 8  # SAVEPOINT, the locked read, CAs, UPDATE, 3 audit, RELEASE


def test_stack_statement_budget(cast, django_assert_max_num_queries):
    single = to_b(cast, "关于单件分发的通知")
    with django_assert_max_num_queries(SINGLE_BUDGET):
        services.dispatch(actor=cast["clerk_a"], doc_id=single.pk, key=uuid.uuid4())
    one = to_b(cast, "关于第一项工作的通知")
    with django_assert_max_num_queries(STACK_BUDGET):
        services.dispatch_many(actor=cast["clerk_a"], doc_ids=[one.pk], key=uuid.uuid4())
    docs = [to_b(cast, f"关于第{i}项工作的通知") for i in range(2, 12)]
    with django_assert_max_num_queries(STACK_BUDGET + STACK_PER_DOCUMENT * (len(docs) - 1)):
        items = services.dispatch_many(actor=cast["clerk_a"], doc_ids=[d.pk for d in docs],
                                       key=uuid.uuid4())
    assert all(i.ok for i in items)


def test_opening_with_a_stored_report_is_lean(cast, django_assert_max_num_queries,
                                              monkeypatch):
    doc = to_b(cast, "关于第一项工作的通知")
    sent = services.dispatch(actor=cast["clerk_a"], doc_id=doc.pk, key=uuid.uuid4())
    assert services.verify_dispatches([sent.pk]) == 1
    d = sent.deliveries.get()
    assert d.verified_at is not None

    def no_verification(*args):
        raise AssertionError("the stored report is still valid")

    monkeypatch.setattr(hooks, "verify_dispatched", no_verification)
    clerk = cast["clerk_b"]
    assert clerk.roles  # loaded once per request by the permission layer
    with django_assert_max_num_queries(OPEN_WITH_REPORT_BUDGET):
        opened = services.open_delivery(actor=clerk, delivery_id=d.pk)
    assert opened.state == DeliveryState.OPENED and opened.verification["ok"]


# -- the worker's verification: once per dispatched file --------------------------------------
def test_worker_verifies_each_dispatched_file_once_for_all_its_deliveries(
        cast, sealed_doc, monkeypatch):
    docs = [sealed_doc(f"关于第{i}项工作的通知") for i in range(2)]
    items = services.dispatch_many(actor=cast["clerk_a"], doc_ids=[d.pk for d in docs],
                                   key=uuid.uuid4())
    calls = []
    real = hooks.verify_dispatched

    def counted(document, sent, register=None):
        calls.append(sent.pk)
        return real(document, sent, register)

    monkeypatch.setattr(hooks, "verify_dispatched", counted)
    ids = [i.result.pk for i in items]
    assert services.verify_dispatches(ids) == 8  # 4 networked deliveries each
    assert sorted(calls) == sorted(ids)
    assert AuditEntry.objects.filter(action="exchange.verified").count() == 8
    # Idempotent: a second run (a restarted worker) verifies nothing again.
    assert tasks.verify_dispatches.call(ids) == 0
    assert sorted(calls) == sorted(ids)


def test_worker_keeps_the_report_of_an_item_opened_first(cast, sealed_doc):
    items = services.dispatch_many(actor=cast["clerk_a"], doc_ids=[sealed_doc().pk],
                                   key=uuid.uuid4())
    sent = items[0].result
    d = sent.deliveries.get(recipient_unit=cast["b"])
    services.open_delivery(actor=cast["clerk_b"], delivery_id=d.pk)
    at = Delivery.objects.get(pk=d.pk).verified_at
    assert services.verify_dispatches([sent.pk]) == 3
    assert Delivery.objects.get(pk=d.pk).verified_at == at


def test_a_failing_file_returns_every_pending_delivery_with_notices(cast, sealed_doc,
                                                                   monkeypatch):
    items = services.dispatch_many(actor=cast["clerk_a"], doc_ids=[sealed_doc().pk],
                                   key=uuid.uuid4())
    bad = hooks.Report.of([hooks.Check("seal", "电子印章", False, "印章证书已吊销")])
    monkeypatch.setattr(hooks, "verify_dispatched", lambda document, sent, register=None: bad)
    assert tasks.verify_dispatch.call(items[0].result.pk) == 4
    returned = Delivery.objects.filter(state=DeliveryState.REJECTED_INVALID)
    assert returned.count() == 4
    assert all("印章证书已吊销" in d.return_reason for d in returned)
    assert Delivery.objects.get(paper=True).state == DeliveryState.DELIVERED
    assert AuditEntry.objects.filter(action="exchange.auto_returned").count() == 4
    assert Notification.objects.filter(kind="returned", user__username="sfb_clerk").count() == 4


# -- web: 待分发 with checkboxes, 全选 and 批量分发 ---------------------------------------------------
def test_outbox_batch_dispatch_form(cast, sealed_doc, client):
    import re

    from tests.conftest import PASSWORD

    docs = [sealed_doc(f"关于第{i}项工作的通知") for i in range(1, 3)]
    classified = sealed_doc("关于第三项工作的通知")
    assert client.login(username="sfb_clerk", password=PASSWORD)
    page = client.get("/outbox/").content.decode()
    assert 'id="batch-dispatch-form"' in page and "全选" in page and "批量分发" in page
    assert all(f'name="ids" value="{d.pk}"' in page for d in [*docs, classified])
    key = re.search(r'id="batch-dispatch-form">.*?name="key" value="([^"]+)"', page).group(1)
    OfficialDocument.objects.filter(pk=classified.pk).update(title="关于第三项工作的通知（秘密★1年）")
    ids = [d.pk for d in [*docs, classified]] + [987654]
    resp = client.post("/outbox/dispatch/", {"ids": ids, "key": key}, follow=True)
    text = resp.content.decode()
    assert resp.redirect_chain[-1][0].endswith("/outbox/")
    assert "已分发 2 件公文" in text
    assert "《关于第1项工作的通知》：已分发至 5 个收文单位。" in text
    assert "《关于第三项工作的通知（秘密★1年）》：" in text and "秘密" in text
    assert "所选公文：未找到该公文。" in text
    again = client.post("/outbox/dispatch/", {"ids": ids, "key": key}, follow=True)
    assert "《关于第2项工作的通知》：此前已分发（5 个收文单位），未重复分发。" in \
        again.content.decode()
    assert Dispatch.objects.count() == 2
    text = client.post("/outbox/dispatch/", {"key": key}, follow=True).content.decode()
    assert "请选择要分发的公文。" in text
    client.logout()
    assert client.login(username="sfb_head", password=PASSWORD)
    assert client.post("/outbox/dispatch/", {"ids": ids, "key": key}).status_code == 403


@pytest.mark.django_db(transaction=True)
def test_two_clerks_dispatching_overlapping_stacks_send_each_document_once(cast, sealed_doc):
    """Two stacks with the same documents in opposite order, at the same time: the documents
    are locked in id order, so neither deadlocks and each document is dispatched once."""
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("row-lock races are exercised on PostgreSQL")
    docs = [sealed_doc(f"关于第{i}项工作的通知") for i in range(4)]
    ids = [d.pk for d in docs]
    start = threading.Barrier(2, timeout=20)
    results: list = []
    errors: list[BaseException] = []

    def run(order):
        try:
            start.wait()
            results.append(services.dispatch_many(actor=cast["clerk_a"], doc_ids=order,
                                                  key=uuid.uuid4()))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(o,)) for o in (ids, ids[::-1])]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert all(i.ok for r in results for i in r)
    assert Dispatch.objects.count() == 4 and Delivery.objects.count() == 20
    fresh = sum(1 for r in results for i in r if not i.already)
    assert fresh == 4
    assert AuditEntry.objects.filter(action="exchange.dispatched").count() == 4
