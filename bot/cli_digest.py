"""``studybot web`` and ``studybot digest export|preview|publish``.

* ``studybot web [--port N]``: serve only the web archive (no chat adapters).
* ``studybot digest export --out DIR``: a static copy of the archive: ``index.html`` (linking
  every group), ``issues/<n>.html`` and ``issues/<n>/index.html`` (the address feeds and
  阅读原文 links use), ``issues/<n>.md`` (for a git archive), ``feed.xml``, ``atom.xml``; the
  first group at the root, every other group the same under ``g/<slug>/``.
* ``studybot digest preview``: print the current period's numbered preview.
* ``studybot digest publish [--now]``: publish the latest closed issue (``--now``: the current
  one, closing its period now) to the configured chats; console chats print here, Telegram
  and WeChat chats go through their adapters (started just for this).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from pathlib import Path
from typing import Any

from bot.app import App, build_app, make_adapter


def _config(args: argparse.Namespace) -> Any:
    from bot.config import resolve_config

    return resolve_config(args.config)


def _slug(app: App, args: argparse.Namespace) -> str:
    slug = args.group or app.config.groups[0].slug
    if slug not in {g.slug for g in app.config.groups}:
        raise SystemExit(f"studybot: no group {slug!r} in the configuration")
    return slug


# -- studybot web ------------------------------------------------------------------------------
async def _serve(args: argparse.Namespace) -> int:
    from bot.web import start_web

    app = build_app(_config(args))
    handle = await start_web(app, port=args.port)
    print(f"web archive: {handle.url}/  (Ctrl-C to stop)", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await handle()
        app.db.dispose()
    return 0


def _web(args: argparse.Namespace) -> int:
    return asyncio.run(_serve(args))


# -- studybot digest export --------------------------------------------------------------------
def export_archive(app: App, out: Path) -> int:
    """Write the static archive of every group into ``out`` (the first group at its root, the
    others under ``g/<slug>/``, as the web archive serves them); returns the issues written.

    Every index links every group. Each issue is written as ``issues/<n>.html`` (what the
    index links: works from files too) and as ``issues/<n>/index.html``, so the addresses the
    feeds and the WeChat 阅读原文 links carry (``<base_url>/issues/<n>``) work on a static host.
    """
    from bot.web import FAVICON
    from bot.web_archive import Archive

    groups = app.config.groups
    out.mkdir(parents=True, exist_ok=True)
    (out / "favicon.ico").write_bytes(FAVICON)  # browsers ask the site root for it
    folders = {g.slug: "" if i == 0 else f"g/{g.slug}/" for i, g in enumerate(groups)}
    written = 0
    for group in groups:
        here = folders[group.slug]
        up = "../" * here.count("/")
        nav = (
            [(g.name, f"{up}{folders[g.slug]}index.html", g.slug == group.slug) for g in groups]
            if len(groups) > 1
            else []
        )
        written += _export_group(Archive(app.config, app.db, group), out / here, nav)
    return written


def _export_group(archive: Any, out: Path, nav: list[tuple[str, str, bool]]) -> int:
    issues_dir = out / "issues"
    issues_dir.mkdir(parents=True, exist_ok=True)
    rows = archive.issues()
    for row in rows:
        # the stored page links its index as "../" and the feed as "../atom.xml"
        page = archive.issue_html(row.number, link=lambda n: f"{n}.html") or ""
        as_file = page.replace('href="../"', 'href="../index.html"')
        (issues_dir / f"{row.number}.html").write_text(as_file, encoding="utf-8")
        folder = issues_dir / str(row.number)
        folder.mkdir(exist_ok=True)
        page = archive.issue_html(row.number, link=lambda n: f"../{n}/index.html") or ""
        as_folder = page.replace('href="../"', 'href="../../index.html"').replace(
            'href="../atom.xml"', 'href="../../atom.xml"'
        )
        (folder / "index.html").write_text(as_folder, encoding="utf-8")
        markdown = archive.issue_markdown(row.number)
        if markdown:
            (issues_dir / f"{row.number}.md").write_text(markdown, encoding="utf-8")
    index = archive.index_html(link=lambda n: f"issues/{n}.html", root="", groups=nav)
    (out / "index.html").write_text(index, encoding="utf-8")
    (out / "feed.xml").write_bytes(archive.rss())
    (out / "atom.xml").write_bytes(archive.atom())
    return len(rows)


def _export(args: argparse.Namespace) -> int:
    app = build_app(_config(args))
    try:
        count = export_archive(app, Path(args.out))
    finally:
        app.db.dispose()
    print(f"exported {count} issue(s) to {args.out}")
    return 0


# -- studybot digest preview / publish ---------------------------------------------------------
def _preview(args: argparse.Namespace) -> int:
    app = build_app(_config(args))
    try:
        replies = app.digest.preview(_slug(app, args))
    finally:
        app.db.dispose()
    print("\n\n".join(reply.text for reply in replies))
    return 0


async def _publish_async(args: argparse.Namespace) -> int:
    from bot.adapters.console import ConsoleAdapter

    config = _config(args)
    app = build_app(config)
    slug = _slug(app, args)
    platforms = {c.platform for g in config.groups if g.slug == slug for c in g.chats if c.digest}
    started = []
    try:
        for platform in sorted(platforms):
            if platform == "console":  # prints; its input loop is not started
                app.add_sender(ConsoleAdapter(app.dispatcher, config, stdin=sys.stdin))
                continue
            if not getattr(config, platform).token:
                print(f"studybot: no {platform} token configured; that chat is skipped")
                continue
            adapter = make_adapter(platform, app)
            await adapter.start()
            started.append(adapter)
            app.add_sender(adapter)
        service = app.digest
        summary = await (service.publish_now(slug) if args.now else service.publish_digest(slug))
        print(summary)
    finally:
        for adapter in reversed(started):
            with contextlib.suppress(Exception):
                await adapter.stop()
        app.db.dispose()
    return 0


def _publish(args: argparse.Namespace) -> int:
    return asyncio.run(_publish_async(args))


# -- studybot digest mp ------------------------------------------------------------------------
async def _mp_async(args: argparse.Namespace) -> int:
    app = build_app(_config(args))
    try:
        summary = await app.digest.push_mp_draft(args.issue, force=args.retry)
        print(summary)
    finally:
        app.db.dispose()
    return 0 if app.mp_drafts is not None else 1


def _mp(args: argparse.Namespace) -> int:
    return asyncio.run(_mp_async(args))


def register(subparsers: Any) -> None:
    """Add ``web`` and ``digest`` to the ``studybot`` command line."""
    web = subparsers.add_parser("web", help="serve only the web archive of published digests")
    web.add_argument("--port", type=int, default=None, help="port (default: config web.port)")
    web.set_defaults(func=_web)

    digest = subparsers.add_parser("digest", help="weekly digest: export, preview, publish")
    actions = digest.add_subparsers(dest="digest_command", required=True)
    export = actions.add_parser("export", help="write a static copy of the web archive")
    export.add_argument("--out", required=True, help="output folder")
    export.set_defaults(func=_export)
    preview = actions.add_parser("preview", help="print the current period's preview")
    preview.add_argument("--group", help="group slug (default: the first group)")
    preview.set_defaults(func=_preview)
    publish = actions.add_parser("publish", help="publish to the configured chats")
    publish.add_argument("--group", help="group slug (default: the first group)")
    publish.add_argument(
        "--now", action="store_true", help="publish the current period now (closing it)"
    )
    publish.set_defaults(func=_publish)
    mp = actions.add_parser("mp", help="put a published digest in the 公众号 drafts")
    mp.add_argument("--issue", type=int, default=None, help="issue number (default: latest)")
    mp.add_argument(
        "--retry", action="store_true", help="add again a draft whose creation was interrupted"
    )
    mp.set_defaults(func=_mp)
