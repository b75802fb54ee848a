"""工作日历测试（纯 Python，不需要数据库）。

期望值均为人工推算，推算过程写在注释里；放假安排见 liuhen/deadlines/data/holidays.toml。
"""

from datetime import date, datetime

import pytest

from liuhen.deadlines.calendar import (
    SHIPPED_DATA_PATH,
    CalendarDataError,
    CalendarDay,
    CalendarRangeError,
    WorkingCalendar,
    default_calendar,
)


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return WorkingCalendar.from_toml(SHIPPED_DATA_PATH)


# --------------------------------------------------------------------------- 数据


def test_default_calendar_is_cached_and_covers_2025_to_2027(cal):
    assert default_calendar() is default_calendar()
    # The shipped table; a suite run years ahead adds synthetic later years to the default.
    assert cal.years == (2025, 2026, 2027)
    assert cal.provisional_years == (2027,)
    assert set(cal.years) <= set(default_calendar().years)


def test_2025_weekday_holidays_and_adjusted_workdays_match_state_council_notice(cal):
    # 2025 年通知中落在周一至周五的放假日（周末放假日本来就休息）。
    weekday_holidays = {
        date(2025, 1, 1),
        *(date(2025, 1, d) for d in (28, 29, 30, 31)),
        date(2025, 2, 3),
        date(2025, 2, 4),
        date(2025, 4, 4),
        date(2025, 5, 1),
        date(2025, 5, 2),
        date(2025, 5, 5),
        date(2025, 6, 2),
        *(date(2025, 10, d) for d in (1, 2, 3, 6, 7, 8)),
    }
    adjusted_workdays = {
        date(2025, 1, 26),
        date(2025, 2, 8),
        date(2025, 4, 27),
        date(2025, 9, 28),
        date(2025, 10, 11),
    }
    d = date(2025, 1, 1)
    while d.year == 2025:
        if d in weekday_holidays:
            assert not cal.is_working_day(d), d
        elif d in adjusted_workdays:
            assert d.weekday() >= 5 and cal.is_working_day(d), d
        else:
            assert cal.is_working_day(d) == (d.weekday() < 5), d
        d = date.fromordinal(d.toordinal() + 1)
    # 2025 年 365 天、1月1日为周三：52 整周 + 1 个周三 → 周一至周五 261 天；
    # 减去 18 个平日放假，加 5 个调休上班 = 248 个工作日。
    # (1月1日, 12月31日] 不含 1月1日，但 1月1日本是放假日，故仍为 248。
    assert cal.working_days_between(date(2025, 1, 1), date(2025, 12, 31)) == 248


def test_2026_adjusted_workdays(cal):
    for d in (
        date(2026, 1, 4),  # 周日，元旦调休上班
        date(2026, 2, 14),  # 周六，春节调休上班
        date(2026, 2, 28),  # 周六，春节调休上班
        date(2026, 5, 9),  # 周六，劳动节调休上班
        date(2026, 9, 20),  # 周日，国庆节调休上班
        date(2026, 10, 10),  # 周六，国庆节调休上班
    ):
        assert d.weekday() >= 5
        assert cal.is_working_day(d), d
    # 2026 年 1 月 2 日（周五）元旦放假；2026 年 6 月 19 日（周五）端午放假。
    assert not cal.is_working_day(date(2026, 1, 2))
    assert not cal.is_working_day(date(2026, 6, 19))
    assert cal.day_info(date(2026, 6, 19)) == CalendarDay(date(2026, 6, 19), "端午节", "holiday")
    assert cal.day_info(date(2026, 6, 18)) is None


# --------------------------------------------------------------------------- 春节


