"""Spot checks and playback reviews (第二十三条): open a check (the plan and its reproducible
draw), redraw to prove the sample, review each item against the criteria (data), findings on
the recording's timeline, 限期整改 asked of the unit and its follow-up, the inspection ledger.
Each service checks the caller, writes its rows and audit entry in one transaction."""

from __future__ import annotations

import secrets
import tomllib
from datetime import date
from functools import cache
from pathlib import Path

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from liuhen.access.querysets import allows, unit_allowed
from liuhen.audit.services import record, record_denied
from liuhen.core.display import object_type_label
from liuhen.core.errors import Forbidden, IllegalTransition, InvalidInput
from liuhen.core.per_request import remembered
from liuhen.evidence.models import Recording
from liuhen.supervision import events, sampling
from liuhen.supervision.choices import Population, RectificationStatus, ReviewResult
from liuhen.supervision.models import Rectification, ReviewFinding, SpotCheck, SpotCheckItem

CRITERIA_FILE = Path(__file__).resolve().parent / "data" / "review_criteria.toml"
OBJECT_TYPES = {Population.RECORDINGS: "evidence.recording", Population.CASES: "cases.case",
                Population.PATROLS: "cases.patrol"}
MAX_SAMPLE = 2000


@cache
def criteria() -> dict[str, dict]:
    """The review criteria by id, in the file's order (第二十三条, 第二十条, …)."""
    with open(CRITERIA_FILE, "rb") as fh:
        return {c["id"]: c for c in tomllib.load(fh)["criterion"]}


def _require(actor, action: str, event: str, target=None) -> None:
    if not allows(actor, action):
        record_denied(actor=actor, action=event, target=target, reason=f"角色无权执行：{action}")
        raise Forbidden("只有法制机构可以组织抽查和评查（第二十三条）")


def open_spot_check(*, actor, title: str, period_start: date, period_end: date,
                    population: str, strata: str, per_stratum: int, filters: dict | None = None,
                    seed: str | None = None) -> SpotCheck:
    """Open a spot check: draw its sample and keep the seed and the population's identity."""
    _require(actor, "spotcheck.manage", events.event_spot_check_opened)
    title = (title or "").strip()
    if not title:
        raise InvalidInput("请填写抽查名称")
    if population not in Population.values:
        raise InvalidInput("抽查对象不正确")
    if period_end < period_start:
        raise InvalidInput("期间止不能早于期间起")
    if not 1 <= per_stratum <= 500:
        raise InvalidInput("每层抽取数应在 1–500 之间")
    filters = filters or {}
    seed = (seed or "").strip() or secrets.token_hex(8)
    drawn = sampling.draw(population=population, start=period_start, end=period_end,
                          filters=filters, strata=strata, per_stratum=per_stratum, seed=seed)
    if not drawn.sample:
        raise InvalidInput("该期间没有可抽查的对象")
    if len(drawn.sample) > MAX_SAMPLE:
        raise InvalidInput(f"样本过大（{len(drawn.sample)}），请减少每层抽取数或缩小范围")
    with transaction.atomic():
        check = SpotCheck.objects.create(
            title=title[:200], period_start=period_start, period_end=period_end,
            population=population, filters=filters, strata=strata, per_stratum=per_stratum,
            seed=seed, draw_method=drawn.method, population_size=drawn.population_size,
            population_digest=drawn.population_digest, strata_sizes=drawn.strata_sizes,
            opened_by=actor)
        SpotCheckItem.objects.bulk_create([
            SpotCheckItem(spot_check=check, stratum=stratum, position=i, unit_id=unit_id,
                          object_type=OBJECT_TYPES[population], object_id=pk)
            for i, (stratum, pk, unit_id) in enumerate(drawn.sample, start=1)])
        record(actor=actor, action=events.event_spot_check_opened, target=check,
               detail={"seed": seed, "method": drawn.method, "population": population,
                       "strata": strata,
                       "per_stratum": per_stratum, "population_size": drawn.population_size,
                       "population_digest": drawn.population_digest,
                       "sample": len(drawn.sample)})
    return check


