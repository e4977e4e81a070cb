"""Every ``gongwen`` command stops quietly when the reader of its output has gone
(``gongwen seal list | head``): no BrokenPipeError traceback (qa-backlog item 14)."""

from __future__ import annotations

import os
import subprocess
import sys


def test_a_closed_pipe_gives_no_traceback(tmp_path):
    """GIVEN a pipe whose reader has already gone (``| head`` after its lines)
    WHEN a command writes its output there
    THEN it exits as a tool killed by SIGPIPE would (141), with nothing on stderr."""
    reader, writer = os.pipe()
    os.close(reader)
    try:
        proc = subprocess.run([sys.executable, "-m", "gongwen.cli", "logins"], stdout=writer,
                              stderr=subprocess.PIPE, env={**os.environ,
                                                           "GONGWEN_VAR_DIR": str(tmp_path)})
    finally:
        os.close(writer)
    assert proc.stderr.decode() == ""
    assert proc.returncode == 141
