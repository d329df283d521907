"""Who said a quote: the attribution's subject resolved to an entity, or kept as an unnamed source."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

from spacy.tokens import Doc, Span, Token

from tasks.core.records import EntityMention, Gender, SpeakerType
from tasks.lexicon.people import HONORIFICS, first_name_gender, sole_first_name_gender
from tasks.quotes.spans import Quoted, QuotedOffsets
from tasks.text.keys import normalize_name


def _words(text: str) -> frozenset[str]:
    """A vocabulary written as one space-separated string."""
    return frozenset(text.split())


PERSON_PRONOUNS = frozenset({"he", "she", "him", "her"})
THING_PRONOUNS = frozenset({"it"})
GROUP_PRONOUNS = frozenset({"they", "them", "we"})
RELATIVES = frozenset({"who", "that", "which"})
PRONOUNS = PERSON_PRONOUNS | THING_PRONOUNS | GROUP_PRONOUNS | {"i"}
PRONOUN_GENDER = {"he": "male", "him": "male", "she": "female", "her": "female"}
# An honorific before a name outweighs a stray pronoun: "Mrs. Clinton" is a woman.
TITLE_VOTES = 3
# A first name the name table lists as one gender outweighs one pronoun, not an honorific.
FIRST_NAME_VOTES = 2
# The kinds of gender evidence, in the order `gender_evidence` lists them.
HONORIFIC, FIRST_NAME, PRONOUNS_CUE = "honorific", "first_name", "pronouns"
EVIDENCE_ORDER = (HONORIFIC, FIRST_NAME, PRONOUNS_CUE)
CUE_VOTES = {HONORIFIC: TITLE_VOTES, FIRST_NAME: FIRST_NAME_VOTES, PRONOUNS_CUE: 1}
# Gender cues per person entity, counted by (gender, kind).
GenderCues = dict[str, Counter[tuple[str, str]]]
# The evidence of an unknown gender whose cues disagreed (not merely too few).
CONFLICTING = "conflicting"
REFERRING_GENDER = {
    **PRONOUN_GENDER,
    **dict.fromkeys(("his", "himself"), "male"),
    **dict.fromkeys(("hers", "herself"), "female"),
}
# Which earlier speakers a pronoun can stand for ("he added" after an unnamed official).
PRONOUN_KINDS: dict[str, tuple[SpeakerType, ...]] = {
    **dict.fromkeys(PERSON_PRONOUNS | {"i"}, ("person", "anonymous")),
    **dict.fromkeys(THING_PRONOUNS, ("organization",)),
    **dict.fromkeys(GROUP_PRONOUNS, ("organization", "anonymous", "person")),
}
# Nouns naming a speaker without a name: "the official said", "a senior official said".
PERSON_NOUNS = _words(
    "official officials spokesman spokeswoman spokesperson senator president minister "
    "secretary diplomat diplomats aide aides adviser advisor lawmaker lawmakers congressman "
    "congresswoman governor mayor candidate chairman chairwoman chair leader director "
    "ambassador envoy general commander officer source sources analyst analysts expert "
    "experts lawyer attorney prosecutor judge representative executive founder professor "
    "researcher economist chancellor premier strategist staffer insider person people "
    "member members resident residents witness witnesses negotiator negotiators "
    "businessman businesswoman nominee frontrunner billionaire mogul host tycoon star actor "
    "actress singer reporter anchor journalist pundit activist pollster consultant"
)
ORG_NOUNS = _words(
    "ministry department government office agency company administration campaign "
    "committee party embassy council commission court police army military presidency "
    "organization organisation group firm union bank board foundation institute "
    "university network"
)
# Documents speak for whoever issued them: "the statement said".
DOCUMENT_NOUNS = _words("statement release communique report letter memo filing")
# Determiners and quantities of an unnamed source: "a senior official", "two diplomats".
INDEFINITE = _words("a an one two three four five several some many few other another")
DEFINITE = _words("the this that")
SPEAKING_LABELS = ("PERSON", "ORG", "GPE", "NORP")
ORG_LABELS = ("ORG", "GPE", "NORP")


class Mentions:
    """An article's mentions sorted by start, searched by position in log time.

    Resolving a speaker looks for names at, inside or before a position; scanning every
    mention for each quote made an article of thousands of quotes and names quadratic.
    """

    def __init__(self, mentions: Sequence[EntityMention]) -> None:
        self.items = sorted(mentions, key=lambda m: m.start_char)  # stable: ties keep order
        self.starts = [m.start_char for m in self.items]
        self.longest = max((m.end_char - m.start_char for m in self.items), default=0)

    def starting(self, lo: int, hi: int) -> list[EntityMention]:
        """The mentions starting in [lo, hi), in order."""
        return self.items[bisect_left(self.starts, lo) : bisect_left(self.starts, hi)]

    def covering(self, offset: int) -> list[EntityMention]:
        """The mentions with start <= offset < end, in order."""
        near = self.starting(offset - self.longest + 1, offset + 1)
        return [m for m in near if offset < m.end_char]

    def within(self, lo: int, hi: int) -> list[EntityMention]:
        """The mentions lying inside [lo, hi), in order."""
        near = self.items[bisect_left(self.starts, lo) : bisect_right(self.starts, hi)]
        return [m for m in near if m.end_char <= hi]

    def last_ending_by(self, offset: int, person: bool | None = None) -> EntityMention | None:
        """The last mention (in order) ending at or before the offset; of a person or not."""
        # Mentions starting a longest mention's length before the offset all end by then.
        sure = bisect_right(self.starts, offset - self.longest)
        for i in range(bisect_right(self.starts, offset) - 1, sure - 1, -1):
            m = self.items[i]
            if m.end_char <= offset and (person is None or (m.label == "PERSON") == person):
                return m
        last = self._last_person[sure - 1] if person else self._last_other[sure - 1]
        found = sure - 1 if person is None else last
        return self.items[found] if found >= 0 else None

    @cached_property
    def _last_person(self) -> list[int]:
        """For each position, the index of the last person mention at or before it (or -1)."""
        return self._last_where(True)

    @cached_property
    def _last_other(self) -> list[int]:
        """For each position, the index of the last other mention at or before it (or -1)."""
        return self._last_where(False)

    def _last_where(self, person: bool) -> list[int]:
        out, last = [], -1
        for i, m in enumerate(self.items):
            last = i if (m.label == "PERSON") == person else last
            out.append(last)
        return [*out, -1]  # [-1] (nothing before the first) reads the trailing -1


@dataclass
class _Memo:
    """What speaker resolution works out once per article and reuses for every quote."""

    referents: list[EntityMention] | None = None  # mentions outside quotes, not modifiers
    fitting: dict[tuple[tuple[str, ...], str | None], Mentions] = field(default_factory=dict)
    # (id of the fitting mentions, sentence start) -> whom a pronoun continues from there back
    topics: dict[tuple[int, int], str | None] = field(default_factory=dict)
    chunks: list[Span] | None = None  # noun chunks outside quotes, in order
    chunk_ends: list[int] = field(default_factory=list)
    chunks_by_root: dict[str, list[int]] = field(default_factory=dict)
    # (noun, chunk index) -> index of the nearest chunk at or before it naming its source
    nominals: dict[tuple[str, int], int] = field(default_factory=dict)


@dataclass(frozen=True)
class Context:
    """What speaker resolution knows about one article."""

    mentions: Sequence[EntityMention]  # sorted by offset
    names: dict[str, str]  # entity id -> canonical name
    labels: dict[str, str]  # entity id -> label
    aliases: dict[str, str]  # normalized alias -> entity id (run-wide)
    surnames: dict[str, str]  # last name -> person entity id (named in this article)
    quoted: Sequence[Quoted]  # the article's quotes: antecedents are never inside them
    genders: dict[str, str]  # person entity id -> gender the article gives it
    memo: _Memo = field(default_factory=_Memo, compare=False, repr=False)

    @cached_property
    def in_quotes(self) -> QuotedOffsets:
        """The offsets inside the article's quotes."""
        return QuotedOffsets(self.quoted)

    @cached_property
    def named(self) -> Mentions:
        """The mentions, searchable by position."""
        return Mentions(self.mentions)


