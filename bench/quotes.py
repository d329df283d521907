"""Direct-quote extraction and speaker attribution of the real pipeline, scored on PolNeAR.

Usage: .venv/bin/python bench/quotes.py [--data ../shared/data] [--limit N] [--dump FILE]

Each PolNeAR article's text goes to a temp input folder as `<id>.txt`; `news_etl` runs once
into a temp warehouse and `articles` and `quotes` are read back through DuckDB. Quote offsets
refer to the cleaned `articles.body`, so every predicted part is mapped back into the PolNeAR
text by searching its normalized text. Gold quotes are the `direct` attributions (content
without its quote marks); a prediction inside a `mixed` attribution that matches no direct
gold is neutral. Quotes are matched one-to-one by coverage of the gold characters (at 80%
and 30%); speaker accuracy is measured on the pairs matched at 30%. PolNeAR gives no
coreference, so a pronoun or nominal gold source ("he", "the ministry") is resolved to its
"nearest preceding named antecedent" two ways, each agreeing in gender when an honorific or a
listed first name tells ("she" is not "Mr. Smith"):
- nearest entity: the nearest preceding spaCy entity of a fitting label outside any
  attribution's content (a name inside quoted or reported speech is not an antecedent);
- nearest named source: the nearest preceding source of PolNeAR's own attributions (any
  kind of speech) that holds a fitting entity, i.e. the speaker chain the annotators marked.
Both are blind guesses at what the pronoun refers to, so a third figure scores the sampled
pronoun and nominal sources whose referent was resolved by hand from the text
(our annotation: `bench/polnear_antecedents.tsv`, 60 read while developing the resolver, and
`bench/polnear_antecedents_check.tsv`, 100 more held out from it and resolved without seeing
any prediction) and extrapolates the overall accuracy from that rate and the named sources.
`--dump FILE` writes one JSON line per gold and per false positive, for error analysis.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from flowrun import flow_run
from spacy.tokens import Doc

from tasks.entities.mentions import EntitySettings
from tasks.lexicon.people import first_name_gender
from tasks.nlp import pipeline as nlp

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
# Hand-resolved referents: a sample read while developing, and a larger one held out from it.
HAND_SAMPLES = {
    "development sample": Path(__file__).with_name("polnear_antecedents.tsv"),
    "held-out sample": Path(__file__).with_name("polnear_antecedents_check.tsv"),
}
THRESHOLDS = (0.8, 0.3)
SPEAKER_THRESHOLD = 0.3  # speakers are scored on the pairs matched at this coverage
MIN_PREFIX = 20  # shortest normalized prefix accepted when a part is not found whole
QUOTE_CHARS = "\"'“”„‟«»″‘’‚‛‹›′"
FOLD = str.maketrans(
    {
        **dict.fromkeys('“”„‟«»"″', '"'),
        **dict.fromkeys("‘’‚‛‹›′", "'"),
        "–": "-",
        "—": "-",
    }
)

# Labels an antecedent may carry, by the kind of pronoun or nominal that refers to it.
PERSON = frozenset({"PERSON"})
ORG = frozenset({"ORG", "GPE"})
ANY = frozenset({"PERSON", "ORG", "GPE", "NORP"})
PRONOUN_LABELS: dict[str, frozenset[str]] = {
    **dict.fromkeys(("he", "him", "his", "himself", "she", "her", "hers", "herself"), PERSON),
    **dict.fromkeys(("i", "me", "my", "you", "your"), PERSON),
    **dict.fromkeys(("it", "its", "itself"), ORG),
    **dict.fromkeys(("they", "them", "their", "themselves", "we", "us", "our"), ANY),
}
# An antecedent agrees with its pronoun: "she" is never the man named last.
MALE = frozenset({"he", "him", "his", "himself"})
FEMALE = frozenset({"she", "her", "hers", "herself"})
HONORIFIC_GENDER = {"mr": "male", "mrs": "female", "ms": "female", "miss": "female"}
DETERMINERS = frozenset({"the", "a", "an", "this", "that", "these", "those", "another", "one"})
PERSON_NOUNS = frozenset(
    {
        "official", "spokesman", "spokeswoman", "spokesperson", "senator", "president", "candidate",
        "governor", "congressman", "congresswoman", "lawmaker", "representative", "secretary",
        "aide", "adviser", "advisor", "director", "chairman", "chairwoman", "leader", "nominee",
        "speaker", "mayor", "man", "woman", "businessman", "billionaire", "host", "lawyer",
        "attorney", "manager", "strategist", "pollster", "analyst", "operative", "frontrunner",
        "front-runner", "developer", "executive", "reporter", "author", "politician", "minister",
        "ambassador", "judge", "source", "friend",
    }
)  # fmt: skip
ORG_NOUNS = frozenset(
    {
        "ministry", "department", "statement", "campaign", "agency", "company", "government",
        "administration", "committee", "office", "house", "party", "group", "organization",
        "organisation", "firm", "network", "newspaper", "paper", "report", "release", "website",
        "site", "court", "council", "commission", "board", "union", "association", "foundation",
        "bureau", "service", "institute",
    }
)  # fmt: skip
# Leading words dropped before comparing names: titles, honorifics, articles.
TITLES = frozenset(
    {
        "mr", "mrs", "ms", "miss", "dr", "prof", "professor", "sen", "senator", "rep",
        "representative", "gov", "governor", "president", "vice", "secretary", "gen", "general",
        "former", "the", "a", "an", "sir", "lady", "lord", "rev", "judge", "justice", "mayor",
        "congressman", "congresswoman", "candidate",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Normalized:
    """Text in compare form, with the raw offset of every one of its characters."""

    text: str
    raw_index: tuple[int, ...]


@dataclass(frozen=True)
class Gold:
    """One PolNeAR attribution: its content characters and its source."""

    article: str
    kind: str  # "direct" or "mixed"
    text: str
    chars: frozenset[int]
    source: str | None
    source_start: int | None
    source_end: int | None
    no_source: bool


@dataclass
class Pred:
    """One predicted quote, with its parts mapped into the PolNeAR text."""

    article: str
    text: str
    speaker: str | None
    speaker_mention: str | None
    speaker_type: str | None
    parts: list[str]
    chars: set[int] = field(default_factory=set)
    parts_unmapped: int = 0
    parts_prefix: int = 0


@dataclass(frozen=True)
class Scores:
    """Precision, recall and F1 of quote matching at one threshold."""

    precision: float
    recall: float
    f1: float
    neutral: int


@dataclass(frozen=True)
class Source:
    """One attribution's source span in the PolNeAR text."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class SpeakerCase:
    """What a gold's speaker is checked against."""

    named: bool  # the source names someone rather than being a pronoun or nominal
    nearest: str | None  # the nearest fitting entity before a pronoun or nominal source
    chained: str | None  # the nearest fitting named source before it
    accepted: tuple[str, ...]  # names a predicted speaker may match besides an antecedent


