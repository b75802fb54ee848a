"""法定期限测试（纯 Python，不需要数据库）。

每条规则一个测试，期望日期均为人工推算，推算过程写在注释里。
约定：起算日不计入，次日为第 1 日。放假安排见 liuhen/deadlines/data/holidays.toml：
  2025 春节 1/28–2/4 放假，1/26（日）、2/8（六）上班；
  2025 国庆中秋 10/1–10/8 放假，9/28（日）、10/11（六）上班；
  2026 元旦 1/1–1/3 放假，1/4（日）上班；
  2026 春节 2/15–2/23 放假，2/14（六）、2/28（六）上班；
  2026 劳动节 5/1–5/5 放假，5/9（六）上班；
  2026 中秋 9/25–9/27、国庆 10/1–10/7 放假，9/20（日）、10/10（六）上班。
"""

import dataclasses
from datetime import date

import pytest

from liuhen.deadlines.calendar import (
    SHIPPED_DATA_PATH,
    CalendarRangeError,
    WorkingCalendar,
    default_calendar,
)
from liuhen.deadlines.statutory import (
    HOLIDAY_ROLL_FORWARD_CITATION,
    RULES,
    Counting,
    Direction,
    UnknownDeadlineRuleError,
    compute_deadline,
    get_rule,
    status,
)


def test_rule_table_is_complete():
    assert set(RULES) == {
        "complaint_acceptance",
        "investigation",
        "penalty_decision",
        "penalty_decision_general",
        "limitation",
        "decision_service",
        "fine_payment",
        "reminder_period",
        "court_enforcement",
        "hearing_request",
        "hearing_notice",
        "evidence_preservation",
        "seizure",
        "review_response",
        "litigation_response",
    }
    for code, rule in RULES.items():
        assert rule.code == code
        assert rule.name and rule.trigger and rule.obligor
        assert rule.citation.startswith("《")
        assert rule.length > 0
        assert (rule.extension_length is None) == (rule.extension_approval is None)
    assert get_rule("investigation").describe() == "立案之日起60个工作日内"
    assert get_rule("investigation").describe(extended=True) == "立案之日起90个工作日内"
    assert get_rule("hearing_notice").describe() == "举行听证之日前至少7个工作日"
    assert get_rule("penalty_decision_general").describe() == "立案之日起90日内"


# --------------------------------------------------------------------------- 每条规则


def test_complaint_acceptance_5_working_days_over_spring_festival_2025():
    rule = get_rule("complaint_acceptance")
    assert rule.citation == "《关于实施〈劳动保障监察条例〉若干规定》第十八条"
    assert (rule.counting, rule.length) == (Counting.WORKING_DAYS, 5)
    # 1/24（五）收到投诉：1/25 周六休；1/26 周日上班(1)；1/27(2)；1/28–2/4 放假；
    # 2/5(3)、2/6(4)、2/7(5) → 2025-02-07。
    d = compute_deadline("complaint_acceptance", date(2025, 1, 24))
    assert d.due == date(2025, 2, 7)
    assert d.start == date(2025, 1, 24)
    assert d.rule is rule
    assert not d.provisional


def test_investigation_60_working_days_and_30_day_extension():
    rule = get_rule("investigation")
    assert rule.citation == "《劳动保障监察条例》第十七条"
    assert (rule.length, rule.extension_length) == (60, 30)
    assert "负责人批准" in rule.extension_approval
    # 2025-09-01（一）立案。9月：9/2–9/5 4 个，9/8–12、9/15–19、9/22–26 各 5 个 → 19，
    # 9/28 周日上班 → 20，9/29、9/30 → 22；10/1–10/8 放假；10/9、10/10 → 24，
    # 10/11 周六上班 → 25；10/13–17、10/20–24、10/27–31 → 40；
    # 11/3–7、11/10–14、11/17–21、11/24–28 → 60，第 60 个为 11/28（五）。
    assert compute_deadline("investigation", date(2025, 9, 1)).due == date(2025, 11, 28)
    # 延长 30 个，续数：12/1–5、12/8–12、12/15–19、12/22–26 → 80；12/29–31 → 83；
    # 2026/1/1–1/3 放假；1/4 周日上班 → 84；1/5–1/9 → 89；1/12（一）→ 90。
    d = compute_deadline("investigation", date(2025, 9, 1), extended=True)
    assert d.due == date(2026, 1, 12)
    assert d.extended


