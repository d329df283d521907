"""Quotes stage: direct quotes in each body, with speaker, reporting verb and partiality."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from spacy.tokens import Doc, Span, Token

from tasks import nlp
from tasks.entities import normalize_name
from tasks.records import Article, Entity, EntityMention, ParsedBatch, Quote, short_hash

# Opening mark -> closing marks. Straight quotes close themselves.
MARKS = {"“": "”", '"': '"', "«": "»", "„": "“”"}
PRONOUNS = frozenset({"he", "she", "they", "it", "him", "her", "them", "we", "i"})
PERSON_PRONOUNS = frozenset({"he", "she", "him", "her"})
# Entity labels that can speak.
SPEAKER_LABELS = ("PERSON", "ORG", "GPE", "NORP")


@dataclass(frozen=True)
class QuoteSettings:
    """What counts as a quote and how far attribution is looked for."""

    # One-word quotes are scare quotes or terms ("unimpeded", "anti-terrorist"), not speech.
    min_words: int = 2
    # Reporting verbs by lemma: the verb whose subject is the speaker.
    verbs: tuple[str, ...] = (
        "say", "tell", "add", "state", "declare", "note", "write", "urge", "condemn",
        "announce", "explain", "insist", "warn", "claim", "ask", "reply", "respond",
        "continue", "argue", "stress", "emphasize", "emphasise", "conclude", "acknowledge",
        "recall", "call", "describe", "charge", "oppose", "express", "tweet", "post",
        "plead", "voice", "accuse", "vow", "admit", "suggest", "report", "complain",
    )  # fmt: skip
    # A quote without attribution continues the previous quote's speaker only when they are
    # this close (characters): a statement split over adjacent sentences of one paragraph.
    continuation_chars: int = 400
    # A pronoun speaker ("he added") refers to the previous quote's speaker when that quote is
    # this close; farther away, other people may have been named in between.
    pronoun_previous_chars: int = 600


@dataclass(frozen=True)
class _Context:
    """What speaker resolution knows about one article's entities."""

    mentions: Sequence[EntityMention]  # sorted by offset
    names: dict[str, str]  # entity id -> canonical name
    aliases: dict[str, str]  # normalized alias -> entity id (run-wide)
    surnames: dict[str, str]  # last name -> person entity id (named in this article)


@dataclass(frozen=True)
class _Span:
    """A quoted stretch of the body: the text inside the marks."""

    start: int
    end: int


@dataclass(frozen=True)
class _Speaker:
    """Who said a quote: as written, as resolved, and with which verb."""

    mention: str | None
    name: str | None
    entity_id: str | None
    verb: str | None


def extract_quotes(
    articles: Sequence[Article],
    parsed: ParsedBatch,
    mentions: Sequence[EntityMention],
    entities: Sequence[Entity],
    settings: QuoteSettings,
) -> list[Quote]:
    """Find the quotes of every analysed article of a batch."""
    docs = nlp.from_batch(parsed)
    names = {e.entity_id: e.canonical_name for e in entities}
    aliases = {
        normalize_name(a): e.entity_id for e in entities for a in e.aliases if e.label != "PERSON"
    }
    by_article: dict[str, list[EntityMention]] = defaultdict(list)
    for m in mentions:
        by_article[m.article_id].append(m)
    out: list[Quote] = []
    for article in articles:
        doc = docs.get(article.article_id)
        if article.nlp_skip_reason is None and doc is not None:
            found = sorted(by_article[article.article_id], key=lambda m: m.start_char)
            surnames = {
                normalize_name(m.text).split()[-1]: m.entity_id
                for m in found
                if m.label == "PERSON"
            }
            out += article_quotes(article, doc, _Context(found, names, aliases, surnames), settings)
    return sorted(out, key=lambda q: (q.article_id, q.start_char))


def find_spans(body: str, min_words: int) -> list[_Span]:
    """Quoted stretches within paragraphs; an unclosed mark is ignored, never fatal."""
    spans = []
    for para_start, para in _paragraphs(body):
        i = 0
        while i < len(para):
            closers = MARKS.get(para[i])
            if closers is None or (para[i] == '"' and i > 0 and para[i - 1].isalnum()):
                i += 1
                continue
            close = _closing(para, i + 1, para[i], closers)
            if close < 0:
                i += 1
                continue
            start, end = _trim(para, i + 1, close)
            if len(para[start:end].split()) >= min_words:
                spans.append(_Span(para_start + start, para_start + end))
            i = close + 1
    return spans


