"""kill -9 in the middle of a burst of 1,000 check-ins: nothing acknowledged is lost, and after
the platform re-delivers everything, each message is stored exactly once (SQLite and PostgreSQL).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from storage.db import Database
from storage.models import CheckIn

ROOT = Path(__file__).resolve().parents[2]
TOTAL = 1000

pytestmark = pytest.mark.slow


def _messages() -> list[str]:
    # each note says something of its own: a member's near-repeat would be refused (#19)
    return [
        json.dumps(
            {
                "id": f"m{i}",
                "user": f"u{i % 37}",
                "text": f"/checkin crash-note-{i} 学习 {hashlib.sha256(str(i).encode()).hexdigest()[:16]}",
            }
        )
        for i in range(TOTAL)
    ]


def _start_worker(config_file: Path) -> subprocess.Popen[str]:
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.support.ingest_worker", str(config_file)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert worker.stdout is not None
    assert worker.stdout.readline().strip() == "ready"
    return worker


def _feed(worker: subprocess.Popen[str], lines: list[str]) -> None:
    def write() -> None:
        assert worker.stdin is not None
        try:
            for line in lines:
                worker.stdin.write(line + "\n")
            worker.stdin.flush()
            worker.stdin.close()
        except (BrokenPipeError, OSError):
            pass  # killed mid-burst: that is the point

    threading.Thread(target=write, daemon=True).start()


def _stored(url: str) -> Counter[str]:
    db = Database(url, migrate=False)
    try:
        with db.session() as session:
            texts = session.scalars(select(CheckIn.text)).all()
    finally:
        db.dispose()
    return Counter(text.split()[0] for text in texts)


def test_kill_9_mid_burst_loses_nothing_and_stores_once(database_url, tmp_path):
    config_file = tmp_path / "config.yaml"
    config_file.write_text(
        yaml.safe_dump(
            {
                "database": {"url": database_url},
                "limits": {"messages_per_minute": 1_000_000, "burst": 1_000_000},
                "web": {"enabled": False},
            }
        )
    )
    lines = _messages()

    worker = _start_worker(config_file)
    _feed(worker, lines)
    acked: list[str] = []
    assert worker.stdout is not None
    for line in worker.stdout:
        acked.append(line.split()[1])
        if len(acked) == 300:
            os.kill(worker.pid, signal.SIGKILL)
            break
    worker.wait(timeout=30)
    assert worker.returncode == -signal.SIGKILL

    after_crash = _stored(database_url)
    for message_id in acked:
        note = f"crash-note-{message_id[1:]}"
        assert after_crash[note] == 1, f"acknowledged {message_id} lost or doubled"
    assert all(count == 1 for count in after_crash.values())

    # restart; the platform re-delivers the whole burst
    worker = _start_worker(config_file)
    _feed(worker, lines)
    acks = sum(1 for _ in worker.stdout)  # type: ignore[union-attr]
    assert worker.wait(timeout=120) == 0
    assert acks == TOTAL
    final = _stored(database_url)
    assert len(final) == TOTAL
    assert set(final.values()) == {1}
