"""Pages of the evidence vault: list, recording page and player, streaming, upload, late report.

Thin: they parse input, call a query or a service, render. Every read of a recording, of its
bytes and of the reports is audited (第二十六条 (三)); a forbidden recording answers 404 like a
missing one, with a denied audit entry (``access.services.get_for``).

Audit of streaming: a player fetches one file in many ``Range`` requests while seeking, so an
entry per request would drown the log. ``recording.streamed`` is written for a request that
starts a playback: without ``Range`` or with a range starting at byte 0 (what browsers send
first, and again when a new playback starts). Requests for later ranges of the same file are
not audited one by one.

Using the content (第十六条) is checked by ``access.use.check_use`` on every stream: a view
goes only to the player's own fetches. A copy (``?download=1``, or any other fetch of the
bytes) needs the role's ``recording.download`` and a copy grant — refused and audited as
``recording.downloaded`` without them — and is never the stored file: it is sent to the page
that makes a watermarked derived copy (disclosure.copies, 第十六条、第十七条). Streams are audited
with the right relied on and the grant number.
"""

from __future__ import annotations

import functools

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch, Q
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from liuhen.access.choices import UseAction
from liuhen.access.querysets import allows, in_scope
from liuhen.access.services import check_use, get_for, require
from liuhen.access.use import right_for, watermark_text
from liuhen.audit.models import AuditEntry
from liuhen.audit.services import record, record_denied
from liuhen.core.errors import Forbidden, LiuhenError
from liuhen.devices.queries import corrected_capture_time
from liuhen.evidence import events, link_views, queries
from liuhen.evidence.choices import DerivativeKind, MarkLabel, RecordingKind
from liuhen.evidence.forms import (
    LateReportForm,
    LinkForm,
    MarkForm,
    RecordingFilterForm,
    UploadContextForm,
)
from liuhen.evidence.models import Derivative, Recording, UploadSession
from liuhen.evidence.services import add_mark, link_recording
from liuhen.evidence.storage import get_storage
from liuhen.evidence.streaming import RangeNotSatisfiable, parse_range, ranged_response

AUDIT_TRAIL_ROWS = 200


