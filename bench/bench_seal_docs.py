"""用印 and verification per document, in CPU time of this process (issue 9 performance).

The machine is shared: wall-clock figures swing with the others' load, so this bench
prints both the wall time and the CPU time of this process (``time.process_time``: our
rendering, signing, parsing and verification, not the database server's work) per step,
for N documents sealed one by one (``seal_document``) and N sealed as one stack
(``seal_documents``, one PIN entry), each then dispatched, opened (verified) and signed for.

    PYTHONPATH=. GONGWEN_DATABASE_URL=postgres://… python bench/bench_seal_docs.py --docs 20

Runs in a scratch database like ``gongwen bench exchange`` (same cast, same settings).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import statistics
import sys
import tempfile
import time
import uuid


def _clock():
    return time.perf_counter(), time.process_time()


def _since(t0):
    w, c = _clock()
    return w - t0[0], c - t0[1]


def _line(name, pairs):
    if not pairs:
        return f"{name:>9}: -"
    walls = [p[0] * 1000 for p in pairs]
    cpus = [p[1] * 1000 for p in pairs]
    return (f"{name:>9}: wall median {statistics.median(walls):6.0f} ms, "
            f"cpu median {statistics.median(cpus):6.0f} ms")


def _exchange(cast, doc, steps):
    from gongwen.exchange import services
    from gongwen.exchange.bench import PIN

    t = _clock()
    sent = services.dispatch(actor=cast.clerk, doc_id=doc.pk, key=uuid.uuid4())
    steps["dispatch"].append(_since(t))
    d = sent.deliveries.get()
    t = _clock()
    d = services.open_delivery(actor=cast.receiving_clerk, delivery_id=d.pk)
    steps["open"].append(_since(t))
    if not (d.verification or {}).get("ok", True):
        raise RuntimeError(f"verification failed: {d.verification}")
    t = _clock()
    services.sign_receipt(actor=cast.receiving_clerk, delivery_id=d.pk, pin=PIN,
                          key=uuid.uuid4())
    steps["sign"].append(_since(t))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=20)
    parser.add_argument("--profile", metavar="FILE",
                        help="cProfile (CPU time) of the one-by-one run, written to FILE")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gongwen.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from gongwen.exchange import bench

    settings.GONGWEN = {**settings.GONGWEN, "BLOB_DIR": tempfile.mkdtemp(prefix="gw-bench-")}
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    old = bench._scratch_database(connection.vendor)
    try:
        cast = bench.Cast()
        n = args.docs
        steps = {"seal": [], "dispatch": [], "open": [], "sign": []}
        profiler = cProfile.Profile(time.process_time) if args.profile else None
        for doc in [cast.approved(f"关于第{i}项工作的通知", main_units=[cast.receiver.pk])
                    for i in range(n)]:
            if profiler:
                profiler.enable()
            t = _clock()
            cast.seal(doc)
            steps["seal"].append(_since(t))
            _exchange(cast, doc, steps)
            if profiler:
                profiler.disable()
        if profiler:
            profiler.dump_stats(args.profile)
        print(f"{connection.vendor}, {n} documents sealed one by one, per document:")
        for name, pairs in steps.items():
            print("  " + _line(name, pairs))
        from gongwen.documents import sealing

        if hasattr(sealing, "seal_documents"):
            docs = [cast.approved(f"关于第{i}项批量工作的通知", main_units=[cast.receiver.pk])
                    for i in range(n)]
            t = _clock()
            items = sealing.seal_documents(actor=cast.keeper, doc_ids=[d.pk for d in docs],
                                           seal_id=cast.the_seal.pk,
                                           workstation_credential=cast.workstation,
                                           pin=bench.PIN, idempotency_key=uuid.uuid4())
            wall, cpu = _since(t)
            assert all(i.ok for i in items), [i.error_zh for i in items]
            print(f"{n} documents sealed as one stack (one PIN entry): wall {wall * 1000:.0f} ms "
                  f"({n / wall:.1f} documents/s, {wall * 1000 / n:.0f} ms each), "
                  f"cpu {cpu * 1000 / n:.0f} ms each")
    finally:
        connection.creation.destroy_test_db(old, verbosity=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
