"""A larger corpus for the dashboard tests, written at run time from the shared dev data.

Three run dates of about 25 inputs each, as JSONL lines: PolNeAR articles (real outlets,
publication dates and many quotes) in publication order, a few pages with boilerplate (for
the cleaning audit), a wire copy and an excerpt of an earlier date's article under another
outlet (for relations across dates) and a broken line (a reject). Nothing is copied into the
repository: the data is read from ../shared/data. Where it is absent (a clone on its own),
the seeds stand in for PolNeAR: versions of them under seven outlets over the same weeks.
"""

from __future__ import annotations

import gzip
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
SEEDS = Path(__file__).resolve().parents[2] / "seeds"
# The stand-ins' outlets and first publication day: PolNeAR's, so the tests read the same.
OUTLETS = ("nyt", "wash-post", "breitbart", "politico", "usa-today", "huff-post", "west-journal")
FIRST_DAY = date(2015, 11, 5)
RUN_DATES = (date(2016, 1, 10), date(2016, 1, 20), date(2016, 1, 30))
POLNEAR_PER_DATE = 16
PAGES_PER_DATE = 3


def available() -> bool:
    """Whether the dev data this corpus is built from is here (else the seeds stand in)."""
    return (DATA / "polnear" / "articles.jsonl.gz").is_file() and (
        DATA / "plaintext_boilerplate" / "items.jsonl.gz"
    ).is_file()


def _read(path: Path) -> list[dict[str, Any]]:
    """The objects of a gzipped JSONL file."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def write_inputs(root: Path) -> dict[date, Path]:
    """Write one input folder per run date under `root`; return them by run date."""
    if available():
        polnear = sorted(_read(DATA / "polnear" / "articles.jsonl.gz"), key=_polnear_key)
        articles = [_article(a) for a in polnear]
        pages = [
            p
            for p in _read(DATA / "plaintext_boilerplate" / "items.jsonl.gz")
            if p["id"].startswith("aeb:") and p.get("url")
        ]
    else:
        articles, pages = _seed_articles(), []
    folders: dict[date, Path] = {}
    earlier: list[dict[str, Any]] = []
    for n, day in enumerate(RUN_DATES):
        chunk = articles[n * POLNEAR_PER_DATE : (n + 1) * POLNEAR_PER_DATE]
        lines = list(chunk)
        lines += [
            {"text": p["page_text"], "url": p["url"]}
            for p in pages[n * PAGES_PER_DATE : (n + 1) * PAGES_PER_DATE]
        ]
        if earlier:
            # Syndication: a later date carries an earlier article whole under another
            # outlet, and the first paragraphs of another one.
            copied, cut = earlier[n], earlier[n + 3]
            lines.append({**copied, "source": "wire-copy"})
            paragraphs = cut["text"].split("\n\n")
            lines.append({**cut, "source": "digest", "text": "\n\n".join(paragraphs[:5])})
        earlier += lines[: len(chunk)]
        body = "\n".join(json.dumps(line) for line in lines) + "\n{not json\n"
        folder = root / day.isoformat()
        folder.mkdir(parents=True)
        (folder / "articles.jsonl").write_text(body, encoding="utf-8")
        folders[day] = folder
    return folders


def _seed_articles() -> list[dict[str, Any]]:
    """Stand-ins for PolNeAR: each seed again and again, each version without a different
    line, under the outlets in turn, one or two days apart."""
    texts = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    count = len(RUN_DATES) * POLNEAR_PER_DATE
    found = []
    for k in range(count):
        lines = texts[k % len(texts)].splitlines()
        version = k // len(texts)
        kept = [line for i, line in enumerate(lines) if not version or i % 7 != version % 7]
        day = FIRST_DAY + timedelta(days=k * 80 // count)
        found.append(
            {"text": "\n".join(kept), "source": OUTLETS[k % len(OUTLETS)],
             "published_at": day.isoformat()}
        )  # fmt: skip
    return found


def _polnear_key(article: dict[str, Any]) -> tuple[str, str]:
    """Publication order, then id, for a stable choice."""
    return article["publication_date"], article["id"]


def _article(article: dict[str, Any]) -> dict[str, Any]:
    """A PolNeAR article as a JSONL input line, with its outlet and publication date."""
    return {
        "text": article["text"],
        "title": article["title"],
        "source": article["publisher"],
        "published_at": article["publication_date"],
    }
