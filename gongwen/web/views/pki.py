"""证书管理: operator pages for CAs, certificates, CRLs and key disks (R-PKI-3..5), the
holder's own key disks, and the public CRL / CA certificate downloads (no login).

Thin: parse, call one service of gongwen.authority, render. Bad input (a malformed upload,
a wrong PIN, a wrong algorithm) becomes a Chinese message, never a 500 (issue 5 item 8).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from gongwen.accounts.models import User
from gongwen.authority import services
from gongwen.authority.models import (
    Certificate,
    CertificateAuthority,
    CertStatus,
    KeyDisk,
    Profile,
)
from gongwen.pki.crl import REASONS
from gongwen.pki.errors import PKIError
from gongwen.policy.permissions import PLATFORM, Perm, managed_cas, require
from gongwen.units.models import Unit, UnitState

from .common import error_messages, paginate, requires, search_text

MAX_UPLOAD = 64 * 1024  # a certificate is a few kB; refuse anything much larger


# ------------------------------------------------------------------------------ forms


class _HolderField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        unit = obj.unit.name if obj.unit else "（未分配单位）"
        return f"{unit} — {obj.display_name}（{obj.username}）"


class IssueForm(forms.Form):
    unit = forms.ModelChoiceField(label="单位", queryset=Unit.objects.none())
    profile = forms.ChoiceField(label="证书类型", choices=Profile.choices)
    holder = _HolderField(label="密钥盘持有人", queryset=User.objects.none(),
                          help_text="须为该单位人员：印章证书一般为印章管理员，签收证书为收发员。")
    label = forms.CharField(label="附加名称", max_length=30, required=False,
                            help_text="可选，如专用计算机编号，附加在证书名称之后。")
    validity_days = forms.IntegerField(label="有效期（天）", required=False, min_value=1,
                                       max_value=3650, help_text="留空则按证书类型默认。")
    pin = forms.CharField(label="密钥盘口令", widget=forms.PasswordInput, max_length=8,
                          help_text="6至8位数字，由持有人保管。")
    pin2 = forms.CharField(label="再次输入口令", widget=forms.PasswordInput, max_length=8)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        units = _issuable_units(user)
        self.fields["unit"].queryset = units.order_by("level", "code")
        self.fields["holder"].queryset = User.objects.filter(
            is_active=True, unit__in=units).select_related("unit").order_by(
            "unit__level", "unit__code", "username")

    def clean(self):
        data = super().clean()
        if data.get("pin") and data.get("pin2") and data["pin"] != data["pin2"]:
            self.add_error("pin2", "两次输入的口令不一致。")
        return data


def _issuable_units(user):
    """Active units whose certificates come from a CA the user manages: the provincial CA
    serves the province and the county/district governments, the city CA the city's units
    (attachment art. 4, ``services.issuing_ca_for``)."""
    managed = set(managed_cas(user).values_list("pk", flat=True))
    ca_by_level: dict[str, int] = {}
    ids = []
    for unit in Unit.objects.filter(state=UnitState.ACTIVE):
        if unit.level not in ca_by_level:
            try:
                ca_by_level[unit.level] = services.issuing_ca_for(unit).pk
            except PKIError:  # no CAs yet: nothing to issue from
                return Unit.objects.none()
        if ca_by_level[unit.level] in managed:
            ids.append(unit.pk)
    return Unit.objects.filter(pk__in=ids)


class RevokeForm(forms.Form):
    reason = forms.ChoiceField(label="吊销原因",
                               choices=[(r, REASONS[r]) for r in services.LEAF_REASONS])
    note = forms.CharField(label="说明", max_length=300, required=False,
                           widget=forms.TextInput(attrs={"size": 50}))
    destroy_key = forms.BooleanField(label="同时销毁密钥盘中的私钥（印章损毁、丢失时）",
                                     required=False)


class VerifyForm(forms.Form):
    file = forms.FileField(label="证书文件（PEM 或 DER）", required=False)
    text = forms.CharField(label="或粘贴 PEM 文本", required=False,
                           widget=forms.Textarea(attrs={"rows": 6, "cols": 66}))
    at = forms.DateTimeField(label="验证时间", required=False,
                             widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                             input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
                             help_text="留空为当前时间。")


class PinForm(forms.Form):
    pin = forms.CharField(label="口令", widget=forms.PasswordInput, max_length=32)


class PinChangeForm(forms.Form):
    """The new PIN is typed twice; a mismatch is refused here, before the old PIN is tried
    (and counted). The PIN rule itself is the key store's (services.change_key_disk_pin)."""

    old_pin = forms.CharField(label="原口令", widget=forms.PasswordInput, max_length=32,
                              error_messages={"required": "请输入原口令。"})
    new_pin = forms.CharField(label="新口令", widget=forms.PasswordInput, max_length=32,
                              error_messages={"required": "请输入新口令。"})
    new_pin_again = forms.CharField(label="再次输入新口令", widget=forms.PasswordInput,
                                    max_length=32, required=False)

    def clean(self):
        data = super().clean()
        if "new_pin" in data and data["new_pin"] != data.get("new_pin_again"):
            raise ValidationError("两次输入的新口令不一致。")
        return data


