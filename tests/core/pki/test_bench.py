"""The crypto benchmark produces its figures and ratios. No timing is asserted."""

from __future__ import annotations

import json

from gongwen.pki import bench
from tests.tools import needs_tool

MR_OUTPUT = """\
+DTP:256:sign:SM2:1
+F7:0:256:CurveSM2:3783.000000:3973.000000
+H:16384
+F:25:sm3:362645853.66
+F4:3:256:51200.000000:16174.698795
"""

HUMAN_OUTPUT = """\
                              sign    verify    sign/s verify/s
 256 bits SM2 (CurveSM2)   0.0003s   0.0003s   3778.8   3927.0
type          16384 bytes
sm3             365133.82k
                              sign    verify    sign/s verify/s
 256 bits ecdsa (nistp256)   0.0000s   0.0001s  51618.3  16656.5
"""


def test_parse_openssl_speed_machine_readable():
    figures = bench.parse_openssl_speed(MR_OUTPUT)
    assert figures == {
        "sm2_sign_per_s": 3783.0,
        "sm2_verify_per_s": 3973.0,
        "sm3_mb_per_s": 362.64585366,
        "ecdsa_p256_sign_per_s": 51200.0,
        "ecdsa_p256_verify_per_s": 16174.698795,
    }


def test_parse_openssl_speed_human_readable():
    figures = bench.parse_openssl_speed(HUMAN_OUTPUT)
    assert figures["sm2_sign_per_s"] == 3778.8
    assert figures["sm2_verify_per_s"] == 3927.0
    assert round(figures["sm3_mb_per_s"], 2) == 365.13
    assert figures["ecdsa_p256_verify_per_s"] == 16656.5


def test_run_without_openssl_reports_our_figures():
    result = bench.run(0.02, openssl=None)
    assert set(result["ours"]) == {
        "sm2_sign_per_s",
        "sm2_verify_per_s",
        "sm3_mb_per_s",
        "ecdsa_p256_sign_per_s",
        "ecdsa_p256_verify_per_s",
    }
    assert all(v > 0 for v in result["ours"].values())
    assert all(r is None for r in result["ratios"].values())
    assert "SM2 sign/s" in bench.format_report(result)


def test_main_prints_json(capsys):
    assert bench.main(["--seconds", "0.02", "--no-openssl", "--no-intl", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert "sm2_sign_per_s" in out["ours"] and "ecdsa_p256_sign_per_s" not in out["ours"]


@needs_tool("openssl")
def test_run_with_openssl_speed_gives_ratios(capsys):
    result = bench.run(0.05, include_intl=False)
    assert result["openssl"]["available"]
    for key in ("sm2_sign_per_s", "sm2_verify_per_s", "sm3_mb_per_s"):
        assert result["openssl"][key] > 0
        assert result["ratios"][key] > 0
    report = bench.format_report(result)
    assert "ratio" in report and "SM2 goal" in report
