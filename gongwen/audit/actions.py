"""Names of audited actions with their Chinese labels (shown on the auditor page)."""

from __future__ import annotations

import functools
from collections.abc import Mapping

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
    "api_token.revoked": "吊销 API 令牌",
    "audit.verified": "审计链校验",
    "audit.exported": "导出审计记录",
    "demo.loaded": "载入演示数据",
    # 用印 (documents app, sealing.py)
    "document.sealed": "公文用印",
    "document.seal_refused": "拒绝用印",
    # 密码与证书 (authority app): CAs, certificates, CRLs, key disks
    "pki.initialised": "初始化证书体系",
    "pki.cert.issued": "签发证书",
    "pki.cert.revoked": "吊销证书",
    "pki.crl.published": "发布证书吊销列表",
    "keydisk.created": "制作密钥盘",
    "keydisk.destroyed": "销毁密钥盘",
    "keydisk.pin_ok": "密钥盘口令验证通过",
    "keydisk.pin_wrong": "密钥盘口令错误",
    "keydisk.pin_malformed": "密钥盘口令格式不正确",
    "keydisk.pin_refused": "密钥盘拒绝使用（已锁定或已吊销）",
    "keydisk.locked": "密钥盘锁定（口令连续错误）",
    "keydisk.unlocked": "解锁密钥盘",
    "keydisk.pin_changed": "持有人修改密钥盘口令",
    "keydisk.damaged": "密钥盘数据损坏",
    # 电子印章 (seals app)
    "seal.application.filled": "填写电子印章申请表",
    "seal.application.signed": "单位负责人签字（印章申请）",
    "seal.application.approved": "市政府办公室批准印章申请",
    "seal.application.rejected": "退回印章申请",
    "seal.application.executed": "办理印章申请",
    "seal.issued": "制发电子印章",
    "seal.revoked": "注销电子印章",
    "seal.lost": "挂失注销电子印章",
    "seal.destroyed": "销毁电子印章",
    "seal.returned": "交回电子印章",
    "seal.used": "使用电子印章",
    "seal.use_refused": "拒绝使用电子印章",
    "seal.workstation.enrolled": "登记专用计算机",
    "seal.workstation.bound": "专用计算机绑定印章",
    "seal.workstation.retired": "停用专用计算机",
    "seal.self_system.approved": "批准自建电子印章系统",
}

# Chinese names of the common keys of an entry's detail (the values are shown as stored).
DETAIL_KEYS = {
    "path": "路径",
    "perm": "权限",
    "why": "原因",
    "reason": "理由",
    "name": "名称",
    "code": "代码",
    "serial": "证书序列号",
    "es_id": "印章编码",
    "filename": "文件名",
    "format": "格式",
    "size": "大小",
    "digest": "摘要",
    "fingerprint": "指纹",
    "delivery": "送达",
    "dispatch": "分发",
    "deliveries": "送达数",
    "document": "公文",
    "document_id": "公文编号",
    "doc_number": "发文字号",
    "doc_type": "文种",
    "title": "标题",
    "revision": "版本",
    "attachment": "附件",
    "ok": "结果",
    "failures": "失败次数",
    "failures_before": "解锁前失败次数",
    "before": "修改前",
    "after": "修改后",
    "changes": "修改",
    "fields": "字段",
    "old_name": "原名称",
    "new_name": "新名称",
    "old": "原值",
    "new": "新值",
    "into": "并入单位",
    "into_id": "并入单位编号",
    "successor_id": "承继单位编号",
    "unit_id": "单位编号",
    "members": "成员",
    "note": "说明",
    "to": "至",
    "from": "自",
    "stage": "环节",
    "ca": "证书机构",
    "holder": "持有人",
    "profile": "证书类型",
    "subject": "主体",
    "certificate": "证书",
    "kind": "类别",
    "seal": "印章",
    "seals": "印章",
    "keeper": "印章管理员",
    "application": "申请表",
    "workstation": "专用计算机",
    "authority": "制发单位",
    "reference": "批准文号",
    "username": "用户名",
    "token_id": "令牌编号",
    "roles": "角色",
    "added": "增加",
    "removed": "移除",
    "seq": "序号",
    "phase": "推行阶段",
    "limit": "上限",
    "copies": "份数",
    "copy": "份号",
    "pages": "页数",
    "original": "原件",
    "original_number": "原件字号",
    "registration_number": "收文登记号",
    "receipt_digest": "回执摘要",
    "recipients": "收文单位",
    "sender": "发文单位",
    "received_on": "收到日期",
    "sent_on": "发出日期",
    "outcome": "结果",
    "number": "编号",
    "suite": "密码算法",
    "created": "新建",
    "process": "业务",
    "key_destroyed": "密钥已销毁",
    "signing_time": "签章时间",
    "complete": "用印完成",
    "seal_unit": "用印单位",
    "of": "共",
    "page": "页面",
    "minutes": "分钟",
    "contact": "联系人",
    "how": "方式",
    "idempotency_key": "幂等键",
    "already_signed": "已签收数",
    "asking_unit": "请示单位",
    "auto": "自动发起原因",
    "closed_by": "关闭原因",
    "corrects": "更正的分发",
    "corrects_number": "更正的发文字号",
    "corrects_state": "更正时状态",
    "diameter_mm": "直径（毫米）",
    "document_state": "公文状态",
    "emblem": "中心图案",
    "exception": "例外情况",
    "is_request": "请示件",
    "issuer": "签发人",
    "iterations": "口令迭代次数",
    "next_update": "下次更新",
    "ofd": "OFD 摘要",
    "pdf": "PDF 摘要",
    "paper": "纸质送达数",
    "revoked": "吊销数",
    "was": "原登记结果",
    "withdrawn": "撤回数",
    "filters": "筛选条件",
    "actor": "操作人",
    "unit": "单位",
    "action": "事项",
    "date_from": "起始日期",
    "date_to": "截止日期",
}

