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
import sys
import traceback

from bot.config import Config, ConfigError, resolve_config
from bot.failures import explain
from bot.log_redaction import install as install_log_redaction
from bot.logs import configure_logging

CLI_MODULES = ("bot.cli_digest", "bot.cli_data", "bot.cli_ops")


def _run(args: argparse.Namespace) -> int:
    from bot.runner import run_bot

    config = resolve_config(args.config)
    missing = config.missing_secrets()
    if missing and not args.platform:  # never fall back to the console for a real club
        raise ConfigError("; ".join(missing))
    platforms = args.platform or config.platforms
    for name in platforms:
        if name != "console" and not getattr(config, name).token:
            names = config.env_names(f"{name}.token")
            hint = f"set {' or '.join(names)}" if names else f"set {name}.token in the config"
            raise ConfigError(f"--platform {name} needs {name}.token, which is empty; fix: {hint}")
    return asyncio.run(run_bot(config, platforms, as_admin=args.as_admin, web=not args.no_web)) or 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="studybot",
        description="studybot: the ML self-study club's chatbot (Telegram, WeChat, console), "
        "its web archive, weekly digests and data tools.",
        epilog="-v logs what runs, -vv debugs. Docs: README.md and docs/ (deploy.md for a server).",
    )
    parser.add_argument("--config", "-c", help="YAML config file (default: ./config.yaml)")
    parser.add_argument(
        "--verbose",
        "-v",
        action="count",
        default=0,
        help="-v: log what runs and what happens (INFO); -vv: debug, with tracebacks",
    )
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
    configure_logging(args.verbose)
    try:
        return int(args.func(args) or 0)
    except ConfigError as error:
        print(f"studybot: {error}", file=sys.stderr)
        if args.verbose >= 2:
            traceback.print_exc()
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # a start-up failure: cause and fix, no traceback unless -vv
        if args.verbose >= 2:
            traceback.print_exc()
        print(explain(error, _config_or_none(args)).lines(), file=sys.stderr)
        return 1


def _config_or_none(args: argparse.Namespace) -> Config | None:
    try:
        return resolve_config(getattr(args, "config", None))
    except Exception:
        return None


if __name__ == "__main__":
    sys.exit(main())
