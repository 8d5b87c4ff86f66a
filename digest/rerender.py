"""Pages of imported issues, rendered again from the data (``studybot import``).

An export file carries each published issue's HTML and Markdown, but the import never stores
them: a forged file could put a redirect or a phishing page into the archive and the feeds.
The imported issues are rendered here from the imported entries, exactly as publishing
renders them.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import update

from bot.config import Config
from digest.budget import fit_markdown
from digest.preview import digest_of
from digest.publish_parts import ISSUE_FEED_URL, ISSUE_HOME_URL
from digest.render import render_html
from storage.db import Database
from storage.models import DigestIssue


def rerender_issues(db: Database, config: Config, issue_ids: Iterable[int]) -> int:
    """Render the issues' archive page and Markdown from the data; how many were rendered."""
    done = 0
    for issue_id in issue_ids:
        with db.session() as session:
            issue = session.get(DigestIssue, issue_id)
            if issue is None:
                continue
            d = digest_of(session, issue, config)
        markdown = fit_markdown(d, config).parts[0]
        page = render_html(d, home_url=ISSUE_HOME_URL, feed_url=ISSUE_FEED_URL)
        with db.session() as session:
            session.execute(
                update(DigestIssue)
                .where(DigestIssue.id == issue_id)
                .values(markdown=markdown, html=page)
            )
        done += 1
    return done
