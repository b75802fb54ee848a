"""法定期限表与期限计算（纯函数，不依赖 Django）。

期限计算的共同规则
------------------
* 期间开始之日不计算在期间内：起算日的次日为第 1 日
  （《中华人民共和国民事诉讼法》第八十五条第二款；各行政程序普遍参照）。
* 按工作日计算的期限，用 :class:`~liuhen.deadlines.calendar.WorkingCalendar` 逐日数工作日
  （调休上班的周六、周日计入，法定节假日与周末不计入）。
  《中华人民共和国行政处罚法》第八十五条规定，该法中“二日”“三日”“五日”“七日”
  是指工作日，不含法定节假日；《中华人民共和国行政强制法》第六十九条规定十日以内的
  期限指工作日；《中华人民共和国行政复议法》（2023年修订）第八十八条第二款规定
  “三日”“五日”“七日”“十日”指工作日。
* 按自然日计算的期限，期间届满的最后一日是法定休假日的，以休假日后的第一个
  工作日为期间届满日（``roll_forward``，默认开启），依据见 :data:`HOLIDAY_ROLL_FORWARD_CITATION`。
  “法定休假日”按工作日历中的休息日（法定节假日及未调休的周六、周日）认定；
  调休上班的周末是工作日，不顺延。
* 期限可延长的，``extended=True`` 时总期限 = 原期限 + 延长期限，均自起算日起连续计算，
  延长后的自然日期限同样适用届满日顺延。
* “某日之前 n 日”一类的期限（听证通知）向前倒数，不顺延。
* 按月计算的期限（申请人民法院强制执行的三个月、二年追责时效）以起算日在届满月的
  对应日为届满日，届满月没有对应日的，以该月最后一日为届满日（民事诉讼法第八十五条
  参照；行政强制法第五十三条、劳动保障监察条例第二十条）。
* “届满后方可”一类的等待期（催告书送达十日后方可申请强制执行，行政强制法第五十四条）：
  ``due`` 是等待期的最后一日，行为须在 ``due`` 之后实施，早于或等于 ``due`` 即为“过早”。

特别规定优先（:attr:`DeadlineRule.displaces`）
----------------------------------------------
行政处罚法第六十条：“行政机关应当自行政处罚案件立案之日起九十日内作出行政处罚决定。
法律、法规、规章另有规定的，从其规定。”劳动保障监察案件由《劳动保障监察条例》第十七条
规定期限（六十个工作日，经负责人批准延长三十个工作日），故处罚决定的期限是第十七条的期限，
第六十条的九十日不适用。期限表中“作出行政处罚决定”（``penalty_decision``）按第十七条
计算，并以 ``displaces`` 指明被排除的一般规定（``penalty_decision_general``）。
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from .calendar import WorkingCalendar, default_calendar

__all__ = [
    "HOLIDAY_ROLL_FORWARD_CITATION",
    "RULES",
    "Counting",
    "Deadline",
    "DeadlineRule",
    "DeadlineStatus",
    "Direction",
    "UnknownDeadlineRuleError",
    "add_months",
    "compute_deadline",
    "displaced_rule",
    "get_rule",
    "late_payment_surcharge",
    "status",
]

#: 自然日期限届满日遇法定休假日顺延的依据。
#: 民事诉讼法直接适用于行政诉讼（行政诉讼法第一百零一条）、行政复议（行政复议法第八十八条
#: 第一款）；行政处罚、行政强制程序本身无期间条款，实践中参照适用。
HOLIDAY_ROLL_FORWARD_CITATION = (
    "《中华人民共和国民事诉讼法》第八十五条第三款"
    "（行政诉讼依《中华人民共和国行政诉讼法》第一百零一条适用；"
    "行政执法程序参照适用）"
)


class Counting(StrEnum):
    WORKING_DAYS = "working_days"  # 工作日
    CALENDAR_DAYS = "calendar_days"  # 自然日
    MONTHS = "months"  # 月

    @property
    def label(self) -> str:
        return {"working_days": "个工作日", "calendar_days": "日", "months": "个月"}[self.value]


class Direction(StrEnum):
    AFTER = "after"  # 起算事实发生后 n 日内
    BEFORE = "before"  # 某日之前至少 n 日
    NOT_BEFORE = "not_before"  # 起算事实发生 n 日后方可（等待期）


#: ``waiting``/``premature`` only for waiting periods (:attr:`Direction.NOT_BEFORE`).
DeadlineStatus = Literal["ok", "due_soon", "overdue", "met", "waiting", "premature"]


@dataclass(frozen=True, slots=True)
class DeadlineRule:
    """一项法定期限。"""

    code: str
    name: str  # 中文名称
    citation: str  # 法律依据
    counting: Counting
    length: int
    trigger: str  # 起算事实（start_date 的含义）
    obligor: str  # 负有义务的一方
    extension_length: int | None = None
    extension_approval: str | None = None  # 延长所需的批准
    direction: Direction = Direction.AFTER
    #: 自然日期限届满日遇法定休假日是否顺延；对工作日期限和倒数期限无意义。
    roll_forward: bool = True
    note: str = ""
    #: 本规则作为特别规定所排除的一般规定（规则 code），及说明，如
    #: “依劳动保障监察条例第十七条，不适用行政处罚法第六十条九十日期限”。
    displaces: str = ""
    displacement: str = ""

    @property
    def extendable(self) -> bool:
        return self.extension_length is not None

    def describe(self, *, extended: bool = False) -> str:
        """如“自立案之日起60个工作日”。"""
        length = self.length + ((self.extension_length or 0) if extended else 0)
        if self.direction is Direction.BEFORE:
            return f"{self.trigger}前至少{length}{self.counting.label}"
        if self.direction is Direction.NOT_BEFORE:
            return f"{self.trigger}起{length}{self.counting.label}届满后方可"
        return f"{self.trigger}起{length}{self.counting.label}内"


@dataclass(frozen=True, slots=True)
class Deadline:
    """一次期限计算的结果。"""

    rule: DeadlineRule
    start: _dt.date  # 起算日（trigger 所指的日期）
    due: _dt.date  # 届满日（最后一日）；BEFORE 型为最迟应当完成之日
    extended: bool = False
    #: 顺延前的届满日；未顺延时等于 due。
    unadjusted_due: _dt.date | None = None
    #: 计算中用到了暂定（尚待管理员确认）的节假日数据。
    provisional: bool = False
    #: 义务履行之日（如实际立案、送达之日），未履行为 None。
    met_on: _dt.date | None = None

    @property
    def rolled_forward(self) -> bool:
        return self.unadjusted_due is not None and self.unadjusted_due != self.due


class UnknownDeadlineRuleError(LookupError):
    def __init__(self, code: str):
        self.code = code
        super().__init__(f"未定义的期限规则：{code!r}")


_ORGAN = "劳动保障行政部门"
_PARTY = "当事人"

_RULE_LIST: tuple[DeadlineRule, ...] = (
    DeadlineRule(
        code="complaint_acceptance",
        name="投诉受理立案",
        citation="《关于实施〈劳动保障监察条例〉若干规定》第十八条",
        counting=Counting.WORKING_DAYS,
        length=5,
        trigger="接到投诉之日",
        obligor=_ORGAN,
        note="符合条件的投诉应当在接到投诉之日起5个工作日内依法受理，并于受理之日立案查处。",
    ),
    DeadlineRule(
        code="investigation",
        name="案件调查",
        citation="《劳动保障监察条例》第十七条",
        counting=Counting.WORKING_DAYS,
        length=60,
        extension_length=30,
        extension_approval="情况复杂的，经劳动保障行政部门负责人批准",
        trigger="立案之日",
        obligor=_ORGAN,
    ),
    DeadlineRule(
        code="penalty_decision",
        name="作出行政处罚决定",
        # 行政处罚法第六十条“法律、法规、规章另有规定的，从其规定”：劳动保障监察案件的
        # 期限由劳动保障监察条例第十七条规定，第六十条的九十日不适用。
        citation="《劳动保障监察条例》第十七条（《中华人民共和国行政处罚法》第六十条“从其规定”）",
        counting=Counting.WORKING_DAYS,
        length=60,
        extension_length=30,
        extension_approval="情况复杂的，经劳动保障行政部门负责人批准",
        trigger="立案之日",
        obligor=_ORGAN,
        displaces="penalty_decision_general",
        displacement="依劳动保障监察条例第十七条，不适用行政处罚法第六十条九十日期限",
        note="劳动保障监察案件应当自立案之日起六十个工作日内完成，"
        "情况复杂的经负责人批准延长三十个工作日。",
    ),
    DeadlineRule(
        code="penalty_decision_general",
        name="作出行政处罚决定（一般规定）",
        citation="《中华人民共和国行政处罚法》第六十条",
        counting=Counting.CALENDAR_DAYS,
        length=90,
        trigger="立案之日",
        obligor=_ORGAN,
        note="法律、法规、规章另有规定的，从其规定（劳动保障监察案件适用劳动保障监察条例第十七条）。",
    ),
    DeadlineRule(
        code="limitation",
        name="违法行为追责时效",
        citation="《劳动保障监察条例》第二十条；《中华人民共和国行政处罚法》第三十六条",
        counting=Counting.MONTHS,
        length=24,
        trigger="违法行为发生之日（连续或者继续状态的，行为终了之日）",
        obligor=_ORGAN,
        roll_forward=False,
        note="二年内未被劳动保障行政部门发现，也未被举报、投诉的，不再查处"
        "（行政处罚法第三十六条：涉及公民生命健康安全、金融安全且有危害后果的，延长至五年）。",
    ),
    DeadlineRule(
        code="decision_service",
        name="送达行政处罚决定书",
        citation="《中华人民共和国行政处罚法》第六十一条、第八十五条",
        counting=Counting.WORKING_DAYS,
        length=7,
        trigger="行政处罚决定宣告之日（当事人不在场）",
        obligor=_ORGAN,
        note="当事人在场的应当当场交付；不在场的七日内依民事诉讼法送达。"
        "依第八十五条，“七日”指工作日。",
    ),
    DeadlineRule(
        code="hearing_request",
        name="当事人要求听证",
        citation="《中华人民共和国行政处罚法》第六十四条第一项、第八十五条",
        counting=Counting.WORKING_DAYS,
        length=5,
        trigger="行政机关告知听证权利之日",
        obligor=_PARTY,
        note="依第八十五条，“五日”指工作日。",
    ),
    DeadlineRule(
        code="hearing_notice",
        name="听证通知",
        citation="《中华人民共和国行政处罚法》第六十四条第二项、第八十五条",
        counting=Counting.WORKING_DAYS,
        length=7,
        direction=Direction.BEFORE,
        trigger="举行听证之日",
        obligor=_ORGAN,
        note="应当在举行听证的七日前通知当事人及有关人员；due 为最迟通知日。"
        "依第八十五条，“七日”指工作日。",
    ),
    DeadlineRule(
        code="fine_payment",
        name="缴纳罚款",
        citation="《中华人民共和国行政处罚法》第六十七条第三款、第七十二条第一项",
        counting=Counting.CALENDAR_DAYS,
        length=15,
        trigger="收到行政处罚决定书之日",
        obligor=_PARTY,
        note="到期不缴纳罚款的，每日按罚款数额的百分之三加处罚款，"
        "加处罚款的数额不得超出罚款的数额（第七十二条第一项）。",
    ),
    DeadlineRule(
        code="reminder_period",
        name="催告期（申请强制执行前）",
        citation="《中华人民共和国行政强制法》第三十五条、第五十四条、第六十九条",
        counting=Counting.WORKING_DAYS,
        length=10,
        direction=Direction.NOT_BEFORE,
        trigger="催告书送达之日",
        obligor=_ORGAN,
        note="催告书送达十日后当事人仍未履行义务的，方可申请人民法院强制执行（第五十四条）"
        "或作出强制执行决定（第三十七条）；依第六十九条，“十日”指工作日。",
    ),
    DeadlineRule(
        code="court_enforcement",
        name="申请人民法院强制执行",
        citation="《中华人民共和国行政强制法》第五十三条",
        counting=Counting.MONTHS,
        length=3,
        trigger="复议、诉讼期限届满之日",
        obligor=_ORGAN,
        note="当事人在法定期限内不申请行政复议或者提起行政诉讼，又不履行的，"
        "自期限届满之日起三个月内申请人民法院强制执行；诉讼期限为知道作出行政行为之日起"
        "六个月（行政诉讼法第四十六条第一款），复议期限为六十日（行政复议法第二十条）。",
    ),
    DeadlineRule(
        code="evidence_preservation",
        name="先行登记保存证据处理决定",
        citation="《中华人民共和国行政处罚法》第五十六条、第八十五条",
        counting=Counting.WORKING_DAYS,
        length=7,
        trigger="先行登记保存之日",
        obligor=_ORGAN,
        note="依第八十五条，“七日”指工作日。",
    ),
    DeadlineRule(
        code="seizure",
        name="查封、扣押期限",
        citation="《中华人民共和国行政强制法》第二十五条",
        counting=Counting.CALENDAR_DAYS,
        length=30,
        extension_length=30,
        extension_approval="情况复杂的，经行政机关负责人批准",
        trigger="实施查封、扣押之日",
        obligor=_ORGAN,
        note="法律、行政法规另有规定的除外；检测、检验、检疫或者技术鉴定的期间不计入。"
        "三十日超过第六十九条“十日以内”的范围，按自然日计算。",
    ),
    DeadlineRule(
        code="review_response",
        name="行政复议答复及提交证据",
        # 2023年9月1日修订、2024年1月1日施行的行政复议法：普通程序被申请人十日内
        # 答复并提交证据见第四十八条；第八十八条第二款规定“十日”指工作日。
        # （旧法为第二十三条，且“十日”为自然日。）条文序号请法制机构核对。
        citation="《中华人民共和国行政复议法》第四十八条、第八十八条",
        counting=Counting.WORKING_DAYS,
        length=10,
        trigger="收到行政复议申请书副本或者申请笔录复印件之日",
        obligor=_ORGAN,
        note="适用普通程序；简易程序为五日（第五十四条）。",
    ),
    DeadlineRule(
        code="litigation_response",
        name="行政诉讼提交证据及答辩状",
        citation="《中华人民共和国行政诉讼法》第六十七条",
        counting=Counting.CALENDAR_DAYS,
        length=15,
        trigger="收到起诉状副本之日",
        obligor=_ORGAN,
        note="期间计算依行政诉讼法第一百零一条适用民事诉讼法。",
    ),
)

#: 期限规则表，键为 code。
RULES: dict[str, DeadlineRule] = {rule.code: rule for rule in _RULE_LIST}


def get_rule(code: str) -> DeadlineRule:
    try:
        return RULES[code]
    except KeyError:
        raise UnknownDeadlineRuleError(code) from None


def displaced_rule(rule: DeadlineRule) -> DeadlineRule | None:
    """The general rule ``rule`` displaces as a special rule, or None."""
    return get_rule(rule.displaces) if rule.displaces else None


def add_months(day: _dt.date, months: int) -> _dt.date:
    """The day ``months`` months after ``day``: the same day of the month, or the month's last
    day when it has none (2月28日/29日 for 8月31日 + 6 months)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return _dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def late_payment_surcharge(due: _dt.date, paid_or_today: _dt.date) -> tuple[int, int]:
    """行政处罚法第七十二条第一项: (days late, surcharge in percent of the fine). 3 % per day
    after the last day to pay, never more than the fine itself (100 %)."""
    days = max((paid_or_today - due).days, 0)
    return days, min(3 * days, 100)


