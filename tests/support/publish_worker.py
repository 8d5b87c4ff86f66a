"""A bot process for the multi-process and crash tests: the real app and scheduler, with
:class:`~tests.support.file_sender.FileSender` senders and a clock read from a file.

Usage: ``python -m tests.support.publish_worker DB_URL RECORDS CLOCK [--delay S]``.

* The app's clock is the ISO time in the ``CLOCK`` file (the test moves it; real time is
  irrelevant to which digest period is closed).
* The publish job runs every :data:`PUBLISH_EVERY` seconds instead of on the weekly cron, so
  "the cron fires" within a second; followers retry leadership every :data:`LEADER_RETRY`.
* Prints ``ready <pid>`` once the scheduler was started (as leader or follower), ``leader
  <pid>`` when it runs the jobs, ``log <message>`` for each publish job run and ``sent
  <platform> <chat_id>`` after each message was recorded. Runs until killed.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from apscheduler.triggers.interval import IntervalTrigger

from digest import schedule
from tests.support.digest_world import world_config
from tests.support.file_sender import FileSender

PUBLISH_EVERY = 0.5
LEADER_RETRY = 0.25


class FileClock:
    """Now is whatever aware ISO datetime the file holds."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self) -> datetime:
        return datetime.fromisoformat(self.path.read_text(encoding="utf-8").strip())


def set_clock(path: Path, value: datetime) -> None:
    """Move every worker's clock (atomically)."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(value.isoformat(), encoding="utf-8")
    os.replace(tmp, path)


def _fast_publish_trigger(crontab: str, timezone: str) -> IntervalTrigger:
    return IntervalTrigger(seconds=PUBLISH_EVERY)


async def main(db_url: str, records: Path, clock_file: Path, delay: float) -> None:
    import digest.service

    # the worker's jobs run seconds apart where real ones are minutes apart: admins' publish
    # notices are summarised only within a short window here, so each run's notice is sent
    digest.service.NOTICE_WINDOW = 0.05
    from bot.app import build_app

    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("log %(message)s"))
    logger = logging.getLogger("digest.schedule")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    schedule.publish_trigger = _fast_publish_trigger  # type: ignore[assignment]

    config = world_config(db_url, digest={"preview_lead_minutes": 0}, reminders={"enabled": False})
    app = build_app(config, clock=FileClock(clock_file))
    for platform in ("telegram", "wechat", "console"):
        app.add_sender(FileSender(platform, records, delay=delay, progress=True))
    stop = await schedule.start_scheduler(
        app,
        leader_retry=LEADER_RETRY,
        on_leader=lambda: print(f"leader {os.getpid()}", flush=True),
    )
    print(f"ready {os.getpid()}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await stop()
        app.db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("db_url")
    parser.add_argument("records", type=Path)
    parser.add_argument("clock", type=Path)
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    asyncio.run(main(args.db_url, args.records, args.clock, args.delay))


# -- the test side ---------------------------------------------------------------------------
ROOT = Path(__file__).resolve().parents[2]


class WorkerProcess:
    """One ``publish_worker`` subprocess; its stdout lines are collected by a thread."""

    def __init__(self, db_url: str, records: Path, clock: Path, *, delay: float = 0.0) -> None:
        self.log_path = records.with_name(f"worker-{uuid.uuid4().hex[:6]}.log")
        self._log = open(self.log_path, "w", encoding="utf-8")  # closed in kill()
        command = [sys.executable, "-m", "tests.support.publish_worker", db_url, str(records)]
        self.proc = subprocess.Popen(
            [*command, str(clock), "--delay", str(delay)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.lines: list[str] = []
        self._changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def count(self, prefix: str) -> int:
        with self._changed:
            return sum(1 for line in self.lines if line.startswith(prefix))

    def wait_for(self, prefix: str, n: int = 1, timeout: float = 20.0) -> None:
        """Block until ``n`` stdout lines start with ``prefix`` (AssertionError on timeout)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while sum(1 for line in self.lines if line.startswith(prefix)) < n:
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._pending()):
                    raise AssertionError(
                        f"worker {self.pid}: no {n}x {prefix!r}; stdout {self.lines[-20:]}; "
                        f"stderr {self.log_path.read_text(encoding='utf-8')[-3000:]}"
                    )
                self._changed.wait(min(left, 0.2))

    def _pending(self) -> bool:
        return self.proc.stdout is not None and not self.proc.stdout.closed

    def kill(self) -> None:
        """kill -9 (idempotent)."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._log.close()


def wait_until(check: Callable[[], bool], timeout: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        time.sleep(0.05)
