"""``gongwen seal …``: the seal register from the operator's shell (issue 6 item 7).

Registered on the argparse tree of :mod:`gongwen.cli` like ``pki``. Exit codes: 0 success
(``verify``/``show``: valid), 1 invalid or permission denied, 2 bad input or unreadable.
Read-only: seals are made and ended only through the application flow (pages / services).

With ``--as USER`` a command sees what the user's 印章登记 page shows (``VIEW_SEALS``, then
``visible_seals``), and a seal outside it is answered as not found; verifying a file needs
no permission, but another unit's register entry is left out of the report.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from gongwen.cli import cli_actor


def _err(text: str) -> int:
    print(f"错误：{text}", file=sys.stderr)
    return 2


def _seals(actor):
    """The seals the command may read: all for the console, else the user's register
    (the same permission as the page; a denial is audited and ends the command)."""
    from gongwen.policy.permissions import Perm, require
    from gongwen.seals.models import Seal
    from gongwen.seals.selectors import visible_seals

    if actor is None:
        return Seal.objects.select_related("unit", "keeper", "authority")
    require(actor, Perm.VIEW_SEALS)
    return visible_seals(actor)


def _sees(actor, seal) -> bool:
    """Whether the user's register shows ``seal``; asked without auditing a denial."""
    from gongwen.policy.permissions import Perm, can
    from gongwen.seals.selectors import visible_seals

    return actor is None or (can(actor, Perm.VIEW_SEALS)
                             and visible_seals(actor).filter(pk=seal.pk).exists())


def _find_seal(ref: str, actor):
    """A seal by its esID, or the newest active seal of the unit with code ``ref``."""
    from gongwen.seals.models import SealStatus

    seals = _seals(actor)
    seal = seals.filter(es_id=ref).first()
    if seal is None:
        seal = seals.filter(unit__code=ref, status=SealStatus.ACTIVE).order_by("-id").first()
    return seal


def _parse_at(text: str | None):
    from django.utils import timezone

    if not text:
        return None
    value = datetime.fromisoformat(text)
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def cmd_list(args) -> int:
    from gongwen.units.models import Unit

    qs = _seals(cli_actor(args)).order_by("unit__code", "id")
    if args.unit:
        if not Unit.objects.filter(code=args.unit).exists():
            return _err(f"单位代码“{args.unit}”不存在 / no unit {args.unit!r}")
        qs = qs.filter(unit__code=args.unit)
    count = 0
    for s in qs:
        count += 1
        print(f"{s.es_id:<24} {s.status:<9} {s.valid_from:%Y-%m-%d}..{s.valid_to:%Y-%m-%d}  "
              f"{s.keeper.username:<12} {s.unit.name}（{s.authority.name if s.authority else '-'}"
              f"制发，{s.diameter_mm}mm）")
    if not count:
        print("暂无电子印章 / no seals")
    return 0


def _report(check, as_json: bool, describe: dict | None = None, actor=None) -> int:
    if check.registered is not None and not _sees(actor, check.registered):
        # The verdict already says whether the register ended the seal; its entry (unit,
        # keeper) is another unit's business.
        check = dataclasses.replace(check, registered=None)
    if as_json:
        out = check.as_dict()
        if describe is not None:
            out["seal"] = describe
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        if describe is not None:
            print(json.dumps(describe, ensure_ascii=False, indent=2))
        label = {"valid": "有效 / VALID", "invalid": "无效 / INVALID",
                 "unreadable": "无法读取 / UNREADABLE"}[check.status]
        print(f"{label}: {check.message_zh} / {check.message_en}")
        if check.registered is not None:
            r = check.registered
            print(f"  登记 / register: {r.unit.name} {r.es_id} {r.get_status_display()} "
                  f"keeper={r.keeper.username}")
        for w in check.warnings:
            print(f"  注意 / warning: {w}")
    return {"valid": 0, "invalid": 1, "unreadable": 2}[check.status]


def _load(ref: str, actor) -> tuple[bytes | None, str]:
    path = Path(ref)
    if path.is_file():
        try:
            return path.read_bytes(), ""
        except OSError as exc:
            return None, f"无法读取文件 {ref}：{exc.strerror}"
    seal = _find_seal(ref, actor)
    if seal is None:
        return None, f"没有印章编码为 {ref} 的印章，也没有该文件 / no such seal or file"
    return bytes(seal.der), ""


