"""Digest periods: contiguous ``[start, end)`` intervals whose ends are the publish cron's fires.

The cron (``config.digest.cron``: crontab syntax, its weekdays already turned into names by
the config, see :mod:`bot.crontab`, so APScheduler's ``from_crontab`` reads them as crontab(5))
is read in the group's timezone as *wall-clock* time: ``0 20 * * sun`` ends every period on
Sunday 20:00 local, whatever the UTC offset that week. The fires are instants computed by
:class:`bot.clubtime.CronPeriods` (a repeated wall time fires once, at its first occurrence;
a skipped one right after the gap), the same ones the scheduler's triggers use.

Issues are numbered 1, 2, 3... per group; a number is final when the issue is published: an
issue skipped for having nothing in it gives its number to the next (:func:`give_up_number`),
so the archive has no gaps. :func:`ensure_issue` creates missing issues so that
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
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.clubtime import PeriodError, cron_periods, week_key
from storage.models import DigestIssue, Group

PUBLISHED = "published"


def _issues(session: Session, group: Group) -> Iterator[DigestIssue]:
    return iter(
        session.scalars(
            select(DigestIssue)
            .where(DigestIssue.group_id == group.id)
            .order_by(DigestIssue.period_start)
        ).all()
    )


def _last_issue(session: Session, group: Group) -> DigestIssue | None:
    """The group's latest issue in time (a skipped one included)."""
    stmt = (
        select(DigestIssue)
        .where(DigestIssue.group_id == group.id)
        .order_by(DigestIssue.period_start.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def _last_number(session: Session, group: Group) -> int:
    """The highest issue number in use (skipped issues hold none), 0 when there is none."""
    found = session.scalar(
        select(func.max(DigestIssue.number)).where(
            DigestIssue.group_id == group.id, DigestIssue.number > 0
        )
    )
    return int(found or 0)


def give_up_number(session: Session, issue: DigestIssue) -> int:
    """An issue that is not published (nothing in it) gives its number to the issues after
    it, so published issues are numbered 1, 2, 3... without gaps and the archive's count is
    their last number. The skipped issue keeps ``-id`` (numbers are unique per group). Later
    issues are drafts (issues are published in order); if one is not, the gap stays.
    Returns the number given up."""
    number = issue.number
    if number <= 0:
        return -number
    later = list(
        session.scalars(
            select(DigestIssue)
            .where(DigestIssue.group_id == issue.group_id, DigestIssue.number > number)
            .order_by(DigestIssue.number)
        )
    )
    if any(other.status != "draft" for other in later):
        return number
    issue.number = -issue.id
    session.flush()
    for other in later:  # one by one, upwards: each takes the number just freed
        other.number -= 1
        session.flush()
    return number


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


#: Missing issues between the group's last issue and now are created (after a downtime) only
#: up to this long a gap after a published issue; beyond it (a file of old issues imported
#: into an empty group), only the open period's issue is, numbered next: the weeks between
#: could only ever be empty (messages are at most a day late).
LONG_GAP = timedelta(weeks=8)


def ensure_issue(session: Session, group: Group, at: datetime, cron: str) -> DigestIssue:
    """The issue whose ``[period_start, period_end)`` contains ``at``, created if missing.

    Missing issues between the group's last issue and ``at`` are created too, each starting
    where the previous ended, unless they span more than :data:`LONG_GAP` after a published
    issue (then only the issue holding ``at``). A moment in such a gap belongs to the issue after it. Raises
    :class:`PeriodError` when ``at`` is before the group's first issue.
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
            after = _issue_after_gap(session, group, at)
            if after is not None:  # between imported old issues and the open week
                return after
            raise PeriodError(
                f"{at.isoformat()} is before the first digest period of group {group.slug}"
            )
        number, start = _last_number(session, group), last.period_end
        open_start, open_end = periods.bounds(at)
        if last.status == PUBLISHED and open_start - start > LONG_GAP:
            # an import of old issues (or months down after a publish): no empty weeks
            only = _add_issue(session, group, number + 1, open_start, open_end)
            if only is None:
                continue
            return only
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


def _issue_after_gap(session: Session, group: Group, at: datetime) -> DigestIssue | None:
    """When ``at`` falls between two issues (the weeks a long gap skipped, see
    :data:`LONG_GAP`), the first issue after it; None before the first issue."""
    earlier = session.scalar(
        select(func.count()).where(DigestIssue.group_id == group.id, DigestIssue.period_end <= at)
    )
    if not earlier:
        return None
    return session.scalars(
        select(DigestIssue)
        .where(DigestIssue.group_id == group.id, DigestIssue.period_start > at)
        .order_by(DigestIssue.period_start)
        .limit(1)
    ).first()


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
        .order_by(DigestIssue.period_start)
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


@dataclass(frozen=True)
class ClubWeek:
    """The club week (an open digest period) a note written at some moment goes into."""

    number: int  #: the issue's number, as replies show it
    start: datetime
    end: datetime  #: the deadline: the publish time
    key: date  #: the Monday that identifies the week for streaks (:func:`bot.clubtime.week_key`)


def open_issue_for(session: Session, group: Group, at: datetime, cron: str) -> DigestIssue:
    """The issue something written at ``at`` goes into: the one whose period holds ``at``,
    or the next one still open when that one is already published (or being published), or
    the first issue when ``at`` is before it. Creates issues as needed."""
    try:
        issue = ensure_issue(session, group, at, cron)
    except PeriodError:
        first = next(_issues(session, group))
        issue = ensure_issue(session, group, first.period_start, cron)
    while issue.status != "draft" or is_published(issue):
        issue = ensure_issue(session, group, issue.period_end, cron)
    return issue


def club_week(
    session: Session, group: Group, at: datetime, cron: str, *, store: bool = True
) -> ClubWeek:
    """The club week of ``at`` (see :func:`open_issue_for`). With ``store=False`` (a read,
    such as a listing) issues it had to create are rolled back: nothing is stored."""
    savepoint = None if store else session.begin_nested()
    try:
        issue = open_issue_for(session, group, at, cron)
        week = ClubWeek(
            issue.number,
            issue.period_start,
            issue.period_end,
            week_key(issue.period_end, group.timezone),
        )
    finally:
        if savepoint is not None:
            savepoint.rollback()
    return week


def replan_open_issue(session: Session, group: Group, cron: str, now: datetime) -> bool:
    """After ``digest.cron`` changed, the open (draft, not yet ended) issue ends at the new
    cron's next fire instead of the old one's, so the issue is neither published a week late
    nor early. Returns whether it moved."""
    issue = issue_containing(session, group, now)
    if issue is None or issue.status != "draft" or is_published(issue):
        return False
    periods = cron_periods(cron, group.timezone)
    try:
        if periods.next_end_after(issue.period_end - timedelta(microseconds=1)) == issue.period_end:
            return False  # already a fire of this cron
        end = periods.next_end_after(max(now, issue.period_start))
    except PeriodError:
        return False
    later = session.scalars(
        select(DigestIssue).where(
            DigestIssue.group_id == group.id, DigestIssue.period_start >= issue.period_end
        )
    ).all()
    if any(other.status != "draft" or other.period_start < end for other in later):
        return False  # issues already planned after it: leave them be
    issue.period_end = end
    session.flush()
    return True
