"""Forms of the document pages (R-UI-1: Chinese labels and messages). They only parse: the
rules live in ``services`` and come back as ValidationError messages on the form."""

from __future__ import annotations

import uuid

from django import forms

from gongwen.units.models import Unit, UnitState
from gongwen.units.selectors import groups_for

from . import characters
from .models import DocType, NumberSeries, OfficialDocument, Secrecy, Urgency, Variant

CO_ISSUER_SLOTS = 4


def _units():
    return Unit.objects.filter(state=UnitState.ACTIVE).in_directory_order()


class TextField(forms.CharField):
    """A text field that drops paste litter (``characters.tidy``) before its length is
    checked: a 份号 pasted with a zero-width space is the 6 digits the clerk sees. One-line
    unless ``multiline`` (the 标题 box is one line: a line separator pasted into it is a
    space, as the box shows it)."""

    def __init__(self, *args, multiline: bool = False, **kwargs) -> None:
        self.multiline = multiline
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return characters.tidy(value, self.multiline).strip() if value else value


class UnitMultipleChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.name if obj.networked else f"{obj.name}（未联网）"


class DraftForm(forms.Form):
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput, required=False)
    revision = forms.IntegerField(widget=forms.HiddenInput, required=False)
    # The model's default, 通知, the most common 文种, as the API and the services take it
    # when none is given; without it the browser preselected the first choice, 决议.
    doc_type = forms.ChoiceField(label="文种", choices=DocType.choices,
                                 initial=OfficialDocument._meta.get_field("doc_type").default)
    variant = forms.ChoiceField(label="格式", choices=Variant.choices)
    number_series = forms.ChoiceField(label="发文字号类别", choices=NumberSeries.choices,
                                      help_text="发文字号在单位负责人核批时自动编号，不会重号、跳号。")
    copy_number = TextField(label="份号", max_length=6, required=False,
                                  help_text="6位阿拉伯数字，如 000001；可不填。")
    secrecy = forms.ChoiceField(
        label="密级", choices=Secrecy.choices, required=False,
        help_text="本平台禁止传输密级公文（连政办发〔2006〕107号）；选择任何密级都将被拒绝。")
    secrecy_period = TextField(label="保密期限", max_length=20, required=False)
    urgency = forms.ChoiceField(label="紧急程度", choices=Urgency.choices, required=False)
    mark_text = TextField(label="发文机关标志", max_length=100, required=False,
                                help_text="留空则用本单位全称。")
    signers = TextField(label="签发人", max_length=200, required=False,
                              help_text="请示、报告必须填写；多人用“、”分隔。")
    title = TextField(label="标题", max_length=200,
                            widget=forms.TextInput(attrs={"size": 60}))
    main_units = UnitMultipleChoice(label="主送机关（通讯录）", queryset=Unit.objects.none(),
                                    required=False,
                                    widget=forms.SelectMultiple(attrs={"size": 8}))
    main_groups = forms.ModelMultipleChoiceField(label="主送机关（收文分组）",
                                                 queryset=Unit.objects.none(), required=False,
                                                 widget=forms.CheckboxSelectMultiple)
    main_recipients_text = TextField(
        label="主送机关（文字）", max_length=500, required=False,
        help_text="统称或非联网单位，如“各县、区人民政府，市各委、办、局”。")
    body_text = TextField(
        label="正文", multiline=True, required=False,
        widget=forms.Textarea(attrs={"rows": 16, "cols": 70}),
        help_text="每段一行。以“一、”“（一）”“1.”“（1）”开头的段落自动识别为各级标题。")
    signature_text = TextField(label="发文机关署名", max_length=200, required=False,
                                     help_text="留空则用发文机关全称。")
    date = forms.DateField(label="成文日期", required=False,
                           widget=forms.DateInput(attrs={"type": "date"}),
                           help_text="留空则以核批签发日期为准。")
    note = TextField(label="附注", max_length=300, required=False)
    copy_units = UnitMultipleChoice(label="抄送机关（通讯录）", queryset=Unit.objects.none(),
                                    required=False,
                                    widget=forms.SelectMultiple(attrs={"size": 6}))
    copy_groups = forms.ModelMultipleChoiceField(label="抄送机关（收文分组）",
                                                 queryset=Unit.objects.none(), required=False,
                                                 widget=forms.CheckboxSelectMultiple)
    copy_to_text = TextField(label="抄送机关（文字）", max_length=500, required=False)
    printer = TextField(label="印发机关", max_length=100, required=False)
    print_date = forms.DateField(label="印发日期", required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, unit=None, **kwargs):
        super().__init__(*args, **kwargs)
        units = _units()
        others = units.exclude(pk=unit.pk) if unit is not None else units
        for name in ("main_units", "copy_units"):
            self.fields[name].queryset = others  # never the unit itself (services)
        groups = groups_for(unit)
        self.fields["main_groups"].queryset = groups
        self.fields["copy_groups"].queryset = groups
        # 联合行文: ordered co-issuers after the lead unit, one slot each.
        for n in range(1, CO_ISSUER_SLOTS + 1):
            self.fields[f"co_issuer_{n}"] = forms.ModelChoiceField(
                label=f"联合发文机关{n}", queryset=others, required=False, empty_label="（无）")
        if not self.is_bound and not self.initial.get("idempotency_key"):
            self.initial["idempotency_key"] = uuid.uuid4()

    def co_issuer_fields(self):
        return [self[f"co_issuer_{n}"] for n in range(1, CO_ISSUER_SLOTS + 1)]

    def service_fields(self) -> dict:
        """Keyword arguments for services.create_draft / update_draft."""
        d = self.cleaned_data
        fields = {k: d.get(k) for k in (
            "doc_type", "variant", "number_series", "copy_number", "secrecy", "secrecy_period",
            "urgency", "mark_text", "signers", "title", "main_recipients_text", "body_text",
            "signature_text", "date", "note", "copy_to_text", "printer", "print_date")}
        for k in ("secrecy", "urgency", "copy_number", "secrecy_period", "mark_text", "signers",
                  "main_recipients_text", "body_text", "signature_text", "note",
                  "copy_to_text", "printer"):
            fields[k] = fields[k] or ""
        fields["co_issuers"] = [d[f"co_issuer_{n}"].pk for n in range(1, CO_ISSUER_SLOTS + 1)
                                if d.get(f"co_issuer_{n}")]
        fields["main_units"] = [u.pk for u in d.get("main_units") or []]
        fields["main_groups"] = [g.pk for g in d.get("main_groups") or []]
        fields["copy_units"] = [u.pk for u in d.get("copy_units") or []]
        fields["copy_groups"] = [g.pk for g in d.get("copy_groups") or []]
        return fields

    @classmethod
    def initial_for(cls, doc) -> dict:
        initial = {k: getattr(doc, k) for k in (
            "doc_type", "variant", "number_series", "copy_number", "secrecy", "secrecy_period",
            "urgency", "mark_text", "title", "main_recipients_text", "signature_text", "date",
            "note", "copy_to_text", "printer", "print_date", "revision")}
        initial["signers"] = "、".join(doc.signers or [])
        initial["body_text"] = doc.body_text
        for role, units_key, groups_key in (("main", "main_units", "main_groups"),
                                            ("copy", "copy_units", "copy_groups")):
            rows = list(doc.recipients.filter(role=role))
            initial[units_key] = [r.unit_id for r in rows if r.unit_id]
            initial[groups_key] = [r.group_id for r in rows if r.group_id]
        for issuer in doc.issuers.filter(position__gt=0).order_by("position"):
            if issuer.position <= CO_ISSUER_SLOTS:
                initial[f"co_issuer_{issuer.position}"] = issuer.unit_id
        return initial


class UploadForm(forms.Form):
    file = forms.FileField(label="文件（PDF或OFD）",
                           error_messages={"required": "请选择要上传的文件。",
                                           "empty": "上传的文件是空文件。"})
    title = TextField(label="附件名称", max_length=200, required=False,
                      help_text="留空则用文件名。")

    def __init__(self, *args, **kwargs):
        # Shown on the same page as the draft form, which has its own "title": distinct ids
        # keep each label pointing at its own field.
        kwargs.setdefault("auto_id", "upload_%s")
        super().__init__(*args, **kwargs)


class ReviewForm(forms.Form):
    comment = forms.CharField(label="意见", required=False,
                              widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))
