"""Reading an export file for ``studybot import``: JSON, format and version checks, validation.

:func:`load_export` turns the file's text into an :class:`~storage.export_schema.Export` or
raises :class:`ImportFormatError` naming every problem (``groups.0.checkins.3.created_at: ...``),
before :func:`storage.importer.import_data` writes anything.
"""

from __future__ import annotations

import json

from pydantic import ValidationError

from storage.export_schema import FORMAT, VERSION, Export


class ImportFormatError(ValueError):
    """The file is not a valid studybot export; the message lists what is wrong."""


def load_export(text: str) -> Export:
    """Parse and validate export JSON; :class:`ImportFormatError` explains any problem."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFormatError(
            f"not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    if not isinstance(raw, dict):
        raise ImportFormatError("not a studybot export: the top level must be a JSON object")
    if raw.get("format") != FORMAT:
        raise ImportFormatError(f"not a studybot export: 'format' must be {FORMAT!r}")
    if raw.get("version") != VERSION:
        raise ImportFormatError(
            f"unsupported export version {raw.get('version')!r}; this studybot reads version {VERSION}"
        )
    try:
        return Export.model_validate(raw)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}"
            for err in exc.errors()[:20]
        ]
        more = exc.error_count() - len(problems)
        if more > 0:
            problems.append(f"... and {more} more")
        raise ImportFormatError("invalid export file:\n  " + "\n  ".join(problems)) from None
