"""Crontab strings as people write them (crontab(5)), made to mean the same to APScheduler 3.

crontab(5) numbers weekdays from Sunday (``0`` or ``7`` = Sunday, ``1`` = Monday, ...), but
APScheduler 3's ``CronTrigger.from_crontab`` numbers them from Monday (``0`` = Monday, ``6`` =
Sunday) and refuses ``7``: ``0 20 * * 0`` would publish the digest on Monday, ``1-5`` would
remind Tuesday to Saturday. :func:`standard_crontab` rewrites the day-of-week field into day
names, which both read alike; every other field is passed through unchanged.
"""

from __future__ import annotations

import re

DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_TOKEN = re.compile(r"^(?:(\*)|([a-z]{3}|\d{1,2})(?:-([a-z]{3}|\d{1,2}))?)(?:/(\d{1,2}))?$")


def standard_crontab(value: str) -> str:
    """``value`` with its day-of-week field in names; ValueError with the reason if invalid."""
    fields = value.split()
    if len(fields) != 5:
        raise ValueError(f"expected 5 fields (minute hour day month weekday), got {len(fields)}")
    fields[4] = _weekdays(fields[4])
    return " ".join(fields)


def _weekdays(field: str) -> str:
    if field in ("*", "?"):
        return "*"
    days: set[int] = set()
    for token in field.lower().split(","):
        days.update(_expand(token))
    if len(days) == 7:
        return "*"
    ordered = sorted(days, key=lambda day: (day - 1) % 7)  # Monday first, Sunday last
    return ",".join(DAY_NAMES[day] for day in ordered)


def _expand(token: str) -> list[int]:
    """The days (0 = Sunday) one comma-separated part stands for."""
    match = _TOKEN.match(token)
    if match is None:
        raise ValueError(f"invalid day of week {token!r} (use 0-7 or sun-sat)")
    star, first, last, step = match.groups()
    if star:
        start, end = 0, 6
    else:
        start = _day(first)
        # a single day, or with a step "a/n" (= "a-7/n")
        end = _day(last) if last else (7 if step else start)
        if last and end < start and end == 0:
            end = 7  # "fri-sun" / "5-0": Sunday closes the range
        if end < start:
            raise ValueError(f"day-of-week range {token!r} runs backwards")
    every = int(step) if step else 1
    if every < 1:
        raise ValueError(f"invalid step in day of week {token!r}")
    return [day % 7 for day in range(start, end + 1, every)]


def _day(text: str) -> int:
    if text.isdigit():
        number = int(text)
        if number > 7:
            raise ValueError(f"day of week {number} is out of range (0-7, 0 and 7 = Sunday)")
        return number
    if text not in DAY_NAMES:
        raise ValueError(f"unknown day name {text!r} (use sun, mon, tue, wed, thu, fri, sat)")
    return DAY_NAMES.index(text)
