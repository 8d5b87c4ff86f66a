"""Keep the bot's memory down: freed heap pages go back to the system (glibc's ``malloc_trim``),
and optional extras of our libraries that we never use stay out of the process.

CPython frees objects into the C allocator, which keeps the pages for later: after jieba's
dictionary is loaded (its loader's temporary tables freed) or a busy spell, several MB stay
counted in the bot's RSS though nothing uses them. ``malloc_trim(0)`` returns them. A no-op on a
C library without it (musl, macOS).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)

_trim: Callable[[int], int] | None = None
_looked_up = False


def _malloc_trim() -> Callable[[int], int] | None:
    global _trim, _looked_up
    if not _looked_up:
        _looked_up = True
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            _trim = libc.malloc_trim
            _trim.argtypes, _trim.restype = [ctypes.c_size_t], ctypes.c_int
        except (OSError, AttributeError):
            _trim = None
    return _trim


def release_free_memory() -> bool:
    """Return the C heap's free pages to the system; False where the C library cannot."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


@contextmanager
def without_optional(*modules: str) -> Iterator[None]:
    """Import, inside the block, as if ``modules`` were not installed (unless already imported):
    for libraries that import optional extras we never use, e.g. PTB's Telegram Passport
    (cryptography, ~7 MB) or httpx's command-line client (rich, pygments, click: ~5 MB). They
    stay importable afterwards for whoever needs them."""
    hidden = [name for name in modules if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # "import name" raises ImportError
    try:
        yield
    finally:
        for name in hidden:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]
