"""Article links and stories of the real pipeline: BBC News duplicate pairs and the seeds.

Usage: .venv/bin/python bench/dedup.py [--data ../shared/data] [--limit N]

BBC News: every article's raw file goes to a temp input folder; `news_etl` runs once and
`article_links` is read back through DuckDB. The pairs file (`near_duplicate_pairs.jsonl`,
derived by the data's curators from word 5-gram shingles of every pair) gives the truth:
tier `exact` (identical body words), `near_duplicate` (Jaccard >= 0.5 or containment >= 0.8)
and `same_story_overlap` (a story rewritten, sharing paragraphs); every other pair is two
distinct stories. Printed: precision and recall of our duplicate links (`exact_duplicate`,
`near_duplicate`, `excerpt`) against the exact and near-duplicate tiers, per relation and
together, and every link of any relation between two distinct stories.

Seeds: the five sample articles, their relations pairwise, and how many stories they form
(the goal: one story; 000/001 `excerpt`; 002/003 `rewrite`).
"""

from __future__ import annotations

import argparse
import gzip
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from flowrun import flow_run

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SEEDS = Path(__file__).resolve().parents[1] / "seeds"
DUPLICATE_RELATIONS = ("exact_duplicate", "near_duplicate", "excerpt")
DUPLICATE_TIERS = ("exact", "near_duplicate")
Pair = tuple[str, str]


def pair(a: str, b: str) -> Pair:
    """An unordered pair in canonical order."""
    return (a, b) if a < b else (b, a)


def file_name(article_id: str) -> str:
    """Input file name of a BBC id ("business/001" -> "business_001.txt")."""
    return article_id.replace("/", "_") + ".txt"


def run_links(files: dict[str, bytes]) -> tuple[dict[Pair, str], dict[str, str], int, float]:
    """Run the flow; links by pair of file stems, story of each stem, articles, seconds."""
    with flow_run(files) as (con, seconds):
        links = con.execute(
            "SELECT a.source_uri, b.source_uri, l.relation FROM article_links l"
            " JOIN articles a ON a.article_id = l.article_id"
            " JOIN articles b ON b.article_id = l.other_article_id"
        ).fetchall()
        stories = con.execute("SELECT source_uri, story_id FROM articles").fetchall()
    found = {pair(Path(a).stem, Path(b).stem): rel for a, b, rel in links}
    return found, {Path(uri).stem: sid for uri, sid in stories}, len(stories), seconds


def precision_recall(predicted: set[Pair], gold: set[Pair]) -> str:
    """P and R of a set of pairs, with counts."""
    right = len(predicted & gold)
    p = right / len(predicted) if predicted else 1.0
    r = right / len(gold) if gold else 1.0
    return f"P {p:.3f} R {r:.3f} ({right} right of {len(predicted)} found, {len(gold)} gold)"


def bench_bbc(data: Path, limit: int | None) -> None:
    """Duplicate pairs of the BBC News DEV articles."""
    folder = data / "bbc_news"
    if not (folder / "articles.jsonl.gz").is_file():
        print(f"bbc_news: {folder} absent, skipped")
        return
    with gzip.open(folder / "articles.jsonl.gz", "rt", encoding="utf-8") as fh:
        articles = sorted((json.loads(line) for line in fh), key=lambda a: a["id"])[:limit]
    ids = {a["id"].replace("/", "_"): a["id"] for a in articles}
    tiers: dict[Pair, str] = {}
    for line in (folder / "near_duplicate_pairs.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["a"] in ids.values() and row["b"] in ids.values():
            tiers[pair(row["a"], row["b"])] = row["tier"]
    files = {file_name(a["id"]): a["raw"].encode("utf-8") for a in articles}
    found, _stories, written, seconds = run_links(files)
    links = {pair(ids[a], ids[b]): rel for (a, b), rel in found.items()}
    print(
        f"bbc_news  articles={len(articles)} (in warehouse {written}) gold pairs={len(tiers)}"
        f" {dict(Counter(tiers.values()))}  links={dict(Counter(links.values()))}"
        f"  pipeline {seconds:.1f}s"
    )
    gold_dup = {p for p, t in tiers.items() if t in DUPLICATE_TIERS}
    ours_dup = {p for p, rel in links.items() if rel in DUPLICATE_RELATIONS}
    print(
        f"  exact + near duplicates (any duplicate relation)  {precision_recall(ours_dup, gold_dup)}"
    )
    for relations, tier in (
        (("exact_duplicate",), "exact"),
        (("near_duplicate", "excerpt"), "near_duplicate"),
    ):
        ours = {p for p, rel in links.items() if rel in relations}
        gold = {p for p, t in tiers.items() if t == tier}
        print(f"  {' + '.join(relations):28} vs tier {tier:15} {precision_recall(ours, gold)}")
    false = sorted((p, rel) for p, rel in links.items() if p not in tiers)
    by_relation = Counter(rel for _, rel in false)
    print(f"  links between distinct stories: {len(false)} {dict(by_relation)}")
    for (a, b), rel in false[:10]:
        print(f"    {rel:15} {a} {b}")


def bench_seeds(seeds: Sequence[Path]) -> None:
    """Relations among the seed articles and the stories they form."""
    files = {p.name: p.read_bytes() for p in seeds}
    found, stories, written, _seconds = run_links(files)
    print(f"seeds  articles={written} stories={len(set(stories.values()))} (goal: 1)")
    for (a, b), rel in sorted(found.items()):
        print(f"  {a[:3]} {b[:3]} {rel}")


def main() -> None:
    """Score article links on BBC News (when the data is there) and on the seeds."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=None, help="BBC articles (default: all)")
    args = parser.parse_args()
    if args.data.is_dir():
        bench_bbc(args.data, args.limit)
    else:
        print(f"{args.data}: no data folder, skipped")
    bench_seeds(sorted(SEEDS.glob("0*.txt")))


if __name__ == "__main__":
    main()
