"""``gongwen bench render``: the benchmark runs (briefly) and reports every case."""

from gongwen.documents.gbt9704 import FontSet, layout_document
from gongwen.documents.gbt9704.bench import main, sample_notice


def test_the_benchmark_document_is_a_two_page_notice(fonts):
    lay = layout_document(sample_notice(), fonts)
    assert len(lay.pages) == 2
    assert lay.seals and [r for _, r in lay.runs("printer")]  # seal block and 版记 included


def test_bench_prints_rates_and_the_reference_ratio(capsys):
    assert main(["--seconds", "0.01"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("通知, 2 pages")
    for case in ("layout ", "layout+pdf", "layout+ofd", "reference"):
        assert case in out
    assert out.count("documents/s") >= 4 and "pages/s" in out
    assert "× reference" in out


def test_cli_wires_bench_render(capsys):
    from gongwen.cli import main as cli

    assert cli(["bench", "render", "--seconds", "0.01"]) == 0
    assert "layout+ofd" in capsys.readouterr().out


def test_fonts_option_accepts_a_role_path(capsys):
    body = FontSet.default().role("仿宋").face.path
    assert main(["--seconds", "0.01", "--fonts", f"仿宋={body}"]) == 0
