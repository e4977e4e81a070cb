"""收发文统计 (R-AUDIT-2): the figures per month and unit, the page, its scope and its CSV.

GIVEN two notices of the city office (unit A), dispatched to 东海县 (B), two more counties
(one on paper) and 发改委, moved to known times and outcomes
WHEN the statistics are read for every unit, for B and for A
THEN each count, rate and latency is the one worked out by hand below.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zoneinfo

import pytest
from django.urls import reverse

from gongwen.accounts.models import Role
from gongwen.exchange import stats
from gongwen.exchange.models import Delivery, DeliveryState, Dispatch

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=TZ)


def at(day: str, hour: int) -> dt.datetime:
    y, m, d = map(int, day.split("-"))
    return dt.datetime(y, m, d, hour, 0, tzinfo=TZ)


def _move(sent: Dispatch, when: dt.datetime, outcomes: dict) -> None:
    Dispatch.objects.filter(pk=sent.pk).update(at=when)
    for unit, (state, hours) in outcomes.items():
        fields = {"dispatched_at": when, "state": state}
        if state == DeliveryState.SIGNED:
            fields["signed_at"] = when + dt.timedelta(hours=hours)
        elif state in (DeliveryState.RETURNED, DeliveryState.REJECTED_INVALID):
            fields["returned_at"] = when + dt.timedelta(hours=hours)
        elif state == DeliveryState.WITHDRAWN:
            fields["withdrawn_at"] = when + dt.timedelta(hours=hours)
        assert Delivery.objects.filter(dispatch=sent, recipient_unit=unit).update(**fields) == 1


@pytest.fixture
def history(cast, dispatched):
    """d1 at 2026-10-01 02:00 Beijing time (still September in UTC): B signs after 3 h,
    赣榆 after 30 h (late), 灌南 returns it after 2 h, 发改委 never answers, 海州区 gets
    paper. d2 on 2026-11-10 09:00: B signs after 5 h, 赣榆 never answers, 灌南's copy failed
    verification (returned by the platform), 发改委's delivery was withdrawn."""
    d1, d2 = dispatched(title="第一份通知"), dispatched(title="第二份通知")
    recipients = {d.recipient_unit_id: d.paper for d in d1.deliveries.all()}
    assert recipients == {cast[k].pk: k == "hzq" for k in ("b", "gyx", "gn", "fgw", "hzq")}
    _move(d1, at("2026-10-01", 2), {
        cast["b"]: (DeliveryState.SIGNED, 3), cast["gyx"]: (DeliveryState.SIGNED, 30),
        cast["gn"]: (DeliveryState.RETURNED, 2), cast["fgw"]: (DeliveryState.DELIVERED, 0),
        cast["hzq"]: (DeliveryState.DELIVERED, 0)})
    _move(d2, at("2026-11-10", 9), {
        cast["b"]: (DeliveryState.SIGNED, 5), cast["gyx"]: (DeliveryState.OPENED, 0),
        cast["gn"]: (DeliveryState.REJECTED_INVALID, 0),
        cast["fgw"]: (DeliveryState.WITHDRAWN, 1), cast["hzq"]: (DeliveryState.DELIVERED, 0)})
    return cast


def month(figs: stats.Figures, label: str) -> stats.Counts:
    return dict(zip(figs.labels, (c for _, c in figs.months), strict=True))[label]


