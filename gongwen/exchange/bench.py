"""``gongwen bench exchange`` (issue 9): the exchange benchmark against the configured
database engine.

* **dispatch**: one sealed notice dispatched to 200 recipient units (a recipient group):
  the time of ``services.dispatch`` (goal ≤ 1 s);
* **end to end**: N notices, each sealed for real (workstation credential, key disk PIN,
  PDF and OFD), dispatched, opened by the recipient's clerk (verification report: seal,
  chain, CRLs) and signed for (receipt signed with the unit-receipt key disk): documents/s,
  p95 latency per document, median per step and SQL statements per document, for the whole
  chain and for the exchange part alone (dispatch → open → sign).

Two modes, printed with every figure:

* **per-item PIN** (default): every 用印 and every 签收 is one PIN entry (one PBKDF2 key
  disk unlock each), as when a keeper seals one document and a clerk signs one item;
* **batch** (``--batch N``): the keeper seals N documents with one PIN
  (``documents.sealing.seal_documents`` where it exists, else one ``seal_document`` per
  document) and the clerk signs N items with one PIN (``exchange.services.sign_receipts``);
  dispatch and opening stay per document, as a recipient works. A document's latency is
  then the time from the start of its batch to the end of the batch's 签收.

``--workers K`` runs K processes at once, each with its own cast (units, users, key disks,
seal) and its own stream of N documents, against the same database: throughput is all
documents over the wall time. PostgreSQL only: SQLite has one writer at a time.

Drafting and approval are setup, not measured. Everything runs with the deployment's
settings (key disk PBKDF2 iterations, algorithm suite): nothing is weakened for speed.

The data goes to a scratch database made next to the configured one (Django's test
database: ``test_<name>`` on PostgreSQL, a temporary file for SQLite) and dropped at the
end, so the platform's own data is never touched; its files go to a blob store of their own,
``VAR_DIR/bench-blobs``, kept between runs (see ``scratch_blob_dir``). ``--profile FILE``
repeats the end-to-end run under cProfile (after the timed run, so its overhead stays out of
the figures), writes the profile and prints the functions with the largest cumulative time.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import hashlib
import multiprocessing
import os
import platform
import pstats
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

PIN = "73915264"
MAKER_PIN = "55117788"


def _machine_busy() -> float | None:
    """Seconds of CPU the whole machine has spent busy so far (all processes, the database
    server included), from /proc/stat; None where there is no /proc/stat."""
    try:
        with open("/proc/stat") as fh:
            fields = fh.readline().split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq = (int(x) for x in fields[:7])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def _server_busy(name: str = "postgres") -> float | None:
    """Seconds of CPU the processes called ``name`` (the PostgreSQL server: its postmaster,
    backends and helpers) have spent so far, from /proc; None where there is no /proc or no
    such process (SQLite, or a server on another machine). A backend that exits meanwhile
    stays counted: its time moves to its parent's ``cutime``."""
    total, found = 0, False
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return None
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue  # gone meanwhile
        comm, rest = stat[stat.find("(") + 1:stat.rfind(")")], stat[stat.rfind(")") + 2:]
        if comm == name:
            fields = rest.split()
            total += sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
            found = True
    return total / os.sysconf("SC_CLK_TCK") if found else None


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else values[0]