def test_penalty_decision_90_calendar_days():
    rule = get_rule("penalty_decision_general")
    assert rule.citation == "《中华人民共和国行政处罚法》第六十条"
    assert (rule.counting, rule.length) == (Counting.CALENDAR_DAYS, 90)
    # 2025-06-04 立案：6 月余 26 天（至 6/30），+7 月 31 → 57，+8 月 31 → 88，
    # 再 2 天 → 9/2（二），工作日，不顺延。
    d = compute_deadline("penalty_decision_general", date(2025, 6, 4))
    assert d.due == date(2025, 9, 2)
    assert not d.rolled_forward
    # 2025-09-01 立案：9 月余 29 天（至 9/30），+10 月 31 → 60，+11 月 30 → 90，
    # 即 11/30（周日）→ 顺延至 12/1（一）。
    d = compute_deadline("penalty_decision_general", date(2025, 9, 1))
    assert d.unadjusted_due == date(2025, 11, 30)
    assert d.due == date(2025, 12, 1)
    assert d.rolled_forward


def test_decision_service_7_working_days_over_spring_festival_2026():
    rule = get_rule("decision_service")
    assert "第六十一条" in rule.citation and "第八十五条" in rule.citation
    assert (rule.counting, rule.length) == (Counting.WORKING_DAYS, 7)
    # 2026-02-11（三）宣告：2/12(1)、2/13(2)、2/14 周六上班(3)；2/15–2/23 放假；
    # 2/24(4)、2/25(5)、2/26(6)、2/27(7) → 2026-02-27。
    assert compute_deadline("decision_service", date(2026, 2, 11)).due == date(2026, 2, 27)


def test_hearing_request_5_working_days_over_national_day_2025():
    rule = get_rule("hearing_request")
    assert "第六十四条" in rule.citation
    assert rule.obligor == "当事人"
    assert (rule.counting, rule.length) == (Counting.WORKING_DAYS, 5)
    # 2025-09-26（五）告知：9/27 周六休；9/28 周日上班(1)；9/29(2)；9/30(3)；
    # 10/1–10/8 放假；10/9(4)；10/10(5) → 2025-10-10。
    assert compute_deadline("hearing_request", date(2025, 9, 26)).due == date(2025, 10, 10)


def test_hearing_notice_7_working_days_before_hearing():
    rule = get_rule("hearing_notice")
    assert rule.direction is Direction.BEFORE
    assert (rule.counting, rule.length) == (Counting.WORKING_DAYS, 7)
    # 听证定于 2025-10-13（一），向前倒数：10/12 周日休；10/11 周六上班(1)；10/10(2)；
    # 10/9(3)；10/8–10/1 放假；9/30(4)；9/29(5)；9/28 周日上班(6)；9/27 周六休；
    # 9/26（五）(7) → 最迟 2025-09-26 通知。
    d = compute_deadline("hearing_notice", date(2025, 10, 13))
    assert d.due == date(2025, 9, 26)
    assert d.start == date(2025, 10, 13)
    # 平常时段：听证 2025-06-20（五）：6/19(1) 6/18(2) 6/17(3) 6/16(4) 6/13(5) 6/12(6) 6/11(7)。
    assert compute_deadline("hearing_notice", date(2025, 6, 20)).due == date(2025, 6, 11)


def test_evidence_preservation_7_working_days_over_labour_day_2026():
    rule = get_rule("evidence_preservation")
    assert "第五十六条" in rule.citation
    assert (rule.counting, rule.length) == (Counting.WORKING_DAYS, 7)
    # 2026-04-30（四）先行登记保存：5/1–5/5 放假；5/6(1)、5/7(2)、5/8(3)、
    # 5/9 周六上班(4)、5/10 周日休、5/11(5)、5/12(6)、5/13(7) → 2026-05-13。
    assert compute_deadline("evidence_preservation", date(2026, 4, 30)).due == date(2026, 5, 13)


