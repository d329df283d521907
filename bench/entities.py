"""Named-entity quality of the entities stage, CoNLL-2003 style, beside bare en_core_web_sm.

Usage: .venv/bin/python bench/entities.py [--conll FILE ...] [--data ../shared/data]

With `--conll`, each file is read as CoNLL-2003 (token first, NER tag last, IOB1 or IOB2,
`-DOCSTART-` between documents, a blank line between sentences); a document's text is its
tokens joined by spaces, a sentence per line. Without it, the text of the 24 BBC News
articles annotated by hand in `bench/bbc_entities.tsv` (our annotation, offsets only) is
read from `../shared/data/bbc_news`.

Scored: PER, ORG, LOC, MISC with exact character spans, micro precision/recall/F1 per type
and overall. spaCy labels map as PERSON->PER, ORG->ORG, GPE/LOC/FAC->LOC and
NORP/EVENT/WORK_OF_ART/LAW/LANGUAGE/PRODUCT->MISC; other labels are not entities. "ours" is
the entities stage (the pipeline's model with `known_names`, and the span rules of
`doc_mentions`); "bare" is the same model package without either.
"""

from __future__ import annotations

import argparse
import gzip
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import spacy

from tasks.entities.mentions import EntitySettings, doc_mentions
from tasks.nlp import pipeline as nlp

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
BBC_GOLD = Path(__file__).with_name("bbc_entities.tsv")
TYPES = ("PER", "ORG", "LOC", "MISC")
CONLL_TYPE = {
    "PERSON": "PER",
    "ORG": "ORG",
    **dict.fromkeys(("GPE", "LOC", "FAC"), "LOC"),
    **dict.fromkeys(("NORP", "EVENT", "WORK_OF_ART", "LAW", "LANGUAGE", "PRODUCT"), "MISC"),
}
Span = tuple[int, int, str]  # start, end, CoNLL type


@dataclass(frozen=True)
class Document:
    """A text and its gold entities."""

    name: str
    text: str
    gold: frozenset[Span]


def read_conll(path: Path) -> list[Document]:
    """Documents of a CoNLL-2003 file: tokens joined by spaces, a sentence per line."""
    docs: list[Document] = []
    sentences: list[list[tuple[str, str]]] = [[]]

    def flush() -> None:
        if any(sentences):
            docs.append(_document(f"{path.name}#{len(docs)}", [s for s in sentences if s]))
        sentences[:] = [[]]

    for line in path.read_text(encoding="utf-8").splitlines():
        cols = line.split()
        if not cols:
            sentences.append([])
        elif cols[0] == "-DOCSTART-":
            flush()
        else:
            sentences[-1].append((cols[0], cols[-1]))
    flush()
    return docs


def _document(name: str, sentences: Sequence[Sequence[tuple[str, str]]]) -> Document:
    """One document's text and gold spans from its tagged tokens."""
    lines, gold = [], set()
    offset = 0
    for sentence in sentences:
        line = ""
        open_: tuple[int, str] | None = None
        last_end = 0
        for token, tag in sentence:
            start = offset + len(line) + (1 if line else 0)
            line = f"{line} {token}" if line else token
            kind = tag[2:] if len(tag) > 2 else None
            # IOB1 starts an entity with I- after O or another type; B- always starts one.
            if open_ is not None and (tag == "O" or tag.startswith("B-") or kind != open_[1]):
                gold.add((open_[0], last_end, open_[1]))
                open_ = None
            if kind in TYPES and open_ is None:
                open_ = (start, kind)
            last_end = start + len(token)
        if open_ is not None:
            gold.add((open_[0], last_end, open_[1]))
        lines.append(line)
        offset += len(line) + 1
    return Document(name, "\n".join(lines), frozenset(gold))


def read_bbc(data: Path) -> list[Document]:
    """The hand-annotated BBC News articles (offsets in bench/bbc_entities.tsv)."""
    path = data / "bbc_news" / "articles.jsonl.gz"
    if not path.is_file() or not BBC_GOLD.is_file():
        return []
    rows = [line.rstrip("\n").split("\t") for line in BBC_GOLD.open(encoding="utf-8")]
    spans: dict[str, set[Span]] = {}
    for r in [r for r in rows if not r[0].startswith("#")][1:]:
        spans.setdefault(r[0], set()).add((int(r[1]), int(r[2]), r[3]))
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        articles = {a["id"]: a for a in map(json.loads, fh) if a["id"] in spans}
    return [
        Document(k, f"{a['title']}\n\n{a['body'].strip()}", frozenset(spans[k]))
        for k, a in sorted(articles.items())
    ]


def ours(docs: Sequence[Document]) -> list[frozenset[Span]]:
    """Spans of the entities stage: pipeline model, known_names, span rules, every label."""
    settings = replace(EntitySettings(), labels=tuple(CONLL_TYPE))
    with nlp.parsed([d.text for d in docs], settings.model, settings.pipe_batch_size) as parsed:
        return [
            frozenset(
                (m.start_char, m.end_char, CONLL_TYPE[m.label])
                for m in doc_mentions("", p, settings)
            )
            for p in parsed
        ]


def bare(docs: Sequence[Document]) -> list[frozenset[Span]]:
    """Spans of the bare model package: its own NER, labels mapped, nothing else."""
    model = spacy.load(EntitySettings().model)
    return [
        frozenset(
            (e.start_char, e.end_char, CONLL_TYPE[e.label_])
            for e in p.ents
            if e.label_ in CONLL_TYPE
        )
        for p in model.pipe(d.text for d in docs)
    ]


def report(name: str, docs: Sequence[Document], predicted: Iterable[frozenset[Span]]) -> None:
    """Micro P/R/F1 per type and overall."""
    right: Counter[str] = Counter()
    found: Counter[str] = Counter()
    gold: Counter[str] = Counter()
    for doc, pred in zip(docs, predicted, strict=True):
        right.update(s[2] for s in pred & doc.gold)
        found.update(s[2] for s in pred)
        gold.update(s[2] for s in doc.gold)
    cells = []
    for kind in (*TYPES, "all"):
        r = sum(right.values()) if kind == "all" else right[kind]
        f = sum(found.values()) if kind == "all" else found[kind]
        g = sum(gold.values()) if kind == "all" else gold[kind]
        p, rc = (r / f if f else 0.0), (r / g if g else 0.0)
        f1 = 2 * p * rc / (p + rc) if p + rc else 0.0
        cells.append(f"{kind} P {p:.3f} R {rc:.3f} F1 {f1:.3f}")
    print(f"  {name:5} " + " | ".join(cells))


def main() -> None:
    """Score the entities stage on CoNLL files, or on the annotated BBC News articles."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conll", type=Path, nargs="*", default=[])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    sets = {str(p): read_conll(p) for p in args.conll} or {
        "bbc_news (our annotation)": read_bbc(args.data)
    }
    for name, docs in sets.items():
        if not docs:
            print(f"{name}: no documents (data absent), skipped")
            continue
        print(f"{name}  documents={len(docs)} gold entities={sum(len(d.gold) for d in docs)}")
        report("ours", docs, ours(docs))
        report("bare", docs, bare(docs))


if __name__ == "__main__":
    main()