# ---------------------------------------------------------------- text normalization


def fold_char(ch: str) -> str:
    """One raw character in compare form: folded quotes/dashes, NFKC, format chars dropped."""
    if unicodedata.category(ch) == "Cf":  # soft hyphens, zero-width spaces: invisible
        return ""
    return unicodedata.normalize("NFKC", ch.translate(FOLD)).translate(FOLD)


def normalize(raw: str) -> Normalized:
    """Compare form of a text with a map back to raw offsets; whitespace runs become one space."""
    chars: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(raw):
        for c in fold_char(ch):
            if c.isspace():
                if not chars or chars[-1] == " ":
                    continue
                c = " "
            chars.append(c)
            index.append(i)
    return Normalized("".join(chars), tuple(index))


def find(haystack: str, needle: str, cursor: int) -> int:
    """Position of needle, looking first after the cursor, then from the start."""
    pos = haystack.find(needle, cursor)
    return pos if pos >= 0 else haystack.find(needle)


def locate(haystack: str, needle: str, cursor: int) -> tuple[int, int, bool]:
    """Normalized [start, end) of needle or of its longest found prefix, and whether whole."""
    pos = find(haystack, needle, cursor)
    if pos >= 0:
        return pos, pos + len(needle), True
    # A found prefix stays found when shortened, so the longest one is a binary search.
    lo, hi, best = MIN_PREFIX, len(needle) - 1, (-1, -1)
    while lo <= hi:
        mid = (lo + hi) // 2
        pos = find(haystack, needle[:mid], cursor)
        if pos >= 0:
            best, lo = (pos, pos + mid), mid + 1
        else:
            hi = mid - 1
    return best[0], best[1], False


