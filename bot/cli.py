"""The ``studybot`` command line: run the bot, the web archive, digests, data tools.

``studybot run`` with no platform token configured opens the console adapter on SQLite (plus
the web archive) so a newcomer can chat with the bot at once. Other areas add subcommands from
their own ``bot/cli_*.py`` module exposing ``register(subparsers)``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.util
import logging
import os
import sys
from pathlib import Path

from bot.config import Config, ConfigError, load_config
from bot.log_redaction import install as install_log_redaction
from bot.log_redaction import protect_config

CLI_MODULES = ("bot.cli_digest", "bot.cli_data")
DEFAULT_CONFIG_FILES = ("config.yaml", "config.yml")


def resolve_config(path: str | None) -> Config:
    """--config, else $STUDYBOT_CONFIG, else ./config.yaml if present, else defaults."""
    chosen = path or os.environ.get("STUDYBOT_CONFIG")
    if chosen is None:
        chosen = next((name for name in DEFAULT_CONFIG_FILES if Path(name).exists()), None)
    config = load_config(chosen)
    protect_config(config)  # its secrets never reach the logs, at any level
    return config


def _run(args: argparse.Namespace) -> int:
    from bot.runner import run_bot

    config = resolve_config(args.config)
    platforms = args.platform or config.platforms
    return asyncio.run(run_bot(config, platforms, as_admin=args.as_admin, web=not args.no_web)) or 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="studybot", description=__doc__.splitlines()[0])
    parser.add_argument("--config", "-c", help="YAML config file (default: ./config.yaml)")
    parser.add_argument("--verbose", "-v", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="start the bot (console when no token is configured)")
    run.add_argument(
        "--platform",
        action="append",
        choices=["console", "telegram", "wechat", "mp"],
        help="platform(s) to serve; default: those with a token, else console",
    )
    run.add_argument("--as-admin", action="store_true", help="console: chat as an admin")
    run.add_argument("--no-web", action="store_true", help="do not serve the web archive")
    run.set_defaults(func=_run)

    for name in CLI_MODULES:
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    install_log_redaction()  # known secret shapes (bot tokens, URL passwords) from the start
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except ConfigError as error:
        print(f"studybot: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
