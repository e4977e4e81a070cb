"""Demo data that looks like Lianyungang in 2006 (the seed notice). Idempotent: every row is
looked up by its natural key first, so loading twice changes nothing."""

from __future__ import annotations

from datetime import date

from django.db import transaction

from gongwen.accounts.models import Role, RoleGrant, User
from gongwen.audit.services import record

from .models import Kind, Level, RecipientGroup, Unit, UnitEvent

DEMO_PASSWORD = "Gongwen@2006"

# code, name, short name, level, kind, parent code, networked since (None = not networked)
UNITS = [
    ("11320000014000001X", "江苏省人民政府办公厅", "苏政办", Level.PROVINCE, Kind.GOVERNMENT_OFFICE,
     None, date(2006, 7, 24)),
    ("11320700014100001A", "连云港市人民政府", "连政", Level.CITY, Kind.GOVERNMENT, None,
     date(2006, 7, 24)),
    ("11320700014100002B", "连云港市人民政府办公室", "连政办", Level.CITY, Kind.GOVERNMENT_OFFICE,
     "11320700014100001A", date(2006, 7, 24)),
    ("11320721014000001C", "赣榆县人民政府", "赣政", Level.COUNTY, Kind.GOVERNMENT,
     "11320700014100001A", date(2006, 7, 24)),
    ("11320722014000001D", "东海县人民政府", "东政", Level.COUNTY, Kind.GOVERNMENT,
     "11320700014100001A", date(2006, 7, 24)),
    ("11320723014000001E", "灌云县人民政府", "灌云政", Level.COUNTY, Kind.GOVERNMENT,
     "11320700014100001A", date(2006, 7, 24)),
    ("11320724014000001F", "灌南县人民政府", "灌南政", Level.COUNTY, Kind.GOVERNMENT,
     "11320700014100001A", date(2006, 7, 24)),
    ("11320703014000001G", "连云港市连云区人民政府", "连云政", Level.COUNTY, Kind.GOVERNMENT,
     "11320700014100001A", date(2006, 7, 24)),
    ("11320705014000001H", "连云港市新浦区人民政府", "新政", Level.COUNTY, Kind.GOVERNMENT,
     "11320700014100001A", date(2006, 8, 1)),
    ("11320706014000001J", "连云港市海州区人民政府", "海政", Level.COUNTY, Kind.GOVERNMENT,
     "11320700014100001A", None),
    ("11320700014100101K", "连云港市发展和改革委员会", "连发改", Level.DEPARTMENT, Kind.DEPARTMENT,
     "11320700014100001A", date(2006, 7, 24)),
    ("11320700014100102L", "连云港市财政局", "连财", Level.DEPARTMENT, Kind.DEPARTMENT,
     "11320700014100001A", date(2006, 7, 24)),
    ("11320700014100103M", "连云港市教育局", "连教", Level.DEPARTMENT, Kind.DEPARTMENT,
     "11320700014100001A", date(2006, 7, 24)),
    ("11320700014100104N", "连云港市公安局", "连公", Level.DEPARTMENT, Kind.DEPARTMENT,
     "11320700014100001A", date(2006, 7, 24)),
    ("11320700014100105P", "连云港市民政局", "连民", Level.DEPARTMENT, Kind.DEPARTMENT,
     "11320700014100001A", date(2006, 8, 15)),
    ("11320700014100106Q", "连云港市卫生局", "连卫", Level.DEPARTMENT, Kind.DEPARTMENT,
     "11320700014100001A", date(2006, 7, 24)),
    ("11320700014100107R", "连云港市交通局", "连交", Level.DEPARTMENT, Kind.DEPARTMENT,
     "11320700014100001A", None),
    ("11320700014100108T", "连云港市国土资源局", "连国土", Level.DEPARTMENT, Kind.DEPARTMENT,
     "11320700014100001A", date(2006, 7, 24)),
    ("11320700014100109U", "连云港市建设局", "连建", Level.DEPARTMENT, Kind.DEPARTMENT,
     "11320700014100001A", None),
    ("11320700014100110W", "连云港市劳动和社会保障局", "连劳社", Level.DEPARTMENT,
     Kind.DEPARTMENT, "11320700014100001A", date(2006, 9, 1)),
]
OPERATOR_CODE = "11320700014100002B"
PROVINCE_CODE = "11320000014000001X"

