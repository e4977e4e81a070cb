"""A very long search text: the search boxes cap it (maxlength), a longer one in an edited
address is cut with a Chinese note, and ``gongwen serve`` lets gunicorn take a request line
of 8190 bytes (its maximum; its default of 4094 refused a 5000-character search with its
English "Request Line is too large")."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from gongwen.cli import LIMIT_REQUEST_LINE, gunicorn_command

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_long_search_text_is_cut_with_a_chinese_note(client, clerk_a):
    client.force_login(clerk_a)
    page = client.get("/drafts/", {"q": "通知" * 2500}).content.decode()
    assert "检索词过长，已按前 100 个字检索。" in page
    assert f'name="q" value="{"通知" * 50}" maxlength="100"' in page


@pytest.mark.django_db
def test_short_search_text_gets_no_note(client, clerk_a):
    client.force_login(clerk_a)
    assert "检索词过长" not in client.get("/drafts/", {"q": "通知"}).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/users/", "/units/", "/directory/", "/pki/certs/"])
def test_other_search_boxes_are_capped_too(client, operator, path):
    client.force_login(operator)
    page = client.get(path, {"q": "x" * 5000}).content.decode()
    assert 'maxlength="100"' in page
    assert 'value="' + "x" * 100 + '"' in page and "x" * 101 not in page


@pytest.mark.django_db
def test_audit_filters_are_capped(client, make_user, unit_a):
    client.force_login(make_user(unit_a, "auditor"))
    response = client.get("/audit/", {"actor": "x" * 5000})
    assert response.status_code == 200
    assert response.content.decode().count('maxlength="100"') == 2


def test_serve_raises_gunicorns_request_line_limit():
    command = gunicorn_command("127.0.0.1:8000", 2)
    assert command[command.index("--limit-request-line") + 1] == "8190"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_gunicorn_as_served_takes_a_5000_character_search(tmp_path):
    """GIVEN gunicorn started as ``gongwen serve`` starts it
    WHEN the login page is asked with a 5000-character query
    THEN it answers 200; a line past 8190 bytes is still gunicorn's own 414 (documented)."""
    port = _free_port()
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="gongwen.settings",
               GONGWEN_VAR_DIR=str(tmp_path))
    server = subprocess.Popen(gunicorn_command(f"127.0.0.1:{port}", 1), env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/login/"
    try:
        for _ in range(100):
            try:
                if _status(base) == 200:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("gunicorn did not start")
        assert _status(base + "?q=" + "a" * 5000) == 200
        assert _status(base + "?q=" + "a" * (LIMIT_REQUEST_LINE + 1)) == 414
    finally:
        server.terminate()
        server.wait(timeout=10)