def redraw(*, actor, spot_check: SpotCheck) -> dict:
    """Draw again with the stored seed: does the population still have the same identity,
    and is the sample the same? (Anyone may check the office's draw this way.) The redraw
    counts the population from its records, never from the running tallies the opening
    draw may have used (``tallies``): it proves the stored identity independently."""
    drawn = sampling.draw(population=spot_check.population, start=spot_check.period_start,
                          end=spot_check.period_end, filters=spot_check.filters,
                          strata=spot_check.strata, per_stratum=spot_check.per_stratum,
                          seed=spot_check.seed, method=spot_check.draw_method, recount=True)
    stored = list(spot_check.items.order_by("position").values_list("stratum", "object_id"))
    result = {
        "same_population": drawn.population_digest == spot_check.population_digest,
        "same_sample": [(s, pk) for s, pk, _ in drawn.sample] == stored,
        "population_digest": drawn.population_digest,
    }
    record(actor=actor, action=events.event_spot_check_redrawn, target=spot_check,
           detail=result)
    return result


def review_item(*, actor, item: SpotCheckItem, scores: dict, result: str, comment: str = "",
                findings: list[dict] | None = None) -> SpotCheckItem:
    """Score an item against the criteria, add findings (criterion, moment, note), and give
    the overall result; a result other than 合格 needs at least one finding."""
    _require(actor, "spotcheck.manage", events.event_spot_check_item_reviewed, item)
    known = criteria()
    clean = {}
    for key, value in (scores or {}).items():
        if key not in known:
            raise InvalidInput(f"未知的评查项目：{key}")
        try:
            value = int(value)
        except (TypeError, ValueError):
            raise InvalidInput(f"“{known[key]['title']}”的分数应为整数")
        if not 0 <= value <= known[key]["max"]:
            raise InvalidInput(f"“{known[key]['title']}”的分数应在 0–{known[key]['max']} 之间")
        clean[key] = value
    if result not in ReviewResult.values:
        raise InvalidInput("请选择评查结论")
    findings = findings or []
    for finding in findings:
        if finding.get("criterion") not in known:
            raise InvalidInput("发现的问题须对应一个评查项目")
        if not (finding.get("note") or "").strip():
            raise InvalidInput("请描述发现的问题")
        offset = finding.get("offset_seconds")
        if offset is not None and offset < 0:
            raise InvalidInput("时间点不能为负数")
    if result != ReviewResult.PASSED and not findings and not item.findings.exists():
        raise InvalidInput("结论为存在问题或不合格时，须记录至少一项发现的问题")
    with transaction.atomic():
        item.scores, item.result, item.comment = clean, result, comment.strip()
        item.reviewer, item.reviewed_at = actor, timezone.now()
        item.save(update_fields=["scores", "result", "comment", "reviewer", "reviewed_at"])
        ReviewFinding.objects.bulk_create([
            ReviewFinding(item=item, criterion=f["criterion"],
                          offset_seconds=f.get("offset_seconds"), note=f["note"].strip(),
                          created_by=actor) for f in findings])
        record(actor=actor, action=events.event_spot_check_item_reviewed, target=item,
               detail={"scores": {known[k]["title"]: v for k, v in clean.items()},
                       "result": result, "findings": len(findings),
                       "object": f"{object_type_label(item.object_type)} {item.object_id} 号"})
    return item


def require_rectification_right(actor, item: SpotCheckItem) -> None:
    """Forbidden, audited, unless ``actor`` may ask for 限期整改 (the page asks this before it
    reads the form, so a refused attempt is in the log whatever the form held, 第二十六条)."""
    _require(actor, "spotcheck.manage", events.event_rectification_requested, item)