def _paragraphs(body: str) -> Iterator[tuple[int, str]]:
    """Paragraphs (split on newlines) with their offsets."""
    offset = 0
    for line in body.split("\n"):
        yield offset, line
        offset += len(line) + 1


def _closing(text: str, start: int, opener: str, closers: str) -> int:
    """Index of the closing mark, or -1 when the quote is not closed in this paragraph."""
    positions = [p for p in (text.find(c, start) for c in closers) if p >= 0]
    if not positions:
        return -1
    close = min(positions)
    # Typographic marks open and close differently: a second opening mark before any closing
    # one means this one was never closed (a typo, or a quote running past the paragraph).
    reopened = text.find(opener, start) if opener not in closers else -1
    return -1 if 0 <= reopened < close else close


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink a quoted stretch to exclude surrounding spaces and a trailing comma."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] == ","):
        end -= 1
    return start, end


def article_quotes(
    article: Article, doc: Doc, ctx: _Context, settings: QuoteSettings
) -> list[Quote]:
    """Quotes of one article with their speakers."""
    quotes: list[Quote] = []
    previous: tuple[int, _Speaker] | None = None
    for span in find_spans(article.body, settings.min_words):
        sent = _sentence(doc, span)
        partial = _is_partial(article.body, sent, span)
        speaker = _attribution(sent, span, partial, ctx, settings)
        if speaker.mention is not None and speaker.mention.lower() in PRONOUNS:
            recent = (
                previous
                if previous and span.start - previous[0] <= settings.pronoun_previous_chars
                else None
            )
            speaker = _resolve_pronoun(speaker, span, recent, ctx)
        if (
            speaker.mention is None
            and previous
            and span.start - previous[0] <= settings.continuation_chars
        ):
            speaker = previous[1]
        if speaker.mention is not None:
            previous = (span.end, speaker)
        quotes.append(_quote(article, span, speaker, partial))
    return quotes


def _quote(article: Article, span: _Span, speaker: _Speaker, partial: bool) -> Quote:
    """Build the Quote record."""
    return Quote(
        quote_id=short_hash(f"{article.article_id}:{span.start}:{span.end}"),
        article_id=article.article_id,
        text=article.body[span.start : span.end],
        start_char=span.start,
        end_char=span.end,
        speaker=speaker.name,
        speaker_mention=speaker.mention,
        speaker_entity_id=speaker.entity_id,
        verb=speaker.verb,
        is_partial=partial,
    )


def _sentence(doc: Doc, span: _Span) -> Span:
    """The stretch of sentences the quote lies in (a quote may span several parsed sentences)."""
    first = doc.char_span(span.start, span.end, alignment_mode="expand")
    if first is None or len(first) == 0:
        return doc[0:0]
    start_sent, end_sent = first[0].sent, first[-1].sent
    return doc[start_sent.start : end_sent.end]


def _is_partial(body: str, sent: Span, span: _Span) -> bool:
    """A phrase quoted inside a sentence: text before it in the sentence that is not an intro."""
    if len(sent) == 0:
        return False
    before = body[sent.start_char : span.start].rstrip('“"«„ ')
    if not before or before.endswith((":", ",")):
        return False
    # Only the attribution and the quote: "… ," she said. “Quote.” counts as whole.
    return any(ch.isalpha() for ch in before)


def _inside(token: Token, span: _Span) -> bool:
    """Whether a token lies within the quoted stretch (marks included)."""
    return span.start - 1 <= token.idx < span.end + 1


def _attribution(
    sent: Span, span: _Span, partial: bool, ctx: _Context, settings: QuoteSettings
) -> _Speaker:
    """Speaker: subject of the verb governing the quote, else of the nearest reporting verb."""
    governing = _governing_verb(sent, span)
    if governing is not None and governing.lemma_ in settings.verbs:
        subject = _subject(governing)
        if subject is not None and not _inside(subject, span):
            return _speaker(subject, governing, ctx)
    verbs = [
        t
        for t in sent
        if t.lemma_ in settings.verbs and t.pos_ in ("VERB", "AUX") and not _inside(t, span)
    ]
    # A verb after the quote ("…,” she said) is the usual attribution; then one before it.
    verbs.sort(key=lambda t: (t.idx < span.start, abs(t.idx - span.start)))
    for verb in verbs:
        subject = _subject(verb)
        if subject is not None and not _inside(subject, span):
            return _speaker(subject, verb, ctx)
    found = _according_to(sent, span, ctx)
    if found.mention is None and partial:
        # "France has “utterly condemned” the offensive": the sentence's own subject.
        subject = _subject(sent.root)
        if subject is not None and not _inside(subject, span):
            return _speaker(subject, None, ctx)
    return found


