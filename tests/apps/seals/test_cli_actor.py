"""``gongwen seal …`` with ``--as USER``: the user's permissions and the user's seals only,
denials audited under their name; bad unit codes and closed pipes (qa-backlog item 14)."""

from __future__ import annotations

import io

import pytest

from gongwen.audit.models import AuditEntry
from gongwen.cli import main


def test_console_lists_every_seal(seal_b, seal_bureau, capsys):
    assert main(["seal", "list"]) == 0
    out = capsys.readouterr().out
    assert seal_b.es_id in out and seal_bureau.es_id in out


def test_keeper_lists_only_their_own_units_seals(seal_b, seal_bureau, keeper_b, capsys):
    assert main(["--as", keeper_b.username, "seal", "list"]) == 0
    out = capsys.readouterr().out
    assert seal_b.es_id in out and seal_bureau.es_id not in out


def test_platform_operator_lists_every_units_seals(seal_b, seal_bureau, operator, capsys):
    assert main(["--as", operator.username, "seal", "list"]) == 0
    out = capsys.readouterr().out
    assert seal_b.es_id in out and seal_bureau.es_id in out


def test_clerk_is_refused_and_the_denial_names_them(seal_b, clerk_bureau, capsys):
    """GIVEN a clerk, who has no 印章管理 permission
    WHEN they list the seal register from the shell
    THEN the command is refused (exit 1) and the denial is audited under their name."""
    assert main(["--as", clerk_bureau.username, "seal", "list"]) == 1
    captured = capsys.readouterr()
    assert "无权" in captured.err and seal_b.es_id not in captured.out
    assert AuditEntry.objects.get(action="permission.denied").actor == clerk_bureau


@pytest.mark.parametrize("verb", ["show", "export", "image"])
def test_another_units_seal_is_not_found(seal_b, seal_bureau, keeper_b, tmp_path, capsys, verb):
    out = ["--out", str(tmp_path / "x.png")] if verb != "show" else []
    for ref in (seal_bureau.es_id, seal_bureau.unit.code):
        assert main(["--as", keeper_b.username, "seal", verb, ref, *out]) == 2
        assert "没有印章编码为" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()
    assert main(["--as", keeper_b.username, "seal", verb, seal_b.es_id, *out]) == 0


def test_verifying_a_file_hides_another_units_register_entry(seal_bureau, keeper_b, tmp_path,
                                                             capsys):
    """GIVEN another unit's seal as a file
    WHEN a keeper verifies it from the shell
    THEN the verdict is given but the register entry (keeper, unit) is not shown."""
    esl = tmp_path / "s.esl"
    esl.write_bytes(bytes(seal_bureau.der))
    assert main(["--as", keeper_b.username, "seal", "verify", str(esl)]) == 0
    out = capsys.readouterr().out
    assert "有效 / VALID" in out and seal_bureau.keeper.username not in out
    assert main(["--as", keeper_b.username, "seal", "verify", "--json", str(esl)]) == 0
    out = capsys.readouterr().out
    assert '"register"' not in out and seal_bureau.keeper.username not in out
    assert main(["seal", "verify", str(esl)]) == 0  # the console sees the register
    assert seal_bureau.keeper.username in capsys.readouterr().out


def test_verifying_a_file_needs_no_permission(seal_bureau, clerk_bureau, tmp_path, capsys):
    esl = tmp_path / "s.esl"
    esl.write_bytes(bytes(seal_bureau.der))
    assert main(["--as", clerk_bureau.username, "seal", "verify", str(esl)]) == 0
    assert "有效 / VALID" in capsys.readouterr().out
    assert not AuditEntry.objects.filter(action="permission.denied").exists()


@pytest.mark.django_db
def test_unknown_unit_is_bad_input(capsys):
    assert main(["seal", "list", "--unit", "NOPE"]) == 2
    assert "NOPE" in capsys.readouterr().err


class _ClosedPipe(io.StringIO):
    def write(self, text):
        raise BrokenPipeError(32, "Broken pipe")


def test_a_closed_pipe_ends_the_command_quietly(seal_b, seal_bureau, monkeypatch, capsys):
    """GIVEN ``gongwen seal list | head -1``: head has gone when the list is written
    WHEN the command writes to the closed pipe
    THEN it stops without a traceback."""
    monkeypatch.setattr("sys.stdout", _ClosedPipe())
    assert main(["seal", "list"]) != 0
    assert capsys.readouterr().err == ""