@dataclass(frozen=True)
class Speaker:
    """Who said a quote: as written, as resolved, with which verb, and of which type."""

    mention: str | None
    name: str | None
    entity_id: str | None
    verb: str | None
    kind: SpeakerType


def speaker_type(label: str | None) -> SpeakerType:
    """The speaker type of an entity label."""
    if label == "PERSON":
        return "person"
    return "organization" if label in (*ORG_LABELS, "FAC", "LOC") else "unknown"


def resolve(subject: Token, verb: Token | None, ctx: Context) -> Speaker:
    """The speaker a subject names: an entity, a pronoun's antecedent, or an unnamed source."""
    if subject.lower_ in RELATIVES and subject.head.dep_ == "relcl":
        subject = subject.head.head  # "Trump, who said …": the noun the clause describes
    text = phrase(subject).text
    verb_text = verb.text if verb is not None else None
    found = (
        ctx.aliases.get(normalize_name(text))
        or _mention_at(subject.idx, ctx.named)
        or _person_within(subject, ctx.named)
        or ctx.surnames.get(normalize_name(subject.text))
    )
    if found is not None:
        return _entity(text, found, verb_text, ctx)
    if subject.lower_ in PRONOUNS:
        return _antecedent(
            subject.doc, text, subject.idx, _pronoun_labels(subject.lower_), verb_text, ctx
        )
    if is_anonymous(subject):
        return Speaker(text, text, None, verb_text, "anonymous")
    if _bare_definite(subject):
        return _nominal(subject, text, verb_text, ctx)
    # "France's foreign ministry", "a spokesman's office": kept as written, typed by its noun.
    kind: SpeakerType = "organization" if subject.lower_ in ORG_NOUNS else "unknown"
    return Speaker(text, text, None, verb_text, kind)


