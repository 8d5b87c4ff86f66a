"""Triggers of the scheduled jobs, computed on absolute time (UTC instants).

A crontab is read in a group's timezone as wall-clock time, with the same rules as the digest
periods (:class:`bot.clubtime.CronPeriods`): a wall time repeated when clocks go back fires
once, at its first occurrence; a wall time skipped when clocks go forward fires right after the
gap (02:30 -> 03:30). Every fire is then an instant, so the triggers here are plain arithmetic
on instants and each fire is strictly later than the previous one:

* :class:`ClubCronTrigger`: the crontab itself (the publish and reminder jobs);
* :class:`LeadTrigger`: ``minutes`` of real time before every fire of the crontab (the
  preview), across any clock change.

APScheduler's own ``CronTrigger`` is not used for the fires: its wall-time arithmetic repeats
fires at ambiguous times, and ``fire - lead`` computed in wall time could return the previous
fire again, which APScheduler's catch-up loop then spins on forever (issue #22).

A trigger whose next fire would not be strictly after the previous one (a bug, or a stored
trigger from an older version) logs an error and skips ahead instead of being looped on.

The triggers are pickled into the persistent job store; their state is versioned
(``__getstate__``), not their attributes. Stores written before this module existed name the
preview trigger ``digest.schedule.LeadTrigger``, which ``digest.schedule`` still imports.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from bot.clubtime import CronPeriods, PeriodError, cron_periods

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler

log = logging.getLogger(__name__)

_TICK = timedelta(microseconds=1)
#: How far a trigger that fails to advance skips ahead before it tries again.
_SKIP_STEPS = (timedelta(minutes=1), timedelta(hours=1), timedelta(days=1), timedelta(days=8))


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime; use timezone-aware values")
    return moment.astimezone(UTC)


def _first_fire_at_or_after(periods: CronPeriods, start: datetime) -> datetime | None:
    try:
        return periods.next_end_after(start - _TICK)
    except PeriodError:
        return None


class _InstantTrigger(BaseTrigger):  # type: ignore[misc]  # APScheduler 3 is untyped
    """A trigger whose fires are instants ``shift`` before the fires of a crontab."""

    crontab: str
    timezone: str

    def _shift(self) -> timedelta:
        return timedelta(0)

    def _periods(self) -> CronPeriods:
        return cron_periods(self.crontab, self.timezone)

    def _next(self, start: datetime) -> datetime | None:
        """The first fire at or after ``start`` (UTC)."""
        shift = self._shift()
        fire = _first_fire_at_or_after(self._periods(), start + shift)
        return fire - shift if fire is not None else None

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        now = _utc(now)
        if previous_fire_time is None:
            return self._next(now)
        previous = _utc(previous_fire_time)
        fire = self._next(previous + _TICK)  # the fire after it, even if long past (catch-up)
        if fire is None or fire > previous:
            return fire
        # Never hand APScheduler a fire at or before the previous one: it would loop on it.
        log.error("%r did not advance past %s (got %s); skipping ahead", self, previous, fire)
        for step in _SKIP_STEPS:
            fire = self._next(max(now, previous) + step)
            if fire is not None and fire > previous:
                return fire
        log.error("%r: no later fire found; the job will not run again", self)
        return None


class ClubCronTrigger(_InstantTrigger):
    """Fires at every fire of ``crontab`` read in ``timezone`` (see the module docstring)."""

    def __init__(self, crontab: str, timezone: str) -> None:
        self.crontab, self.timezone = crontab, timezone
        self._periods()  # parse now: a bad crontab fails here, not in the scheduler

    def __getstate__(self) -> dict[str, Any]:
        return {"version": 1, "crontab": self.crontab, "tz": self.timezone}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["crontab"], state["tz"])  # type: ignore[misc]

    def __str__(self) -> str:
        return f"club-cron[{self.crontab!r} in {self.timezone}]"

    def __repr__(self) -> str:
        return f"<ClubCronTrigger {self.crontab!r} in {self.timezone}>"


class LeadTrigger(_InstantTrigger):
    """Fires ``minutes`` of real time before every fire of a crontab in ``timezone``."""

    def __init__(self, crontab: str, timezone: str, minutes: int) -> None:
        self.crontab, self.timezone, self.minutes = crontab, timezone, minutes
        self._periods()

    def _shift(self) -> timedelta:
        return timedelta(minutes=self.minutes)

    def __getstate__(self) -> dict[str, Any]:
        return {"version": 1, "crontab": self.crontab, "tz": self.timezone, "min": self.minutes}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["crontab"], state["tz"], state["min"])  # type: ignore[misc]

    def __str__(self) -> str:
        return f"lead[{self.minutes} min before {self.crontab!r} in {self.timezone}]"

    def __repr__(self) -> str:
        return f"<LeadTrigger {self.minutes} min before {self.crontab!r} in {self.timezone}>"


def publish_trigger(crontab: str, timezone: str) -> ClubCronTrigger:
    """The publish job's trigger: ``crontab`` in the group's timezone."""
    return ClubCronTrigger(crontab, timezone)


def trigger_key(trigger: BaseTrigger) -> tuple[str, str, str]:
    """What makes two triggers fire alike (an interval's start time is left out)."""
    return (type(trigger).__name__, str(trigger), str(getattr(trigger, "timezone", "")))


def replaces_in_place(old: BaseTrigger, new: BaseTrigger) -> bool:
    """Whether ``new`` is the same schedule as a stored APScheduler ``CronTrigger`` ``old``
    (a job store written before :class:`ClubCronTrigger`): the job's pending run time, maybe
    a missed one to catch up, is then kept when the trigger is swapped."""
    if not isinstance(old, CronTrigger) or not isinstance(new, ClubCronTrigger):
        return False
    same = CronTrigger.from_crontab(new.crontab, timezone=new.timezone)
    return trigger_key(old) == trigger_key(same)


def ensure_job(
    scheduler: BaseScheduler,
    job_id: str,
    func: Callable[..., Awaitable[Any]],
    trigger: BaseTrigger,
    args: list[Any],
    **options: Any,
) -> None:
    """Add the job unless the store already has it with the same function, args and trigger.

    A stored job whose trigger is the same schedule written by an older version (see
    :func:`digest.triggers.replaces_in_place`) gets the new trigger but keeps its pending run
    time, so a run missed during downtime is still caught up.
    """
    existing = scheduler.get_job(job_id)
    ref = f"{func.__module__}:{func.__qualname__}"
    if existing is not None and existing.func_ref == ref and list(existing.args) == args:
        if trigger_key(existing.trigger) == trigger_key(trigger):
            return
        if replaces_in_place(existing.trigger, trigger):
            scheduler.modify_job(job_id, trigger=trigger, **options)
            return
    scheduler.add_job(func, trigger, args=args, id=job_id, replace_existing=True, **options)
