"""``studybot import``: load an export file into an empty or existing database.

* Validated first (:func:`load_export`): a malformed file raises :class:`ImportFormatError`
  naming every problem (``groups.0.checkins.3.created_at: ...``) before anything is written.
* Idempotent: rows are matched by natural keys, so importing a file twice adds nothing the
  second time. Members by ``platform:user_id``; groups by slug; check-ins, questions and
  answers by (member, created_at, text); papers by URL key; resources by (member, URL,
  created_at); keyword replies by keyword; digest issues by period start; digest edits by
  entry, field and issue (:mod:`storage.export_edits`). Existing rows win.
* Transactional: :func:`import_data` runs inside the caller's unit of work; on any error the
  caller rolls back and nothing is stored.

A question whose number is taken by a different question gets the next free number (the
report says so).

Reading and validating the file is :mod:`storage.import_file`; matching rows and merging
members, groups, check-ins, papers, resources, keyword replies, questions and answers is
:mod:`storage.import_merge`. This module runs the stages in order (with progress), merges the
digest issues, and counts rows; the public names of all three are importable from here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.export import Progress, _noop
from storage.export_edits import merge_edits
from storage.export_schema import Export, GroupOut
from storage.import_merge import (
    ImportReport,
    as_utc,
    merge_content,
    merge_group,
    merge_members,
    merge_questions,
)
from storage.models import (
    Answer,
    AwayPeriod,
    CheckIn,
    DigestIssue,
    DigestOverride,
    Group,
    KeywordReply,
    Member,
    Paper,
    Question,
    Resource,
    Tag,
)


def _digests(session: Session, group: Group, item: GroupOut, report: ImportReport) -> None:
    """Add the digest issues whose period start is new, checked against the target's issues.

    The file's ``html`` and ``markdown`` are never stored (the archive would serve them as
    they are): published issues are rendered again from the imported data afterwards
    (``report.rerender``). An issue is refused, with a note, when its number is taken, its
    period is empty or overlaps one of the target's, or it would break the order of the
    target's issues (numbers rise with time: a 2020 issue numbered after the target's 2026
    ones would make the next issue's period and number impossible to work out).
    """
    rows = list(session.scalars(select(DigestIssue).where(DigestIssue.group_id == group.id)))
    taken = [(as_utc(d.period_start), as_utc(d.period_end), d.number) for d in rows]
    added = []
    for d in item.digest_issues:
        start, end = as_utc(d.period_start), as_utc(d.period_end)
        if any(start == other[0] for other in taken):
            report.skipped["digest issues"] += 1
            continue
        problem = _digest_problem(d.number, start, end, taken)
        if problem is not None:
            report.notes.append(
                f"{group.slug}: digest issue #{d.number} ({start:%Y-%m-%d} to {end:%Y-%m-%d}) "
                f"not imported: {problem}"
            )
            report.skipped["digest issues"] += 1
            continue
        taken.append((start, end, d.number))
        issue = DigestIssue(
            group_id=group.id,
            number=d.number,
            period_start=d.period_start,
            period_end=d.period_end,
            status=d.status,
            preface=d.preface,
            featured=list(d.featured),
            dropped=list(d.dropped),
            markdown=None,
            html=None,
            created_at=d.created_at,
            published_at=d.published_at,
        )
        session.add(issue)
        added.append(issue)
        report.added["digest issues"] += 1
    session.flush()
    report.rerender.extend(i.id for i in added if i.status in ("published", "publishing"))


def _digest_problem(
    number: int, start: datetime, end: datetime, taken: list[tuple[datetime, datetime, int]]
) -> str | None:
    """Why an issue cannot join the target's ``(start, end, number)`` issues, if it cannot."""
    if end <= start:
        return "its period ends before it starts"
    for other_start, other_end, other_number in taken:
        if number == other_number:  # (skipped issues hold -id: never a file's number)
            return "that number already exists for a different period"
        if start < other_end and other_start < end:
            return f"its period overlaps issue #{other_number}'s"
        if other_number > 0 and (start < other_start) != (number < other_number):
            when = "before" if start < other_start else "after"
            return (
                f"it comes {when} issue #{other_number} in time but not in number "
                "(issue numbers rise with time)"
            )
    return None


def import_data(
    session: Session, data: Export, progress: Progress = _noop, *, trust_roles: bool = False
) -> ImportReport:
    """Merge ``data`` into the database (inside the caller's transaction). Roles from the
    file are granted only with ``trust_roles``: otherwise every new member is a member."""
    report = ImportReport()
    total, done = 1 + 3 * len(data.groups), 1
    ids = merge_members(session, data, report, trust_roles=trust_roles)
    progress("members", done, total)
    for item in data.groups:
        group = merge_group(session, item, report)
        for label, stage in (
            ("check-ins, papers, resources", merge_content),
            ("questions", merge_questions),
            ("digest issues", _digest_stage),
        ):
            stage(session, group, item, ids, report)
            done += 1
            progress(f"{item.slug}: {label}", done, total)
    session.flush()
    return report


def _digest_stage(
    session: Session, group: Group, item: GroupOut, ids: dict[str, int], report: ImportReport
) -> None:
    _digests(session, group, item, report)
    merge_edits(session, group, item, ids, report)


def count_rows(session: Session) -> dict[str, int]:
    """Rows per table (for reports and tests)."""
    models = {
        "members": Member,
        "groups": Group,
        "checkins": CheckIn,
        "questions": Question,
        "answers": Answer,
        "papers": Paper,
        "resources": Resource,
        "tags": Tag,
        "keyword_replies": KeywordReply,
        "digest_issues": DigestIssue,
        "digest_overrides": DigestOverride,
        "away_periods": AwayPeriod,
    }
    return {
        name: session.scalar(select(func.count()).select_from(model)) or 0
        for name, model in models.items()
    }
