"""The sealing benchmark runs and reports (no timing assertions)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

BENCH = Path(__file__).resolve().parents[3] / "bench" / "bench_seal_pdf.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_seal_pdf", BENCH)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_bench_reports_rates_and_ratios(capsys):
    bench = _bench()
    assert bench.main(["--seconds", "0.01", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    for key in (
        "gm_seal_per_s",
        "intl_seal_per_s",
        "gm_verify_per_s",
        "intl_verify_per_s",
        "pyhanko_sign_per_s",
        "pyhanko_validate_per_s",
    ):
        assert result[key] > 0
    assert set(result["ratios"]) >= {"intl_seal_vs_pyhanko_sign", "gm_verify_vs_pyhanko_validate"}
    text = bench.format_report(result)
    assert "ratio ours/pyHanko" in text and "intl_seal_vs_pyhanko_sign" in text


def test_bench_without_pyhanko(capsys):
    bench = _bench()
    assert bench.main(["--seconds", "0.01", "--no-pyhanko"]) == 0
    out = capsys.readouterr().out
    assert "ours GM seal" in out and "pyHanko" not in out