def map_preds(preds: Sequence[Pred], raw: Normalized) -> None:
    """Give each prediction of one article its raw characters, in order of appearance."""
    cursor = 0
    for pred in preds:
        for part in pred.parts:
            needle = normalize(part).text.strip()
            start, end, whole = locate(raw.text, needle, cursor) if needle else (-1, -1, False)
            if start < 0:
                pred.parts_unmapped += 1
                continue
            pred.parts_prefix += not whole
            pred.chars.update(range(raw.raw_index[start], raw.raw_index[end - 1] + 1))
            cursor = end


# ---------------------------------------------------------------- gold


def content_chars(fragments: Iterable[dict[str, Any]], text: str) -> frozenset[int]:
    """Characters of content fragments without their quote marks and surrounding spaces."""
    chars: set[int] = set()
    for frag in fragments:
        start, end = frag["start"], frag["end"]
        while start < end and (text[start] in QUOTE_CHARS or text[start].isspace()):
            start += 1
        while end > start and (text[end - 1] in QUOTE_CHARS or text[end - 1].isspace()):
            end -= 1
        chars.update(range(start, end))
    return frozenset(chars)


def golds_of(article: dict[str, Any]) -> list[Gold]:
    """The direct and mixed attributions of one article that have content."""
    golds = []
    for att in article["attributions"]:
        kind, content = att.get("quote_kind"), att.get("content")
        if kind not in ("direct", "mixed") or not content:
            continue
        source = att.get("source") or []
        golds.append(
            Gold(
                article=article["id"],
                kind=kind,
                text=" … ".join(frag["text"] for frag in content),
                chars=content_chars(content, article["text"]),
                source=" ".join(frag["text"] for frag in source) or None,
                source_start=min((frag["start"] for frag in source), default=None),
                source_end=max((frag["end"] for frag in source), default=None),
                no_source=bool(att.get("no_source")),
            )
        )
    return golds


def load_articles(path: Path, limit: int | None) -> list[dict[str, Any]]:
    """PolNeAR articles sorted by id, the first `limit` of them."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return sorted((json.loads(line) for line in fh), key=lambda a: a["id"])[:limit]


# ---------------------------------------------------------------- pipeline


def run_pipeline(articles: Sequence[dict[str, Any]]) -> tuple[list[Pred], int, float]:
    """Run the real flow on the articles; predictions, articles written, and seconds."""
    files = {f"{art['id']}.txt": art["text"].encode("utf-8") for art in articles}
    with flow_run(files) as (con, seconds):
        rows = con.execute("SELECT article_id, source_uri, body FROM articles").fetchall()
        quotes = con.execute(
            "SELECT article_id, text, start_char, end_char, speaker, speaker_mention, spans,"
            " speaker_type FROM quotes ORDER BY article_id, start_char"
        ).fetchall()
    # The PolNeAR id is the input file's stem, the last segment of the source URI.
    ids = {aid: unquote(uri.rsplit("/", 1)[-1]).removesuffix(".txt") for aid, uri, _ in rows}
    bodies = {aid: body or "" for aid, _, body in rows}
    preds = [pred_of(ids[q[0]], bodies[q[0]], *q[1:]) for q in quotes if q[0] in ids]
    return preds, len(rows), seconds


def pred_of(
    article: str,
    body: str,
    text: str,
    start: int,
    end: int,
    speaker: str | None,
    mention: str | None,
    spans: list[dict[str, int]] | None,
    speaker_type: str | None,
) -> Pred:
    """A quote row as a prediction whose parts are body text (one part without `spans`)."""
    bounds = [(s["start_char"], s["end_char"]) for s in spans] if spans else [(start, end)]
    parts = [body[s:e] for s, e in sorted(bounds)]
    return Pred(article, text, speaker, mention, speaker_type, parts)


# ---------------------------------------------------------------- matching


def coverage(pred: Pred, gold: Gold) -> float:
    """Share of the gold's characters the prediction covers."""
    return len(pred.chars & gold.chars) / len(gold.chars) if gold.chars else 0.0


