"""Typed records passed between stages; every stage takes and returns these, never loose dicts."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

ContentType = Literal["html", "text"]
# How an article came in: one file each (`file`), a record of a JSONL, JSON or table file, a
# trafilatura XML file, a record of a WARC archive, or a page fetched from a feed, a sitemap or a list of URLs.
InputKind = Literal["file", "jsonl", "json", "table", "xml", "warc", "feed", "sitemap", "url_list"]
# Ids keep 64 bits of sha256: collisions stay negligible for many millions of rows while the
# ids stay short enough to read in queries.
ID_HEX_CHARS = 16


def short_hash(text: str, length: int = ID_HEX_CHARS) -> str:
    """The first hex characters of the text's sha256: the stable ids of every table."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


@dataclass(frozen=True)
class RawDocument:
    """One decoded input: a file, or one line of a JSONL file."""

    source_uri: str  # path relative to the input folder; JSONL lines get "#L<n>" (1-based)
    content: str  # decoded HTML or plain text
    content_type: ContentType
    encoding: str  # the encoding the bytes were decoded with
    url: str | None = None
    title: str | None = None  # given by the input (JSONL `title`), trusted over extraction
    published_at: str | None = None  # given by the input (JSONL `published_at`), unparsed
    outlet: str | None = None  # given by the input (JSONL `source`)
    author: str | None = None  # given by the input (a record's `author`), trusted over extraction
    input_id: str | None = None  # the input's own id for the article (a record's `id`)
    source_hash: str = ""  # hash of the input and the extraction settings; see ingest.source_hash
    warnings: tuple[str, ...] = ()  # what was worked around: "reason: detail" (see Article)
    input_kind: InputKind = "file"
    fetched_at: datetime | None = None  # when the page was fetched (a WARC record's date)
    http_status: int | None = None  # the status the page was served with, where it was fetched
    http_last_modified: str | None = None  # the `Last-Modified` header, unparsed


@dataclass(frozen=True)
class Reject:
    """An input that did not become an article, with a snake_case reason."""

    source_uri: str
    reason: str
    detail: str
    stage: str


@dataclass(frozen=True)
class RemovedLine:
    """A line the cleaner dropped from an input, and why."""

    line_no: int  # 1-based line in the decoded input (HTML: visible text); 0 if unknown
    text: str
    reason: str  # snake_case rule name


@dataclass(frozen=True)
class DateCandidate:
    """A date found for a document, with where it came from."""

    value: datetime  # timezone-aware (UTC when the source gives no zone)
    source: str  # e.g. "input_field", "html_metadata", "title_prefix", "dateline", "page_header"
    kind: Literal["published", "modified", "page"]  # "page": a page/header date, never publication


@dataclass(frozen=True)
class CleanDocument:
    """An input with its boilerplate removed and its metadata candidates gathered."""

    source_uri: str
    content_type: ContentType
    encoding: str
    body: str  # main text; paragraphs separated by a blank line
    removed: tuple[RemovedLine, ...]
    title: str | None
    title_source: str | None  # e.g. "input_field", "html_metadata", "title_prefix", "first_line"
    dates: tuple[DateCandidate, ...]
    outlet: str | None
    url: str | None
    author: str | None
    standfirst: str | None = None  # the summary printed between headline and text, if marked
    source_hash: str = ""
    warnings: tuple[str, ...] = ()
    input_id: str | None = None  # the input's own id (see RawDocument)
    input_kind: InputKind = "file"
    fetched_at: datetime | None = None
    http_status: int | None = None


@dataclass(frozen=True)
class Article:
    """A normalized article: the unit every later stage works on."""

    article_id: str  # hash of source_uri and normalized body (one row per input, stable)
    content_hash: str  # hash of the normalized body alone: equal for exact duplicates
    source_uri: str
    url: str | None
    outlet: str | None
    title: str | None
    title_source: str | None
    standfirst: str | None  # the summary (dek) under the headline; not part of the body
    author: str | None
    published_at: datetime | None  # UTC
    published_date: date | None  # calendar day of publication in the outlet's own time zone
    published_at_source: str | None
    modified_at: datetime | None  # UTC
    modified_at_source: str | None
    language: str  # ISO 639-1, or "und" when undetermined
    nlp_skip_reason: (
        str | None
    )  # why entities/quotes were not extracted (e.g. unsupported_language)
    body: str
    word_count: int
    content_type: ContentType
    encoding: str
    removed: tuple[RemovedLine, ...]
    duplicate_of: str | None = None
    story_id: str | None = None
    source_hash: str = ""  # the input it came from, for incremental runs
    # Problems worked around without losing the article ("invalid_utf8: 4 bytes replaced").
    warnings: tuple[str, ...] = ()
    input_id: str | None = None  # the input's own id (see RawDocument)
    input_kind: InputKind = "file"
    fetched_at: datetime | None = None  # UTC
    http_status: int | None = None


@dataclass(frozen=True)
class Mention:
    """A named-entity mention found by NER and rules, before canonicalization."""

    article_id: str
    text: str
    label: str  # PERSON, ORG, GPE, LOC, NORP, ... (spaCy labels)
    start_char: int  # offsets into Article.body, end exclusive
    end_char: int
    role: str | None = None  # the title written before a person ("Secretary of State")


@dataclass(frozen=True)
class EntityMention:
    """A mention linked to its canonical entity."""

    article_id: str
    entity_id: str
    text: str
    label: str  # the entity's label
    start_char: int
    end_char: int
    ner_label: str = ""  # the label NER and rules gave this mention, before the run-wide vote
    role: str | None = None