def page_errors(view):
    """Render a service error as a Chinese page with its own status, never a 500."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except LiuhenError as exc:
            return render(
                request,
                "evidence/error.html",
                {"error": exc.message, "code": exc.code},
                status=exc.status,
            )

    return wrapped


def _storage():
    return get_storage()


@login_required
@page_errors
@require_GET
def recording_list(request):
    """The recordings the user may see, filtered and keyset-paginated (第十八条)."""
    require(request.user, "recording.view", event=events.event_recording_listed)
    form = RecordingFilterForm(request.GET or None, user=request.user)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    page = queries.recording_page(
        user=request.user, filters=filters, cursor=request.GET.get("after")
    )
    record(
        actor=request.user,
        action=events.event_recording_listed,
        detail={
            "filters": {k: str(getattr(v, "pk", v)) for k, v in filters.items() if v},
            "after": request.GET.get("after", ""),
            "rows": len(page.rows),
        },
    )
    query = request.GET.copy()
    query.pop("after", None)
    try:
        number = max(1, min(int(request.GET.get("page", 1)), 1_000_000)) if page.rows else 1
    except ValueError:
        number = 1
    query.pop("page", None)
    first_query = query.urlencode()
    next_query = None
    if page.next_cursor:
        query["after"], query["page"] = page.next_cursor, str(number + 1)
        next_query = query.urlencode()
    return render(
        request,
        "evidence/recording_list.html",
        {
            "form": form,
            "page": page,
            "page_number": number if request.GET.get("after") else 1,
            "next_query": next_query,
            "first_query": first_query,
            "is_first": not request.GET.get("after"),
        },
    )


# What the recording page shows besides the recording itself.
# Four relations joined, the others read by their ids: PostgreSQL plans a join of all nine
# tables in 9-16 ms (its join search grows with each table: 4 tables 0.5 ms, 6 1.9 ms, 7 7.9 ms;
# EXPLAIN on 1,000,000 recordings, issue 9 item 3) to execute it in 0.2 ms, on every recording
# page: the largest part of the database's CPU for that page under load.
_DETAIL_ROWS = Recording.objects.select_related(
    "unit", "device", "officer", "case"
).prefetch_related(
    "patrol", "party",
    # The uploader with their officer in one query (two tables: planned in no time).
    Prefetch("uploaded_by", queryset=get_user_model().objects.select_related("officer")),
)


@login_required
@page_errors
@require_GET
def recording_detail(request, pk: int, panels: str | None = None):
    """The recording page: player with marks, metadata, digests, provenance, audit trail
    (``panels``: a template of the apps above the vault, included by liuhen/web/views.py)."""
    recording = get_for(
        request.user, "recording.view", _DETAIL_ROWS, pk, read_event=events.event_recording_viewed
    )
    context = {**_detail_context(request, recording), "panels": panels}
    return render(request, "evidence/recording_detail.html", context)


def _detail_context(request, recording: Recording, *, mark_form=None, link_form=None) -> dict:
    derivatives = list(recording.derivatives.order_by("kind", "storage_key"))
    proxy = next((d for d in derivatives if d.kind == DerivativeKind.PROXY), None)
    poster = next((d for d in derivatives if d.kind == DerivativeKind.POSTER), None)
    thumbnails = [d for d in derivatives if d.kind == DerivativeKind.THUMBNAIL]
    marks = list(recording.mark_list())
    mark_ids = [str(m.pk) for m in marks]
    trail = list(
        AuditEntry.objects.filter(
            Q(object_type="evidence.recording", object_id=str(recording.pk))
            | Q(object_type="evidence.mark", object_id__in=mark_ids)
        ).order_by("-seq")[:AUDIT_TRAIL_ROWS]
    )
    base = reverse("recording_detail", args=[recording.pk])
    play_url = f"{base}proxy" if proxy else f"{base}original"
    copy_right = _may_copy(request, recording)
    view_right = copy_right or right_for(request.user, recording, UseAction.VIEW)
    can_mark = recording.kind in (RecordingKind.VIDEO, RecordingKind.AUDIO) and in_scope(
        request.user, "recording.mark", recording
    )
    duration = recording.duration_seconds or 0
    for mark in marks:  # a display value only, the same whoever reads the marks next
        mark.percent = min(100.0, 100.0 * mark.offset_seconds / duration) if duration else 0
    return {
        "recording": recording,
        # 第十八条: a known device clock offset corrects the capture time, shown beside it.
        "clock_correction": corrected_capture_time(recording.device, recording.captured_start),
        "proxy": proxy,
        "poster": poster,
        "thumbnails": thumbnails,
        "derivatives": derivatives,
        "marks": marks,
        "trail": trail,
        "play_url": play_url,
        "play_type": proxy.media_type if proxy else recording.media_type,
        "submissions": list(recording.submissions.select_related("submitted_by__officer")),
        "can_download": copy_right is not None,
        # 第十六条: the grant an export of this recording would rest on (its page lets the
        # holder choose what to take); by-right rows never export.
        "export_grant": getattr(right_for(request.user, recording, UseAction.EXPORT), "grant",
                                None),
        "view_right": view_right,
        "watermark": watermark_text(request.user, view_right) if view_right else "",
        "request_url": f"{reverse('access_request_new')}?target=evidence.recording:{recording.pk}",
        "can_mark": can_mark,
        "mark_form": mark_form or MarkForm(duration=recording.duration_seconds),
        "can_link": in_scope(request.user, "recording.link", recording),
        "link_form": link_form or LinkForm(user=request.user, recording=recording),
        **link_views.links_context(request, recording),
        "late_text": queries.human_duration(recording.late_seconds),
        "mark_labels": MarkLabel.choices,
    }


@login_required
@page_errors
@require_POST
def recording_mark(request, pk: int):
    """Add a mark (htmx): answers the marks fragment, or the form with its errors."""

    recording = get_for(request.user, "recording.mark", Recording.objects, pk)
    form = MarkForm(request.POST, duration=recording.duration_seconds)
    status = 200
    if form.is_valid():
        try:
            add_mark(actor=request.user, recording=recording, **form.cleaned_data)
            form = None
        except LiuhenError as exc:
            form.add_error(None, exc.message)
            status = 400
    else:
        status = 400
    context = _detail_context(request, recording, mark_form=form)
    if request.headers.get("HX-Request"):  # htmx swaps 2xx only: errors show in the fragment
        return render(request, "evidence/_marks.html", context)
    return render(request, "evidence/recording_detail.html", context, status=status)


@login_required
@page_errors
@require_POST
def recording_link(request, pk: int):
    """Link the recording to a case and a party of it (第十八条); a changed link needs a reason.

    On success back to the recording page (its audit trail shows the change); errors are shown
    in the form, in Chinese, with nothing changed."""

    recording = get_for(request.user, "recording.link", Recording.objects, pk)
    form = LinkForm(request.POST, user=request.user, recording=recording)
    if form.is_valid():
        try:
            link_recording(actor=request.user, recording=recording,
                           case=form.cleaned_data["case_number"],
                           party=form.cleaned_data["party"],
                           reason=form.cleaned_data["reason"])
            return redirect("recording_detail", pk=recording.pk)
        except LiuhenError as exc:
            form.add_error(None, exc.message)
    context = _detail_context(request, _DETAIL_ROWS.get(pk=recording.pk), link_form=form)
    return render(request, "evidence/recording_detail.html", context, status=400)


def _starts_playback(request) -> bool:
    """Whether this request starts a playback (audited) rather than continuing one."""
    header = request.headers.get("Range")
    if not header:
        return True
    try:
        byte_range = parse_range(header, 1 << 62)
    except RangeNotSatisfiable:
        return False
    return byte_range is None or byte_range.start == 0


# Fetches a browser's player makes (<video>, <audio>, <img>): the only way content is served
# as a view. Browsers that predate Sec-Fetch-Dest send Range from their media elements.
PLAYER_DESTINATIONS = frozenset({"video", "audio", "image", "track"})


def _player_fetch(request) -> bool:
    """Whether the request is the player fetching what it shows, not a copy being taken.

    The server tells viewing from copying (issue 16 item 11, 第十六条), not a query
    parameter: a copy is ``?download=1`` or any fetch that is not the player's (a top-level
    navigation has ``Sec-Fetch-Dest: document``). What a player is sent can still be kept by
    a determined user; that is why a view is watermarked on screen and audited, and why the
    copy needs ``recording.download`` and a copy grant, and is a watermarked derived file."""
    dest = request.headers.get("Sec-Fetch-Dest")
    if dest is not None:
        return dest in PLAYER_DESTINATIONS
    return "Range" in request.headers


def _may_copy(request, recording: Recording):
    """The copy right for ``recording``, or None: the role's ``recording.download`` in scope
    and a copy grant (copying always needs approval, 第十六条)."""
    if not in_scope(request.user, "recording.download", recording):
        return None
    return right_for(request.user, recording, UseAction.COPY)


def _stream(
    request,
    recording: Recording,
    *,
    key: str,
    size: int,
    content_type: str,
    filename: str,
    etag: str,
    what: str,
    version: str = "",
):
    """Stream one stored file of ``recording`` with Range support to the player (``check_use``
    view), audited as documented; a copy is refused or sent to the watermarked copy's page.
    An original is read at its pinned version (issue 14 item 5): a newer version put on its
    S3 key is never served."""
    copy_right = _may_copy(request, recording)
    if request.GET.get("download") == "1" or not _player_fetch(request):
        if copy_right is None:
            record_denied(
                actor=request.user,
                action=events.event_recording_downloaded,
                target=recording,
                reason="无复制授权（第十六条）" if allows(request.user, "recording.download")
                else "角色无下载权限",
                detail={"file": what, "use": "copy"},
            )
            raise Forbidden("原件和副本只能在批准复制后下载（第十六条）；查阅请在记录页面的播放器中进行",
                            code="copy_not_allowed")
        # 第十六条、第十七条第二款: a copy is a derived file with the holder, the time and the
        # grant burnt in, never the stored bytes; its page makes it (and audits it).
        return redirect(f"{reverse('use_copy_new')}?target=evidence.recording:{recording.pk}")
    else:
        use = copy_right or check_use(request.user, recording, UseAction.VIEW,
                                      event=events.event_recording_streamed)
        if request.method == "GET" and _starts_playback(request):
            record(
                actor=request.user,
                action=events.event_recording_streamed,
                target=recording,
                detail={"file": what, "range": request.headers.get("Range", ""), **use.detail},
            )
    storage = _storage()
    response = ranged_response(
        request,
        opener=lambda: storage.open(key, version),
        size=size,
        content_type=content_type,
        filename=filename,
        download=False,
        etag=etag,
    )
    response["Cache-Control"] = "private, no-store"
    return response


class Disposed(LiuhenError):
    code = "disposed"
    status = 410
    message = "该音像记录的原件已依法销毁（第十四条），仅保留登记信息和固定值"


def _get_viewable(request, pk: int) -> Recording:
    recording = get_for(request.user, "recording.view", Recording.objects, pk)
    if recording.disposed_at is not None:
        raise Disposed(f"该音像记录的原件已依法销毁（销毁清册 {recording.disposal_register}），"
                       "仅保留登记信息和固定值")
    return recording


@login_required
@page_errors
@require_http_methods(["GET", "HEAD"])
def recording_original(request, pk: int):
    """The original bytes, exactly as stored, to the player (Range); ``?download=1`` goes to
    the watermarked copy (第十六条)."""
    recording = _get_viewable(request, pk)
    return _stream(
        request,
        recording,
        key=recording.storage_key,
        size=recording.size,
        content_type=recording.media_type or "application/octet-stream",
        filename=recording.original_name,
        etag=recording.sha256,
        what="original",
        version=recording.storage_version,
    )


def _derivative_response(request, pk: int, kind: str, index: int = 0):
    recording = _get_viewable(request, pk)
    derivatives = list(
        Derivative.objects.filter(recording=recording, kind=kind).order_by("storage_key")
    )
    if index >= len(derivatives):
        raise Http404
    derivative = derivatives[index]
    stem = recording.original_name.rsplit(".", 1)[0]
    extension = derivative.storage_key.rsplit(".", 1)[-1]
    suffix = {"proxy": "播放代理", "poster": "封面"}.get(kind, f"缩略图{index + 1}")
    return _stream(
        request,
        recording,
        key=derivative.storage_key,
        size=derivative.size,
        content_type=derivative.media_type,
        filename=f"{stem}_{suffix}.{extension}",
        etag=derivative.sha256,
        what=f"{kind}:{derivative.storage_key}",
    )


@login_required
@page_errors
@require_http_methods(["GET", "HEAD"])
def recording_proxy(request, pk: int):
    """The browser-playable proxy (derived, H.264/AAC MP4)."""
    return _derivative_response(request, pk, DerivativeKind.PROXY)


@login_required
@page_errors
@require_http_methods(["GET", "HEAD"])
def recording_poster(request, pk: int):
    return _derivative_response(request, pk, DerivativeKind.POSTER)


@login_required
@page_errors
@require_http_methods(["GET", "HEAD"])
def recording_thumbnail(request, pk: int, index: int):
    return _derivative_response(request, pk, DerivativeKind.THUMBNAIL, index)


@login_required
@page_errors
@require_GET
def upload_page(request):
    """Drag-and-drop, resumable (tus) upload of recordings (第十三条: stored within 24 hours)."""
    require(request.user, "recording.upload", event=events.event_upload_page_viewed)
    form = UploadContextForm(user=request.user)
    return render(request, "evidence/upload.html", {"form": form})


@login_required
@require_GET
def upload_result(request, upload_id):
    """JSON result of one of the user's own tus uploads (the upload page polls it)."""
    upload = (
        UploadSession.objects.filter(pk=upload_id, user=request.user)
        .select_related("recording")
        .first()
    )
    if upload is None:
        return JsonResponse({"code": "not_found", "message": "上传不存在或无权访问"}, status=404)
    body = {
        "id": str(upload.pk),
        "offset": upload.offset,
        "length": upload.length,
        "completed": upload.completed_at is not None,
        "duplicate": upload.duplicate,
        "error": upload.error or None,
        "recording": None,
    }
    if upload.recording is not None:
        rec = upload.recording
        body["recording"] = {
            "id": rec.pk,
            "url": reverse("recording_detail", args=[rec.pk]),
            "sha256": rec.sha256,
            "sm3": rec.sm3,
            "size": rec.size,
            "kind": rec.get_kind_display(),
            "is_late": rec.is_late,
            "flags": rec.flag_labels,
        }
    return JsonResponse(body)


@login_required
@page_errors
@require_GET
def late_report(request):
    """Late uploads (第十三条) for records keepers, unit heads and the legal affairs office."""
    require(request.user, "recording.late_report", event=events.event_recording_late_report_viewed)
    form = LateReportForm(request.GET or None, user=request.user)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    report = queries.late_report(
        user=request.user,
        start=filters.get("start"),
        end=filters.get("end"),
        unit=filters.get("unit"),
    )
    record(
        actor=request.user,
        action=events.event_recording_late_report_viewed,
        detail={
            "start": str(filters.get("start") or ""),
            "end": str(filters.get("end") or ""),
            "unit": filters["unit"].pk if filters.get("unit") else None,
            "rows": report.total,
        },
    )
    for row in [*report.per_unit, *report.per_uploader]:
        row["total_text"] = queries.human_duration(row["total"])
        row["worst_text"] = queries.human_duration(row["worst"])
    for rec in report.rows:
        rec.late_text = queries.human_duration(rec.late_seconds)
    return render(request, "evidence/late_report.html", {"form": form, "report": report})
