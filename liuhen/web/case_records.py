"""The page of a case's written records: documents, internal approvals, service and waivers,
with what the case still lacks (completeness, from the rules app) — hence in the top layer.

Thin over ``records.services``; every error shows its Chinese message on the page (never a
500). Reads are audited through ``get_for``; a forbidden case answers 404.
"""

from __future__ import annotations

import re

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from liuhen.access.choices import UseAction
from liuhen.access.querysets import unit_allowed
from liuhen.access.services import check_use, get_for
from liuhen.audit.services import record
from liuhen.cases.models import Case
from liuhen.core import limits
from liuhen.core.errors import LiuhenError
from liuhen.core.files import save_upload
from liuhen.core.pages import first_error, handles_errors
from liuhen.evidence.storage import get_storage
from liuhen.records import events
from liuhen.records import services as rs
from liuhen.records.choices import (
    ApprovalAction,
    ApprovalDecision,
    DocumentType,
    ServiceMethod,
    SignatureStatus,
)
from liuhen.records.models import Approval, Document, Service
from liuhen.rules import engine
from liuhen.rules import services as rules_services


class DocumentForm(forms.Form):
    doc_type = forms.ChoiceField(label="文书类型", choices=DocumentType.choices)
    number = forms.CharField(label="文号", max_length=limits.DOC_NUMBER, required=False)
    date = forms.DateField(
        label="文书日期", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    signature = forms.ChoiceField(
        label="签收情况", choices=SignatureStatus.choices, initial=SignatureStatus.SIGNED
    )
    file = forms.FileField(label="扫描件/照片/PDF", required=False)
    bill_number = forms.CharField(label="票据号码（收费票据）", max_length=60, required=False)
    amount = forms.DecimalField(
        label="金额（元，收费票据）", max_digits=14, decimal_places=2, required=False, min_value=0,
        max_value=limits.MAX_AMOUNT,
    )
    # 行政处罚法第五十七条第二款: a 集体讨论记录 is a meeting (its date is the document's date).
    participants = forms.CharField(
        label="参加讨论人员（集体讨论记录，以顿号或逗号分隔）", max_length=limits.NOTE, required=False
    )
    conclusion = forms.CharField(
        label="讨论结论（集体讨论记录）", required=False, max_length=limits.SUMMARY, widget=forms.Textarea(attrs={"rows": 2})
    )
    replaces = forms.IntegerField(
        label="替换的文书（编号）", required=False, widget=forms.HiddenInput, min_value=1,
        max_value=2**63 - 1
    )
    note = forms.CharField(label="备注", required=False, max_length=limits.REASON,
                           widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self):
        data = super().clean()
        # 第九条: a fee receipt is entered with its bill number and amount.
        if data.get("doc_type") == DocumentType.FEE_RECEIPT:
            if not data.get("bill_number"):
                self.add_error("bill_number", "收费票据须填写票据号码（第九条）")
            if data.get("amount") is None:
                self.add_error("amount", "收费票据须填写金额（第九条）")
        return data

    def extra(self) -> dict:
        data = self.cleaned_data
        if data.get("doc_type") == DocumentType.COLLECTIVE_DISCUSSION:
            names = re.split(r"[、,，;；\s]+", data.get("participants") or "")
            return {
                "participants": [n for n in names if n],
                "conclusion": (data.get("conclusion") or "").strip(),
            }
        if data.get("doc_type") != DocumentType.FEE_RECEIPT:
            return {}
        return {"bill_number": data["bill_number"].strip(), "amount": str(data["amount"])}


class ApprovalForm(forms.Form):
    action = forms.ChoiceField(
        label="审批事项",
        choices=[c for c in ApprovalAction.choices if c[0] != ApprovalAction.WAIVER],
    )
    reason = forms.CharField(
        label="申请理由", required=False, max_length=limits.REASON, widget=forms.Textarea(attrs={"rows": 2})
    )


class WaiverForm(forms.Form):
    requirement_code = forms.ChoiceField(label="缺项")
    reason = forms.CharField(
        label="缺项说明（理由）", min_length=10, max_length=limits.REASON, widget=forms.Textarea(attrs={"rows": 3})
    )


class ServiceForm(forms.Form):
    document = forms.ChoiceField(label="送达文书")
    method = forms.ChoiceField(label="送达方式", choices=ServiceMethod.choices)
    recipient = forms.CharField(label="受送达人", max_length=limits.NAME)
    signature = forms.ChoiceField(
        label="签收情况", choices=SignatureStatus.choices, initial=SignatureStatus.SIGNED
    )
    served_at = forms.DateTimeField(
        label="送达时间",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    witnesses = forms.CharField(label="见证人", max_length=limits.NAME, required=False)


def _case(request, pk, action="document.view", denied=None):
    return get_for(
        request.user,
        action,
        Case.objects.select_related("unit"),
        pk,
        read_event=events.event_document_viewed if denied is None else None,
        denied_event=denied,
    )


def _context(request, case, **forms_given):
    user = request.user
    snap = rules_services.completeness_for(case)
    missing = [i for i in rules_services.describe(snap) if i["status"] == "missing"]
    rule_id = request.GET.get("rule", "")
    selected = engine.rules_by_id().get(rule_id)
    initial_doc = {}
    if selected:
        doc_needs = [n["document"] for n in selected.needs if "document" in n]
        if doc_needs:
            initial_doc["doc_type"] = doc_needs[0]
    waiver_form = forms_given.get("waiver_form") or WaiverForm(
        initial={"requirement_code": rule_id}
    )
    waiver_form.fields["requirement_code"].choices = [
        (i["id"], f"{i['title']}（{i['article']}）") for i in missing
    ]
    documents = list(
        Document.objects.filter(case=case)
        .select_related("created_by")
        .order_by("doc_type", "-version", "id")
    )
    service_form = forms_given.get("service_form") or ServiceForm()
    service_form.fields["document"].choices = [
        (d.pk, f"{d.get_doc_type_display()} {d.number}") for d in documents if d.is_current
    ]
    approvals = list(
        Approval.objects.filter(case=case)
        .select_related("requested_by__officer", "approver__officer")
        .order_by("-requested_at", "-id")
    )
    for a in approvals:
        a.may_decide = (
            a.decision == ApprovalDecision.PENDING
            and rs.authority_problem(actor=user, approval=a) is None
        )
    editable = not case.archived_at
    return {
        "case": case,
        "snap": snap,
        "missing": missing,
        "selected": selected,
        "documents": documents,
        "approvals": approvals,
        "services": list(Service.objects.filter(case=case).select_related("document")),
        "document_form": forms_given.get("document_form") or DocumentForm(initial=initial_doc),
        "approval_form": forms_given.get("approval_form") or ApprovalForm(),
        "waiver_form": waiver_form,
        "service_form": service_form,
        "may_add": editable and unit_allowed(user, "document.create", case.unit),
        "may_request": editable and unit_allowed(user, "case.change", case.unit),
    }


@login_required
@handles_errors
def case_records(request, pk):
    """文字记录、审批与送达: what the case holds and forms to add what it lacks."""
    case = _case(request, pk)
    return render(request, "records/records.html", _context(request, case))


def _fail(request, case, exc: LiuhenError, **forms_given):
    messages.error(request, exc.message)
    return render(
        request,
        "records/records.html",
        _context(request, case, **forms_given),
        status=exc.status,
    )


@login_required
@require_POST
@handles_errors
def document_add(request, pk):
    case = _case(request, pk, "document.create", denied=events.event_document_refused)
    form = DocumentForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "请检查填写的内容")
        return render(
            request,
            "records/records.html",
            _context(request, case, document_form=form),
            status=400,
        )
    data = form.cleaned_data
    replaces = None
    if data.get("replaces"):
        replaces = get_for(
            request.user,
            "document.create",
            Document.objects.filter(case=case),
            data["replaces"],
            denied_event=events.event_document_refused,
        )
    upload = data.get("file")
    try:
        with save_upload(upload) as path:
            doc = rs.add_document(
                actor=request.user,
                case=case,
                doc_type=data["doc_type"],
                file_path=path,
                original_name=upload.name if upload else "",
                number=data["number"],
                date=data["date"],
                signature=data["signature"],
                replaces=replaces,
                note=data["note"],
                extra=form.extra(),
            )
    except LiuhenError as exc:
        return _fail(request, case, exc, document_form=form)
    messages.success(request, f"已添加文字记录：{doc}")
    return redirect("case_records", pk=case.pk)


@login_required
@require_POST
@handles_errors
def approval_request(request, pk):
    case = _case(request, pk, "case.change", denied=events.event_approval_refused)
    waiver = request.POST.get("kind") == "waiver"
    form = WaiverForm(request.POST) if waiver else ApprovalForm(request.POST)
    if waiver:
        form.fields["requirement_code"].choices = [
            (code, code) for code in rules_services.completeness_for(case).missing
        ]
    if not form.is_valid():
        messages.error(request, "请检查填写的内容：" + first_error(form))
        key = "waiver_form" if waiver else "approval_form"
        return render(
            request,
            "records/records.html",
            _context(request, case, **{key: form}),
            status=400,
        )
    data = form.cleaned_data
    try:
        rs.request_approval(
            actor=request.user,
            case=case,
            action=ApprovalAction.WAIVER if waiver else data["action"],
            reason=data["reason"],
            requirement_code=data.get("requirement_code", ""),
        )
    except LiuhenError as exc:
        return _fail(request, case, exc)
    messages.success(request, "已提交审批申请")
    return redirect("case_records", pk=case.pk)


@login_required
@require_POST
@handles_errors
def approval_decide(request, pk, approval_id):
    case = _case(request, pk, "document.view", denied=events.event_approval_refused)
    approval = get_for(
        request.user,
        "document.view",
        Approval.objects.filter(case=case),
        approval_id,
        denied_event=events.event_approval_refused,
    )
    opinion = request.POST.get("opinion", "")
    try:
        limits.check_length(opinion, limit=limits.REASON, field="审批意见")
        rs.decide_approval(
            actor=request.user,
            approval=approval,
            approve=request.POST.get("decision") == "approve",
            opinion=opinion,
        )
    except LiuhenError as exc:
        return _fail(request, case, exc)
    messages.success(request, "已审批")
    return redirect("case_records", pk=case.pk)


@login_required
@require_POST
@handles_errors
def service_add(request, pk):
    case = _case(request, pk, "document.create", denied=events.event_document_refused)
    form = ServiceForm(request.POST)
    form.fields["document"].choices = [
        (str(d), str(d))
        for d in Document.objects.filter(case=case, is_current=True).values_list("pk", flat=True)
    ]
    if not form.is_valid():
        messages.error(request, "请检查填写的内容")
        return render(
            request,
            "records/records.html",
            _context(request, case, service_form=form),
            status=400,
        )
    data = form.cleaned_data
    try:
        rs.record_service(
            actor=request.user,
            case=case,
            document=Document.objects.get(pk=data["document"]),
            method=data["method"],
            served_at=data["served_at"],
            recipient=data["recipient"],
            signature=data["signature"],
            witnesses=data["witnesses"],
        )
    except LiuhenError as exc:
        return _fail(request, case, exc, service_form=form)
    messages.success(request, "已登记送达")
    return redirect("case_records", pk=case.pk)


@login_required
@handles_errors
def document_download(request, pk, doc_id):
    """The stored file of a document, as stored, shown in the browser: a view under
    ``check_use`` (第十六条: by right or by grant), audited with the right or grant number."""

    case = _case(request, pk, "document.view", denied=events.event_document_refused)
    doc = get_for(
        request.user,
        "document.view",
        Document.objects.filter(case=case).select_related("case__unit"),
        doc_id,
    )
    if not doc.storage_key:
        messages.error(request, "该文字记录没有附件")
        return redirect("case_records", pk=case.pk)
    if doc.disposed_at:  # 第十四条: disposed of with its case file; its tombstone stays
        messages.error(request, f"该文字记录已依销毁清册 {doc.disposal_register} 销毁，文件已删除")
        return redirect("case_records", pk=case.pk)
    use = check_use(request.user, doc, UseAction.VIEW, event=events.event_document_downloaded)
    record(actor=request.user, action=events.event_document_downloaded, target=doc,
           detail=use.detail)
    response = FileResponse(
        get_storage().open(doc.storage_key),
        as_attachment=False,
        filename=doc.original_name or f"document-{doc.pk}",
        content_type=doc.media_type or "application/octet-stream",
    )
    response["X-Content-SHA256"] = doc.sha256
    response["Cache-Control"] = "private, no-store"
    return response


