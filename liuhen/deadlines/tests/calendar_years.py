"""Synthetic holiday years for a suite run past the shipped calendar (``LIUHEN_TEST_NOW``).

The shipped ``holidays.toml`` covers the years whose State Council notice is out. A suite moved
two years ahead needs the years around its frozen "today" as an administrator would load them;
this writes a copy of the shipped table plus weekend-only years (with 元旦, 劳动节 and 国庆节
as fixed holidays), marked provisional, and points the calendar at it. Nothing changes when the
shipped table already covers the frozen year and the next.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import tomllib
from pathlib import Path

_FIXED_HOLIDAYS = [((1, 1), "元旦"), ((5, 1), "劳动节"), ((5, 2), "劳动节"), ((5, 3), "劳动节")]
_FIXED_HOLIDAYS += [((10, d), "国庆节") for d in range(1, 8)]


def _synthetic_year(year: int) -> str:
    lines = ["[[years]]", f"year = {year}", "provisional = true",
             'source = "测试用合成日历（仅周末与固定节日）"', ""]
    for (month, day), name in _FIXED_HOLIDAYS:
        date = dt.date(year, month, day)
        lines += ["[[years.days]]", f"date = {date.isoformat()}", f'name = "{name}"',
                  'type = "holiday"', ""]
    return "\n".join(lines)


def extend_shipped_calendar(first: int, last: int) -> Path | None:
    """Add synthetic years after the shipped table's last one, up to ``last``; returns the file
    now used, or None when nothing was needed."""
    from liuhen.deadlines import calendar

    shipped = calendar.DEFAULT_DATA_PATH
    with open(shipped, "rb") as fh:
        years = {int(block["year"]) for block in tomllib.load(fh)["years"]}
    if last - 1 <= max(years):
        return None
    missing = [y for y in range(max(max(years) + 1, first), last + 1) if y not in years]
    text = shipped.read_text(encoding="utf-8") + "\n\n" + "\n".join(map(_synthetic_year, missing))
    target = Path(tempfile.mkdtemp(prefix="liuhen-calendar-")) / "holidays.toml"
    target.write_text(text, encoding="utf-8")
    calendar.DEFAULT_DATA_PATH = target
    calendar.default_calendar.cache_clear()
    return target
