"""Pure parsers of command arguments, used by the handlers (no database, no I/O).

- :mod:`bot.parsing.errors`: :class:`~bot.parsing.errors.ParseError`, its subclasses and zh/en texts;
- :mod:`bot.parsing.links`: checked URLs, URL keys, arXiv ids, GitHub repositories;
- :mod:`bot.parsing.arguments`: #tags and the ``/paper`` and ``/share`` arguments.
"""
