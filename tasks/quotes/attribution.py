"""Quotes stage: direct quotes in each body, with speaker, reporting verb and partiality."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace

from rapidfuzz import fuzz
from spacy.tokens import Doc, Span, Token

from tasks.core import safety
from tasks.core.groups import components
from tasks.core.records import (
    Article,
    Entity,
    EntityMention,
    ParsedBatch,
    Quote,
    Reject,
    short_hash,
)
from tasks.nlp import pipeline as nlp
from tasks.quotes.spans import Quoted, find_quotes
from tasks.quotes.speakers import (
    Context,
    GenderCall,
    Speaker,
    article_genders,
    gender_cues,
    named_between,
    person_genders,
    resolve,
    same_speaker,
)
from tasks.text.keys import normalize_name

# A name and its appositive between a quote and its verb: ",” Texas delegate Bill Eastland,
# wearing a cowboy hat and campaign pins, said".
BESIDE_TOKENS = 25
DASHES = frozenset({"-", "–", "—", "•"})


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
        "read", "shout", "yell", "scream", "chant", "joke", "quip", "recount", "predict",
        "promise", "observe", "mention", "retort", "boast", "brag", "concede", "confirm",
        "deny", "assert", "maintain", "contend", "comment", "testify", "whisper", "remark",
        "exclaim", "lament", "muse", "proclaim", "pledge", "threaten", "demand", "wonder",
        "caution", "assure", "counter", "interject", "tout", "reiterate", "repeat",
        "elaborate", "clarify", "quote", "cite", "blast", "slam", "scoff", "sigh", "laugh",
        "snap", "fire", "text", "email", "blog", "chime", "begin", "reason", "put", "go",
        "bark", "sing", "rant", "gush", "marvel", "rail", "scold", "sneer", "thunder", "fume",
        "surmise", "opine", "posit", "theorize", "speculate", "estimate", "figure", "guess",
        "beam", "point",
    )  # fmt: skip
    # Two quoted parts are one statement split by its attribution ("…,” he said, “…”) when
    # the one sentence between them has at most this many words: an attribution with its
    # circumstances ("the tycoon told Reuters in a rare interview in Macau on Monday.").
    split_gap_words: int = 40
    # A quote without attribution continues the previous quote's speaker only when they are
    # this close (characters): a statement split over adjacent sentences of one paragraph.
    continuation_chars: int = 400
    # A pronoun speaker ("he added") is the previous quote's unnamed speaker when that quote
    # is this close, and nobody was named in between; else the nearest name before it.
    pronoun_previous_chars: int = 600
    # A phrase quoted inside a sentence with this many words or fewer, most of them
    # capitalised, names something ("Morning Joe", "The Walking Dead"): nobody said it.
    title_max_words: int = 6
    title_case_share: float = 0.75
    # A quoted phrase this short with no verb in it and none reporting it is a term someone
    # coined or a scare quote ("fiscal cliff", "top secret"), not reported speech.
    term_max_words: int = 3
    # Quotes of the run whose texts are this similar (rapidfuzz ratio of their word keys,
    # 0-100) are one quote reported by several articles: punctuation, a serial comma or a
    # changed word leave it above; a different sentence falls far below.
    cluster_min_ratio: float = 90.0
    # Shorter quotes cluster only on an identical word key: a few words ("a big mistake")
    # recur in unrelated stories.
    cluster_min_words: int = 4
    # Word trigrams shared by more quotes than this are phrases, not a quote's identity.
    cluster_max_bucket: int = 100
    # Seconds for one article's quotes and speakers: the stage is linear in quote marks and
    # tokens, so only a fault (or a hostile text) runs this long.
    max_seconds_per_document: float = 30.0
    # Tokens before and after a quote where its attribution is looked for, within its
    # sentence: a news sentence is rarely past 60 tokens, and a text with no full stop is one
    # sentence whose every quote would search it all (quadratic in quote marks).
    attribution_max_tokens: int = 150
    # A speaker's gender needs this many votes (an honorific 3, a listed first name 2, each
    # referring pronoun 1): one "he" may be somebody else's, and a wrong gender is worse
    # than none.
    gender_min_votes: int = 2
    # Votes for the other gender above this share of the winner's make the evidence
    # conflicting: unknown, never a guess.
    gender_max_opposed_share: float = 0.25


STAGE = "quotes"


def extract_quotes(
    articles: Sequence[Article],
    parsed: ParsedBatch,
    mentions: Sequence[EntityMention],
    entities: Sequence[Entity],
    settings: QuoteSettings,
) -> tuple[list[Quote], list[Reject]]:
    """Find the quotes of every analysed article of a batch; an article that fails is a reject."""
    names = {e.entity_id: e.canonical_name for e in entities}
    labels = {e.entity_id: e.label for e in entities}
    aliases = {
        normalize_name(a): e.entity_id for e in entities for a in e.aliases if e.label != "PERSON"
    }
    by_article: dict[str, list[EntityMention]] = defaultdict(list)
    for m in mentions:
        by_article[m.article_id].append(m)

    def one(item: tuple[Article, Doc]) -> list[Quote]:
        article, doc = item
        if len(doc.text) < len(article.body):  # only the parsed part (see max_nlp_chars)
            article = replace(article, body=article.body[: len(doc.text)])
        found = sorted(by_article[article.article_id], key=lambda m: m.start_char)
        surnames = {
            normalize_name(m.text).split()[-1]: m.entity_id for m in found if m.label == "PERSON"
        }
        quoted = find_quotes(article.body, settings.min_words, settings.split_gap_words)
        cues = gender_cues(doc, found, quoted)
        ctx = Context(found, names, labels, aliases, surnames, quoted,
                      article_genders(cues, found, names))  # fmt: skip
        calls = person_genders(cues, found, names, settings.gender_min_votes,
                               settings.gender_max_opposed_share)  # fmt: skip
        return [_gendered(q, calls) for q in article_quotes(article, doc, quoted, ctx, settings)]

    with nlp.unpacked(parsed) as docs:
        todo = [(a, docs[a.article_id]) for a in articles
                if a.nlp_skip_reason is None and a.article_id in docs]  # fmt: skip
        results = safety.each_document(todo, one, lambda item: item[0].source_uri, STAGE,
                                       settings.max_seconds_per_document)  # fmt: skip
        found, rejects = safety.split_results(results)
    out = [q for quotes in found for q in quotes]
    return sorted(out, key=lambda q: (q.article_id, q.start_char)), rejects


def article_quotes(
    article: Article,
    doc: Doc,
    quoted: Sequence[Quoted],
    ctx: Context,
    settings: QuoteSettings,
) -> list[Quote]:
    """Quotes of one article with their speakers."""
    quotes: list[Quote] = []
    previous: tuple[int, Speaker] | None = None
    for quote in quoted:
        sent = _sentences(doc, article.body, quote, settings.attribution_max_tokens)
        partial = _is_partial(article.body, sent, quote)
        if partial and _is_title(article.body[quote.start : quote.end], settings):
            continue
        speaker = _attribution(sent, quote, partial, ctx, settings)
        if partial and speaker.verb is None and _is_term(doc, article.body, quote, settings):
            continue
        if (
            previous
            and quote.start - previous[0] <= settings.pronoun_previous_chars
            and previous[1].kind == "anonymous"
            and not named_between(speaker, ctx, previous[0], quote.start)
        ):
            # "he added" after a quote by an unnamed official, nobody named since: the same
            # unnamed speaker. Otherwise a pronoun is the nearest name before it.
            speaker = same_speaker(speaker, previous[1])
        if (
            speaker.mention is None
            and previous
            and quote.start - previous[0] <= settings.continuation_chars
        ):
            speaker = previous[1]
        if speaker.mention is not None:
            previous = (quote.end, speaker)
        quotes.append(_quote(article, quote, speaker, partial))
    return quotes


def _quote(article: Article, quote: Quoted, speaker: Speaker, partial: bool) -> Quote:
    """Build the Quote record; its cluster is its own word key until clustering merges it."""
    text = " ".join(article.body[p.start_char : p.end_char] for p in quote.parts)
    return Quote(
        quote_id=short_hash(f"{article.article_id}:{quote.start}:{quote.end}"),
        article_id=article.article_id,
        text=text,
        start_char=quote.start,
        end_char=quote.end,
        spans=quote.parts,
        speaker=speaker.name,
        speaker_mention=speaker.mention,
        speaker_entity_id=speaker.entity_id,
        verb=speaker.verb,
        is_partial=partial,
        speaker_type=speaker.kind,
        quote_cluster_id=short_hash(normalize_name(text)),
    )


def _gendered(quote: Quote, calls: dict[str, GenderCall]) -> Quote:
    """A quote with its speaker's gender as the article tells it: a named person's only."""
    if quote.speaker_type != "person" or quote.speaker_entity_id not in calls:
        return quote
    call = calls[quote.speaker_entity_id]
    return replace(quote, speaker_gender=call.gender, speaker_gender_evidence=call.evidence)


def _sentences(doc: Doc, text: str, quote: Quoted, max_tokens: int) -> Span:
    """The sentences around a quote's attribution: those of its first part, and of the words
    up to its second part when an attribution splits it.

    `text` is the doc's text, which spaCy would rebuild from every token on each `doc.text`.
    """
    end = (
        quote.parts[1].end_char
        if len(quote.parts) > 1 and _same_line(text, quote)
        else quote.parts[0].end_char
    )
    first = doc.char_span(quote.start, end, alignment_mode="expand")
    if first is None or len(first) == 0:
        return doc[0:0]
    start, stop = first[0].sent.start, first[-1].sent.end
    # The parser often ends a sentence at the closing mark (or at a colon before the opening
    # one): the attribution right after it (",” Reid said") or before it ("Reid said: “")
    # belongs to the quote all the same.
    if stop < len(doc) and _touching(text[end : doc[stop].sent.start_char]):
        stop = doc[stop].sent.end
    previous = doc[start - 1].sent if start > 0 else None
    if (
        previous is not None
        and previous.text.rstrip().endswith(":")
        and _touching(text[previous.end_char : quote.start])
    ):
        start = previous.start
    # A "sentence" of thousands of tokens (a list of quoted words with no full stop) would be
    # searched whole for every quote in it.
    return doc[max(start, first.start - max_tokens) : min(stop, first.end + max_tokens)]


def _touching(gap: str) -> bool:
    """True for the marks and spaces between a quote and the next sentence, nothing more."""
    return "\n" not in gap and len(gap.strip()) <= 3


def _same_line(text: str, quote: Quoted) -> bool:
    """True when the first two parts are in one paragraph (split by an attribution)."""
    return "\n" not in text[quote.parts[0].end_char : quote.parts[1].start_char]


def _is_term(doc: Doc, text: str, quote: Quoted, settings: QuoteSettings) -> bool:
    """A few quoted words without a verb, and no reporting verb: a term ("fiscal cliff").

    "France has “utterly condemned”" quotes a predicate and stays; "charged “ethnic
    cleansing”" has its reporting verb and stays.
    """
    span = doc.char_span(quote.start, quote.end, alignment_mode="expand")
    if span is None or len(quote.text_words(text)) > settings.term_max_words:
        return False
    return not any(t.pos_ in ("VERB", "AUX") for t in span)


def _is_title(text: str, settings: QuoteSettings) -> bool:
    """A short capitalised phrase quoted inside a sentence: a show, a book, a slogan."""
    # Function words stay lowercase in titles ("Meet the Press", "Fox and Friends").
    words = [w for w in text.split() if w[0].isalpha() and not (w.islower() and len(w) <= 3)]
    capitalised = sum(1 for w in words if w[0].isupper())
    return (
        0 < len(words) <= settings.title_max_words
        and capitalised / len(words) >= settings.title_case_share
    )


def _is_partial(body: str, sent: Span, quote: Quoted) -> bool:
    """A phrase quoted inside a sentence: text before it in the sentence that is not an intro."""
    if len(sent) == 0:
        return False
    before = body[sent.start_char : quote.start].rstrip('“"«„ ')
    if not before or before.endswith((":", ",")):
        return False
    # Only the attribution and the quote: "… ," she said. “Quote.” counts as whole.
    return any(ch.isalpha() for ch in before)


def _inside(token: Token, quote: Quoted) -> bool:
    """Whether a token lies within one of the quote's parts (marks included)."""
    idx, parts = token.idx, quote.parts
    # Most tokens of a sentence lie before or after the whole quote.
    if not parts[0].start_char - 1 <= idx < parts[-1].end_char + 1:
        return False
    return any(p.start_char - 1 <= idx < p.end_char + 1 for p in parts)