# ------------------------------------------------------------------------ public downloads


def _ca_or_404(slug: str) -> CertificateAuthority:
    return get_object_or_404(CertificateAuthority, slug=slug)


def _managed(request, model, **lookup):
    """A CA, certificate or key disk of a CA the user manages; another CA's answers 404
    (audited) like any object outside one's scope."""
    obj = get_object_or_404(model, **lookup)
    require(request.user, Perm.MANAGE_PKI, obj, request=request)
    return obj


@require_GET
def crl_download(request, ca: str):
    """The CA's current CRL as DER (RFC 5280 4.2.1.13 distribution point): no login."""
    authority = _ca_or_404(ca)
    if not authority.crl_der:
        raise Http404("该CA尚未发布证书吊销列表。")
    response = HttpResponse(bytes(authority.crl_der), content_type="application/pkix-crl")
    response["Content-Disposition"] = f'inline; filename="{authority.slug}.crl"'
    response["Cache-Control"] = "public, max-age=300"
    if authority.crl_this_update:
        response["Last-Modified"] = authority.crl_this_update.strftime(
            "%a, %d %b %Y %H:%M:%S GMT")
    return response


@require_GET
def ca_certificate_download(request, ca: str):
    """The CA certificate as DER (RFC 2585 application/pkix-cert): no login."""
    authority = _ca_or_404(ca)
    response = HttpResponse(bytes(authority.certificate_der),
                            content_type="application/pkix-cert")
    response["Content-Disposition"] = f'attachment; filename="{authority.slug}.crt"'
    return response


# ---------------------------------------------------------------------- operator pages


def _pki_error(request, exc: PKIError) -> None:
    messages.error(request, exc.message_zh)


@requires(Perm.MANAGE_PKI)
def pki_home(request):
    managed = managed_cas(request.user)
    cas = list(managed.select_related("parent", "unit").order_by("id"))
    for ca in cas:
        ca.public_crl_url = services.crl_url(ca)
    certs = Certificate.objects.filter(issuer__in=managed)
    counts = {
        "valid": certs.filter(status=CertStatus.VALID).count(),
        "revoked": certs.filter(status=CertStatus.REVOKED).count(),
        "locked": KeyDisk.objects.filter(certificate__issuer__in=managed, locked=True).count(),
    }
    return render(request, "pki/index.html",
                  {"cas": cas, "counts": counts, "suite": services.configured_suite(),
                   "crl_days": services.crl_validity_days(), "now": timezone.now()})


@require_POST
@requires(Perm.MANAGE_PKI)
def pki_init(request):
    require(request.user, Perm.MANAGE_PKI, PLATFORM, request=request)  # the CA hierarchy
    try:
        result = services.init_pki(actor=request.user, request=request)
    except PKIError as exc:
        _pki_error(request, exc)
    else:
        if result.created:
            messages.success(request, "已创建CA：" + "、".join(
                ca.name for ca in result.cas if ca.slug in result.created) + "。")
        else:
            messages.info(request, "CA 已存在，无需初始化。")
    return redirect("web:pki")


