"""Every action the code base writes to the audit trail has a Chinese label on the auditor
page (R-AUDIT-1): the source is read for the action codes given to ``record`` (and to the
functions that pass their argument on to it), so that a new action cannot be recorded
without its label. The details' common keys are shown with Chinese names too."""

from __future__ import annotations

import ast
import pathlib
import re

import pytest

import gongwen
from gongwen.audit import actions

SOURCE = pathlib.Path(gongwen.__file__).parent
_CODE = re.compile(r"^[a-z_]+(\.[a-z_]+)*$")


def _modules() -> dict[pathlib.Path, ast.Module]:
    return {p: ast.parse(p.read_text(encoding="utf-8"), str(p))
            for p in sorted(SOURCE.rglob("*.py")) if "migrations" not in p.parts}


def _name(func: ast.expr) -> str | None:
    return getattr(func, "id", None) or getattr(func, "attr", None)


def _recorders(modules) -> dict[str, int]:
    """``record`` and every function passing one of its parameters on as a recorder's
    action: name → position of the action argument."""
    found = {"record": 1}
    grew = True
    while grew:
        grew = False
        for tree in modules.values():
            for fn in ast.walk(tree):
                if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef) or fn.name in found:
                    continue
                params = [a.arg for a in fn.args.posonlyargs + fn.args.args]
                for call in ast.walk(fn):
                    pos = found.get(_name(call.func)) if isinstance(call, ast.Call) else None
                    if (pos is not None and len(call.args) > pos
                            and isinstance(call.args[pos], ast.Name)
                            and call.args[pos].id in params):
                        found[fn.name] = params.index(call.args[pos].id)
                        grew = True
    return found


def _strings(node: ast.expr) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Dict):
        return [s for v in node.values for s in _strings(v)]
    return []


def _assigns(node: ast.AST, name: str) -> bool:
    """Whether ``node`` assigns a value to the plain name ``name``."""
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        targets = [node.target]
    else:
        return False
    return any(isinstance(t, ast.Name) and t.id == name for t in targets)


def _assigned(scope: ast.AST, name: str) -> list[str]:
    """The string constants (or a dict's string values) assigned to ``name`` in ``scope``."""
    return [s for node in ast.walk(scope) if _assigns(node, name) for s in _strings(node.value)]


def _class_values(tree: ast.Module, name: str) -> list[str]:
    """The strings a class body assigns to ``name`` (an empty one: an abstract base's)."""
    return [s for cls in ast.walk(tree) if isinstance(cls, ast.ClassDef)
            for stmt in cls.body if _assigns(stmt, name) for s in _strings(stmt.value) if s]


def recorded_actions() -> tuple[dict[str, str], list[str]]:
    """(action code → where it is recorded, the calls whose action could not be read)."""
    modules = _modules()
    recorders = _recorders(modules)
    codes: dict[str, str] = {}
    unread: list[str] = []
    for path, tree in modules.items():
        functions = [f for f in ast.walk(tree)
                     if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)]
        for fn in functions:
            params = {a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs}
            for call in ast.walk(fn):
                pos = recorders.get(_name(call.func)) if isinstance(call, ast.Call) else None
                if pos is None or len(call.args) <= pos:
                    continue
                arg = call.args[pos]
                where = f"{path.relative_to(SOURCE.parent)}:{call.lineno}"
                if isinstance(arg, ast.Name) and arg.id in params and fn.name in recorders:
                    continue  # a wrapper: its callers are read
                if isinstance(arg, ast.Constant):
                    found = _strings(arg)
                elif isinstance(arg, ast.Name):  # a local, or a module constant
                    found = _assigned(fn, arg.id) or _assigned(tree, arg.id)
                elif isinstance(arg, ast.Subscript) and isinstance(arg.value, ast.Name):
                    found = _assigned(tree, arg.value.id)  # a module-level dict of codes
                elif isinstance(arg, ast.Attribute):  # self.action: each class's value
                    found = [s for t in modules.values() for s in _class_values(t, arg.attr)]
                else:
                    found = []
                if not found:
                    unread.append(f"{where}: {ast.unparse(arg)}")
                for code in found:
                    codes.setdefault(code, where)
    return codes, unread


def test_every_recorded_action_has_a_chinese_label():
    codes, unread = recorded_actions()
    assert not unread, ("write the action code as a literal (or a module-level dict of "
                        "literals) so that its label can be checked:\n" + "\n".join(unread))
    assert len(codes) > 60 and "permission.denied" in codes and "seal.lost" in codes
    assert all(_CODE.match(code) for code in codes), sorted(codes)
    missing = [f"{code} ({where})" for code, where in sorted(codes.items())
               if code not in actions.LABELS]
    assert not missing, "add a Chinese label to gongwen/audit/actions.py:\n" + "\n".join(missing)
    assert all(re.search(r"[\u4e00-\u9fff]", label) for label in actions.LABELS.values())