def _attribution(
    sent: Span, quote: Quoted, partial: bool, ctx: Context, settings: QuoteSettings
) -> Speaker:
    """Speaker: subject of the verb governing the quote, else of the nearest reporting verb."""
    governing = _governing_verb(sent, quote)
    if governing is not None and governing.lemma_ in settings.verbs:
        subject = _subject(governing)
        if subject is not None and not _inside(subject, quote):
            return resolve(subject, governing, ctx)
    verbs = [
        t
        for t in sent
        if t.lemma_ in settings.verbs and t.pos_ in ("VERB", "AUX") and not _inside(t, quote)
    ]
    # A verb after the quote ("…,” she said) is the usual attribution; then one before it.
    verbs.sort(key=lambda t: (t.idx < quote.start, abs(t.idx - quote.start)))
    for verb in verbs:
        subject = _subject(verb)
        if subject is None or _inside(subject, quote):
            subject = _beside(verb, quote)  # the parse missed it, or took a vocative
        if subject is not None and not _inside(subject, quote):
            return resolve(subject, verb, ctx)
    found = _according_to(sent, quote, ctx)
    if found.mention is None:
        found = _colon_speaker(sent, quote, ctx) or found
    if found.mention is None and partial:
        # "France has “utterly condemned” the offensive": the sentence's own subject.
        subject = _subject(sent.root)
        if subject is not None and not _inside(subject, quote):
            return resolve(subject, None, ctx)
    return found


