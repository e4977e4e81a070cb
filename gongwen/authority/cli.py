"""``gongwen pki …``: CA operations for the operator's shell (R-UI-3, issue 5 item 6).

Registered on the argparse tree of :mod:`gongwen.cli`. Exit codes: 0 success (``verify``:
valid), 1 the operation or check failed (``verify``: invalid), 2 bad input or unreadable.
Messages are Chinese with the English text beside them.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from gongwen.cli import cli_actor

_PROFILE_HOLDER_ROLES = {
    "unit-seal": ("seal_keeper",),
    "unit-receipt": ("clerk",),
    "seal-maker": ("operator", "head", "seal_keeper"),
    "workstation": ("seal_keeper", "clerk"),
}


def _fail(exc: Exception, code: int = 1) -> int:
    from django.core.exceptions import ValidationError

    from gongwen.pki.errors import MalformedInput, PKIError

    if isinstance(exc, ValidationError):
        print("错误：" + "；".join(exc.messages), file=sys.stderr)
        return 2
    if isinstance(exc, PKIError):
        print(f"错误：{exc.message_zh} / error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, MalformedInput) else code
    raise exc


def cmd_init(args) -> int:
    from gongwen.authority import services
    from gongwen.pki.errors import PKIError

    try:
        result = services.init_pki(actor=cli_actor(args), suite=args.suite)
    except PKIError as exc:
        return _fail(exc)
    if result.created:
        print("已创建CA / created: " + ", ".join(result.created))
    else:
        print("CA 已存在，无需创建 / PKI already initialised: nothing to do")
    for ca in result.cas:
        print(f"  {ca.slug:<12} {ca.get_role_display():<6} {ca.suite:<4} {ca.name}  "
              f"CRL #{ca.crl_number} → {services.crl_url(ca)}")
    return 0


def _read_pin(args) -> str | None:
    if args.pin:
        return args.pin
    if os.environ.get("GONGWEN_PKI_PIN"):
        return os.environ["GONGWEN_PKI_PIN"]
    if sys.stdin.isatty():
        first = getpass.getpass("密钥盘口令（6-8位数字）/ key disk PIN: ")
        second = getpass.getpass("再次输入口令 / repeat PIN: ")
        if first != second:
            print("错误：两次输入的口令不一致 / PINs differ", file=sys.stderr)
            return None
        return first
    print("错误：请用 --pin 或环境变量 GONGWEN_PKI_PIN 提供密钥盘口令 / no PIN given",
          file=sys.stderr)
    return None


def cmd_issue(args) -> int:
    from django.core.exceptions import ValidationError

    from gongwen.accounts.models import User
    from gongwen.authority import services
    from gongwen.pki.errors import PKIError
    from gongwen.units.models import Unit

    unit = Unit.objects.filter(code=args.unit).first()
    if unit is None:
        print(f"错误：没有单位代码为 {args.unit} 的单位 / no such unit", file=sys.stderr)
        return 2
    if args.holder:
        holder = User.objects.named(args.holder).first()
        if holder is None:
            print(f"错误：没有用户 {args.holder} / no such user", file=sys.stderr)
            return 2
    else:
        holder = None
        for role in _PROFILE_HOLDER_ROLES[args.profile]:
            holder = (User.objects.filter(unit=unit, is_active=True, role_grants__role=role)
                      .order_by("id").first())
            if holder is not None:
                break
        if holder is None:
            print("错误：该单位没有合适的持有人，请用 --holder 指定 / no holder found",
                  file=sys.stderr)
            return 2
    pin = _read_pin(args)
    if pin is None:
        return 2
    try:
        cert = services.issue_certificate(actor=cli_actor(args), unit=unit, profile=args.profile, holder=holder,
                                          pin=pin, label=args.label or "",
                                          validity_days=args.days)
    except (PKIError, ValidationError) as exc:
        return _fail(exc)
    print(f"已签发 / issued: {cert.get_profile_display()} serial={cert.serial}")
    print(f"  主体 / subject: {cert.subject}")
    print(f"  签发CA / issuer: {cert.issuer.name}")
    print(f"  有效期 / valid: {cert.not_before:%Y-%m-%d} – {cert.not_after:%Y-%m-%d}")
    print(f"  密钥盘 / key disk #{cert.key_disk.pk}, 持有人 / holder: {holder.username}")
    return 0


def cmd_revoke(args) -> int:
    from django.core.exceptions import ValidationError

    from gongwen.authority import services
    from gongwen.pki.errors import PKIError

    try:
        cert = services.find_certificate(args.serial)
        cert = services.revoke_certificate(actor=cli_actor(args), cert_id=cert.pk, reason=args.reason,
                                           note=args.note or "", destroy_key=args.destroy_key)
    except (PKIError, ValidationError) as exc:
        return _fail(exc)
    print(f"已吊销 / revoked: serial={cert.serial} reason={cert.revocation_reason} "
          f"at {cert.revoked_at:%Y-%m-%d %H:%M:%S%z}")
    print(f"  新CRL已发布 / new CRL published: {services.crl_url(cert.issuer)} "
          f"(#{cert.issuer.__class__.objects.get(pk=cert.issuer_id).crl_number})")
    return 0


def cmd_crl(args) -> int:
    from gongwen.authority import services
    from gongwen.pki.errors import PKIError

    try:
        if args.if_due:
            published = services.refresh_due_crls()
            if not published:
                print("所有CRL均在有效期内 / every CRL is current: nothing to do")
        elif args.ca:
            published = [services.publish_crl(actor=cli_actor(args), ca=args.ca, validity_days=args.days)]
        else:
            published = services.publish_all_crls(actor=cli_actor(args), validity_days=args.days)
    except PKIError as exc:
        return _fail(exc)
    for crl in published:
        print(f"{crl.ca.slug:<12} CRL #{crl.number}  revoked={crl.revoked_count}  "
              f"nextUpdate={crl.next_update:%Y-%m-%d %H:%M:%S%z}  {services.crl_url(crl.ca)}")
    return 0


def _parse_at(text: str | None):
    from django.utils import timezone

    if not text:
        return None
    value = datetime.fromisoformat(text)
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def cmd_verify(args) -> int:
    from gongwen.authority import services

    try:
        at = _parse_at(args.at)
    except ValueError:
        print(f"无法读取 / UNREADABLE: 时间格式错误，应为 ISO 8601 / bad --at {args.at!r}",
              file=sys.stderr)
        return 2
    try:
        data = Path(args.cert).read_bytes()
    except OSError as exc:
        print(f"无法读取 / UNREADABLE: 无法读取文件 / cannot read {args.cert}: {exc.strerror}",
              file=sys.stderr)
        return 2
    result = services.check_certificate(data, at)
    if result.status == "unreadable":
        print(f"无法读取 / UNREADABLE: {result.message_zh} / {result.message_en}")
        return 2
    if result.status == "invalid":
        print(f"无效 / INVALID: {result.message_zh} / {result.message_en}")
        print(f"  主体 / subject: {result.subject}  serial={result.serial}")
        return 1
    print(f"有效 / VALID: {result.message_zh} / {result.message_en}")
    print(f"  主体 / subject: {result.subject}  serial={result.serial}")
    print("  证书链 / chain: " + " → ".join(result.path))
    return 0


def cmd_export(args) -> int:
    from gongwen.authority import services
    from gongwen.pki.errors import PKIError

    try:
        index = services.export_trust_bundle(Path(args.out),
                                             with_certificates=args.with_certificates)
    except PKIError as exc:
        return _fail(exc)
    except OSError as exc:
        print(f"错误：无法写入 {args.out} / cannot write: {exc.strerror}", file=sys.stderr)
        return 2
    for entry in index:
        print(f"  {entry['file']:<22} {entry['type']:<11} {entry['role']:<10} {entry['subject']}")
    print(f"已导出 / exported {len(index)} files + index.json to {args.out}")
    print(f"OpenSSL核验脚本 / check with openssl: sh {Path(args.out) / 'verify-openssl.sh'}")
    return 0


def cmd_list(args) -> int:
    from gongwen.authority.models import Certificate, CertificateAuthority

    for ca in CertificateAuthority.objects.order_by("id"):
        print(f"CA {ca.slug:<12} {ca.get_role_display():<6} {ca.suite:<4} {ca.name}  "
              f"CRL #{ca.crl_number} next={ca.crl_next_update:%Y-%m-%d %H:%M}"
              if ca.crl_next_update else f"CA {ca.slug} {ca.name} (no CRL)")
    for cert in Certificate.objects.select_related("issuer", "holder").order_by("id"):
        holder = cert.holder.username if cert.holder else "-"
        print(f"  {cert.serial:<40} {cert.profile:<13} {cert.status:<8} {holder:<12} "
              f"{cert.subject_cn}")
    return 0


def register(sub: argparse._SubParsersAction, with_django: Callable[[Callable], Callable]) -> None:
    """Add ``pki`` and its subcommands; ``with_django`` wraps a function so that it sets up
    Django before running."""
    pki = sub.add_parser("pki", help="CA operations: init, issue, revoke, crl, verify, export")
    psub = pki.add_subparsers(dest="pki_cmd", required=True)

    p = psub.add_parser("init", help="create root, provincial and city CAs (idempotent)")
    p.add_argument("--suite", choices=["GM", "INTL"], default=None,
                   help="algorithm suite (default: GONGWEN_SUITE)")
    p.set_defaults(func=with_django(cmd_init))

    p = psub.add_parser("issue", help="issue a certificate with a new PIN-protected key disk")
    p.add_argument("--unit", required=True, help="unit code (单位代码)")
    p.add_argument("--profile", required=True, choices=list(_PROFILE_HOLDER_ROLES))
    p.add_argument("--holder", help="username of the key disk holder")
    p.add_argument("--pin", help="6-8 digit PIN (or GONGWEN_PKI_PIN, or asked on a terminal)")
    p.add_argument("--label", help="extra text for the subject CN (e.g. a workstation name)")
    p.add_argument("--days", type=int, help="validity in days (default by profile)")
    p.set_defaults(func=with_django(cmd_issue))

    p = psub.add_parser("revoke", help="revoke a certificate and publish a new CRL")
    p.add_argument("serial", help="hexadecimal serial number")
    p.add_argument("--reason", required=True,
                   help="unspecified, key_compromise, affiliation_changed, superseded, "
                        "cessation_of_operation, privilege_withdrawn")
    p.add_argument("--note", help="free text kept with the revocation")
    p.add_argument("--destroy-key", action="store_true", help="also destroy the key disk")
    p.set_defaults(func=with_django(cmd_revoke))

    p = psub.add_parser("crl", help="publish fresh CRLs (all CAs, or --ca)")
    p.add_argument("--ca", help="CA slug or name (default: every CA)")
    p.add_argument("--days", type=int, help="nextUpdate after N days (default 7)")
    p.add_argument("--if-due", action="store_true",
                   help="only CRLs that are missing or expire within a day (for cron)")
    p.set_defaults(func=with_django(cmd_crl))

    p = psub.add_parser("verify", help="validate a certificate file (exit 0 valid, 1 invalid, "
                                       "2 unreadable)")
    p.add_argument("cert", help="certificate file, PEM or DER")
    p.add_argument("--at", help="validation time, ISO 8601 (default now)")
    p.set_defaults(func=with_django(cmd_verify))

    p = psub.add_parser("export", help="write CA certificates and CRLs as PEM + index.json "
                                       "+ verify-openssl.sh")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--with-certificates", action="store_true",
                   help="also write every valid end-entity certificate as certs/<serial>.pem")
    p.set_defaults(func=with_django(cmd_export))

    psub.add_parser("list", help="list CAs and certificates").set_defaults(
        func=with_django(cmd_list))
