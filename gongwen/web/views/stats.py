"""统计 (R-AUDIT-2): the figures of one's unit, or of every unit for the city office, as
charts, tables and a CSV file. Parse, call the selector, render."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header

from gongwen.charts import Band, Series, bar_chart, line_chart
from gongwen.exchange import stats
from gongwen.policy import rollout
from gongwen.policy.permissions import Perm

from .common import requires


def duration_zh(hours: float | None) -> str:
    """A latency for people: minutes under an hour, days from two days on."""
    if hours is None:
        return "—"
    if hours < 1:
        return f"{max(round(hours * 60), 1) if hours > 0 else 0} 分钟"
    if hours >= 48:
        return f"{hours / 24:.1f} 天"
    return f"{hours:.1f} 小时"


def parallel_bands(months: list, runs: list) -> list[Band]:
    """The months (first days, in order) that overlap each 纸电并行 period, as chart bands."""
    bands = []
    for run in runs:
        start = run.phase.starts_on.replace(day=1)
        inside = [i for i, m in enumerate(months)
                  if m >= start and (run.ends_on is None or m <= run.ends_on)]
        if inside:
            bands.append(Band(inside[0], inside[-1], f"纸电并行期（{run.phase.name}）"))
    return bands


def _charts(figs: stats.Figures, runs: list) -> list[str]:
    labels = figs.labels
    rows = [c for _, c in figs.months]
    bands = parallel_bands([m for m, _ in figs.months], runs)
    return [
        bar_chart("发文与收文（件）", labels, [
            Series("发文", [c.sent for c in rows]),
            Series("收文", [c.received for c in rows]),
            Series("已签收", [c.signed for c in rows])]),
        line_chart("签收时长（小时）", labels, [
            Series("中位数", [c.latency_median_h for c in rows]),
            Series("90%分位", [c.latency_p90_h for c in rows])], unit="h"),
        line_chart("超时率", labels, [Series("超时率", [c.overdue_rate for c in rows])],
                   unit="%", top=100),
        bar_chart("纸质与电子送达（份）", labels, [
            Series("电子", [c.electronic_out for c in rows]),
            Series("纸质", [c.paper_out for c in rows])], stacked=True, bands=bands),
    ]


def _csv(figs: stats.Figures, scope_name: str) -> HttpResponse:
    name = f"收发文统计_{scope_name}_{figs.first:%Y-%m}_{figs.last:%Y-%m}.csv"
    response = HttpResponse(stats.csv_bytes(figs), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


def _with(request, **values: str) -> str:
    query = request.GET.copy()
    for key, value in values.items():
        query[key] = value
    return query.urlencode()


@requires(Perm.VIEW_STATS)
def stats_view(request):
    errors: list[str] = []
    first, last = stats.read_range(request.GET.get("from", ""), request.GET.get("to", ""),
                                   errors)
    scope = stats.read_scope(request.user, request.GET.get("unit", ""), errors)
    figs = stats.figures(scope.units, first, last, per_unit=scope.per_unit)
    if request.GET.get("format") == "csv":
        return _csv(figs, scope.label)
    # The 纸电并行 periods, to read the paper chart against (R-POLICY-2).
    runs = [r for r in rollout.phase_rows() if r.phase.paper_parallel]
    return render(request, "exchange/stats.html", {
        "title": "统计", "figs": figs, "charts": _charts(figs, runs), "errors": errors,
        "latency": (duration_zh(figs.total.latency_median_h),
                    duration_zh(figs.total.latency_p90_h)),
        "scope_name": scope.label, "chosen": scope.chosen, "choices": scope.choices,
        "platform_wide": scope.per_unit, "first": f"{figs.first:%Y-%m}",
        "last": f"{figs.last:%Y-%m}", "receipt_hours": stats.receipt_hours(),
        "csv_query": _with(request, format="csv"),
        "parallel_runs": runs,
    })