def _beside(verb: Token, quote: Quoted) -> Token | None:
    """The name between a quote and its verb (",” police Chief Chuck Jordan said"), right
    after the verb (",” said Tommy Vietor, a former spokesman") or right before a verb that
    opens the quote, for a verb the parse gave no subject: the last word before a comma."""
    doc = verb.doc
    before = [p.end_char for p in quote.parts if p.end_char < verb.idx]
    if not before:
        # "…, her senior policy adviser, Jake Sullivan, said: “…”": the name before the verb.
        left = [t for t in doc[max(verb.i - 3, 0) : verb.i] if not t.is_punct]
        return left[-1] if left and left[-1].pos_ == "PROPN" else None
    end = before[-1] + 1  # past the closing mark of the part before the verb
    between = [t for t in doc[max(verb.i - BESIDE_TOKENS, 0) : verb.i] if t.idx >= end]
    if len(between) == BESIDE_TOKENS:
        return None  # the verb is too far from the quote to be its attribution
    while between and (between[0].is_punct or between[0].is_space):
        between = between[1:]  # the closing mark and the comma after the quote
    run = between or list(doc[verb.i + 1 : verb.i + 9])
    head: Token | None = None
    for token in run:
        if token.is_punct or token.is_space:
            break
        head = token
    return head if head is not None and head.pos_ in ("PROPN", "NOUN") else None


