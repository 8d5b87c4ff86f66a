"""Paper metadata, fetched off the reply path: arXiv title/authors/abstract/date, GitHub stars.

``/paper`` stores what the member typed and answers at once; :meth:`PaperMetadata.schedule`
then fetches, as a tracked background task (:mod:`bot.tasks`), what the arXiv API
(``papers.arxiv_api_url``, its Atom feed, parsed with feedparser) says of the paper and what
the GitHub REST API (``papers.github_api_url``, ``/repos/{owner}/{repo}``) says of its first
code link, and stores it on the paper row. No database session is open while it waits.

- cached: an id fetched once (in this process, or stored on any paper row) is not fetched again;
- ``missing`` (404, no such entry) is final; a timeout, a refused connection, a 5xx or a
  malformed answer leaves the source ``failed``: tried again after ``papers.retry_seconds``
  (doubling) up to ``papers.max_attempts``, and at every start (:meth:`PaperMetadata.resume`),
  so nothing is lost while the network is down. Until then the digest shows what the member
  typed.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from sqlalchemy import or_, select

from bot.config import PapersConfig
from bot.tasks import BackgroundTasks
from storage.db import Database
from storage.models import Paper

log = logging.getLogger(__name__)

USER_AGENT = "studybot (paper metadata; https://github.com/)"
PENDING, OK, MISSING, FAILED = "pending", "ok", "missing", "failed"


class FetchFailed(Exception):
    """The source could not be asked (network, timeout, 5xx) or answered nonsense: retry."""


class NotFound(Exception):
    """The source has no such paper or repository: final."""


@dataclass(frozen=True)
class ArxivMeta:
    """What the arXiv API says of one paper."""

    title: str
    authors: tuple[str, ...]
    abstract: str
    published: str  # YYYY-MM-DD


@dataclass(frozen=True)
class RepoMeta:
    """What the GitHub API says of one repository."""

    description: str
    stars: int


def _one_line(text: str) -> str:
    return " ".join((text or "").split())


def parse_arxiv_atom(body: bytes | str, identifier: str) -> ArxivMeta:
    """The entry for ``identifier`` in an arXiv API Atom answer.

    Raises :class:`NotFound` for an answer without it (or arXiv's ``Error`` entry) and
    :class:`FetchFailed` for something that is not such an answer."""
    import feedparser  # on the first paper, not in every bot process (~1 MB)

    feed: Any = feedparser.parse(body)
    if feed.bozo and not isinstance(feed.bozo_exception, feedparser.CharacterEncodingOverride):
        raise FetchFailed(f"arXiv answered malformed XML: {feed.bozo_exception}")
    entries = list(feed.entries)
    if not entries:
        raise NotFound(identifier)
    entry = entries[0]
    entry_id = str(entry.get("id", ""))
    if "/api/errors" in entry_id or _one_line(entry.get("title", "")) == "Error":
        raise NotFound(identifier)
    title = _one_line(entry.get("title", ""))
    if not title or identifier not in entry_id:
        raise FetchFailed(f"arXiv's entry is not {identifier}: {entry_id or 'no id'}")
    authors = tuple(
        _one_line(author.get("name", ""))
        for author in entry.get("authors", [])
        if author.get("name")
    )
    published = str(entry.get("published", ""))[:10]
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", published):
        published = ""
    return ArxivMeta(title, authors, _one_line(entry.get("summary", "")), published)


def parse_github_repo(data: object) -> RepoMeta:
    """Description and stars from a ``GET /repos/{owner}/{repo}`` answer (FetchFailed if not one)."""
    if not isinstance(data, dict) or not isinstance(data.get("stargazers_count"), int):
        raise FetchFailed("GitHub answered something that is not a repository")
    description = data.get("description") or ""
    return RepoMeta(_one_line(str(description)), int(data["stargazers_count"]))


def repo_path(code_url: str) -> str | None:
    """``owner/repo`` of a ``https://github.com/owner/repo`` link."""
    parts = [p for p in urlsplit(code_url).path.split("/") if p]
    if urlsplit(code_url).hostname not in ("github.com", "www.github.com") or len(parts) < 2:
        return None
    return f"{parts[0]}/{parts[1]}"


class PaperMetadata:
    """Fetches and stores papers' metadata in the background (one per app)."""

    def __init__(self, db: Database, config: PapersConfig, tasks: BackgroundTasks) -> None:
        self.db = db
        self.config = config
        self.tasks = tasks
        self._arxiv: dict[str, ArxivMeta | None] = {}  # id -> metadata, None: no such paper
        self._repos: dict[str, RepoMeta | None] = {}
        self._running: set[int] = set()

    # -- scheduling ------------------------------------------------------------------------
    def schedule(self, paper_id: int, *, delay: float = 0.0) -> None:
        """Fetch paper ``paper_id``'s metadata in the background (after ``delay`` seconds)."""
        if self.config.fetch_metadata:
            self.tasks.spawn(self._later(paper_id, delay), f"metadata of paper #{paper_id}")

    def resume(self) -> int:
        """Schedule every paper whose metadata is still pending or failed (at start-up)."""
        if not self.config.fetch_metadata:
            return 0
        waiting = (PENDING, FAILED)
        with self.db.session() as session:
            ids = list(
                session.scalars(
                    select(Paper.id)
                    .where(or_(Paper.arxiv_status.in_(waiting), Paper.code_status.in_(waiting)))
                    .order_by(Paper.id)
                )
            )
        for paper_id in ids:
            self.schedule(paper_id)
        return len(ids)

    async def _later(self, paper_id: int, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        await self.fill(paper_id)

    # -- one paper -------------------------------------------------------------------------
    async def fill(self, paper_id: int) -> None:
        """Fetch what paper ``paper_id`` still lacks and store it; plan a retry on failure."""
        if paper_id in self._running:
            return
        self._running.add(paper_id)
        try:
            await self._fill(paper_id)
        finally:
            self._running.discard(paper_id)

    async def _fill(self, paper_id: int) -> None:
        with self.db.session() as session:
            paper = session.get(Paper, paper_id)
            if paper is None:
                return
            identifier = paper.arxiv_id if paper.arxiv_status in (PENDING, FAILED) else None
            code = paper.code_urls[0] if paper.code_status in (PENDING, FAILED) else None
            repo = repo_path(code) if code else None
            if identifier is not None and identifier not in self._arxiv:
                known = self._stored_arxiv(session, identifier)
                if known is not None:
                    self._arxiv[identifier] = known
        if identifier is None and code is None:
            return
        arxiv_result: ArxivMeta | Exception | None = None
        repo_result: RepoMeta | Exception | None = None
        timeout = aiohttp.ClientTimeout(total=self.config.timeout_seconds)
        async with aiohttp.ClientSession(
            timeout=timeout, headers={"User-Agent": USER_AGENT}
        ) as http:
            if identifier is not None:
                arxiv_result = await self._cached(self._arxiv, identifier, self._fetch_arxiv, http)
            if repo is not None:
                repo_result = await self._cached(self._repos, repo, self._fetch_repo, http)
        failed = self._store(paper_id, identifier, arxiv_result, code, repo, repo_result)
        if failed is not None:
            self._retry(paper_id, failed)

    async def _cached(
        self, cache: dict[str, Any], key: str, fetch: Any, http: aiohttp.ClientSession
    ) -> Any:
        if key in cache:
            return cache[key]
        try:
            value = await fetch(http, key)
        except NotFound:
            value = None
        except FetchFailed as error:
            log.warning("paper metadata: %s", error)
            return error
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            log.warning("paper metadata: %s unreachable: %s", key, type(error).__name__)
            return FetchFailed(f"{type(error).__name__}: {error}")
        cache[key] = value
        return value

    def _stored_arxiv(self, session: Any, identifier: str) -> ArxivMeta | None:
        """Metadata of ``identifier`` already fetched for another paper row (any group)."""
        row = session.scalars(
            select(Paper).where(Paper.arxiv_id == identifier, Paper.arxiv_status == OK).limit(1)
        ).first()
        if row is None:
            return None
        return ArxivMeta(
            row.arxiv_title,
            tuple(row.arxiv_authors.splitlines()),
            row.arxiv_abstract,
            row.arxiv_published,
        )

    def _store(
        self,
        paper_id: int,
        identifier: str | None,
        arxiv_result: ArxivMeta | Exception | None,
        code: str | None,
        repo: str | None,
        repo_result: RepoMeta | Exception | None,
    ) -> int | None:
        """Store the results; the attempts made so far when something is to be retried."""
        with self.db.session() as session:
            paper = session.get(Paper, paper_id)
            if paper is None:
                return None
            retry = False
            if identifier is not None:
                if isinstance(arxiv_result, ArxivMeta):
                    paper.arxiv_status = OK
                    paper.arxiv_title = arxiv_result.title
                    paper.arxiv_authors = "\n".join(arxiv_result.authors)
                    paper.arxiv_abstract = arxiv_result.abstract
                    paper.arxiv_published = arxiv_result.published
                elif arxiv_result is None:
                    paper.arxiv_status = MISSING
                else:
                    paper.arxiv_status = FAILED
                    retry = True
            if code is not None:
                if repo is None or repo_result is None:
                    paper.code_status = MISSING
                elif isinstance(repo_result, RepoMeta):
                    paper.code_status = OK
                    paper.code_description = repo_result.description
                    paper.code_stars = repo_result.stars
                else:
                    paper.code_status = FAILED
                    retry = True
            if retry:
                paper.metadata_attempts += 1
            attempts = paper.metadata_attempts
            session.commit()
        return attempts if retry else None

    def _retry(self, paper_id: int, attempts: int) -> None:
        if attempts >= self.config.max_attempts:
            log.warning("paper #%s: metadata still unavailable after %s tries", paper_id, attempts)
            return
        self.schedule(paper_id, delay=self.config.retry_seconds * 2 ** (attempts - 1))

    # -- the two sources -------------------------------------------------------------------
    async def _fetch_arxiv(self, http: aiohttp.ClientSession, identifier: str) -> ArxivMeta:
        params = {"id_list": identifier, "max_results": "1"}
        async with http.get(self.config.arxiv_api_url, params=params) as response:
            body = await response.read()
            _check_status(response.status, "arXiv")
        return parse_arxiv_atom(body, identifier)

    async def _fetch_repo(self, http: aiohttp.ClientSession, repo: str) -> RepoMeta:
        url = f"{self.config.github_api_url.rstrip('/')}/repos/{repo}"
        headers = {"Accept": "application/vnd.github+json"}
        async with http.get(url, headers=headers) as response:
            _check_status(response.status, "GitHub")
            try:
                data = await response.json(content_type=None)
            except ValueError as error:
                raise FetchFailed(f"GitHub answered malformed JSON: {error}") from None
        return parse_github_repo(data)


def _check_status(status: int, source: str) -> None:
    if status in (400, 404, 410):
        raise NotFound(source)
    if status != 200:
        raise FetchFailed(f"{source} answered HTTP {status}")
