"""policy.errors: the codes the API reads, and object ids from user input."""

from __future__ import annotations

import pytest

from gongwen.policy import errors


@pytest.mark.parametrize("raw, expected", [
    ("12", 12), (12, 12), (" 7 ", 7), (2**63 - 1, 2**63 - 1),
    ("0", None), (-3, None), (2**63, None), ("1e3", None), ("abc", None), (None, None),
    ("", None), (True, None), ([1], None), (float("inf"), None),
])
def test_object_id_reads_only_what_can_be_a_primary_key(raw, expected):
    assert errors.object_id(raw) == expected


def test_the_refusals_carry_their_codes():
    assert errors.conflict("该公文已撤回。").code == errors.CONFLICT
    reused = errors.key_reused()
    assert reused.code == errors.KEY_REUSED and reused.messages == ["幂等键已被使用。"]