def compute_deadline(
    rule_code: str | DeadlineRule,
    start_date: _dt.date,
    *,
    extended: bool = False,
    calendar: WorkingCalendar | None = None,
    roll_forward: bool | None = None,
) -> Deadline:
    """计算期限届满日。

    :param rule_code: :data:`RULES` 中的 code，或一个 :class:`DeadlineRule`。
    :param start_date: 起算事实发生之日（见 ``rule.trigger``；听证通知为听证日）。
    :param extended: 是否已经批准延长（规则不可延长时抛出 ValueError）。
    :param calendar: 工作日历，默认 :func:`~liuhen.deadlines.calendar.default_calendar`。
    :param roll_forward: 覆盖规则的届满日顺延设置（仅对向后计算的自然日期限有效）。
    :raises CalendarRangeError: 计算涉及未载入年度的日期。
    """
    rule = rule_code if isinstance(rule_code, DeadlineRule) else get_rule(rule_code)
    if isinstance(start_date, _dt.datetime) or not isinstance(start_date, _dt.date):
        raise TypeError("start_date 必须是 datetime.date（本地日期）")
    if extended and not rule.extendable:
        raise ValueError(f"“{rule.name}”期限依法不能延长")
    cal = calendar if calendar is not None else default_calendar()
    length = rule.length + ((rule.extension_length or 0) if extended else 0)
    sign = -1 if rule.direction is Direction.BEFORE else 1

    if rule.counting is Counting.WORKING_DAYS:
        due = cal.add_working_days(start_date, sign * length)
        unadjusted = due
    elif rule.counting is Counting.MONTHS:
        unadjusted = add_months(start_date, sign * length)
        do_roll = rule.roll_forward if roll_forward is None else roll_forward
        if do_roll and rule.direction is Direction.AFTER:
            due = cal.next_working_day(unadjusted)
        else:
            due = unadjusted
    else:
        unadjusted = start_date + _dt.timedelta(days=sign * length)
        do_roll = rule.roll_forward if roll_forward is None else roll_forward
        if do_roll and rule.direction is Direction.AFTER:
            due = cal.next_working_day(unadjusted)
        else:
            cal.is_working_day(unadjusted)  # 只为确认日期在日历范围内
            due = unadjusted

    lo, hi = min(start_date, due), max(start_date, due)
    provisional = any(cal.is_provisional(_dt.date(y, 1, 1)) for y in range(lo.year, hi.year + 1))
    return Deadline(
        rule=rule,
        start=start_date,
        due=due,
        extended=extended,
        unadjusted_due=unadjusted,
        provisional=provisional,
    )


