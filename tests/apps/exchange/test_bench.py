"""``gongwen bench exchange``: the printed figures name their mode; --workers is refused on
SQLite. No timing is asserted."""

from __future__ import annotations

import pytest
from django.db import connection

from gongwen.documents import sealing
from gongwen.exchange import bench


def run(**kw) -> dict:
    steps = {k: [0.1, 0.2] for k in bench.STEPS}
    return {"n": 2, "total": 1.0, "cpu": 0.5, "whole": [0.5, 0.6], "exchange": [0.2, 0.3],
            "steps": steps, "statements": {"seal": 100, "dispatch": 26, "open": 24,
                                           "sign": 30},
            "cpu_steps": {k: 0.1 for k in bench.STEPS}, "machine": 0.8,
            "reference": (0.02, 0.03), **kw}


def test_report_names_the_mode_and_counts_statements(capsys, monkeypatch):
    monkeypatch.delattr(sealing, "seal_documents", raising=False)
    bench.report(run(), bench.mode_label(0, 1))
    bench.report(run(), bench.mode_label(10, 2), workers=2)
    out = capsys.readouterr().out
    assert "[per-item PIN: one PIN entry per 用印 and per 签收; 1 worker process]" in out
    assert ("[batch of 10: 用印 still one PIN per document (seal_documents not on this "
            "branch), one PIN per 10 签收 (sign_receipts); 2 worker processes]") in out
    assert "2.0 documents/s" in out
    assert "SQL statements per document: 90 (seal 50, dispatch 13, open 12, sign 15)" in out
    assert "CPU ms per document per step: seal 50.0, dispatch 50.0" in out
    assert "machine CPU per document (every process" in out and ": 400 ms" in out
    assert "20.0 ms before, 30.0 ms after; CPU per document = 10.00 × the reference" in out
    assert bench.reference_work() > 0
    monkeypatch.setattr(sealing, "seal_documents", lambda **kw: [], raising=False)
    assert "one PIN per 10 用印 (seal_documents)" in bench.mode_label(10, 1)


@pytest.mark.django_db
def test_workers_are_refused_on_sqlite(capsys):
    if connection.vendor != "sqlite":
        pytest.skip("the refusal is SQLite's")
    assert bench.main(["--workers", "2"]) == 2
    assert "not supported on SQLite" in capsys.readouterr().err
