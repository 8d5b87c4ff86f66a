"""Triggers of the digest jobs: the publish crontab and the preview's "N minutes before it".

:class:`LeadTrigger` is pickled into the persistent job store; stores written before this
module existed name it ``digest.schedule.LeadTrigger``, which ``digest.schedule`` still imports,
so both paths load. Its state is versioned (``__getstate__``), not its attributes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger


class LeadTrigger(BaseTrigger):
    """Fires ``minutes`` before every fire of a crontab in ``timezone`` (the preview)."""

    def __init__(self, crontab: str, timezone: str, minutes: int) -> None:
        self.crontab, self.timezone, self.minutes = crontab, timezone, minutes
        self._cron = CronTrigger.from_crontab(crontab, timezone=timezone)

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        lead = timedelta(minutes=self.minutes)
        previous = previous_fire_time + lead if previous_fire_time else None
        fire = self._cron.get_next_fire_time(previous, now + lead)
        return fire - lead if fire is not None else None

    def __getstate__(self) -> dict[str, Any]:
        return {"version": 1, "crontab": self.crontab, "tz": self.timezone, "min": self.minutes}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["crontab"], state["tz"], state["min"])  # type: ignore[misc]

    def __repr__(self) -> str:
        return f"<LeadTrigger {self.minutes} min before {self.crontab!r} in {self.timezone}>"


def publish_trigger(crontab: str, timezone: str) -> CronTrigger:
    """The publish job's trigger: ``crontab`` in the group's timezone."""
    return CronTrigger.from_crontab(crontab, timezone=timezone)


def trigger_key(trigger: BaseTrigger) -> tuple[str, str, str]:
    """What makes two triggers fire alike (an interval's start time is left out)."""
    return (type(trigger).__name__, str(trigger), str(getattr(trigger, "timezone", "")))