def test_every_unit_month_by_month(history):
    figs = stats.figures(None, dt.date(2026, 9, 1), dt.date(2026, 11, 30), now=NOW)
    assert figs.labels == ["2026-09", "2026-10", "2026-11"]
    assert month(figs, "2026-09") == stats.Counts()  # the month of Beijing time, not UTC
    oct_, nov = month(figs, "2026-10"), month(figs, "2026-11")
    assert (oct_.sent, oct_.received, oct_.signed, oct_.returned) == (1, 4, 2, 1)
    assert (oct_.due, oct_.overdue, oct_.overdue_rate) == (4, 2, 50.0)
    assert (oct_.latency_median_h, oct_.latency_p90_h) == (16.5, 30.0)
    assert (oct_.electronic_out, oct_.paper_out, oct_.paper_share) == (4, 1, 20.0)
    # November: the withdrawn delivery is not received; the platform's 退回 is not due
    assert (nov.sent, nov.received, nov.signed, nov.returned) == (1, 3, 1, 1)
    assert (nov.due, nov.overdue) == (2, 1)
    assert (nov.latency_median_h, nov.latency_p90_h) == (5.0, 5.0)
    assert (nov.electronic_out, nov.paper_out) == (3, 1)
    total = figs.total
    assert (total.sent, total.received, total.signed, total.returned) == (2, 7, 3, 2)
    assert (total.due, total.overdue, total.overdue_rate) == (6, 3, 50.0)
    assert (total.latency_median_h, total.latency_p90_h) == (5.0, 30.0)
    assert total.sign_rate == round(100 * 3 / 7, 1)


def test_a_withdrawal_after_a_receipt_counts_as_partial(history, dispatched):
    """d2 is withdrawn after B signed for it: 部分撤回 (B's copy stands), not 撤回; a third
    notice withdrawn before anyone signed is 撤回."""
    d2 = Dispatch.objects.get(document__title="第二份通知")
    Dispatch.objects.filter(pk=d2.pk).update(withdrawn_at=at("2026-11-10", 10))
    d3 = dispatched(title="第三份通知")
    _move(d3, at("2026-11-12", 9), {history[k]: (DeliveryState.WITHDRAWN, 1)
                                     for k in ("b", "gyx", "gn", "fgw")}
          | {history["hzq"]: (DeliveryState.DELIVERED, 0)})
    Dispatch.objects.filter(pk=d3.pk).update(withdrawn_at=at("2026-11-12", 10))
    nov = month(stats.figures(None, dt.date(2026, 11, 1), dt.date(2026, 11, 1), now=NOW),
                "2026-11")
    assert (nov.sent, nov.withdrawn, nov.partly_withdrawn) == (2, 1, 1)
    header, *rows = stats.csv_rows(stats.figures(None, dt.date(2026, 11, 1),
                                                 dt.date(2026, 11, 1), now=NOW))
    column = header.index("其中部分撤回")
    assert rows[0][column] == 1 and rows[0][header.index("其中撤回")] == 1


def test_not_yet_due_is_not_overdue(history):
    """On 10 November at noon, d2 (09:00 that day) is within its 24 hours."""
    figs = stats.figures(None, dt.date(2026, 11, 1), dt.date(2026, 11, 1),
                         now=at("2026-11-10", 12))
    nov = month(figs, "2026-11")
    assert (nov.due, nov.overdue, nov.overdue_rate) == (0, 0, None)


def test_one_unit_sees_its_own_side(history):
    b = stats.figures([history["b"].pk], dt.date(2026, 10, 1), dt.date(2026, 11, 1), now=NOW)
    assert (b.total.sent, b.total.received, b.total.signed, b.total.overdue) == (0, 2, 2, 0)
    assert (b.total.electronic_out, b.total.paper_out) == (0, 0)
    assert b.total.latency_median_h == 4.0
    a = stats.figures([history["a"].pk], dt.date(2026, 10, 1), dt.date(2026, 11, 1), now=NOW)
    assert (a.total.sent, a.total.received) == (2, 0)
    assert (a.total.electronic_out, a.total.paper_out, a.total.paper_share) == (7, 2, 22.2)


def test_per_unit_rows_busiest_first(history):
    figs = stats.figures(None, dt.date(2026, 10, 1), dt.date(2026, 11, 1), now=NOW,
                         per_unit=True)
    rows = {u.name: u.counts for u in figs.units}
    activity = [u.counts.sent + u.counts.received for u in figs.units]
    assert activity == sorted(activity, reverse=True) and activity[0] == 2
    assert rows[history["a"].name].sent == 2 and rows[history["a"].name].paper_out == 2
    assert rows[history["gyx"].name].overdue == 2 and rows[history["gyx"].name].due == 2
    assert rows[history["fgw"].name].received == 1  # the withdrawn one is not counted
    assert history["hzq"].name not in rows  # paper only: nothing received electronically


