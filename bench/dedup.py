"""Article links and stories of the real pipeline: BBC News duplicate pairs and the seeds.

Usage: .venv/bin/python bench/dedup.py [--data ../shared/data] [--limit N]
                                       [--mixed | --split-dates]

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

`--split-dates`: the BBC duplicate pairs split across two run dates. The articles go to a
dated input folder (`INPUT/YYYY-MM-DD/`, run dates 2030-01-01 and 2030-01-02): the two
articles of every exact and near-duplicate pair to different dates, the others to either at
random (fixed seed). `news_etl` runs the later date first, then the earlier, so each link
must be found by the earlier date's run looking forward and written back under the later
date; `article_links` is read back through the views (cross-date rows included). The
figures are printed beside a baseline in the same process: one run of the same articles
on one date. Scored exactly as the BBC mode above. The whole dev set (742 articles, 19
duplicate pairs) is the default: three runs, 2-3 minutes on 2 cores; `--limit N` takes the
first N articles by id, as above (300 hold 6 duplicate pairs).
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

from flowrun import RUN_DATE, flow_run

from flows.pipeline import news_etl
from tasks.warehouse import query

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SEEDS = Path(__file__).resolve().parents[1] / "seeds"
DUPLICATE_RELATIONS = ("exact_duplicate", "near_duplicate", "excerpt")
DUPLICATE_TIERS = ("exact", "near_duplicate")
Pair = tuple[str, str]
# Two run dates a day apart (well within `DedupSettings.history_days`), after every item's
# date; the baseline runs on the first.
SPLIT_DAYS = (RUN_DATE, date.fromordinal(RUN_DATE.toordinal() + 1))
SPLIT_SEED = 20240611


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


def load_bbc(data: Path, limit: int | None) -> tuple[list[dict], dict[Pair, str]] | None:
    """The first `limit` BBC articles by id, and the tier of each curated pair among them."""
    folder = data / "bbc_news"
    if not (folder / "articles.jsonl.gz").is_file():
        print(f"bbc_news: {folder} absent, skipped")
        return None
    with gzip.open(folder / "articles.jsonl.gz", "rt", encoding="utf-8") as fh:
        articles = sorted((json.loads(line) for line in fh), key=lambda a: a["id"])[:limit]
    known = {a["id"] for a in articles}
    tiers: dict[Pair, str] = {}
    for line in (folder / "near_duplicate_pairs.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["a"] in known and row["b"] in known:
            tiers[pair(row["a"], row["b"])] = row["tier"]
    return articles, tiers


def measures(links: Mapping[Pair, str], tiers: Mapping[Pair, str]) -> list[tuple[str, str]]:
    """P and R of the duplicate links: together, then per relation against its tier."""
    gold_dup = {p for p, t in tiers.items() if t in DUPLICATE_TIERS}
    ours_dup = {p for p, rel in links.items() if rel in DUPLICATE_RELATIONS}
    out = [
        ("exact + near duplicates (any duplicate relation)", precision_recall(ours_dup, gold_dup))
    ]
    for relations, tier in (
        (("exact_duplicate",), "exact"),
        (("near_duplicate", "excerpt"), "near_duplicate"),
    ):
        ours = {p for p, rel in links.items() if rel in relations}
        gold = {p for p, t in tiers.items() if t == tier}
        out.append((f"{' + '.join(relations):28} vs tier {tier:15}", precision_recall(ours, gold)))
    return out


def bench_bbc(data: Path, limit: int | None) -> None:
    """Duplicate pairs of the BBC News DEV articles."""
    loaded = load_bbc(data, limit)
    if loaded is None:
        return
    articles, tiers = loaded
    ids = {a["id"].replace("/", "_"): a["id"] for a in articles}
    files = {file_name(a["id"]): a["raw"].encode("utf-8") for a in articles}
    found, _stories, written, seconds = run_links(files)
    links = {pair(ids[a], ids[b]): rel for (a, b), rel in found.items()}
    print(
        f"bbc_news  articles={len(articles)} (in warehouse {written}) gold pairs={len(tiers)}"
        f" {dict(Counter(tiers.values()))}  links={dict(Counter(links.values()))}"
        f"  pipeline {seconds:.1f}s"
    )
    for label, figures in measures(links, tiers):
        print(f"  {label:52} {figures}")
    false = sorted((p, rel) for p, rel in links.items() if p not in tiers)
    by_relation = Counter(rel for _, rel in false)
    print(f"  links between distinct stories: {len(false)} {dict(by_relation)}")
    for (a, b), rel in false[:10]:
        print(f"    {rel:15} {a} {b}")


def split_days(ids: Sequence[str], tiers: Mapping[Pair, str], seed: int) -> dict[str, date]:
    """Each article's run date: the two of every duplicate pair apart, the others at random.

    The duplicate pairs are 2-coloured component by component (which article of a pair goes
    first is drawn too); an odd cycle of duplicates cannot be split over two dates.
    """
    rng = random.Random(seed)
    graph: dict[str, set[str]] = defaultdict(set)
    for (a, b), tier in sorted(tiers.items()):
        if tier in DUPLICATE_TIERS:
            graph[a].add(b)
            graph[b].add(a)
    side: dict[str, int] = {}
    for start in sorted(ids):
        if start in side:
            continue
        side[start] = rng.randrange(2)
        todo = [start]
        while todo:
            x = todo.pop()
            for y in sorted(graph[x]):
                if y not in side:
                    side[y] = 1 - side[x]
                    todo.append(y)
                elif side[y] == side[x]:
                    raise ValueError(f"duplicates {x} and {y} close an odd cycle: not splittable")
    return {a: SPLIT_DAYS[s] for a, s in side.items()}


class DatedLinks:
    """What the views say after the runs of a dated input folder."""

    def __init__(self) -> None:
        self.links: dict[Pair, tuple[str, float, date, date]] = {}  # stems -> relation ...
        self.rows = 0  # rows of article_links, joined or not
        self.repeated: list[tuple[Pair, str]] = []  # a pair met again (in either order)
        self.stories: dict[str, str] = {}  # stem -> story id across dates
        self.days: dict[str, date] = {}  # stem -> run date of its article
        self.seconds: dict[date, float] = {}
        self.warnings: dict[date, tuple[str, ...]] = {}


def uri_stem(uri: str, day: date) -> str:
    """The file stem of a dated input's source_uri (`.../YYYY-MM-DD/business_001.txt`)."""
    path = Path(uri)
    if path.parent.name != day.isoformat():
        raise ValueError(f"{uri} is not under its run date's folder {day}")
    return path.stem


