"""Units (R-UNIT-1..3): create, edit, rename, merge, revoke with history; groups; demo data."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from gongwen.audit.models import AuditEntry
from gongwen.units import services
from gongwen.units.models import RecipientGroup, Unit, UnitEvent, UnitState


@pytest.mark.django_db
def test_operator_creates_unit_through_the_page(client, operator):
    client.force_login(operator)
    response = client.post(reverse("web:unit_create"), {
        "code": "91320700MA1TEST01", "name": "连云港市文化局", "short_name": "连文",
        "level": "department", "kind": "department", "networked": "on",
        "networked_since": "2006-09-01"})
    assert response.status_code == 302
    unit = Unit.objects.get(code="91320700MA1TEST01")
    assert unit.networked_since == date(2006, 9, 1)
    assert AuditEntry.objects.filter(action="unit.created", target_id=str(unit.pk)).exists()
    assert "连云港市文化局" in client.get(reverse("web:units")).content.decode()


@pytest.mark.django_db
def test_networked_needs_a_date(operator):
    with pytest.raises(ValidationError, match="联网日期"):
        services.create_unit(actor=operator, code="X1", name="某局", short_name="某",
                             level="department", kind="department", networked=True)


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "said"), [("某局😀", "无法排版的字符「😀」"),
                                            ("某\u202e局", r"不可见的控制字符（U\+202E")])
def test_unit_and_group_names_must_be_printable(operator, unit_b, name, said):
    """Names are printed in 主送 lines, 署名 and 发文字号: the documents' character rules."""
    with pytest.raises(ValidationError, match=said):
        services.create_unit(actor=operator, code="X2", name=name, short_name="某",
                             level="department", kind="department")
    with pytest.raises(ValidationError, match=said):
        services.rename_unit(actor=operator, unit_id=unit_b.pk, new_name=name)
    with pytest.raises(ValidationError, match=said):
        services.save_group(actor=operator, name=name, member_ids=[unit_b.pk])
    assert not Unit.objects.filter(code="X2").exists()
    assert Unit.objects.get(pk=unit_b.pk).name != name
    assert not RecipientGroup.objects.filter(name=name).exists()


@pytest.mark.django_db
def test_paste_litter_is_removed_from_unit_and_group_names(operator, unit_b):
    """A name copied from a web page often carries a zero-width space or a BOM: removed,
    not refused (the documents' ``characters.tidy``)."""
    unit = services.create_unit(actor=operator, code="X3", name="\ufeff连云港市文化局\u200b",
                                short_name="文\u00ad化", level="department", kind="department")
    assert (unit.name, unit.short_name) == ("连云港市文化局", "文化")
    services.rename_unit(actor=operator, unit_id=unit_b.pk, new_name="东海县\u200b人民政府（新）")
    assert Unit.objects.get(pk=unit_b.pk).name == "东海县人民政府（新）"
    group = services.save_group(actor=operator, name="县区\u2060政府", member_ids=[unit_b.pk])
    assert group.name == "县区政府"
    # An edit that only adds litter is no change at all: nothing recorded (review).
    events = unit.events.count()
    services.update_unit(actor=operator, unit_id=unit.pk, short_name="文化\u200b")
    assert unit.events.count() == events
    assert not AuditEntry.objects.filter(action="unit.edited", target_id=str(unit.pk)).exists()


@pytest.mark.django_db
def test_duplicate_code_is_a_clear_error(client, operator, unit_b):
    client.force_login(operator)
    response = client.post(reverse("web:unit_create"), {
        "code": unit_b.code, "name": "重复", "short_name": "重", "level": "department",
        "kind": "department"})
    assert response.status_code == 200
    assert "单位代码" in response.content.decode()


@pytest.mark.django_db
def test_rename_in_place_keeps_old_name_in_history(operator, unit_b):
    services.rename_unit(actor=operator, unit_id=unit_b.pk, new_name="东海县人民政府（新）")
    unit_b.refresh_from_db()
    assert unit_b.name == "东海县人民政府（新）" and unit_b.state == UnitState.ACTIVE
    event = unit_b.events.get(kind=UnitEvent.Kind.RENAMED)
    assert event.old_name == "东海县人民政府"


@pytest.mark.django_db
def test_rename_into_new_unit_records_successor_and_moves_people(operator, unit_b, clerk_b):
    new = services.rename_unit(actor=operator, unit_id=unit_b.pk, new_name="东海市人民政府",
                               new_code="NEWCODE1")
    unit_b.refresh_from_db()
    clerk_b.refresh_from_db()
    assert unit_b.state == UnitState.RENAMED and unit_b.successor == new
    assert unit_b.name == "东海县人民政府"  # the old record keeps its name for old documents
    assert clerk_b.unit == new