def test_range_is_capped_and_ordered():
    assert stats.months_between(dt.date(2025, 11, 5), dt.date(2026, 2, 1)) == [
        dt.date(2025, 11, 1), dt.date(2025, 12, 1), dt.date(2026, 1, 1), dt.date(2026, 2, 1)]
    assert stats.add_months(dt.date(2026, 1, 1), -1) == dt.date(2025, 12, 1)


@pytest.fixture
def city_head(history, make_user):
    return make_user(history["a"], Role.HEAD)


@pytest.fixture
def county_head(history, make_user):
    return make_user(history["b"], Role.HEAD)


@pytest.mark.django_db
def test_the_city_office_sees_every_unit(client, city_head, history):
    client.force_login(city_head)
    page = client.get(reverse("web:stats"), {"from": "2026-09", "to": "2026-11"})
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-total="sent">2<' in html and 'data-total="received">7<' in html
    assert 'data-total="latency">5.0 小时<' in html and "90%分位 30.0 小时" in html
    assert history["gyx"].name in html and "按单位" in html
    assert html.count("<svg") == 4 and 'data-label="2026-10"' in html
    # narrowed to one unit
    page = client.get(reverse("web:stats"), {"from": "2026-09", "to": "2026-11",
                                             "unit": history["b"].pk})
    html = page.content.decode()
    assert 'data-total="received">2<' in html and "按单位" not in html


@pytest.mark.django_db
def test_a_county_sees_only_itself(client, county_head, history):
    client.force_login(county_head)
    for extra in ({}, {"unit": history["gyx"].pk}):
        page = client.get(reverse("web:stats"), {"from": "2026-09", "to": "2026-11", **extra})
        html = page.content.decode()
        assert page.status_code == 200
        assert 'data-total="received">2<' in html and 'data-total="sent">0<' in html
        for other in ("gyx", "gn", "fgw"):  # (the city office is in every footer)
            assert history[other].name not in html.replace(history["b"].name, "")