def request_rectification(*, actor, item: SpotCheckItem, request: str,
                          deadline: date) -> Rectification:
    """限期整改: ask the item's unit to correct what the review found, by ``deadline``."""
    require_rectification_right(actor, item)
    request = (request or "").strip()
    if not request:
        raise InvalidInput("请填写整改要求")
    if deadline is None or deadline <= timezone.localdate():
        raise InvalidInput("整改期限应晚于今天")
    if not item.result or item.result == ReviewResult.PASSED:
        raise IllegalTransition("只有评查发现问题的项目才需要整改")
    with transaction.atomic():
        rect = Rectification.objects.create(item=item, unit=item.unit, request=request,
                                            deadline=deadline, requested_by=actor)
        record(actor=actor, action=events.event_rectification_requested, target=rect,
               detail={"item": item.pk, "unit": item.unit_id, "deadline": deadline.isoformat()})
    return rect


def report_rectification(*, actor, rectification: Rectification, response: str):
    """The unit reports what it corrected (its unit head, 第二十三条)."""
    if not unit_allowed(actor, "rectification.report", rectification.unit):
        record_denied(actor=actor, action=events.event_rectification_reported,
                      target=rectification, reason="无权报告该单位的整改情况")
        raise Forbidden("只有被要求整改的单位负责人可以报告整改情况")
    response = (response or "").strip()
    if not response:
        raise InvalidInput("请填写整改情况")
    if rectification.status == RectificationStatus.VERIFIED:
        raise IllegalTransition("该整改已验收")
    with transaction.atomic():
        rectification.status = RectificationStatus.REPORTED
        rectification.response, rectification.reported_by = response, actor
        rectification.reported_at = timezone.now()
        rectification.save()
        record(actor=actor, action=events.event_rectification_reported, target=rectification)
    return rectification


def verify_rectification(*, actor, rectification: Rectification):
    """The legal affairs office accepts the reported rectification."""
    _require(actor, "spotcheck.manage", events.event_rectification_verified, rectification)
    if rectification.status != RectificationStatus.REPORTED:
        raise IllegalTransition("整改尚未报告，不能验收")
    with transaction.atomic():
        rectification.status = RectificationStatus.VERIFIED
        rectification.verified_by, rectification.verified_at = actor, timezone.now()
        rectification.save()
        record(actor=actor, action=events.event_rectification_verified, target=rectification)
    return rectification


def sampled_case_ids(user) -> set[int]:
    """By right (第二十三条): the cases in the samples of spot checks ``user`` opened, for the
    access issue's by-right table (the legal affairs office replays what it drew). Recordings
    count through their case."""
    items = SpotCheckItem.objects.filter(spot_check__opened_by=user)
    ids = set(items.filter(object_type="cases.case").values_list("object_id", flat=True))
    recording_ids = items.filter(object_type="evidence.recording").values_list("object_id",
                                                                               flat=True)
    ids |= set(Recording.objects.filter(pk__in=list(recording_ids), case__isnull=False)
               .values_list("case_id", flat=True))
    return ids


def reviews_in_spot_check(user, target) -> bool:
    """Whether ``target`` (an ``access.use.UseTarget``) was drawn, itself or through one of
    its cases, in a spot check ``user`` opened: the by-right row of 第二十三条. A case counts
    when a recording of it was drawn too (as ``sampled_case_ids``).

    One query, asked once per reading request (``core.per_request``): it was four, asked for
    each right the case page looks up (issue 9 item 3)."""
    drawn = Q(object_type="cases.case", object_id__in=sorted(target.case_ids))
    if target.id.isdigit():
        drawn |= Q(object_type=target.type, object_id=int(target.id))
        if target.type == "cases.case":
            recordings = Recording.objects.filter(case_id=int(target.id)).values("pk")
            drawn |= Q(object_type="evidence.recording", object_id__in=recordings)

    def read() -> bool:
        return SpotCheckItem.objects.filter(drawn, spot_check__opened_by=user).exists()

    return remembered(("in_spot_check", user.pk, target.type, target.id, target.case_ids),
                      read)
