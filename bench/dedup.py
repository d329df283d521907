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

`--mixed`: one run of about 2,000 articles from every corpus of the data folder (BBC News,
PolNeAR as JSONL with its publication dates and publishers, the plain-text pages, the HTML
pages of both extraction benchmarks, the seeds). A link is false between two BBC articles
of distinct stories, and between two corpora, except a plain-text page and the HTML it was
made from. Links inside PolNeAR and the web pages have no truth: they are counted and shown.
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


def mixed_files(data: Path) -> tuple[dict[str, bytes], dict[str, str]]:
    """About 2,000 inputs from every corpus, and the page each web input comes from."""
    files: dict[str, bytes] = {}
    page: dict[str, str] = {}
    with gzip.open(data / "bbc_news" / "articles.jsonl.gz", "rt", encoding="utf-8") as fh:
        for a in map(json.loads, fh):
            files["bbc_" + file_name(a["id"])] = a["raw"].encode("utf-8")
    with gzip.open(data / "polnear" / "articles.jsonl.gz", "rt", encoding="utf-8") as fh:
        for a in map(json.loads, fh):
            row = {"text": a["text"], "title": a["title"], "source": a["publisher"],
                   "published_at": a["publication_date"]}  # fmt: skip
            files[f"polnear_{a['id']}.jsonl"] = json.dumps(row).encode("utf-8")
    with gzip.open(data / "plaintext_boilerplate" / "items.jsonl.gz", "rt") as fh:
        for n, item in enumerate(map(json.loads, fh)):
            files[f"plain_{n:04d}.txt"] = item["page_text"].encode("utf-8")
            page[f"plain_{n:04d}"] = item["id"]
    for path in sorted((data / "article_extraction_benchmark" / "html").glob("*.html.gz")):
        stem = path.name.removesuffix(".html.gz")
        files[f"aeb_{stem}.html.gz"] = path.read_bytes()
        page[f"aeb_{stem}"] = f"aeb:{stem}"
    evaldata = json.loads((data / "trafilatura_eval" / "evaldata.json").read_text("utf-8"))
    for n, (key, item) in enumerate(sorted(evaldata.items())):
        files[f"traf_{n:04d}.html.gz"] = (
            data / "trafilatura_eval" / item["html_file"]
        ).read_bytes()
        page[f"traf_{n:04d}"] = f"traf:{key}"
    for path in sorted(SEEDS.glob("0*.txt")):
        files[f"seed_{path.name}"] = path.read_bytes()
    return files, page


def bench_mixed(data: Path) -> None:
    """Links of one run over every corpus: false ones between corpora and distinct BBC stories."""
    files, page = mixed_files(data)
    tiers = {
        pair("bbc_" + r["a"].replace("/", "_"), "bbc_" + r["b"].replace("/", "_"))
        for r in map(json.loads, (data / "bbc_news" / "near_duplicate_pairs.jsonl").open())
    }
    found, stories, written, seconds = run_links(files)
    print(f"mixed  inputs={len(files)} articles={written} stories={len(set(stories.values()))}"
          f" links={dict(Counter(found.values()))}  pipeline {seconds:.1f}s")  # fmt: skip
    kinds: Counter[tuple[str, str]] = Counter()
    false = []
    for (x, y), rel in sorted(found.items()):
        a, b = x.split(".")[0], y.split(".")[0]  # "aeb_<id>.html" (of .html.gz) is "aeb_<id>"
        # A plain-text page belongs to the benchmark its page comes from ("aeb:<id>").
        ca, cb = (page[n].split(":")[0] if n in page else n.split("_", 1)[0] for n in (a, b))
        if a in page and page.get(a) == page.get(b):
            verdict = "true"  # one page, as HTML and as its plain text
        elif ca == cb == "bbc":
            verdict = "true" if (a, b) in tiers else "false"
        else:
            # One benchmark's pages were crawled from many outlets on a few days (the article
            # benchmark's in November 2019): same-event links among them have no truth here.
            verdict = "false" if ca != cb else "unjudged"
        kinds[(verdict, rel)] += 1
        if verdict == "false":
            false.append((rel, a, b))
    print(f"  links by verdict and relation: {dict(sorted(kinds.items()))}")
    print(f"  false links (distinct BBC stories, or across corpora): {len(false)}")
    for rel, a, b in false[:20]:
        print(f"    {rel:15} {a} {b}")
    shown = [(p, r) for p, r in sorted(found.items()) if p[0].startswith("polnear")][:8]
    for (a, b), rel in shown:
        print(f"    polnear {rel:12} {a[8:50]} {b[8:50]}")


def main() -> None:
    """Score article links on BBC News (when the data is there) and on the seeds."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=None, help="BBC articles (default: all)")
    parser.add_argument("--mixed", action="store_true", help="one ~2,000-article run instead")
    args = parser.parse_args()
    if args.mixed:
        bench_mixed(args.data)
        return
    if args.data.is_dir():
        bench_bbc(args.data, args.limit)
    else:
        print(f"{args.data}: no data folder, skipped")
    bench_seeds(sorted(SEEDS.glob("0*.txt")))


if __name__ == "__main__":
    main()
