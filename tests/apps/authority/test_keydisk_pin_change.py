"""The holder changes the PIN of their key disk (qa-backlog item 12): the key is sealed again
under the new PIN, so that the operator who set the first PIN no longer knows it; the old PIN
is counted like any use; the trail records the change without the PINs."""

from __future__ import annotations

import json
import re

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from gongwen.audit.models import AuditEntry
from gongwen.authority import services
from gongwen.pki.errors import KeyDiskLocked, PINFormatError, WrongPIN
from gongwen.pki.suites import public_key_der

from .conftest import PIN

NEW = "2468013"
WRONG = "11112222"


def _actions(disk):
    return list(AuditEntry.objects.filter(target_type="authority.keydisk", target_id=str(disk.pk))
                .order_by("seq").values_list("action", flat=True))


def test_holder_changes_the_pin_and_only_the_new_one_opens(suite, seal_cert_b, keeper_b):
    """GIVEN a key disk issued with the operator's PIN
    WHEN its holder changes the PIN
    THEN the same key opens with the new PIN only, and the change is audited without PINs."""
    disk = seal_cert_b.key_disk
    before = disk.encrypted_pem
    services.change_key_disk_pin(user=keeper_b, disk=disk, old_pin=PIN, new_pin=NEW)
    disk.refresh_from_db()
    assert disk.encrypted_pem != before
    key = services.open_key_disk(user=keeper_b, disk=disk, pin=NEW)
    assert public_key_der(key) == bytes(disk.public_key_der)
    with pytest.raises(WrongPIN):
        services.open_key_disk(user=keeper_b, disk=disk, pin=PIN)
    assert _actions(disk)[1:3] == ["keydisk.pin_ok", "keydisk.pin_changed"]
    entry = AuditEntry.objects.get(action="keydisk.pin_changed")
    assert entry.actor == keeper_b
    dumped = json.dumps(entry.detail) + entry.target_repr
    assert PIN not in dumped and NEW not in dumped


def test_a_wrong_old_pin_counts_and_the_fifth_locks(gm, seal_cert_b, keeper_b):
    disk = seal_cert_b.key_disk
    before = disk.encrypted_pem
    for left in (4, 3, 2, 1):
        with pytest.raises(WrongPIN) as err:
            services.change_key_disk_pin(user=keeper_b, disk=disk, old_pin=WRONG, new_pin=NEW)
        assert f"还可尝试 {left} 次" in err.value.message_zh
    with pytest.raises(KeyDiskLocked):
        services.change_key_disk_pin(user=keeper_b, disk=disk, old_pin=WRONG, new_pin=NEW)
    with pytest.raises(KeyDiskLocked):  # locked: the right PIN is not tried either
        services.change_key_disk_pin(user=keeper_b, disk=disk, old_pin=PIN, new_pin=NEW)
    disk.refresh_from_db()
    assert disk.locked and disk.encrypted_pem == before
    assert "keydisk.pin_changed" not in _actions(disk)


@pytest.mark.parametrize("new_pin", ["12345", "123456789", "12a456", "１２３４５６", "", None])
def test_a_new_pin_outside_the_rule_is_refused_before_the_old_one_is_tried(gm, seal_cert_b,
                                                                           keeper_b, new_pin):
    disk = seal_cert_b.key_disk
    with pytest.raises(PINFormatError) as err:
        services.change_key_disk_pin(user=keeper_b, disk=disk, old_pin=WRONG, new_pin=new_pin)
    assert "6至8位数字" in err.value.message_zh
    disk.refresh_from_db()
    assert disk.failed_attempts == 0 and _actions(disk) == ["keydisk.created"]


def test_the_same_pin_again_is_refused(gm, seal_cert_b, keeper_b):
    disk = seal_cert_b.key_disk
    with pytest.raises(PINFormatError) as err:
        services.change_key_disk_pin(user=keeper_b, disk=disk, old_pin=PIN, new_pin=PIN)
    assert "不能与原口令相同" in err.value.message_zh


def test_only_the_holder_changes_the_pin(gm, seal_cert_b, operator):
    disk = seal_cert_b.key_disk
    with pytest.raises(PermissionDenied):
        services.change_key_disk_pin(user=operator, disk=disk, old_pin=PIN, new_pin=NEW)
    disk.refresh_from_db()
    services.open_key_disk(user=seal_cert_b.key_disk.holder, disk=disk, pin=PIN)


def test_a_revoked_disk_cannot_change_its_pin(gm, seal_cert_b, keeper_b):
    services.revoke_certificate(cert_id=seal_cert_b.pk, reason="key_compromise")
    with pytest.raises(services.KeyDiskUnavailable):
        services.change_key_disk_pin(user=keeper_b, disk=seal_cert_b.key_disk, old_pin=PIN,
                                     new_pin=NEW)


# ---------------------------------------------------------------------------- 我的密钥盘


def _messages(response) -> list[str]:
    return re.findall(r'<li class="msg[^"]*">([^<]*)</li>', response.content.decode())


def test_holder_changes_the_pin_on_my_keydisks(gm, client, seal_cert_b, keeper_b):
    disk = seal_cert_b.key_disk
    client.force_login(keeper_b)
    url = reverse("web:my_keydisk_pin", args=[disk.pk])
    page = client.get(reverse("web:my_keydisks")).content.decode()
    assert url in page and "修改口令" in page
    response = client.post(url, {"old_pin": PIN, "new_pin": NEW, "new_pin_again": NEW},
                           follow=True)
    assert "口令已修改" in "".join(_messages(response))
    services.open_key_disk(user=keeper_b, disk=disk, pin=NEW)


@pytest.mark.parametrize(("data", "message"), [
    ({"old_pin": PIN, "new_pin": NEW, "new_pin_again": "2468014"}, "两次输入的新口令不一致"),
    ({"old_pin": PIN, "new_pin": NEW}, "两次输入的新口令不一致"),
    ({"old_pin": WRONG, "new_pin": NEW, "new_pin_again": NEW}, "还可尝试 4 次"),
    ({"old_pin": PIN, "new_pin": "12", "new_pin_again": "12"}, "口令必须为6至8位数字"),
    ({}, "请输入原口令"),
])
def test_refusals_are_chinese_and_change_nothing(gm, client, seal_cert_b, keeper_b, data,
                                                 message):
    disk = seal_cert_b.key_disk
    before = disk.encrypted_pem
    client.force_login(keeper_b)
    response = client.post(reverse("web:my_keydisk_pin", args=[disk.pk]), data, follow=True)
    assert response.status_code == 200 and message in "".join(_messages(response))
    disk.refresh_from_db()
    assert disk.encrypted_pem == before
    # A mismatch is refused before the old PIN is tried: nothing counted.
    assert disk.failed_attempts == (1 if data.get("old_pin") == WRONG else 0)


def test_another_users_disk_is_not_found(gm, client, seal_cert_b, clerk_b):
    client.force_login(clerk_b)
    url = reverse("web:my_keydisk_pin", args=[seal_cert_b.key_disk.pk])
    assert client.post(url, {"old_pin": PIN, "new_pin": NEW, "new_pin_again": NEW}
                       ).status_code == 404
    assert client.get(url).status_code == 405
