"""工作日历：法定节假日与调休上班日（纯 Python，不依赖 Django）。

数据来源是 ``liuhen/deadlines/data/holidays.toml``（每年依国务院办公厅节假日安排通知维护），
也可以由任意映射构造（例如日后由 Django 后台模型导出的数据），格式见
:meth:`WorkingCalendar.from_mapping`。

约定
----
* 某个自然年载入后，该年内未列出的日期按“周一至周五上班、周六周日休息”处理；
  ``type = "holiday"`` 的日期休息，``type = "workday"`` 的日期（调休的周六、周日）上班。
* 未载入的年度不作推测，直接抛出 :class:`CalendarRangeError`。
* 期间计算遵循“期间开始之日不计算在期间内”：``add_working_days(start, n)`` 从
  ``start`` 的次日起数，返回第 n 个工作日。
"""

from __future__ import annotations

import datetime as _dt
import functools
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "DEFAULT_DATA_PATH",
    "SHIPPED_DATA_PATH",
    "CalendarDataError",
    "CalendarDay",
    "CalendarRangeError",
    "DayType",
    "WorkingCalendar",
    "default_calendar",
]

# The table shipped with Liuhen. DEFAULT_DATA_PATH is what default_calendar() reads: the same
# file, unless a test run moved past the shipped years (see liuhen.deadlines.tests.calendar_years).
SHIPPED_DATA_PATH = Path(__file__).resolve().parent / "data" / "holidays.toml"
DEFAULT_DATA_PATH = SHIPPED_DATA_PATH

DayType = Literal["holiday", "workday"]
_DAY_TYPES: frozenset[str] = frozenset({"holiday", "workday"})
_ONE_DAY = _dt.timedelta(days=1)


class CalendarRangeError(ValueError):
    """日期超出工作日历已载入的年度范围。"""

    def __init__(self, day: _dt.date, years: Iterable[int]):
        self.date = day
        self.years = tuple(sorted(years))
        loaded = "、".join(str(y) for y in self.years) or "无"
        super().__init__(
            f"日期 {day.isoformat()} 超出工作日历覆盖范围（已载入年度：{loaded}），"
            f"无法判断是否为工作日。请管理员先录入 {day.year} 年国务院节假日安排后再计算。"
        )


class CalendarDataError(ValueError):
    """节假日数据格式或内容有误。"""


@dataclass(frozen=True, slots=True)
class CalendarDay:
    """节假日数据中的一条记录。"""

    date: _dt.date
    name: str
    type: DayType


def _coerce_date(value: Any, where: str) -> _dt.date:
    if isinstance(value, _dt.datetime):
        raise CalendarDataError(f"{where}：日期不能带时间（{value!r}）")
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, str):
        try:
            return _dt.date.fromisoformat(value)
        except ValueError:
            raise CalendarDataError(f"{where}：无法识别的日期 {value!r}（应为 YYYY-MM-DD）")
    raise CalendarDataError(f"{where}：无法识别的日期 {value!r}")


def _check_date_arg(day: Any) -> _dt.date:
    # datetime 是 date 的子类；带时区的时间按哪一天算容易出错，要求调用方先换算成本地日期。
    if isinstance(day, _dt.datetime):
        raise TypeError("请传入 datetime.date（本地日期），不要传入 datetime")
    if not isinstance(day, _dt.date):
        raise TypeError(f"需要 datetime.date，收到 {type(day).__name__}")
    return day


