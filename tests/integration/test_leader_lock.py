"""One scheduler leader among several processes on one database; takeover when it goes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from storage.db import make_engine
from storage.leader import LeaderLock

ROOT = Path(__file__).resolve().parents[2]


def test_only_one_lock_holder_and_takeover_in_process(database_url):
    first_engine, second_engine = make_engine(database_url), make_engine(database_url)
    first, second = LeaderLock(first_engine), LeaderLock(second_engine)
    try:
        assert first.acquire() is True
        assert first.acquire() is True  # idempotent
        assert second.acquire() is False
        first.release()
        assert second.acquire() is True
        assert first.acquire() is False
    finally:
        first.release()
        second.release()
        first_engine.dispose()
        second_engine.dispose()


def test_leader_process_killed_lets_another_take_over(database_url):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, time
                from storage.db import make_engine
                from storage.leader import LeaderLock
                lock = LeaderLock(make_engine({database_url!r}))
                print(lock.acquire(), flush=True)
                time.sleep(60)
                """
            ),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    engine = make_engine(database_url)
    lock = LeaderLock(engine)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "True"
        assert lock.acquire() is False
        holder.kill()
        holder.wait(timeout=10)
        # the lock dies with its holder (advisory lock / flock released by the kernel)
        for _ in range(50):
            if lock.acquire():
                break
            import time

            time.sleep(0.1)
        assert lock.is_leader
    finally:
        holder.kill()
        lock.release()
        engine.dispose()