def candidates(preds: Sequence[Pred], golds: Sequence[Gold]) -> list[tuple[float, int, int]]:
    """(coverage, pred index, gold index) of every overlapping pair within an article."""
    by_article: dict[str, list[int]] = defaultdict(list)
    for g, gold in enumerate(golds):
        by_article[gold.article].append(g)
    pairs = []
    for p, pred in enumerate(preds):
        for g in by_article[pred.article]:
            if (cov := coverage(pred, golds[g])) > 0:
                pairs.append((cov, p, g))
    return pairs


def assign(pairs: Iterable[tuple[float, int, int]], threshold: float) -> dict[int, int]:
    """Greedy one-to-one assignment, best coverage first; gold index -> pred index."""
    matched: dict[int, int] = {}
    used: set[int] = set()
    for cov, p, g in sorted(pairs, key=lambda x: (-x[0], x[1], x[2])):
        if cov >= threshold and p not in used and g not in matched:
            matched[g] = p
            used.add(p)
    return matched


def neutral_preds(preds: Sequence[Pred], mixed: Sequence[Gold], matched: Iterable[int]) -> set[int]:
    """Unmatched predictions inside mixed speech: partial quotes PolNeAR files as mixed."""
    chars: dict[str, set[int]] = defaultdict(set)
    for gold in mixed:
        chars[gold.article] |= gold.chars
    taken = set(matched)
    return {
        p
        for p, pred in enumerate(preds)
        if p not in taken and pred.chars & chars.get(pred.article, set())
    }


def scores(n_preds: int, n_golds: int, matched: dict[int, int], neutral: int) -> Scores:
    """Precision over non-neutral predictions, recall over golds."""
    prec = len(matched) / (n_preds - neutral) if n_preds > neutral else 0.0
    rec = len(matched) / n_golds if n_golds else 0.0
    return Scores(prec, rec, 2 * prec * rec / (prec + rec) if prec + rec else 0.0, neutral)


# ---------------------------------------------------------------- speakers


def fold_name(name: str) -> list[str]:
    """Name tokens: case and accents folded, no possessive, no punctuation, no leading titles."""
    text = unicodedata.normalize("NFKD", name.casefold().translate(FOLD))
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"'s\b", "", text)
    tokens = re.sub(r"[^\w\s-]", " ", text).split()
    start = 0
    while start < len(tokens) and tokens[start] in TITLES:
        start += 1
    # "the president" is a title only: keep it whole rather than compare nothing.
    return tokens[start:] or tokens


def names_match(a: str | None, b: str | None) -> bool:
    """Same name: equal, same surname, or every token of the shorter inside the longer."""
    if a is None or b is None:
        return False
    ta, tb = fold_name(a), fold_name(b)
    if not ta or not tb:
        return False
    short, long_ = sorted((ta, tb), key=len)
    return ta == tb or ta[-1] == tb[-1] or set(short) <= set(long_)


def source_labels(source: str) -> frozenset[str] | None:
    """Antecedent labels for a pronoun or nominal source; None when the source is a name."""
    words = re.findall(r"[\w’'.-]+", source)
    if not words:
        return None
    first = words[0].casefold()
    if first in PRONOUN_LABELS and len(words) == 1:
        return PRONOUN_LABELS[first]
    # A determiner and a common-noun head make a description whatever capitals come between
    # ("the Vermont senator", "the Republican presidential candidate"); "the White House" is
    # an organisation nominal despite its capitals.
    described = first in DETERMINERS and words[-1].islower()
    later_caps = any(w[:1].isupper() for w in words[1:]) and source.casefold() != "the white house"
    if not described and (
        later_caps or (words[0][:1].isupper() and first not in DETERMINERS | set(PRONOUN_LABELS))
    ):
        return None
    head = re.sub(r"['’]s$", "", words[-1].casefold())
    if head in PERSON_NOUNS:
        return PERSON
    if head in ORG_NOUNS:
        return ORG
    return ANY


