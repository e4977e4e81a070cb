"""Names of audited actions with their Chinese labels (shown on the auditor page)."""

LABELS = {
    "login.success": "登录成功",
    "login.failed": "登录失败",
    "login.locked": "账户锁定中拒绝登录",
    "login.lockout": "连续失败锁定账户",
    "logout": "退出登录",
    "permission.denied": "越权访问被拒绝",
    "unit.created": "新建单位",
    "unit.edited": "修改单位",
    "unit.renamed": "单位更名",
    "unit.merged": "单位合并",
    "unit.revoked": "单位撤销",
    "group.created": "新建收文分组",
    "group.edited": "修改收文分组",
    "group.deleted": "删除收文分组",
    "user.created": "新建用户",
    "user.edited": "修改用户",
    "user.roles_changed": "角色变更",
    "user.unlocked": "解除锁定",
    "user.password_reset": "重置密码",
    "user.deactivated": "停用用户",
    "api_token.created": "签发 API 令牌",
    "audit.verified": "审计链校验",
}


def label(action: str) -> str:
    return LABELS.get(action, action)
