"""工作台: the tiles of the user's navigation, each with what waits there. The counts come
from the selectors the pages use, so a tile and its page never disagree; a tile the user's
roles do not open is not shown (``nav_for``)."""

from __future__ import annotations

from collections.abc import Callable

from gongwen.documents.sealing import awaiting_seal
from gongwen.documents.selectors import approval_queue_for, drafts_for
from gongwen.exchange.models import overdue_cutoff
from gongwen.exchange.selectors import (
    inbox_counts,
    inbox_for,
    sealed_to_dispatch,
    tracking_for,
)

from .context import nav_for


def _inbox(user) -> list[tuple[str, int, bool]]:
    pending = inbox_counts(user)["pending"]
    overdue = 0
    if pending:
        overdue = inbox_for(user, "pending").filter(
            paper=False, dispatched_at__lte=overdue_cutoff()).count()
    return [("未签收{}件", pending, False), ("已超时{}件", overdue, True)]


def _tracking(user) -> list[tuple[str, int, bool]]:
    return [("超时未签收{}家", tracking_for(user, "overdue").count(), True)]


# Per tile: (message with {} for the count, count, urgent). Zero counts are not shown.
_COUNTS: dict[str, Callable[[object], list[tuple[str, int, bool]]]] = {
    "web:inbox": _inbox,
    "web:outbox": lambda u: [("待分发{}件", sealed_to_dispatch(u).count(), False)],
    "web:drafts": lambda u: [("草稿{}件", drafts_for(u).filter(created_by=u).count(), False)],
    "web:approvals": lambda u: [("{}件", approval_queue_for(u).count(), False)],
    "web:sealing": lambda u: [("待用印{}件", awaiting_seal(u).count(), False)],
    "web:tracking": _tracking,
}


def tiles_for(user) -> list[dict]:
    tiles = []
    for item in nav_for(user):
        counts = _COUNTS.get(item["name"])
        lines = [{"text": text.format(n), "urgent": urgent}
                 for text, n, urgent in (counts(user) if counts else []) if n]
        tiles.append({**item, "lines": lines,
                      "urgent": any(line["urgent"] for line in lines)})
    return tiles