def antecedent(
    doc: Doc, before: int, labels: frozenset[str], speech: set[int], gender: str | None
) -> str | None:
    """The nearest entity with one of the labels that ends before the offset, outside speech.

    A name inside someone's quoted or reported words is not what a narrator's "he" refers to.
    """
    found = [
        e
        for e in doc.ents
        if e.label_ in labels
        and e.end_char <= before
        and e.start_char not in speech
        and gender_of(full_name(doc, e.text)) in (gender, None)
    ]
    return max(found, key=lambda e: e.end_char).text if found else None


def full_name(doc: Doc, name: str) -> str:
    """A surname's full form named elsewhere in the article ("Clinton" -> "Hillary Clinton")."""
    if len(name.split()) > 1:
        return name
    longer = [e.text for e in doc.ents if e.label_ == "PERSON" and e.text.split()[-1] == name]
    return max(longer, key=len, default=name)


def gender_of(name: str) -> str | None:
    """A person's gender when an honorific or a listed first name says so, else None."""
    words = name.replace(".", " ").split()
    if not words:
        return None
    if words[0].lower() in HONORIFIC_GENDER:
        return HONORIFIC_GENDER[words[0].lower()]
    return first_name_gender(words[0]) if len(words) > 1 else None


def speaker_case(
    gold: Gold, doc: Doc, speech: set[int], sources: Sequence[Source]
) -> SpeakerCase | None:
    """What a predicted speaker must match for this gold; None when the gold has no source."""
    if gold.no_source or gold.source is None or gold.source_start is None:
        return None
    end = gold.source_end or gold.source_start
    labels = source_labels(gold.source)
    pronoun = gold.source.strip().lower()
    gender = "male" if pronoun in MALE else "female" if pronoun in FEMALE else None
    nearest = antecedent(doc, gold.source_start, labels, speech, gender) if labels else None
    chained = source_antecedent(doc, gold.source_start, labels, gender, sources) if labels else None
    # A descriptive source ("press secretary Josh Earnest") also accepts the name inside it.
    inside = [
        e.text
        for e in doc.ents
        if e.label_ in ANY and e.start_char < end and e.end_char > gold.source_start
    ]
    accepted = (gold.source, source_head(gold.source), *inside)
    return SpeakerCase(
        labels is None,
        nearest,
        chained,
        accepted,
    )


def source_head(source: str) -> str:
    """The name before an appositive or clause: "Weld, who added …", "Flynn, a surrogate,"."""
    return re.split(r",|\(| who | whose ", source)[0].strip()


def named_sources(article: dict[str, Any]) -> list[Source]:
    """Every attribution source of an article (any kind of speech) that reads as a name."""
    found = []
    for att in article["attributions"]:
        frags = att.get("source") or []
        text = " ".join(f["text"] for f in frags)
        if frags and not att.get("no_source") and source_labels(text) is None:
            found.append(Source(min(f["start"] for f in frags), max(f["end"] for f in frags), text))
    return sorted(found, key=lambda s: s.start)


def source_antecedent(
    doc: Doc, before: int, labels: frozenset[str], gender: str | None, sources: Sequence[Source]
) -> str | None:
    """The nearest source named before the offset that fits the pronoun or nominal.

    A narrator's "he said" continues the speaker chain PolNeAR's annotators marked: the
    nearest earlier attribution whose source is a name of the right kind and gender.
    """
    for source in reversed(sources):
        if source.start >= before:
            continue
        # The name in the source: "Police said" names nobody, "the Pentagon said" is not
        # what "he" refers to.
        fitting = [
            e.text
            for e in doc.ents
            if e.start_char < source.end and e.end_char > source.start and e.label_ in labels
        ]
        if fitting and gender_of(full_name(doc, fitting[0])) in (gender, None):
            return fitting[0]
    return None