@pytest.mark.parametrize(("code", "label"), [
    ("pki.cert.issued", "签发证书"), ("keydisk.pin_ok", "密钥盘口令验证通过"),
    ("seal.application.filled", "填写电子印章申请表"), ("demo.loaded", "载入演示数据"),
])
def test_qa_reported_codes_have_labels(code, label):
    assert actions.label(code) == label


def test_detail_shows_chinese_key_names_and_known_values_in_chinese():
    shown = actions.detail_items({"path": "/seals/self-systems/", "perm":
                                  "approve_seal_application", "why": "scope", "zz_new": 1})
    assert shown == [("路径", "/seals/self-systems/"), ("权限", "市政府办公室审批印章申请"),
                     ("原因", "超出管理范围"), ("zz_new", 1)]


def test_qa_reported_raw_values_are_shown_in_chinese():
    """The QA pass found these codes on the auditor page (backlog item 10)."""
    shown = dict(actions.detail_items({
        "perm": "manage_pki", "kind": "reissue_lost", "reason": "key_compromise",
        "profile": "unit-seal", "ca": "jiangsu", "diameter_mm": 42, "emblem": "star",
        "key_destroyed": True, "complete": False, "roles": ["clerk", "auditor"],
        "process": "seal.lost", "created": ["root", "jiangsu"], "format": "ofd"}))
    assert shown == {
        "权限": "证书管理", "类别": "遗失补发", "理由": "密钥泄露", "证书类型": "单位印章证书",
        "证书机构": "江苏省电子印章CA", "直径（毫米）": 42, "中心图案": "五角星",
        "密钥已销毁": "是", "用印完成": "否", "角色": "收发员、审计员", "业务": "挂失注销电子印章",
        "新建": "公文交换平台根CA、江苏省电子印章CA", "格式": "OFD"}


def test_free_text_values_stay_as_written():
    assert actions.detail_items({"reason": "make", "note": "True"}) == [
        ("理由", "make"), ("说明", "True")]


def test_every_permission_has_a_chinese_label():
    from gongwen.policy.permissions import Perm

    assert not [p for p in Perm if not re.search(r"[\u4e00-\u9fff]",
                                                 actions.PERM_LABELS.get(p, ""))]


def test_every_recorded_detail_key_has_a_chinese_name():
    """The keys written as literals in ``detail={...}`` of every recorder call."""
    modules = _modules()
    recorders = _recorders(modules)
    missing = set()
    for path, tree in modules.items():
        for call in ast.walk(tree):
            if not (isinstance(call, ast.Call) and _name(call.func) in recorders):
                continue
            for kw in call.keywords:
                if kw.arg == "detail" and isinstance(kw.value, ast.Dict):
                    missing |= {f"{k.value} ({path.name}:{call.lineno})" for k in kw.value.keys
                                if isinstance(k, ast.Constant)
                                and k.value not in actions.DETAIL_KEYS}
    assert not missing, "add a Chinese name to actions.DETAIL_KEYS:\n" + "\n".join(
        sorted(missing))


@pytest.mark.django_db
def test_auditor_page_shows_labels_and_chinese_detail_keys(client, make_user, unit_a, operator):
    from gongwen.audit.services import record

    auditor = make_user(unit_a, "auditor", username="sfb_audit")
    record(operator, "permission.denied", unit=unit_a, request=None,
           detail={"path": "/seals/self-systems/", "perm": "approve_seal_application",
                   "why": "scope"})
    record(operator, "keydisk.pin_ok", unit=unit_a, detail={"serial": "7f01"})
    client.force_login(auditor)
    body = client.get("/audit/").content.decode()
    assert "越权访问被拒绝" in body and "密钥盘口令验证通过" in body
    assert "路径：</span>/seals/self-systems/" in body and "权限：</span>市政府办公室审批印章申请" in body
    assert "path=" not in body and ">keydisk.pin_ok<" not in body
    # 事项 is searched as shown (Chinese) as well as by its code.
    assert "密钥盘口令验证通过" in client.get("/audit/", {"action": "口令验证"}).content.decode()
    assert "越权访问被拒绝" not in client.get("/audit/", {"action": "口令验证"}).content.decode()
    assert "越权访问被拒绝" in client.get("/audit/", {"action": "permission"}).content.decode()
