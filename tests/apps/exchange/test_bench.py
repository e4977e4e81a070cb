"""``gongwen bench exchange``: the printed figures name their mode; --workers is refused on
SQLite. No timing is asserted."""

from __future__ import annotations

import subprocess

import pytest
from django.db import connection

from gongwen.documents import sealing
from gongwen.exchange import bench
from tests.tools import needs_tool


def run(**kw) -> dict:
    steps = {k: [0.1, 0.2] for k in bench.STEPS}
    return {"n": 2, "total": 1.0, "cpu": 0.5, "whole": [0.5, 0.6], "exchange": [0.2, 0.3],
            "steps": steps, "statements": {"seal": 100, "dispatch": 26, "open": 24,
                                           "sign": 30},
            "cpu_steps": {k: 0.1 for k in bench.STEPS}, "machine": 0.8, "server": 0.05,
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
    assert "database server CPU per document (every PostgreSQL process" in out
    assert "machine): 25.0 ms" in out
    assert bench.reference_work() > 0
    monkeypatch.setattr(sealing, "seal_documents", lambda **kw: [], raising=False)
    assert "one PIN per 10 用印 (seal_documents)" in bench.mode_label(10, 1)


def test_the_figures_name_the_interpreter():
    """A PGO build runs the chain's Python code faster than a plain one: the header says which
    interpreter measured, so that figures from two machines or venvs are not compared blind."""
    import platform
    import sys

    text = bench.interpreter()
    assert text.startswith(f"Python {platform.python_version()} (")
    assert sys._base_executable in text


@pytest.mark.django_db
def test_workers_are_refused_on_sqlite(capsys):
    if connection.vendor != "sqlite":
        pytest.skip("the refusal is SQLite's")
    assert bench.main(["--workers", "2"]) == 2
    assert "not supported on SQLite" in capsys.readouterr().err


@pytest.mark.parametrize("batch", [0, 2])
def test_the_end_to_end_run_takes_every_document_through_the_chain(db, batch, real_sealing):
    """The timed loop and its warm-up, for real (sealing, verification, receipts): two
    documents plus the warm-up's one, all signed for, the figures filled per document."""
    import gc

    from gongwen.authority import services as authority
    from gongwen.exchange.models import Delivery, DeliveryState, Receipt

    authority.init_pki()
    frozen = gc.get_freeze_count()
    e = bench.bench_end_to_end(bench.Cast(), 2, batch=batch)
    assert gc.get_freeze_count() == frozen  # only the command freezes its own process
    assert e["n"] == 2 and len(e["whole"]) == 2 and len(e["exchange"]) == 2
    assert all(len(e["steps"][step]) == 2 for step in bench.STEPS)
    assert e["statements"]["open"] > 0 and e["cpu"] > 0
    # The database server's CPU is read from /proc when it is PostgreSQL (found when it
    # runs on this machine); SQLite runs in the benchmark process itself.
    if connection.vendor == "sqlite":
        assert e["server"] is None
    else:
        assert e["server"] is None or e["server"] >= 0
    deliveries = list(Delivery.objects.all())
    assert len(deliveries) == 3  # the warm-up's and the two timed documents'
    assert {d.state for d in deliveries} == {DeliveryState.SIGNED}
    assert all((d.verification or {}).get("ok") for d in deliveries)
    assert Receipt.objects.count() == 3


@pytest.fixture
def real_sealing():
    return True


def test_instruction_counting_marks_every_step_and_counts_unlocks_apart(db, monkeypatch):
    """``--instructions``: the timed part (not the warm-up) starts counting, closes one
    callgrind part per step, and the key disk unlocks (PBKDF2) close the step so far and
    are a part of their own; counting stops at the end and the unlock is unwrapped."""
    from gongwen import instructions
    from gongwen.authority import services as authority
    from gongwen.pki import keystore

    calls: list[str] = []
    monkeypatch.setattr(instructions, "_control", lambda *args: calls.append(args[0]))
    original = keystore.decrypt_private_key
    authority.init_pki()
    bench.bench_end_to_end(bench.Cast(), 2, batch=2, count=True)
    assert keystore.decrypt_private_key is original
    seal, sign = "--dump=seal", "--dump=sign"
    unlock = "--dump=" + bench.UNLOCKS
    assert calls == ["--instr=on",
                     seal, unlock, seal,  # the keeper's PIN within 用印
                     "--dump=dispatch", "--dump=verify", "--dump=open",
                     sign, unlock, sign,  # the clerk's PIN within 签收
                     "--instr=off"]


@needs_tool("pgrep")
def test_the_database_servers_cpu_is_read_from_proc():
    """A PostgreSQL server running on this machine (pgrep, procps, tells) is found and has
    used some CPU; a process name that nothing has gives None, not 0."""
    running = subprocess.run(["pgrep", "-x", "postgres"], capture_output=True).returncode == 0
    busy = bench._server_busy()
    assert (busy is not None and busy > 0) if running else busy is None
    assert bench._server_busy("no-such-process-name") is None


def test_instructions_report_is_per_document_in_step_order():
    found = {"sign": 40_000_000, "seal": 100_000_000, bench.UNLOCKS: 2_800_000_000,
             "open": 20_000_000}
    out = bench.instructions_report(found, 4)
    assert "40.0 M — seal 25.0 M, open 5.0 M, sign 10.0 M" in out
    assert "PIN unlocks (PBKDF2; counted apart, see _StepCounts): 700.0 M per document" in out


def test_the_scratch_blob_store_is_kept_between_runs_until_it_is_too_large(tmp_path):
    """Deleting a run's files slowed the next run's file creation on this machine's file
    system: the store is kept, and emptied only once it passes its limit."""
    from gongwen.exchange.bench import scratch_blob_dir

    store = tmp_path / "bench-blobs"
    path, emptied = scratch_blob_dir(store, limit=100)
    assert path == store and path.is_dir() and not emptied
    (store / "sm3").mkdir()
    (store / "sm3" / "a").write_bytes(b"x" * 60)
    path, emptied = scratch_blob_dir(store, limit=100)
    assert not emptied and (store / "sm3" / "a").is_file()  # kept
    (store / "sm3" / "b").write_bytes(b"x" * 60)
    path, emptied = scratch_blob_dir(store, limit=100)
    assert emptied and path.is_dir() and list(store.iterdir()) == []
