"""Role-aware navigation: one list, filtered by the same permission layer as the views."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from gongwen.policy.permissions import Perm, can


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    perm: Perm


NAV = [
    NavItem("收文", "web:inbox", Perm.VIEW_INBOX),
    NavItem("发文", "web:outbox", Perm.VIEW_OUTBOX),
    NavItem("草稿", "web:drafts", Perm.DRAFT),
    NavItem("待核批", "web:approvals", Perm.APPROVE),
    NavItem("用印", "web:sealing", Perm.SEAL),
    NavItem("跟踪", "web:tracking", Perm.TRACK),
    NavItem("印章管理", "web:seals", Perm.VIEW_SEALS),
    NavItem("单位管理", "web:units", Perm.MANAGE_UNITS),
    NavItem("用户管理", "web:users", Perm.MANAGE_USERS),
    NavItem("收文分组", "web:groups", Perm.MANAGE_GROUPS),
    NavItem("通讯录", "web:directory", Perm.VIEW_DIRECTORY),
    NavItem("统计", "web:stats", Perm.VIEW_STATS),
    NavItem("审计", "web:audit", Perm.VIEW_AUDIT),
    NavItem("证书管理", "web:pki", Perm.MANAGE_PKI),
    NavItem("推行阶段", "web:policy", Perm.VIEW_POLICY),
]


def nav_for(user) -> list[dict]:
    if not getattr(user, "is_authenticated", False):
        return []
    return [{"label": item.label, "url": reverse(item.url_name), "name": item.url_name}
            for item in NAV if can(user, item.perm)]


def navigation(request):
    user = getattr(request, "user", None)
    current = getattr(getattr(request, "resolver_match", None), "view_name", "")
    return {"nav_items": nav_for(user), "nav_current": current,
            "unread_notifications": unread_notifications(user)}


def unread_notifications(user) -> int:
    """Badge in the header (R-FLOW-7)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    from gongwen.exchange.models import Notification

    return Notification.objects.filter(user=user, read_at__isnull=True).count()
