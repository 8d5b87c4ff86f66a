"""Import python ``wechaty`` 0.10.7 on Python 3.11+ (the optional ``wechat`` extra).

Python 3.11 rejects a dataclass field whose default is an unhashable instance, and
``WechatyOptions.puppet_options = PuppetOptions()`` is one: give ``PuppetOptions`` the identity
hash before ``import wechaty``. Everything else in the bot must work without wechaty installed,
so this module is imported only by the WeChat adapter, when it starts.
"""

from __future__ import annotations

import logging
import os
import tempfile
from types import ModuleType

from bot.config import ConfigError

INSTALL_HINT = (
    "WeChat support needs the optional extra: pip install 'studybot[wechat]' "
    "(or make run/make test which install it)"
)


class WechatyMissingError(ConfigError):
    """The optional ``wechat`` extra is not installed (or cannot be imported).

    A :class:`~bot.config.ConfigError`, so ``studybot run`` prints the install hint cleanly.
    """


def load_wechaty() -> ModuleType:
    """Return the ``wechaty`` module, patched to import on this Python, or raise a clear error."""
    try:
        from wechaty_puppet.schemas import puppet as puppet_schemas
    except ImportError as exc:
        raise WechatyMissingError(f"{INSTALL_HINT} ({exc})") from exc
    # wechaty creates its cache dir (``CACHE_DIR``, default ./.wechaty) at import: not in the cwd
    os.environ.setdefault("CACHE_DIR", os.path.join(tempfile.gettempdir(), "studybot-wechaty"))
    options = puppet_schemas.PuppetOptions
    if getattr(options, "__hash__", None) is None:
        options.__hash__ = object.__hash__
    try:
        import wechaty
        import wechaty_puppet_service  # noqa: F401  (imported lazily by wechaty; set up its logger now)
    except ImportError as exc:  # e.g. Python 3.13 removed telnetlib, which wechaty imports
        raise WechatyMissingError(f"{INSTALL_HINT} ({exc})") from exc
    _quiet_library_logs()
    module: ModuleType = wechaty
    return module


# Loggers wechaty creates with their own INFO handlers (``WECHATY_LOG`` overrides the level).
LIBRARY_LOGGERS = (
    "Wechaty Message Room Contact ContactSelf Tag Favorite FriendShip Image MiniProgram "
    "RoomInvitation UrlLink Accessory Config FileBox WechatyPuppet WechatyPuppet.Schemas.Event "
    "WechatyPuppet.Schema.Base WechatyPuppetServiceConfig wechaty.plugin"
).split()


def _quiet_library_logs() -> None:
    """Keep wechaty's chatty INFO logs out of the bot's output unless WECHATY_LOG is set.

    ``PuppetService`` warns with the token in clear text when both token and endpoint are
    given, so it is limited to errors.
    """
    if os.environ.get("WECHATY_LOG"):
        return
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("PuppetService").setLevel(logging.ERROR)


def wechaty_available() -> bool:
    """True when the WeChat extra imports on this interpreter."""
    try:
        load_wechaty()
    except WechatyMissingError:
        return False
    return True