def _bare_definite(head: Token) -> bool:
    """True for "the official", "the ministry", "the statement": a noun pointing back."""
    nouns = PERSON_NOUNS | ORG_NOUNS | DOCUMENT_NOUNS
    if head.lower_ not in nouns or not head.text.islower():
        return False  # "the Azerbaijani Presidency" is a name
    # "the official", "the Vermont senator", "the former secretary": a description with
    # no name of its own ("France's foreign ministry" names its owner: kept as written).
    left = [c for c in head.children if c.i < head.i]
    return any(c.dep_ == "det" and c.lower_ in DEFINITE for c in left) and all(
        c.dep_ in ("det", "amod", "compound") for c in left
    )


def same_speaker(speaker: Speaker, previous: Speaker) -> Speaker:
    """A pronoun speaker as the previous quote's speaker, when the pronoun fits its type."""
    pronoun = (speaker.mention or "").lower()
    if pronoun not in PRONOUN_KINDS or previous.kind not in PRONOUN_KINDS[pronoun]:
        return speaker
    return Speaker(speaker.mention, previous.name, previous.entity_id, speaker.verb, previous.kind)


def named_between(speaker: Speaker, ctx: Context, start: int, end: int) -> bool:
    """True when someone a pronoun could mean is named between two offsets, outside quotes."""
    labels = _pronoun_labels((speaker.mention or "").lower())
    return any(
        m.label in labels and not _quoted(m.start_char, ctx) for m in ctx.named.starting(start, end)
    )


def is_anonymous(head: Token) -> bool:
    """True for an unnamed source: "a senior US official", "two diplomats", "officials"."""
    if head.lower_ not in PERSON_NOUNS:
        return False
    dets = [c for c in head.children if c.dep_ in ("det", "nummod", "amod", "quantmod")]
    if any(c.lower_ in INDEFINITE or c.like_num for c in dets):
        return True
    # A bare plural ("officials said") is unnamed; "the officials" points back to someone.
    return head.tag_ == "NNS" and not any(c.dep_ in ("det", "poss") for c in head.children)


def _nominal(subject: Token, text: str, verb: str | None, ctx: Context) -> Speaker:
    """ "the official", "the ministry", "the statement": the source named earlier, if any."""
    chunk = _source_chunk(subject, ctx)
    if chunk is not None:
        found = _chunk_source(chunk, subject.lower_, text, verb, ctx)
        if found is not None:
            return found
    labels: tuple[str, ...] = ("PERSON",) if subject.lower_ in PERSON_NOUNS else ORG_LABELS
    if subject.lower_ in DOCUMENT_NOUNS:
        labels = SPEAKING_LABELS
    return _antecedent(subject.doc, text, subject.idx, labels, verb, ctx)


