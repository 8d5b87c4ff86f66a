"""Full-text search over what members sent (check-ins, questions, answers, papers, resources).

- :mod:`storage.search.text`: jieba segmentation, stopwords and the /search query language;
- :mod:`storage.search.docs`: what one index row holds and how an entry becomes one;
- :mod:`storage.search.index`: the ``search_docs`` index, its flush hook and full rebuild;
- :mod:`storage.search.queue`: entries queued by a message, indexed just after the reply;
- :mod:`storage.search.drain`: indexes the queued entries (worker, start-up, before a search);
- :mod:`storage.search.worker`: the background task that drains the queue;
- :mod:`storage.search.engine`: SQLite FTS5 / PostgreSQL full-text queries and filters;
- :mod:`storage.search.find`: runs a /search and finds questions similar to a new one.
"""