def test_spring_festival_2025(cal):
    # 2025 春节：1月28日（周二）至2月4日（周二）放假；1月26日（周日）、2月8日（周六）上班。
    assert not cal.is_working_day(date(2025, 1, 25))  # 周六，正常休息
    assert cal.is_working_day(date(2025, 1, 26))  # 周日，调休上班
    assert not cal.is_working_day(date(2025, 1, 28))  # 除夕
    assert not cal.is_working_day(date(2025, 2, 3))  # 周一，调休放假
    assert cal.is_working_day(date(2025, 2, 5))  # 节后第一天
    assert cal.is_working_day(date(2025, 2, 8))  # 周六，调休上班
    assert not cal.is_working_day(date(2025, 2, 9))  # 周日，正常休息

    # 自 1月24日（周五）起：1月25日周六休，1月26日周日上班 → 第 1 个工作日为 1月26日。
    assert cal.add_working_days(date(2025, 1, 24), 1) == date(2025, 1, 26)
    # 第 2 个：1月27日（周一）。
    assert cal.add_working_days(date(2025, 1, 24), 2) == date(2025, 1, 27)
    # 第 3 个：1月28日至2月4日放假，跳到 2月5日（周三）。
    assert cal.add_working_days(date(2025, 1, 24), 3) == date(2025, 2, 5)
    # 自 1月27日起 5 个工作日：2/5(1) 2/6(2) 2/7(3) 2/8 周六上班(4) 2/9 周日休 2/10(5)。
    assert cal.add_working_days(date(2025, 1, 27), 5) == date(2025, 2, 10)
    # (1/24, 2/10] 内的工作日：1/26 1/27 2/5 2/6 2/7 2/8 2/10，共 7 个。
    assert cal.working_days_between(date(2025, 1, 24), date(2025, 2, 10)) == 7
    # 向前倒数：2月5日之前第 1 个工作日是 1月27日，第 2 个是 1月26日（周日上班）。
    assert cal.add_working_days(date(2025, 2, 5), -1) == date(2025, 1, 27)
    assert cal.add_working_days(date(2025, 2, 5), -2) == date(2025, 1, 26)


def test_spring_festival_2026(cal):
    # 2026 春节：2月15日（周日）至23日（周一）放假；2月14日（周六）、2月28日（周六）上班。
    # 自 2月12日（周四）起：2/13 周五(1)，2/14 周六上班(2)，2/15–2/23 放假，2/24 周二(3)。
    assert cal.add_working_days(date(2026, 2, 12), 1) == date(2026, 2, 13)
    assert cal.add_working_days(date(2026, 2, 12), 2) == date(2026, 2, 14)
    assert cal.add_working_days(date(2026, 2, 12), 3) == date(2026, 2, 24)
    # 自 2月13日起：2/14(1) 2/24(2) 2/25(3) 2/26(4) 2/27(5) 2/28 周六上班(6)。
    assert cal.add_working_days(date(2026, 2, 13), 5) == date(2026, 2, 27)
    assert cal.add_working_days(date(2026, 2, 13), 6) == date(2026, 2, 28)
    # (2/13, 3/2]：2/14 2/24 2/25 2/26 2/27 2/28 3/2（3/1 周日休），共 7 个。
    assert cal.working_days_between(date(2026, 2, 13), date(2026, 3, 2)) == 7
    # 整个假期内没有工作日。
    assert cal.working_days_between(date(2026, 2, 14), date(2026, 2, 23)) == 0


# --------------------------------------------------------------------------- 国庆


def test_national_day_2025(cal):
    # 2025 国庆中秋：10月1日（周三）至8日（周三）放假；9月28日（周日）、10月11日（周六）上班。
    # 自 9月26日（周五）起：9/27 周六休，9/28 周日上班(1)，9/29(2)，9/30(3)，
    # 10/1–10/8 放假，10/9 周四(4)。
    assert cal.add_working_days(date(2025, 9, 26), 1) == date(2025, 9, 28)
    assert cal.add_working_days(date(2025, 9, 26), 3) == date(2025, 9, 30)
    assert cal.add_working_days(date(2025, 9, 26), 4) == date(2025, 10, 9)
    # 自 9月30日起：10/9(1) 10/10(2) 10/11 周六上班(3)。
    assert cal.add_working_days(date(2025, 9, 30), 3) == date(2025, 10, 11)
    # (9/30, 10/8] 全在假期内，工作日为 0。
    assert cal.working_days_between(date(2025, 9, 30), date(2025, 10, 8)) == 0


def test_national_day_2026(cal):
    # 2026 中秋 9月25日（周五）至27日（周日）放假；国庆 10月1日（周四）至7日（周三）放假；
    # 9月20日（周日）、10月10日（周六）上班。
    # 自 9月18日（周五）起：9/19 周六休，9/20 周日上班(1)。
    assert cal.add_working_days(date(2026, 9, 18), 1) == date(2026, 9, 20)
    # 自 9月24日（周四）起：9/25–9/27 中秋放假，9/28 周一(1)。
    assert cal.add_working_days(date(2026, 9, 24), 1) == date(2026, 9, 28)
    # 自 9月29日（周二）起：9/30(1)，10/1–10/7 放假，10/8(2)，10/9(3)，10/10 周六上班(4)。
    assert cal.add_working_days(date(2026, 9, 29), 2) == date(2026, 10, 8)
    assert cal.add_working_days(date(2026, 9, 29), 4) == date(2026, 10, 10)
    # (9/18, 10/12]：9/20 9/21 9/22 9/23 9/24 9/28 9/29 9/30 10/8 10/9 10/10 10/12，共 12 个。
    assert cal.working_days_between(date(2026, 9, 18), date(2026, 10, 12)) == 12