@require_POST
@requires(Perm.MANAGE_PKI)
def pki_publish_crl(request, ca: str):
    authority = _managed(request, CertificateAuthority, slug=ca)
    try:
        crl = services.publish_crl(actor=request.user, ca=authority, request=request)
    except PKIError as exc:
        _pki_error(request, exc)
    else:
        messages.success(request, f"已发布“{authority.name}”的证书吊销列表 #{crl.number}，"
                                  f"下次更新 {timezone.localtime(crl.next_update):%Y-%m-%d %H:%M}。")
    return redirect("web:pki")


@requires(Perm.MANAGE_PKI)
def pki_certs(request):
    certs = Certificate.objects.filter(issuer__in=managed_cas(request.user)).select_related(
        "issuer", "unit", "holder")
    query = search_text(request)
    if query:
        certs = certs.filter(Q(unit__name__icontains=query) | Q(serial__icontains=query.lower())
                             | Q(holder__username__icontains=query)
                             | Q(subject__icontains=query))
    status = request.GET.get("status", "")
    if status in CertStatus.values:
        certs = certs.filter(status=status)
    profile = request.GET.get("profile", "")
    if profile in Profile.values:
        certs = certs.filter(profile=profile)
    return render(request, "pki/certs.html",
                  {"page": paginate(request, certs.order_by("-issued_at", "-id"), 50),
                   "q": query, "status": status, "profile": profile,
                   "statuses": CertStatus.choices, "profiles": Profile.choices})


@requires(Perm.MANAGE_PKI)
def pki_cert_detail(request, cert_id: int):
    cert = _managed(request, Certificate.objects.select_related("issuer", "unit", "holder"),
                    pk=cert_id)
    check = services.check_certificate(bytes(cert.der))
    disk = KeyDisk.objects.filter(certificate=cert).first()
    return render(request, "pki/cert_detail.html",
                  {"cert": cert, "check": check, "disk": disk, "revoke_form": RevokeForm(),
                   "crl_url": services.crl_url(cert.issuer)})


@require_POST
@requires(Perm.MANAGE_PKI)
def pki_cert_revoke(request, cert_id: int):
    cert = _managed(request, Certificate, pk=cert_id)
    form = RevokeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请选择吊销原因。")
        return redirect("web:pki_cert", cert_id=cert.pk)
    data = form.cleaned_data
    try:
        services.revoke_certificate(actor=request.user, cert_id=cert.pk, reason=data["reason"],
                                    note=data["note"], destroy_key=data["destroy_key"],
                                    request=request)
    except ValidationError as exc:
        messages.error(request, "；".join(error_messages(exc)))
    except PKIError as exc:
        _pki_error(request, exc)
    else:
        messages.success(request, "证书已吊销，新的证书吊销列表已发布。")
    return redirect("web:pki_cert", cert_id=cert.pk)


@requires(Perm.MANAGE_PKI)
def pki_cert_download(request, cert_id: int, fmt: str):
    cert = _managed(request, Certificate, pk=cert_id)
    if fmt == "pem":
        response = HttpResponse(services.certificate_pem(cert.der),
                                content_type="application/x-pem-file")
    elif fmt == "der":
        response = HttpResponse(bytes(cert.der), content_type="application/pkix-cert")
        fmt = "cer"
    else:
        raise Http404("不支持的格式。")
    response["Content-Disposition"] = f'attachment; filename="{cert.serial}.{fmt}"'
    return response


@requires(Perm.MANAGE_PKI)
def pki_issue(request):
    form = IssueForm(request.POST or None, user=request.user,
                     initial={"unit": request.GET.get("unit"),
                              "profile": request.GET.get("profile") or Profile.UNIT_SEAL})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            cert = services.issue_certificate(
                actor=request.user, unit=data["unit"], profile=data["profile"],
                holder=data["holder"], pin=data["pin"], label=data["label"],
                validity_days=data["validity_days"], request=request)
        except ValidationError as exc:
            for message in error_messages(exc):
                form.add_error(None, message)
        except PKIError as exc:
            form.add_error(None, exc.message_zh)
        else:
            messages.success(request, f"已签发{cert.get_profile_display()}（序列号 {cert.serial}），"
                                      f"密钥盘已交持有人“{data['holder'].display_name}”。")
            return redirect("web:pki_cert", cert_id=cert.pk)
    return render(request, "pki/issue.html", {"form": form})


