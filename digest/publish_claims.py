"""The state of each digest delivery in the database: claims, leases and completion.

Owns the conditional UPDATEs behind the rule described in :mod:`digest.publish`: a publisher
owns a delivery only after a conditional UPDATE that changed one row (:meth:`DeliveryClaims.claim`),
a delivery abandoned past its :data:`LEASE` is taken over (a part left ``sending`` is never
resent, it is recorded in ``doubtful_part``), and the issue becomes ``published`` once every
delivery is in a :data:`TERMINAL` state. Each call is its own short transaction; sending the
parts is :class:`digest.publish.Publisher`'s job.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from storage.db import Database
from storage.models import DigestDelivery, DigestIssue

log = logging.getLogger("digest.publish")  # the publisher's log, as before the split

LEASE = timedelta(minutes=10)
TERMINAL = ("sent", "uncertain")


def rowcount(result: Any) -> int:
    """Rows changed by an UPDATE (a CursorResult's rowcount)."""
    return int(result.rowcount)


class DeliveryClaims:
    """Reads and conditionally changes the deliveries of digest issues in ``db``."""

    def __init__(
        self, db: Database, clock: Callable[[], datetime], lease: timedelta = LEASE
    ) -> None:
        self.db = db
        self.clock = clock
        self.lease = lease

    def open_deliveries(self, issue_id: int) -> list[int]:
        """The ids of the issue's deliveries not in a terminal state, oldest first."""
        with self.db.session() as s:
            return list(
                s.scalars(
                    select(DigestDelivery.id)
                    .where(
                        DigestDelivery.issue_id == issue_id,
                        DigestDelivery.state.not_in(TERMINAL),
                    )
                    .order_by(DigestDelivery.id)
                )
            )

    def set(self, delivery_id: int, where: dict[str, Any], **values: Any) -> bool:
        """A conditional UPDATE of one delivery; True when it changed the row."""
        values.setdefault("updated_at", self.clock())
        stmt = update(DigestDelivery).where(DigestDelivery.id == delivery_id)
        for column, expected in where.items():
            stmt = stmt.where(getattr(DigestDelivery, column) == expected)
        with self.db.session() as s:
            return rowcount(s.execute(stmt.values(**values))) == 1

    def claim(self, delivery_id: int, token: str) -> DigestDelivery | None:
        """Own the delivery (pending, or abandoned past its lease); None if someone else has it."""
        with self.db.session() as s:
            row = s.get(DigestDelivery, delivery_id)
        if row is None or row.state in TERMINAL:
            return None
        if row.state in ("claimed", "sending") and row.updated_at > self.clock() - self.lease:
            return None  # a live publisher is on it
        values: dict[str, Any] = {"state": "claimed", "owner": token, "attempts": row.attempts + 1}
        parts_sent = row.parts_sent
        if row.state == "sending":  # the previous owner died with this part in flight
            # one part can be in doubt per crash; the first one stays on record
            values["doubtful_part"] = (
                row.doubtful_part if row.doubtful_part is not None else row.parts_sent
            )
            values["last_error"] = (
                f"part {row.parts_sent + 1} was in flight when the publisher stopped; not resent"
            )
            parts_sent = row.parts_sent + 1
            values["parts_sent"] = parts_sent
            if parts_sent >= len(row.parts or []):
                values["state"] = "uncertain"
        expected = {"state": row.state, "attempts": row.attempts, "parts_sent": row.parts_sent}
        if not self.set(delivery_id, expected, **values):
            return None
        if row.state == "sending":
            log.warning("digest delivery %s: part %s in doubt, not resent", delivery_id, parts_sent)
        row.parts_sent, row.state = parts_sent, values["state"]
        row.doubtful_part = values.get("doubtful_part", row.doubtful_part)
        return row

    def finish(self, issue_id: int) -> None:
        """Mark the issue ``published`` once every one of its deliveries is terminal."""
        with self.db.session() as s:
            states = list(
                s.scalars(select(DigestDelivery.state).where(DigestDelivery.issue_id == issue_id))
            )
        if states and all(state in TERMINAL for state in states):
            with self.db.session() as s:
                s.execute(
                    update(DigestIssue)
                    .where(DigestIssue.id == issue_id, DigestIssue.status == "publishing")
                    .values(status="published", published_at=self.clock())
                )