def hand_antecedents(path: Path) -> dict[tuple[str, int], str]:
    """Hand-resolved referents of sampled pronoun and nominal sources, by (article, offset)."""
    if not path.is_file():
        return {}
    rows = [line.rstrip("\n").split("\t") for line in path.open(encoding="utf-8")]
    data = [r for r in rows if r and not r[0].startswith("#")][1:]  # after the header
    return {(r[0], int(r[1])): r[3] for r in data if r[3] != "?"}


@dataclass(frozen=True)
class HandScores:
    """Speakers on a hand-resolved sample, and how often each proxy finds its referents."""

    right: int
    total: int
    nearest_agrees: int  # the nearest-entity antecedent is the hand-resolved referent
    chained_agrees: int  # the nearest-named-source antecedent is


def hand_scores(
    preds: Sequence[Pred],
    golds: Sequence[Gold],
    matched: dict[int, int],
    cases: dict[int, SpeakerCase | None],
    hand: dict[tuple[str, int], str],
) -> HandScores:
    """Scores on the matched golds with a hand-resolved referent."""
    referents = {
        g: hand[(golds[g].article, start)]
        for g in matched
        if (start := golds[g].source_start) is not None and (golds[g].article, start) in hand
    }

    def agrees(g: int, chained: bool) -> bool:
        case = cases[g]
        if case is None:
            return False
        antecedent = case.chained if chained else case.nearest
        return any(names_match(n, referents[g]) for n in (*case.accepted, antecedent))

    return HandScores(
        right=sum(names_match(preds[matched[g]].speaker, name) for g, name in referents.items()),
        total=len(referents),
        nearest_agrees=sum(agrees(g, chained=False) for g in referents),
        chained_agrees=sum(agrees(g, chained=True) for g in referents),
    )


def parse_texts(articles: Sequence[dict[str, Any]]) -> dict[str, Doc]:
    """spaCy docs (entities only) of the raw PolNeAR texts, with the pipeline's model."""
    model = nlp.load_model(EntitySettings().model)
    keep = {"tok2vec", "ner"}
    disable = [name for name in model.pipe_names if name not in keep]
    docs = model.pipe((a["text"] for a in articles), batch_size=32, disable=disable)
    return {a["id"]: doc for a, doc in zip(articles, docs, strict=True)}


# ---------------------------------------------------------------- report


@dataclass(frozen=True)
class SpeakerScores:
    """Speaker accuracy overall and by kind of gold source."""

    right: int
    total: int
    named_right: int
    named: int
    pronoun_right: int  # right only because an unresolved pronoun equals the gold pronoun


def speaker_scores(
    preds: Sequence[Pred],
    matched: dict[int, int],
    cases: dict[int, SpeakerCase | None],
    chained: bool,
) -> tuple[SpeakerScores, dict[int, bool]]:
    """Accuracy over matched pairs whose gold has a source, pronouns and nominals resolved
    to the nearest named source (chained) or entity; and right-or-not per gold."""
    verdicts: dict[int, bool] = {}
    named: list[int] = []
    for g, p in matched.items():
        case = cases[g]
        if case is not None:
            antecedent = case.chained if chained else case.nearest
            accepted = (*case.accepted, *([antecedent] if antecedent else []))
            verdicts[g] = any(names_match(preds[p].speaker, name) for name in accepted)
            if case.named:
                named.append(g)
    return (
        SpeakerScores(
            right=sum(verdicts.values()),
            total=len(verdicts),
            named_right=sum(verdicts[g] for g in named),
            named=len(named),
            pronoun_right=sum(
                is_pronoun(preds[matched[g]].speaker) for g, right in verdicts.items() if right
            ),
        ),
        verdicts,
    )


def is_pronoun(name: str | None) -> bool:
    """An unresolved speaker: a bare pronoun such as "he" or "they"."""
    return name is not None and name.strip().casefold() in PRONOUN_LABELS