def _colon_speaker(sent: Span, quote: Quoted, ctx: Context) -> Speaker | None:
    """The name heading a quote in transcript style: "Clinton: “Our goal is …”"."""
    before = [t for t in sent if t.idx < quote.start - 1 and not t.is_space]
    # A digest line puts a heading before the name: "VOTERS CARE MORE – Frank Newport: “…”".
    cut = max((i for i, t in enumerate(before) if t.text in DASHES), default=-1)
    before = before[cut + 1 :]
    if not 2 <= len(before) <= 9 or before[-1].text != ":" or before[-2].pos_ != "PROPN":
        return None
    return resolve(before[-2], None, ctx)


def _governing_verb(sent: Span, quote: Quoted) -> Token | None:
    """The nearest verb outside the quote that the quoted words depend on."""
    inside = [t for t in sent if _inside(t, quote) and not t.is_punct]
    if not inside:
        return None
    # The quoted phrase's own head: the inside token whose head lies outside.
    heads = [t for t in inside if not _inside(t.head, quote) or t.head is t]
    for token in heads[:1]:
        for ancestor in token.ancestors:
            if not _inside(ancestor, quote) and ancestor.pos_ in ("VERB", "AUX"):
                return ancestor
    return None


def _subject(verb: Token) -> Token | None:
    """The grammatical subject of a verb, following conjunctions and participles up to the
    verb that has one ("He defended the remark, saying, “…”": "saying" has none of its own)."""
    current: Token | None = verb
    while current is not None:
        for child in current.children:
            if child.dep_ in ("nsubj", "nsubjpass"):
                return child
        chained = current.dep_ == "conj" or (current.dep_ == "advcl" and current.tag_ == "VBG")
        current = current.head if chained and current.head is not current else None
    return None


def _according_to(sent: Span, quote: Quoted, ctx: Context) -> Speaker:
    """Speaker of "…, according to X"."""
    for tok in sent:
        if tok.lower_ == "according" and not _inside(tok, quote):
            for prep in tok.children:
                for obj in prep.children:
                    if obj.dep_ == "pobj":
                        return resolve(obj, None, ctx)
    return Speaker(None, None, None, None, "unknown")


# --------------------------------------------------------------------------------------------
# The same quote across articles
# --------------------------------------------------------------------------------------------


def cluster_quotes(quotes: Sequence[Quote], settings: QuoteSettings) -> list[Quote]:
    """Give the same quote in several articles one cluster id, small wording changes allowed."""
    keys = sorted({normalize_name(q.text) for q in quotes})
    similar = (
        (a, b)
        for a, b in sorted(_candidate_pairs(keys, settings))
        if fuzz.ratio(a, b) >= settings.cluster_min_ratio
    )
    root = components(keys, similar)  # the smallest key names the cluster: stable
    return [replace(q, quote_cluster_id=short_hash(root[normalize_name(q.text)])) for q in quotes]


def _candidate_pairs(keys: Sequence[str], settings: QuoteSettings) -> set[tuple[str, str]]:
    """Pairs of long enough keys sharing a word trigram (only they can be near-equal)."""
    index: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for key in keys:
        words = key.split()
        if len(words) >= settings.cluster_min_words:
            for gram in {tuple(words[i : i + 3]) for i in range(len(words) - 2)}:
                index[gram].append(key)
    # A trigram in very many quotes ("we are going") says nothing and would cost n² pairs.
    buckets = [b for b in index.values() if len(b) <= settings.cluster_max_bucket]
    return {(a, b) for bucket in buckets for a in bucket for b in bucket if a < b}
