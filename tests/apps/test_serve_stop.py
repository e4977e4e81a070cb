"""``gongwen serve --with-worker`` stopped by a service manager (SIGTERM to its own pid, as
systemd, ``docker stop`` or ``kill`` do) takes gunicorn and the task worker with it (QA:
both kept running and held the port)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.apps.test_search_length import ROOT, _free_port, _status


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        ppid = next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:"))
        if int(ppid) == pid:
            found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in state


def test_sigterm_stops_gunicorn_and_the_worker(tmp_path):
    port = _free_port()
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="gongwen.settings",
               GONGWEN_VAR_DIR=str(tmp_path),
               GONGWEN_DATABASE_URL=f"sqlite:///{tmp_path}/serve.sqlite3")
    subprocess.run([sys.executable, "-m", "django", "migrate", "-v", "0"], env=env, cwd=ROOT,
                   check=True)
    serve = subprocess.Popen([sys.executable, "-m", "gongwen.cli", "serve", "--with-worker",
                              f"127.0.0.1:{port}"], env=env, cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                if _status(f"http://127.0.0.1:{port}/login/") == 200:
                    break
            except OSError:
                time.sleep(0.2)
        children = _children(serve.pid)
        assert len(children) == 2  # gunicorn's master and the worker
        assert all(_alive(pid) for pid in children)
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=60) == 0
        deadline = time.monotonic() + 30
        while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(_alive(pid) for pid in children)
        try:
            _status(f"http://127.0.0.1:{port}/login/")
            raise AssertionError("the port still answers")
        except OSError:
            pass
    finally:
        if serve.poll() is None:
            serve.kill()
        for pid in _children(serve.pid):
            os.kill(pid, signal.SIGKILL)