# 权限 as the trail names them (``permission.denied``'s ``perm``): the page or action the
# permission opens, in the words of the menus and of the seal rules.
PERM_LABELS = {
    "view_inbox": "收文",
    "view_outbox": "发文",
    "draft": "草稿",
    "approve": "核批",
    "seal": "用印",
    "track": "跟踪",
    "view_seals": "印章管理",
    "view_directory": "通讯录",
    "view_unit": "单位详情",
    "manage_units": "单位管理",
    "manage_users": "用户管理",
    "manage_groups": "收文分组",
    "view_stats": "统计",
    "view_audit": "审计",
    "use_api": "使用 API",
    "manage_pki": "证书管理",
    "view_policy": "查看推行阶段",
    "manage_policy": "管理推行阶段",
    "view_document": "查看公文",
    "apply_seal": "填写电子印章申请表",
    "sign_seal_application": "单位负责人签字（印章申请）",
    "approve_seal_application": "市政府办公室审批印章申请",
    "execute_seal_application": "办理印章申请（制发、注销）",
    "manage_workstations": "专用计算机登记",
    "dispatch": "分发",
    "receive": "签收或退回",
    "view_delivery": "查看送达",
    "print": "打印",
    "open_key_disk": "使用密钥盘",
}

# Why a permission or a key disk was refused (``why``).
_WHY = {"role": "角色无此权限", "scope": "超出管理范围", "holder": "非密钥盘持有人",
        "locked": "密钥盘已锁定", "revoked": "密钥盘已吊销"}
# The unit events that open or close seal applications (art. 9).
_UNIT_EVENTS = {"merged": "单位合并", "renamed": "单位更名", "revoked": "单位撤销"}
# Where the classification guard or the roll-out scope refused (``stage``).
_STAGES = {"create": "新建", "update": "修改", "upload": "上传", "submit": "送核批",
           "approve": "核批", "dispatch": "分发"}
_EMBLEMS = {"national_emblem": "国徽", "star": "五角星"}  # seals.ses.image.Emblem
_SUITES = {"GM": "国密算法（SM2/SM3/SM4）", "INTL": "国际算法（ECDSA/RSA）"}
_BOOLEANS = {True: "是", False: "否"}


@functools.cache
def _value_labels() -> dict[str, Mapping[str, str]]:
    """Detail key → {stored code: Chinese label}, from the models' choices where they exist.
    Imported here, not at the top: the audit app sits below the apps it labels."""
    from gongwen.accounts.models import Role
    from gongwen.authority.models import Profile
    from gongwen.authority.services import CA_SPECS
    from gongwen.documents.models import DocType, FileFormat, State
    from gongwen.exchange.models import FollowUp, PaperArrival
    from gongwen.pki.crl import REASONS
    from gongwen.seals.models import ApplicationKind

    cas = {spec.slug: spec.name for spec in CA_SPECS}
    roles = dict(Role.choices)
    states = dict(State.choices)
    outcomes = dict(PaperArrival.Outcome.choices)
    return {
        "perm": PERM_LABELS, "why": _WHY, "kind": dict(ApplicationKind.choices),
        "reason": REASONS, "profile": dict(Profile.choices), "ca": cas, "created": cas,
        "emblem": _EMBLEMS, "roles": roles, "added": roles, "removed": roles,
        "process": LABELS, "format": dict(FileFormat.choices),
        "doc_type": dict(DocType.choices), "corrects_state": states, "document_state": states,
        "auto": _UNIT_EVENTS, "closed_by": {f"unit.{k}": v for k, v in _UNIT_EVENTS.items()},
        "was": outcomes, "outcome": outcomes, "how": dict(FollowUp.How.choices),
        "stage": _STAGES, "suite": _SUITES,
    }


def label(action: str) -> str:
    return LABELS.get(action, action)


def codes_labelled(text: str) -> list[str]:
    """The action codes whose Chinese label contains ``text`` (the auditor's 事项 filter)."""
    return [code for code, name in LABELS.items() if text and text in name]


def detail_items(detail) -> list[tuple[str, object]]:
    """An entry's detail as (Chinese key name, value) pairs, in the stored order. Known codes
    are shown by their Chinese label (``reissue_lost`` → 遗失补发), booleans as 是/否, lists
    joined with 、; a key without a Chinese name, or a value that is not a known code of its
    key (free text), is shown as stored."""
    if not isinstance(detail, dict):
        return [] if detail in (None, "") else [("详情", detail)]
    return [(DETAIL_KEYS.get(key, key), detail_value(key, value))
            for key, value in detail.items()]


def detail_value(key: str, value: object) -> object:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _BOOLEANS[value]
    if isinstance(value, list):
        return "、".join(str(detail_value(key, item)) for item in value)
    if isinstance(value, dict):
        return "；".join(f"{name}：{shown}" for name, shown in detail_items(value))
    if isinstance(value, str):
        return _value_labels().get(key, {}).get(value, value)
    return value
