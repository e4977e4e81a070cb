"""The CLI goes through the permission layer when it acts as a user (``--as``)."""

from __future__ import annotations

import pytest

from gongwen import cli
from gongwen.audit.models import AuditEntry


@pytest.fixture(autouse=True)
def _fast_key_disks(settings):
    settings.GONGWEN = {**settings.GONGWEN, "PBKDF2_ITERATIONS": 1000}


@pytest.mark.django_db
def test_clerk_cannot_init_the_pki_from_the_cli(clerk_a, capsys):
    assert cli.main(["--as", "clerk_a", "pki", "init"]) == 1
    assert "无权" in capsys.readouterr().err
    denial = AuditEntry.objects.get(action="permission.denied")
    assert denial.actor == clerk_a


@pytest.mark.django_db
@pytest.mark.parametrize("spelt", ["op", "OP"])  # usernames are one whatever their case
def test_operator_acts_under_their_own_name(operator, capsys, spelt):
    assert cli.main(["--as", spelt, "pki", "init"]) == 0
    entries = AuditEntry.objects.exclude(action="permission.denied")
    assert entries.exists() and all(e.actor == operator for e in entries)


@pytest.mark.django_db
def test_unknown_user_is_bad_input(unit_a, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--as", "nobody", "pki", "init"])
    assert exc.value.code == 2
    assert "不存在" in capsys.readouterr().err
