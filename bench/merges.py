"""Run-wide entity merges under the earlier rules and the current ones, on real news.

Usage: .venv/bin/python bench/merges.py [--data ../shared/data] [--per-corpus 200] [--top 25]

One run of 200 BBC News and 200 PolNeAR articles (evenly spread over each corpus sorted by
id) read from the data folder, never copied: the entities stage finds their mentions once,
then `canonicalize` merges them twice. "before" is the earlier behaviour, switched back on
by settings: an acronym joins any long name of its initials whatever the labels
(`acronym_same_label=False`), and a bare surname several full-name persons share stays apart
unless its article names one of them (`dominant_share` above 1). "after" is the defaults.
Rules with no switch act in both: a person's suffix ("Donald Trump Jr." is not Donald
Trump), and an entity's name is never initials alone when it has a spelled-out form.

Printed: the top entities by mentions of each, how many mentions changed entity (with the
most frequent moves), and the acronym merges that differ.
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from tasks.core.records import Article, Entity, EntityMention, Mention, short_hash
from tasks.entities.mentions import EntitySettings, canonicalize, extract_mentions

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
AFTER = EntitySettings()
BEFORE = replace(AFTER, dominant_share=1.01, acronym_same_label=False)


def spread(items: Sequence[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    """`n` items evenly spread over the sequence (all of it when shorter)."""
    if len(items) <= n:
        return list(items)
    return [items[i * len(items) // n] for i in range(n)]


def read_corpus(path: Path, n: int) -> list[dict[str, Any]]:
    """`n` articles of a JSONL.gz corpus, sorted by id then evenly spread."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return spread(sorted((json.loads(line) for line in fh), key=lambda a: a["id"]), n)


def article(uri: str, body: str) -> Article:
    """An English article of a plain body, as the normalize stage leaves it."""
    return Article(
        article_id=short_hash(f"{uri}\x00{body}"),
        content_hash=short_hash(body),
        source_uri=uri,
        url=None,
        outlet=None,
        title=None,
        title_source=None,
        standfirst=None,
        author=None,
        published_at=None,
        published_date=None,
        published_at_source=None,
        modified_at=None,
        modified_at_source=None,
        language="en",
        nlp_skip_reason=None,
        body=body,
        word_count=len(body.split()),
        content_type="text",
        encoding="utf-8",
        removed=(),
    )


def read_articles(data: Path, n: int) -> list[Article]:
    """BBC News and PolNeAR articles of the data folder; empty when either is absent."""
    bbc, polnear = data / "bbc_news" / "articles.jsonl.gz", data / "polnear" / "articles.jsonl.gz"
    if not (bbc.is_file() and polnear.is_file()):
        return []
    return [article(f"bbc/{a['id']}", a["body"]) for a in read_corpus(bbc, n)] + [
        article(f"polnear/{a['id']}", a["text"]) for a in read_corpus(polnear, n)
    ]


def is_acronym(text: str) -> bool:
    """Written in capitals, dotted or not, as the acronym rule reads a mention."""
    compact = text.replace(".", "")
    return compact.isupper() and 2 <= len(compact) <= AFTER.max_acronym_len


def top(entities: Sequence[Entity], n: int) -> list[str]:
    """Lines of the `n` entities with most mentions."""
    ranked = sorted(entities, key=lambda e: (-e.mention_count, e.canonical_name))[:n]
    return [
        f"{e.mention_count:5} {e.article_count:4}  {e.label:6} {e.canonical_name}" for e in ranked
    ]


def merge(
    mentions: Sequence[Mention], settings: EntitySettings
) -> tuple[list[EntityMention], dict[str, Entity], float]:
    """Linked mentions, entities by id and seconds of one `canonicalize`."""
    start = time.perf_counter()
    linked, entities = canonicalize(mentions, settings)
    return linked, {e.entity_id: e for e in entities}, time.perf_counter() - start


def main() -> None:
    """Compare the merges of one run under the earlier and the current rules."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--per-corpus", type=int, default=200)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    articles = read_articles(args.data, args.per_corpus)
    if not articles:
        print(f"{args.data}: no bbc_news or polnear data, skipped")
        return
    start = time.perf_counter()
    mentions = extract_mentions(articles, AFTER).mentions
    print(f"articles {len(articles)}  mentions {len(mentions)}  "
          f"NER {time.perf_counter() - start:.1f}s")  # fmt: skip
    old_linked, old, old_s = merge(mentions, BEFORE)
    new_linked, new, new_s = merge(mentions, AFTER)
    print(f"entities before {len(old)} ({old_s:.2f}s)  after {len(new)} ({new_s:.2f}s)")
    columns = f"{'mentions':>8} articles label  name"
    for name, lines in (("before", top(list(old.values()), args.top)),
                        ("after", top(list(new.values()), args.top))):  # fmt: skip
        print(f"\ntop {args.top} {name}\n  {columns}")
        for rank, line in enumerate(lines, 1):
            print(f"  {rank:2} {line}")
    changed = [
        (a, old[a.entity_id], new[b.entity_id])
        for a, b in zip(old_linked, new_linked, strict=True)
        if old[a.entity_id].group_key != new[b.entity_id].group_key
    ]
    moves = Counter((was.canonical_name, now.canonical_name) for _, was, now in changed)
    kinds = Counter(
        "acronym" if is_acronym(m.text) else "bare name" if len(m.text.split()) == 1 else "other"
        for m, _, _ in changed
    )
    print(f"\nmentions that changed entity: {len(changed)} of {len(mentions)} {dict(kinds)}")
    for (was, now), n in moves.most_common(20):
        print(f"  {n:5}  {was} -> {now}")
    acronyms = Counter(
        (a.text, old[a.entity_id].group_key, new[b.entity_id].group_key)
        for a, b in zip(old_linked, new_linked, strict=True)
        if is_acronym(a.text) and old[a.entity_id].group_key != new[b.entity_id].group_key
    )
    print(f"\nacronym mentions that changed entity: {sum(acronyms.values())}")
    for (text, was, now), n in sorted(acronyms.items(), key=lambda x: (-x[1], x[0]))[:30]:
        print(f"  {n:5}  {text:8} {was} -> {now}")


if __name__ == "__main__":
    main()