def ratio(a: int, b: int) -> str:
    """a/b with three decimals, or n/a."""
    return f"{a / b:.3f}" if b else "n/a"


def print_report(
    header: str,
    quote_scores: dict[float, Scores],
    speakers: dict[str, SpeakerScores],
    types: Counter[str | None],
) -> None:
    """Print the figures, one line each, beside the published baselines."""
    refs = {0.8: "(GenderGapTracker 0.761)", 0.3: "(GenderGapTracker 0.837, Citron 0.833 partial)"}
    print(header)
    for threshold, s in quote_scores.items():
        print(
            f"  quote @{threshold:.0%} coverage  P {s.precision:.3f} R {s.recall:.3f}"
            f" F1 {s.f1:.3f}  neutral={s.neutral}   {refs.get(threshold, '')}"
        )
    for antecedent, sc in speakers.items():
        other, other_right = sc.total - sc.named, sc.right - sc.named_right
        print(
            f"  speaker accuracy (matched @{SPEAKER_THRESHOLD:.0%}; pronoun -> {antecedent})"
            f" {ratio(sc.right, sc.total)} (n={sc.total})   (GenderGapTracker 0.865)"
        )
        print(
            f"    named sources {ratio(sc.named_right, sc.named)} (n={sc.named})"
            f"   pronoun/nominal sources {ratio(other_right, other)} (n={other})"
            f"   [right with an unresolved pronoun speaker: {sc.pronoun_right}]"
        )
    if any(t is not None for t in types):
        shown = ", ".join(f"{t}={n}" for t, n in types.most_common())
        print(f"  speaker_type  {shown}")


def print_hand(name: str, path: str, hand: HandScores, speakers: SpeakerScores) -> None:
    """Pronoun and nominal speakers on a hand-resolved sample, and the overall estimate."""
    if not hand.total:
        return
    other = speakers.total - speakers.named
    estimate = (speakers.named_right + hand.right / hand.total * other) / speakers.total
    print(
        f"  pronoun/nominal speakers, hand-resolved {name} {ratio(hand.right, hand.total)}"
        f" ({hand.right}/{hand.total}, {path})   overall with that rate {estimate:.3f}"
    )
    print(
        f"    the proxies' antecedent is the hand-resolved referent: nearest entity"
        f" {hand.nearest_agrees}/{hand.total}, nearest named source"
        f" {hand.chained_agrees}/{hand.total}"
    )


def dump(
    path: Path,
    preds: Sequence[Pred],
    golds: Sequence[Gold],
    pairs: Sequence[tuple[float, int, int]],
    matched: dict[int, int],
    neutral: set[int],
    cases: dict[int, SpeakerCase | None],
    both: tuple[dict[int, bool], dict[int, bool]],
) -> None:
    """One JSON line per gold (its match at 30%, or best overlap) and per false positive."""
    verdicts, nearest_verdicts = both  # pronouns resolved by named source, by entity
    best: dict[int, tuple[float, int]] = {}
    for cov, p, g in pairs:
        best[g] = max(best.get(g, (0.0, -1)), (cov, p))
    with path.open("w", encoding="utf-8") as fh:
        for g, gold in enumerate(golds):
            cov, p = best.get(g, (0.0, -1))
            if g in matched:
                p, cov = matched[g], coverage(preds[matched[g]], gold)
            pred, case = (preds[p] if p >= 0 else None), cases.get(g)
            line = {
                "kind": "gold",
                "article": gold.article,
                "gold_text": gold.text,
                "gold_source": gold.source,
                "nearest_entity": case.nearest if case else None,
                "nearest_source": case.chained if case else None,
                "matched": g in matched,
                "pred_text": pred.text if pred else None,
                "pred_parts": len(pred.parts) if pred else None,
                "coverage": round(cov, 3),
                "pred_speaker": pred.speaker if pred else None,
                "pred_speaker_mention": pred.speaker_mention if pred else None,
                "speaker_right": verdicts.get(g),
                "speaker_right_nearest_entity": nearest_verdicts.get(g),
            }
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")
        taken = set(matched.values()) | neutral
        for p, pred in enumerate(preds):
            if p not in taken:
                line = {
                    "kind": "false_positive",
                    "article": pred.article,
                    "pred_text": pred.text,
                    "pred_parts": len(pred.parts),
                    "mapped": bool(pred.chars),
                    "pred_speaker": pred.speaker,
                    "pred_speaker_mention": pred.speaker_mention,
                }
                fh.write(json.dumps(line, ensure_ascii=False) + "\n")


