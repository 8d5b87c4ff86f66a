"""RSS of the running bot: ``studybot run`` (console adapter + web archive + scheduler).

Starts the real console script as a subprocess on a temporary SQLite database (temp config,
web archive on a free port, digest scheduler and reminders on), feeds it messages on stdin
(check-ins, questions, answers, papers, /search, /me, /stats with its chart), then an admin
previews and publishes the digest and readers open the web archive (index, chart, issue, feeds),
and reads ``VmRSS`` and the peak ``VmHWM`` from ``/proc/<pid>/status`` along the way, on the very
first start (Alembic creates the schema) and on a restart. Target: peak < 150 MB.

Telegram mode is measured the same way, on its own process: the real ``studybot run --platform
telegram`` against the emulator with Telegram's limits (first start, restart, check-ins, a flood
into one chat, then a digest published into 101 chats); the simulated users run in this process
and the emulator in Node, so neither is counted.

Also reports which heavy libraries the running bot's process has imported after the load
(from a one-line probe in a separate interpreter that builds the same app), so a regression
such as an eager ``matplotlib.pyplot`` import shows up by name.

Run: ``python -m bench.rss_bench [--messages 400]``
"""

from __future__ import annotations

import argparse
import os
import queue
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from bench.machine import describe
from bench.search_bench import ENGLISH, entry_text, sentences

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).with_name("studybot")
TARGET_MB = 150.0
HEAVY = ("matplotlib", "matplotlib.pyplot", "jieba", "telegram", "wechaty", "PIL", "numpy",
         "apscheduler", "aiohttp", "jinja2", "rich", "psycopg")  # fmt: skip


def proc_status(pid: int) -> dict[str, float]:
    """VmRSS / VmHWM of ``pid`` in MB."""
    out: dict[str, float] = {}
    with open(f"/proc/{pid}/status", encoding="utf-8") as status:
        for line in status:
            key = line.split(":", 1)[0]
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(line.split()[1]) / 1024
    return out


def messages(count: int, seed: int = 3) -> list[str]:
    """A mix members send: mostly check-ins, then questions, answers, searches, /me, papers."""
    rng, pool = random.Random(seed), sentences()
    out: list[str] = []
    for i in range(count):
        out.append(f":user u{i % 40} 同学{i % 40}")
        roll = rng.random()
        if roll < 0.5:
            out.append(f"/checkin {entry_text(rng, pool)}")
        elif roll < 0.62:
            out.append(f"/ask {entry_text(rng, pool)[:100]}？")
        elif roll < 0.7:
            out.append(f"/answer {rng.randint(1, 5)} {entry_text(rng, pool)[:200]}")
        elif roll < 0.85:
            out.append(f"/search {rng.choice(ENGLISH)}")
        elif roll < 0.93:
            out.append("/me")
        elif roll < 0.95:
            out.append("/stats")  # text + activity chart (matplotlib)
        else:
            n = rng.randint(1000, 9999)
            out.append(f"/paper https://arxiv.org/abs/2101.{n:05d} {rng.choice(pool)[:60]}")
    return out