def status(
    deadline: Deadline,
    today: _dt.date,
    *,
    warn_days: int = 3,
    met_on: _dt.date | None = None,
    calendar: WorkingCalendar | None = None,
) -> DeadlineStatus:
    """期限状态。

    * ``met``：已在届满日（含）之前履行；
    * ``overdue``：已过届满日仍未履行，或者履行之日晚于届满日（逾期履行仍记为逾期，以便留痕）；
    * ``due_soon``：未履行，距届满日（含当日）不超过 ``warn_days`` 天；
    * ``ok``：其他情形。

    等待期（``Direction.NOT_BEFORE``）：``met`` 在期满后实施，``premature`` 期满前（含末日）
    实施，``waiting`` 期间未满，``ok`` 期满、可以实施。

    :param met_on: 履行之日；省略时取 ``deadline.met_on``。
    :param calendar: 提供时 ``warn_days`` 按该日历的工作日计（推荐在长假前后使用），
        即今日之后至届满日（含）之间的工作日数；省略时按自然日计。
    """
    done = met_on if met_on is not None else deadline.met_on
    if deadline.rule.direction is Direction.NOT_BEFORE:
        # A waiting period: the act is lawful only after its last day.
        if done is not None:
            return "met" if done > deadline.due else "premature"
        return "waiting" if today <= deadline.due else "ok"
    if done is not None:
        return "met" if done <= deadline.due else "overdue"
    if today > deadline.due:
        return "overdue"
    if calendar is not None:
        remaining = calendar.working_days_between(today, deadline.due)
    else:
        remaining = (deadline.due - today).days
    return "due_soon" if remaining <= warn_days else "ok"
