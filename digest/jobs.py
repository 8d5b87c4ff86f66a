"""What the scheduler's jobs work with, passed in rather than looked up.

Jobs live in a persistent store as ``module:function`` plus simple arguments (a group's slug),
so that they survive restarts. The running scheduler's executor (:class:`JobExecutor`) calls
each job function with the :class:`JobContext` of the app that started it as the keyword
argument ``jobs`` (keyword-only with a default, so APScheduler's check of the stored arguments
passes): no job reaches for a process-wide "running app".
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.job import Job
from apscheduler.schedulers.base import BaseScheduler

from bot.config import Config
from bot.platform import Sender
from digest.service import DigestService
from storage.db import Database


class SchedulerHost(Protocol):
    """The parts of a built app the scheduler needs (``bot.app.App`` has them)."""

    scheduler: BaseScheduler | None  # set while the jobs run in this process

    @property
    def config(self) -> Config: ...

    @property
    def db(self) -> Database: ...

    @property
    def digest(self) -> DigestService: ...

    @property
    def senders(self) -> Mapping[str, Sender]: ...

    @property
    def clock(self) -> Callable[[], datetime]: ...


@dataclass
class JobContext:
    """The first argument of every job function: the app's parts and the running scheduler
    (to add follow-up jobs, e.g. reminders postponed past quiet hours)."""

    config: Config
    db: Database
    digest: DigestService
    senders: Mapping[str, Sender]
    clock: Callable[[], datetime]
    scheduler: BaseScheduler | None = None

    @classmethod
    def of(cls, host: SchedulerHost, scheduler: BaseScheduler | None = None) -> JobContext:
        return cls(host.config, host.db, host.digest, host.senders, host.clock, scheduler)


class JobExecutor(AsyncIOExecutor):  # type: ignore[misc]
    """APScheduler's asyncio executor, calling each job with ``jobs=context``."""

    def __init__(self, context: JobContext) -> None:
        super().__init__()
        self.context = context

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> Any:
        return super()._do_submit_job(_BoundJob(job, self.context), run_times)


class _BoundJob:
    """A stored job seen with its function bound to a context (the job itself is unchanged:
    its store keeps the importable function reference)."""

    def __init__(self, job: Job, context: JobContext) -> None:
        self._job = job
        self.func = functools.partial(job.func, jobs=context)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._job, name)

    def __str__(self) -> str:
        return str(self._job)


def bound(jobs: JobContext | None) -> JobContext:
    """The context a job was called with; a job run outside a scheduler has none."""
    if jobs is None:
        raise RuntimeError("scheduler job called without jobs=JobContext")
    return jobs
