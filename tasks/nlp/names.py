"""A document rule after spaCy's NER: a person's surname, once named in full, is that person."""

from __future__ import annotations

from collections import Counter

from spacy.language import Language
from spacy.tokens import Doc, Span, Token
from spacy.util import filter_spans

from tasks.lexicon import places
from tasks.lexicon.people import NAME_SUFFIXES, TITLE_WORDS, is_first_name

# Labels the small model gives a surname it does not recognise as a person ("Sanders" ORG,
# "Ivanka" PRODUCT).
RELABELED = frozenset({"ORG", "NORP", "PRODUCT", "WORK_OF_ART", "LAW", "EVENT", "PERSON"})


@Language.component("known_names")
def known_names(doc: Doc) -> Doc:
    """Tag every recurrence of a person's surname in a document as that person.

    The small model finds "Marty Walz" but misses "Walz approaches it …" three paragraphs
    on, or tags "Sanders" ORG: a news article names a person in full once, then by surname.
    """
    surnames = _surnames(doc)
    if not surnames:
        return doc
    # A sentence's first word is a surname only if the article never writes it in lower
    # case: "Sanders appeared …" in an article about him, not "Price increases …".
    lowered = {t.text for t in doc if t.is_lower}
    initial = frozenset(n for n in surnames if n.lower() not in lowered)
    found = [
        span
        for run in _name_runs(doc, surnames, initial)
        if (span := _person_span(doc, run, surnames)) is not None
    ]
    if found:
        kept = [e for e in doc.ents if not any(_overlap(e, s) for s in found)]
        doc.ents = filter_spans([*kept, *found])
    return doc


def _surnames(doc: Doc) -> frozenset[str]:
    """Surnames of the persons the model found: of a full name whose first word is a
    listed first name or follows a title, or a lone name tagged PERSON twice."""
    found: set[str] = set()
    alone: Counter[str] = Counter()
    for ent in doc.ents:
        if ent.label_ != "PERSON":
            continue
        words = [t for t in ent if t.text[:1].isupper() and t.lower_ not in NAME_SUFFIXES]
        if len(words) == 1 and len(ent) == 1:
            alone[words[0].text] += 1
        titled = ent.start > 0 and doc[ent.start - 1].lower_ in TITLE_WORDS
        if len(words) >= 2 and (is_first_name(words[0].text) or titled):
            found.add(words[-1].text)
    found |= {name for name, n in alone.items() if n >= 2}
    return frozenset(n for n in found if _is_word(n) and len(n) > 1)


def _is_word(text: str) -> bool:
    """Letters, with the apostrophes and hyphens of names ("O'Gara", "Smith-Jones")."""
    return text.replace("'", "").replace("’", "").replace("-", "").isalpha()


def _name_runs(doc: Doc, surnames: frozenset[str], initial: frozenset[str]) -> list[Span]:
    """Runs of capitalized proper nouns or known surnames."""
    runs: list[Span] = []
    start: int | None = None
    for token in doc:
        if _name_word(token, surnames, initial):
            start = token.i if start is None else start
            continue
        if start is not None:
            runs.append(doc[start : token.i])
            start = None
    if start is not None:
        runs.append(doc[start:])
    return runs


def _name_word(token: Token, surnames: frozenset[str], initial: frozenset[str]) -> bool:
    """A capitalized word that can be part of a name; the tagger often calls a surname a
    noun ("Sanders" NNS), which counts inside a sentence and, if `initial`, at its start."""
    if not token.text[:1].isupper() or not (_is_word(token.text) or token.text.endswith(".")):
        return False
    return token.pos_ == "PROPN" or token.text in (initial if token.is_sent_start else surnames)


def _person_span(doc: Doc, run: Span, surnames: frozenset[str]) -> Span | None:
    """The run as a person (titles dropped) when it ends with a known surname and the
    entities it overlaps may be relabeled; None otherwise."""
    words = [t for t in run if t.lower_ not in NAME_SUFFIXES]
    if not words or words[-1].text not in surnames:
        return None
    # The name is the surname and the given names or initials right before it: "Labour MP
    # Eric Joyce" is "Eric Joyce", "Mr Blunkett" is "Blunkett".
    start = words[-1].i
    while start > run.start and _given(doc[start - 1]):
        start -= 1
    span = Span(doc, start, run.end, label="PERSON")
    for ent in doc.ents:
        if not _overlap(ent, span):
            continue
        if not _relabeled(ent) or ent.start < span.start or ent.end > span.end:
            return None  # a place ("Jordan"), or a longer name ("the Sanders Institute")
        if ent.label_ == "PERSON" and (ent.start, ent.end) == (span.start, span.end):
            return None
    return span


def _relabeled(ent: Span) -> bool:
    """True for an entity whose label a known surname overrules."""
    # The model tags foreign surnames as places too ("O'Gara" LOC, "Orquera" GPE); countries
    # and their regions keep their label: "Jordan" the country is not Jim Jordan.
    return ent.label_ in RELABELED or (
        ent.label_ in places.PLACE_LABELS and not places.is_region(ent.text)
    )


def _given(token: Token) -> bool:
    """A listed first name or an initial ("J.")."""
    return token.lower_ not in TITLE_WORDS and (
        is_first_name(token.text) or (len(token.text) == 2 and token.text.endswith("."))
    )


def _overlap(a: Span, b: Span) -> bool:
    """True when two spans share a token."""
    return a.start < b.end and b.start < a.end