def _governing_verb(sent: Span, span: _Span) -> Token | None:
    """The nearest verb outside the quote that the quoted words depend on."""
    inside = [t for t in sent if _inside(t, span) and not t.is_punct]
    if not inside:
        return None
    # The quoted phrase's own head: the inside token whose head lies outside.
    heads = [t for t in inside if not _inside(t.head, span) or t.head is t]
    for token in heads[:1]:
        for ancestor in token.ancestors:
            if not _inside(ancestor, span) and ancestor.pos_ in ("VERB", "AUX"):
                return ancestor
    return None


def _subject(verb: Token) -> Token | None:
    """The grammatical subject of a verb, following conjunctions up to their head verb."""
    current: Token | None = verb
    while current is not None:
        for child in current.children:
            if child.dep_ in ("nsubj", "nsubjpass"):
                return child
        current = current.head if current.dep_ == "conj" and current.head is not current else None
    return None


def _according_to(sent: Span, span: _Span, ctx: _Context) -> _Speaker:
    """Speaker of "…, according to X"."""
    for tok in sent:
        if tok.lower_ == "according" and not _inside(tok, span):
            for prep in tok.children:
                for obj in prep.children:
                    if obj.dep_ == "pobj":
                        return _speaker(obj, None, ctx)
    return _Speaker(None, None, None, None)


def _phrase(subject: Token) -> Span:
    """The subject's noun phrase, cut before commas, clauses and prepositional tails."""
    doc = subject.doc
    left = subject.left_edge.i
    right = subject.i
    for child in subject.rights:
        if (
            child.dep_ in ("compound", "flat", "appos")
            and child.i == right + 1
            and child.text != ","
        ):
            right = child.right_edge.i if child.dep_ != "appos" else right
        else:
            break
    # Stop at a comma inside the left part ("Miller, the spokesperson" keeps "Miller").
    for i in range(subject.i - 1, left - 1, -1):
        if doc[i].text in (",", "(", "—", "–"):
            left = i + 1
            break
    return doc[left : right + 1]


def _speaker(subject: Token, verb: Token | None, ctx: _Context) -> _Speaker:
    """Build the speaker from a subject token: its phrase as written, and the entity it names."""
    phrase = _phrase(subject)
    text = phrase.text
    found = (
        ctx.aliases.get(normalize_name(text))
        or _mention_at(subject.idx, ctx.mentions)
        or _person_within(subject, ctx.mentions)
        or ctx.surnames.get(normalize_name(subject.text))
    )
    verb_text = verb.text if verb is not None else None
    if found is None:
        return _Speaker(text, text, None, verb_text)
    return _Speaker(text, ctx.names.get(found, text), found, verb_text)


def _mention_at(offset: int, mentions: Sequence[EntityMention]) -> str | None:
    """The entity of a speaking-type mention covering an offset (the phrase's head word)."""
    for m in mentions:
        if m.start_char <= offset < m.end_char and m.label in SPEAKER_LABELS:
            return m.entity_id
    return None


def _person_within(subject: Token, mentions: Sequence[EntityMention]) -> str | None:
    """A person named in the subject's subtree, as in "The chairman, Senator Bob Menendez,"."""
    start, end = subject.left_edge.idx, subject.right_edge.idx + len(subject.right_edge)
    people = [
        m for m in mentions if m.label == "PERSON" and start <= m.start_char and m.end_char <= end
    ]
    return people[0].entity_id if people else None


def _resolve_pronoun(
    speaker: _Speaker, span: _Span, previous: tuple[int, _Speaker] | None, ctx: _Context
) -> _Speaker:
    """A pronoun speaker: the previous quote's speaker, else the nearest person named before."""
    if previous is not None and previous[1].name is not None:
        return _Speaker(speaker.mention, previous[1].name, previous[1].entity_id, speaker.verb)
    if speaker.mention is not None and speaker.mention.lower() in PERSON_PRONOUNS:
        before = [m for m in ctx.mentions if m.end_char <= span.start and m.label == "PERSON"]
        if before:
            m = before[-1]
            return _Speaker(
                speaker.mention, ctx.names.get(m.entity_id, m.text), m.entity_id, speaker.verb
            )
    return speaker
