"""Stories: online clustering of articles across languages.

An incoming article looks at its nearest neighbours published within the story window; the
stories they belong to are the candidates, and the article joins the one whose centroid (the
normalised sum of its members' vectors) is most similar, if that similarity reaches the
threshold — otherwise it starts a story of its own. Comparing with the centroid rather than
the single nearest article keeps a story from drifting along a chain of loosely related
articles. Wire copies (same-language near-duplicates, never embedded) belong to their
original's story and count in its coverage.

Articles are assigned one at a time in the order they are stored, which is what "online"
means here. Arrival order can split an event: two reports in different words start two
stories before the articles that bridge them arrive. So when an article joins a story, the
story's moved centroid is compared with the other candidate stories, and two stories are
merged (the smaller into the larger: its members move, its page redirects) when the smaller
one's articles now pass the joining test against the larger one's centroid. A story is never
split.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
from sqlalchemy.orm import Session

from babelwire.similar.vectors import VectorSpace, from_bytes, to_bytes
from babelwire.store import story_writer as stories
from babelwire.store.models import DUPLICATE, READY, Article, Story

NEIGHBOURS = 20
# counted in coverage: the articles shown and their wire copies
MEMBERS = (READY, DUPLICATE)


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


def lock_stories(s: Session) -> None:
    """Serialise story assignment across processes until this transaction ends.

    On PostgreSQL several workers index at once; without this, two of them could each start
    a story for the same event, neither seeing the other's uncommitted article. Call it
    before syncing the process's index, so the index holds every article committed before.
    SQLite runs one writer at a time and Babelwire's in-process runner assigns from one
    thread, so there is nothing to take there."""
    stories.lock_assignment(s)


def assign_story(s: Session, space: VectorSpace, art: Article, vector: np.ndarray, *,
                 window: timedelta, threshold: float, now: datetime) -> Story:
    """Put a READY article (not yet in a story) into the best story, or a new one."""
    if art.story_id is not None:
        story = stories.get(s, art.story_id)
        if story is not None:
            return story
    assert art.published_at is not None
    t = art.published_at.timestamp()
    w = window.total_seconds()
    hits = space.index.search(vector, NEIGHBOURS, time_from=t - w, time_to=t + w,
                              exclude={art.id})
    near = [aid for aid, score in hits if score >= threshold * 0.9]
    best: Story | None = None
    best_score = threshold
    candidates: list[Story] = []
    if near:
        story_ids = stories.stories_of_ready(s, near)
        model = space.model
        candidates = [st for st in stories.load(s, story_ids)
                      if st.centroid is not None and st.model == model
                      and st.merged_into is None]
        for story in candidates:
            assert story.centroid is not None
            score = float(np.dot(vector, _unit(from_bytes(story.centroid))))
            if score >= best_score:
                best, best_score = story, score
    if best is None:
        best = stories.new(s, now=now, centroid=to_bytes(vector), model=space.model)
    else:
        assert best.centroid is not None
        best.centroid = to_bytes(from_bytes(best.centroid) + vector)
        best.updated_at = now
    art.story_id = best.id
    # its wire copies, stored before it had a story, join it too
    stories.adopt_copies(s, art.id, best.id)
    recount(s, best)
    best = _merge_close(s, best, [c for c in candidates if c.id != best.id], threshold, now)
    art.story_id = best.id
    return best


def _merge_close(s: Session, story: Story, others: list[Story], threshold: float,
                 now: datetime) -> Story:
    """Merge the candidate stories that now belong with this one.

    Two stories are one when the members of the smaller one are, on average, as close to
    the larger one's centroid as an article must be to join a story: the same test an
    article passes on arrival, applied to the articles that arrived too early. (Comparing
    centroids alone over-merges: averaging takes out each article's own wording, so the
    centroids of two related but distinct events sit closer than their articles do.) The
    story with more articles keeps its id (the older one on a tie)."""
    for other in others:
        keep, gone = sorted((story, other), key=lambda st: (-st.articles, st.id))
        assert keep.centroid is not None and gone.centroid is not None
        sum_gone = from_bytes(gone.centroid)
        embedded = stories.embedded_count(s, gone.id) or 1
        # mean over gone's members of cos(member, keep's centroid) = sum . unit(keep) / n
        score = float(np.dot(sum_gone, _unit(from_bytes(keep.centroid)))) / embedded
        if score < threshold:
            continue
        merge(s, keep, gone, now)
        story = keep
    return story


def merge(s: Session, keep: Story, gone: Story, now: datetime) -> None:
    """Move every member of `gone` into `keep`; `gone` stays as a pointer to `keep` (old
    links to it redirect), as do stories merged into it before."""
    stories.move_members(s, gone.id, keep.id)
    if keep.centroid is not None and gone.centroid is not None:
        keep.centroid = to_bytes(from_bytes(keep.centroid) + from_bytes(gone.centroid))
    keep.updated_at = gone.updated_at = now
    gone.merged_into = keep.id
    gone.centroid = None
    gone.articles = gone.sources = gone.countries = gone.languages = 0
    gone.first_published_at = gone.last_published_at = gone.lead_article_id = None
    s.flush()
    recount(s, keep)


def recount(s: Session, story: Story) -> None:
    """Refresh a story's coverage counts, times and lead article from its members.

    Counted here, not in SQL (see story_writer.member_rows)."""
    rows = [r for r in stories.member_rows(s, story.id) if r[1] in MEMBERS]
    story.articles = len(rows)
    story.sources = len({r[2] for r in rows if r[2] is not None})
    story.countries = len({r[3] for r in rows if r[3] is not None})
    story.languages = len({r[4] for r in rows if r[4] is not None})
    times = [r[5] for r in rows if r[5] is not None]
    story.first_published_at = min(times, default=None)
    story.last_published_at = max(times, default=None)
    shown = [(r[5], r[0]) for r in rows if r[1] == READY and r[5] is not None]
    story.lead_article_id = min(shown)[1] if shown else None


def join_original_story(s: Session, art: Article) -> None:
    """A wire copy joins its original's story (if the original has one yet) and counts."""
    if art.duplicate_of is None:
        return
    story_id = stories.story_of(s, art.duplicate_of)
    if story_id is None:
        return
    art.story_id = story_id
    s.flush()
    story = stories.get(s, story_id)
    if story is not None:
        recount(s, story)
