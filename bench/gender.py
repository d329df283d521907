"""Speaker gender of the real pipeline, scored on named PolNeAR speakers annotated by hand.

Usage: .venv/bin/python bench/gender.py [--data ../shared/data] [--dump FILE]

`bench/data/gender_speakers.tsv` holds the speakers of PolNeAR's direct quotes in the first
220 development articles (by id), each labelled by reading the article: `female` or `male`
with the words that tell it (a pronoun, an honorific, a role word; `known_person` for public
figures the text gives nothing on), `unknown` where neither says. No prediction was looked at.

The annotated articles run once through `news_etl`; each annotated person is found among
the article's entity mentions by surname. Two answers are scored on the people labelled
female or male:
- `quotes.speaker_gender` of the article's quotes attributed to that person (the gender as
  the article tells it), over the people we attributed a quote to;
- `entities.gender` of that person in the run (the run's quotes agree, else the first name).
Coverage is the share of labelled people given a gender, accuracy the share of those given
right. The baseline, run in the same process, is the first name alone (gender-guesser's
table, as name-based tools do). Rows labelled `unknown` count how often each answer still
gives a gender where the text does not tell one (it may be right: it cannot be checked).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from flowrun import flow_run

from tasks.lexicon import people
from tasks.lexicon.people import first_name_gender
from tasks.text.keys import normalize_name

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
ANNOTATION = Path(__file__).with_name("data") / "gender_speakers.tsv"


@dataclass(frozen=True)
class Gold:
    """One annotated speaker of one article."""

    article: str
    name: str
    gender: str
    evidence: str


def load_gold(path: Path = ANNOTATION) -> list[Gold]:
    """The hand annotation."""
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return [Gold(r["article_id"], r["name"], r["gender"], r["evidence"]) for r in rows]


def surname(name: str) -> str:
    """A name's surname key ("biden" of "Joseph R. Biden Jr."), or a lone name's key."""
    key = normalize_name(name)
    return people.surname(key) or key


@dataclass
class Score:
    """Coverage and accuracy of one answer on the labelled people."""

    labelled: int = 0
    answered: int = 0
    right: int = 0
    unknown_rows: int = 0
    unknown_answered: int = 0

    def add(self, gold: Gold, answer: str | None) -> None:
        """Count one person's answer (None or "unknown": no answer)."""
        given = answer in ("female", "male")
        if gold.gender == "unknown":
            self.unknown_rows += 1
            self.unknown_answered += given
            return
        self.labelled += 1
        self.answered += given
        self.right += given and answer == gold.gender

    def line(self, name: str) -> str:
        """One printed line."""
        cov = self.answered / self.labelled if self.labelled else 0.0
        acc = self.right / self.answered if self.answered else 0.0
        return (
            f"{name:<44} accuracy {acc:.3f} ({self.right}/{self.answered})  coverage {cov:.3f}"
            f" ({self.answered}/{self.labelled})  on unknown rows {self.unknown_answered}/"
            f"{self.unknown_rows}"
        )


def main() -> None:
    """Run the annotated articles through the flow and print the scores."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--dump", type=Path, help="Write one JSON line per annotated person.")
    args = parser.parse_args()
    path = args.data / "polnear" / "articles.jsonl.gz"
    if not path.is_file():
        print(f"skipped: {path} not found")
        return
    gold = load_gold()
    wanted = {g.article for g in gold}
    with gzip.open(path, "rt", encoding="utf-8") as f:
        texts = {a["id"]: a["text"] for a in map(json.loads, f) if a["id"] in wanted}
    files = {f"{aid}.txt": text.encode("utf-8") for aid, text in texts.items()}
    with flow_run(files) as (con, seconds):
        uris = dict(con.execute("SELECT article_id, source_uri FROM articles").fetchall())
        ids = {
            aid: unquote(uri.rsplit("/", 1)[-1]).removesuffix(".txt") for aid, uri in uris.items()
        }
        mentions = con.execute(
            "SELECT article_id, entity_id, text FROM entity_mentions WHERE label = 'PERSON'"
        ).fetchall()
        quotes = con.execute(
            "SELECT article_id, speaker_entity_id, speaker_gender FROM quotes"
            " WHERE speaker_entity_id IS NOT NULL"
        ).fetchall()
        genders = dict(con.execute("SELECT entity_id, gender FROM entities").fetchall())
    by_surname: dict[tuple[str, str], Counter[str]] = {}
    for aid, eid, text in mentions:
        by_surname.setdefault((ids[aid], surname(text)), Counter())[eid] += 1
    said: dict[tuple[str, str], Counter[str]] = {}
    for aid, eid, gender in quotes:
        said.setdefault((ids[aid], eid), Counter())[gender] += 1

    scores = {k: Score() for k in ("quote", "quoted_entity", "entity", "baseline")}
    dump = []
    for g in gold:
        found = by_surname.get((g.article, surname(g.name)))
        eid = found.most_common(1)[0][0] if found else None
        told = said.get((g.article, eid)) if eid else None
        quote_gender = told.most_common(1)[0][0] if told else None
        first = g.name.split()[0] if len(g.name.split()) > 1 else ""
        answers = {
            "quote": quote_gender,
            "entity": genders.get(eid) if eid else None,
            "baseline": first_name_gender(first) if first else None,
        }
        scores["quote"].add(g, quote_gender)
        if told:  # the people we attributed a quote to: accuracy of the column itself
            scores["quoted_entity"].add(g, quote_gender)
        scores["entity"].add(g, answers["entity"])
        scores["baseline"].add(g, answers["baseline"])
        dump.append({**g.__dict__, "entity_id": eid, **answers})
    print(f"{len(gold)} annotated speakers in {len(texts)} PolNeAR articles; flow {seconds:.1f} s")
    print(scores["baseline"].line("baseline: first name alone"))
    print(scores["quote"].line("quotes.speaker_gender (all labelled people)"))
    print(scores["quoted_entity"].line("quotes.speaker_gender (people we quote)"))
    print(scores["entity"].line("entities.gender"))
    if args.dump:
        args.dump.write_text("".join(json.dumps(d) + "\n" for d in dump), encoding="utf-8")


if __name__ == "__main__":
    main()
