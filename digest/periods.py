"""Digest periods: contiguous ``[start, end)`` intervals whose ends are the publish cron's fires.

The cron (``config.digest.cron``: crontab syntax, its weekdays already turned into names by
the config, see :mod:`bot.crontab`, so APScheduler's ``from_crontab`` reads them as crontab(5))
is read in the group's timezone as *wall-clock* time: ``0 20 * * sun`` ends every period on
Sunday 20:00 local, whatever the UTC offset that week. Fire times are computed by matching the
cron against local wall time (an APScheduler trigger in UTC used as a pure calendar matcher)
and then mapping wall time to an instant with :mod:`zoneinfo`:

* an ambiguous wall time (autumn fall-back) fires once, at its first occurrence (``fold=0``);
* a wall time inside a spring-forward gap fires right after the gap (02:30 -> 03:30).

(APScheduler's own timezone handling repeats a fire at ambiguous times, so it is not used
for the arithmetic.)

Issues are numbered 1, 2, 3... per group. :func:`ensure_issue` creates missing issues so that
each one starts exactly where the previous ended (no gap, no overlap). **The first issue of a
group** is the cron period that contains the moment asked for: it starts at the previous
cron fire (not at the ISO week start), so every issue, the first included, is one whole cron
interval and ends on a publish time. Messages recorded before the first issue ever existed
are not in any digest (issues are created on the first preview/publish/status call, which the
scheduler makes every week). If the cron changes, existing issues stay; the next issue starts
at the last end and ends at the new cron's next fire.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import DigestIssue, Group

#: Largest difference between wall-clock order and instant order (UTC offset changes).
_SLACK = timedelta(hours=6)
_LOOKBACK = (
    timedelta(hours=3),
    timedelta(days=1),
    timedelta(days=8),
    timedelta(days=32),
    timedelta(days=367),
    timedelta(days=4 * 366),
)
PUBLISHED = "published"


class PeriodError(ValueError):
    """A moment that no period can hold (before the group's first issue, or a cron that
    never fires)."""


class CronPeriods:
    """Period ends of one cron in one timezone."""

    def __init__(self, cron: str, timezone: str) -> None:
        self.cron = cron
        self.zone = ZoneInfo(timezone)
        # Used only as a calendar matcher over naive wall time represented as UTC.
        self._wall = CronTrigger.from_crontab(cron, timezone=UTC)

    def _wall_fires(self, start_wall: datetime) -> Iterator[datetime]:
        fire = self._wall.get_next_fire_time(None, start_wall)
        while fire is not None:
            yield fire
            fire = self._wall.get_next_fire_time(None, fire + timedelta(microseconds=1))

    def _instant(self, wall: datetime) -> datetime:
        local = wall.replace(tzinfo=self.zone, fold=0)
        return local.astimezone(UTC)

    def _to_wall(self, t: datetime) -> datetime:
        if t.tzinfo is None:
            raise ValueError("naive datetime; use timezone-aware values")
        return t.astimezone(self.zone).replace(tzinfo=UTC, fold=0)

    def next_end_after(self, t: datetime) -> datetime:
        """The first cron fire strictly after ``t`` (aware UTC)."""
        wall = self._to_wall(t)
        best: tuple[datetime, datetime] | None = None
        for fire in self._wall_fires(wall - _SLACK):
            instant = self._instant(fire)
            if instant > t and (best is None or instant < best[0]):
                best = (instant, fire)
            if best is not None and fire > best[1] + _SLACK:
                break
        if best is None:
            raise PeriodError(f"cron {self.cron!r} never fires after {t.isoformat()}")
        return best[0]

    def last_end_at_or_before(self, t: datetime) -> datetime:
        """The latest cron fire at or before ``t`` (aware UTC)."""
        wall = self._to_wall(t)
        for window in _LOOKBACK:
            found: tuple[datetime, datetime] | None = None
            for fire in self._wall_fires(wall - window - _SLACK):
                if fire > wall + _SLACK:
                    break
                instant = self._instant(fire)
                if instant <= t and (found is None or instant > found[0]):
                    found = (instant, fire)
            if found is not None and found[1] >= wall - window:
                return found[0]
        raise PeriodError(f"cron {self.cron!r} did not fire in the 4 years before {t}")

    def bounds(self, at: datetime) -> tuple[datetime, datetime]:
        """The cron period ``[start, end)`` that contains ``at``."""
        return self.last_end_at_or_before(at), self.next_end_after(at)


@lru_cache(maxsize=64)
def cron_periods(cron: str, timezone: str) -> CronPeriods:
    """A cached :class:`CronPeriods` (building a trigger parses the crontab)."""
    return CronPeriods(cron, timezone)


def _issues(session: Session, group: Group) -> Iterator[DigestIssue]:
    return iter(
        session.scalars(
            select(DigestIssue).where(DigestIssue.group_id == group.id).order_by(DigestIssue.number)
        ).all()
    )


def _last_issue(session: Session, group: Group) -> DigestIssue | None:
    stmt = (
        select(DigestIssue)
        .where(DigestIssue.group_id == group.id)
        .order_by(DigestIssue.number.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def issue_containing(session: Session, group: Group, at: datetime) -> DigestIssue | None:
    """The existing issue whose period contains ``at`` (never creates one)."""
    stmt = select(DigestIssue).where(
        DigestIssue.group_id == group.id,
        DigestIssue.period_start <= at,
        DigestIssue.period_end > at,
    )
    return session.scalars(stmt).first()


def _add_issue(
    session: Session, group: Group, number: int, start: datetime, end: datetime
) -> DigestIssue | None:
    """Insert one issue; None if another worker inserted it first (caller re-reads)."""
    issue = DigestIssue(
        group_id=group.id,
        number=number,
        period_start=start,
        period_end=end,
        status="draft",
        featured=[],
        dropped=[],
    )
    try:
        with session.begin_nested():
            session.add(issue)
            session.flush()
    except IntegrityError:
        return None
    return issue


def ensure_issue(session: Session, group: Group, at: datetime, cron: str) -> DigestIssue:
    """The issue whose ``[period_start, period_end)`` contains ``at``, created if missing.

    Missing issues between the group's last issue and ``at`` are created too, each starting
    where the previous ended. Raises :class:`PeriodError` when ``at`` is before the group's
    first issue.
    """
    if at.tzinfo is None:
        raise ValueError("naive datetime; use timezone-aware values")
    periods = cron_periods(cron, group.timezone)
    for _attempt in range(5):
        found = issue_containing(session, group, at)
        if found is not None:
            return found
        last = _last_issue(session, group)
        if last is None:
            start, end = periods.bounds(at)
            first = _add_issue(session, group, 1, start, end)
            if first is None:
                continue
            return first
        if at < last.period_start:
            raise PeriodError(
                f"{at.isoformat()} is before the first digest period of group {group.slug}"
            )
        number, start = last.number, last.period_end
        created: DigestIssue | None = None
        while start <= at:
            end = periods.next_end_after(start)
            number += 1
            created = _add_issue(session, group, number, start, end)
            if created is None:  # another worker got there first: look again
                break
            start = end
        if created is not None:
            return created
        # Lost a race (or the issue holding `at` appeared between our two reads): re-read.
    raise RuntimeError("could not create digest issues (concurrent writers kept winning)")


def latest_closed_issue(session: Session, group: Group, at: datetime, cron: str) -> DigestIssue:
    """The issue whose period ended at the latest cron fire at or before ``at`` (created if
    missing), whatever its status: what a publish job firing at ``at`` should publish."""
    last_end = cron_periods(cron, group.timezone).last_end_at_or_before(at)
    existing = session.scalars(
        select(DigestIssue)
        .where(DigestIssue.group_id == group.id, DigestIssue.period_end <= at)
        .order_by(DigestIssue.period_end.desc())
        .limit(1)
    ).first()
    if existing is not None and existing.period_end >= last_end:
        return existing
    return ensure_issue(session, group, last_end - timedelta(microseconds=1), cron)


def is_published(issue: DigestIssue) -> bool:
    return issue.status == PUBLISHED or issue.published_at is not None


def unpublished_closed_issues(session: Session, group: Group, at: datetime) -> list[DigestIssue]:
    """Issues whose period ended at or before ``at`` and that are not published, oldest first."""
    stmt = (
        select(DigestIssue)
        .where(DigestIssue.group_id == group.id, DigestIssue.period_end <= at)
        .order_by(DigestIssue.number)
    )
    return [issue for issue in session.scalars(stmt).all() if not is_published(issue)]


def issue_ending_at_or_before(
    session: Session, group: Group, at: datetime, cron: str | None = None
) -> DigestIssue | None:
    """The latest issue with ``period_end <= at`` that is not published yet, or None.

    With ``cron``, the just-closed issue is created first if it does not exist yet (so the
    very first publish of a group finds the week that just ended).
    """
    if cron is not None:
        latest_closed_issue(session, group, at, cron)
    pending = unpublished_closed_issues(session, group, at)
    return pending[-1] if pending else None


def all_issues(session: Session, group: Group) -> list[DigestIssue]:
    """Every issue of ``group`` in number order."""
    return list(_issues(session, group))