class Cast:
    """Sender (市政府办公室 with clerk, head, seal keeper, operator, an active seal and an
    enrolled workstation) and one county government whose clerk holds a receipt key disk."""

    def __init__(self, prefix: str = "", authority_cast: Cast | None = None) -> None:
        """``authority_cast``: for a ``--workers`` process, the first cast, whose 市政府办公室
        approves and makes this cast's seal (the sender is then another 办公室-like unit)."""
        from gongwen.accounts.models import Role, RoleGrant, User
        from gongwen.authority import services as authority
        from gongwen.seals import services as seals
        from gongwen.units.models import Kind, Level, Unit

        self._n = 0

        def unit(name, **kw):
            self._n += 1
            fields = {"code": f"BENCH{prefix}{self._n:05d}", "name": f"{name}{prefix}",
                      "short_name": f"基{prefix}{self._n}",
                      "level": Level.DEPARTMENT, "kind": Kind.DEPARTMENT, "networked": True}
            fields.update(kw)
            return Unit.objects.create(**fields)

        def user(u, username, *roles):
            person = User(username=f"{username}{prefix}", full_name=username, unit=u)
            person.set_unusable_password()
            person.save()
            for role in roles:
                RoleGrant.objects.create(user=person, role=role)
            return person

        self.unit = unit
        if authority_cast is None:
            self.sender = unit("连云港市人民政府办公室", short_name="连政办", level=Level.CITY,
                               kind=Kind.GOVERNMENT_OFFICE, is_platform_operator=True,
                               is_seal_authority=True)
        else:
            self.sender = unit("连云港市人民政府办公室", short_name=f"连政办{prefix}",
                               level=Level.CITY, kind=Kind.GOVERNMENT_OFFICE)
        self.receiver = unit("东海县人民政府", short_name="东政", level=Level.COUNTY,
                             kind=Kind.GOVERNMENT)
        self.clerk = user(self.sender, "bench_clerk", Role.CLERK)
        self.head = user(self.sender, "bench_head", Role.HEAD)
        self.keeper = user(self.sender, "bench_seal", Role.SEAL_KEEPER)
        self.receiving_clerk = user(self.receiver, "bench_dhx_clerk", Role.CLERK)
        authority.init_pki()  # idempotent: done once before the workers start
        if authority_cast is None:
            self.operator = user(self.sender, "bench_op", Role.OPERATOR)
            authority.issue_certificate(unit=self.sender, profile="seal-maker",
                                        holder=self.operator, pin=MAKER_PIN)
            approver = self.operator  # the head signed the form: another person approves
        else:
            self.operator = authority_cast.operator
            approver = authority_cast.head
        authority.issue_certificate(unit=self.receiver, profile="unit-receipt",
                                    holder=self.receiving_clerk, pin=PIN)
        app = seals.fill_application(actor=self.keeper, kind="make", reason="基准测试",
                                     keeper_id=self.keeper.pk)
        seals.sign_application(actor=self.head, application_id=app.pk)
        seals.approve_application(actor=approver, application_id=app.pk)
        self.the_seal = seals.execute_application(actor=self.operator, application_id=app.pk,
                                                  keeper_pin=PIN,
                                                  maker_pin=MAKER_PIN).result_seal
        self.workstation = seals.enrol_workstation(
            actor=self.operator, unit_id=self.sender.pk, name="基准用印机",
            seal_ids=[self.the_seal.pk]).credential

    def approved(self, title: str, *, main_units=(), main_groups=()):
        from gongwen.documents import services as docs

        doc = docs.create_draft(actor=self.clerk, doc_type="notice", title=title,
                                body_text="一、工作要求\n请各单位认真做好防汛工作。",
                                main_units=list(main_units), main_groups=list(main_groups))
        docs.submit(actor=self.clerk, doc_id=doc.pk)
        doc = docs.approve(actor=self.head, doc_id=doc.pk)
        # What the worker does after 核批 (documents.tasks.prerender_document), run here in
        # the unmeasured setup: the files for 用印 are rendered at approval time.
        from gongwen.documents.tasks import prerender_document

        prerender_document.call(doc.pk)
        return doc

    def seal(self, doc) -> None:
        from gongwen.documents import sealing

        sealing.seal_document(actor=self.keeper, doc_id=doc.pk, seal_id=self.the_seal.pk,
                              workstation_credential=self.workstation, pin=PIN,
                              idempotency_key=uuid.uuid4())

    def seal_many(self, docs) -> None:
        """Batch 用印 with one PIN where the sealing service offers it (issue 9, branch
        perf-seal), else one ``seal_document`` per document."""
        from gongwen.documents import sealing

        batch = getattr(sealing, "seal_documents", None)
        if batch is None:
            for doc in docs:
                self.seal(doc)
            return
        items = batch(actor=self.keeper, doc_ids=[d.pk for d in docs], seal_id=self.the_seal.pk,
                      workstation_credential=self.workstation, pin=PIN,
                      idempotency_key=uuid.uuid4())
        failed = [i for i in items if getattr(i, "error_zh", "")]
        if failed:
            raise RuntimeError(f"batch sealing failed: {failed[0].error_zh}")


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