def _chunk_source(
    chunk: Span, noun: str, text: str, verb: str | None, ctx: Context
) -> Speaker | None:
    """Who an earlier noun phrase with the subject's noun names, if it names anyone."""
    # "a senior US official": the country is where the official works, not who spoke.
    person = noun in PERSON_NOUNS
    named = _mention_within(chunk, ctx.named, ("PERSON",) if person else SPEAKING_LABELS)
    if named is not None:
        return _entity(text, named, verb, ctx)
    if is_anonymous(chunk.root):
        return Speaker(text, _as_name(chunk), None, verb, "anonymous")
    issuer = _issuer(chunk.root) if noun in DOCUMENT_NOUNS else None
    if issuer is not None:
        # "Obama released a statement …" then "the statement said": Obama speaks.
        found = resolve(issuer, None, ctx)
        return Speaker(text, found.name, found.entity_id, verb, found.kind)
    return None


def _source_chunk(subject: Token, ctx: Context) -> Span | None:
    """The nearest noun phrase before the subject, outside quotes, with the subject's noun
    that names a source (see _chunk_source); walks back once per phrase per article."""
    memo = ctx.memo
    if memo.chunks is None:
        memo.chunks = [c for c in subject.doc.noun_chunks if not _quoted(c.start_char, ctx)]
        memo.chunk_ends = [c.end_char for c in memo.chunks]
        for i, c in enumerate(memo.chunks):
            memo.chunks_by_root.setdefault(c.root.lower_, []).append(i)
    noun = subject.lower_
    same = memo.chunks_by_root.get(noun, [])
    # The phrases with the noun that end before the subject, nearest first.
    before = bisect_right(memo.chunk_ends, subject.idx)
    walked: list[int] = []
    found = -1
    for i in reversed(same[: bisect_left(same, before)]):
        if (noun, i) in memo.nominals:
            found = memo.nominals[noun, i]
            break
        walked.append(i)
        if _chunk_source(memo.chunks[i], noun, "", None, ctx) is not None:
            found = i
            break
    for i in walked:
        memo.nominals[noun, i] = found
    return memo.chunks[found] if found >= 0 else None


def _issuer(document: Token) -> Token | None:
    """Who issued a document: the subject of the verb it is the object of ("Obama released
    a statement") or that it is attached to ("the ministry said in a statement")."""
    verb = document.head
    if document.dep_ == "pobj" and verb.dep_ == "prep":
        verb = verb.head
    elif document.dep_ != "dobj":
        return None
    subjects = [c for c in verb.children if c.dep_ == "nsubj"]
    return subjects[0] if verb.pos_ == "VERB" and subjects else None


def _as_name(chunk: Span) -> str:
    """An unnamed source as a speaker name: "a senior US official", even at a sentence start."""
    first = chunk[0]
    return chunk.text if first.dep_ != "det" else first.lower_ + chunk.text[len(first.text) :]


def _pronoun_labels(pronoun: str) -> tuple[str, ...]:
    """Entity labels a pronoun can refer to."""
    if pronoun in PERSON_PRONOUNS or pronoun == "i":
        return ("PERSON",)
    return ORG_LABELS if pronoun in THING_PRONOUNS else SPEAKING_LABELS


def _root(doc: Doc, mention: EntityMention) -> Token | None:
    """The syntactic head of a mention's words."""
    span = doc.char_span(mention.start_char, mention.end_char, alignment_mode="expand")
    return span.root if span is not None else None


def _modifier(doc: Doc, mention: EntityMention) -> bool:
    """True for a name used as a noun modifier ("a UN Security Council meeting")."""
    root = _root(doc, mention)
    # A noun heading a whole sentence is the small model misreading its verb ("Ivanka Trump
    # strode across the stage" parsed as one noun phrase): the name is its subject.
    return root is not None and root.dep_ == "compound" and root.head.dep_ != "ROOT"


def _owner(doc: Doc, mention: EntityMention) -> bool:
    """True for a possessive name ("Santilli's words")."""
    root = _root(doc, mention)
    return root is not None and (
        root.dep_ == "poss" or any(c.dep_ == "case" for c in root.children)
    )


