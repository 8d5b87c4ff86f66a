"""The README documents what users can actually do: every command and CLI subcommand."""

from __future__ import annotations

from pathlib import Path

from bot.app import load_handlers
from bot.cli import build_parser

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_every_registered_command_is_in_the_readme_table():
    registry = load_handlers()
    missing = [name for name in registry.commands if f"`/{name}" not in README]
    assert not missing, f"commands missing from README: {missing}"
    for spec in registry.commands.values():
        for alias in spec.aliases:
            assert f"/{alias}" in README, f"alias /{alias} of /{spec.name} missing from README"


def test_every_cli_subcommand_is_documented():
    parser = build_parser()
    actions = [a for a in parser._subparsers._group_actions]  # type: ignore[union-attr]
    names = [name for action in actions for name in action.choices]
    missing = [name for name in names if f"studybot {name}" not in README]
    assert not missing, f"CLI subcommands missing from README: {missing}"


def test_readme_gives_the_two_setup_commands():
    assert "make run" in README and "make test" in README


def test_readme_and_docs_link_only_pages_that_exist_in_the_repository():
    import re

    root = Path(__file__).resolve().parents[2]
    pages = [root / "README.md", *sorted((root / "docs").glob("*.md"))]
    broken = []
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (page.parent / target).resolve().exists():
                broken.append(f"{page.relative_to(root)} → {target}")
        if "../shared" in text or "DESIGN.md" in text:
            broken.append(f"{page.relative_to(root)} points outside the repository")
    assert not broken, broken


def test_readme_stays_a_newcomers_page():
    # what it is, the two commands, configuration, commands, links; details live in docs/
    assert len(README.splitlines()) < 250
    assert "docs/architecture.md" in README
