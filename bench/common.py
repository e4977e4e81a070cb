"""What the sealing benchmarks share: the test clock, a root → city CA pair with fresh CRLs,
the timing loop and the command line. Nothing here is asserted in a test."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from gongwen.documents.gbt9704.bench import measure
from gongwen.pki import crl, suites, x509

T0 = datetime(2025, 1, 1, tzinfo=UTC)
SIGNED_AT = datetime(2025, 6, 1, 9, 30, tzinfo=UTC)
AT = SIGNED_AT + timedelta(hours=1)


def ca_pair(suite_name: str) -> dict[str, Any]:
    """A root CA and a city CA under it (suite ``GM`` or ``INTL``), each with a CRL that is
    current at :data:`AT`, plus ``issue(profile, name, organization)`` for leaf certificates."""
    s = suites.get_suite(suite_name)
    rk = s.generate_key()
    root = x509.create_root_ca(key=rk, subject=x509.make_name("bench 根CA"), not_before=T0)
    ck = s.generate_key()
    city = x509.issue_certificate(
        profile="intermediate-ca",
        subject=x509.make_name("bench 市CA"),
        public_key=ck,
        issuer_key=rk,
        issuer_cert=root,
        not_before=T0,
    )
    crls = [
        crl.build_crl(
            issuer_cert=c,
            issuer_key=k,
            crl_number=1,
            this_update=AT - timedelta(days=1),
            next_update=AT + timedelta(days=6),
        )
        for c, k in ((root, rk), (city, ck))
    ]

    def issue(profile: str, name: str, organization: str | None = None) -> tuple[Any, bytes]:
        key = s.generate_key()
        subject = x509.make_name(name, organization=organization) if organization else (
            x509.make_name(name))
        cert = x509.issue_certificate(
            profile=profile,
            subject=subject,
            public_key=key,
            issuer_key=ck,
            issuer_cert=city,
            not_before=T0,
        )
        return key, cert

    return {"root": root, "city": city, "crls": crls, "issue": issue}


def rate(fn: Callable[[], Any], seconds: float) -> float:
    """Calls of ``fn`` per second over at least ``seconds`` (after one warm-up call)."""
    n, elapsed = measure(fn, seconds)
    return n / elapsed


def parse_args(
    argv: Sequence[str] | None,
    *,
    prog: str,
    description: str,
    extra: Callable[[argparse.ArgumentParser], None] | None = None,
) -> argparse.Namespace:
    """``--seconds`` (time per figure) and ``--json``, plus what ``extra`` adds."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--seconds", type=float, default=2.0, help="time per figure")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    if extra:
        extra(parser)
    args = parser.parse_args(argv)
    if args.seconds <= 0:
        parser.error("--seconds must be positive")
    return args