def _antecedent(
    doc: Doc, text: str, offset: int, labels: tuple[str, ...], verb: str | None, ctx: Context
) -> Speaker:
    """The nearest entity of the given labels named before the offset, outside quotes."""
    # "she" is not the man named last: a first name or an honorific tells them apart.
    wanted = PRONOUN_GENDER.get(text.lower())
    fitting = _fitting(doc, ctx, labels, wanted)
    last = fitting.last_ending_by(offset)
    if last is None:
        return Speaker(text, text, None, verb, "unknown")
    if labels == ("PERSON",):
        found = _topic(doc, offset, fitting, wanted, ctx)
        if found is not None:
            return _entity(text, found, verb, ctx)
    # "They" and "the statement" prefer a group named before them, else a person.
    group = fitting.last_ending_by(offset, person=False)
    return _entity(text, (group or last).entity_id, verb, ctx)


def _fitting(doc: Doc, ctx: Context, labels: tuple[str, ...], wanted: str | None) -> Mentions:
    """The mentions a pronoun or noun of these labels and gender can point back to (once
    per article): outside quotes, not modifying another noun ("a UN Security Council
    meeting"), of a fitting label and of the wanted gender or an unknown one."""
    memo = ctx.memo
    if memo.referents is None:
        memo.referents = [
            m for m in ctx.mentions if not _quoted(m.start_char, ctx) and not _modifier(doc, m)
        ]
    found = memo.fitting.get((labels, wanted))
    if found is None:
        found = memo.fitting[labels, wanted] = Mentions(
            [
                m
                for m in memo.referents
                if m.label in labels and (not wanted or _gender(m, ctx) in (wanted, None))
            ]
        )
    return found


def _topic(
    doc: Doc, offset: int, fitting: Mentions, wanted: str | None, ctx: Context
) -> str | None:
    """The person a "he" or "the senator" continues: the named subject of the nearest
    sentence before it that has one, else the last fitting person named in that sentence.

    "Biden rubbished Trump's claim. “…,” he said." means Biden: a subject pronoun refers
    back to the last sentence's subject far more often than to its objects. What a sentence
    before the pronoun's own says does not depend on the pronoun, so the walk back from each
    sentence is done once per article (else a run of "he said" sentences is quadratic).
    """
    token = doc.char_span(offset, offset + 1, alignment_mode="expand")
    if token is None or len(token) == 0:
        return None
    sent: Span | None = token[0].sent
    assert sent is not None
    decided, found, _ = _sentence_topic(doc, sent, None, offset, fitting, wanted, ctx)
    if decided:
        return found
    walked: list[tuple[tuple[int, int], bool]] = []  # (memo key, offset-independent)
    following = sent.start_char
    sent = doc[sent.start - 1].sent if sent.start > 0 else None
    while sent is not None:
        key = (id(fitting), sent.start_char)  # fitting: one object per article and kind
        if key in ctx.memo.topics:
            found = ctx.memo.topics[key]
            break
        decided, found, independent = _sentence_topic(
            doc, sent, following, offset, fitting, wanted, ctx
        )
        walked.append((key, independent))
        if decided:
            break
        following = sent.start_char
        sent = doc[sent.start - 1].sent if sent.start > 0 else None
    for key, independent in reversed(walked):
        if not independent:
            break  # this sentence's answer, and those of the ones after it, vary by pronoun
        ctx.memo.topics[key] = found
    return found


def _sentence_topic(
    doc: Doc,
    sent: Span,
    following: int | None,
    offset: int,
    fitting: Mentions,
    wanted: str | None,
    ctx: Context,
) -> tuple[bool, str | None, bool]:
    """What one sentence says of whom a pronoun at `offset` means: (decided, entity id,
    whether the answer holds for any pronoun after it).

    `following` is the start of the next sentence (None: the pronoun's own sentence). Only
    fitting mentions ending by the offset count; one reaching into the next sentence makes
    the answer depend on the pronoun.
    """
    starting = fitting.starting(sent.start_char, offset + 1 if following is None else following)
    touched = list(starting)
    inside = [m for m in starting if m.end_char <= offset]
    for subject in _main_subjects(sent, offset, ctx):
        covering = fitting.covering(subject.idx)
        touched += covering
        at = [m for m in covering if m.end_char <= offset and m.label in SPEAKING_LABELS]
        span = phrase(subject)
        within = [
            m
            for m in fitting.within(span.start_char, span.end_char)
            if m.end_char <= offset and m.label == "PERSON"
        ]
        touched += within
        named = at[0].entity_id if at else (within[0].entity_id if within else None)
        if named is not None:
            return True, named, _independent(touched, following)
        if subject.lower_ in PERSON_PRONOUNS and wanted in (None, PRONOUN_GENDER[subject.lower_]):
            inside = []  # "He said he would …": the same person, named further back
            break
    # "Mosman saw Santilli's words differently": an owner is rarely who speaks next.
    inside = [m for m in inside if not _owner(doc, m)]
    if inside:
        return True, inside[-1].entity_id, _independent(touched, following)
    return False, None, _independent(touched, following)