def test_seizure_30_calendar_days_plus_30_with_holiday_roll_forward():
    rule = get_rule("seizure")
    assert rule.citation == "《中华人民共和国行政强制法》第二十五条"
    assert (rule.counting, rule.length, rule.extension_length) == (Counting.CALENDAR_DAYS, 30, 30)
    # 2026-09-01 查封：9 月余 29 天（至 9/30），第 30 日为 10/1，国庆放假 →
    # 顺延至节后第一个工作日 10/8（四）。
    d = compute_deadline("seizure", date(2026, 9, 1))
    assert d.unadjusted_due == date(2026, 10, 1)
    assert d.due == date(2026, 10, 8)
    # 延长后共 60 日：9/30 为第 29 日，10/31 为第 60 日；10/31 是周六（10/10 周六 +21 天）
    # 且非调休上班日 → 顺延至 11/2（一）。
    d = compute_deadline("seizure", date(2026, 9, 1), extended=True)
    assert d.unadjusted_due == date(2026, 10, 31)
    assert d.due == date(2026, 11, 2)


def test_review_response_10_working_days():
    rule = get_rule("review_response")
    assert "行政复议法" in rule.citation and "第四十八条" in rule.citation
    assert (rule.counting, rule.length) == (Counting.WORKING_DAYS, 10)
    # 2026-09-17（四）收到申请书副本：9/18(1)、9/19 周六休、9/20 周日上班(2)、
    # 9/21(3)、9/22(4)、9/23(5)、9/24(6)、9/25–9/27 中秋放假、9/28(7)、9/29(8)、
    # 9/30(9)、10/1–10/7 国庆放假、10/8(10) → 2026-10-08。
    assert compute_deadline("review_response", date(2026, 9, 17)).due == date(2026, 10, 8)


def test_litigation_response_15_calendar_days():
    rule = get_rule("litigation_response")
    assert rule.citation == "《中华人民共和国行政诉讼法》第六十七条"
    assert (rule.counting, rule.length) == (Counting.CALENDAR_DAYS, 15)
    # 2025-09-16 收到起诉状副本：第 15 日为 10/1，国庆放假 → 顺延至 10/9（四）。
    d = compute_deadline("litigation_response", date(2025, 9, 16))
    assert d.due == date(2025, 10, 9)
    # 2025-09-13 收到：第 15 日为 9/28（周日），但为调休上班日 → 不顺延。
    d = compute_deadline("litigation_response", date(2025, 9, 13))
    assert d.due == date(2025, 9, 28)
    assert not d.rolled_forward


# --------------------------------------------------------------------------- 届满日顺延


def test_holiday_roll_forward_option():
    assert "民事诉讼法》第八十五条" in HOLIDAY_ROLL_FORWARD_CITATION
    # 行政处罚决定 90 日：2025-07-05 立案，7 月余 26 天 → 7/31；+8 月 31 → 57；
    # +9 月 30 → 87；再 3 天 → 10/3（国庆放假）。
    on = compute_deadline("penalty_decision_general", date(2025, 7, 5))
    assert on.unadjusted_due == date(2025, 10, 3)
    assert on.due == date(2025, 10, 9)  # 10/1–10/8 放假，10/9（四）上班
    # 关闭顺延（按次调用或按规则）。
    off = compute_deadline("penalty_decision_general", date(2025, 7, 5), roll_forward=False)
    assert off.due == date(2025, 10, 3)
    no_roll_rule = dataclasses.replace(get_rule("penalty_decision_general"), roll_forward=False)
    assert compute_deadline(no_roll_rule, date(2025, 7, 5)).due == date(2025, 10, 3)
    # 工作日期限不受 roll_forward 影响（结果本来就是工作日）。
    assert compute_deadline("hearing_request", date(2025, 9, 26), roll_forward=False).due == date(
        2025, 10, 10
    )


# --------------------------------------------------------------------------- 异常


def test_unknown_rule_and_non_extendable_rule():
    with pytest.raises(UnknownDeadlineRuleError, match="未定义"):
        compute_deadline("no_such_rule", date(2025, 3, 3))
    with pytest.raises(ValueError, match="不能延长"):
        compute_deadline("penalty_decision_general", date(2025, 3, 3), extended=True)


