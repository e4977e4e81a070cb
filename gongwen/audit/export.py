"""The audit trail as CSV for the auditor (R-AUDIT-1): UTF-8 with a BOM, so that Excel
reads the Chinese, produced row by row so that a trail of any length streams."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator

from django.utils import timezone

from . import actions
from .models import AuditEntry

COLUMNS = ["序号", "时间", "操作人", "单位", "事项", "事项代码", "对象类型", "对象编号",
           "对象", "详情", "详情（原始）", "来源地址", "哈希"]

# A cell a spreadsheet would run as a formula (CWE-1236): user-typed text such as a
# username tried at the login form ends up in the trail.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _row(entry: AuditEntry) -> list[str]:
    shown = "；".join(f"{name}：{value}" for name, value in actions.detail_items(entry.detail))
    return [_cell(v) for v in (
        entry.seq, timezone.localtime(entry.at).strftime("%Y-%m-%d %H:%M:%S"),
        entry.actor_name, entry.unit.name if entry.unit_id and entry.unit else "",
        actions.label(entry.action), entry.action, entry.target_type, entry.target_id,
        entry.target_repr, shown, json.dumps(entry.detail, ensure_ascii=False,
                                              sort_keys=True),
        entry.ip, entry.hash)]


class _Line:
    """A file-like object whose write() returns the line instead of keeping it."""

    def write(self, text: str) -> str:
        return text


def csv_lines(entries: Iterable[AuditEntry]) -> Iterator[str]:
    """The BOM and header, then one CSV line per entry, as they are read."""
    writer = csv.writer(_Line())
    yield "\ufeff" + writer.writerow(COLUMNS)
    for entry in entries:
        yield writer.writerow(_row(entry))
