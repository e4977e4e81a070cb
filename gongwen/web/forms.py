"""Forms of the operator pages. Labels and messages are Chinese (R-UI-1)."""

from __future__ import annotations

from django import forms

from gongwen.accounts.models import Role
from gongwen.units.models import Kind, Level, Unit, UnitState


def active_units():
    return Unit.objects.filter(state=UnitState.ACTIVE).in_directory_order()


class UnitForm(forms.Form):
    code = forms.CharField(label="单位代码", max_length=32)
    name = forms.CharField(label="单位全称", max_length=100)
    short_name = forms.CharField(label="发文字号简称", max_length=20)
    level = forms.ChoiceField(label="级别", choices=Level.choices)
    kind = forms.ChoiceField(label="类别", choices=Kind.choices)
    parent = forms.ModelChoiceField(label="上级单位", queryset=Unit.objects.none(),
                                    required=False, empty_label="（无）")
    networked = forms.BooleanField(label="已联网", required=False)
    networked_since = forms.DateField(label="联网日期", required=False,
                                      widget=forms.DateInput(attrs={"type": "date"}))
    address = forms.CharField(label="地址", max_length=200, required=False)
    phone = forms.CharField(label="电话", max_length=40, required=False)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = active_units()
        if editing:
            # The name changes only through 更名, which keeps the history.
            self.fields["name"].disabled = True

    def clean_code(self):
        return self.cleaned_data["code"].strip()


class RenameForm(forms.Form):
    new_name = forms.CharField(label="新名称", max_length=100)
    new_short_name = forms.CharField(label="新发文字号简称", max_length=20, required=False)
    new_code = forms.CharField(label="新单位代码", max_length=32, required=False,
                               help_text="更名后设立为新单位时填写；留空则原单位直接改名。")
    note = forms.CharField(label="依据/说明", max_length=300, required=False)


class MergeForm(forms.Form):
    into = forms.ModelChoiceField(label="并入单位", queryset=Unit.objects.none())
    note = forms.CharField(label="依据/说明", max_length=300, required=False)

    def __init__(self, *args, unit: Unit, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["into"].queryset = active_units().exclude(pk=unit.pk)


class RevokeForm(forms.Form):
    successor = forms.ModelChoiceField(label="承继单位（可选）", queryset=Unit.objects.none(),
                                       required=False, empty_label="（无）")
    note = forms.CharField(label="依据/说明", max_length=300)

    def __init__(self, *args, unit: Unit, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["successor"].queryset = active_units().exclude(pk=unit.pk)


class UserForm(forms.Form):
    username = forms.CharField(label="用户名", max_length=150)
    full_name = forms.CharField(label="姓名", max_length=40)
    unit = forms.ModelChoiceField(label="所属单位", queryset=Unit.objects.none())
    roles = forms.MultipleChoiceField(label="角色", choices=Role.choices, required=False,
                                      widget=forms.CheckboxSelectMultiple)
    email = forms.EmailField(label="电子邮箱", required=False)
    phone = forms.CharField(label="电话", max_length=40, required=False)
    password = forms.CharField(label="初始密码", widget=forms.PasswordInput, required=False,
                               help_text="至少 8 位，不能全为数字。")
    is_active = forms.BooleanField(label="启用", required=False, initial=True)

    def __init__(self, *args, units, editing: bool = False, **kwargs):
        """``units``: the units the operator may put users in (his management scope)."""
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units
        if editing:
            self.fields["username"].disabled = True
            del self.fields["password"]
        else:
            self.fields["password"].required = True
            del self.fields["is_active"]


class PasswordForm(forms.Form):
    password = forms.CharField(label="新密码", widget=forms.PasswordInput)


class GroupForm(forms.Form):
    name = forms.CharField(label="分组名称", max_length=60)
    description = forms.CharField(label="说明", max_length=200, required=False)
    members = forms.ModelMultipleChoiceField(label="成员单位", queryset=Unit.objects.none(),
                                             widget=forms.CheckboxSelectMultiple,
                                             required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = active_units()


class AuditFilterForm(forms.Form):
    # maxlength in the page; a longer text in an edited address is cut by the view.
    actor = forms.CharField(label="操作人", required=False,
                            widget=forms.TextInput(attrs={"maxlength": 100}))
    unit = forms.ModelChoiceField(label="单位", queryset=Unit.objects.all(), required=False,
                                  empty_label="（全部）")
    action = forms.CharField(label="事项", required=False,
                             widget=forms.TextInput(attrs={"maxlength": 100}))
    date_from = forms.DateField(label="起始日期", required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="截止日期", required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))
