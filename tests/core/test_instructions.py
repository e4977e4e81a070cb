"""gongwen.instructions: callgrind's parts read back by label; a real run under valgrind
counts what runs between the marks, and the same run gives the same count."""

from __future__ import annotations

import sys
import textwrap

import pytest

from gongwen import instructions


def _part(path, label: str | None, total: int) -> None:
    trigger = f"desc: Trigger: dump {label}" if label else "desc: Trigger: Program termination"
    path.write_text(f"version: 1\ncmd: python x.py\npart: 1\n{trigger}\n"
                    f"events: Ir\nsummary: {total}\ntotals: {total}\nfn=(1) f\n1 {total}\n")


def test_counts_adds_the_parts_of_a_label_in_order(tmp_path):
    _part(tmp_path / "callgrind.out.1", "seal", 100)
    _part(tmp_path / "callgrind.out.2", "unlocks", 5000)
    _part(tmp_path / "callgrind.out.3", "seal", 20)
    _part(tmp_path / "callgrind.out.10", "open", 7)
    _part(tmp_path / "callgrind.out", None, 99)  # the rest at exit: no label, not a part
    (tmp_path / "callgrind.out.4").write_text("garbage\n")
    assert instructions.counts(tmp_path) == {"seal": 120, "unlocks": 5000, "open": 7}


def test_labels_are_single_words(monkeypatch):
    monkeypatch.setattr(instructions, "_control", lambda *a: None)
    instructions.mark("verify")
    with pytest.raises(ValueError):
        instructions.mark("two words")


SCRIPT = textwrap.dedent("""
    from gongwen import instructions

    def work(n):
        return sum(i * i for i in range(n))

    work(50_000)  # not counted: before start
    instructions.start()
    work(20_000)
    instructions.mark("small")
    work(80_000)
    instructions.mark("large")
    instructions.stop()
    work(50_000)  # not counted: after stop
""")


@pytest.mark.skipif(not instructions.available(), reason="valgrind is not installed")
def test_a_real_run_counts_between_the_marks_and_repeats(tmp_path):
    script = tmp_path / "work.py"
    script.write_text(SCRIPT)
    found = []
    for run in ("a", "b"):
        out = tmp_path / run
        out.mkdir()
        done = instructions.run([sys.executable, str(script)], out)
        assert done.returncode == 0, done.stderr[-2000:]
        found.append(instructions.counts(out))
    first, second = found
    assert list(first) == ["small", "large"]
    # four times the work, about four times the count (the mark's own cost is small)
    assert 3.0 < first["large"] / first["small"] < 4.5
    for label in first:  # the same run, the same count (within a fraction of a per cent)
        assert abs(first[label] - second[label]) / first[label] < 0.01
