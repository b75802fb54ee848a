from __future__ import annotations

from datetime import date, datetime

from ninja import Field, Schema

from liuhen.cases import stages
from liuhen.cases.privacy import shown_parties
from liuhen.cases.stages import allowed_next
from liuhen.core.schemas import Cause, Code, Id, IdNumber, Name, Person, Phone, Reason, Summary


class PartyIn(Schema):
    unit_id: Id
    kind: Code = Field(description="person 自然人 / organisation 单位")
    name: Name
    id_number: IdNumber = Field(description="身份证号或统一社会信用代码")
    legal_representative: Person = ""
    phone: Phone = ""
    address: Name = ""


class PartyOut(Schema):
    id: int
    unit_id: int
    kind: str
    name: str
    id_number_masked: str = Field(alias="masked_id_number")


class PatrolIn(Schema):
    unit_id: Id
    date: date
    area: Name
    officer_ids: list[Id]
    notes: Summary = ""


class PatrolOut(Schema):
    id: int
    unit_id: int
    date: date
    area: str
    notes: str
    officer_ids: list[Id]

    @staticmethod
    def resolve_officer_ids(obj):
        return [o.pk for o in obj.officers.all()]


class CaseIn(Schema):
    unit_id: Id
    kind: Code
    cause: Cause
    source: Code
    officer_ids: list[Id]
    party_ids: list[Id] = []
    patrol_id: Id | None = None
    summary: Summary = ""
    opened_on: date | None = None
    complaint_received_on: date | None = None
    is_random_inspection: bool = False
    is_disputed: bool = False
    is_major_incident: bool = False


class FromPatrolIn(Schema):
    kind: Code
    cause: Cause
    officer_ids: list[Id] | None = None
    party_ids: list[Id] = []
    summary: Summary = ""


class CaseFactsIn(Schema):
    cause: Cause | None = None
    summary: Summary | None = None
    is_random_inspection: bool | None = None
    is_disputed: bool | None = None
    is_major_incident: bool | None = None
    hearing_requested: bool | None = None
    complaint_received_on: date | None = None
    decided_on: date | None = None
    closed_on: date | None = None
    penalty_outcome: Code | None = Field(
        None, description="处罚决定内容：fine 罚款 / warning 仅警告 / other_no_fine 其他不含罚款 / "
        "no_penalty 不予行政处罚 / 空 未登记（行政处罚法第六十七条、第七十二条）")


class TransitionIn(Schema):
    to: Code = Field(description="目标环节，如 investigation")
    note: Reason = ""


class CaseOut(Schema):
    id: int
    number: str
    unit_id: int
    unit_name: str
    kind: str
    kind_label: str
    cause: str
    source: str
    stage: str
    stage_label: str
    phase: str = Field(description="第二条环节：initiation 程序启动 / investigation 调查取证 / "
                       "decision 审查决定 / service 送达执行 / hearing 行政听证 / "
                       "case_file 案卷制作 / archiving 归档管理")
    phase_label: str
    opened_on: date
    hearing_requested: bool
    is_random_inspection: bool
    is_disputed: bool
    is_major_incident: bool

    @staticmethod
    def resolve_unit_name(obj):
        return obj.unit.name

    @staticmethod
    def resolve_kind_label(obj):
        return obj.get_kind_display()

    @staticmethod
    def resolve_stage_label(obj):
        return obj.get_stage_display()

    @staticmethod
    def resolve_phase(obj):
        return stages.phase(obj.stage)

    @staticmethod
    def resolve_phase_label(obj):
        return stages.phase_label(obj.stage)


class StageLogOut(Schema):
    from_stage: str
    to_stage: str
    actor_name: str
    at: datetime
    note: str


class OfficerRef(Schema):
    id: int
    name: str


class CaseDetailOut(CaseOut):
    summary: str
    officers: list[OfficerRef]
    parties: list[PartyOut]
    timeline: list[StageLogOut]
    allowed_next: list[str]
    complaint_received_on: date | None
    decided_on: date | None
    closed_on: date | None
    penalty_outcome: str

    @staticmethod
    def resolve_officers(obj):
        return list(obj.officers.all())

    @staticmethod
    def resolve_parties(obj, context):
        # 第十七条第四款: full names only for the handling unit (cases.privacy, one rule).
        return shown_parties(context["request"].user, obj.parties.all(), unit=obj.unit)

    @staticmethod
    def resolve_timeline(obj):
        return list(obj.stage_logs.all())

    @staticmethod
    def resolve_allowed_next(obj):
        return allowed_next(obj)


class CasePage(Schema):
    count: int = Field(description="匹配的案件数；超过 10000 时为 10000，且 count_capped 为 true")
    count_capped: bool = Field(description="匹配的案件超过 10000 件，count 只是下限")
    has_next: bool = Field(description="是否还有下一页")
    page: int
    page_size: int
    items: list[CaseOut]