def bench_polnear(data: Path, limit: int | None, dump_path: Path | None) -> None:
    """Run the pipeline on PolNeAR and print quote and speaker figures."""
    path = data / "polnear" / "articles.jsonl.gz"
    if not path.is_file():
        print(f"polnear: {path} absent, skipped")
        return
    articles = load_articles(path, limit)
    preds, written, seconds = run_pipeline(articles)
    by_article: dict[str, list[Pred]] = defaultdict(list)
    for pred in preds:
        by_article[pred.article].append(pred)
    for art in articles:
        map_preds(by_article[art["id"]], normalize(art["text"]))
    every = [g for art in articles for g in golds_of(art)]
    golds = [g for g in every if g.kind == "direct"]
    mixed = [g for g in every if g.kind == "mixed"]
    pairs = candidates(preds, golds)
    quote_scores, matches = {}, {}
    for threshold in THRESHOLDS:
        matches[threshold] = assign(pairs, threshold)
        neutral = neutral_preds(preds, mixed, matches[threshold].values())
        quote_scores[threshold] = scores(len(preds), len(golds), matches[threshold], len(neutral))
    docs = parse_texts(articles)
    speech: dict[str, set[int]] = defaultdict(set)
    for g in every:
        speech[g.article] |= g.chars
    sources = {art["id"]: named_sources(art) for art in articles}
    cases = {
        g: speaker_case(gold, docs[gold.article], speech[gold.article], sources[gold.article])
        for g, gold in enumerate(golds)
    }
    chained, verdicts = speaker_scores(preds, matches[SPEAKER_THRESHOLD], cases, chained=True)
    nearest, nearest_verdicts = speaker_scores(
        preds, matches[SPEAKER_THRESHOLD], cases, chained=False
    )
    speakers = {"nearest named source": chained, "nearest entity": nearest}
    hands = {
        name: hand_scores(preds, golds, matches[SPEAKER_THRESHOLD], cases, hand_antecedents(path))
        for name, path in HAND_SAMPLES.items()
    }
    unmapped = sum(not p.chars for p in preds)
    prefix = sum(p.parts_prefix for p in preds)
    lost = sum(p.parts_unmapped for p in preds)
    split = sum(len(p.parts) > 1 for p in preds)
    header = (
        f"polnear direct quotes  articles={len(articles)} (in warehouse {written})"
        f" gold={len(golds)} pred={len(preds)} (multi-part {split}) unmapped={unmapped}"
        f" (parts: {lost} unmapped, {prefix} by prefix)  pipeline {seconds:.1f}s"
    )
    print_report(header, quote_scores, speakers, Counter(p.speaker_type for p in preds))
    for name, path in HAND_SAMPLES.items():
        print_hand(name, path.name, hands[name], chained)
    both = HandScores(*map(sum, zip(*(astuple(h) for h in hands.values()), strict=True)))
    print_hand("samples together", "both files", both, chained)
    if dump_path is not None:
        matched = matches[SPEAKER_THRESHOLD]
        neutral = neutral_preds(preds, mixed, matched.values())
        dump(dump_path, preds, golds, pairs, matched, neutral, cases, (verdicts, nearest_verdicts))


def main() -> None:
    """Score the pipeline on PolNeAR when the data is there."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=None, help="articles (default: all)")
    parser.add_argument("--dump", type=Path, default=None, help="JSON lines for error analysis")
    args = parser.parse_args()
    if not args.data.is_dir():
        print(f"{args.data}: no data folder, skipped")
        return
    bench_polnear(args.data, args.limit, args.dump)


if __name__ == "__main__":
    main()