def _independent(mentions: Sequence[EntityMention], following: int | None) -> bool:
    """True when no mention reaches past the sentence (so none can end after a pronoun)."""
    return following is not None and all(m.end_char <= following for m in mentions)


def _main_subjects(sent: Span, offset: int, ctx: Context) -> list[Token]:
    """Subjects of a sentence's main verbs, before an offset and outside quotes."""
    roots = [sent.root, *(t for t in sent.root.children if t.dep_ == "conj")]
    return [
        c
        for r in roots
        for c in r.children
        if c.dep_ in ("nsubj", "nsubjpass") and c.idx < offset and not _quoted(c.idx, ctx)
    ]


def _gender(mention: EntityMention, ctx: Context) -> str | None:
    """A person's gender when its title, first name or the article says so, else None."""
    if mention.label != "PERSON":
        return None
    # A title is never part of a mention (the span rules drop it); the one before it votes
    # in gender_cues. The mention's own first name before its entity's: "Ivanka Trump" may have been merged
    # into the entity of another Trump.
    name = mention.text.split()
    if len(name) < 2:
        name = ctx.names.get(mention.entity_id, mention.text).split()
    listed = first_name_gender(name[0]) if len(name) > 1 else None
    return listed or ctx.genders.get(mention.entity_id)


def article_genders(
    cues: GenderCues, mentions: Sequence[EntityMention], names: dict[str, str]
) -> dict[str, str]:
    """The gender an article gives each person it names, where first names do not tell
    ("Bernie" is listed as mostly female): by titles and pronouns, or a lone first name."""
    people = [m for m in mentions if m.label == "PERSON"]
    found = {}
    for entity, told in cues.items():
        count = _weighted(told)
        (top, n), (_, other) = [*count.most_common(), ("", 0)][:2]
        if n >= max(2, 2 * other):  # one "his" may be someone else's
            found[entity] = top
    # Someone known by one name only ("Melanie said") by the first name, unless that name
    # is also a surname here ("Clinton" is a listed first name).
    surnames = {m.text.split()[-1] for m in people if len(m.text.split()) > 1}
    for m in people:
        name = names.get(m.entity_id, m.text)
        lone = m.entity_id not in found and " " not in name and name not in surnames
        if lone and (listed := first_name_gender(name)) is not None:
            found[m.entity_id] = listed
    return found


def _weighted(cues: Counter[tuple[str, str]]) -> Counter[str]:
    """Votes per gender, each kind of cue by its weight."""
    votes: Counter[str] = Counter()
    for (gender, kind), n in cues.items():
        votes[gender] += n * CUE_VOTES[kind]
    return votes


def gender_cues(
    doc: Doc, mentions: Sequence[EntityMention], quoted: Sequence[Quoted]
) -> GenderCues:
    """Cues per person, by gender and kind: the honorific before each mention ("Mrs.
    Clinton"), and "he", "his", "she", "her" after the name in sentences naming only that
    person."""
    people = [m for m in mentions if m.label == "PERSON"]
    votes: GenderCues = defaultdict(Counter)
    starts = [m.start_char for m in people]
    in_quotes = QuotedOffsets(quoted)
    for sent in doc.sents:
        inside = people[bisect_left(starts, sent.start_char) : bisect_left(starts, sent.end_char)]
        for m in inside:
            first = doc.char_span(m.start_char, m.start_char + 1, alignment_mode="expand")
            before = doc[first.start - 1].lower_.rstrip(".") if first and first.start else ""
            if (gender := HONORIFICS.get(before)) is not None:
                votes[m.entity_id][gender, HONORIFIC] += 1
        if len({m.entity_id for m in inside}) != 1:
            continue
        for token in sent:
            gender = REFERRING_GENDER.get(token.lower_)
            if gender and token.idx > inside[0].start_char and token.idx not in in_quotes:
                votes[inside[0].entity_id][gender, PRONOUNS_CUE] += 1
    return votes


