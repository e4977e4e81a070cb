"""Helpers shared by test suites: availability of external tools (openssl, softhsm2-util…).

Cross-implementation tests skip with a reason when a tool is missing; CI has them all.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

__all__ = ["gmssl_sm2", "has_tool", "needs_tool", "run_tool"]


def has_tool(name: str) -> bool:
    """True if the executable ``name`` is on PATH."""
    return shutil.which(name) is not None


def needs_tool(name: str) -> pytest.MarkDecorator:
    """Skip the test (or module, as ``pytestmark``) when ``name`` is not installed."""
    return pytest.mark.skipif(not has_tool(name), reason=f"{name} is not installed")


def run_tool(
    args: Sequence[str | Path],
    *,
    input: bytes | None = None,
    check: bool = True,
    timeout: float = 120,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run an external tool with a fixed argument list (no shell) and capture output.

    With ``check`` a non-zero exit raises ``AssertionError`` showing stdout and stderr.
    """
    proc = subprocess.run(
        [str(a) for a in args],
        input=input,
        capture_output=True,
        timeout=timeout,
        check=False,
        env=env,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, args))} exited {proc.returncode}\n"
            f"stdout: {proc.stdout.decode(errors='replace')}\n"
            f"stderr: {proc.stderr.decode(errors='replace')}"
        )
    return proc


def gmssl_sm2(public_xy_hex: str = "", private_hex: str = ""):
    """py-gmssl's ``CryptSM2`` (the independent pure-Python SM2 of the cross-checks) for the
    public key ``x || y`` in hex (128 digits, no "04"). The key is set after construction:
    the constructor strips a leading "04" with ``lstrip``, which also eats leading 0 and 4
    digits of x (py-gmssl #77), so a test that passed the key there failed for about one
    key in 256."""
    from gmssl.sm2 import CryptSM2

    crypt = CryptSM2(private_key=private_hex, public_key="")
    crypt.public_key = public_xy_hex
    return crypt
