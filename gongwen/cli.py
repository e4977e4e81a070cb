"""The ``gongwen`` command-line tool for operators (R-UI-3).

Subcommands are small functions registered on an argparse tree; each sets up Django only
when it needs the database. Exit codes: 0 success, 1 a check failed, 2 bad input/unreadable,
141 the reader of the output went away (a closed pipe).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gongwen.settings")
    import django
    from django.apps import apps

    # Only once per process: a second django.setup() (an in-process caller such as a test
    # that already has Django) reconfigures logging onto whatever sys.stderr is at that
    # moment, e.g. a test's capture buffer that is closed by the time anything logs.
    if not apps.ready:
        django.setup()


def cmd_init(args) -> int:
    _django()
    from django.core.management import call_command

    Path(_settings().VAR_DIR).mkdir(parents=True, exist_ok=True)
    call_command("migrate", interactive=False, verbosity=1 if args.verbose else 0)
    print("database migrated:", _settings().DATABASES["default"]["NAME"])
    from gongwen.audit.services import ensure_checkpoint_key

    key_file = _settings().GONGWEN["AUDIT_KEY_FILE"]
    if ensure_checkpoint_key():
        print(f"audit checkpoint key created: {key_file} (keep a copy off this host)")
    return 0


def _settings():
    from django.conf import settings

    return settings


def cmd_demo(args) -> int:
    _django()
    from gongwen.units.demo import load_demo

    created = load_demo()
    print("demo data: created units={units} users={users} groups={groups}".format(**created)
          if any(created.values()) else "demo data already present: nothing to do")
    from gongwen.authority.demo import load_pki_demo

    pki = load_pki_demo()
    print("demo PKI: created CAs={cas} certificates={certificates}, renewed CRLs={crls}"
          .format(**pki)
          if any(pki.values()) else "demo PKI already present: nothing to do")
    from gongwen.seals.demo import load_seal_demo

    seals = load_seal_demo()
    counts = seals.counts()
    print("demo seals: issued={seals} workstations={workstations} applications={applications}"
          .format(**counts)
          if any(counts.values()) else "demo seals already present: nothing to do")
    for name in seals.skipped:
        print(f"  demo seal skipped: {name}")
    for cred in seals.credentials:
        # Shown once: the platform keeps only its SHA-256 (attachment art. 3).
        print(f"  专用计算机 {cred.workstation} ({cred.unit}, seal {cred.es_id}): "
              f"credential {cred.credential} -> {cred.path} (0600)")
    return 0


def cmd_logins(args) -> int:
    _django()
    from gongwen.units.demo import DEMO_PASSWORD, demo_logins

    print(f"演示账户（密码均为 {DEMO_PASSWORD}）：")
    for username, full_name, unit, roles in demo_logins():
        print(f"  {username:<12} {full_name:<4}  {unit}  [{roles}]")
    from gongwen.authority.demo import DEMO_PIN

    print(f"密钥盘演示口令（PIN，印章管理员与收发员的密钥盘）：{DEMO_PIN}")
    from gongwen.seals.demo import demo_extra_logins

    for username, full_name, unit, roles in demo_extra_logins():
        print(f"  {username:<12} {full_name:<4}  {unit}  [{roles}]（电子印章演示）")
    return 0


# gunicorn's longest request line (method, address with its query, protocol), in bytes: its
# maximum, twice its default. A longer one is refused by gunicorn itself before Django sees it,
# with gunicorn's English "414 Request-URI Too Long" / "Request Line is too large" (its text
# cannot be changed); the search boxes cap their text at 100 characters (views.common.SEARCH_MAX),
# so only a hand-made address gets there.
LIMIT_REQUEST_LINE = 8190


def gunicorn_command(addr: str, workers: int) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "gongwen.wsgi:application",
            "--bind", addr, "--workers", str(workers), "--threads", "4",
            "--limit-request-line", str(LIMIT_REQUEST_LINE), "--access-logfile", "-"]


def cmd_serve(args) -> int:
    _django()
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="gongwen.settings")
    worker = None
    if args.with_worker:
        worker = subprocess.Popen([sys.executable, "-m", "gongwen.cli", "worker"], env=env)
    print(f"gongwen serving on http://{args.addr}/  (Ctrl-C to stop)", flush=True)
    server = subprocess.Popen(gunicorn_command(args.addr, args.workers), env=env)

    def stop(signum, frame):
        # A service manager (systemd, docker stop, kill) sends SIGTERM to this process only:
        # passed on, gunicorn finishes the requests under way; the worker stops below.
        server.send_signal(signal.SIGTERM)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        return server.wait()
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group: gunicorn stops too
        server.wait()
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        for child in (server, worker):
            if child is not None and child.poll() is None:
                child.terminate()
                try:
                    child.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()


def cmd_worker(args) -> int:
    _django()
    from django.core.management import call_command

    from gongwen.exchange import scheduler

    # The scheduler thread enqueues the overdue reminders and renews due CRLs every N
    # minutes (GONGWEN["SCHEDULER_MINUTES"]); both are idempotent, so restarts are harmless.
    if not getattr(args, "no_scheduler", False):
        scheduler.start(minutes=getattr(args, "every", None))
    from gongwen.heap import settle_django_process

    settle_django_process()
    call_command("db_worker")
    return 0


def _trust_from(paths: list[str]) -> tuple[list[bytes], list[bytes], list[bytes]]:
    """(anchors, intermediates, CRLs) from exported PEM/DER files or directories
    (``gongwen pki export DIR``): self-signed certificates are the trust anchors."""
    from gongwen.pki import crl as pki_crl
    from gongwen.pki import x509

    anchors: list[bytes] = []
    intermediates: list[bytes] = []
    crls: list[bytes] = []
    files: list[Path] = []
    for raw in paths:
        p = Path(raw)
        files += sorted(f for f in p.iterdir() if f.is_file()) if p.is_dir() else [p]
    for f in files:
        if f.suffix not in (".pem", ".crt", ".cer", ".der", ".crl"):
            continue
        data = f.read_bytes()
        if b"X509 CRL" in data or f.suffix == ".crl" or f.name.endswith(".crl.pem"):
            crls.append(pki_crl.load_crl(data).dump())
            continue
        for cert in x509.load_certificates(data):
            der = cert.dump()
            info = x509.certificate_info(der)
            (anchors if info.subject == info.issuer else intermediates).append(der)
    return anchors, intermediates, crls


def cmd_verify_receipt(args) -> int:
    """Offline check of a 签收回执: signature, unit-receipt certificate, chain and revocation
    at signing time from the embedded certificates and CRLs plus the exported CA
    certificates (``--trust``). Without ``--trust`` the platform database's CAs are used."""
    from gongwen.exchange import receipts
    from gongwen.pki.errors import PKIError

    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        print(f"无法读取文件 / cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    try:
        if args.trust:
            anchors, intermediates, crls = _trust_from(args.trust)
        else:
            _django()
            from gongwen.authority.services import trust_material

            anchors, intermediates, crls = trust_material()
    except (OSError, PKIError) as exc:
        print(f"信任锚无法读取 / cannot read trust material: {exc}", file=sys.stderr)
        return 2
    result = receipts.verify(data, anchors, intermediates, crls)
    out = sys.stdout if result.ok else sys.stderr
    print(("[有效] " if result.ok else "[无效] ") + result.message_zh, file=out)
    for key in ("recipient_unit", "registration_number", "doc_number", "document_title",
                "document_fingerprint", "signed_at", "signed_by", "sender_unit"):
        if key in result.payload:
            print(f"  {key}: {result.payload[key]}", file=out)
    if result.signer:
        print(f"  signer: {result.signer}", file=out)
    return result.exit_code


def cmd_check(args) -> int:
    """Database, storage and fonts: what an operator checks after installing."""
    _django()
    from django.db import connection

    settings = _settings()
    ok = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        print(f"[ok] database {connection.vendor}: {settings.DATABASES['default']['NAME']}")
    except Exception as exc:  # report any driver error plainly
        print(f"[FAIL] database: {exc}")
        ok = False
    blob_dir = Path(settings.GONGWEN["BLOB_DIR"])
    try:
        blob_dir.mkdir(parents=True, exist_ok=True)
        probe = blob_dir / ".write-test"
        probe.write_bytes(b"ok")
        probe.unlink()
        print(f"[ok] storage writable: {blob_dir}")
    except OSError as exc:
        print(f"[FAIL] storage {blob_dir}: {exc}")
        ok = False
    for path in _font_candidates():
        exists = Path(path).is_file()
        print(f"[{'ok' if exists else 'FAIL'}] font {path}")
        ok = ok and exists
    from gongwen.audit.services import algorithm, key_health

    print(f"[ok] audit hash algorithm: {algorithm().upper()}")
    key_ok, text = key_health()
    print(f"[{'ok' if key_ok else 'FAIL'}] {text}")
    ok = ok and key_ok
    from gongwen.authority.services import health

    for line_ok, text in health():
        print(f"[{'ok' if line_ok else 'FAIL'}] {text}")
        ok = ok and line_ok
    if not (os.environ.get("GONGWEN_PUBLIC_URL") or os.environ.get("GONGWEN_PUBLIC_URL_FILE")):
        # Certificates carry their CRL and CA addresses for good: they must be ones that
        # recipients reach, not the development default. A warning: development runs so.
        print(f"[WARN] GONGWEN_PUBLIC_URL is not set: CRL and CA certificate addresses on "
              f"new certificates point to {settings.GONGWEN['PUBLIC_URL']}")
    return 0 if ok else 1


def _font_candidates() -> list[str]:
    return ["/usr/share/fonts/truetype/arphic/uming.ttc",
            "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"]


def cmd_stats(args) -> int:
    """``gongwen stats``: the 统计 page's figures as a table or a CSV file. As the server
    console every unit; with ``--as USER`` what that user may see (R-AUDIT-2)."""
    _django()
    from gongwen.exchange import stats
    from gongwen.policy.permissions import Perm, require
    from gongwen.units.models import Unit

    actor = cli_actor(args)
    warnings: list[str] = []
    first, last = stats.read_range(args.first or "", args.last or "", warnings)
    unit = None
    if args.unit:
        unit = Unit.objects.filter(code=args.unit).first()
        if unit is None:
            print(f"错误：单位代码“{args.unit}”不存在 / error: no unit {args.unit!r}",
                  file=sys.stderr)
            return 2
    if actor is not None:
        require(actor, Perm.VIEW_STATS)
        scope = stats.read_scope(actor, str(unit.pk) if unit else "", warnings)
    else:
        scope = stats.console_scope(unit)
    figs = stats.figures(scope.units, first, last, per_unit=scope.per_unit)
    for w in warnings:
        print(f"注意：{w}", file=sys.stderr)
    if args.csv:
        Path(args.csv).write_bytes(stats.csv_bytes(figs))
        print(f"{args.csv}: {len(figs.months)} months, {len(figs.units)} units")
        return 0
    rows = stats.csv_rows(figs)
    # The console's narrower table: these columns of the CSV, found by name.
    keys = [key for _label, key in stats.CSV_COLUMNS]
    shown = [keys.index(k) for k in (None, "sent", "received", "signed", "returned",
                                     "overdue_rate", "latency_median_h", "electronic_out",
                                     "paper_out")]
    print(f"收发文统计：{scope.label}，{figs.first:%Y-%m} 至 "
          f"{figs.last:%Y-%m}（超时：{stats.receipt_hours()} 小时）")
    for row in rows:
        print("\t".join(str(row[i]) for i in shown))
    return 0


def cmd_policy(args) -> int:
    """``gongwen policy``: the roll-out phases and which is in force (R-POLICY-1/2); with
    ``--on YYYY-MM-DD`` the one in force on that day."""
    _django()
    import datetime as dt

    from gongwen.policy import rollout

    try:
        day = dt.date.fromisoformat(args.on) if args.on else None
    except ValueError:
        print(f"错误：日期“{args.on}”格式不正确，应为 YYYY-MM-DD / error: bad date",
              file=sys.stderr)
        return 2
    rows = rollout.phase_rows(day)
    if not rows:
        print("尚未配置推行阶段：平台不限制传输范围（密级文件除外）。")
        return 0
    for r in rows:
        until = f"{r.ends_on:%Y-%m-%d}" if r.ends_on else "今后"
        mark = "＊" if r.current else "  "
        parallel = "，纸电并行" if r.phase.paper_parallel else ""
        print(f"{mark}{r.phase.name}  {r.phase.starts_on:%Y-%m-%d} 至 {until}{parallel}")
        print(f"    传输范围：{rollout.scope_description(r.phase)}")
    if not any(r.current for r in rows):
        print(f"（{rows[0].phase.starts_on:%Y-%m-%d} 之前：尚未开始公文无纸化传输）")
    return 0


def cmd_audit_verify(args) -> int:
    """Verify the chain against its signed checkpoints, then sign its head (an intact chain
    only: a broken one must not be blessed)."""
    _django()
    from gongwen.audit.models import AuditCheckpoint, AuditEntry
    from gongwen.audit.services import verify_chain

    broken = verify_chain()
    count = AuditEntry.objects.count()
    if broken is None:
        checkpoints = AuditCheckpoint.objects.count()
        print(f"audit chain OK: {count} entries, {checkpoints} signed checkpoints in the database")
        return _audit_checkpoint()
    ref = f" (row id {broken.ref})" if broken.ref is not None else ""
    print(f"audit chain BROKEN at entry #{broken.seq}{ref}: {broken.reason}", file=sys.stderr)
    return 1


def cmd_audit_checkpoint(args) -> int:
    _django()
    return _audit_checkpoint()


def _audit_checkpoint() -> int:
    from gongwen.audit.services import CheckpointKeyError, checkpoint_key, make_checkpoint

    try:
        cp = make_checkpoint()
    except CheckpointKeyError as exc:
        print(f"error: audit checkpoint key unusable: {exc}", file=sys.stderr)
        return 1
    if cp is None and checkpoint_key() is None:
        print("warning: no audit checkpoint signed: the key "
              f"{_settings().GONGWEN['AUDIT_KEY_FILE']} is missing (run `gongwen init`)",
              file=sys.stderr)
    elif cp is not None:
        print(f"audit checkpoint: entry #{cp.seq} signed at {cp.at:%Y-%m-%d %H:%M:%S} "
              f"(key {cp.key_id}), also in {_settings().GONGWEN['AUDIT_CHECKPOINT_FILE']}")
    return 0


def cmd_api_token(args) -> int:
    """``gongwen api-token create USER [--name N] | list [USER] | revoke ID``."""
    from django.core.exceptions import ValidationError

    from gongwen.accounts import services
    from gongwen.accounts.models import ApiToken, User

    actor = cli_actor(args)
    try:
        if args.token_cmd == "create":
            user = User.objects.named(args.username).first()
            if user is None:
                print(f"错误：用户“{args.username}”不存在 / error: no user {args.username!r}",
                      file=sys.stderr)
                return 2
            token = services.create_api_token(actor=actor, user_id=user.pk, name=args.name)
            print(token)
            print("（令牌只显示这一次，请妥善保存 / shown once: store it now）", file=sys.stderr)
            return 0
        if args.token_cmd == "revoke":
            row = services.revoke_api_token(actor=actor, token_id=args.token_id)
            print(f"令牌 #{row.pk}（{row.user.username} · {row.name}）已吊销 / revoked")
            return 0
    except ValidationError as exc:
        print("错误：" + "；".join(exc.messages), file=sys.stderr)
        return 2
    rows = ApiToken.objects.select_related("user").order_by("id")
    if args.username:
        rows = rows.filter(user__in=User.objects.named(args.username))
    if actor is not None:  # one's own tokens and those of the users one manages
        from django.db.models import Q

        from gongwen.policy.permissions import managed_users

        rows = rows.filter(Q(user=actor) | Q(user__in=managed_users(actor)))
    for row in rows:
        used = row.last_used_at.isoformat(timespec="seconds") if row.last_used_at else "-"
        state = "revoked" if row.revoked else "active"
        print(f"#{row.pk}\t{row.user.username}\t{row.name}\t{state}\t"
              f"created {row.created_at.isoformat(timespec='seconds')}\tlast used {used}")
    return 0


def cmd_bench(args) -> int:
    if args.what == "crypto":
        from gongwen.pki import bench

        return bench.main(args.rest) or 0
    if args.what == "seal":
        from gongwen.documents.cli import bench_seal

        return bench_seal(args.rest)
    if args.what == "render":
        from gongwen.documents.gbt9704 import bench as render_bench

        return render_bench.main(args.rest) or 0
    if args.what == "exchange":
        from gongwen.exchange import bench as exchange_bench

        return exchange_bench.main(args.rest) or 0
    print(f"unknown benchmark: {args.what}", file=sys.stderr)
    return 2


def _with_django(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        _django()
        return func(args)

    return run


class CLIUserError(SystemExit):
    pass


def cli_actor(args):
    """The user a CLI command acts as (``--as``), or None for the server console.

    With a user, services apply the same permission checks as for the web pages; the console
    (root on the server, which can read the database anyway) is audited as ``gongwen cli``."""
    username = getattr(args, "as_user", None)
    if not username:
        return None
    from gongwen.accounts.models import User

    user = User.objects.named(username).select_related("unit").filter(is_active=True).first()
    if user is None:
        print(f"错误：用户“{username}”不存在或已停用 / error: no active user {username!r}",
              file=sys.stderr)
        raise CLIUserError(2)
    return user


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gongwen", description="电子公文无纸化传输平台 operator CLI")
    parser.add_argument(
        "--as", dest="as_user", metavar="USERNAME", default=os.environ.get("GONGWEN_CLI_USER"),
        help="act as this platform user: the permission layer checks the user's roles and the "
             "audit trail names them (default $GONGWEN_CLI_USER; without it the command runs "
             "as the server console, audited as 'gongwen cli')")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("init", help="create or migrate the database")
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(func=cmd_init)
    sub.add_parser("demo", help="load the demo data (idempotent)").set_defaults(func=cmd_demo)
    sub.add_parser("logins", help="print the demo logins").set_defaults(func=cmd_logins)
    p = sub.add_parser("serve", help="serve the web application")
    p.add_argument("addr", nargs="?", default="127.0.0.1:8000")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--with-worker", action="store_true", help="also run the task worker")
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("worker", help="run the background task worker and its scheduler")
    p.add_argument("--every", type=float, default=None,
                   help="scheduler period in minutes (default GONGWEN_SCHEDULER_MINUTES)")
    p.add_argument("--no-scheduler", action="store_true", help="run the task worker only")
    p.set_defaults(func=cmd_worker)
    p = sub.add_parser("verify-receipt", help="verify a 签收回执 file offline (exit 0/1/2)")
    p.add_argument("file")
    p.add_argument("--trust", action="append", default=[],
                   help="exported CA certificates/CRLs (file or directory; repeatable)")
    p.set_defaults(func=cmd_verify_receipt)
    sub.add_parser("check", help="check database, storage and fonts").set_defaults(func=cmd_check)

    p = sub.add_parser("stats", help="statistics per month (and per unit): table or CSV")
    p.add_argument("--from", dest="first", metavar="YYYY-MM", help="first month (default: "
                   "eleven months before --to)")
    p.add_argument("--to", dest="last", metavar="YYYY-MM", help="last month (default: this one)")
    p.add_argument("--unit", metavar="CODE", help="one unit, by its code (default: every unit "
                   "the user may see)")
    p.add_argument("--csv", metavar="FILE", help="write the CSV file (UTF-8 with BOM) instead")
    p.set_defaults(func=cmd_stats)
    p = sub.add_parser("policy", help="roll-out phases (推行阶段) and the one in force")
    p.add_argument("--on", metavar="YYYY-MM-DD", help="the phase in force on this day "
                   "(default: today)")
    p.set_defaults(func=cmd_policy)
    audit = sub.add_parser("audit", help="audit trail").add_subparsers(dest="audit_cmd",
                                                                       required=True)
    audit.add_parser("verify", help="verify the hash chain and its signed checkpoints, then "
                     "sign a checkpoint of the head").set_defaults(func=cmd_audit_verify)
    audit.add_parser("checkpoint", help="sign a checkpoint of the chain head (the worker does "
                     "it every few minutes)").set_defaults(func=cmd_audit_checkpoint)

    tokens = sub.add_parser("api-token", help="REST API tokens (create, list, revoke)")
    tsub = tokens.add_subparsers(dest="token_cmd", required=True)
    p = tsub.add_parser("create", help="issue a token for USERNAME; prints it once")
    p.add_argument("username")
    p.add_argument("--name", default="OA", help="what the token is for (用途)")
    p = tsub.add_parser("list", help="list tokens (never their value)")
    p.add_argument("username", nargs="?")
    p = tsub.add_parser("revoke", help="revoke token ID at once")
    p.add_argument("token_id", type=int)
    tokens.set_defaults(func=_with_django(cmd_api_token))

    from gongwen.authority.cli import register as register_pki

    register_pki(sub, _with_django)

    from gongwen.documents.cli import register as register_documents

    register_documents(sub, _with_django)

    from gongwen.seals.cli import register as register_seal

    register_seal(sub, _with_django)

    p = sub.add_parser("bench", help="benchmarks")
    p.add_argument("what", choices=["crypto", "seal", "render", "exchange"])
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from django.core.exceptions import PermissionDenied

    try:
        code = args.func(args)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's last flush
        return code
    except PermissionDenied:
        print(f"错误：用户“{args.as_user}”无权执行此操作 / error: permission denied",
              file=sys.stderr)
        return 1
    except BrokenPipeError:
        return _closed_pipe()


def _closed_pipe() -> int:
    """The reader of our output has gone (``gongwen seal list | head``): stop quietly, as a
    Unix tool killed by SIGPIPE does (exit 141), without a traceback."""
    # What is still buffered would fail again when the interpreter flushes at exit. A
    # stdout without a file descriptor (a caller's buffer) is not flushed then: nothing to do.
    with contextlib.suppress(OSError, ValueError):  # io.UnsupportedOperation is both
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 128 + signal.SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
