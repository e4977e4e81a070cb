"""The execute form takes the new key disk's first PIN twice (qa-backlog item 12): a mismatch
is refused on the server before anything is done, and the page tells the operator that the
keeper changes the PIN on first use."""

from __future__ import annotations

import re

from django.urls import reverse

from gongwen.authority.models import KeyDisk
from gongwen.seals import services
from gongwen.seals.models import ApplicationState, Seal

from .conftest import MAKER_PIN, PIN


def _approved_make(keeper, head, approver):
    app = services.fill_application(actor=keeper, kind="make", reason="新设",
                                    keeper_id=keeper.pk)
    services.sign_application(actor=head, application_id=app.pk)
    services.approve_application(actor=approver, application_id=app.pk)
    return app


def _messages(response) -> str:
    return "".join(re.findall(r'<li class="msg[^"]*">([^<]*)</li>', response.content.decode()))


def test_a_mismatched_pin_is_refused_before_anything_is_done(client, pki, keeper_b, head_b,
                                                              head_a, province_operator):
    """GIVEN an approved make form
    WHEN the operator types the new disk's PIN differently twice (and a wrong maker PIN)
    THEN nothing is executed, the maker disk's wrong-PIN counter is untouched, and the page
    says why in Chinese."""
    app = _approved_make(keeper_b, head_b, head_a)
    client.force_login(province_operator)
    url = reverse("web:seal_application_action", args=[app.pk, "execute"])
    for again in ("24681357", "", None):
        data = {"keeper_pin": PIN, "maker_pin": "99990000"}
        if again is not None:
            data["keeper_pin_again"] = again
        response = client.post(url, data, follow=True)
        assert "两次输入的新密钥盘初始口令不一致" in _messages(response)
    app.refresh_from_db()
    assert app.state == ApplicationState.APPROVED and not Seal.objects.exists()
    maker_disk = KeyDisk.objects.get(holder=province_operator)
    assert maker_disk.failed_attempts == 0
    client.post(url, {"keeper_pin": PIN, "keeper_pin_again": PIN, "maker_pin": MAKER_PIN})
    app.refresh_from_db()
    assert app.state == ApplicationState.EXECUTED


def test_execute_form_asks_twice_and_says_the_keeper_changes_the_pin(client, pki, keeper_b,
                                                                     head_b, head_a,
                                                                     province_operator):
    app = _approved_make(keeper_b, head_b, head_a)
    client.force_login(province_operator)
    page = client.get(reverse("web:seal_application", args=[app.pk])).content.decode()
    assert 'name="keeper_pin_again"' in page
    assert "首次使用" in page and "修改口令" in page
