"""``gongwen bench exchange`` (issue 9): the exchange benchmark against the configured
database engine.

* **dispatch**: one sealed notice dispatched to 200 recipient units (a recipient group):
  the time of ``services.dispatch`` (goal ≤ 1 s);
* **end to end**: N notices, each sealed for real (``documents.sealing.seal_document``:
  workstation credential, key disk PIN, PDF and OFD), dispatched, opened by the recipient's
  clerk (verification report: seal, chain, CRLs) and signed for (receipt signed with the
  unit-receipt key disk): documents/s and p95 latency, for the whole chain and for the
  exchange part alone (dispatch → open → sign; goal ≥ 100 documents/s on PostgreSQL).

Drafting and approval are setup, not measured. Everything runs with the deployment's
settings (key disk PBKDF2 iterations, algorithm suite): nothing is weakened for speed.

The data goes to a scratch database made next to the configured one (Django's test
database: ``test_<name>`` on PostgreSQL, a temporary file for SQLite) and dropped at the
end, so the platform's own data is never touched. ``--profile FILE`` repeats the end-to-end run
under cProfile (after the timed run, so its overhead stays out of the figures), writes the
profile and prints the functions with the largest cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

PIN = "73915264"
MAKER_PIN = "55117788"


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else values[0]


class Cast:
    """Sender (市政府办公室 with clerk, head, seal keeper, operator, an active seal and an
    enrolled workstation) and one county government whose clerk holds a receipt key disk."""

    def __init__(self) -> None:
        from gongwen.accounts.models import Role, RoleGrant, User
        from gongwen.authority import services as authority
        from gongwen.seals import services as seals
        from gongwen.units.models import Kind, Level, Unit

        self._n = 0

        def unit(name, **kw):
            self._n += 1
            fields = {"code": f"BENCH{self._n:05d}", "name": name, "short_name": f"基{self._n}",
                      "level": Level.DEPARTMENT, "kind": Kind.DEPARTMENT, "networked": True}
            fields.update(kw)
            return Unit.objects.create(**fields)

        def user(u, username, *roles):
            person = User(username=username, full_name=username, unit=u)
            person.set_unusable_password()
            person.save()
            for role in roles:
                RoleGrant.objects.create(user=person, role=role)
            return person

        self.unit = unit
        self.sender = unit("连云港市人民政府办公室", short_name="连政办", level=Level.CITY,
                           kind=Kind.GOVERNMENT_OFFICE, is_platform_operator=True,
                           is_seal_authority=True)
        self.receiver = unit("东海县人民政府", short_name="东政", level=Level.COUNTY,
                             kind=Kind.GOVERNMENT)
        self.clerk = user(self.sender, "bench_clerk", Role.CLERK)
        self.head = user(self.sender, "bench_head", Role.HEAD)
        self.keeper = user(self.sender, "bench_seal", Role.SEAL_KEEPER)
        operator = user(self.sender, "bench_op", Role.OPERATOR)
        self.receiving_clerk = user(self.receiver, "bench_dhx_clerk", Role.CLERK)
        authority.init_pki()
        authority.issue_certificate(unit=self.sender, profile="seal-maker", holder=operator,
                                    pin=MAKER_PIN)
        authority.issue_certificate(unit=self.receiver, profile="unit-receipt",
                                    holder=self.receiving_clerk, pin=PIN)
        app = seals.fill_application(actor=self.keeper, kind="make", reason="基准测试",
                                     keeper_id=self.keeper.pk)
        seals.sign_application(actor=self.head, application_id=app.pk)
        seals.approve_application(actor=self.head, application_id=app.pk)
        self.the_seal = seals.execute_application(actor=operator, application_id=app.pk,
                                              keeper_pin=PIN, maker_pin=MAKER_PIN).result_seal
        self.workstation = seals.enrol_workstation(
            actor=operator, unit_id=self.sender.pk, name="基准用印机",
            seal_ids=[self.the_seal.pk]).credential

    def approved(self, title: str, *, main_units=(), main_groups=()):
        from gongwen.documents import services as docs

        doc = docs.create_draft(actor=self.clerk, doc_type="notice", title=title,
                                body_text="一、工作要求\n请各单位认真做好防汛工作。",
                                main_units=list(main_units), main_groups=list(main_groups))
        docs.submit(actor=self.clerk, doc_id=doc.pk)
        return docs.approve(actor=self.head, doc_id=doc.pk)

    def seal(self, doc) -> None:
        from gongwen.documents import sealing

        sealing.seal_document(actor=self.keeper, doc_id=doc.pk, seal_id=self.the_seal.pk,
                              workstation_credential=self.workstation, pin=PIN,
                              idempotency_key=uuid.uuid4())


def bench_dispatch(cast: Cast, recipients: int) -> dict:
    from gongwen.exchange import services
    from gongwen.units.models import RecipientGroup

    group = RecipientGroup.objects.create(name=f"基准{recipients}个单位")
    group.members.set([cast.unit(f"基准单位{i}") for i in range(recipients)])
    doc = cast.approved("关于做好防汛工作的通知", main_groups=[group.pk])
    cast.seal(doc)
    t0 = time.perf_counter()
    sent = services.dispatch(actor=cast.clerk, doc_id=doc.pk, key=uuid.uuid4())
    took = time.perf_counter() - t0
    return {"recipients": sent.deliveries.count(), "seconds": took}


def bench_end_to_end(cast: Cast, n: int, profile: str | None) -> dict:
    from gongwen.exchange import services

    docs = [cast.approved(f"关于第{i}项工作的通知", main_units=[cast.receiver.pk])
            for i in range(n)]
    whole, exchange, steps = [], [], {"seal": [], "dispatch": [], "open": [], "sign": []}
    profiler = cProfile.Profile() if profile else None
    t0 = time.perf_counter()
    if profiler:
        profiler.enable()
    for doc in docs:
        s0 = time.perf_counter()
        cast.seal(doc)
        s1 = time.perf_counter()
        sent = services.dispatch(actor=cast.clerk, doc_id=doc.pk, key=uuid.uuid4())
        s2 = time.perf_counter()
        d = sent.deliveries.get()
        d = services.open_delivery(actor=cast.receiving_clerk, delivery_id=d.pk)
        if not (d.verification or {}).get("ok", True):
            raise RuntimeError(f"verification failed: {d.verification}")
        s3 = time.perf_counter()
        services.sign_receipt(actor=cast.receiving_clerk, delivery_id=d.pk, pin=PIN,
                              key=uuid.uuid4())
        s4 = time.perf_counter()
        whole.append(s4 - s0)
        exchange.append(s4 - s1)
        for name, a, b in (("seal", s0, s1), ("dispatch", s1, s2), ("open", s2, s3),
                           ("sign", s3, s4)):
            steps[name].append(b - a)
    total = time.perf_counter() - t0
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile)
    return {"n": n, "total": total, "whole": whole, "exchange": exchange, "steps": steps}


def _scratch_database(vendor_name: str):
    """A throwaway database next to the configured one (Django's test database)."""
    from django.conf import settings
    from django.db import connection

    db = settings.DATABASES["default"]
    if connection.vendor == "sqlite":
        path = Path(tempfile.mkdtemp(prefix="gongwen-bench-")) / "bench.sqlite3"
        db.setdefault("TEST", {})["NAME"] = str(path)
    else:
        db.setdefault("TEST", {}).setdefault("NAME", f"{db['NAME']}_bench")
    old = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    return old


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gongwen bench exchange", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=int(os.environ.get("BENCH_DOCS", "30")),
                        help="documents sealed-dispatched-opened-signed end to end (30)")
    parser.add_argument("--recipients", type=int, default=200,
                        help="recipients of the single dispatch (200)")
    parser.add_argument("--profile", metavar="FILE",
                        help="write a cProfile of the end-to-end run and print the top")
    parser.add_argument("--top", type=int, default=25, help="profile lines printed (25)")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gongwen.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    blob_dir = tempfile.mkdtemp(prefix="gongwen-bench-blobs-")
    settings.GONGWEN = {**settings.GONGWEN, "BLOB_DIR": blob_dir}
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    vendor = connection.vendor
    old_name = _scratch_database(vendor)
    try:
        from gongwen.authority import services as authority

        print(f"gongwen bench exchange — {vendor}, scratch database "
              f"{connection.settings_dict['NAME']}, suite {authority._conf('SUITE') or 'GM'}, "
              f"key disk PBKDF2 iterations {authority._iterations()}")
        cast = Cast()
        d = bench_dispatch(cast, args.recipients)
        print(f"dispatch to {d['recipients']} recipients: {d['seconds'] * 1000:.0f} ms "
              f"(goal ≤ 1000 ms) {'OK' if d['seconds'] <= 1 else 'MISSED'}")
        e = bench_end_to_end(cast, args.docs, None)
        n = e["n"]
        print(f"end to end, {n} documents sealed → dispatched → opened (verified) → signed: "
              f"{n / e['total']:.1f} documents/s, p95 {_p95(e['whole']) * 1000:.0f} ms")
        ex_total = sum(e["exchange"])
        print(f"exchange part (dispatch → open → sign): {n / ex_total:.1f} documents/s, "
              f"p95 {_p95(e['exchange']) * 1000:.0f} ms (goal ≥ 100/s on PostgreSQL) "
              f"{'OK' if n / ex_total >= 100 else 'MISSED'}")
        print("per step, median / p95 ms: " + ", ".join(
            f"{k} {statistics.median(v) * 1000:.0f}/{_p95(v) * 1000:.0f}"
            for k, v in e["steps"].items()))
        if args.profile:
            # A second run under the profiler: its overhead stays out of the figures above.
            bench_end_to_end(cast, args.docs, args.profile)
            print(f"\ncProfile written to {args.profile}; top {args.top} by cumulative time:")
            pstats.Stats(args.profile, stream=sys.stdout).sort_stats("cumulative") \
                .print_stats(args.top)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