# username, full name, unit code, roles
USERS = [
    ("admin", "周建国", OPERATOR_CODE, [Role.OPERATOR]),
    ("sfb.head", "王志强", OPERATOR_CODE, [Role.HEAD]),
    ("sfb.leader", "李明华", OPERATOR_CODE, [Role.LEADER]),
    ("sfb.clerk", "张丽", OPERATOR_CODE, [Role.CLERK]),
    ("sfb.seal", "陈静", OPERATOR_CODE, [Role.SEAL_KEEPER]),
    ("sfb.audit", "刘卫东", OPERATOR_CODE, [Role.AUDITOR]),
    ("szf.head", "赵国平", "11320700014100001A", [Role.HEAD]),
    ("szf.clerk", "孙红梅", "11320700014100001A", [Role.CLERK]),
    ("szf.seal", "钱文斌", "11320700014100001A", [Role.SEAL_KEEPER]),
    ("sheng.head", "吴德全", PROVINCE_CODE, [Role.HEAD]),
    ("sheng.clerk", "郑晓燕", PROVINCE_CODE, [Role.CLERK]),
    ("sheng.seal", "冯建军", PROVINCE_CODE, [Role.SEAL_KEEPER]),
    ("dhx.head", "褚立新", "11320722014000001D", [Role.HEAD]),
    ("dhx.leader", "卫兰芳", "11320722014000001D", [Role.LEADER]),
    ("dhx.clerk", "蒋海燕", "11320722014000001D", [Role.CLERK]),
    ("dhx.seal", "沈国庆", "11320722014000001D", [Role.SEAL_KEEPER]),
    ("dhx.audit", "韩秀英", "11320722014000001D", [Role.AUDITOR]),
    ("gyx.head", "杨振华", "11320721014000001C", [Role.HEAD]),
    ("gyx.clerk", "朱晓梅", "11320721014000001C", [Role.CLERK, Role.SEAL_KEEPER]),
    ("gy.clerk", "秦爱民", "11320723014000001E", [Role.CLERK]),
    ("gy.head", "尤建华", "11320723014000001E", [Role.HEAD]),
    ("gn.clerk", "许丽君", "11320724014000001F", [Role.CLERK]),
    ("lyq.clerk", "何春生", "11320703014000001G", [Role.CLERK]),
    ("xpq.clerk", "吕桂英", "11320705014000001H", [Role.CLERK]),
    ("hzq.clerk", "施建平", "11320706014000001J", [Role.CLERK]),
    ("fgw.head", "张伟", "11320700014100101K", [Role.HEAD]),
    ("fgw.clerk", "孔令芳", "11320700014100101K", [Role.CLERK]),
    ("czj.head", "曹永明", "11320700014100102L", [Role.HEAD]),
    ("czj.clerk", "严小红", "11320700014100102L", [Role.CLERK]),
    ("czj.seal", "华志刚", "11320700014100102L", [Role.SEAL_KEEPER]),
    ("jyj.clerk", "金玉兰", "11320700014100103M", [Role.CLERK]),
    ("gaj.clerk", "魏东升", "11320700014100104N", [Role.CLERK]),
    ("mzj.clerk", "陶美华", "11320700014100105P", [Role.CLERK]),
    ("wsj.clerk", "姜文军", "11320700014100106Q", [Role.CLERK]),
    ("gtj.clerk", "戚红霞", "11320700014100108T", [Role.CLERK]),
]

GROUPS = [
    ("各县区人民政府", "赣榆县、东海县、灌云县、灌南县及连云区、新浦区、海州区人民政府",
     lambda units: [u for u in units if u.level == Level.COUNTY]),
    ("市各委办局", "市政府各委、办、局", lambda units: [u for u in units if
                                                       u.level == Level.DEPARTMENT]),
    ("市直有关部门（经济口）", "发改委、财政局、国土资源局、交通局",
     lambda units: [u for u in units if u.short_name in {"连发改", "连财", "连国土", "连交"}]),
]


@transaction.atomic
def load_demo() -> dict[str, int]:
    created = {"units": 0, "users": 0, "groups": 0}
    by_code: dict[str, Unit] = {}
    for index, (code, name, short, level, kind, parent, since) in enumerate(UNITS):
        unit = Unit.objects.filter(code=code).first()
        if unit is None:
            unit = Unit.objects.create(
                code=code, name=name, short_name=short, level=level, kind=kind,
                parent=by_code.get(parent) if parent else None,
                networked=since is not None, networked_since=since,
                is_platform_operator=code == OPERATOR_CODE,
                is_seal_authority=code in (OPERATOR_CODE, PROVINCE_CODE),
                phone=f"0518-8560{index:04d}")
            UnitEvent.objects.create(unit=unit, kind=UnitEvent.Kind.CREATED, new_name=name,
                                     note="演示数据")
            created["units"] += 1
        by_code[code] = unit
    for username, full_name, code, roles in USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(username=username, full_name=full_name, unit=by_code[code],
                        email=f"{username.replace('.', '_')}@lyg.gov.cn.example")
            user.set_password(DEMO_PASSWORD)
            user.is_staff = user.is_superuser = Role.OPERATOR in roles
            user.save()
            created["users"] += 1
        for role in roles:
            RoleGrant.objects.get_or_create(user=user, role=role)
    units = list(by_code.values())
    for name, description, pick in GROUPS:
        group, was_created = RecipientGroup.objects.get_or_create(
            owner=None, name=name, defaults={"description": description})
        if was_created:
            group.members.set(pick(units))
            created["groups"] += 1
    created["phases"] = _load_phases(by_code)
    if any(created.values()):
        record(None, "demo.loaded", detail=created, actor_name="gongwen demo")
    return created


def _load_phases(by_code: dict[str, Unit]) -> int:
    """The notice's two phases (§1, §2), unless the operator has configured any."""
    from gongwen.policy.models import RolloutPhase

    if RolloutPhase.objects.exists():
        return 0
    city, office = by_code["11320700014100001A"], by_code[OPERATOR_CODE]
    one = RolloutPhase.objects.create(
        name="第一阶段", starts_on=date(2006, 7, 24), all_documents=False, networked_only=True,
        allow_forwarding=True, paper_parallel=True,
        note="连政办发〔2006〕107号：2006年7月24日至12月31日电子发文与纸质发文同时运行")
    one.senders.set([city, office, by_code[PROVINCE_CODE]])
    one.request_recipients.set([city, office])
    RolloutPhase.objects.create(
        name="第二阶段", starts_on=date(2007, 1, 1), all_documents=True, networked_only=False,
        allow_forwarding=True, paper_parallel=False,
        note="2007年1月1日起全面推行公文无纸化传输，基本取消各类纸质发文")
    return 2


def demo_logins() -> list[tuple[str, str, str, str]]:
    rows = []
    for username, full_name, code, roles in USERS:
        unit = Unit.objects.filter(code=code).first()
        rows.append((username, full_name, unit.name if unit else code,
                     "、".join(Role(r).label for r in roles)))
    return rows
