"""Exchange benchmark (issue 9): one sealed document dispatched to 200 recipients, and N
documents dispatched, opened and signed end to end. Prints documents/s and p95 latency.

    GONGWEN_DATABASE_URL=sqlite:////tmp/bench.sqlite3 .venv/bin/python -m pytest \\
        bench/bench_exchange.py -q -s -p no:cacheprovider
    GONGWEN_DATABASE_URL=postgres://postgres@127.0.0.1:5432/gongwen_bench … (same)

``gongwen bench exchange`` (gongwen/exchange/bench.py) is the operator's version: it
seals every document for real, uses the deployment's settings and a scratch database,
prints per-step times and can profile (docs/exchange.md, Performance).

Goals: ≤ 1 s for the 200-recipient dispatch; ≥ 100 documents/s end to end on PostgreSQL.
The sealed file is a stand-in (as in tests/apps/exchange); sealing is measured by
``gongwen bench seal``. BENCH_DOCS sets N (default 50).
"""

from __future__ import annotations

import os
import statistics
import time
import uuid

import pytest
from django.db import connection

from tests.apps.exchange.conftest import (  # noqa: F401
    PIN,
    cast,
    county,
    exchange_settings,
    pki,
    put_sealed_rendition,
    stand_in_seal_checks,
)
from tests.conftest import make_unit, make_user, unit_a, unit_b  # noqa: F401

pytestmark = pytest.mark.django_db


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else values[0]


def _sealed(cast, main_units=(), groups=(), title="关于做好防汛工作的通知"):
    from gongwen.documents import services as docs

    doc = docs.create_draft(actor=cast["clerk_a"], doc_type="notice", title=title,
                            body_text="一、工作要求\n请各单位认真做好防汛工作。",
                            main_units=list(main_units), main_groups=list(groups))
    docs.submit(actor=cast["clerk_a"], doc_id=doc.pk)
    doc = docs.approve(actor=cast["head_a"], doc_id=doc.pk)
    put_sealed_rendition(doc)
    return doc


def test_dispatch_to_200_recipients(cast, make_unit):
    from gongwen.exchange import services
    from gongwen.units.models import RecipientGroup

    group = RecipientGroup.objects.create(name="两百个单位")
    group.members.set([make_unit(f"基准单位{i}", networked=True) for i in range(200)])
    doc = _sealed(cast, groups=[group.pk])
    t0 = time.perf_counter()
    sent = services.dispatch(actor=cast["clerk_a"], doc_id=doc.pk, key=uuid.uuid4())
    took = time.perf_counter() - t0
    n = sent.deliveries.count()
    print(f"\n[{connection.vendor}] dispatch to {n} recipients: {took * 1000:.0f} ms "
          f"(goal ≤ 1000 ms)")
    assert n == 200


def test_end_to_end_documents_per_second(cast):
    from gongwen.exchange import services

    n = int(os.environ.get("BENCH_DOCS", "50"))
    docs = [_sealed(cast, main_units=[cast["b"].pk], title=f"关于第{i}项工作的通知")
            for i in range(n)]
    latencies = []
    t0 = time.perf_counter()
    for doc in docs:
        s = time.perf_counter()
        sent = services.dispatch(actor=cast["clerk_a"], doc_id=doc.pk, key=uuid.uuid4())
        d = sent.deliveries.get()
        services.open_delivery(actor=cast["clerk_b"], delivery_id=d.pk)
        services.sign_receipt(actor=cast["clerk_b"], delivery_id=d.pk, pin=PIN,
                              key=uuid.uuid4())
        latencies.append(time.perf_counter() - s)
    total = time.perf_counter() - t0
    print(f"\n[{connection.vendor}] {n} documents dispatched-opened-signed: "
          f"{n / total:.1f} documents/s, p95 {_p95(latencies) * 1000:.0f} ms "
          f"(goal ≥ 100/s on PostgreSQL)")