@dataclass(frozen=True)
class Entity:
    """A canonical entity of the run, merging its surface forms."""

    entity_id: str
    canonical_name: str
    label: str
    aliases: tuple[str, ...]
    mention_count: int
    article_count: int
    role: str | None  # a person's most frequent title
    first_seen_at: datetime | None  # earliest publication time of an article mentioning it
    group_key: str = ""  # the string entity_id hashes: "PERSON:antony blinken"
    gender: Gender | None = None  # a person's, from the run's quotes of them or first name
    gender_evidence: str | None = None  # the kinds of evidence it rests on, or "conflicting"


@dataclass(frozen=True)
class ParsedBatch:
    """spaCy analyses of a batch as DocBin bytes, so later stages never parse twice."""

    article_ids: tuple[str, ...]
    docbin: bytes


@dataclass(frozen=True)
class MentionBatch:
    """What the entities stage made of a batch: mentions, the parses, and what it gave up."""

    mentions: tuple[Mention, ...]
    parsed: ParsedBatch  # the articles analysed, in batch order
    rejects: tuple[Reject, ...]  # articles that failed analysis: they leave the run
    warnings: tuple[tuple[str, str], ...] = ()  # (article_id, "reason: detail") to add


SpeakerType = Literal["person", "organization", "anonymous", "unknown"]
Gender = Literal["female", "male", "unknown"]


@dataclass(frozen=True)
class QuoteSpan:
    """One quoted stretch of a quote, as offsets in Article.body (marks excluded)."""

    start_char: int
    end_char: int


@dataclass(frozen=True)
class Quote:
    """A direct quote with its speaker."""

    quote_id: str
    article_id: str
    text: str  # without the quote marks; the parts of a split quote joined by a space
    start_char: int  # offsets of the quoted text (without marks) in Article.body:
    end_char: int  # from the first part's start to the last part's end
    spans: tuple[QuoteSpan, ...]  # the parts (two around "he said", one per paragraph)
    speaker: str | None  # canonical name when resolved, else the surface text
    speaker_mention: str | None  # the speaker as written ("Colonna", "he", "the ministry")
    speaker_entity_id: str | None
    verb: str | None  # reporting verb as written ("said", "told", "added")
    is_partial: bool  # a phrase quoted inside a sentence, not a whole quoted sentence
    speaker_type: SpeakerType
    quote_cluster_id: str  # the same quote in other articles (small wording changes) shares it
    speaker_gender: Gender = "unknown"  # as the article tells of a named person speaking
    speaker_gender_evidence: str | None = None  # "honorific+first_name+pronouns", or a part


Relation = Literal["exact_duplicate", "near_duplicate", "excerpt", "rewrite", "same_story"]


@dataclass(frozen=True)
class ArticleLink:
    """A directed relation between two articles of the run."""

    article_id: str
    other_article_id: str
    relation: Relation
    score: float


@dataclass(frozen=True)
class Story:
    """A group of articles about the same event."""

    story_id: str
    title: str | None
    article_count: int
    outlets: tuple[str, ...]
    first_published_at: datetime | None
    last_published_at: datetime | None
    top_entities: tuple[str, ...]  # canonical names, most widely mentioned first


RunStatus = Literal["running", "succeeded", "failed", "abandoned"]


@dataclass(frozen=True)
class RunSummary:
    """What one run did: its identity, timing, outcome and counts per stage."""

    run_id: str
    flow_run_id: str | None
    input_dir: str
    started_at: datetime
    finished_at: datetime | None  # None while running, and for an abandoned attempt
    status: RunStatus
    error: str | None
    inputs: int
    articles: int
    rejects: int
    removed_lines: int
    entity_mentions: int
    entities: int
    quotes: int
    article_links: int
    stories: int
    reused_articles: int = 0  # articles taken from the warehouse, not extracted again
    warnings: tuple[str, ...] = ()  # warn-level checks that found rows, notes on the inputs
    aliases_fingerprint: str | None = None  # the alias file the entity ids were mapped with


@dataclass(frozen=True)
class RunOutput:
    """Everything a run produced, before it becomes tables."""

    inputs: int
    articles: Sequence[Article]
    rejects: Sequence[Reject]
    mentions: Sequence[EntityMention]
    entities: Sequence[Entity]
    quotes: Sequence[Quote]
    links: Sequence[ArticleLink]
    stories: Sequence[Story]
    fetches: Sequence[FetchRow] = ()


@dataclass(frozen=True)
class Alias:
    """One line of the alias file: a name, the entity it means, and optionally its label."""

    name: str
    canonical: str
    label: str | None = None


@dataclass(frozen=True)
class FetchRow:
    """One page newsetl fetched for a run (a row of `fetches`), and what came of it."""

    url: str
    final_url: str | None
    listed_in: str
    http_status: int | None
    outcome: str  # "article", or the reject's reason
    fetched_at: datetime
    etag: str | None
    last_modified: str | None
    archive: str | None  # the WARC file the page is kept in, relative to the warehouse
    archive_offset: int | None
    archive_length: int | None


@dataclass(frozen=True)
class PriorFetch:
    """What an earlier run's fetch of a page left: its validators and its kept copy."""

    run_date: date
    etag: str | None
    last_modified: str | None
    archive: str  # relative to the warehouse
    archive_offset: int
    archive_length: int
