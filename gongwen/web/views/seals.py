"""印章管理: seal register, each seal's history with CSV export, the unified application
form (电子印章申请表) with its printable PDF, and workstation enrolment (R-SEAL-3..6).

Thin: parse, call one service of gongwen.seals, render. Other units' seals and forms are
answered 404 (R-SEC-1).
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from gongwen.accounts.models import Role, User
from gongwen.pki.errors import PKIError
from gongwen.policy.errors import was_replayed
from gongwen.policy.permissions import Perm, can, require
from gongwen.seals import selectors, services
from gongwen.seals.models import ApplicationKind, ApplicationState, SealStatus
from gongwen.units.models import Unit

from .common import error_messages, flash_errors

# Installed open CJK fonts, first found wins (.ttc: the first face).
PDF_FONTS = ("/usr/share/fonts/truetype/arphic/gbsn00lp.ttf",
             "/usr/share/fonts/truetype/arphic/uming.ttc",
             "/usr/share/fonts/truetype/arphic/ukai.ttc",
             "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc")


def _pdf_font() -> str:
    import os

    return next((f for f in PDF_FONTS if os.path.exists(f)), PDF_FONTS[0])


# ---------------------------------------------------------------------------- pages


@dataclass(frozen=True)
class _Page:
    """The permission one page of 印章管理 asks for. The page's view is guarded by
    ``require`` and its tab (seals/_tabs.html) is shown by ``allows``, both from this one
    entry, so that a tab never leads a user to a 403 or 404 (nor writes a denial into their
    audit trail)."""

    perm: Perm
    own_unit: bool = False  # the permission is checked against the user's unit as well
    also: tuple[Perm, ...] = ()  # other permissions that open the page as well

    def _obj(self, user):
        return user.unit if self.own_unit else None

    def allows(self, user) -> bool:
        return any(can(user, p, self._obj(user)) for p in (self.perm, *self.also))

    def require(self, request) -> None:
        if not any(can(request.user, p, self._obj(request.user)) for p in self.also):
            require(request.user, self.perm, self._obj(request.user), request=request)


PAGES = {
    "register": _Page(Perm.VIEW_SEALS),                # 印章登记 (and each seal's page)
    # 申请表: those who fill, approve (市政府办公室) or execute (制章单位) forms.
    "apps": _Page(Perm.APPLY_SEAL, also=(Perm.APPROVE_SEAL_APPLICATION,
                                        Perm.EXECUTE_SEAL_APPLICATION)),
    "new": _Page(Perm.APPLY_SEAL),                     # 填写申请表
    "ws": _Page(Perm.MANAGE_WORKSTATIONS),             # 专用计算机
    # 第四条第二款: only 市政府办公室 lists and approves own seal systems; other units'
    # heads pass the role check and are answered 404 by the unit check.
    "self": _Page(Perm.APPROVE_SEAL_APPLICATION, own_unit=True),  # 自建印章系统
}


def _page(name: str):
    """Login, then the page's permission (``PAGES``)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(request, *args, **kwargs):
            PAGES[name].require(request)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def _render(request, template: str, context: dict):
    """Render a page of 印章管理 with the tabs the user may open."""
    tabs = {name: page.allows(request.user) for name, page in PAGES.items()}
    return render(request, template, {**context, "tabs": tabs})


def _seal_opens(user, seal) -> bool:
    """Whether the seal's page (seal_detail) lets the user in: the register's permission,
    then the seal among the user's visible seals (``_seal_or_404``)."""
    return (seal is not None and PAGES["register"].allows(user)
            and selectors.visible_seals(user).filter(pk=seal.pk).exists())


def _seal_or_404(request, seal_id: int):
    seal = selectors.visible_seals(request.user).filter(pk=seal_id).first()
    if seal is None:
        require(request.user, Perm.VIEW_SEALS, Unit(pk=-1), request=request)  # audits, 404
        raise Http404
    return seal


def _app_or_404(request, app_id: int):
    app = selectors.visible_applications(request.user).filter(pk=app_id).first()
    if app is None:
        raise Http404("未找到该申请表。")
    return app


