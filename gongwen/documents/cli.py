"""``gongwen doc render|seal`` and ``gongwen verify`` (R-UI-3; issue 8 item 6).

``gongwen doc seal`` runs on the seal keeper's enrolled workstation (a file, or with
``--doc ID …`` approved platform documents, sealed with one PIN entry): the workstation
credential comes from the configuration — ``GONGWEN_WORKSTATION_CREDENTIAL`` or the file
named by ``GONGWEN_WORKSTATION_CREDENTIAL_FILE`` (the file the operator installed at
enrolment) — never from the command line, so it does not land in shell history. The seal
is opened through ``seals.services.authorize_seal_use`` as on the web page (keeper,
workstation bound to the seal, key disk PIN counted), and the use is written to the seal
register and the audit trail.

Exit codes of ``gongwen verify``: 0 valid, 1 invalid, 2 unreadable (not a PDF/OFD or
broken beyond judging).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def workstation_credential() -> str:
    value = os.environ.get("GONGWEN_WORKSTATION_CREDENTIAL", "").strip()
    if value:
        return value
    path = os.environ.get("GONGWEN_WORKSTATION_CREDENTIAL_FILE", "").strip()
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            print(f"cannot read the workstation credential file {path}: {exc}", file=sys.stderr)
    return ""


SEED_SPEC = Path(__file__).resolve().parent / "examples" / "lyg-2006-107.json"


def _seed_document():
    """The seed notice 连政办发〔2006〕107号, shipped as a document spec in the package."""
    from gongwen.documents.spec import load_spec

    return load_spec(SEED_SPEC.read_bytes(), source=SEED_SPEC.name)


def cmd_render(args) -> int:
    from gongwen.documents import rendering
    from gongwen.documents.models import OfficialDocument

    if args.id is not None and not str(args.id).isdigit():
        return cmd_render_spec(args)
    if args.pdf or args.ofd or not args.out:
        print("--pdf/--ofd go with a SPEC.json; an ID or --seed takes --format and --out",
              file=sys.stderr)
        return 2
    if args.seed:
        core_doc = _seed_document()
        from gongwen.documents.gbt9704.layout import layout_document
        from gongwen.documents.gbt9704.ofd import render_ofd
        from gongwen.documents.gbt9704.pdf import render_pdf

        lay = layout_document(core_doc, rendering.font_set())
        data = render_pdf(lay) if args.format == "pdf" else render_ofd(lay)
    else:
        if args.id is None:
            print("give a document ID or --seed", file=sys.stderr)
            return 2
        doc = OfficialDocument.objects.filter(pk=int(args.id)).first()
        if doc is None:
            print(f"no document {args.id}", file=sys.stderr)
            return 2
        try:
            data, _ = rendering.rendition(doc, args.format)
        except rendering.RenderError as exc:
            print(f"cannot render: {exc.message_zh}", file=sys.stderr)
            return 1
    Path(args.out).write_bytes(data)
    print(f"{args.format.upper()} written: {args.out} ({len(data)} bytes)")
    return 0


def cmd_render_spec(args) -> int:
    """``gongwen doc render SPEC.json --pdf OUT.pdf --ofd OUT.ofd`` (gongwen/documents/spec.py)."""
    from gongwen.documents import rendering
    from gongwen.documents.spec import render_spec_files

    try:
        fonts = rendering.font_set()  # the official fonts when configured in settings
    except rendering.RenderError as exc:
        print(f"无法排版：{exc.message_zh}", file=sys.stderr)
        return 1
    return render_spec_files(args.id, pdf=args.pdf, ofd=args.ofd, out=args.out,
                             fmt=args.format, fonts=fonts)


def _stored_box(data: bytes, signatures: int):
    import hashlib

    from gongwen.documents import rendering
    from gongwen.documents.models import Rendition

    for name in ("sm3", "sha256"):
        if name not in hashlib.algorithms_available:
            continue
        digest = f"{name}:{hashlib.new(name, data).hexdigest()}"
        row = Rendition.objects.filter(blob=digest).select_related("document").first()
        if row is not None:
            lay = rendering.layout(row.document)
            if signatures < len(lay.seals):
                return lay.seals[signatures]
    return None


def _signature_count(data: bytes, fmt: str) -> int:
    from gongwen.documents.verification import file_format_of

    if file_format_of(data) == "ofd":
        from gongwen.sealing.ofd_verify import check_ofd

        return len(check_ofd(data).signatures)
    from gongwen.sealing.pdf_verify import check_pdf

    return len(check_pdf(data).signatures)


def _seed_box(data: bytes, fmt: str):
    core_doc = _seed_document()
    if core_doc is None:
        return None
    from gongwen.documents import rendering
    from gongwen.documents.gbt9704.layout import layout_document

    lay = layout_document(core_doc, rendering.font_set())
    return lay.seals[0] if lay.seals else None


def cmd_seal_documents(args, seal, user) -> int:
    """``gongwen doc seal --doc ID [ID …]``: 批量用印 of platform documents with one PIN
    entry (``documents.sealing.seal_documents``); one line per document. Exit 0 when every
    document is sealed (or was already), 1 when one was refused."""
    import uuid

    from django.core.exceptions import PermissionDenied

    from gongwen.documents.sealing import message_zh, seal_documents

    try:
        items = seal_documents(actor=user, doc_ids=args.doc, seal_id=seal.pk,
                               workstation_credential=workstation_credential(), pin=args.pin,
                               idempotency_key=args.key or uuid.uuid4())
    except PermissionDenied as exc:  # the seal itself refused (PIN, keeper, workstation…)
        print(f"未用印：{message_zh(exc)}", file=sys.stderr)
        return 1
    for item in items:
        if item.result is None:
            print(f"公文 {item.doc_id}：未用印：{item.error_zh}", file=sys.stderr)
            continue
        doc = item.result.document
        state = ("此前已用印" if item.result.already else
                 "用印完成" if item.result.complete else
                 f"已加盖第 {item.result.seals_applied} 枚印章，等待其他发文机关用印")
        print(f"公文 {item.doc_id} {doc.doc_number or ''} {doc.title}：{state}")
    return 0 if all(i.result is not None for i in items) else 1


def cmd_seal(args) -> int:
    from django.core.exceptions import PermissionDenied

    from gongwen.accounts.models import User
    from gongwen.documents.sealing import seal_files
    from gongwen.documents.verification import file_format_of
    from gongwen.pki.errors import PKIError
    from gongwen.seals.models import Seal
    from gongwen.seals.services import authorize_seal_use

    if bool(args.doc) == bool(args.input) or (args.input and not args.out):
        print("give either a file (INPUT --out OUT) or --doc ID [ID ...]", file=sys.stderr)
        return 2
    seal = (Seal.objects.filter(es_id=args.seal).first()
            or (Seal.objects.filter(pk=int(args.seal)).first() if args.seal.isdigit() else None))
    if seal is None:
        print(f"no seal {args.seal}", file=sys.stderr)
        return 2
    user = (User.objects.named(args.user).first() if args.user else seal.keeper)
    if user is None:
        print(f"no user {args.user}", file=sys.stderr)
        return 2
    if args.doc:
        return cmd_seal_documents(args, seal, user)
    try:
        data = Path(args.input).read_bytes()
    except OSError as exc:
        print(f"cannot read {args.input}: {exc}", file=sys.stderr)
        return 2
    fmt = file_format_of(data)
    if not fmt:
        print("not a PDF or OFD file", file=sys.stderr)
        return 2
    existing = _signature_count(data, fmt)
    try:
        if args.box:
            parts = [float(v) for v in args.box.split(",")]
            box = (int(parts[0]) - 1, *parts[1:])
        else:
            box = _stored_box(data, existing) or (_seed_box(data, fmt) if existing == 0
                                                  else None)
    except (ValueError, IndexError):
        print("--box needs page,x,y,w,h (page from 1, mm from the top-left)", file=sys.stderr)
        return 2
    if box is None:
        print("unknown seal position: give --box page,x,y,w,h", file=sys.stderr)
        return 2
    try:
        sealer = authorize_seal_use(user=user, seal=seal,
                                    workstation_credential=workstation_credential(),
                                    pin=args.pin, document_ref=f"CLI {Path(args.input).name}")
    except PermissionDenied as exc:
        print(f"用印被拒绝：{getattr(exc, 'message_zh', exc)}", file=sys.stderr)
        return 1
    from django.utils import timezone

    try:
        sealed = seal_files(sealer, pdf=data if fmt == "pdf" else None,
                            ofd=data if fmt == "ofd" else None, box=box,
                            seal_image_png=bytes(seal.image_png),
                            signing_time=timezone.now(), name=seal.name)
    except PKIError as exc:
        print(f"cannot seal: {exc.message_zh}", file=sys.stderr)
        return 1
    out = sealed.pdf if fmt == "pdf" else sealed.ofd
    Path(args.out).write_bytes(out)
    print(f"sealed with {seal.name} ({seal.es_id}): {args.out}")
    return 0


def cmd_verify(args) -> int:
    """The verification report of a sealed PDF/OFD, then its carried files (R-FLOW-5): each
    file's SM3, whether the seal covers it byte for byte, and its own seals' check (原件印章核验).
    A carried file the seal does not cover makes the file invalid (exit 1)."""
    from gongwen.documents.verification import carried_of, verify_carried, verify_file

    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        print(f"cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    report = verify_file(data)
    carried = [] if report.unreadable else verify_carried(data)
    if args.json:
        out = report.to_json()
        out["carried"] = [c.as_dict() for c in carried]
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        print(report.text_zh())
        if carried:
            print(f"随文文件（{len(carried)} 个）：")
        for c in carried:
            mark = "✓" if c.integrity_ok else "✗"
            print(f"  {mark} {c.index + 1}. {c.role_zh}“{c.name}”  {c.size} 字节  "
                  f"SM3 {c.sm3}\n      {c.covered_reason_zh}")
            if c.original:
                print(f"      {c.original['summary_zh']}")
    if args.extract and carried:
        folder = Path(args.extract)
        folder.mkdir(parents=True, exist_ok=True)
        for n, f in enumerate(carried_of(data)):
            # The stored name is the sender's: keep only its last part (no path escapes).
            name = Path(f.name.replace("\\", "/")).name or f"carried-{n + 1}"
            target = folder / f"{n + 1}-{name}"
            target.write_bytes(f.data)
            print(f"extracted {target}")
    if report.unreadable:
        return 2
    return 0 if report.valid and all(c.integrity_ok for c in carried) else 1


def register(sub, with_django) -> None:
    doc = sub.add_parser("doc", help="documents: render, seal").add_subparsers(
        dest="doc_cmd", required=True)
    p = doc.add_parser("render", help="render a document, a SPEC.json (docs/documents.md) "
                                      "or the seed notice as PDF/OFD")
    p.add_argument("id", nargs="?", metavar="ID|SPEC.json")
    p.add_argument("--seed", action="store_true", help="the seed notice 连政办发〔2006〕107号")
    p.add_argument("--format", choices=["pdf", "ofd"], default="pdf")
    p.add_argument("--out")
    p.add_argument("--pdf", metavar="OUT.pdf", help="with SPEC.json: write the PDF here")
    p.add_argument("--ofd", metavar="OUT.ofd", help="with SPEC.json: write the OFD here")
    p.set_defaults(func=with_django(cmd_render))
    p = doc.add_parser("seal", help="seal a PDF/OFD, or platform documents (--doc ID ...), "
                                    "on this enrolled workstation")
    p.add_argument("input", nargs="?", help="the PDF/OFD file to seal (or use --doc)")
    p.add_argument("--doc", type=int, nargs="+", action="extend", metavar="ID",
                   help="批量用印: approved platform documents, sealed with one PIN entry")
    p.add_argument("--key", help="with --doc: idempotency key of the batch (a UUID; a retry "
                                 "with the same key returns the stored results)")
    p.add_argument("--seal", required=True, help="seal esID or register id")
    p.add_argument("--pin", required=True, help="key disk PIN")
    p.add_argument("--out", help="with INPUT: the sealed file")
    p.add_argument("--user", help="the seal keeper (default: the seal's keeper)")
    p.add_argument("--box", help="page,x,y,w,h in mm (default: the GB/T 9704 seal box)")
    p.set_defaults(func=with_django(cmd_seal))
    p = sub.add_parser("verify", help="verify a sealed PDF/OFD (exit 0 valid, 1 invalid, "
                                      "2 unreadable)")
    p.add_argument("file")
    p.add_argument("--json", action="store_true")
    p.add_argument("--extract", metavar="DIR", help="also write the files it carries "
                                                   "(转发 originals, uploads) to DIR")
    p.set_defaults(func=with_django(cmd_verify))


def bench_seal(rest: list[str]) -> int:
    """``gongwen bench seal``: bench/bench_seal_pdf.py and bench/bench_seal_ofd.py mains."""
    import importlib.util

    root = Path(__file__).resolve().parents[2] / "bench"
    rc = 0
    for name in ("bench_seal_pdf", "bench_seal_ofd"):
        path = root / f"{name}.py"
        if not path.is_file():
            print(f"{path} not found", file=sys.stderr)
            rc = rc or 2
            continue
        if str(root.parent) not in sys.path:
            sys.path.insert(0, str(root.parent))
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        rc = rc or (module.main(rest) or 0)
    return rc