@pytest.mark.django_db
def test_merge_keeps_record_and_follows_successor_chain(operator, make_unit, unit_b):
    a, b = make_unit("甲局"), make_unit("乙局")
    group = RecipientGroup.objects.create(name="测试组")
    group.members.add(a)
    services.merge_unit(actor=operator, unit_id=a.pk, into_id=b.pk)
    services.merge_unit(actor=operator, unit_id=b.pk, into_id=unit_b.pk)
    a.refresh_from_db()
    assert a.state == UnitState.MERGED and a.current_successor() == unit_b
    assert b in group.members.all()
    with pytest.raises(ValidationError):
        services.merge_unit(actor=operator, unit_id=a.pk, into_id=unit_b.pk)
    assert AuditEntry.objects.filter(action="unit.merged").count() == 2


@pytest.mark.django_db
def test_revoke_deactivates_accounts_and_sends_retired_signal(operator, unit_b, clerk_b):
    received = []
    services.unit_retired.connect(lambda **kw: received.append(kw["reason"]), weak=False)
    try:
        services.revoke_unit(actor=operator, unit_id=unit_b.pk, note="机构改革")
    finally:
        services.unit_retired.receivers.clear()
    unit_b.refresh_from_db()
    clerk_b.refresh_from_db()
    assert unit_b.state == UnitState.REVOKED and not clerk_b.is_active
    assert received == ["revoked"]


@pytest.mark.django_db
def test_clerk_cannot_use_services_directly(clerk_a, unit_b):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.revoke_unit(actor=clerk_a, unit_id=unit_b.pk)
    unit_b.refresh_from_db()
    assert unit_b.state == UnitState.ACTIVE


@pytest.mark.django_db
def test_merge_page_flow(client, operator, make_unit, unit_b):
    victim = make_unit("待合并局")
    client.force_login(operator)
    response = client.post(reverse("web:unit_merge", args=[victim.pk]),
                           {"into": unit_b.pk, "note": "市政府批复"})
    assert response.status_code == 302
    page = client.get(reverse("web:unit_detail", args=[victim.pk])).content.decode()
    assert "已合并" in page and "东海县人民政府" in page


@pytest.mark.django_db
def test_group_crud(client, operator, unit_b, make_unit):
    other = make_unit("某局")
    client.force_login(operator)
    response = client.post(reverse("web:group_create"),
                           {"name": "各县区人民政府", "members": [unit_b.pk, other.pk]})
    assert response.status_code == 302
    group = RecipientGroup.objects.get(name="各县区人民政府")
    assert set(group.members.all()) == {unit_b, other}
    response = client.post(reverse("web:group_create"), {"name": "各县区人民政府"})
    assert "已存在" in response.content.decode()


@pytest.mark.django_db
def test_demo_data_is_idempotent_and_realistic():
    from gongwen.units.demo import load_demo

    first = load_demo()
    assert first["units"] >= 18 and first["users"] >= 20 and first["phases"] == 2
    assert load_demo() == {"units": 0, "users": 0, "groups": 0, "phases": 0}
    from gongwen.policy import rollout

    # The notice's phases: phase 1 with its paper parallel run in 2006, phase 2 from 2007.
    assert rollout.parallel_run_on(date(2006, 9, 1))
    assert not rollout.parallel_run_on(date(2007, 3, 1))
    assert rollout.phase_on(date(2006, 7, 23)) is None
    names = set(Unit.objects.values_list("name", flat=True))
    for county in ("赣榆县人民政府", "东海县人民政府", "灌云县人民政府", "灌南县人民政府",
                   "连云港市连云区人民政府", "连云港市新浦区人民政府", "连云港市海州区人民政府"):
        assert county in names
    assert Unit.objects.filter(networked=False).exists()
    assert Unit.objects.filter(is_platform_operator=True).count() == 1
    from gongwen.accounts.models import Role, RoleGrant

    assert set(RoleGrant.objects.values_list("role", flat=True)) == set(Role.values)


@pytest.mark.django_db
def test_units_list_in_the_order_of_their_levels(make_unit):
    """QA: the statistics' unit list read 东海县, 江苏省, 灌云 … (the alphabet of the level
    codes). Province, city, county, city departments, affiliated units; then by code."""
    from gongwen.units.models import Level

    made = [make_unit(f"单位{level}", level=level, code=f"Z{n}")
            for n, level in enumerate(reversed(Level.values))]
    order = list(Unit.objects.filter(pk__in=[u.pk for u in made]).in_directory_order()
                 .values_list("level", flat=True))
    assert order == list(Level.values)