def run_dated(days: Mapping[date, Mapping[str, bytes]], order: Sequence[date]) -> DatedLinks:
    """Write `INPUT/YYYY-MM-DD/` folders, run the flow date by date in `order`, read the views."""
    out = DatedLinks()
    with tempfile.TemporaryDirectory() as tmp:
        inputs, warehouse = Path(tmp) / "in", Path(tmp) / "wh"
        for day, files in days.items():
            folder = inputs / day.isoformat()
            folder.mkdir(parents=True)
            for name, data in files.items():
                (folder / name).write_bytes(data)
        for day in order:
            started = time.perf_counter()
            summary = news_etl(input_dir=inputs, warehouse=warehouse, run_date=day)
            out.seconds[day] = time.perf_counter() - started
            out.warnings[day] = summary.warnings
        with query.connect(warehouse) as con:
            out.rows = con.execute("SELECT count(*) FROM article_links").fetchone()[0]
            rows = con.execute(
                "SELECT a.source_uri, a.run_date, b.source_uri, b.run_date, l.relation, l.score"
                " FROM article_links l"
                " JOIN articles a ON a.article_id = l.article_id AND a.run_date = l.run_date"
                " JOIN articles b ON b.article_id = l.other_article_id"
                " AND b.run_date = l.other_run_date"
                " ORDER BY ALL"
            ).fetchall()
            articles = con.execute("SELECT source_uri, run_date, story_id FROM articles").fetchall()
    for uri, day, story in articles:
        out.stories[uri_stem(uri, day)] = story
        out.days[uri_stem(uri, day)] = day
    for uri_a, day_a, uri_b, day_b, relation, score in rows:
        key = pair(uri_stem(uri_a, day_a), uri_stem(uri_b, day_b))
        if key in out.links:
            out.repeated.append((key, relation))
        out.links[key] = (relation, score, day_a, day_b)
    return out


