"""Forms of the case pages. They only parse input; every rule lives in cases.services."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from liuhen.access.permissions import BUREAU, OWN, scope_for
from liuhen.access.querysets import user_role, user_unit
from liuhen.cases.choices import CaseKind, CaseSource, PartyKind, PenaltyOutcome, Stage
from liuhen.cases.models import Party
from liuhen.cases.privacy import party_label
from liuhen.cases.services import parties_for_case
from liuhen.cases.validators import id_card_error, uscc_error
from liuhen.core import limits
from liuhen.core.widgets import QuickSelect
from liuhen.org.models import Officer, Unit

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def units_for(user, action: str):
    """The units in which ``user`` may do ``action`` (for pick lists; services check again)."""
    scope = scope_for(user_role(user), action)
    if scope is None:
        return Unit.objects.none()
    if scope == BUREAU:
        return Unit.objects.all()
    unit = user_unit(user)
    if unit is None:
        return Unit.objects.none()
    if scope == OWN:
        return Unit.objects.filter(pk=unit.pk)
    return Unit.objects.filter(path__startswith=unit.path)


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return "　" * obj.depth + obj.name


class OfficerChoiceField(forms.ModelMultipleChoiceField):
    """Qualified and unqualified officers alike are listed; the service refuses the latter
    with the 第十一条 message, so the user learns why rather than wondering where someone is."""

    def label_from_instance(self, obj):
        problem = obj.qualification_problem()
        return f"{obj.name}（{obj.credential_number or '无执法证号'}）" + (
            f" — {problem}" if problem else "")


class CaseFilterForm(forms.Form):
    """Filters of the case list; every field optional, bad values give a Chinese message."""

    q = forms.CharField(label="编号或案由", required=False, max_length=limits.SEARCH)
    unit = UnitChoiceField(label="执法单位", queryset=Unit.objects.none(), required=False,
                           empty_label="全部单位", widget=QuickSelect)
    kind = forms.ChoiceField(label="执法行为", required=False, widget=QuickSelect,
                             choices=[("", "全部")] + list(CaseKind.choices))
    stage = forms.ChoiceField(label="环节", required=False, widget=QuickSelect,
                              choices=[("", "全部")] + [c for c in Stage.choices
                                                       if c[0] != Stage.PATROL])
    officer = forms.ModelChoiceField(label="承办人员", queryset=Officer.objects.none(),
                                     required=False, empty_label="全部人员", widget=QuickSelect)
    party = forms.CharField(label="当事人（名称或证件号）", required=False, max_length=limits.SEARCH)
    opened_from = forms.DateField(label="立案日期自", required=False, widget=DATE_WIDGET)
    opened_to = forms.DateField(label="立案日期至", required=False, widget=DATE_WIDGET)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        units = units_for(user, "case.view")
        self.fields["unit"].queryset = units
        self.fields["officer"].queryset = (Officer.objects.filter(unit__in=units)
                                           .select_related("unit").order_by("unit__path", "name"))

    def clean(self):
        data = super().clean()
        start, end = data.get("opened_from"), data.get("opened_to")
        if start and end and start > end:
            self.add_error("opened_to", "截止日期不能早于起始日期")
        return data


class PartyForm(forms.Form):
    """Registering a party (当事人): ID card or unified social credit code, checksum checked."""

    unit = UnitChoiceField(label="登记单位", queryset=Unit.objects.none(), empty_label=None)
    kind = forms.ChoiceField(label="类型", choices=PartyKind.choices)
    name = forms.CharField(label="名称/姓名", max_length=limits.NAME)
    id_number = forms.CharField(label="身份证号/统一社会信用代码", max_length=limits.ID_NUMBER, min_length=limits.ID_NUMBER)
    legal_representative = forms.CharField(label="法定代表人", max_length=limits.PERSON, required=False)
    phone = forms.CharField(label="联系电话", max_length=limits.PHONE, required=False)
    address = forms.CharField(label="地址", max_length=limits.NAME, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units_for(user, "party.create")
        self.fields["unit"].initial = user_unit(user)

    def clean(self):
        data = super().clean()
        kind, number = data.get("kind"), (data.get("id_number") or "").strip().upper()
        if kind and number:
            error = id_card_error(number) if kind == PartyKind.PERSON else uscc_error(number)
            if error:
                self.add_error("id_number", error)
            data["id_number"] = number
        return data


class CaseForm(forms.Form):
    """Opening a case (程序启动, 第二条), optionally registering one new party with it."""

    unit = UnitChoiceField(label="执法单位", queryset=Unit.objects.none(), empty_label=None)
    kind = forms.ChoiceField(label="执法行为", choices=CaseKind.choices)
    source = forms.ChoiceField(label="案件来源", choices=CaseSource.choices)
    cause = forms.CharField(label="案由", max_length=limits.CAUSE)
    summary = forms.CharField(label="案情摘要", required=False, max_length=limits.SUMMARY,
                              widget=forms.Textarea(attrs={"rows": 3}))
    opened_on = forms.DateField(label="立案日期", widget=DATE_WIDGET)
    complaint_received_on = forms.DateField(label="收到投诉/举报日期", required=False,
                                            widget=DATE_WIDGET)
    officers = OfficerChoiceField(label="承办人员（处罚、强制案件不少于2名）",
                                  queryset=Officer.objects.none(),
                                  widget=forms.CheckboxSelectMultiple)
    parties = forms.ModelMultipleChoiceField(label="已登记的当事人", queryset=Party.objects.none(),
                                             required=False,
                                             widget=forms.SelectMultiple(attrs={"size": 5}))
    is_random_inspection = forms.BooleanField(label="随机抽查（第五条）", required=False)
    is_disputed = forms.BooleanField(label="易引发争议的现场检查（第五条）", required=False)
    is_major_incident = forms.BooleanField(label="重大、突发事件（第五条）", required=False)
    # One new party may be registered together with the case.
    new_party_kind = forms.ChoiceField(label="新当事人类型", required=False,
                                       choices=[("", "不登记新当事人")] + list(PartyKind.choices))
    new_party_name = forms.CharField(label="新当事人名称/姓名", required=False, max_length=limits.NAME)
    new_party_id_number = forms.CharField(label="身份证号/统一社会信用代码", required=False,
                                          max_length=limits.ID_NUMBER)

    def __init__(self, *args, user, unit=None, **kwargs):
        super().__init__(*args, **kwargs)
        units = units_for(user, "case.create")
        self.fields["unit"].queryset = units
        chosen = unit or self._chosen_unit(units) or user_unit(user)
        if chosen is None or not units.filter(pk=chosen.pk).exists():
            chosen = units.first()
        self.chosen_unit = chosen
        self.fields["unit"].initial = chosen
        self.fields["opened_on"].initial = timezone.localdate()
        officers = Officer.objects.select_related("unit").order_by("unit__path", "name")
        self.fields["officers"].queryset = (
            officers.filter(unit__path__startswith=chosen.path) if chosen else officers.none())
        self.fields["parties"].queryset = (
            parties_for_case(actor=user, unit=chosen) if chosen else Party.objects.none())
        self.fields["parties"].label_from_instance = (
            lambda party: party_label(user, party, unit=chosen))

    def _chosen_unit(self, units):
        raw = self.data.get(self.add_prefix("unit")) if self.is_bound else None
        if raw and str(raw).isdigit():
            return units.filter(pk=int(raw)).first()
        return None

    def clean(self):
        data = super().clean()
        kind = data.get("new_party_kind")
        name = (data.get("new_party_name") or "").strip()
        number = (data.get("new_party_id_number") or "").strip().upper()
        if kind:
            if not name:
                self.add_error("new_party_name", "请填写新当事人的名称或姓名")
            error = id_card_error(number) if kind == PartyKind.PERSON else uscc_error(number)
            if error:
                self.add_error("new_party_id_number", error)
            data["new_party_id_number"] = number
        elif name or number:
            self.add_error("new_party_kind", "登记新当事人时请选择类型")
        return data


class FromPatrolForm(forms.Form):
    """Opening a case from a patrol (第五条: violations found on patrol)."""

    kind = forms.ChoiceField(label="执法行为", choices=CaseKind.choices)
    cause = forms.CharField(label="案由", max_length=limits.CAUSE)
    summary = forms.CharField(label="案情摘要", required=False, max_length=limits.SUMMARY,
                              widget=forms.Textarea(attrs={"rows": 3}))
    parties = forms.ModelMultipleChoiceField(label="当事人（可不选，立案后补充）",
                                             queryset=Party.objects.none(), required=False,
                                             widget=forms.SelectMultiple(attrs={"size": 5}))

    def __init__(self, *args, user, patrol, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parties"].queryset = parties_for_case(actor=user, unit=patrol.unit)
        self.fields["parties"].label_from_instance = (
            lambda party: party_label(user, party, unit=patrol.unit))


class PatrolForm(forms.Form):
    """A patrol shift (日常巡查)."""

    unit = UnitChoiceField(label="执法单位", queryset=Unit.objects.none(), empty_label=None)
    date = forms.DateField(label="巡查日期", widget=DATE_WIDGET)
    area = forms.CharField(label="巡查区域", max_length=limits.NAME)
    officers = OfficerChoiceField(label="巡查人员", queryset=Officer.objects.none(),
                                  widget=forms.CheckboxSelectMultiple)
    notes = forms.CharField(label="巡查情况", required=False, max_length=limits.SUMMARY,
                            widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        units = units_for(user, "patrol.create")
        self.fields["unit"].queryset = units
        self.fields["unit"].initial = user_unit(user)
        self.fields["date"].initial = timezone.localdate()
        paths = list(units.values_list("path", flat=True))
        own = user_unit(user)
        root = own.path if own and own.path in paths else (min(paths, key=len) if paths else None)
        self.fields["officers"].queryset = (
            Officer.objects.filter(unit__path__startswith=root).select_related("unit")
            if root else Officer.objects.none())


class FactsForm(forms.Form):
    """The facts of a case that may change after it is opened (第五条 flags, hearing, dates)."""

    cause = forms.CharField(label="案由", max_length=limits.CAUSE)
    summary = forms.CharField(label="案情摘要", required=False, max_length=limits.SUMMARY,
                              widget=forms.Textarea(attrs={"rows": 4}))
    is_random_inspection = forms.BooleanField(label="随机抽查（第五条）", required=False)
    is_disputed = forms.BooleanField(label="易引发争议的现场检查（第五条）", required=False)
    is_major_incident = forms.BooleanField(label="重大、突发事件（第五条）", required=False)
    written_record_impractical = forms.BooleanField(
        label="当场不利于制作执法文书及书面记录（第五条）", required=False)
    av_other_reason = forms.CharField(
        label="其他需要音像记录的情况（第五条，写明理由）", max_length=limits.CAUSE, required=False)
    hearing_requested = forms.BooleanField(label="当事人申请听证", required=False)
    is_complex_or_major = forms.BooleanField(
        label="情节复杂或者重大违法行为（行政处罚法第五十七条第二款：集体讨论；第五十八条：法制审核）",
        required=False)
    complaint_received_on = forms.DateField(label="收到投诉/举报日期", required=False,
                                            widget=DATE_WIDGET)
    decided_on = forms.DateField(label="决定日期", required=False, widget=DATE_WIDGET)
    penalty_outcome = forms.ChoiceField(
        label="处罚决定内容（行政处罚法第六十七条：有罚款的，十五日内缴纳）",
        choices=PenaltyOutcome.choices, required=False)
    closed_on = forms.DateField(label="结案日期", required=False, widget=DATE_WIDGET)

    # The order of the dates and today are checked by the service (cases.dates), whose
    # message names the conflicting date, for the form and the API alike (issue 13 item 3).


class TransitionForm(forms.Form):
    to = forms.ChoiceField(label="转入环节",
                           choices=[c for c in Stage.choices if c[0] != Stage.PATROL])
    note = forms.CharField(label="说明", required=False, max_length=limits.REASON)