# --------------------------------------------------------------------------- 一般性质


def test_year_boundary_2025_to_2026(cal):
    # 自 2025-12-31（周三）起：2026/1/1–1/3 元旦放假，1/4 周日调休上班(1)。
    assert cal.add_working_days(date(2025, 12, 31), 1) == date(2026, 1, 4)


def test_zero_and_inverse(cal):
    assert cal.add_working_days(date(2025, 2, 1), 0) == date(2025, 2, 1)
    start = date(2025, 1, 20)
    for n in (1, 5, 10, 30, 60):
        assert cal.working_days_between(start, cal.add_working_days(start, n)) == n
    # b 早于 a 时为负数。
    assert cal.working_days_between(date(2025, 2, 10), date(2025, 1, 24)) == -7


def test_next_and_previous_working_day(cal):
    assert cal.next_working_day(date(2025, 10, 1)) == date(2025, 10, 9)
    assert cal.next_working_day(date(2025, 10, 9)) == date(2025, 10, 9)
    assert cal.next_working_day(date(2025, 10, 9), inclusive=False) == date(2025, 10, 10)
    assert cal.previous_working_day(date(2025, 10, 8)) == date(2025, 9, 30)


def test_provisional_2027(cal):
    assert cal.is_provisional(date(2027, 2, 8))
    assert not cal.is_provisional(date(2026, 2, 8))
    # 推算的 2027 春节：2月5日（除夕）至14日放假，1月31日（周日）、2月20日（周六）上班。
    assert not cal.is_working_day(date(2027, 2, 5))
    assert cal.is_working_day(date(2027, 1, 31))
    assert cal.add_working_days(date(2027, 2, 4), 1) == date(2027, 2, 15)


# --------------------------------------------------------------------------- 范围与数据校验


def test_out_of_range_raises_chinese_error(cal):
    with pytest.raises(CalendarRangeError, match="超出工作日历覆盖范围") as exc:
        cal.is_working_day(date(2024, 12, 31))
    assert "2024" in str(exc.value)
    assert exc.value.years == (2025, 2026, 2027)
    # 2027-12-30（周四）起数：12/31(1)，再往后进入未载入的 2028 年 → 报错而不是推测。
    with pytest.raises(CalendarRangeError):
        cal.add_working_days(date(2027, 12, 30), 2)
    assert cal.add_working_days(date(2027, 12, 30), 1) == date(2027, 12, 31)
    with pytest.raises(CalendarRangeError):
        cal.working_days_between(date(2027, 12, 1), date(2028, 1, 5))


def test_rejects_datetime(cal):
    with pytest.raises(TypeError):
        cal.is_working_day(datetime(2025, 1, 1, 9, 0))


def test_from_mapping_with_string_dates():
    c = WorkingCalendar.from_mapping(
        {
            "years": [
                {
                    "year": 2030,
                    "days": [
                        {"date": "2030-01-01", "name": "元旦", "type": "holiday"},
                        {"date": "2030-01-05", "name": "调休", "type": "workday"},
                    ],
                }
            ]
        }
    )
    assert c.years == (2030,)
    assert c.provisional_years == ()
    assert not c.is_working_day(date(2030, 1, 1))  # 周二，放假
    assert c.is_working_day(date(2030, 1, 5))  # 周六，调休上班
    assert not c.is_working_day(date(2030, 1, 6))  # 周日
    # 自 2029-12-31 起不可计算（2029 未载入）。
    with pytest.raises(CalendarRangeError):
        c.add_working_days(date(2029, 12, 31), 1)


@pytest.mark.parametrize(
    "days, message",
    [
        ([{"date": "2030-01-02", "name": "x", "type": "workday"}], "周六或周日"),
        ([{"date": "2030-01-01", "name": "x", "type": "rest"}], "type"),
        (
            [
                {"date": "2030-01-01", "name": "x", "type": "holiday"},
                {"date": "2030-01-01", "name": "y", "type": "holiday"},
            ],
            "重复",
        ),
        ([{"date": "2031-01-01", "name": "x", "type": "holiday"}], "不属于"),
        ([{"date": "2030-13-01", "name": "x", "type": "holiday"}], "无法识别"),
        ([{"name": "x", "type": "holiday"}], "缺少字段"),
    ],
)
def test_from_mapping_rejects_bad_data(days, message):
    with pytest.raises(CalendarDataError, match=message):
        WorkingCalendar.from_mapping({"years": [{"year": 2030, "days": days}]})
