"""Key disks (R-PKI-5): wrong PINs counted on the server, lock after 5, operator unlock,
every attempt audited."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction

from gongwen.audit.models import AuditEntry
from gongwen.authority import services
from gongwen.authority.models import KeyDisk
from gongwen.pki.errors import KeyDiskLocked, PINFormatError, WrongPIN

from .conftest import PIN

WRONG = "11112222"


def _actions(disk):
    return list(AuditEntry.objects.filter(target_type="authority.keydisk", target_id=str(disk.pk))
                .order_by("seq").values_list("action", flat=True))


def test_fifth_wrong_pin_locks_and_only_an_operator_unlocks(suite, seal_cert_b, keeper_b,
                                                             operator, clerk_b):
    disk = seal_cert_b.key_disk
    for left in (4, 3, 2, 1):
        with pytest.raises(WrongPIN) as err:
            services.open_key_disk(user=keeper_b, disk=disk, pin=WRONG)
        assert f"还可尝试 {left} 次" in err.value.message_zh
    with pytest.raises(KeyDiskLocked) as err:
        services.open_key_disk(user=keeper_b, disk=disk, pin=WRONG)
    assert "锁定" in err.value.message_zh
    disk.refresh_from_db()
    assert disk.locked and disk.locked_at and disk.failed_attempts == 5
    # Locked: even the right PIN is refused, without being tried.
    with pytest.raises(KeyDiskLocked):
        services.open_key_disk(user=keeper_b, disk=disk, pin=PIN)
    # The holder's unit head or clerk cannot unlock; the operator can.
    with pytest.raises(PermissionDenied):
        services.unlock_key_disk(actor=clerk_b, disk_id=disk.pk)
    with pytest.raises(PermissionDenied):
        services.unlock_key_disk(actor=keeper_b, disk_id=disk.pk)
    services.unlock_key_disk(actor=operator, disk_id=disk.pk)
    disk.refresh_from_db()
    assert not disk.locked and disk.failed_attempts == 0
    services.open_key_disk(user=keeper_b, disk=disk, pin=PIN)
    assert _actions(disk) == (["keydisk.created"] + ["keydisk.pin_wrong"] * 5
                              + ["keydisk.locked", "keydisk.pin_refused", "keydisk.unlocked",
                                 "keydisk.pin_ok"])
    unlock = AuditEntry.objects.get(action="keydisk.unlocked")
    assert unlock.actor == operator and unlock.detail["failures_before"] == 5
    denials = AuditEntry.objects.filter(action="permission.denied").count()
    assert denials == 2


def test_right_pin_resets_the_counter(gm, seal_cert_b, keeper_b):
    disk = seal_cert_b.key_disk
    for _ in range(4):
        with pytest.raises(WrongPIN):
            services.open_key_disk(user=keeper_b, disk=disk, pin=WRONG)
    services.open_key_disk(user=keeper_b, disk=disk, pin=PIN)
    disk.refresh_from_db()
    assert disk.failed_attempts == 0 and not disk.locked and disk.last_used_at
    with pytest.raises(WrongPIN):
        services.open_key_disk(user=keeper_b, disk=disk, pin=WRONG)
    disk.refresh_from_db()
    assert disk.failed_attempts == 1


def test_malformed_pin_is_audited_but_not_counted(gm, seal_cert_b, keeper_b):
    disk = seal_cert_b.key_disk
    for bad in ("", "12345", "123456789", "abcdef", "１２３４５６"):
        with pytest.raises(PINFormatError):
            services.open_key_disk(user=keeper_b, disk=disk, pin=bad)
    disk.refresh_from_db()
    assert disk.failed_attempts == 0
    assert _actions(disk).count("keydisk.pin_malformed") == 5


def test_only_the_holder_opens_a_key_disk(gm, seal_cert_b, operator, make_user, unit_b):
    other_keeper = make_user(unit_b, "seal_keeper")
    for user in (operator, other_keeper):
        with pytest.raises(PermissionDenied):
            services.open_key_disk(user=user, disk=seal_cert_b.key_disk, pin=PIN)
    assert AuditEntry.objects.filter(action="permission.denied",
                                     detail__why="holder").count() == 2


def test_revoked_certificate_disk_is_refused(gm, seal_cert_b, keeper_b):
    services.revoke_certificate(cert_id=seal_cert_b.pk, reason="cessation_of_operation")
    with pytest.raises(services.KeyDiskUnavailable):
        services.open_key_disk(user=keeper_b, disk=seal_cert_b.key_disk, pin=PIN)


def test_opening_inside_a_caller_transaction_is_refused(gm, seal_cert_b, keeper_b):
    """The counter must commit even when the caller's work rolls back: open_key_disk runs
    in its own durable transaction and refuses to be nested."""
    with pytest.raises(RuntimeError), transaction.atomic():
        services.open_key_disk(user=keeper_b, disk=seal_cert_b.key_disk, pin=WRONG)


def test_unlocking_an_unlocked_disk_is_refused(gm, seal_cert_b, operator):
    with pytest.raises(ValidationError):
        services.unlock_key_disk(actor=operator, disk_id=seal_cert_b.key_disk.pk)


@pytest.mark.django_db(transaction=True)
def test_parallel_wrong_pins_never_exceed_the_limit(settings, make_user, make_unit):
    """GIVEN a key disk WHEN 8 wrong PINs arrive at once THEN exactly 5 are tried and
    counted (the row lock serialises them), the disk is locked, the rest are refused."""
    if connection.vendor == "sqlite":
        pytest.skip("row-lock concurrency is exercised on PostgreSQL; SQLite serialises writers")
    settings.GONGWEN = {**settings.GONGWEN, "SUITE": "GM"}
    from gongwen.units.models import Level

    services.init_pki()
    unit = make_unit("灌南县人民政府", level=Level.COUNTY)
    keeper = make_user(unit, "seal_keeper")
    cert = services.issue_certificate(unit=unit, profile="unit-seal", holder=keeper, pin=PIN)
    disk_id = cert.key_disk.pk
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def guess():
        barrier.wait()
        try:
            services.open_key_disk(user=keeper, disk=disk_id, pin=WRONG)
        except KeyDiskLocked:
            outcomes.append("locked")
        except WrongPIN:
            outcomes.append("wrong")
        finally:
            connection.close()

    threads = [threading.Thread(target=guess) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    disk = KeyDisk.objects.get(pk=disk_id)
    assert disk.locked and disk.failed_attempts == 5
    assert sorted(outcomes) == ["locked"] * 4 + ["wrong"] * 4
    actions = list(AuditEntry.objects.filter(target_id=str(disk_id),
                                             target_type="authority.keydisk")
                   .values_list("action", flat=True))
    assert actions.count("keydisk.pin_wrong") == 5
    assert actions.count("keydisk.locked") == 1
    assert actions.count("keydisk.pin_refused") == 3


@pytest.mark.django_db
def test_pin_attempt_and_revocation_lock_rows_in_one_order(gm, seal_cert_b, keeper_b,
                                                           operator):
    """No lock cycle between opening a key disk and revoking its certificate: the PIN
    attempt locks only the key disk's row; revocation locks the certificate, then the disk,
    then the CA (PostgreSQL ``FOR UPDATE OF``; SQLite has no row locks)."""
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's")
    with CaptureQueriesContext(connection) as opened:
        services.open_key_disk(user=keeper_b, disk=seal_cert_b.key_disk, pin=PIN)
    locks = [q["sql"] for q in opened if "FOR UPDATE" in q["sql"]
             and "authority_keydisk" in q["sql"]]
    assert locks and all('FOR UPDATE OF "authority_keydisk"' in sql for sql in locks), locks
    with CaptureQueriesContext(connection) as revoked:
        services.revoke_certificate(actor=operator, cert_id=seal_cert_b.pk,
                                    reason="superseded")
    locked = [q["sql"] for q in revoked if "FOR UPDATE" in q["sql"]]
    # The table each statement locks: the one after OF, else its FROM table (no join).
    tables = [(sql.split("FOR UPDATE OF ", 1)[1] if " OF " in sql
               else sql.split(" FROM ", 1)[1]).split()[0].strip('"') for sql in locked]
    assert tables[:2] == ["authority_certificate", "authority_keydisk"], locked
    assert all(" OF " in sql or " JOIN " not in sql for sql in locked), locked