def test_out_of_range_is_an_error_not_a_guess():
    shipped = WorkingCalendar.from_toml(SHIPPED_DATA_PATH)  # 2025–2027
    # 2027-11-01 立案，60 个工作日必然进入未载入的 2028 年。
    with pytest.raises(CalendarRangeError):
        compute_deadline("investigation", date(2027, 11, 1), calendar=shipped)
    # 2027-11-15 + 90 日 = 2028-02-13，无法判断是否为休假日。
    with pytest.raises(CalendarRangeError):
        compute_deadline("penalty_decision_general", date(2027, 11, 15), calendar=shipped)
    with pytest.raises(CalendarRangeError):
        compute_deadline("complaint_acceptance", date(2024, 12, 30), calendar=shipped)


def test_deadline_in_provisional_year_is_flagged():
    # 推算的 2027 春节 2/5–2/14 放假：2/4（四）收到投诉 → 2/15(1) … 2/19(5)。
    d = compute_deadline("complaint_acceptance", date(2027, 2, 4))
    assert d.due == date(2027, 2, 19)
    assert d.provisional
    # 跨入 2027 年的期限也标记为暂定。
    assert compute_deadline("penalty_decision_general", date(2026, 12, 1)).provisional


def test_explicit_calendar_is_used():
    cal = default_calendar()
    assert compute_deadline("hearing_request", date(2025, 9, 26), calendar=cal).due == date(
        2025, 10, 10
    )


# --------------------------------------------------------------------------- 状态


@pytest.fixture
def hearing_deadline():
    # 见 test_hearing_request_…：2025-09-26 告知 → 2025-10-10 届满。
    d = compute_deadline("hearing_request", date(2025, 9, 26))
    assert d.due == date(2025, 10, 10)
    return d


def test_status_transitions_calendar_days(hearing_deadline):
    d = hearing_deadline
    assert status(d, date(2025, 10, 1)) == "ok"  # 还有 9 天
    assert status(d, date(2025, 10, 6)) == "ok"  # 还有 4 天
    assert status(d, date(2025, 10, 7)) == "due_soon"  # 还有 3 天
    assert status(d, date(2025, 10, 10)) == "due_soon"  # 当天届满
    assert status(d, date(2025, 10, 11)) == "overdue"
    assert status(d, date(2025, 10, 6), warn_days=5) == "due_soon"


def test_status_met(hearing_deadline):
    d = hearing_deadline
    assert status(d, date(2025, 10, 20), met_on=date(2025, 10, 10)) == "met"
    assert status(d, date(2025, 9, 29), met_on=date(2025, 9, 29)) == "met"
    # 逾期履行仍记为逾期。
    assert status(d, date(2025, 10, 20), met_on=date(2025, 10, 11)) == "overdue"
    # met_on 也可以记在 Deadline 上。
    done = dataclasses.replace(d, met_on=date(2025, 10, 9))
    assert status(done, date(2025, 12, 31)) == "met"


def test_status_counts_working_days_when_calendar_given(hearing_deadline):
    d = hearing_deadline
    cal = default_calendar()
    # 9/30：自然日还有 10 天 → ok；但 (9/30, 10/10] 只有 10/9、10/10 两个工作日 → due_soon。
    assert status(d, date(2025, 9, 30)) == "ok"
    assert status(d, date(2025, 9, 30), calendar=cal) == "due_soon"
    # 9/26：(9/26, 10/10] 有 9/28 9/29 9/30 10/9 10/10 五个工作日 → ok。
    assert status(d, date(2025, 9, 26), calendar=cal) == "ok"
    assert status(d, date(2025, 10, 11), calendar=cal) == "overdue"


def test_status_for_backward_rule():
    # 听证 2025-10-13，最迟 9/26 通知（见上）。
    d = compute_deadline("hearing_notice", date(2025, 10, 13))
    assert status(d, date(2025, 9, 24)) == "due_soon"
    assert status(d, date(2025, 9, 27)) == "overdue"
    assert status(d, date(2025, 10, 1), met_on=date(2025, 9, 25)) == "met"
