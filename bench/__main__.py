"""``python -m bench``: every benchmark in sequence, then a summary of figures vs targets.

Runs ingest, digest, search (20k entries by default so the whole suite stays within minutes;
``python -m bench.search_bench`` alone runs the full 100k), RSS, Telegram throughput and
Telegram reply latency at a steady rate. PostgreSQL runs are added when
``STUDYBOT_TEST_PG_URL`` is set. ``make bench`` calls this.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from bench.machine import describe

STEPS = [
    ("ingest", ["bench.ingest_bench", "--count", "5000"]),
    ("digest", ["bench.digest_bench"]),
    ("search", ["bench.search_bench", "--entries", "20000", "--queries", "300"]),
    ("rss", ["bench.rss_bench"]),
    ("telegram", ["bench.telegram_bench"]),
    ("latency", ["bench.telegram_paced"]),
    ("send", ["bench.send_bench"]),
    ("busy", ["bench.busy_group"]),
]
TARGETS = {
    "ingest": "SQLite >= 1,000 msg/s, p99 < 20 ms",
    "digest": "heavy week < 1 s; archive index < 2 s",
    "search": "p95 < 50 ms",
    "rss": "< 150 MB",
    "telegram": "ours >= 80 % of the echo bot",
    "latency": "none (what the batch window costs in reply latency)",
    "send": "rush: a handful of bot messages, 90 % acknowledged within 5 s; others' replies at idle",
    "busy": "p99 within 1.5x of alone, no reply later than 250 ms",
}
MARKERS = ("studybot dispatch", "digest build", "archive index", "target p95", "target peak",
           "ours / echo", "without the batch window", "reply latency", "check-ins at",
           "skipped", "rush (", "acknowledged:", "flood:", "other groups'", "publish:",
           "members' replies", "  alone", "  while ")  # fmt: skip


def main() -> int:
    print(f"studybot benchmarks on {describe()}\n")
    summary: list[tuple[str, str, list[str], float]] = []
    for name, args in STEPS:
        print(f"===== {name} =====", flush=True)
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", *args], capture_output=True, text=True, env=os.environ.copy()
        )
        out = proc.stdout + (proc.stderr if proc.returncode else "")
        print(out, flush=True)
        lines = [line.strip() for line in out.splitlines() if any(m in line for m in MARKERS)]
        if proc.returncode:
            lines.append(f"FAILED (exit {proc.returncode})")
        summary.append((name, TARGETS[name], lines, time.perf_counter() - t0))
    print("===== summary =====")
    for name, target, lines, took in summary:
        print(f"{name:<9} target: {target}   ({took:.0f} s)")
        for line in lines:
            print(f"          {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
