"""Digest edits (``digest_overrides``) in ``studybot export`` / ``import``.

Overrides are keyed by database ids (``paper:12``), which an export leaves out, so each edit is
written with its entry's place in the group's exported lists (:class:`DigestEditOut`), and an
import maps that place back to the row it matched or added. Existing edits win.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.export_schema import DigestEditOut, GroupOut
from storage.import_merge import ImportReport, Matcher, as_utc
from storage.models import CheckIn, DigestOverride, Group, Paper, Question, Resource


def _export_order(session: Session, group_id: int) -> dict[str, list[Any]]:
    """Per kind, the ids (question numbers) in the order :mod:`storage.export` writes rows."""
    gid = group_id
    return {
        "checkin": list(
            session.scalars(
                select(CheckIn.id)
                .where(CheckIn.group_id == gid)
                .order_by(CheckIn.created_at, CheckIn.id)
            )
        ),
        "question": list(
            session.scalars(
                select(Question.number).where(Question.group_id == gid).order_by(Question.number)
            )
        ),
        "paper": list(
            session.scalars(
                select(Paper.id).where(Paper.group_id == gid).order_by(Paper.created_at, Paper.id)
            )
        ),
        "resource": list(
            session.scalars(
                select(Resource.id)
                .where(Resource.group_id == gid)
                .order_by(Resource.created_at, Resource.id)
            )
        ),
    }


def edits_out(session: Session, group: Group, refs: dict[int, str]) -> list[DigestEditOut]:
    """The group's digest edits, each naming its entry by place; edits of entries no longer
    there (deleted) are left out."""
    rows = list(
        session.scalars(
            select(DigestOverride)
            .where(DigestOverride.group_id == group.id)
            .order_by(DigestOverride.id)
        )
    )
    if not rows:
        return []
    places = {
        kind: {ident: i for i, ident in enumerate(idents)}
        for kind, idents in _export_order(session, group.id).items()
    }
    out = []
    for row in rows:
        kind, _, ident = row.entry_key.partition(":")
        if not ident.isdigit():
            continue
        index = member = None
        if kind == "member":
            member = refs.get(int(ident))
            if member is None:
                continue
        else:
            index = places.get(kind, {}).get(int(ident))
            if index is None:
                continue
        out.append(
            DigestEditOut(
                kind=kind,  # type: ignore[arg-type]
                index=index,
                member=member,
                field=row.field,
                value=row.value,
                issue=row.issue_number,
                set_by=row.set_by,
                set_at=row.set_at,
            )
        )
    return out


def _imported_keys(
    session: Session, group: Group, item: GroupOut, ids: dict[str, int]
) -> dict[str, list[str]]:
    """Per kind, the entry key of each row of ``item``'s lists as it is in the database now
    (after the rows were merged): the same multiset matching the merges use."""
    gid = group.id
    checkins = Matcher(
        ((c.member_id, as_utc(c.created_at), c.text), c.id)
        for c in session.scalars(
            select(CheckIn).where(CheckIn.group_id == gid).order_by(CheckIn.id)
        )
    )
    questions = Matcher(
        ((q.member_id, as_utc(q.created_at), q.text), q.number)
        for q in session.scalars(
            select(Question).where(Question.group_id == gid).order_by(Question.id)
        )
    )
    resources = Matcher(
        ((r.member_id, r.url, as_utc(r.created_at)), r.id)
        for r in session.scalars(
            select(Resource).where(Resource.group_id == gid).order_by(Resource.id)
        )
    )
    papers = {p.url_key: p.id for p in session.scalars(select(Paper).where(Paper.group_id == gid))}

    def key(kind: str, ident: int | None) -> str:
        return f"{kind}:{ident}" if ident is not None else ""

    return {
        "checkin": [
            key("checkin", checkins.match((ids[c.member], as_utc(c.created_at), c.text)))
            for c in item.checkins
        ],
        "question": [
            key("question", questions.match((ids[q.member], as_utc(q.created_at), q.text)))
            for q in item.questions
        ],
        "resource": [
            key("resource", resources.match((ids[r.member], r.url, as_utc(r.created_at))))
            for r in item.resources
        ],
        "paper": [key("paper", papers.get(p.url_key)) for p in item.papers],
    }


def merge_edits(
    session: Session, group: Group, item: GroupOut, ids: dict[str, int], report: ImportReport
) -> None:
    """Add the file's digest edits that the database does not have yet (an edit of the same
    entry, field and issue already there wins)."""
    if not item.digest_edits:
        return
    keys = _imported_keys(session, group, item, ids)
    existing = {
        (o.entry_key, o.field, o.issue_number)
        for o in session.scalars(select(DigestOverride).where(DigestOverride.group_id == group.id))
    }
    for edit in item.digest_edits:
        if edit.member is not None:
            entry = f"member:{ids[edit.member]}"
        else:
            entry = keys[edit.kind][edit.index or 0]
        if not entry or (entry, edit.field, edit.issue) in existing:
            report.skipped["digest edits"] += 1
            continue
        existing.add((entry, edit.field, edit.issue))
        session.add(
            DigestOverride(
                group_id=group.id,
                entry_key=entry,
                field=edit.field,
                issue_number=edit.issue,
                value=edit.value,
                set_by=edit.set_by,
                set_at=edit.set_at,
            )
        )
        report.added["digest edits"] += 1
    session.flush()
