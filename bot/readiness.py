"""Readiness (``/readyz``): is this process able to serve its clubs right now?

``/healthz`` stays a liveness check (the process answers HTTP). ``/readyz`` reports each
platform's connection (an adapter's ``health()``: Telegram asks ``getMe``, WeChat reports its
login), the database (``SELECT 1``), whether this process leads the scheduler, and each
group's last published digest. It answers 503 when a platform or the database is down, so a
load balancer or monitor stops trusting this process.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, text

from storage.models import DigestIssue, Group

if TYPE_CHECKING:
    from bot.app import App

CHECK_TIMEOUT = 5.0


async def platform_states(app: App) -> dict[str, dict[str, Any]]:
    """Each running platform: ``{"ok": bool, "detail": str}``."""
    states: dict[str, dict[str, Any]] = {}
    for name, sender in app.senders.items():
        check = getattr(sender, "health", None)
        if check is None:  # the console: up while the process is
            states[name] = {"ok": True, "detail": "running"}
            continue
        try:
            ok, detail = await asyncio.wait_for(check(), CHECK_TIMEOUT)
        except Exception as error:  # a timeout or a failed request: not ready
            ok, detail = False, f"{type(error).__name__}: {error}"[:300]
        states[name] = {"ok": bool(ok), "detail": detail}
    return states


def database_state(app: App) -> dict[str, Any]:
    try:
        with app.db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:
        return {"ok": False, "detail": f"{type(error).__name__}: {str(error).splitlines()[0]}"}
    return {"ok": True, "detail": app.db.dialect}


def last_digests(app: App) -> dict[str, Any]:
    """Each configured group's last published issue: number and time (None if none yet)."""
    stmt = (
        select(Group.slug, func.max(DigestIssue.number), func.max(DigestIssue.published_at))
        .join(DigestIssue, DigestIssue.group_id == Group.id)
        .where(DigestIssue.status == "published")
        .group_by(Group.slug)
    )
    try:
        with app.db.session() as session:
            found = {slug: (n, at) for slug, n, at in session.execute(stmt)}
    except Exception:
        return {}
    out: dict[str, Any] = {}
    for group in app.config.groups:
        number, at = found.get(group.slug, (None, None))
        out[group.slug] = {
            "number": number,
            "published_at": at.isoformat() if at is not None else None,
        }
    return out


def scheduler_state(app: App) -> str:
    config = app.config
    if not (config.digest.enabled or config.reminders.enabled):
        return "off"
    from digest.schedule import scheduler_for

    return "leader" if scheduler_for(app) is not None else "follower"


async def readiness(app: App) -> tuple[bool, dict[str, Any]]:
    """(ready, report): ready when every platform and the database answer."""
    platforms = await platform_states(app)
    database = await asyncio.to_thread(database_state, app)
    digests = await asyncio.to_thread(last_digests, app)
    ready = database["ok"] and all(state["ok"] for state in platforms.values())
    report = {
        "status": "ready" if ready else "not ready",
        "platforms": platforms,
        "database": database,
        "scheduler": scheduler_state(app),
        "last_digest": digests,
    }
    return ready, report