@pytest.mark.django_db
def test_bad_input_gets_a_chinese_warning_not_an_error(client, city_head):
    client.force_login(city_head)
    page = client.get(reverse("web:stats"), {"from": "2026-13", "to": "x<script>",
                                             "unit": "999999"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "不是有效的月份" in html and "所选单位不存在" in html and "<script>" not in html
    huge = client.get(reverse("web:stats"), {"unit": "9" * 40})  # no database overflow
    assert huge.status_code == 200 and "所选单位不存在" in huge.content.decode()
    page = client.get(reverse("web:stats"), {"from": "2026-11", "to": "2020-01"})
    html = page.content.decode()
    assert "已对调" in html and "一次最多统计 60 个月" in html


@pytest.mark.django_db
def test_csv_export(client, city_head, history):
    client.force_login(city_head)
    response = client.get(reverse("web:stats"), {"from": "2026-10", "to": "2026-11",
                                                 "format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    raw = response.content
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    head = rows[0]
    assert head[:5] == ["月份", "发文", "其中撤回", "其中部分撤回", "收文"]
    by = {r[0]: dict(zip(head, r, strict=True)) for r in rows[1:]}
    assert by["2026-10"]["超时率(%)"] == "50.0" and by["2026-11"]["收文"] == "3"
    assert by["合计"]["发文"] == "2" and by[history["gyx"].name]["超时"] == "2"


@pytest.mark.parametrize(("hours", "text"), [
    (None, "—"), (0, "0 分钟"), (0.001, "1 分钟"), (0.5, "30 分钟"), (3, "3.0 小时"),
    (47.9, "47.9 小时"), (72, "3.0 天"),
])
def test_latency_reads_as_people_say_it(hours, text):
    from gongwen.web.views.stats import duration_zh

    assert duration_zh(hours) == text


@pytest.mark.django_db
def test_the_api_gives_the_same_figures(client, city_head, county_head, history):
    client.force_login(city_head)
    data = client.get("/api/stats", {"from": "2026-09", "to": "2026-11"}).json()
    assert data["scope"] == "全部单位" and data["receipt_hours"] == 24
    assert [m["month"] for m in data["months"]] == ["2026-09", "2026-10", "2026-11"]
    assert (data["total"]["sent"], data["total"]["received"]) == (2, 7)
    assert data["months"][1]["overdue_rate"] == 50.0 and data["months"][0]["overdue_rate"] is None
    assert {u["name"] for u in data["units"]} >= {history["b"].name, history["gyx"].name}
    assert data["warnings"] == []
    client.force_login(county_head)
    data = client.get("/api/stats", {"from": "bad", "unit": history["gyx"].pk}).json()
    assert data["scope"] == history["b"].name and data["units"] == []
    assert data["warnings"] and "不是有效的月份" in data["warnings"][0]
    clerk = history["clerk_b"]  # a clerk has no statistics
    client.force_login(clerk)
    denied = client.get("/api/stats")
    assert denied.status_code == 403 and "message" in denied.json()


@pytest.mark.django_db
def test_the_cli(capsys, tmp_path, history, county_head, make_user):
    from gongwen.cli import main

    assert main(["stats", "--from", "2026-10", "--to", "2026-11"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("收发文统计：全部单位，2026-10 至 2026-11")
    assert out[1].split("\t")[:3] == ["月份", "发文", "收文"]
    assert out[2].split("\t")[:6] == ["2026-10", "1", "4", "2", "1", "50.0"]
    assert any(line.startswith(history["gyx"].name + "\t") for line in out)
    assert main(["--as", county_head.username, "stats", "--from", "2026-10", "--to",
                 "2026-11", "--unit", history["gyx"].code]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"收发文统计：{history['b'].name}") and history["gyx"].name not in out
    target = tmp_path / "stats.csv"
    assert main(["stats", "--from", "2026-10", "--to", "2026-11", "--csv", str(target)]) == 0
    assert target.read_bytes() == stats.csv_bytes(
        stats.figures(None, dt.date(2026, 10, 1), dt.date(2026, 11, 1), per_unit=True))
    assert main(["stats", "--unit", "NO-SUCH-CODE"]) == 2
    assert main(["--as", history["clerk_b"].username, "stats"]) == 1  # no statistics role
    assert "无权" in capsys.readouterr().err


@pytest.mark.django_db
def test_the_paper_chart_shades_the_parallel_run_months(client, city_head, history):
    from gongwen.policy.models import RolloutPhase

    RolloutPhase.objects.create(name="第一阶段", starts_on=dt.date(2026, 9, 15),
                                paper_parallel=True, networked_only=True)
    RolloutPhase.objects.create(name="第二阶段", starts_on=dt.date(2026, 11, 1),
                                all_documents=True)
    client.force_login(city_head)
    html = client.get(reverse("web:stats"), {"from": "2026-08", "to": "2026-11"}).content.decode()
    assert html.count("data-band=") == 1  # only the paper chart, only the parallel phase
    assert ('data-band="纸电并行期（第一阶段）" data-first="2026-09" data-last="2026-10"'
            in html)


def test_a_range_into_the_future_stops_at_this_month():
    """QA: to=2030-01 was accepted without a word and filled the charts with empty months."""
    from django.utils import timezone

    from gongwen.exchange.stats import month_start, read_range

    this_month = month_start(timezone.localdate())
    errors: list[str] = []
    first, last = read_range("", "2999-01", errors)
    assert last == this_month and errors == [
        f"截止月份“2999-01”晚于本月，已统计到本月（{this_month:%Y-%m}）。"]
    errors = []
    first, last = read_range("2999-01", "2999-06", errors)
    assert first == last == this_month and len(errors) == 1
    errors = []
    assert read_range("", "", errors)[1] == this_month and errors == []
