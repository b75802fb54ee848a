"""Forms of access requests (调阅申请, 第十六条): asking, and the approver's decision."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils import timezone

from liuhen.access.choices import UseAction
from liuhen.access.grants import MAX_DAYS
from liuhen.core import limits

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AccessRequestForm(forms.Form):
    """What a requester fills in: uses, work reason, period (第十六条: 因工作需要)."""

    actions = forms.MultipleChoiceField(label="申请事项", choices=UseAction.choices,
                                        widget=forms.CheckboxSelectMultiple,
                                        initial=[UseAction.VIEW])
    reason = forms.CharField(label="工作事由", max_length=limits.REASON,
                             widget=forms.Textarea(attrs={"rows": 3}))
    wanted_from = forms.DateField(label="期限自", widget=_DATE)
    wanted_until = forms.DateField(label="期限至", widget=_DATE,
                                   help_text=f"一次最长 {MAX_DAYS} 天")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["wanted_from"].initial = today
        self.fields["wanted_until"].initial = today + timedelta(days=6)


class DecisionForm(forms.Form):
    """The approver's decision: approve (perhaps narrowed) or refuse with a reason."""

    decision = forms.ChoiceField(choices=[("approve", "批准"), ("refuse", "不予批准")])
    actions = forms.MultipleChoiceField(label="批准事项", choices=UseAction.choices,
                                        widget=forms.CheckboxSelectMultiple, required=False)
    valid_until = forms.DateField(label="授权至", widget=_DATE, required=False)
    note = forms.CharField(label="审批意见", max_length=limits.REASON, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))
