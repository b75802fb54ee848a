"""The working-day calendar as the bureau edits it: loaded from the admin data, TOML fallback.

Every working-day deadline (行政处罚法 第八十五条, 行政强制法 第六十九条,
行政复议法 第八十八条) is counted on :func:`current_calendar`. The admin tables are seeded
from ``deadlines/data/holidays.toml`` by a data migration; while they are empty (a fresh database
before migrating data, or a deliberately cleared table) the shipped TOML is used.
"""

from __future__ import annotations

import threading
import tomllib
from pathlib import Path

from django.db import DatabaseError
from django.db.models import Count, Max

from liuhen.deadlines import calendar as _calendar
from liuhen.deadlines.calendar import (
    CalendarDataError,
    WorkingCalendar,
    default_calendar,
)
from liuhen.deadlines.models import HolidayYear

__all__ = ["calendar_mapping", "current_calendar", "load_years", "seed_from_toml"]

_lock = threading.Lock()
_cache: dict = {"key": None, "calendar": None}


def calendar_mapping() -> dict:
    """The admin data in the structure :meth:`WorkingCalendar.from_mapping` reads."""

    years = []
    for block in HolidayYear.objects.prefetch_related("days").order_by("year"):
        years.append(
            {
                "year": block.year,
                "provisional": block.provisional,
                "source": block.source,
                "document_number": block.document_number,
                "days": [
                    {"date": d.date, "name": d.name, "type": d.kind} for d in block.days.all()
                ],
            }
        )
    return {"years": years}


def _fingerprint():
    # One cheap query tells whether anything changed since the cached calendar was built
    # (any edit bumps updated_at; any delete changes a count), also across server processes.
    row = HolidayYear.objects.aggregate(
        n_years=Count("id", distinct=True),
        n_days=Count("days"),
        year_max=Max("updated_at"),
        day_max=Max("days__updated_at"),
    )
    return tuple(row[k] for k in ("n_years", "n_days", "year_max", "day_max"))


def current_calendar() -> WorkingCalendar:
    """The calendar from the admin data (cached until it changes); the TOML when it is empty.

    Invalid admin data (which the admin forms refuse) falls back to the TOML rather than
    breaking every case page; ``liuhen check`` style tooling can call
    ``WorkingCalendar.from_mapping(calendar_mapping())`` to see the error.
    """
    try:
        key = _fingerprint()
    except DatabaseError:  # tables not migrated yet
        return default_calendar()
    if not key[0]:
        return default_calendar()
    with _lock:
        if _cache["key"] == key and _cache["calendar"] is not None:
            return _cache["calendar"]
    try:
        calendar = WorkingCalendar.from_mapping(calendar_mapping())
    except CalendarDataError:
        calendar = default_calendar()
    with _lock:
        _cache["key"], _cache["calendar"] = key, calendar
    return calendar


def seed_from_toml(holiday_year_model, holiday_model, path: str | Path | None = None) -> int:
    """Copy the TOML into empty admin tables (used by the data migration); returns days added."""
    with open(path or _calendar.DEFAULT_DATA_PATH, "rb") as fh:
        data = tomllib.load(fh)
    WorkingCalendar.from_mapping(data)  # refuse to seed data the calendar would reject
    added = 0
    for block in data["years"]:
        year, _ = holiday_year_model.objects.get_or_create(
            year=int(block["year"]),
            defaults={
                "provisional": bool(block.get("provisional", False)),
                "source": str(block.get("source", ""))[:300],
            },
        )
        for day in block.get("days", ()):
            _, created = holiday_model.objects.get_or_create(
                date=day["date"],
                defaults={
                    "calendar_year": year,
                    "name": str(day["name"])[:30],
                    "kind": day["type"],
                },
            )
            added += created
    return added


def load_years(path: str | Path, *, replace: bool = False) -> list[int]:
    """Add the years of a holiday file (the format of ``deadlines/data/holidays.toml``: one
    ``[[years]]`` block per State Council notice, with ``source`` and ``document_number``) to the
    bureau's calendar; returns the years loaded.

    The file is checked as a whole first (:meth:`WorkingCalendar.from_mapping`); a year already
    loaded is refused unless ``replace`` (then its days are replaced by the file's). The caller
    audits the change and refreshes the stored deadlines.
    """
    from liuhen.deadlines.models import Holiday

    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise CalendarDataError(f"无法读取 {path}：{exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise CalendarDataError(f"{path} 不是有效的 TOML：{exc}") from None
    WorkingCalendar.from_mapping(data)
    loaded = []
    for block in data["years"]:
        year_no = int(block["year"])
        existing = HolidayYear.objects.filter(year=year_no).first()
        if existing is not None and not replace:
            raise CalendarDataError(f"{year_no} 年已载入；如需按通知更正，请使用替换（--replace）")
        fields = {
            "provisional": bool(block.get("provisional", False)),
            "source": str(block.get("source", ""))[:300],
            "document_number": str(block.get("document_number", ""))[:60],
        }
        if not fields["provisional"] and not fields["source"]:
            raise CalendarDataError(f"{year_no} 年：正式年度须写明依据的通知（source）")
        year, _ = HolidayYear.objects.update_or_create(year=year_no, defaults=fields)
        year.days.all().delete()
        for day in block.get("days", ()):
            if Holiday.objects.filter(date=day["date"]).exclude(calendar_year=year).exists():
                continue  # 元旦跨年: the earlier year's notice already lists the day
            Holiday.objects.create(
                calendar_year=year, date=day["date"], name=str(day["name"])[:30], kind=day["type"]
            )
        loaded.append(year_no)
    return loaded