@requires(Perm.MANAGE_PKI)
def pki_keydisks(request):
    disks = KeyDisk.objects.filter(
        certificate__issuer__in=managed_cas(request.user)).select_related(
        "certificate", "holder", "unit")
    state = request.GET.get("state", "")
    if state == "locked":
        disks = disks.filter(locked=True)
    return render(request, "pki/keydisks.html",
                  {"page": paginate(request, disks.order_by("-locked", "unit__code", "id"), 50),
                   "state": state, "max_attempts": services.max_pin_attempts()})


@require_POST
@requires(Perm.MANAGE_PKI)
def pki_keydisk_unlock(request, disk_id: int):
    disk = _managed(request, KeyDisk.objects.select_related("certificate__issuer"), pk=disk_id)
    try:
        services.unlock_key_disk(actor=request.user, disk_id=disk.pk, request=request)
    except ValidationError as exc:
        messages.error(request, "；".join(error_messages(exc)))
    else:
        messages.success(request, f"已解锁 {disk.holder.display_name} 的密钥盘 #{disk.pk}。")
    return redirect("web:pki_keydisks")


@requires(Perm.MANAGE_PKI)
def pki_verify(request):
    form = VerifyForm(request.POST, request.FILES) if request.method == "POST" else VerifyForm()
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        text = form.cleaned_data["text"].strip()
        if upload is not None and upload.size > MAX_UPLOAD:
            form.add_error("file", "文件过大，证书文件一般不超过 64 KB。")
        elif upload is None and not text:
            form.add_error(None, "请上传证书文件或粘贴 PEM 文本。")
        else:
            data = upload.read() if upload is not None else text.encode("utf-8", "replace")
            result = services.check_certificate(data, form.cleaned_data["at"])
    return render(request, "pki/verify.html", {"form": form, "result": result})


# ---------------------------------------------------------------- the holder's key disks


@login_required
def my_keydisks(request):
    disks = (KeyDisk.objects.filter(holder=request.user)
             .select_related("certificate", "certificate__issuer", "unit").order_by("id"))
    return render(request, "pki/my_keydisks.html",
                  {"disks": disks, "pin_form": PinForm(),
                   "max_attempts": services.max_pin_attempts()})


@require_POST
@login_required
def my_keydisk_check(request, disk_id: int):
    """The holder checks the PIN of their key disk; it counts like any use (R-PKI-5)."""
    disk = get_object_or_404(KeyDisk, pk=disk_id, holder=request.user)
    form = PinForm(request.POST)
    pin = form.data.get("pin", "")
    try:
        services.open_key_disk(user=request.user, disk=disk, pin=pin, request=request)
    except PKIError as exc:
        messages.error(request, exc.message_zh)
    else:
        messages.success(request, f"口令正确，密钥盘 #{disk.pk} 可以正常使用。")
    return redirect("web:my_keydisks")


@require_POST
@login_required
def my_keydisk_pin(request, disk_id: int):
    """The holder replaces the PIN the operator set at issue (R-PKI-5)."""
    disk = get_object_or_404(KeyDisk, pk=disk_id, holder=request.user)
    form = PinChangeForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for m in errors:
                messages.error(request, m)
        return redirect("web:my_keydisks")
    try:
        services.change_key_disk_pin(user=request.user, disk=disk,
                                     old_pin=form.cleaned_data["old_pin"],
                                     new_pin=form.cleaned_data["new_pin"], request=request)
    except PKIError as exc:
        messages.error(request, exc.message_zh)
    else:
        messages.success(request, f"密钥盘 #{disk.pk} 的口令已修改，请牢记新口令；"
                                  "原口令不再可用。")
    return redirect("web:my_keydisks")
