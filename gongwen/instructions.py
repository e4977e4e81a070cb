"""Instruction counts of parts of a run, under valgrind's callgrind, for the benchmarks.

This machine's speed moves from one minute to the next (a shared host: a fixed piece of work
has taken 9 and 32 ms in two sessions, 18 and 29 ms within one run), so two timed runs
compare only roughly. callgrind counts the instructions the process executes, which is the
same for the same code and data whatever else the machine is doing: a change that saves 3 %
shows as 3 %. It runs the process ~50 times slower and counts only that process (not the
database server).

The counting process runs under ``valgrind --tool=callgrind --instr-atstart=no`` (``run``)
with ``GONGWEN_CALLGRIND=1`` in its environment (``active``). Counting starts at ``start``;
each ``mark(label)`` closes a part: callgrind writes the count since the previous mark to a
file of its own, named after the label, and starts again from zero; ``stop`` ends counting.
``counts`` adds the parts up by label. The controls go through ``callgrind_control`` (part
of valgrind), which the process calls on itself. Pure: no Django.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["ENV", "active", "available", "counts", "mark", "run", "start", "stop"]

ENV = "GONGWEN_CALLGRIND"
_OUT = "callgrind.out"
_LABEL = re.compile(r"^[A-Za-z0-9_.-]+$")


def available() -> bool:
    """valgrind and callgrind_control are installed (Debian's package valgrind)."""
    return bool(shutil.which("valgrind") and shutil.which("callgrind_control"))


def active() -> bool:
    """This process runs under ``run`` (and so under callgrind)."""
    return os.environ.get(ENV) == "1"


def _control(*args: str) -> None:
    subprocess.run(["callgrind_control", *args, str(os.getpid())], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def start() -> None:
    """Count from here (the part until the first ``mark``)."""
    _control("--instr=on")


def mark(label: str) -> None:
    """Close the part since the previous mark (or ``start``) under ``label``."""
    if not _LABEL.match(label):
        raise ValueError(f"a callgrind label is letters, digits, '_', '.' or '-': {label!r}")
    _control(f"--dump={label}")


def stop() -> None:
    """Count no more (what runs after the last mark is not counted in any part)."""
    _control("--instr=off")


def run(argv: Sequence[str], out_dir: str | Path, *,
        env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run ``argv`` under callgrind with counting off until it calls ``start``; the parts go
    to ``out_dir``. Hash randomisation is off (PYTHONHASHSEED=0): the same run, the same
    count."""
    environ = {**(os.environ if env is None else env), ENV: "1", "PYTHONHASHSEED": "0"}
    command = ["valgrind", "--tool=callgrind", "--instr-atstart=no",
               f"--callgrind-out-file={Path(out_dir) / _OUT}", *argv]
    return subprocess.run(command, env=environ, capture_output=True, text=True)


def counts(out_dir: str | Path) -> dict[str, int]:
    """Instructions per label, the parts of the same label added up, in the order the labels
    first appeared."""
    parts = []
    for path in Path(out_dir).glob(f"{_OUT}.*"):
        label = total = None
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("desc: Trigger: dump "):
                label = line[len("desc: Trigger: dump "):].strip()
            elif line.startswith("totals:"):
                total = int(line.split()[1])
        suffix = path.name.rsplit(".", 1)[1]
        if label is not None and total is not None and suffix.isdigit():
            parts.append((int(suffix), label, total))
    out: dict[str, int] = {}
    for _n, label, total in sorted(parts):
        out[label] = out.get(label, 0) + total
    return out