class Bot:
    """The console bot in a subprocess; a reader thread collects its stdout lines."""

    def __init__(self, tmp: Path, port: int) -> None:
        config = tmp / "studybot.yaml"
        config.write_text(
            f"database: {{url: 'sqlite:///{tmp / 'bot.db'}'}}\n"
            f"web: {{enabled: true, host: 127.0.0.1, port: {port}}}\n"
            "reminders: {enabled: true}\n"
            "admins: ['console:u0']\n"
            # a scripted burst: the per-member flood limit would refuse most of it
            "limits: {messages_per_minute: 1000000, burst: 1000000}\n",
            encoding="utf-8",
        )
        self.base = f"http://127.0.0.1:{port}"
        command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "bot.cli"]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("STUDYBOT_", "TELEGRAM_"))}
        env["PYTHONPATH"] = str(ROOT)
        self.proc = subprocess.Popen(
            [*command, "--config", str(config), "run", "--platform", "console"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            cwd=tmp,
            env=env,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)

    def send(self, lines: list[str]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("".join(f"{line}\n" for line in lines))
        self.proc.stdin.flush()

    def sync(self, tag: str, timeout: float = 300) -> None:
        """Wait until every line sent so far was handled (the console echoes :user names)."""
        self.send([f":user probe 探针{tag}"])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if f"探针{tag}" in self.lines.get(timeout=1):
                    return
            except queue.Empty:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"bot exited: {self.proc.stderr.read()}") from None  # type: ignore[union-attr]
        raise TimeoutError(f"bot did not answer probe {tag}")

    def browse(self, paths: list[str]) -> list[int]:
        """GET pages of the web archive like a reader would; returns the status codes."""
        codes = []
        for path in paths:
            try:
                with urllib.request.urlopen(self.base + path, timeout=60) as response:
                    response.read()
                    codes.append(response.status)
            except urllib.error.HTTPError as error:
                codes.append(error.code)
        return codes

    def stop(self) -> str:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        return self.proc.stderr.read() if self.proc.stderr else ""


PROBE = """
import sys, json
from bot.app import build_app, load_handlers
from bot.config import resolve_config
import bot.runner, bot.web, digest.schedule
from storage.search.text import warm_up
warm_up()
app = build_app(resolve_config(sys.argv[1]))
print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {heavy})))
"""


TELEGRAM_CHATS = 100


def telegram_config(tmp: Path, api: str, token: str) -> Path:
    chats = [BUSY, *(chat(i) for i in range(TELEGRAM_CHATS))]
    listed = ", ".join(f'{{platform: telegram, chat_id: "{c["id"]}"}}' for c in chats)
    config = tmp / "telegram.yaml"
    config.write_text(
        f"database: {{url: 'sqlite:///{tmp / 'telegram.db'}'}}\n"
        "web: {enabled: false}\n"
        f"admins: ['telegram:{ADMIN}']\n"
        "limits: {messages_per_minute: 1000000, burst: 1000000}\n"
        f"telegram: {{token: '{token}', base_url: '{api}/bot'}}\n"
        f"groups: [{{slug: ml-club, chats: [{listed}]}}]\n",
        encoding="utf-8",
    )
    return config


BUSY = {"id": -100500, "type": "supergroup", "title": "忙碌的群"}
ADMIN = 4242


def chat(index: int) -> dict[str, object]:
    return {"id": -100600 - index, "type": "supergroup", "title": f"学习群 {index}"}


async def telegram_run(flood_seconds: float) -> dict[str, dict[str, float]]:
    """The real ``studybot run --platform telegram`` (through ``tests.e2e.studybot_on_emulator``)
    as its own process against the emulator with Telegram's limits, 101 chats: first start
    (Alembic creates the schema), then a restart, 80 check-ins, a flood (10 questions a second
    into one chat while 10 others post), then an admin publishes the digest into all 101 chats.
    RSS is read from the bot's process only: the simulated users run here, the emulator in Node.
    """
    import asyncio
    import uuid

    import httpx

    from tests.e2e.telegram_emulator import EmulatorServer, TelegramUser

    server = EmulatorServer()
    server.start(limits=True)
    marks: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        token = f"{uuid.uuid4().int % 10**9}:rss"
        config, log = telegram_config(tmp, server.api, token), tmp / "telegram.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("STUDYBOT_", "TELEGRAM_"))}
        env["PYTHONPATH"] = str(ROOT)

        async def launch() -> asyncio.subprocess.Process:
            log.write_text("", encoding="utf-8")
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "tests.e2e.studybot_on_emulator", "-c", str(config), "-v",
                "run", "--platform", "telegram", "--no-web",
                cwd=tmp, env=env, stdout=log.open("ab"), stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
            deadline = time.monotonic() + 120
            while "polling" not in log.read_text("utf-8"):
                if process.returncode is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"bot did not start: {log.read_text('utf-8')[-500:]}")
                await asyncio.sleep(0.1)
            return process

        async def paced(count: int, seconds: float, post: Any) -> None:
            began = time.monotonic()
            for k in range(count):
                await asyncio.sleep(max(0.0, began + k * seconds / count - time.monotonic()))
                await post(k)

        client = httpx.AsyncClient(base_url=server.api, timeout=30)
        process = await launch()
        try:
            marks["first start"] = proc_status(process.pid)
            process.terminate()
            await process.wait()
            process = await launch()
            await asyncio.sleep(1)
            marks["restarted"] = proc_status(process.pid)
            members = [TelegramUser(client, token, 100 + i, f"成员{i}") for i in range(40)]
            flooders = [TelegramUser(client, token, 8000 + i, f"刷屏{i}") for i in range(10)]
            for i in range(80):
                await members[i % 40].say(
                    f"#打卡 第{i}天 学习了反向传播和梯度下降，读完 CS231n 第 {i % 12} 讲", chat(i % 10)
                )
            await asyncio.sleep(3)
            marks["80 check-ins"] = proc_status(process.pid)

            async def flood_post(k: int) -> None:
                await flooders[k % 10].say(f"/ask 第 {k} 个问题：学习率和批大小怎么一起调？", BUSY)

            async def other_post(k: int) -> None:
                text = "/help" if k % 2 else f"#打卡 今天看了 transformer 第 {k} 页"
                await members[k % 40].say(text, chat(k % 10))

            rate_seconds = int(flood_seconds)
            await asyncio.gather(
                paced(10 * rate_seconds, flood_seconds, flood_post),
                paced(10 * rate_seconds, flood_seconds, other_post),
            )
            await asyncio.sleep(3)
            marks["flood"] = proc_status(process.pid)
            await TelegramUser(client, token, ADMIN, "Ann").say("/digest publish now", chat(0))
            digests = 0
            deadline = time.monotonic() + 120
            while digests < 1 + TELEGRAM_CHATS and time.monotonic() < deadline:
                await asyncio.sleep(1)
                sent = (await client.post("/getSends", json={"token": token})).json()["result"]
                digests = len({s["chat_id"] for s in sent if "周报" in str(s.get("text", ""))})
            marks[f"publish ({digests} chats)"] = proc_status(process.pid)
        finally:
            if process.returncode is None:
                process.terminate()
                await process.wait()
            await client.aclose()
            server.stop()
        if "Traceback" in log.read_text("utf-8"):
            print(log.read_text("utf-8")[-2000:])
    return marks


