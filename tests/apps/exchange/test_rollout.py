"""Roll-out phases (R-POLICY-1), the paper parallel run (R-POLICY-2) and upward requests
(R-FLOW-4): what may go through the platform on a day, and the paper kept beside it."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from gongwen.accounts.models import Role
from gongwen.audit.models import AuditEntry
from gongwen.documents import services as docs
from gongwen.exchange import paper, services
from gongwen.exchange.models import Delivery, Notification, PaperArrival
from gongwen.policy import rollout
from gongwen.policy.models import RolloutPhase
from gongwen.units.models import Level, Unit

from .conftest import put_sealed_rendition


@pytest.fixture
def operator_a(make_user, cast):
    return make_user(cast["a"], Role.OPERATOR, username="sfb_admin")


@pytest.fixture
def phase_one(cast, operator_a):
    """第一阶段 in force since yesterday: the city office's documents, forwarded superior
    documents and requests to the city office; paper runs in parallel."""
    def make(start=None, **fields):
        data = {"name": "第一阶段", "starts_on": start or timezone.localdate() - dt.timedelta(1),
                "all_documents": False, "networked_only": True, "allow_forwarding": True,
                "paper_parallel": True, **fields}
        return rollout.save_phase(actor=operator_a, data=data, senders=[cast["a"].pk],
                                  request_recipients=[cast["a"].pk])

    return make


def _request_of_b(cast, *, main=None, sealed=True, title="关于申请防汛救灾资金的请示"):
    doc = docs.create_draft(actor=cast["clerk_b"], doc_type="request", title=title,
                            body_text="妥否，请批示。", signers=["褚立新"],
                            main_units=main or [cast["a"].pk])
    return doc


def _seal(cast, doc, clerk="clerk_b", head="head_b"):
    docs.submit(actor=cast[clerk], doc_id=doc.pk)
    doc = docs.approve(actor=cast[head], doc_id=doc.pk, comment="同意")
    put_sealed_rendition(doc)
    return doc


def _dispatch(cast, doc, clerk="clerk_b"):
    return services.dispatch(actor=cast[clerk], doc_id=doc.pk, key=uuid.uuid4())


# -- R-POLICY-1: the scope in force --------------------------------------------------------
def test_without_phases_nothing_is_restricted(cast, dispatched):
    assert rollout.phase_on() is None
    sent = dispatched()
    assert sent.parallel_run is False
    doc = docs.create_draft(actor=cast["clerk_b"], doc_type="notice", title="关于开展安全检查的通知",
                            body_text="请认真落实。", main_units=[cast["fgw"].pk])
    assert rollout.scope_refusal(doc) is None


def test_phase_one_refuses_a_county_notice_and_accepts_its_request(cast, phase_one):
    phase_one()
    notice = docs.create_draft(actor=cast["clerk_b"], doc_type="notice",
                               title="关于开展安全检查的通知", body_text="请认真落实。",
                               main_units=[cast["fgw"].pk])
    with pytest.raises(ValidationError) as exc:
        docs.submit(actor=cast["clerk_b"], doc_id=notice.pk)
    message = " ".join(exc.value.messages)
    assert "第一阶段" in message and "不在此范围内" in message and "纸质" in message
    notice.refresh_from_db()
    assert notice.state == "draft"
    refused = AuditEntry.objects.get(action="policy.out_of_scope")
    assert refused.detail["stage"] == "submit" and refused.detail["phase"] == "第一阶段"

    sent = _dispatch(cast, _seal(cast, _request_of_b(cast)))
    assert sent.parallel_run is True
    assert list(sent.deliveries.values_list("recipient_unit", flat=True)) == [cast["a"].pk]


def test_phase_one_accepts_the_city_office_and_forwarded_documents(cast, phase_one,
                                                                   sealed_doc):
    phase_one()
    sent = services.dispatch(actor=cast["clerk_a"], doc_id=sealed_doc().pk, key=uuid.uuid4())
    assert sent.parallel_run is True
    forward = docs.create_draft(actor=cast["clerk_b"], doc_type="notice",
                                title="关于转发省政府办公厅文件的通知",
                                main_units=[cast["fgw"].pk])
    assert "不在此范围内" in rollout.scope_refusal(forward)
    forward.body_source = "file"  # an uploaded PDF/OFD body: its issuer is only a claim
    assert "不在此范围内" in rollout.scope_refusal(forward)
    forward.body_source = "text"
    # 转发 of a received document counts when a provincial-level unit sent it.
    received = sent.deliveries.get(recipient_unit=cast["b"])  # from the city office
    forward.forwards = received
    assert "不在此范围内" in rollout.scope_refusal(forward)
    Unit.objects.filter(pk=cast["a"].pk).update(level=Level.PROVINCE)  # as if 省政府办公厅
    forward.forwards = Delivery.objects.get(pk=received.pk)
    assert rollout.scope_refusal(forward) is None


def test_a_request_to_a_unit_outside_the_phase_is_refused(cast, phase_one):
    phase_one()
    doc = _request_of_b(cast, main=[cast["fgw"].pk])
    assert "不在此范围内" in rollout.scope_refusal(doc)


def test_a_request_has_one_main_recipient(cast):
    doc = _request_of_b(cast, main=[cast["a"].pk, cast["fgw"].pk])
    with pytest.raises(ValidationError, match="请示只主送一个上级机关"):
        docs.submit(actor=cast["clerk_b"], doc_id=doc.pk)


def test_a_request_is_never_addressed_to_a_group(cast):
    """QA: a 请示 whose one 主送 was a group passed the rule and went to every member, all
    of them peers of the sender. A group is as many units as it has members."""
    doc = docs.create_draft(actor=cast["clerk_b"], doc_type="request", title="关于申请经费的请示",
                            body_text="妥否，请批示。", signers=["褚立新"],
                            main_groups=[cast["group"].pk])
    with pytest.raises(ValidationError, match="不能主送收文分组"):
        docs.submit(actor=cast["clerk_b"], doc_id=doc.pk)
    # As 抄送 a group is fine.
    docs.update_draft(actor=cast["clerk_b"], doc_id=doc.pk, main_groups=[],
                      main_units=[cast["a"].pk], copy_groups=[cast["group"].pk])
    assert docs.submit(actor=cast["clerk_b"], doc_id=doc.pk).state == "submitted"


@pytest.mark.parametrize("role", ["main_units", "copy_units"])
def test_a_unit_never_addresses_its_own_document_to_itself(cast, role):
    """QA: a 请示 to its own unit was approved, numbered and sealed, and only refused at
    分发, where it stayed for good."""
    with pytest.raises(ValidationError, match="不能把本单位列为主送或抄送机关"):
        docs.create_draft(actor=cast["clerk_b"], doc_type="request", title="关于申请经费的请示",
                          body_text="妥否，请批示。", signers=["褚立新"],
                          **{"main_units": [cast["a"].pk], role: [cast["b"].pk]})
    doc = _request_of_b(cast)
    with pytest.raises(ValidationError, match="不能把本单位列为主送或抄送机关"):
        docs.update_draft(actor=cast["clerk_b"], doc_id=doc.pk, **{role: [cast["b"].pk]})


def test_a_unit_not_networked_is_refused_in_phase_one(cast, phase_one, make_user):
    phase_one()
    clerk = make_user(cast["hzq"], Role.CLERK, username="hzq_clerk")
    doc = docs.create_draft(actor=clerk, doc_type="request", title="关于申请经费的请示",
                            body_text="妥否，请批示。", signers=["施建平"],
                            main_units=[cast["a"].pk])
    assert "尚未联网" in rollout.scope_refusal(doc)


def test_before_the_first_phase_nothing_goes_electronically(cast, phase_one, sealed_doc):
    doc = sealed_doc()  # sealed while no phase was configured
    phase_one(start=timezone.localdate() + dt.timedelta(days=3))
    with pytest.raises(ValidationError, match="起实行"):
        services.dispatch(actor=cast["clerk_a"], doc_id=doc.pk, key=uuid.uuid4())
    doc.refresh_from_db()
    assert doc.state == "sealed" and not hasattr(doc, "dispatch")


def test_dispatch_asks_the_phase_of_its_own_day(cast, phase_one):
    """A county notice sealed before the operator configured phase 1 is refused at dispatch."""
    notice = docs.create_draft(actor=cast["clerk_b"], doc_type="notice",
                               title="关于开展安全检查的通知", body_text="请认真落实。",
                               main_units=[cast["fgw"].pk])
    notice = _seal(cast, notice)
    phase_one()
    with pytest.raises(ValidationError, match="不在此范围内"):
        _dispatch(cast, notice)
    results = services.dispatch_many(actor=cast["clerk_b"], doc_ids=[notice.pk],
                                     key=uuid.uuid4())
    assert results[0].result is None and "不在此范围内" in results[0].error_zh
    stages = list(AuditEntry.objects.filter(action="policy.out_of_scope")
                  .order_by("id").values_list("detail__stage", flat=True))
    assert stages == ["dispatch", "dispatch"]  # the single refusal and the stack's


def test_phase_two_opens_everything_and_ends_the_parallel_run(cast, phase_one, operator_a):
    today = timezone.localdate()
    phase_one(start=today - dt.timedelta(days=30))
    rollout.save_phase(actor=operator_a, data={"name": "第二阶段", "starts_on": today,
                                               "all_documents": True, "paper_parallel": False})
    rows = rollout.phase_rows()
    assert [r.phase.name for r in rows] == ["第一阶段", "第二阶段"]
    assert rows[0].ends_on == today - dt.timedelta(days=1) and not rows[0].current
    assert rows[1].current and rows[1].ends_on is None
    notice = _seal(cast, docs.create_draft(
        actor=cast["clerk_b"], doc_type="notice", title="关于开展安全检查的通知",
        body_text="请认真落实。", main_units=[cast["fgw"].pk]))
    assert _dispatch(cast, notice).parallel_run is False
    assert rollout.scope_refusal(notice, on=today - dt.timedelta(days=1)) is not None


def test_only_operators_change_phases_and_every_change_is_audited(cast, operator_a):
    data = {"name": "第一阶段", "starts_on": dt.date(2006, 7, 24), "paper_parallel": True}
    with pytest.raises(PermissionDenied):
        rollout.save_phase(actor=cast["clerk_a"], data=data)
    phase = rollout.save_phase(actor=operator_a, data=data, senders=[cast["a"].pk])
    with pytest.raises(ValidationError, match="已有推行阶段"):
        rollout.save_phase(actor=operator_a, data={**data, "name": "重复"})
    rollout.save_phase(actor=operator_a, phase_id=phase.pk, data={"note": "按通知执行"},
                       senders=[cast["a"].pk])
    assert rollout.delete_phase(actor=operator_a, phase_id=phase.pk) is True
    assert rollout.delete_phase(actor=operator_a, phase_id=phase.pk) is False
    actions = list(AuditEntry.objects.filter(action__startswith="policy.")
                   .order_by("id").values_list("action", flat=True))
    assert actions == ["policy.phase_saved", "policy.phase_saved", "policy.phase_deleted"]
    saved = AuditEntry.objects.filter(action="policy.phase_saved").order_by("id").last()
    assert saved.detail["before"]["note"] == "" and saved.detail["after"]["note"] == "按通知执行"
    assert not RolloutPhase.objects.exists()
    assert AuditEntry.objects.filter(action="permission.denied").exists()


# -- R-POLICY-2: paper beside the platform --------------------------------------------------
def test_paper_copies_of_the_parallel_run(cast, phase_one, dispatched):
    phase_one()
    sent = dispatched()
    rows = paper.record_paper_copies(actor=cast["clerk_a"], dispatch_id=sent.pk, copies=2)
    assert len(rows) == sent.deliveries.count()
    assert set(sent.deliveries.values_list("paper_copies", flat=True)) == {2}
    entry = AuditEntry.objects.filter(action="exchange.paper_copies").get()
    assert entry.detail["exception"] is False and entry.detail["copies"] == 2
    # Fewer copies as the run goes on: clear one recipient.
    one = sent.deliveries.get(recipient_unit=cast["fgw"])
    paper.record_paper_copies(actor=cast["clerk_a"], dispatch_id=sent.pk,
                              delivery_ids=[one.pk], copies=0)
    one.refresh_from_db()
    assert one.paper_copies == 0 and one.paper_sent_on is None


def test_paper_after_the_cut_over_needs_a_reason(cast, dispatched):
    sent = dispatched()
    b = sent.deliveries.get(recipient_unit=cast["b"])
    with pytest.raises(ValidationError, match="纸质发文属例外"):
        paper.record_paper_copies(actor=cast["clerk_a"], dispatch_id=sent.pk,
                                  delivery_ids=[b.pk], copies=1)
    paper.record_paper_copies(actor=cast["clerk_a"], dispatch_id=sent.pk,
                              delivery_ids=[b.pk], copies=1, note="县政府要求存档")
    b.refresh_from_db()
    assert (b.paper_copies, b.paper_note) == (1, "县政府要求存档")
    assert AuditEntry.objects.filter(action="exchange.paper_copies").get().detail["exception"]


def test_paper_copies_refuse_bad_input_and_other_units(cast, dispatched):
    sent = dispatched()
    with pytest.raises(Http404):
        paper.record_paper_copies(actor=cast["clerk_b"], dispatch_id=sent.pk, copies=1,
                                  note="x")
    with pytest.raises(ValidationError, match="整数"):
        paper.record_paper_copies(actor=cast["clerk_a"], dispatch_id=sent.pk, copies="二",
                                  note="x")
    with pytest.raises(ValidationError, match="不能晚于今天"):
        paper.record_paper_copies(actor=cast["clerk_a"], dispatch_id=sent.pk, copies=1,
                                  note="x", sent_on=timezone.localdate() + dt.timedelta(1))
    with pytest.raises(ValidationError, match="格式不正确"):
        paper.record_paper_copies(actor=cast["clerk_a"], dispatch_id=sent.pk, copies=1,
                                  note="x", sent_on="2006/07/24")
    assert not Delivery.objects.filter(paper_copies__gt=0).exists()


def test_the_recipient_records_the_paper_copy(cast, phase_one):
    phase_one()
    sent = _dispatch(cast, _seal(cast, _request_of_b(cast)))
    delivery = sent.deliveries.get()
    with pytest.raises(Http404):
        paper.record_paper_received(actor=cast["clerk_gyx"], delivery_id=delivery.pk)
    got = paper.record_paper_received(actor=cast["clerk_a"], delivery_id=delivery.pk)
    assert got.paper_received_on == timezone.localdate()
    again = paper.record_paper_received(actor=cast["clerk_a"], delivery_id=delivery.pk,
                                        received_on="2006-01-01")
    assert again.paper_received_on == timezone.localdate()
    assert AuditEntry.objects.filter(action="exchange.paper_received").count() == 1


# -- R-FLOW-4: the mail room matches paper to the electronic request ----------------------------
@pytest.mark.parametrize("typed", ["{code}〔{year}〕{serial}号", "{code}[{year}]{serial}号",
                                   " {code}（{year}）{serial} 号"])
def test_a_paper_request_is_matched_to_its_electronic_copy(cast, phase_one, typed):
    phase_one()
    doc = _seal(cast, _request_of_b(cast))
    sent = _dispatch(cast, doc)
    number = typed.format(code=doc.number_code, year=doc.number_year, serial=doc.number_serial)
    arrival = paper.register_arrival(actor=cast["clerk_a"], sender_unit_id=cast["b"].pk,
                                     title="（标题以纸质件为准）", doc_number=number,
                                     is_request=True, key=uuid.uuid4())
    assert arrival.outcome == PaperArrival.Outcome.MATCHED
    assert arrival.doc_number == doc.doc_number
    assert arrival.delivery == sent.deliveries.get()
    assert arrival.delivery.paper_received_on == timezone.localdate()


def test_a_request_on_paper_only_is_refused_and_its_sender_told(cast, phase_one):
    phase_one()
    key = uuid.uuid4()
    arrival = paper.register_arrival(actor=cast["clerk_a"], sender_unit_id=cast["b"].pk,
                                     title="关于申请防汛救灾资金的请示",
                                     doc_number="东政发〔2006〕9号", is_request=True, key=key)
    assert arrival.outcome == PaperArrival.Outcome.REFUSED and arrival.delivery is None
    told = Notification.objects.filter(kind="paper_only")
    assert [n.user for n in told] == [cast["clerk_b"]]
    assert "不予受理" in told[0].text and "东政发〔2006〕9号" in told[0].text
    again = paper.register_arrival(actor=cast["clerk_a"], sender_unit_id=cast["b"].pk,
                                   title="x", is_request=True, key=key)
    assert again.pk == arrival.pk and PaperArrival.objects.count() == 1
    assert told.count() == 1
    assert AuditEntry.objects.filter(action="exchange.paper_arrival").count() == 1


def test_paper_that_came_before_the_dispatch_is_matched_when_it_is_sent(
        cast, phase_one, django_capture_on_commit_callbacks):
    """QA: the paper 请示 often reaches the mail room before the electronic copy is
    dispatched. It was refused for good (the sender told 不予受理, the delivery without its
    paper). Once the dispatch exists it is matched, and the sender told it is accepted."""
    phase_one()
    doc = _seal(cast, _request_of_b(cast))
    arrival = paper.register_arrival(actor=cast["clerk_a"], sender_unit_id=cast["b"].pk,
                                     title=doc.title, doc_number=doc.doc_number,
                                     is_request=True, key=uuid.uuid4(),
                                     received_on=timezone.localdate() - dt.timedelta(1))
    assert arrival.outcome == PaperArrival.Outcome.REFUSED
    with django_capture_on_commit_callbacks(execute=True):
        sent = _dispatch(cast, doc)
    arrival.refresh_from_db()
    delivery = sent.deliveries.get()
    assert arrival.outcome == PaperArrival.Outcome.MATCHED and arrival.delivery == delivery
    assert delivery.paper_received_on == arrival.received_on
    told = Notification.objects.get(kind="paper_ok")
    assert told.user == cast["clerk_b"] and "予以受理" in told.text
    assert AuditEntry.objects.filter(action="exchange.paper_matched").count() == 1
    assert paper.match_waiting_arrivals(sent.pk) == 0  # done once


def test_paper_without_a_roll_out_or_not_a_request_is_only_recorded(cast, phase_one):
    arrival = paper.register_arrival(actor=cast["clerk_a"], sender_unit_id=cast["b"].pk,
                                     title="关于申请经费的请示", is_request=True,
                                     key=uuid.uuid4())
    assert arrival.outcome == PaperArrival.Outcome.RECORDED
    phase_one()
    arrival = paper.register_arrival(actor=cast["clerk_a"], sender_unit_id=cast["b"].pk,
                                     title="关于工作情况的报告", is_request=False,
                                     key=uuid.uuid4())
    assert arrival.outcome == PaperArrival.Outcome.RECORDED
    assert not Notification.objects.filter(kind="paper_only").exists()


def test_the_mail_room_refuses_bad_input(cast):
    cases = [({"sender_unit_id": "x", "title": "t"}, "请选择来文单位"),
             ({"sender_unit_id": cast["a"].pk, "title": "t"}, "不能是本单位"),
             ({"sender_unit_id": cast["b"].pk, "title": " "}, "请填写来文标题"),
             ({"sender_unit_id": cast["b"].pk, "title": "t", "doc_number": "第12号"},
              "发文字号格式不正确")]
    for fields, message in cases:
        with pytest.raises(ValidationError, match=message):
            paper.register_arrival(actor=cast["clerk_a"], key=uuid.uuid4(), **fields)
    with pytest.raises(PermissionDenied):
        paper.register_arrival(actor=cast["head_a"], sender_unit_id=cast["b"].pk, title="t",
                               key=uuid.uuid4())
    assert not PaperArrival.objects.exists()


def test_statistics_count_the_paper_that_went_out(cast, phase_one, dispatched):
    from gongwen.exchange import stats

    phase_one()
    sent = dispatched()
    today = timezone.localdate()
    before = stats.figures([cast["a"].pk], today, today).total
    paper.record_paper_copies(actor=cast["clerk_a"], dispatch_id=sent.pk, copies=1)
    after = stats.figures([cast["a"].pk], today, today).total
    electronic = sent.deliveries.filter(paper=False).count()
    assert before.paper_out == sent.deliveries.filter(paper=True).count() == 1
    assert after.paper_out == sent.deliveries.count()
    assert after.electronic_out == before.electronic_out == electronic


def test_the_cli_prints_the_phases(cast, phase_one, operator_a, capsys):
    from gongwen.cli import main

    assert main(["policy"]) == 0
    assert "尚未配置推行阶段" in capsys.readouterr().out
    phase_one(start=dt.date(2006, 7, 24))
    rollout.save_phase(actor=operator_a, data={"name": "第二阶段",
                                               "starts_on": dt.date(2007, 1, 1),
                                               "all_documents": True})
    assert main(["policy", "--on", "2006-09-01"]) == 0
    out = capsys.readouterr().out
    assert "＊第一阶段  2006-07-24 至 2006-12-31，纸电并行" in out
    assert "  第二阶段  2007-01-01 至 今后" in out and "所有发文单位的所有文件" in out
    assert main(["policy", "--on", "2006-7-1x"]) == 2
    assert "格式不正确" in capsys.readouterr().err


def test_each_unit_sees_its_scope_in_the_phase(cast, phase_one, operator_a, client):
    from tests.conftest import PASSWORD

    assert "不限制传输范围" in rollout.Scope().unit_scope(cast["b"])
    phase_one()
    scope = rollout.Scope()
    city, county, offline = (scope.unit_scope(cast[k]) for k in ("a", "b", "hzq"))
    assert city.startswith("第一阶段") and "以本单位名义的发文" in city
    assert "以本单位名义的发文" not in county
    assert f"向{cast['a'].name}上报的请示" in county and "转发" in county
    assert "未联网，不能通过平台发文" in offline
    assert client.login(username="sfb_admin", password=PASSWORD)
    page = client.get(f"/units/{cast['b'].pk}/").content.decode()
    assert county in page


def test_phase_units_must_exist_and_be_in_service(cast, operator_a):
    data = {"name": "第一阶段", "starts_on": dt.date(2006, 7, 24)}
    for bad in ([999999], [0], ["x"], [2**70]):
        with pytest.raises(ValidationError, match="所选单位不存在或已撤销"):
            rollout.save_phase(actor=operator_a, data=data, senders=bad)
        with pytest.raises(ValidationError, match="所选单位不存在或已撤销"):
            rollout.save_phase(actor=operator_a, data=data, request_recipients=bad)
    Unit.objects.filter(pk=cast["fgw"].pk).update(state="revoked")
    with pytest.raises(ValidationError, match="所选单位不存在或已撤销"):
        rollout.save_phase(actor=operator_a, data=data, senders=[cast["fgw"].pk])
    assert not RolloutPhase.objects.exists()


def test_paper_only_is_refused_only_where_the_platform_would_have_taken_it(
        cast, phase_one, make_user):
    phase_one()
    # 海州区 is not networked: it has no electronic way, so its paper is recorded.
    offline = paper.register_arrival(actor=cast["clerk_a"], sender_unit_id=cast["hzq"].pk,
                                     title="关于申请经费的请示", is_request=True,
                                     key=uuid.uuid4())
    assert offline.outcome == PaperArrival.Outcome.RECORDED
    # A request to 发改委 is outside phase 1: it could only go on paper.
    peer = paper.register_arrival(actor=cast["clerk_fgw"], sender_unit_id=cast["b"].pk,
                                  title="关于项目立项的请示", is_request=True, key=uuid.uuid4())
    assert peer.outcome == PaperArrival.Outcome.RECORDED
    assert not Notification.objects.filter(kind="paper_only").exists()
    with pytest.raises(ValidationError, match="请核对"):
        paper.register_arrival(actor=cast["clerk_a"], sender_unit_id=cast["b"].pk, title="t",
                               received_on="2001-01-01", key=uuid.uuid4())


def test_no_paper_is_registered_on_a_withdrawn_delivery(cast, dispatched):
    sent = dispatched()
    services.withdraw(actor=cast["clerk_a"], dispatch_id=sent.pk, reason="发错了",
                      key=uuid.uuid4())
    d = sent.deliveries.get(recipient_unit=cast["b"])
    with pytest.raises(ValidationError, match="已被发文单位撤回"):
        paper.record_paper_received(actor=cast["clerk_b"], delivery_id=d.pk)


@pytest.mark.parametrize(("typed", "canonical"), [
    ("连政办发〔2006〕107号", "连政办发〔2006〕107号"),
    ("连政办发[2006]107号", "连政办发〔2006〕107号"),
    (" 连政办发（2006）第107号 ", "连政办发〔2006〕107号"),
    ("连政办发【2006】007号", "连政办发〔2006〕7号"),
    ("", None),
])
def test_the_mail_room_reads_a_number_as_people_type_it(typed, canonical):
    number = paper.parse_number(typed)
    assert (str(number) if number else None) == canonical


@pytest.mark.parametrize("typed", ["第12号", "连政办发〔06〕12号", "连政办发〔2006〕0号",
                                   "连政办发〔2006〕1234567号", "连政办发〔2006〕12", "长" * 60 + "〔2006〕1号"])
def test_the_mail_room_refuses_what_is_not_a_number(typed):
    with pytest.raises(ValidationError, match="发文字号格式不正确"):
        paper.parse_number(typed)