class WorkingCalendar:
    """按年度载入的中国工作日历。

    :param days: 放假（holiday）与调休上班（workday）记录。
    :param years: 已完整载入的自然年；只有这些年度内的日期可以计算。
    :param provisional_years: 数据为推算、尚待管理员确认的年度（须包含在 ``years`` 中）。
    """

    def __init__(
        self,
        days: Iterable[CalendarDay],
        years: Iterable[int],
        provisional_years: Iterable[int] = (),
    ):
        self._years: frozenset[int] = frozenset(int(y) for y in years)
        self._provisional: frozenset[int] = frozenset(int(y) for y in provisional_years)
        unknown = self._provisional - self._years
        if unknown:
            raise CalendarDataError(f"暂定年度 {sorted(unknown)} 不在已载入年度中")
        self._days: dict[_dt.date, CalendarDay] = {}
        for entry in days:
            where = f"{entry.date}（{entry.name}）"
            if entry.type not in _DAY_TYPES:
                raise CalendarDataError(
                    f"{where}：type 应为 holiday 或 workday，实为 {entry.type!r}"
                )
            if entry.date.year not in self._years:
                raise CalendarDataError(f"{where}：所在年度 {entry.date.year} 未载入")
            if entry.type == "workday" and entry.date.weekday() < 5:
                raise CalendarDataError(f"{where}：调休上班日必须是周六或周日")
            if entry.date in self._days:
                raise CalendarDataError(f"{where}：日期重复")
            self._days[entry.date] = entry

    # ------------------------------------------------------------------ 构造
    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> WorkingCalendar:
        """由映射构造，结构与 holidays.toml 相同::

            {"years": [
                {"year": 2025, "provisional": False, "source": "...",
                 "days": [{"date": date(2025, 1, 1) or "2025-01-01",
                           "name": "元旦", "type": "holiday"}, ...]},
                ...
            ]}

        一条通知的日期可以落在上一年 12 月底（元旦跨年），但不能更早或更晚。
        """
        blocks = data.get("years")
        if not isinstance(blocks, list | tuple) or not blocks:
            raise CalendarDataError("节假日数据缺少 years 列表")
        years: list[int] = []
        provisional: list[int] = []
        days: list[CalendarDay] = []
        for block in blocks:
            try:
                year = int(block["year"])
            except (KeyError, TypeError, ValueError):
                raise CalendarDataError(f"年度数据缺少有效的 year：{block!r}")
            if year in years:
                raise CalendarDataError(f"{year} 年度重复")
            years.append(year)
            if block.get("provisional", False):
                provisional.append(year)
            for i, raw in enumerate(block.get("days", ())):
                where = f"{year} 年第 {i + 1} 条"
                try:
                    name, day_type = str(raw["name"]), raw["type"]
                    day = _coerce_date(raw["date"], where)
                except KeyError as exc:
                    raise CalendarDataError(f"{where}：缺少字段 {exc.args[0]}")
                if day.year not in (year, year - 1):
                    raise CalendarDataError(f"{where}：日期 {day} 不属于 {year} 年度通知")
                days.append(CalendarDay(date=day, name=name, type=day_type))
        # 元旦跨年的日期（上一年 12 月底）只有在上一年也已载入时才可使用。
        days = [d for d in days if d.date.year in years]
        return cls(days, years=years, provisional_years=provisional)

    @classmethod
    def from_toml(cls, path: str | Path) -> WorkingCalendar:
        with open(path, "rb") as fh:
            return cls.from_mapping(tomllib.load(fh))

    # ------------------------------------------------------------------ 查询
    @property
    def years(self) -> tuple[int, ...]:
        return tuple(sorted(self._years))

    @property
    def provisional_years(self) -> tuple[int, ...]:
        return tuple(sorted(self._provisional))

    def covers(self, day: _dt.date) -> bool:
        return _check_date_arg(day).year in self._years

    def is_provisional(self, day: _dt.date) -> bool:
        """该日期所在年度的数据是否为推算（尚待管理员确认）。"""
        return _check_date_arg(day).year in self._provisional

    def day_info(self, day: _dt.date) -> CalendarDay | None:
        """该日期在节假日数据中的记录（放假或调休上班），普通日期返回 None。"""
        self._require(day)
        return self._days.get(day)

    def is_working_day(self, day: _dt.date) -> bool:
        self._require(day)
        entry = self._days.get(day)
        if entry is not None:
            return entry.type == "workday"
        return day.weekday() < 5

    def is_rest_day(self, day: _dt.date) -> bool:
        """休息日：法定节假日、调休放假日以及未调休的周六、周日（即“法定休假日”）。"""
        return not self.is_working_day(day)

    # ------------------------------------------------------------------ 计算
    def next_working_day(self, day: _dt.date, *, inclusive: bool = True) -> _dt.date:
        """``day`` 当天（inclusive=True 时）或之后的第一个工作日。"""
        current = day if inclusive else day + _ONE_DAY
        while not self.is_working_day(current):
            current += _ONE_DAY
        return current

    def previous_working_day(self, day: _dt.date, *, inclusive: bool = True) -> _dt.date:
        """``day`` 当天（inclusive=True 时）或之前的最后一个工作日。"""
        current = day if inclusive else day - _ONE_DAY
        while not self.is_working_day(current):
            current -= _ONE_DAY
        return current

    def add_working_days(self, start: _dt.date, n: int) -> _dt.date:
        """``start`` 之后的第 n 个工作日（``start`` 的次日算起，``start`` 本身不计）。

        n 为负数时向前倒数：返回 ``start`` 之前的第 |n| 个工作日
        （用于“某日之前 n 个工作日”一类的期限）。n 为 0 时原样返回 ``start``。
        """
        self._require(start)
        if not isinstance(n, int) or isinstance(n, bool):
            raise TypeError("n 必须是整数")
        step = _ONE_DAY if n >= 0 else -_ONE_DAY
        current = start
        remaining = abs(n)
        while remaining:
            current += step
            if self.is_working_day(current):
                remaining -= 1
        return current

    def working_days_between(self, a: _dt.date, b: _dt.date) -> int:
        """``a`` 之后至 ``b``（含）之间的工作日数，即 ``(a, b]``。

        与 :meth:`add_working_days` 互逆：``working_days_between(s, add_working_days(s, n)) == n``
        （``add_working_days`` 的结果必然是工作日）。``b`` 早于 ``a`` 时返回负数，
        即 ``-working_days_between(b, a)``。
        """
        self._require(a)
        self._require(b)
        if b < a:
            return -self.working_days_between(b, a)
        count = 0
        current = a + _ONE_DAY
        while current <= b:
            if self.is_working_day(current):
                count += 1
            current += _ONE_DAY
        return count

    # ------------------------------------------------------------------ 内部
    def _require(self, day: _dt.date) -> None:
        _check_date_arg(day)
        if day.year not in self._years:
            raise CalendarRangeError(day, self._years)

    def __repr__(self) -> str:
        prov = f", provisional={list(self.provisional_years)}" if self._provisional else ""
        return f"<WorkingCalendar years={list(self.years)}{prov}>"


@functools.cache
def default_calendar() -> WorkingCalendar:
    """由内置的 holidays.toml 构造的工作日历（进程内缓存）。

    修改数据文件后需重启进程，或调用 ``default_calendar.cache_clear()``。
    """
    return WorkingCalendar.from_toml(DEFAULT_DATA_PATH)
