"""Crypto benchmark: our SM2/SM3 (and INTL ECDSA) against ``openssl speed`` in the same run.

``gongwen bench crypto`` calls :func:`main`. The figure that counts is the ratio
ours/OpenSSL (goal ≥ 0.8 for SM2 sign and verify); absolute numbers depend on the machine,
so nothing here is ever asserted in a test.

What is measured, each for ``seconds``:

* SM2 sign/s and verify/s through :data:`gongwen.pki.suites.GM` (SM3, signer ID
  1234567812345678, DER) on a 20-byte message, as ``openssl speed sm2`` does;
* SM3 MB/s (10^6 bytes) over 16 KiB buffers, against ``openssl speed -evp sm3 -bytes 16384``;
* ECDSA P-256/SHA-256 sign/s and verify/s through :data:`gongwen.pki.suites.INTL`, against
  ``openssl speed ecdsap256``.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from .suites import GM, INTL, sm3

__all__ = ["main", "parse_openssl_speed", "run"]

_MESSAGE = b"gongwen-bench-20-byt"  # 20 bytes, like openssl speed's SM2/ECDSA input
_SM3_BLOCK = 16384

_FIGURES = (
    ("sm2_sign_per_s", "SM2 sign/s"),
    ("sm2_verify_per_s", "SM2 verify/s"),
    ("sm3_mb_per_s", "SM3 MB/s (16 KiB)"),
    ("ecdsa_p256_sign_per_s", "ECDSA P-256 sign/s"),
    ("ecdsa_p256_verify_per_s", "ECDSA P-256 verify/s"),
)


def _rate(fn: Callable[[], Any], seconds: float) -> float:
    """Operations per second of ``fn`` over at least ``seconds`` (one warm-up call)."""
    fn()
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    now = start
    while now < deadline:
        fn()
        count += 1
        now = time.perf_counter()
    return count / (now - start)


def _ours(seconds: float, include_intl: bool) -> dict[str, float]:
    results: dict[str, float] = {}
    key = GM.generate_key()
    pub = key.public_key()
    sig = GM.sign(key, _MESSAGE)
    GM.verify(pub, _MESSAGE, sig)
    results["sm2_sign_per_s"] = _rate(lambda: GM.sign(key, _MESSAGE), seconds)
    results["sm2_verify_per_s"] = _rate(lambda: GM.verify(pub, _MESSAGE, sig), seconds)
    block = bytes(range(256)) * (_SM3_BLOCK // 256)
    results["sm3_mb_per_s"] = _rate(lambda: sm3(block), seconds) * _SM3_BLOCK / 1e6
    if include_intl:
        ekey = INTL.generate_key("ec-p256")
        epub = ekey.public_key()
        esig = INTL.sign(ekey, _MESSAGE)
        results["ecdsa_p256_sign_per_s"] = _rate(lambda: INTL.sign(ekey, _MESSAGE), seconds)
        results["ecdsa_p256_verify_per_s"] = _rate(
            lambda: INTL.verify(epub, _MESSAGE, esig), seconds
        )
    return results


def parse_openssl_speed(output: str) -> dict[str, float]:
    """Figures from ``openssl speed -mr`` output (sm2, ``-evp sm3``, ecdsap256).

    Machine-readable lines look like ``+F7:0:256:CurveSM2:3783.0:3973.0`` (SM2 sign/s,
    verify/s), ``+F4:3:256:51200.0:16174.7`` (ECDSA) and ``+F:25:sm3:362645853.66``
    (bytes/s). The human-readable table lines are accepted too.
    """
    found: dict[str, float] = {}
    for line in output.splitlines():
        line = line.strip()
        m = re.match(r"^\+F\d+:\d+:\d+:CurveSM2:([0-9.]+):([0-9.]+)$", line)
        if m:
            found["sm2_sign_per_s"] = float(m.group(1))
            found["sm2_verify_per_s"] = float(m.group(2))
            continue
        m = re.match(r"^\+F4:\d+:256:([0-9.]+):([0-9.]+)$", line)
        if m:
            found["ecdsa_p256_sign_per_s"] = float(m.group(1))
            found["ecdsa_p256_verify_per_s"] = float(m.group(2))
            continue
        m = re.match(r"^\+F\d*:\d+:sm3:([0-9.]+)", line, re.IGNORECASE)
        if m:
            found["sm3_mb_per_s"] = float(m.group(1)) / 1e6
            continue
        # Human-readable fallbacks.
        m = re.match(r"^256 bits SM2 \(CurveSM2\)\s+\S+s\s+\S+s\s+([0-9.]+)\s+([0-9.]+)$", line)
        if m:
            found["sm2_sign_per_s"] = float(m.group(1))
            found["sm2_verify_per_s"] = float(m.group(2))
            continue
        m = re.match(r"^256 bits ecdsa \(nistp256\)\s+\S+s\s+\S+s\s+([0-9.]+)\s+([0-9.]+)$", line)
        if m:
            found["ecdsa_p256_sign_per_s"] = float(m.group(1))
            found["ecdsa_p256_verify_per_s"] = float(m.group(2))
            continue
        m = re.match(r"^sm3\s+([0-9.]+)k$", line)
        if m:  # "1000s of bytes per second" for the single -bytes size
            found["sm3_mb_per_s"] = float(m.group(1)) * 1000 / 1e6
    return found


def _openssl(seconds: float, include_intl: bool, binary: str) -> dict[str, Any]:
    path = shutil.which(binary)
    if path is None:
        return {"available": False, "error": f"{binary} not found"}
    secs = str(max(1, round(seconds)))  # openssl speed takes whole seconds
    commands = [
        [path, "speed", "-mr", "-seconds", secs, "sm2"],
        [path, "speed", "-mr", "-seconds", secs, "-bytes", str(_SM3_BLOCK), "-evp", "sm3"],
    ]
    if include_intl:
        commands.append([path, "speed", "-mr", "-seconds", secs, "ecdsap256"])
    figures: dict[str, Any] = {"available": True}
    errors = []
    for cmd in commands:
        try:
            proc = subprocess.run(
                cmd, capture_output=True, text=True, timeout=60 + 4 * float(secs), check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            errors.append(f"{' '.join(cmd[1:])}: {exc}")
            continue
        parsed = parse_openssl_speed(proc.stdout + "\n" + proc.stderr)
        if not parsed:
            errors.append(f"{' '.join(cmd[1:])}: no figures (exit {proc.returncode})")
        figures.update(parsed)
    try:
        version = subprocess.run(
            [path, "version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        version = "unknown"
    figures["version"] = version
    figures["seconds"] = float(secs)
    if errors:
        figures["errors"] = errors
    return figures


def run(
    seconds: float = 1.0, *, include_intl: bool = True, openssl: str | None = "openssl"
) -> dict[str, Any]:
    """Measure ours and (unless ``openssl`` is ``None``) OpenSSL's figures; return
    ``{"ours": {...}, "openssl": {...}, "ratios": {...}, "seconds": s, "backend": ...}``.
    Ratios are ours/OpenSSL (``None`` when OpenSSL's figure is missing)."""
    from tongsuopy.backends.tongsuo import backend

    ours = _ours(seconds, include_intl)
    theirs = _openssl(seconds, include_intl, openssl) if openssl else {"available": False}
    ratios: dict[str, float | None] = {}
    for key in ours:
        ref = theirs.get(key)
        ratios[key] = (ours[key] / ref) if isinstance(ref, float) and ref > 0 else None
    return {
        "seconds": seconds,
        "backend": backend.openssl_version_text(),
        "ours": ours,
        "openssl": theirs,
        "ratios": ratios,
    }


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:,.1f}"