def _csv_response(filename: str, header: list[str], rows) -> HttpResponse:
    buf = io.StringIO()
    buf.write("\ufeff")  # Excel opens UTF-8 with a BOM
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(rows)
    response = HttpResponse(buf.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# ---------------------------------------------------------------------------- register


@_page("register")
def register(request):
    seals = selectors.visible_seals(request.user).order_by("unit__code", "-created_at")
    status = request.GET.get("status", "")
    if status in SealStatus.values:
        seals = seals.filter(status=status)
    apps = selectors.visible_applications(request.user).exclude(
        state__in=[ApplicationState.EXECUTED, ApplicationState.REJECTED])[:50]
    return _render(request, "seals/register.html", {
        "seals": seals, "status": status, "statuses": SealStatus.choices, "open_apps": apps})


@_page("register")
def register_csv(request):
    rows = [(s.unit.name, s.name, s.es_id, s.authority.name if s.authority else "",
             s.keeper.display_name, s.get_status_display(), s.valid_from.date().isoformat(),
             s.valid_to.date().isoformat(), s.cert_serial, s.uses)
            for s in _with_uses(selectors.visible_seals(request.user).order_by("unit__code"))]
    return _csv_response("seal-register.csv", ["单位", "印章名称", "印章编码", "制发单位",
                                               "印章管理员", "状态", "有效期起", "有效期止",
                                               "证书序列号", "用印次数"], rows)


def _with_uses(qs):
    from django.db.models import Count, Q

    return qs.annotate(uses=Count("events", filter=Q(events__kind="used")))


@_page("register")
def seal_detail(request, seal_id: int):
    seal = _seal_or_404(request, seal_id)
    return _render(request, "seals/seal.html", {
        "seal": seal, "history": selectors.seal_history(seal, request.user),
        "workstations": seal.workstations.all(),
        "apps": seal.applications.order_by("-filled_at")})


@_page("register")
def seal_image(request, seal_id: int):
    seal = _seal_or_404(request, seal_id)
    response = HttpResponse(bytes(seal.image_png), content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@_page("register")
def seal_history_csv(request, seal_id: int):
    seal = _seal_or_404(request, seal_id)
    rows = [(timezone.localtime(r["at"]).strftime("%Y-%m-%d %H:%M:%S"), r["what"], r["user"],
             r["workstation"], r["document"]) for r in selectors.seal_history(seal, request.user)]
    return _csv_response(f"seal-{seal.es_id}-history.csv",
                         ["时间", "事项", "人员", "专用计算机", "公文"], rows)


# -------------------------------------------------------------------------- applications


class ApplicationForm(forms.Form):
    kind = forms.ChoiceField(label="申请事项", choices=ApplicationKind.choices)
    seal = forms.ModelChoiceField(label="原电子印章", required=False, queryset=None,
                                  help_text="变更、注销、换领、补发、交回时选择。")
    keeper = forms.ModelChoiceField(label="印章管理员", required=False, queryset=None,
                                    help_text="制作、变更时必填；换领、补发默认原管理员。")
    reason = forms.CharField(label="申请理由（书面证明）", widget=forms.Textarea(attrs={"rows": 4}),
                             max_length=2000)
    # The form's idempotency key: a double click or a resent page files one form.
    key = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["key"].initial = uuid.uuid4()
        self.fields["seal"].queryset = selectors.visible_seals(user).filter(unit_id=user.unit_id)
        self.fields["keeper"].queryset = User.objects.filter(
            unit_id=user.unit_id, is_active=True, role_grants__role=Role.SEAL_KEEPER)


@_page("new")
def application_new(request):
    form = ApplicationForm(request.POST or None, user=request.user,
                           initial={"kind": request.GET.get("kind", ""),
                                    "seal": request.GET.get("seal")})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            app = services.fill_application(
                actor=request.user, kind=d["kind"], reason=d["reason"],
                seal_id=d["seal"].pk if d["seal"] else None,
                keeper_id=d["keeper"].pk if d["keeper"] else None, key=d["key"],
                request=request)
        except ValidationError as exc:
            for m in error_messages(exc):
                form.add_error(None, m)
        else:
            if not was_replayed(app):
                messages.success(request, f"申请表 #{app.pk} 已提交，请本单位负责人签字。")
            return redirect("web:seal_application", app.pk)
    return _render(request, "seals/application_new.html", {"form": form})


@_page("apps")
def applications(request):
    apps = selectors.visible_applications(request.user)[:200]
    return _render(request, "seals/applications.html", {"apps": apps})


def _app_view_perm(user) -> bool:
    return PAGES["apps"].allows(user)


def _signs_for(user, app) -> bool:
    """Whether the user is a head who may sign (or return) the form: a head of the applying
    unit, or after a merge or rename of its successor, where its people moved (as
    ``services.sign_application`` checks)."""
    if not can(user, Perm.SIGN_SEAL_APPLICATION):
        return False
    successor = app.unit.current_successor() if app.unit.successor_id else None
    return user.unit_id in {app.unit_id, successor.pk if successor else app.unit_id}


def application_detail(request, app_id: int):
    if not request.user.is_authenticated:
        return redirect(f"/login/?next={request.path}")
    if not _app_view_perm(request.user):
        raise PermissionDenied("您没有访问此页面的权限。")
    app = _app_or_404(request, app_id)
    u = request.user
    approves = app.state == "head_signed" and can(u, Perm.APPROVE_SEAL_APPLICATION, app)
    return _render(request, "seals/application.html", {
        "app": app,
        # A seal is linked only where its page would open (another authority's operator
        # executes a county's application without seeing that county's seals).
        "seal_link": _seal_opens(u, app.seal),
        "result_seal_link": _seal_opens(u, app.result_seal),
        "can_sign": app.state == "filled" and _signs_for(u, app),
        "can_approve": approves and app.head_signer_id != u.pk,
        # The head who signed the form does not approve it too (services refuse it).
        "signed_it": approves and app.head_signer_id == u.pk,
        "can_execute": app.state == "approved" and can(u, Perm.EXECUTE_SEAL_APPLICATION, app),
        "issuing": app.kind in ("make", "change", "replace_damaged", "reissue_lost")})


@require_POST
def application_action(request, app_id: int, action: str):
    if not request.user.is_authenticated:
        raise PermissionDenied
    app = _app_or_404(request, app_id)
    p = request.POST
    try:
        if action == "sign":
            services.sign_application(actor=request.user, application_id=app.pk, request=request)
            messages.success(request, "已签字，报市政府办公室审批。")
        elif action == "approve":
            services.approve_application(actor=request.user, application_id=app.pk,
                                         request=request)
            messages.success(request, "已批准，待制章单位办理。")
        elif action == "reject":
            services.reject_application(actor=request.user, application_id=app.pk,
                                        reason=p.get("reason", ""), request=request)
            messages.success(request, "已退回。")
        elif action == "execute":
            # The new disk's first PIN is typed twice; a typo would leave the keeper with a
            # disk nobody can open, so a mismatch stops here, before the maker's disk is
            # opened (and a wrong maker PIN counted).
            if p.get("keeper_pin", "") != p.get("keeper_pin_again", ""):
                messages.error(request, "两次输入的新密钥盘初始口令不一致，未办理，请重新输入。")
                return redirect("web:seal_application", app.pk)
            services.execute_application(actor=request.user, application_id=app.pk,
                                         keeper_pin=p.get("keeper_pin", ""),
                                         maker_pin=p.get("maker_pin", ""), request=request)
            messages.success(request, "已办理。")
        else:
            raise Http404
    except ValidationError as exc:
        flash_errors(request, exc)
    except PKIError as exc:
        messages.error(request, exc.message_zh)
    return redirect("web:seal_application", app.pk)


def application_pdf(request, app_id: int):
    if not request.user.is_authenticated or not _app_view_perm(request.user):
        raise PermissionDenied
    app = _app_or_404(request, app_id)
    from gongwen.seals.forms_pdf import application_pdf as render_pdf

    response = HttpResponse(render_pdf(app, font_path=_pdf_font()), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="seal-application-{app.pk}.pdf"'
    return response


# -------------------------------------------------------------------------- workstations


class EnrolForm(forms.Form):
    unit = forms.ModelChoiceField(label="单位", queryset=Unit.objects.filter(state="active"))
    name = forms.CharField(label="专用计算机名称", max_length=60)


@_page("ws")
def workstations(request):
    form = EnrolForm(request.POST or None)
    credential = None
    if request.method == "POST" and form.is_valid():
        unit = form.cleaned_data["unit"]
        seal_ids = [int(x) for x in request.POST.getlist("seals") if x.isdigit()]
        try:
            enrolment = services.enrol_workstation(actor=request.user, unit_id=unit.pk,
                                                   name=form.cleaned_data["name"],
                                                   seal_ids=seal_ids, request=request)
        except ValidationError as exc:
            for m in error_messages(exc):
                form.add_error(None, m)
        else:
            credential = enrolment.credential
            form = EnrolForm()
    return _render(request, "seals/workstations.html", {
        "form": form, "credential": credential,
        "workstations": selectors.workstations_for(request.user),
        "seals": selectors.visible_seals(request.user).filter(status="active")})


@_page("ws")
@require_POST
def workstation_action(request, ws_id: int, action: str):
    try:
        if action == "retire":
            services.retire_workstation(actor=request.user, workstation_id=ws_id,
                                        request=request)
        elif action == "bind":
            services.bind_seals(actor=request.user, workstation_id=ws_id,
                                seal_ids=[int(x) for x in request.POST.getlist("seals")
                                          if x.isdigit()], request=request)
        else:
            raise Http404
    except ValidationError as exc:
        flash_errors(request, exc)
    return redirect("web:seal_workstations")


# ----------------------------------------------------------- own seal systems (art. 4)


class SelfSystemForm(forms.Form):
    unit = forms.ModelChoiceField(label="单位", queryset=Unit.objects.filter(state="active"))
    reference = forms.CharField(label="批准文号", max_length=100, required=False)
    note = forms.CharField(label="说明", max_length=300, required=False)


@_page("self")
def self_systems(request):
    """第四条第二款: units that run their own seal system with the city office's approval.
    Only 市政府办公室 lists and approves them; other units' heads get 404 (audited)."""
    form = SelfSystemForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            approval = services.approve_self_seal_system(
                actor=request.user, unit_id=d["unit"].pk, reference=d["reference"],
                note=d["note"], request=request)
        except ValidationError as exc:
            for m in error_messages(exc):
                form.add_error(None, m)
        else:
            messages.success(request, f"已批准“{approval.unit.name}”自建电子印章系统。")
            return redirect("web:seal_self_systems")
    return _render(request, "seals/self_systems.html", {
        "form": form, "approvals": selectors.self_system_approvals()})
