"""gongwen.heap: start-up objects frozen for the garbage collector, later garbage still
collected."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import weakref
from pathlib import Path

import pytest

from gongwen.heap import freeze_startup_objects


@pytest.fixture
def unfrozen():
    yield
    gc.unfreeze()


class _Node:
    pass


def test_objects_alive_at_the_call_are_frozen(unfrozen):
    keep = [_Node() for _ in range(100)]
    before = gc.get_freeze_count()
    frozen = freeze_startup_objects()
    assert frozen == gc.get_freeze_count() >= before + len(keep)
    collectable = {id(o) for o in gc.get_objects()}  # the frozen are left out
    assert not any(id(n) in collectable for n in keep)


def test_cycles_made_afterwards_are_still_collected(unfrozen):
    freeze_startup_objects()
    a, b = _Node(), _Node()
    a.other, b.other = b, a
    gone = weakref.ref(a)
    del a, b
    gc.collect()
    assert gone() is None


def test_the_wsgi_application_freezes_what_it_loaded(tmp_path):
    """Each gunicorn worker imports gongwen.wsgi once: the URL configuration is loaded and
    the start-up objects are frozen before the first request."""
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "GONGWEN_VAR_DIR": str(tmp_path), "PYTHONPATH": str(root)}
    env.pop("GONGWEN_DATABASE_URL", None)
    out = subprocess.run(
        [sys.executable, "-c",
         "import gc, sys, gongwen.wsgi; "
         "print(gc.get_freeze_count(), 'gongwen.web.urls' in sys.modules)"],
        env=env, cwd=root, capture_output=True, text=True, timeout=120, check=True)
    count, urls_loaded = out.stdout.split()
    assert int(count) > 10_000
    assert urls_loaded == "True"
