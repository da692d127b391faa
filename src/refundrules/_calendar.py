"""Business days of a platform's calendar: its timezone, weekend and public holidays.

Public holidays come from the ``holidays`` library (country and subdivision codes as it
names them). A business-day span is counted in business *seconds*: the part of each local
business day that the span covers, divided by 86,400, so "3 business days after Friday
17:00" is Wednesday 17:00 when Monday is a holiday, and elapsed time and deadlines agree.

>>> from datetime import datetime
>>> from zoneinfo import ZoneInfo
>>> calendar = BusinessCalendar("America/New_York", country="US")
>>> start = datetime(2025, 8, 29, 17, 0, tzinfo=ZoneInfo("America/New_York"))  # Friday
>>> calendar.add_business_days(start, 3).isoformat()  # Monday 1 September is Labor Day
'2025-09-04T17:00:00-04:00'
"""

from __future__ import annotations

import threading
from collections.abc import Set
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["BusinessCalendar"]

_DAY = 86400.0


class BusinessCalendar:
    """Which local days are business days, and spans and deadlines counted in them."""

    def __init__(
        self,
        timezone: str,
        *,
        country: str | None = None,
        subdivision: str | None = None,
        weekend: tuple[int, ...] = (5, 6),
    ) -> None:
        self.timezone = timezone
        self.country = country
        self.subdivision = subdivision
        self.weekend = frozenset(weekend)
        self._zone = ZoneInfo(timezone)
        self._holidays: dict[int, Set[date]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        where = self.country or "no holidays"
        if self.subdivision:
            where += f"-{self.subdivision}"
        return f"<BusinessCalendar {where} {self.timezone}>"

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (self.timezone, self.country, self.subdivision, tuple(self.weekend)))

    def holidays_in(self, year: int) -> Set[date]:
        found = self._holidays.get(year)
        if found is not None:
            return found
        if self.country is None:
            found = frozenset()
        else:
            import holidays  # a well-kept holiday calendar; imported only by packs that count business days

            found = frozenset(
                holidays.country_holidays(self.country, subdiv=self.subdivision, years=year)
            )
        with self._lock:
            self._holidays[year] = found
        return found

    def is_business_day(self, day: date) -> bool:
        return day.weekday() not in self.weekend and day not in self.holidays_in(day.year)

    def _midnight_after(self, moment: datetime) -> datetime:
        local = moment.astimezone(self._zone)
        following = datetime.combine(local.date() + timedelta(days=1), time(0), self._zone)
        return following.astimezone(UTC)

    def business_days_between(self, start: datetime, end: datetime) -> float:
        """The business days (in business seconds / 86,400) from ``start`` to ``end``."""
        cursor = start.astimezone(UTC)
        stop = end.astimezone(UTC)
        seconds = 0.0
        while cursor < stop:
            boundary = min(self._midnight_after(cursor), stop)
            if self.is_business_day(cursor.astimezone(self._zone).date()):
                seconds += (boundary - cursor).total_seconds()
            cursor = boundary
        return seconds / _DAY

    def add_business_days(self, start: datetime, days: float) -> datetime:
        """The moment ``days`` business days after ``start``, in ``start``'s timezone."""
        remaining = days * _DAY
        cursor = start.astimezone(UTC)
        while remaining > 0:
            boundary = self._midnight_after(cursor)
            if self.is_business_day(cursor.astimezone(self._zone).date()):
                step = min(remaining, (boundary - cursor).total_seconds())
                remaining -= step
                cursor += timedelta(seconds=step)
            else:
                cursor = boundary
        return cursor.astimezone(start.tzinfo)


def _rebuild(
    timezone: str, country: str | None, subdivision: str | None, weekend: tuple[int, ...]
) -> BusinessCalendar:
    return BusinessCalendar(timezone, country=country, subdivision=subdivision, weekend=weekend)