@dataclass(frozen=True)
class GenderCall:
    """What an article's text tells of a person's gender, and the kinds of evidence used."""

    gender: Gender
    evidence: str | None  # "honorific+first_name+pronouns" or a part; "conflicting"; None


UNKNOWN = GenderCall("unknown", None)


def person_genders(
    cues: GenderCues,
    mentions: Sequence[EntityMention],
    names: dict[str, str],
    min_votes: int,
    max_opposed_share: float,
) -> dict[str, GenderCall]:
    """The gender an article gives each person it names, from the honorifics before the
    name, the pronouns after it and the first name; unknown when thin or conflicting."""
    people = [m for m in mentions if m.label == "PERSON"]
    fullest: dict[str, str] = {}
    for m in people:
        if len(m.text.split()) > len(fullest.get(m.entity_id, "").split()):
            fullest[m.entity_id] = m.text
    calls = {}
    for entity in {m.entity_id for m in people}:
        found = cues.get(entity, Counter())
        # The canonical name may be another person's of the run ("Ivanka Trump" merged
        # into Trump's entity): the article's own fullest mention first.
        name = fullest[entity] if " " in fullest[entity] else names.get(entity, "")
        words = name.split()
        listed = sole_first_name_gender(words[0]) if len(words) > 1 else None
        if listed is not None:
            found[listed, FIRST_NAME] += 1
        calls[entity] = decide_gender(found, min_votes, max_opposed_share)
    return calls


def decide_gender(
    cues: Counter[tuple[str, str]], min_votes: int, max_opposed_share: float
) -> GenderCall:
    """One gender from weighted cues, or unknown when they are too few or disagree."""
    votes = _weighted(cues)
    if not votes:
        return UNKNOWN
    (top, n), (_, other) = [*votes.most_common(), ("", 0)][:2]
    strong = {g for (g, kind) in cues if kind != PRONOUNS_CUE}
    # An honorific or first name against another is a conflict whatever the pronouns say.
    if len(strong) > 1 or other > max_opposed_share * n:
        return GenderCall("unknown", CONFLICTING)
    if n < min_votes:
        return UNKNOWN
    kinds = [k for k in EVIDENCE_ORDER if (top, k) in cues]
    return GenderCall("female" if top == "female" else "male", "+".join(kinds))


def _entity(text: str, entity_id: str, verb: str | None, ctx: Context) -> Speaker:
    """A speaker resolved to an entity."""
    label = ctx.labels.get(entity_id)
    return Speaker(text, ctx.names.get(entity_id, text), entity_id, verb, speaker_type(label))


def _quoted(offset: int, ctx: Context) -> bool:
    """True when an offset lies inside one of the article's quotes."""
    return offset in ctx.in_quotes


def phrase(subject: Token) -> Span:
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


def _mention_at(offset: int, mentions: Mentions) -> str | None:
    """The entity of a speaking-type mention covering an offset (the phrase's head word)."""
    for m in mentions.covering(offset):
        if m.label in SPEAKING_LABELS:
            return m.entity_id
    return None


def _mention_within(chunk: Span, mentions: Mentions, labels: tuple[str, ...]) -> str | None:
    """An entity named inside a noun phrase ("State Department spokesman Ned Price")."""
    inside = [m for m in mentions.within(chunk.start_char, chunk.end_char) if m.label in labels]
    people = [m for m in inside if m.label == "PERSON"]
    return (people or inside)[0].entity_id if inside else None


def _person_within(subject: Token, mentions: Mentions) -> str | None:
    """A person named in the subject's subtree, as in "The chairman, Senator Bob Menendez,"."""
    start, end = subject.left_edge.idx, subject.right_edge.idx + len(subject.right_edge)
    people = [
        m for m in mentions.within(start, end) if m.label == "PERSON" and not _describes(subject, m)
    ]
    return people[0].entity_id if people else None


def _describes(subject: Token, mention: EntityMention) -> bool:
    """True for a name that only qualifies the subject's noun: "Grayson's spokeswoman" and
    "some Clinton allies" speak for Grayson and Clinton, but are not them."""
    root = _root(subject.doc, mention)
    return (
        root is not None
        and root.head == subject
        and root.dep_ in ("poss", "compound")
        and subject.pos_ == "NOUN"
    )