class _Statements:
    """Counts the SQL statements sent on this process's connection (execute_wrapper)."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, execute, sql, params, many, context):
        self.n += 1
        return execute(sql, params, many, context)


STEPS = ("seal", "dispatch", "verify", "open", "sign")


class _NoMarks:
    """The step boundaries of a timed run, where nothing counts instructions."""

    def start(self) -> None:
        pass

    def mark(self, step: str) -> None:
        pass

    def stop(self) -> None:
        pass


UNLOCKS = "unlocks"


class _StepCounts(_NoMarks):
    """Under ``--instructions``: one callgrind part per step, and the key disk unlocks
    (PBKDF2) as a part of their own, ``UNLOCKS``: under valgrind OpenSSL's SHA-256 runs
    without the processor's SHA instructions, so its count says little about its time
    (1.4 G instructions an unlock, ~0.1 s of CPU)."""

    def __init__(self) -> None:
        from gongwen import instructions
        from gongwen.pki import keystore

        self._count, self._keystore = instructions, keystore
        self._decrypt = keystore.decrypt_private_key
        self._next = 0  # index in STEPS of the step under way

    def start(self) -> None:
        def counted_apart(*args, **kwargs):
            self._count.mark(STEPS[self._next])  # the step so far
            try:
                return self._decrypt(*args, **kwargs)
            finally:
                self._count.mark(UNLOCKS)

        self._keystore.decrypt_private_key = counted_apart
        self._count.start()

    def mark(self, step: str) -> None:
        self._count.mark(step)
        self._next = (STEPS.index(step) + 1) % len(STEPS)

    def stop(self) -> None:
        self._count.stop()
        self._keystore.decrypt_private_key = self._decrypt


def bench_end_to_end(cast: Cast, n: int, profile: str | None = None, batch: int = 0,
                     ready=None, setup_lock=None, warm: bool = True,
                     count: bool | None = None, freeze: bool = False) -> dict:
    """N documents sealed → dispatched → opened → signed, per item or in batches of
    ``batch``. ``--workers``: ``setup_lock`` serialises the setup (drafting and approval,
    not measured), ``ready`` is the barrier the timed part starts from.

    ``warm``: first one document through the same chain, unmeasured (a run of its own with
    ``warm=False``). A process's first document loads what a running server has loaded
    after its first request: modules imported on first use, the URL configuration (the
    first ``reverse`` imports it: ~130 ms), the per-process caches of certificates and
    compiled queries. Without it a run of 100 documents charged each ~1.5 ms that no
    document of a running server pays. ``freeze`` (the command's own runs): then what
    start-up made is frozen for the garbage collector, as the web and task workers do once
    started (``gongwen.heap``); not in a caller's process such as the tests'.

    ``count`` (default: when running under ``--instructions``): callgrind counts the
    instructions of the timed part, step by step (``gongwen.instructions``)."""
    from django.db import connection

    from gongwen import heap, instructions
    from gongwen.exchange import services
    from gongwen.exchange.models import Delivery

    with setup_lock or contextlib.nullcontext():
        docs = [cast.approved(f"关于第{i}项工作的通知", main_units=[cast.receiver.pk])
                for i in range(n)]
        if warm:
            bench_end_to_end(cast, 1, batch=batch, warm=False, count=False)
    if freeze:
        # As the web and task workers do once started (gongwen.heap).
        heap.freeze_startup_objects()
    marks = _StepCounts() if (instructions.active() if count is None else count) else _NoMarks()
    whole, exchange = [], []
    steps: dict[str, list[float]] = {k: [] for k in STEPS}
    counted = {k: 0 for k in STEPS}
    cpu_of = {k: 0.0 for k in STEPS}  # process CPU seconds per step
    clock = time.process_time
    counter = _Statements()
    profiler = cProfile.Profile() if profile else None
    if ready is not None:
        ready.wait()
    started = time.time()
    server0 = _server_busy() if connection.vendor == "postgresql" else None  # before t0: it scans /proc
    t0, cpu0, busy0 = time.perf_counter(), time.process_time(), _machine_busy()
    if profiler:
        profiler.enable()
    marks.start()
    size = batch or 1
    with connection.execute_wrapper(counter):
        for first in range(0, n, size):
            group = docs[first:first + size]
            k = len(group)
            c0, s0, p0 = counter.n, time.perf_counter(), clock()
            if batch:
                cast.seal_many(group)
            else:
                cast.seal(group[0])
            s1, c1, p1 = time.perf_counter(), counter.n, clock()
            marks.mark("seal")
            cpu_of["seal"] += p1 - p0
            counted["seal"] += c1 - c0
            steps["seal"] += [(s1 - s0) / k] * k
            delivery_ids, exch_start = [], []
            a, ca = time.perf_counter(), counter.n
            if batch:  # 批量分发: the stack at once
                items = services.dispatch_many(actor=cast.clerk, doc_ids=[d.pk for d in group],
                                               key=uuid.uuid4())
                if not all(i.ok for i in items):
                    raise RuntimeError(f"batch 分发 failed: {items}")
                sent_rows = [i.result for i in items]
            else:
                sent_rows = [services.dispatch(actor=cast.clerk, doc_id=group[0].pk,
                                               key=uuid.uuid4())]
            b, cb, pb = time.perf_counter(), counter.n, clock()
            marks.mark("dispatch")
            cpu_of["dispatch"] += pb - p1
            # What the worker does right after dispatch (verify_dispatch(es)), run here.
            services.verify_dispatches([sent.pk for sent in sent_rows])
            v, cv, pv = time.perf_counter(), counter.n, clock()
            marks.mark("verify")
            cpu_of["verify"] += pv - pb
            steps["dispatch"] += [(b - a) / k] * k
            steps["verify"] += [(v - b) / k] * k
            counted["dispatch"] += cb - ca
            counted["verify"] += cv - cb
            # The inbox lists the stack's items in one query; the clerk opens each.
            cl = counter.n
            listed = dict(Delivery.objects.filter(dispatch__in=sent_rows)
                          .values_list("dispatch_id", "pk"))
            counted["open"] += counter.n - cl
            for sent in sent_rows:
                b, cb = time.perf_counter(), counter.n
                d = services.open_delivery(actor=cast.receiving_clerk,
                                           delivery_id=listed[sent.pk])
                if not (d.verification or {}).get("ok", True):
                    raise RuntimeError(f"verification failed: {d.verification}")
                c, cc = time.perf_counter(), counter.n
                steps["open"].append(c - b)
                counted["open"] += cc - cb
                delivery_ids.append(d.pk)
                exch_start.append(a)
            s2, c2, p2 = time.perf_counter(), counter.n, clock()
            marks.mark("open")
            cpu_of["open"] += p2 - pv
            if batch:
                items = services.sign_receipts(actor=cast.receiving_clerk,
                                               delivery_ids=delivery_ids, pin=PIN,
                                               key=uuid.uuid4())
                if not all(i.ok for i in items):
                    raise RuntimeError(f"batch 签收 failed: {items}")
            else:
                services.sign_receipt(actor=cast.receiving_clerk, delivery_id=delivery_ids[0],
                                      pin=PIN, key=uuid.uuid4())
            s3 = time.perf_counter()
            cpu_of["sign"] += clock() - p2
            marks.mark("sign")
            counted["sign"] += counter.n - c2
            steps["sign"] += [(s3 - s2) / k] * k
            # What a document experiences: from the start of its batch to the batch's 签收
            # (per item: its own chain).
            whole += [s3 - s0] * k
            exchange += [s3 - a for a in exch_start]
    marks.stop()
    total, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    busy1 = _machine_busy()
    machine = busy1 - busy0 if busy0 is not None and busy1 is not None else None
    server1 = _server_busy() if server0 is not None else None
    server = server1 - server0 if server0 is not None and server1 is not None else None
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile)
    return {"n": n, "total": total, "cpu": cpu, "machine": machine, "server": server,
            "started": started, "ended": time.time(),
            "whole": whole, "exchange": exchange, "steps": steps,
            "statements": counted, "cpu_steps": cpu_of}


def _worker(authority_cast: Cast, index: int, n: int, batch: int, ready, setup_lock,
            results) -> None:
    """One process of ``--workers``: its own connection, cast and documents."""
    from django.db import connections

    connections.close_all()  # never reuse the parent's connection after the fork
    try:
        with setup_lock:
            cast = Cast(prefix=f"W{index}B{batch}", authority_cast=authority_cast)
        results.put(("ok", bench_end_to_end(cast, n, batch=batch, ready=ready, freeze=True,
                                            setup_lock=setup_lock)))
    except BaseException as exc:  # pragma: no cover - reported by the parent
        ready.abort()
        results.put(("error", f"worker {index}: {exc!r}"))
    finally:
        connections.close_all()


def run_workers(authority_cast: Cast, k: int, n: int, batch: int) -> dict:
    """K processes (fork), each N documents; throughput over the common wall time."""
    from django.db import connections

    connections.close_all()
    ctx = multiprocessing.get_context("fork")
    ready, setup_lock, results = ctx.Barrier(k), ctx.Lock(), ctx.Queue()
    procs = [ctx.Process(target=_worker,
                         args=(authority_cast, i, n, batch, ready, setup_lock, results)) for i in range(k)]
    for p in procs:
        p.start()
    out = [results.get() for _ in procs]
    for p in procs:
        p.join()
    errors = [msg for status, msg in out if status == "error"]
    if errors:
        raise RuntimeError("; ".join(errors))
    runs = [r for _, r in out]
    machines = [r["machine"] for r in runs]
    servers = [r["server"] for r in runs]
    merged = {"n": sum(r["n"] for r in runs), "cpu": sum(r["cpu"] for r in runs),
              # The workers' timed windows nearly coincide: the longest one covers them
              # (the machine's and the database server's CPU are shared by the workers).
              "machine": max(machines) if None not in machines else None,
              "server": max(servers) if None not in servers else None,
              "total": max(r["ended"] for r in runs) - min(r["started"] for r in runs),
              "whole": [x for r in runs for x in r["whole"]],
              "exchange": [x for r in runs for x in r["exchange"]],
              "steps": {k2: [x for r in runs for x in r["steps"][k2]] for k2 in STEPS},
              "statements": {k2: sum(r["statements"][k2] for r in runs) for k2 in STEPS},
              "cpu_steps": {k2: sum(r["cpu_steps"][k2] for r in runs) for k2 in STEPS}}
    return merged


def mode_label(batch: int, workers: int) -> str:
    from gongwen.documents import sealing

    if batch:
        seal = (f"one PIN per {batch} 用印 (seal_documents)"
                if getattr(sealing, "seal_documents", None)
                else "用印 still one PIN per document (seal_documents not on this branch)")
        mode = f"batch of {batch}: {seal}, one PIN per {batch} 签收 (sign_receipts)"
    else:
        mode = "per-item PIN: one PIN entry per 用印 and per 签收"
    return f"{mode}; {workers} worker process{'es' if workers > 1 else ''}"


def interpreter() -> str:
    """Which Python runs the benchmark. A PGO/LTO build (Debian's /usr/bin/python3.11) runs
    pure-Python work 10-30 % faster than a plain source build (pyenv's default), the fixed
    reference work included, so the ratio to the reference moves with the interpreter too."""
    return f"Python {platform.python_version()} ({getattr(sys, '_base_executable', sys.executable)})"


def reference_work() -> float:
    """CPU seconds of a fixed piece of work (Python bytecode and a key derivation: the two
    kinds of work the exchange does), the best of three. It is measured in the same run as
    the figures because this machine's speed changes from one minute to the next (shared
    hosts: the same work has been seen to take 50 and 78 ms); figures divided by it compare
    across runs."""
    best = float("inf")
    for _ in range(3):
        t = time.process_time()
        total = 0
        for i in range(200_000):
            total += i * i
        hashlib.pbkdf2_hmac("sha256", b"reference", b"gongwen-bench-ref", 20_000)
        best = min(best, time.process_time() - t)
    return best


def report(e: dict, label: str, workers: int = 1) -> None:
    n = e["n"]
    rate = n / e["total"]
    statements = sum(e["statements"].values())
    busy = sum(sum(e["steps"][k]) for k in ("dispatch", "verify", "open", "sign")) / workers
    print(f"[{label}]")
    print(f"  end to end, {n} documents sealed → dispatched → opened (verified) → signed: "
          f"{rate:.1f} documents/s, p95 {_p95(e['whole']) * 1000:.0f} ms per document "
          f"(goal ≥ 100/s on PostgreSQL) {'OK' if rate >= 100 else 'MISSED'}")
    print(f"  exchange part alone (dispatch → open → sign): {n / busy:.1f} documents/s, "
          f"p95 {_p95(e['exchange']) * 1000:.0f} ms per document")
    print("  per step, median / p95 ms per document: " + ", ".join(
        f"{k} {statistics.median(v) * 1000:.0f}/{_p95(v) * 1000:.0f}"
        for k, v in e["steps"].items()))
    cpu = e["cpu"] / n
    print(f"  CPU time per document in the benchmark process(es): {cpu * 1000:.0f} ms, i.e. "
          f"{1 / cpu:.1f} documents/s per core on an idle machine (the database server's CPU "
          "not included; the wall-clock figures above include waiting for a shared CPU)")
    if e.get("reference"):
        before, after = e["reference"]
        print(f"  reference work (the same each run, see reference_work): {before * 1000:.1f} ms "
              f"before, {after * 1000:.1f} ms after; CPU per document = "
              f"{cpu / ((before + after) / 2):.2f} × the reference work")
    if e.get("machine") is not None:
        per = e["machine"] / n
        cores = os.cpu_count() or 1
        print(f"  machine CPU per document (every process: the database server, the other "
              f"services and the benchmark): {per * 1000:.0f} ms, i.e. at most "
              f"{cores / per:.0f} documents/s on {cores} cores")
    if e.get("server") is not None:
        print(f"  database server CPU per document (every PostgreSQL process on this "
              f"machine): {e['server'] / n * 1000:.1f} ms")
    print("  CPU ms per document per step: " + ", ".join(
        f"{k} {v / n * 1000:.1f}" for k, v in e["cpu_steps"].items()))
    print(f"  SQL statements per document: {statements / n:.0f} (" + ", ".join(
        f"{k} {v / n:.0f}" for k, v in e["statements"].items()) + ")")


def count_instructions(docs: int, batch: int) -> int:
    """``--instructions``: the same benchmark in a child process under callgrind, counting
    the timed part only (after the setup and the warm-up document), step by step."""
    from gongwen import instructions

    if not instructions.available():
        print("--instructions needs valgrind (Debian's package valgrind: "
              "apt-get install valgrind)", file=sys.stderr)
        return 2
    argv = [sys.executable, "-m", "gongwen.cli", "bench", "exchange", "--docs", str(docs),
            "--recipients", "0", "--workers", "1", "--instructions"]
    if batch:
        argv += ["--batch", str(batch), "--only-batch"]
    print(f"gongwen bench exchange --instructions: {docs} documents "
          f"({mode_label(batch, 1)}) under valgrind's callgrind, {interpreter()}; this takes "
          "minutes",
          flush=True)
    with tempfile.TemporaryDirectory(prefix="gongwen-callgrind-") as out_dir:
        done = instructions.run(argv, out_dir)
        found = instructions.counts(out_dir)
    if done.returncode != 0 or not found:
        print(f"the run under callgrind failed (exit {done.returncode}):\n"
              + "\n".join((done.stdout + done.stderr).splitlines()[-30:]), file=sys.stderr)
        return 1
    print(instructions_report(found, docs))
    return 0


def instructions_report(found: dict[str, int], docs: int) -> str:
    """The counts per document, in millions, the steps in the chain's order."""
    steps = [k for k in STEPS if k in found]
    total = sum(found[k] for k in steps)
    return (f"  instructions per document (the benchmark process; the database server not "
            f"included): {total / docs / 1e6:.1f} M — "
            + ", ".join(f"{k} {found[k] / docs / 1e6:.1f} M" for k in steps)
            + f"\n  and the PIN unlocks (PBKDF2; counted apart, see _StepCounts): "
              f"{found.get(UNLOCKS, 0) / docs / 1e6:.1f} M per document")


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
                        help="documents sealed-dispatched-opened-signed end to end, per "
                             "worker (30)")
    parser.add_argument("--recipients", type=int, default=200,
                        help="recipients of the single dispatch (200; 0 skips it)")
    parser.add_argument("--batch", type=int, default=0, metavar="N",
                        help="also run in batches of N: 用印 and 签收 with one PIN per N "
                             "documents (default: per-item PIN only)")
    parser.add_argument("--workers", type=int, default=1, metavar="K",
                        help="K processes, each with its own documents and cast, against the "
                             "same database (PostgreSQL only; default 1)")
    parser.add_argument("--only-batch", action="store_true",
                        help="with --batch: skip the per-item run")
    parser.add_argument("--profile", metavar="FILE",
                        help="write a cProfile of the end-to-end run and print the top")
    parser.add_argument("--top", type=int, default=25, help="profile lines printed (25)")
    parser.add_argument("--instructions", action="store_true",
                        help="count the instructions per document and step under valgrind's "
                             "callgrind instead of timing (the same on any machine; one "
                             "process, the last mode only; ~50 times slower)")
    args = parser.parse_args(argv)
    if args.docs < 1 or args.batch < 0 or args.workers < 1:
        parser.error("--docs and --workers must be at least 1, --batch at least 0")
    if args.instructions and (args.workers != 1 or args.profile):
        parser.error("--instructions counts one process: no --workers, no --profile")

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gongwen.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from gongwen import instructions

    if args.instructions and not instructions.active():
        return count_instructions(args.docs, args.batch)
    vendor = connection.vendor
    if args.workers > 1 and vendor == "sqlite":
        print("--workers > 1 is not supported on SQLite: it has one writer at a time, so the "
              "processes would only take turns (and time out on the lock). Use PostgreSQL.",
              file=sys.stderr)
        return 2
    blob_dir, emptied = scratch_blob_dir(Path(settings.VAR_DIR) / "bench-blobs")
    settings.GONGWEN = {**settings.GONGWEN, "BLOB_DIR": str(blob_dir)}
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    old_name = _scratch_database(vendor)
    try:
        from gongwen.authority import services as authority

        print(f"gongwen bench exchange — {vendor}, scratch database "
              f"{connection.settings_dict['NAME']}, suite {authority._conf('SUITE') or 'GM'}, "
              f"key disk PBKDF2 iterations {authority._iterations()}, {os.cpu_count()} CPUs, "
              f"{interpreter()}")
        print("(the PDF/OFD files are rendered at 核批 by the worker's prerender task, run in the "
              "unmeasured setup; 用印 then only signs)")
        if emptied:
            print(f"(the scratch blob store {blob_dir} was emptied first: it held more than "
                  f"{BENCH_BLOBS_LIMIT >> 20} MiB. On ext4 without a journal, file creation "
                  "is slow for some minutes after a mass deletion: run again later for "
                  "representative figures)")
        authority.init_pki()
        cast = Cast()
        if args.recipients:
            d = bench_dispatch(cast, args.recipients)
            print(f"dispatch to {d['recipients']} recipients: {d['seconds'] * 1000:.0f} ms "
                  f"(goal ≤ 1000 ms) {'OK' if d['seconds'] <= 1 else 'MISSED'}")
        modes = ([] if args.only_batch and args.batch else [0]) + ([args.batch] if args.batch
                                                                   else [])
        for batch in modes:
            before = reference_work()
            if args.workers > 1:
                e = run_workers(cast, args.workers, args.docs, batch)
            else:
                e = bench_end_to_end(cast, args.docs, batch=batch, freeze=True)
            e["reference"] = (before, reference_work())
            report(e, mode_label(batch, args.workers), args.workers)
        if args.profile:
            # A second run under the profiler: its overhead stays out of the figures above.
            bench_end_to_end(cast, args.docs, args.profile, batch=modes[-1])
            print(f"\ncProfile ({mode_label(modes[-1], 1)}) written to {args.profile}; "
                  f"top {args.top} by cumulative time:")
            pstats.Stats(args.profile, stream=sys.stdout).sort_stats("cumulative") \
                .print_stats(args.top)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    return 0


#: The scratch blob store is emptied at the start of a run once it holds more than this.
BENCH_BLOBS_LIMIT = 1 << 30


def scratch_blob_dir(path: Path, limit: int = BENCH_BLOBS_LIMIT) -> tuple[Path, bool]:
    """The benchmark's blob store, ``VAR_DIR/bench-blobs``: apart from the platform's own
    store, and kept from one run to the next rather than deleted at the end of each. Deleting
    a run's thousand files slowed the next run's: ext4 without a journal (this machine's
    root file system) skips inodes freed in the last 60 to 360 seconds when it allocates
    one, so every file created in those block groups cost ~0.7 ms instead of ~0.02 ms
    (1.4 ms per document, two sealed files each) for minutes after. The platform's store
    never deletes, so a kept store is the representative one; it is content-addressed, and
    the files of earlier runs are only unreferenced. Emptied first when it holds more than
    ``limit`` bytes (returns True then)."""
    emptied = False
    if path.is_dir() and _size_of(path) > limit:
        shutil.rmtree(path, ignore_errors=True)
        emptied = True
    path.mkdir(parents=True, exist_ok=True)
    return path, emptied


def _size_of(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
    return total


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