def bench_split(data: Path, limit: int | None) -> None:
    """BBC duplicate pairs split across two run dates, beside one run of them on one date."""
    loaded = load_bbc(data, limit)
    if loaded is None:
        return
    started = time.perf_counter()
    articles, tiers = loaded
    ids = {a["id"].replace("/", "_"): a["id"] for a in articles}
    raw = {a["id"]: a["raw"].encode("utf-8") for a in articles}
    gold_dup = {p for p, t in tiers.items() if t in DUPLICATE_TIERS}
    day_of = split_days(sorted(raw), tiers, SPLIT_SEED)
    assert all(day_of[a] != day_of[b] for a, b in gold_dup)
    first, second = SPLIT_DAYS
    days = {d: {file_name(a): raw[a] for a in sorted(raw) if day_of[a] == d} for d in SPLIT_DAYS}
    print(
        f"bbc_news --split-dates  articles={len(articles)} gold pairs={len(tiers)}"
        f" {dict(Counter(tiers.values()))}  seed {SPLIT_SEED}:"
        f" {first} {len(days[first])} articles, {second} {len(days[second])};"
        f" all {len(gold_dup)} duplicate pairs split"
    )

    found, stories, written, seconds = run_links({file_name(a): raw[a] for a in sorted(raw)})
    base = {pair(ids[a], ids[b]): rel for (a, b), rel in found.items()}
    base_story = {ids[s]: story for s, story in stories.items()}
    print(f"  one date   {RUN_DATE}, all {written} articles: pipeline {seconds:.1f}s"
          f"  links={dict(Counter(base.values()))}")  # fmt: skip

    print(
        f"  split      {second} runs first, then {first}: the earlier date's run must find"
        " its links to the later date's committed articles and write them back under it"
    )
    dated = run_dated(days, [second, first])
    split = {pair(ids[a], ids[b]): v[0] for (a, b), v in dated.links.items()}
    detail = {pair(ids[a], ids[b]): v for (a, b), v in dated.links.items()}
    split_story = {ids[s]: story for s, story in dated.stories.items()}
    cross = Counter(rel for rel, _, da, db in dated.links.values() if da != db)
    within = Counter(rel for rel, _, da, db in dated.links.values() if da == db)
    per_day = Counter(dated.days.values())
    print(
        "             "
        + ", ".join(f"{d} {per_day[d]} articles {dated.seconds[d]:.1f}s" for d in (second, first))
        + f"  links: across dates {dict(cross)}, within a date {dict(within)}"
    )
    if dated.rows != len(dated.links) + len(dated.repeated):
        print(f"  !! article_links has {dated.rows} rows, {len(dated.links)} joined to articles")
    for key, relation in dated.repeated:
        print(f"  !! pair linked twice: {key} (again as {relation})")
    for d in (second, first):
        for warning in dated.warnings[d]:
            print(f"  run {d} warning: {warning}")

    print(f"  {'':52} {'one date':45} split dates")
    for (label, one), (_, two) in zip(measures(base, tiers), measures(split, tiers), strict=True):
        print(f"  {label:52} {one:45} {two}")
    for name, links in (("one date", base), ("split dates", split)):
        false = sorted((p, rel) for p, rel in links.items() if p not in tiers)
        print(f"  {name}: links between distinct stories: {len(false)}"
              f" {dict(Counter(rel for _, rel in false))}")  # fmt: skip
    together = [
        sum(story[a] == story[b] for a, b in sorted(gold_dup))
        for story in (base_story, split_story)
    ]
    print(f"  duplicate pairs in one story: one date {together[0]}/{len(gold_dup)},"
          f" split dates {together[1]}/{len(gold_dup)}")  # fmt: skip

    ours = {p for p, rel in split.items() if rel in DUPLICATE_RELATIONS}
    missed = sorted(gold_dup - ours)
    wrong = sorted(ours - gold_dup)
    print(f"  split dates: missed duplicate pairs {len(missed)}, duplicate links not in gold"
          f" {len(wrong)}")  # fmt: skip
    for a, b in missed:
        got = detail.get((a, b))
        said = f"{got[0]} {got[1]:.3f}" if got else "no link"
        print(f"    missed {tiers[a, b]:15} {a} ({day_of[a]}) {b} ({day_of[b]}): {said};"
              f" one date: {base.get((a, b), 'no link')}")  # fmt: skip
    for a, b in wrong:
        rel, score, _, _ = detail[a, b]
        print(f"    false  {rel:15} {score:.3f} {a} ({day_of[a]}) {b} ({day_of[b]}):"
              f" tier {tiers.get((a, b), 'none')}; one date: {base.get((a, b), 'no link')}")  # fmt: skip
    mismatched = sorted(p for p in gold_dup & ours if split[p] != base.get(p))
    for a, b in mismatched:
        print(f"    relation differs {a} {b}: split {split[a, b]}, one date {base.get((a, b))}")
    right = len(ours & gold_dup)
    p = right / len(ours) if ours else 1.0
    r = right / len(gold_dup) if gold_dup else 1.0
    verdict = "met" if p >= 0.95 and r >= 0.95 else "NOT met"
    print(f"  goal (split dates P and R >= 0.95): {verdict} (P {p:.3f} R {r:.3f})"
          f"  bench {time.perf_counter() - started:.0f}s")  # fmt: skip


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
    parser.add_argument(
        "--split-dates", action="store_true", help="BBC duplicate pairs split over two run dates"
    )
    args = parser.parse_args()
    if args.mixed:
        bench_mixed(args.data)
        return
    if args.split_dates:
        if args.data.is_dir():
            bench_split(args.data, args.limit)
        else:
            print(f"{args.data}: no data folder, skipped")
        return
    if args.data.is_dir():
        bench_bbc(args.data, args.limit)
    else:
        print(f"{args.data}: no data folder, skipped")
    bench_seeds(sorted(SEEDS.glob("0*.txt")))


if __name__ == "__main__":
    main()