def cmd_show(args) -> int:
    from gongwen.seals.services import check_seal

    try:
        at = _parse_at(args.at)
    except ValueError:
        return _err(f"时间格式错误，应为 ISO 8601 / bad --at {args.at!r}")
    actor = cli_actor(args)
    der, problem = _load(args.seal, actor)
    if der is None:
        return _err(problem)
    check = check_seal(der, at)
    return _report(check, args.json, check.info.describe() if check.info else None, actor)


def cmd_verify(args) -> int:
    from gongwen.seals.services import check_seal

    try:
        at = _parse_at(args.at)
    except ValueError:
        return _err(f"时间格式错误，应为 ISO 8601 / bad --at {args.at!r}")
    try:
        der = Path(args.file).read_bytes()
    except OSError as exc:
        print(f"无法读取 / UNREADABLE: 无法读取文件 / cannot read {args.file}: {exc.strerror}",
              file=sys.stderr)
        return 2
    return _report(check_seal(der, at), args.json, actor=cli_actor(args))


def cmd_export(args) -> int:
    seal = _find_seal(args.es_id, cli_actor(args))
    if seal is None:
        return _err(f"没有印章编码为 {args.es_id} 的印章 / no such seal")
    try:
        Path(args.out).write_bytes(bytes(seal.der))
    except OSError as exc:
        return _err(f"无法写入 {args.out}：{exc.strerror}")
    print(f"已导出 / exported {seal.es_id} ({len(bytes(seal.der))} bytes DER SES_Seal) "
          f"to {args.out}")
    return 0


def cmd_image(args) -> int:
    seal = _find_seal(args.es_id, cli_actor(args))
    if seal is None:
        return _err(f"没有印章编码为 {args.es_id} 的印章 / no such seal")
    out = Path(args.out)
    suffix = out.suffix.lower()
    if suffix == ".png":
        data = bytes(seal.image_png)
    elif suffix == ".svg":
        if not seal.image_svg:
            return _err("该印章没有 SVG 印模 / no SVG image stored")
        data = seal.image_svg.encode("utf-8")
    else:
        return _err("输出文件须以 .png 或 .svg 结尾 / --out must end in .png or .svg")
    try:
        out.write_bytes(data)
    except OSError as exc:
        return _err(f"无法写入 {args.out}：{exc.strerror}")
    print(f"已导出印模 / image of {seal.es_id} ({seal.diameter_mm} mm) to {args.out}")
    return 0


def register(sub: argparse._SubParsersAction, with_django: Callable[[Callable], Callable]) -> None:
    """Add ``seal`` and its subcommands (see :func:`gongwen.authority.cli.register`)."""
    seal = sub.add_parser("seal", help="electronic seals: list, show, export, image, verify")
    ssub = seal.add_subparsers(dest="seal_cmd", required=True)

    p = ssub.add_parser("list", help="the seal register")
    p.add_argument("--unit", help="unit code (单位代码)")
    p.set_defaults(func=with_django(cmd_list))

    p = ssub.add_parser("show", help="every field of a seal and its verification "
                                     "(exit 0 valid, 1 invalid, 2 unreadable)")
    p.add_argument("seal", help="esID of a registered seal, or a .esl file")
    p.add_argument("--at", help="verification time, ISO 8601 (default now)")
    p.add_argument("--json", action="store_true", help="one JSON document")
    p.set_defaults(func=with_django(cmd_show))

    p = ssub.add_parser("export", help="write a seal as DER SES_Seal (.esl)")
    p.add_argument("es_id", help="esID (or a unit code: its active seal)")
    p.add_argument("--out", required=True, help="output file, e.g. seal.esl")
    p.set_defaults(func=with_django(cmd_export))

    p = ssub.add_parser("image", help="write a seal's image (.png at 600 dpi, or .svg)")
    p.add_argument("es_id", help="esID (or a unit code: its active seal)")
    p.add_argument("--out", required=True, help="output file ending in .png or .svg")
    p.set_defaults(func=with_django(cmd_image))

    p = ssub.add_parser("verify", help="verify a .esl file (exit 0 valid, 1 invalid, "
                                       "2 unreadable)")
    p.add_argument("file", help="DER SES_Seal file")
    p.add_argument("--at", help="verification time, ISO 8601 (default now)")
    p.add_argument("--json", action="store_true", help="one JSON document")
    p.set_defaults(func=with_django(cmd_verify))
