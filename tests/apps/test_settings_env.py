"""Integer settings read from the environment: defaults, values, clear errors."""

from __future__ import annotations

import pytest
from django.conf import settings

from gongwen.settings import env_int


def test_reverify_and_sweep_are_configured_with_their_defaults():
    assert settings.GONGWEN["REVERIFY_AFTER_SECONDS"] == 300
    assert settings.GONGWEN["SWEEP_MINUTES"] == 10


def test_env_int_reads_the_variable(monkeypatch):
    monkeypatch.setenv("GONGWEN_SWEEP_MINUTES", "3")
    assert env_int("GONGWEN_SWEEP_MINUTES", 10, minimum=1) == 3
    monkeypatch.setenv("GONGWEN_SWEEP_MINUTES", "")
    assert env_int("GONGWEN_SWEEP_MINUTES", 10, minimum=1) == 10


@pytest.mark.parametrize("value", ["abc", "0", "-5"])
def test_env_int_refuses_bad_values_with_the_variable_name(monkeypatch, value):
    monkeypatch.setenv("GONGWEN_SWEEP_MINUTES", value)
    with pytest.raises(ValueError, match="GONGWEN_SWEEP_MINUTES"):
        env_int("GONGWEN_SWEEP_MINUTES", 10, minimum=1)
