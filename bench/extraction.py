"""Boilerplate removal through the real pipeline, scored as the source benchmarks score it.

Usage: .venv/bin/python bench/extraction.py [--data ../shared/data] [--limit N]

For each dataset it writes the pages into a temp input folder, runs `news_etl` into a
temp warehouse, reads `articles` back through DuckDB, and prints our score beside
bare trafilatura (default `extract`) measured in the same process. Skips what is absent.
On trafilatura_eval it also scores metadata on the pages whose gold has the field: title
exact match, publication day (`published_date`, the outlet's own calendar day) and author
(as a set of names), beside `trafilatura.bare_extraction`'s title, date and author.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import trafilatura
from flowrun import flow_run

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Scores:
    """Precision, recall and F1 of one system on one dataset."""

    precision: float
    recall: float
    f1: float


def shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    """Multiset of word n-grams (`\\w+` tokens), as the benchmark counts them."""
    tokens = WORD.findall(text)
    return Counter(tuple(tokens[i : i + n]) for i in range(max(len(tokens) - n + 1, 0)))


def shingle_scores(pairs: Iterable[tuple[str, str]]) -> Scores:
    """article-extraction-benchmark metric: macro P/R over documents of shingle TP/FP/FN."""
    precisions, recalls = [], []
    for gold, pred in pairs:
        g, p = shingles(gold), shingles(pred)
        if not g and not p:
            precisions.append(1.0)
            recalls.append(1.0)
            continue
        tp = sum((g & p).values())
        fp = sum((p - g).values())
        fn = sum((g - p).values())
        if p:
            precisions.append(tp / (tp + fp))
        if g:
            recalls.append(tp / (tp + fn))
    prec = sum(precisions) / max(len(precisions), 1)
    rec = sum(recalls) / max(len(recalls), 1)
    return Scores(prec, rec, 2 * prec * rec / (prec + rec) if prec + rec else 0.0)


def _ws(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def snippet_scores(items: Iterable[tuple[list[str], list[str], str | None]]) -> Scores:
    """trafilatura evaluation metric: `with` snippets found are TP, `without` found are FP."""
    tp = fp = fn = 0
    for with_, without, output in items:
        out = _ws(output) if output else None
        for s in with_:
            if out is not None and _ws(s) in out:
                tp += 1
            else:
                fn += 1
        fp += sum(1 for s in without if out is not None and _ws(s) in out)
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    return Scores(prec, rec, 2 * tp / (2 * tp + fp + fn) if tp else 0.0)


Row = dict[str, str | None]


def run_pipeline(files: dict[str, bytes]) -> tuple[dict[str, Row], float]:
    """Run the real flow on the given input files; article fields by input name, and seconds."""
    with flow_run(files) as (con, seconds):
        rows = con.execute(
            "SELECT source_uri, body, title, CAST(published_date AS VARCHAR), author FROM articles"
        ).fetchall()
    fields = ("body", "title", "date", "author")
    return {uri: dict(zip(fields, rest, strict=True)) for uri, *rest in rows}, seconds


def bodies_of(rows: dict[str, Row]) -> dict[str, str]:
    """The article body of each input."""
    return {uri: row["body"] or "" for uri, row in rows.items()}


def bare(html: str | bytes) -> str:
    """Bare trafilatura 2.x with default settings."""
    return trafilatura.extract(html) or ""


def report(
    name: str,
    ours: Scores,
    base: Scores,
    n: int,
    seconds: float,
    baseline: str = "bare trafilatura",
) -> None:
    """Print one dataset's line: our figures, the baseline's, and the pipeline's wall time."""
    print(
        f"{name:<34} n={n:<4} newsetl P {ours.precision:.3f} R {ours.recall:.3f} F1 {ours.f1:.3f}"
        f"  | {baseline} P {base.precision:.3f} R {base.recall:.3f} F1 {base.f1:.3f}"
        f"  | pipeline {seconds:.1f}s"
    )


def bench_aeb(data: Path, limit: int | None) -> None:
    """article_extraction_benchmark: HTML pages and gold article bodies."""
    folder = data / "article_extraction_benchmark"
    if not folder.is_dir():
        print("article_extraction_benchmark: absent, skipped")
        return
    gold: dict[str, dict[str, str]] = json.loads((folder / "ground-truth.json").read_text())
    ids = sorted(gold)[:limit]
    files = {f"{i}.html.gz": (folder / "html" / f"{i}.html.gz").read_bytes() for i in ids}
    rows, seconds = run_pipeline(files)
    bodies = bodies_of(rows)
    ours = shingle_scores((gold[i]["articleBody"], bodies.get(f"{i}.html.gz", "")) for i in ids)
    base = shingle_scores(
        (
            gold[i]["articleBody"],
            bare(gzip.decompress(files[f"{i}.html.gz"]).decode("utf-8", "replace")),
        )
        for i in ids
    )
    report("article_extraction_benchmark", ours, base, len(ids), seconds)