def telegram_rss(flood_seconds: float = 15) -> dict[str, dict[str, float]] | None:
    """RSS of the Telegram-mode bot's own process (see :func:`telegram_run`)."""
    import asyncio

    from tests.e2e.telegram_emulator import emulator_available

    if not emulator_available():
        return None
    return asyncio.run(telegram_run(flood_seconds))


def imported_heavy(tmp: Path) -> list[str]:
    """Heavy top-level packages a freshly started bot (app built, search warmed) imports."""
    roots = {h.split(".")[0] for h in HEAVY}
    code = PROBE.replace("{heavy}", repr(roots))
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp / "studybot.yaml")],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    if out.returncode:
        return [f"(probe failed: {out.stderr.strip()[-200:]})"]
    import json

    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    return [h for h in HEAVY if h in loaded]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


ADMIN_ROUND = [":user u0 管理员", "/digest preview", "/digest publish now", "/stats"]
PAGES = ["/", "/stats.png", "/issues/1", "/issues/1.md", "/feed.xml", "/atom.xml"]


def run(count: int) -> dict[str, float]:
    print(f"RSS benchmark on {describe()}")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        port = free_port()
        first = Bot(tmp, port)  # the first start creates and migrates the database (Alembic)...
        try:
            first.sync("start")
            first_idle = proc_status(first.proc.pid)
        finally:
            first.stop()
        started = time.perf_counter()
        bot = Bot(tmp, port)  # ...and a running bot is one restarted on an up-to-date database
        try:
            bot.sync("start")
            startup = time.perf_counter() - started
            idle = proc_status(bot.proc.pid)
            bot.send(messages(20, seed=1))
            bot.sync("warm")
            warm = proc_status(bot.proc.pid)
            t0 = time.perf_counter()
            bot.send(messages(count))
            bot.sync("load")
            took = time.perf_counter() - t0
            loaded = proc_status(bot.proc.pid)
            bot.send(ADMIN_ROUND)  # an admin previews and publishes the digest, asks /stats
            bot.sync("admin")
            codes = bot.browse(PAGES)  # readers open the web archive
            bot.send(messages(count // 4, seed=7))  # and the group goes on
            bot.sync("after")
            final = proc_status(bot.proc.pid)
        finally:
            stderr = bot.stop()
        if "Traceback" in stderr:
            print(stderr[-2000:])
        heavy = imported_heavy(tmp)
    print(f"  first start ever (creates the schema with Alembic): idle RSS "
          f"{first_idle['VmRSS']:.0f} MB")  # fmt: skip
    print(f"  restart to first reply: {startup:.1f} s; idle RSS {idle['VmRSS']:.0f} MB")
    print(f"  after warm-up (20 messages): RSS {warm['VmRSS']:.0f} MB")
    print(f"  after {count} more messages ({count / took:.0f} msg/s incl. console I/O): "
          f"RSS {loaded['VmRSS']:.0f} MB, peak (VmHWM) {loaded['VmHWM']:.0f} MB")  # fmt: skip
    print(f"  then digest preview + publish, /stats, web pages {PAGES} (HTTP {codes}) and "
          f"{count // 4} more messages: RSS {final['VmRSS']:.0f} MB, "
          f"peak (VmHWM) {final['VmHWM']:.0f} MB")  # fmt: skip
    print(f"  heavy modules in a started bot: {', '.join(heavy) or 'none'}")
    telegram = telegram_rss()
    telegram_peak = 0.0
    if telegram is not None:
        telegram_peak = max(mark["VmHWM"] for mark in telegram.values())
        print("  Telegram mode (the real process against the limited emulator, RSS of the bot's "
              "process alone): " + "; ".join(f"{step} {mark['VmRSS']:.0f} MB"
                                               for step, mark in telegram.items())
              + f"; peak (VmHWM) {telegram_peak:.0f} MB")  # fmt: skip
    peak = max(first_idle["VmHWM"], final["VmHWM"], telegram_peak)
    ok = "OK" if peak < TARGET_MB else "MISSED"
    print(f"  target peak RSS < {TARGET_MB:.0f} MB (highest of all runs: {peak:.0f} MB): {ok}")
    return {"idle_mb": idle["VmRSS"], "warm_mb": warm["VmRSS"], "rss_mb": loaded["VmRSS"],
            "first_peak_mb": first_idle["VmHWM"], "peak_mb": peak,
            "final_mb": final["VmRSS"]}  # fmt: skip


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=400)
    args = parser.parse_args(argv)
    return run(args.messages)


if __name__ == "__main__":
    main()