def format_report(result: dict[str, Any]) -> str:
    theirs = result["openssl"]
    lines = [
        f"gongwen crypto benchmark, {result['seconds']:g} s per figure",
        f"  ours:    tongsuopy ({result['backend']}) for GM, cryptography for INTL",
        f"  openssl: {theirs.get('version', 'not available')}",
        "",
        f"{'figure':<24}{'ours':>14}{'openssl':>14}{'ratio':>9}",
    ]
    for key, label in _FIGURES:
        if key not in result["ours"]:
            continue
        ratio = result["ratios"].get(key)
        lines.append(
            f"{label:<24}{_fmt(result['ours'][key]):>14}{_fmt(theirs.get(key)):>14}"
            f"{(f'{ratio:.2f}' if ratio is not None else '-'):>9}"
        )
    sign, verify = result["ratios"].get("sm2_sign_per_s"), result["ratios"].get("sm2_verify_per_s")
    if sign is not None and verify is not None:
        ok = min(sign, verify) >= 0.8
        lines += ["", f"SM2 goal (ratio >= 0.80 for sign and verify): {'met' if ok else 'NOT met'}"]
    for err in theirs.get("errors", []):
        lines.append(f"openssl: {err}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="gongwen bench crypto", description="SM2/SM3/ECDSA speed, ours vs openssl speed"
    )
    parser.add_argument("--seconds", type=float, default=1.0, help="time per figure")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--no-openssl", action="store_true", help="skip openssl speed")
    parser.add_argument("--no-intl", action="store_true", help="skip the ECDSA figures")
    args = parser.parse_args(argv)
    if args.seconds <= 0:
        parser.error("--seconds must be positive")
    result = run(
        args.seconds,
        include_intl=not args.no_intl,
        openssl=None if args.no_openssl else "openssl",
    )
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print(format_report(result))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
