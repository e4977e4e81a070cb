"""收发文统计 (R-AUDIT-2): documents sent and received per unit and month, receipt latency,
overdue rate, paper against electronic volume.

The figures of a scope (one unit, or every unit for the city office) over a range of months:

* **发文** (sent): documents the scope's units dispatched, by the month of dispatch; withdrawn
  ones are counted apart: 撤回 when no recipient had signed for it (the document itself is
  已撤回), 部分撤回 when some had (their copies stand, as the dispatch page says);
* **收文** (received): electronic deliveries to the scope's units, withdrawn ones left out,
  with how many were signed for (签收) and returned (退回, by the clerk or by the platform when
  the verification failed);
* **签收时长** (receipt latency): from delivery to 签收, median and 90th percentile in hours;
* **超时率** (overdue rate): of the electronic deliveries whose deadline (dispatch + the
  configured receipt hours) has passed, the share not answered (签收 or 退回) by the
  deadline; a delivery the platform returned because it failed verification is not counted;
* **纸质/电子** (paper against electronic): the deliveries the scope's units sent
  electronically, and those that went on paper: to a unit not networked, or with paper
  copies recorded beside the electronic one (R-POLICY-2: how paper falls during and after
  the parallel run; a delivery of the parallel run counts on both sides).

Months are calendar months in the platform's time zone. Counts come from the database (one
grouped query each); the latencies are read as one duration per signed delivery and ranked
here, because SQLite has no percentile function.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import (
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from gongwen.policy.permissions import is_platform_user, stats_units
from gongwen.units.models import Unit

from .models import RETURNED_STATES, Delivery, DeliveryState, Dispatch, receipt_hours

MAX_MONTHS = 60
_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")


@dataclass(frozen=True)
class Counts:
    """The figures of one month, or of one unit over the range."""

    sent: int = 0
    withdrawn: int = 0
    partly_withdrawn: int = 0
    received: int = 0
    signed: int = 0
    returned: int = 0
    electronic_out: int = 0
    paper_out: int = 0
    due: int = 0
    overdue: int = 0
    latency_median_h: float | None = None
    latency_p90_h: float | None = None

    @property
    def overdue_rate(self) -> float | None:
        """Percent of the due deliveries answered late or not at all; None with none due."""
        return round(100 * self.overdue / self.due, 1) if self.due else None

    @property
    def sign_rate(self) -> float | None:
        return round(100 * self.signed / self.received, 1) if self.received else None

    @property
    def paper_share(self) -> float | None:
        total = self.electronic_out + self.paper_out
        return round(100 * self.paper_out / total, 1) if total else None


@dataclass(frozen=True)
class UnitFigures:
    unit_id: int
    name: str
    counts: Counts


@dataclass
class Figures:
    first: dt.date
    last: dt.date  # the first day of the last month
    months: list[tuple[dt.date, Counts]]
    total: Counts
    units: list[UnitFigures] = field(default_factory=list)

    @property
    def labels(self) -> list[str]:
        return [f"{m:%Y-%m}" for m, _ in self.months]


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(day: dt.date, n: int) -> dt.date:
    k = day.year * 12 + day.month - 1 + n
    return dt.date(k // 12, k % 12 + 1, 1)


def months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    out, m = [], month_start(first)
    while m <= month_start(last):
        out.append(m)
        m = add_months(m, 1)
    return out


def _bounds(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(month_start(first), dt.time(), zone)
    end = dt.datetime.combine(add_months(last, 1), dt.time(), zone)
    return start, end


def _month_of(value) -> dt.date:
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.date().replace(day=1)
    return value.replace(day=1)


def _percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of a sorted, non-empty list."""
    k = max(0, min(len(sorted_values) - 1, -(-len(sorted_values) * q // 100) - 1))
    return sorted_values[int(k)]


def _latencies(hours: Iterable[float]) -> tuple[float | None, float | None]:
    values = sorted(hours)
    if not values:
        return None, None
    return round(statistics.median(values), 1), round(_percentile(values, 90), 1)


def _month(text: str, label: str, errors: list[str]) -> dt.date | None:
    if not text:
        return None
    m = _MONTH.match(text)
    if m and 1 <= int(m.group(2)) <= 12 and 2000 <= int(m.group(1)) <= 2999:
        return dt.date(int(m.group(1)), int(m.group(2)), 1)
    errors.append(f"{label}“{text[:20]}”不是有效的月份（格式：2026-01），已按默认范围统计。")
    return None


def read_range(from_text: str, to_text: str, errors: list[str]) -> tuple[dt.date, dt.date]:
    """The months of a form or a query ("2026-01"); by default the twelve months up to this
    one. What was wrong and how it was read goes to ``errors``, in Chinese."""
    this_month = month_start(timezone.localdate())
    first = _month(from_text, "起始月份", errors)
    last = _month(to_text, "截止月份", errors)
    if last is not None and last > this_month:
        # Months still to come would only add empty bars to every chart (QA).
        errors.append(f"截止月份“{last:%Y-%m}”晚于本月，已统计到本月（{this_month:%Y-%m}）。")
        last = this_month
        first = min(first, this_month) if first is not None else None
    last = last or this_month
    first = first or add_months(last, -11)
    if first > last:
        first, last = last, first
        errors.append("起始月份晚于截止月份，已对调。")
    if len(months_between(first, last)) > MAX_MONTHS:
        first = add_months(last, -(MAX_MONTHS - 1))
        errors.append(f"一次最多统计 {MAX_MONTHS} 个月，已从 {first:%Y-%m} 起统计。")
    return first, last


@dataclass(frozen=True)
class Scope:
    """Whose figures: the ``units`` counted (None: every unit), the ``chosen`` unit, and the
    units to ``choose`` from (None for a user who sees only their own unit)."""

    units: QuerySet | None
    chosen: Unit | None = None
    choices: QuerySet | None = None

    @property
    def per_unit(self) -> bool:
        """Every unit at once: the figures get one row per unit too."""
        return self.choices is not None and self.chosen is None

    @property
    def label(self) -> str:
        if self.chosen is not None:
            return self.chosen.name
        return "全部单位" if self.choices is not None else "（未分配单位）"


def read_scope(user, unit_text: str, errors: list[str]) -> Scope:
    """The scope of ``user``'s statistics. ``unit_text``: a unit id, for the city office
    only; anyone else always gets their own unit."""
    units = stats_units(user)
    if not is_platform_user(user):
        return Scope(units, user.unit)
    raw = unit_text.strip()
    if raw:
        unit = units.filter(pk=int(raw)).first() if raw.isdigit() and len(raw) <= 18 else None
        if unit is not None:
            return Scope(units.filter(pk=unit.pk), unit, units.in_directory_order())
        errors.append("所选单位不存在，已显示全部单位的统计。")
    return Scope(None, None, units.in_directory_order())


def console_scope(unit: Unit | None = None) -> Scope:
    """The server console's (``gongwen stats`` without ``--as``): every unit, or ``unit``."""
    if unit is not None:
        return Scope(Unit.objects.filter(pk=unit.pk), unit)
    return Scope(None, None, Unit.objects.in_directory_order())


def figures(units: QuerySet | Iterable[int] | None, first: dt.date, last: dt.date, *,
            now: dt.datetime | None = None, per_unit: bool = False) -> Figures:
    """The statistics of ``units`` (None: every unit) for the months ``first``..``last``
    (any day of each; at most MAX_MONTHS). ``per_unit``: also one row per unit with any
    activity, busiest first."""
    first, last = month_start(min(first, last)), month_start(max(first, last))
    months = months_between(first, last)[-MAX_MONTHS:]
    first = months[0]
    start, end = _bounds(first, last)
    now = now or timezone.now()
    zone = timezone.get_current_timezone()
    deadline = dt.timedelta(hours=receipt_hours())
    unit_ids = None if units is None else list(
        units.values_list("pk", flat=True) if isinstance(units, QuerySet) else units)

    by_month: dict[dt.date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_unit: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def add(rows, names: Iterable[str]) -> None:
        for row in rows:
            month = _month_of(row["month"])
            for name in names:
                by_month[month][name] += row[name]
                if per_unit:
                    by_unit[row["unit"]][name] += row[name]

    def grouped(qs: QuerySet, at: str, unit: str) -> QuerySet:
        by_unit_too = {"unit": F(unit)} if per_unit else {}
        return (qs.annotate(month=TruncMonth(at, tzinfo=zone), **by_unit_too)
                .values("month", *by_unit_too))

    sent = Dispatch.objects.filter(at__gte=start, at__lt=end)
    if unit_ids is not None:
        sent = sent.filter(sender_unit_id__in=unit_ids)
    sent = sent.annotate(kept=Exists(Delivery.objects.filter(dispatch=OuterRef("pk"),
                                                             state=DeliveryState.SIGNED)))
    add(grouped(sent, "at", "sender_unit_id").annotate(
        sent=Count("id"),
        withdrawn=Count("id", filter=Q(withdrawn_at__isnull=False, kept=False)),
        partly_withdrawn=Count("id", filter=Q(withdrawn_at__isnull=False, kept=True))),
        ("sent", "withdrawn", "partly_withdrawn"))

    incoming = (Delivery.objects.filter(dispatched_at__gte=start, dispatched_at__lt=end,
                                        paper=False)
                .exclude(state=DeliveryState.WITHDRAWN))
    if unit_ids is not None:
        incoming = incoming.filter(recipient_unit_id__in=unit_ids)
    add(grouped(incoming, "dispatched_at", "recipient_unit_id").annotate(
        received=Count("id"),
        signed=Count("id", filter=Q(state=DeliveryState.SIGNED)),
        returned=Count("id", filter=Q(state__in=list(RETURNED_STATES)))),
        ("received", "signed", "returned"))
    # Due: the deadline has passed. Late: no 签收/退回 by then. The platform's own 退回 of a
    # file that failed verification asked nothing of the recipient.
    due = (incoming.exclude(state=DeliveryState.REJECTED_INVALID)
           .filter(dispatched_at__lte=now - deadline)
           .annotate(answered=Coalesce("signed_at", "returned_at")))
    late = Q(answered__isnull=True) | Q(answered__gt=F("dispatched_at") + deadline)
    add(grouped(due, "dispatched_at", "recipient_unit_id").annotate(
        due=Count("id"), overdue=Count("id", filter=late)),
        ("due", "overdue"))

    outgoing = (Delivery.objects.filter(dispatched_at__gte=start, dispatched_at__lt=end)
                .exclude(state=DeliveryState.WITHDRAWN))
    if unit_ids is not None:
        outgoing = outgoing.filter(dispatch__sender_unit_id__in=unit_ids)
    add(grouped(outgoing, "dispatched_at", "dispatch__sender_unit_id").annotate(
        electronic_out=Count("id", filter=Q(paper=False)),
        paper_out=Count("id", filter=Q(paper=True) | Q(paper_copies__gt=0))),
        ("electronic_out", "paper_out"))

    hours_by_month: dict[dt.date, list[float]] = defaultdict(list)
    hours_by_unit: dict[int, list[float]] = defaultdict(list)
    took = ExpressionWrapper(F("signed_at") - F("dispatched_at"), output_field=DurationField())
    for at, unit_id, duration in (incoming.filter(state=DeliveryState.SIGNED,
                                                  signed_at__isnull=False)
                                  .annotate(took=took)
                                  .values_list("dispatched_at", "recipient_unit_id", "took")
                                  .iterator(chunk_size=5000)):
        hours = max(duration.total_seconds(), 0) / 3600
        hours_by_month[_month_of(at)].append(hours)
        if per_unit:
            hours_by_unit[unit_id].append(hours)

    def counts(raw: dict[str, int], hours: list[float]) -> Counts:
        median, p90 = _latencies(hours)
        return Counts(**{k: int(v) for k, v in raw.items()},
                      latency_median_h=median, latency_p90_h=p90)

    rows = [(m, counts(by_month.get(m, {}), hours_by_month.get(m, []))) for m in months]
    totals: dict[str, int] = defaultdict(int)
    for raw in by_month.values():
        for k, v in raw.items():
            totals[k] += v
    total = counts(totals, [h for m in months for h in hours_by_month.get(m, [])])
    result = Figures(first=first, last=months[-1], months=rows, total=total)
    if per_unit and by_unit:
        names = dict(Unit.objects.filter(pk__in=list(by_unit)).values_list("pk", "name"))
        result.units = sorted(
            (UnitFigures(uid, names.get(uid, f"单位 #{uid}"),
                         counts(raw, hours_by_unit.get(uid, [])))
             for uid, raw in by_unit.items()),
            key=lambda u: (-(u.counts.sent + u.counts.received), u.name))
    return result


CSV_COLUMNS = (
    ("月份", None), ("发文", "sent"), ("其中撤回", "withdrawn"), ("其中部分撤回", "partly_withdrawn"),
    ("收文", "received"),
    ("已签收", "signed"), ("已退回", "returned"), ("签收率(%)", "sign_rate"),
    ("已到期", "due"), ("超时", "overdue"), ("超时率(%)", "overdue_rate"),
    ("签收时长中位数(小时)", "latency_median_h"), ("签收时长90%分位(小时)", "latency_p90_h"),
    ("电子送达", "electronic_out"), ("纸质送达", "paper_out"), ("纸质占比(%)", "paper_share"),
)



def csv_rows(figs: Figures) -> list[list]:
    """The table of the CSV export: a header, one row per month, 合计, one row per unit."""
    def cells(label: str, c: Counts) -> list:
        return [label] + ["" if getattr(c, key) is None else getattr(c, key)
                          for _, key in CSV_COLUMNS[1:]]

    return ([[name for name, _ in CSV_COLUMNS]]
            + [cells(f"{month:%Y-%m}", c) for month, c in figs.months]
            + [cells("合计", figs.total)]
            + [cells(u.name, u.counts) for u in figs.units])


def csv_bytes(figs: Figures) -> bytes:
    """:func:`csv_rows` as UTF-8 with a byte-order mark, without which Excel shows the
    Chinese text garbled."""
    out = io.StringIO()
    out.write("\ufeff")
    csv.writer(out).writerows(csv_rows(figs))
    return out.getvalue().encode("utf-8")
