"""Forms of the vault pages. They only parse input; rules live in services and queries."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django import forms
from django.utils import timezone

from liuhen.access.permissions import BUREAU, OWN, scope_for
from liuhen.access.querysets import user_role, user_unit
from liuhen.cases.models import Case, Party, Patrol
from liuhen.core import limits
from liuhen.core.widgets import QuickNumberInput, QuickSelect, QuickTextInput
from liuhen.devices.models import Device
from liuhen.evidence.choices import MarkLabel, RecordingKind
from liuhen.org.models import Officer, Unit

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def units_for(user, action: str):
    """The units in which ``user`` may do ``action`` (pick lists only; queries restrict again)."""
    scope = scope_for(user_role(user), action)
    unit = user_unit(user)
    if scope == BUREAU:
        return Unit.objects.all()
    if scope is None or unit is None:
        return Unit.objects.none()
    if scope == OWN:
        return Unit.objects.filter(pk=unit.pk)
    return Unit.objects.filter(path__startswith=unit.path)


def day_start(day, *, end: bool = False) -> datetime:
    """Aware start of ``day`` (or of the next day when ``end``) in the site's time zone."""
    moment = datetime.combine(day + timedelta(days=1) if end else day, time.min)
    return timezone.make_aware(moment)


class RecordingFilterForm(forms.Form):
    """Filters of the recording list (第十八条: by unit, device, officer, time, party, case)."""

    # Hundreds of units and officers: QuickSelect writes the options without a template each.
    unit = forms.ModelChoiceField(
        label="执法单位", queryset=Unit.objects.none(), required=False, empty_label="全部",
        widget=QuickSelect,
    )
    device = forms.CharField(label="设备编号", max_length=limits.CODE, required=False)
    officer = forms.ModelChoiceField(
        label="执法人员", queryset=Officer.objects.none(), required=False, empty_label="全部",
        widget=QuickSelect,
    )
    start = forms.DateField(label="拍摄日期自", required=False, widget=DATE_WIDGET)
    end = forms.DateField(label="拍摄日期至", required=False, widget=DATE_WIDGET)
    party = forms.CharField(label="当事人（名称或证件号）", max_length=limits.NAME, required=False)
    case = forms.CharField(label="案件编号或案由", max_length=limits.CAUSE, required=False)
    kind = forms.ChoiceField(
        label="类型", required=False, choices=[("", "全部"), *RecordingKind.choices]
    )
    late = forms.BooleanField(label="仅逾期存储", required=False)
    flagged = forms.BooleanField(label="仅有标记", required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        units = units_for(user, "recording.view")
        self.fields["unit"].queryset = units.order_by("path")
        self.fields["officer"].queryset = (
            Officer.objects.filter(unit__in=units).only("id", "name").order_by("name")
        )

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError("开始日期不能晚于结束日期")
        return data


class LateReportForm(forms.Form):
    """Period of the late-upload report (第十三条), by storage date."""

    start = forms.DateField(label="存储日期自", required=False, widget=DATE_WIDGET)
    end = forms.DateField(label="存储日期至", required=False, widget=DATE_WIDGET)
    unit = forms.ModelChoiceField(
        label="执法单位", queryset=Unit.objects.none(), required=False, empty_label="全部"
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units_for(user, "recording.late_report").order_by("path")

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError("开始日期不能晚于结束日期")
        return data


class MarkForm(forms.Form):
    """A mark on the timeline: a point in time and the regulation item it shows."""

    offset_seconds = forms.FloatField(label="时间点（秒）", min_value=0,
                                      max_value=limits.MAX_OFFSET_SECONDS,
                                      widget=QuickNumberInput)
    label = forms.ChoiceField(label="标注内容", choices=MarkLabel.choices, widget=QuickSelect)
    note = forms.CharField(label="说明", max_length=limits.NOTE, required=False,
                           widget=QuickTextInput)

    def __init__(self, *args, duration: float | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.duration = duration

    def clean_offset_seconds(self):
        value = self.cleaned_data["offset_seconds"]
        if self.duration is not None and value > self.duration + 0.5:
            raise forms.ValidationError(f"时间点超出记录时长（{self.duration:.1f} 秒）")
        return value


class UploadContextForm(forms.Form):
    """What the uploader says about the files (pick lists only; the ingest service checks
    the officer's qualification (第十一条) and the device (第十八条) again)."""

    device = forms.ModelChoiceField(
        label="执法记录设备",
        queryset=Device.objects.none(),
        required=False,
        empty_label="（未选择）",
        to_field_name="number",  # the tus server takes the number printed on the device
    )
    officer = forms.ModelChoiceField(
        label="执法人员", queryset=Officer.objects.none(), required=False, empty_label="（本人）"
    )
    case = forms.ModelChoiceField(
        label="关联案件", queryset=Case.objects.none(), required=False, empty_label="（不关联）"
    )
    patrol = forms.ModelChoiceField(
        label="关联日常巡查",
        queryset=Patrol.objects.none(),
        required=False,
        empty_label="（不关联）",
    )
    party = forms.ModelChoiceField(
        label="当事人", queryset=Party.objects.none(), required=False, empty_label="（不关联）"
    )
    location = forms.CharField(label="地点", max_length=limits.NAME, required=False)
    captured_at = forms.DateTimeField(
        label="拍摄时间（文件中没有时填写）",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        units = units_for(user, "recording.upload")
        self.fields["device"].queryset = (
            Device.objects.restrict(user, "device.view").order_by("number")
            if scope_for(user_role(user), "device.view")
            else Device.objects.filter(unit__in=units).order_by("number")
        )
        self.fields["officer"].queryset = Officer.objects.filter(unit__in=units).order_by("name")
        self.fields["case"].queryset = (
            Case.objects.restrict(user, "case.view")
            .filter(unit__in=units)
            .order_by("-opened_on", "-id")
        )
        self.fields["patrol"].queryset = (
            Patrol.objects.restrict(user, "patrol.view")
            .filter(unit__in=units)
            .order_by("-date", "-id")
        )
        self.fields["party"].queryset = (
            Party.objects.restrict(user, "party.view").filter(unit__in=units).order_by("name")
        )


class LinkForm(forms.Form):
    """Link a recording to its case (by the number on the file) and a party of that case
    (第十八条 classification). Changing an existing link needs a reason (the service checks)."""

    case_number = forms.CharField(label="案件编号", max_length=limits.SEARCH, required=False,
                                  help_text="例如 冀人社监〔2026〕12号", widget=QuickTextInput)
    party = forms.ModelChoiceField(label="当事人", queryset=None, required=False,
                                   empty_label="（不变）")
    reason = forms.CharField(label="更改理由", max_length=limits.NOTE, required=False,
                             help_text="已关联的案件或当事人要更改时必填",
                             widget=QuickTextInput)

    def __init__(self, *args, user=None, recording=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user, self.recording = user, recording
        case = recording.case if recording is not None else None
        parties = case.parties.all() if case is not None else Party.objects.none()
        self.fields["party"].queryset = parties
        self.fields["party"].label_from_instance = lambda p: p.masked_name

    def clean_case_number(self):
        number = self.cleaned_data["case_number"].strip()
        if not number:
            return None
        case = Case.objects.restrict(self.user, "recording.link").filter(number=number).first()
        if case is None:
            raise forms.ValidationError("没有这个案件编号，或无权关联到该案件")
        return case

    def clean(self):
        data = super().clean()
        if not self.errors and data.get("case_number") is None and data.get("party") is None:
            raise forms.ValidationError("请填写案件编号或选择当事人")
        return data