def bench_traf(data: Path, limit: int | None) -> None:
    """trafilatura_eval: HTML pages with must-contain / must-not-contain snippets."""
    folder = data / "trafilatura_eval"
    if not folder.is_dir():
        print("trafilatura_eval: absent, skipped")
        return
    evaldata: dict[str, dict[str, object]] = json.loads((folder / "evaldata.json").read_text())
    keys = sorted(evaldata)[:limit]
    names = {k: f"{n:04d}.html.gz" for n, k in enumerate(keys)}
    files = {names[k]: (folder / str(evaldata[k]["html_file"])).read_bytes() for k in keys}
    rows, seconds = run_pipeline(files)
    bodies = bodies_of(rows)

    def items(get: Callable[[str], str | None]) -> list[tuple[list[str], list[str], str | None]]:
        return [(list(evaldata[k]["with"]), list(evaldata[k]["without"]), get(k)) for k in keys]

    ours = snippet_scores(items(lambda k: bodies.get(names[k])))
    base = snippet_scores(items(lambda k: bare(gzip.decompress(files[names[k]]))))
    report("trafilatura_eval", ours, base, len(keys), seconds)
    bare_meta = {k: bare_metadata(gzip.decompress(files[names[k]])) for k in keys}
    for field in ("title", "date", "author"):
        gold = {k: v for k in keys if (v := gold_value(evaldata[k].get(field)))}
        if not gold:
            continue  # a --limit sample may hold no page with this field
        same = SAME[field]
        hits = sum(same(rows.get(names[k], {}).get(field), v) for k, v in gold.items())
        base_hits = sum(same(bare_meta[k].get(field), v) for k, v in gold.items())
        print(
            f"  metadata {field:<7} n={len(gold):<4} newsetl {hits / len(gold):.3f}"
            f"  | bare trafilatura {base_hits / len(gold):.3f}"
        )


def bare_metadata(html: bytes) -> Row:
    """Title, date and author of `trafilatura.bare_extraction` with metadata."""
    doc = trafilatura.bare_extraction(html, with_metadata=True)
    return {f: getattr(doc, f, None) for f in ("title", "date", "author")}


def gold_value(value: object) -> str | None:
    """A gold metadata value as one string (author lists joined by "; "), None when empty."""
    if isinstance(value, list):
        value = "; ".join(str(v) for v in value)
    return (value.strip() or None) if isinstance(value, str) else None


FOLD = str.maketrans(
    {**dict.fromkeys("„“”«»", '"'), **dict.fromkeys("‚‘’‹›", "'"), "–": "-", "—": "-"}
)


def fold(text: str | None) -> str:
    """Compare form: NFKC, no soft hyphens, one quote and dash style, single spaces."""
    text = unicodedata.normalize("NFKC", text or "").replace("\u00ad", "")
    return " ".join(text.translate(FOLD).split())


def author_names(text: str | None) -> set[str]:
    """The set of author names in a string ("A; B", "A and B", "A, B"), case-folded."""
    parts = re.split(r";|,| and | und | & ", text or "")
    return {fold(p).casefold() for p in parts if p.strip()}


SAME: dict[str, Callable[[str | None, str], bool]] = {
    "title": lambda ours, gold: bool(ours) and fold(ours) == fold(gold),
    "date": lambda ours, gold: bool(ours) and (ours or "")[:10] == gold[:10],
    "author": lambda ours, gold: bool(ours) and author_names(ours) == author_names(gold),
}


def bench_plaintext(data: Path, limit: int | None) -> None:
    """plaintext_boilerplate: full visible page text with boilerplate lines, scored both ways."""
    path = data / "plaintext_boilerplate" / "items.jsonl.gz"
    if not path.is_file():
        print("plaintext_boilerplate: absent, skipped")
        return
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        items = sorted((json.loads(line) for line in fh), key=lambda x: x["id"])[:limit]
    names = {x["id"]: f"{n:04d}.txt" for n, x in enumerate(items)}
    rows, seconds = run_pipeline({names[x["id"]]: x["page_text"].encode() for x in items})
    bodies = bodies_of(rows)
    aeb = [x for x in items if "gold_article_body" in x]
    traf = [x for x in items if "gold_with" in x]
    ours = shingle_scores((x["gold_article_body"], bodies.get(names[x["id"]], "")) for x in aeb)
    keep_all = shingle_scores((x["gold_article_body"], x["page_text"]) for x in aeb)
    report("plaintext (aeb gold, shingles)", ours, keep_all, len(aeb), seconds, "page kept whole")
    ours = snippet_scores(
        (x["gold_with"], x["gold_without"], bodies.get(names[x["id"]])) for x in traf
    )
    keep_all = snippet_scores((x["gold_with"], x["gold_without"], x["page_text"]) for x in traf)
    report("plaintext (traf gold, snippets)", ours, keep_all, len(traf), seconds, "page kept whole")
    print(
        "  (plaintext baseline column: the page text kept whole; no public tool takes this input)"
    )


def main() -> None:
    """Run every available dataset."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=None, help="items per dataset (default: all)")
    args = parser.parse_args()
    bench_aeb(args.data, args.limit)
    bench_traf(args.data, args.limit)
    bench_plaintext(args.data, args.limit)


if __name__ == "__main__":
    main()
