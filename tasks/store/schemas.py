"""The warehouse contract: every Parquet table declared once, with a description per column."""

from __future__ import annotations

import pyarrow as pa

# Columns carry their documentation in field metadata so the writer, the tests and
# warehouse/README.md all read the same declaration.
DESCRIPTION = b"description"
# Wall-clock columns: the only ones allowed to differ when the same input is rerun.
VOLATILE = b"volatile"
# Hive partition columns: encoded in the directory name, not stored in the file.
PARTITION = b"partition"
# Ids a date's run decides within its date, which the views map to their value across run
# dates (`id_map`): the file keeps the date's own, so a date's files never change after it.
ACROSS = b"across_dates"

TS = pa.timestamp("us", tz="UTC")


def col(
    name: str,
    dtype: pa.DataType,
    description: str,
    *,
    nullable: bool = False,
    volatile: bool = False,
    partition: bool = False,
    across: bool = False,
) -> pa.Field:
    """Declare one column with its description and flags."""
    meta = {DESCRIPTION: description.encode()}
    if volatile:
        meta[VOLATILE] = b"true"
    if partition:
        meta[PARTITION] = b"true"
    if across:
        meta[ACROSS] = b"true"
    return pa.field(name, dtype, nullable=nullable, metadata=meta)


def _run_date() -> pa.Field:
    return col(
        "run_date",
        pa.date32(),
        "Logical date of the run that wrote the row (Hive partition `run_date=YYYY-MM-DD`).",
        partition=True,
    )


def _run_id() -> pa.Field:
    return col(
        "run_id",
        pa.string(),
        "Run id: the logical date and a hash of the inputs, settings and version, so a rerun on "
        "the same input keeps it.",
    )


ARTICLES = pa.schema(
    [
        col("article_id", pa.string(), "Stable id: hash of `source_uri` and the normalized body."),
        col(
            "content_hash",
            pa.string(),
            "Hash of the normalized body alone; equal for exact duplicates.",
        ),
        col(
            "source_uri",
            pa.string(),
            "Path relative to the input folder (`#L<n>` for a JSONL line, `#R<n>` for a record"
            " of a JSON array or a table, `#W<offset>` for a WARC record at that byte offset);"
            " a fetched page's URL.",
        ),
        col(
            "input_id",
            pa.string(),
            "The input's own id for the article (a record's `id`, or the field `--map"
            " id=KEY` names), as given.",
            nullable=True,
        ),
        col(
            "input_kind",
            pa.string(),
            "How the article came in: `file` (a page or text per file), a record of a `jsonl`,"
            " `json` or `table` (CSV/TSV) file, trafilatura's `xml`, a `warc` record, or a page"
            " fetched from a `feed`, a `sitemap` or a `url_list`.",
        ),
        col("url", pa.string(), "Page URL when the input gives one.", nullable=True),
        col(
            "fetched_at",
            TS,
            "When the page was fetched (UTC): by this run, or as a WARC record's date; null for"
            " an input that was not fetched.",
            nullable=True,
        ),
        col(
            "http_status",
            pa.int32(),
            "The HTTP status the page was served with, where it was fetched (a WARC response"
            " record's, or newsetl's own fetch); null otherwise.",
            nullable=True,
        ),
        col(
            "outlet",
            pa.string(),
            "Publishing outlet (site name, URL host or JSONL `source`).",
            nullable=True,
        ),
        col("title", pa.string(), "Article title, normalized.", nullable=True),
        col(
            "title_source",
            pa.string(),
            "Where the title came from (`input_field`, `html_metadata`, `title_prefix`, `first_line`).",
            nullable=True,
        ),
        col(
            "standfirst",
            pa.string(),
            "Standfirst (dek): the summary a page prints between headline and text, when its"
            " markup sets it apart; kept out of `body`.",
            nullable=True,
        ),
        col("author", pa.string(), "Author(s) as given by the page.", nullable=True),
        col(
            "published_at",
            TS,
            "Publication time (UTC; midnight when only a day is known).",
            nullable=True,
        ),
        col(
            "published_date",
            pa.date32(),
            "Calendar day of publication as the source states it, in the outlet's own time zone"
            " (`published_at` is UTC and can fall on the next or previous day).",
            nullable=True,
        ),
        col(
            "published_at_source",
            pa.string(),
            "Where `published_at` came from (`input_field`, `html_metadata`, `url`, `title_prefix`,"
            " `dateline`).",
            nullable=True,
        ),
        col(
            "modified_at",
            TS,
            "Last-modified time (UTC) when the page states one, kept apart from publication.",
            nullable=True,
        ),
        col(
            "modified_at_source",
            pa.string(),
            "Where `modified_at` came from (`input_field`, `html_metadata`, `dateline`).",
            nullable=True,
        ),
        col("language", pa.string(), "ISO 639-1 language of the body, `und` when undetermined."),
        col(
            "nlp_skip_reason",
            pa.string(),
            "Why entities and quotes were not extracted (e.g. `unsupported_language`); null when they were.",
            nullable=True,
        ),
        col(
            "body",
            pa.string(),
            "Clean, normalized text; paragraphs separated by a blank line. Offsets in other tables index this.",
        ),
        col(
            "word_count",
            pa.int32(),
            "Words in `body`: whitespace-separated tokens, each CJK character counting as one.",
        ),
        col("content_type", pa.string(), "Input kind: `html` or `text`."),
        col("encoding", pa.string(), "Encoding the input bytes were decoded with."),
        col(
            "duplicate_of",
            pa.string(),
            "`article_id` of the article this one exactly duplicates, else null: the earliest"
            " copy by run date (within `DedupSettings.history_days` before it), then by source.",
            nullable=True,
            across=True,
        ),
        col(
            "story_id",
            pa.string(),
            "Story this article belongs to, over all run dates (see the `stories` view).",
            across=True,
        ),
        col(
            "source_hash",
            pa.string(),
            "Hash of the input (content and given metadata) and of the extraction settings and "
            "version; an incremental run reuses the rows of an article whose input hash it has.",
        ),
        col(
            "warnings",
            pa.list_(pa.string()),
            "Problems the run worked around without dropping the article, each `reason: detail`"
            " (`invalid_utf8`: undecodable bytes replaced; `bad_date_field`: an input date that"
            " could not be read, dropped; `text_too_long`: entities and quotes from the first"
            " part of the body only; ...); empty when none.",
        ),
        _run_id(),
        _run_date(),
        col("ingested_at", TS, "Wall-clock time the run started.", volatile=True),
    ]
)

REMOVED_LINES = pa.schema(
    [
        col("article_id", pa.string(), "Article the line was removed from."),
        col(
            "line_no",
            pa.int32(),
            "1-based line number in the decoded input (HTML: in its visible text); 0 for an"
            " `outlet_template` paragraph, whose input line is not tracked.",
        ),
        col("text", pa.string(), "The removed line."),
        col("reason", pa.string(), "Cleaning rule that removed it (snake_case)."),
        _run_id(),
        _run_date(),
    ]
)

ENTITY_MENTIONS = pa.schema(
    [
        col("article_id", pa.string(), "Article containing the mention."),
        col(
            "entity_id",
            pa.string(),
            "Canonical entity, the same over all run dates (see `entities`, `entity_summary`).",
            across=True,
        ),
        col("text", pa.string(), "Mention as written in the body."),
        col("label", pa.string(), "Entity type (spaCy labels: PERSON, ORG, GPE, LOC, NORP, ...)."),
        col("start_char", pa.int32(), "Start offset in `articles.body`."),
        col("end_char", pa.int32(), "End offset in `articles.body` (exclusive)."),
        col(
            "ner_label",
            pa.string(),
            "Label NER and the rules gave this mention, before the run-wide vote that sets `label`.",
        ),
        col(
            "role",
            pa.string(),
            'Title written before a person\'s mention ("Secretary of State").',
            nullable=True,
        ),
        _run_id(),
        _run_date(),
    ]
)

ENTITIES = pa.schema(
    [
        col(
            "entity_id",
            pa.string(),
            "Stable id: hash of the entity's group key, its label and normalized name (a "
            "person's first and last name only, so middle names and initials do not change it);"
            " a bare surname or an aliased name takes the id of the entity it means across dates.",
            across=True,
        ),
        col(
            "canonical_name",
            pa.string(),
            'The alias file\'s name for it, else the fullest name among the merged mentions ("Antony J. Blinken").',
        ),
        col("label", pa.string(), "Entity type."),
        col(
            "aliases",
            pa.list_(pa.string()),
            "Every distinct surface form merged into this entity, sorted.",
        ),
        col("mention_count", pa.int32(), "Mentions in this run."),
        col("article_count", pa.int32(), "Articles of this run mentioning it."),
        col(
            "role",
            pa.string(),
            'A person\'s most frequent title, as written before the name ("Secretary of State").',
            nullable=True,
        ),
        col(
            "gender",
            pa.string(),
            "A person's gender: `female`, `male`, or `unknown` when the evidence is thin or"
            " conflicting (never a guess); null for other entities. The one the run's articles"
            " quoting them agree on (`quotes.speaker_gender`), else their first name's.",
            nullable=True,
        ),
        col(
            "gender_evidence",
            pa.string(),
            "What `gender` rests on: `honorific`, `first_name` and `pronouns`, joined by `+`;"
            " `conflicting` when the evidence disagreed; null when there was none.",
            nullable=True,
        ),
        col(
            "first_seen_at",
            TS,
            "Earliest publication time of this run's articles mentioning it (none dated: null).",
            nullable=True,
        ),
        _run_id(),
        _run_date(),
    ]
)

QUOTES = pa.schema(
    [
        col("quote_id", pa.string(), "Stable id: hash of the article id and the quote offsets."),
        col("article_id", pa.string(), "Article containing the quote."),
        col("text", pa.string(), "Quoted words, without the quote marks."),
        col("start_char", pa.int32(), "Start offset of the quoted words in `articles.body`."),
        col("end_char", pa.int32(), "End offset in `articles.body` (exclusive)."),
        col(
            "spans",
            pa.list_(
                pa.struct(
                    [
                        pa.field("start_char", pa.int32(), nullable=False),
                        pa.field("end_char", pa.int32(), nullable=False),
                    ]
                )
            ),
            "The quoted parts as offsets in `articles.body`: two for a quote split by its "
            "attribution, one per paragraph for a quote running over paragraphs.",
        ),
        col(
            "speaker",
            pa.string(),
            "Canonical name of the speaker when resolved, else the surface text.",
            nullable=True,
            across=True,
        ),
        col(
            "speaker_mention",
            pa.string(),
            'Speaker as written ("Colonna", "he", "the ministry").',
            nullable=True,
        ),
        col(
            "speaker_entity_id",
            pa.string(),
            "Canonical entity of the speaker when resolved.",
            nullable=True,
            across=True,
        ),
        col("verb", pa.string(), 'Reporting verb as written ("said", "told").', nullable=True),
        col(
            "is_partial",
            pa.bool_(),
            "True when a phrase is quoted inside a sentence rather than whole sentences.",
        ),
        col(
            "speaker_type",
            pa.string(),
            "`person`, `organization`, `anonymous` (an unnamed source: "
            '"a senior US official", "two diplomats") or `unknown`.',
        ),
        col(
            "speaker_gender",
            pa.string(),
            "A named person speaking: `female` or `male` as this article tells it (an"
            " honorific before the name, the first name, the pronouns that refer back to"
            " them); `unknown` when that evidence is thin or conflicting, and for every other"
            " speaker.",
        ),
        col(
            "speaker_gender_evidence",
            pa.string(),
            "What `speaker_gender` rests on: `honorific`, `first_name` and `pronouns`, joined"
            " by `+`; `conflicting` when they disagreed; null when there was none.",
            nullable=True,
        ),
        col(
            "quote_cluster_id",
            pa.string(),
            "Shared by the same quote in every article that reports it, on any run date"
            " (within `DedupSettings.history_days` of another report of it), small wording"
            " changes allowed: count outlets per quote with it.",
            across=True,
        ),
        _run_id(),
        _run_date(),
    ]
)

ARTICLE_LINKS = pa.schema(
    [
        col(
            "article_id",
            pa.string(),
            "The article the relation is stated for (the excerpt, the later duplicate).",
        ),
        col(
            "other_article_id",
            pa.string(),
            "The article it relates to (the fuller text, the original).",
        ),
        col(
            "relation",
            pa.string(),
            "`exact_duplicate`, `near_duplicate`, `excerpt`, `rewrite` (the same quotes and cast, reworded) or `same_story`.",
        ),
        col(
            "score",
            pa.float64(),
            "Strength of the relation in [0, 1] (Jaccard, containment or similarity).",
        ),
        col(
            "other_run_date",
            pa.date32(),
            "Run date of `other_article_id`: `run_date` for a link within a date; the views add"
            " the links across dates (`history_links`), whose `run_date` is that of `article_id`.",
            nullable=True,
        ),
        _run_id(),
        _run_date(),
    ]
)

REJECTS = pa.schema(
    [
        col("source_uri", pa.string(), "Input that did not become an article."),
        col(
            "reason",
            pa.string(),
            "Why, as a snake_case code (`empty_input`, `binary_content`, ...).",
        ),
        col("detail", pa.string(), "Human-readable detail."),
        col("stage", pa.string(), "Stage that rejected it (`ingest`, `clean`, `normalize`)."),
        _run_id(),
        _run_date(),
    ]
)

RUNS = pa.schema(
    [
        col(
            "run_id",
            pa.string(),
            "Run id (see `articles.run_id`); one row per attempt, reruns included.",
        ),
        col("flow_run_id", pa.string(), "Prefect flow run id.", nullable=True, volatile=True),
        col("input_dir", pa.string(), "Input folder as given."),
        col("started_at", TS, "Wall-clock start.", volatile=True),
        col(
            "finished_at",
            TS,
            "Wall-clock end; null while the attempt is `running` and for an `abandoned` one.",
            nullable=True,
            volatile=True,
        ),
        col(
            "status",
            pa.string(),
            "`running` (written when the attempt starts), then `succeeded` (the commit) or"
            " `failed`; `abandoned` when a later run finds the attempt's process gone.",
        ),
        col(
            "error",
            pa.string(),
            "Error message of a failed run; why an abandoned one was given up.",
            nullable=True,
        ),
        col("inputs", pa.int32(), "Inputs found (files, JSONL lines)."),
        col("articles", pa.int32(), "Articles written."),
        col("rejects", pa.int32(), "Inputs rejected."),
        col("removed_lines", pa.int32(), "Boilerplate lines removed."),
        col("entity_mentions", pa.int32(), "Entity mentions written."),
        col("entities", pa.int32(), "Canonical entities written."),
        col("quotes", pa.int32(), "Quotes written."),
        col("article_links", pa.int32(), "Article links written."),
        col("stories", pa.int32(), "Stories written."),
        col(
            "reused_articles",
            pa.int32(),
            "Articles already in the warehouse with the same input hash, reused without extraction.",
        ),
        col(
            "warnings",
            pa.list_(pa.string()),
            "Warn-level data checks that found rows, as `check_name: n rows`; what the"
            " cross-date step had to rebuild (`history_indexed`, `history_rebuilt`); and what"
            " the inputs held besides articles (`warc_records_skipped`, `listing_skipped`,"
            " `pages_capped`, `sitemaps_capped`, `sitemap_loop`).",
        ),
        col(
            "aliases_fingerprint",
            pa.string(),
            "Hash of the alias file the run merged entities with: when it changes, the next run"
            " maps the entities of every date again.",
            nullable=True,
        ),
        _run_date(),
    ]
)


# Cross-date tables: what a run of one date compares with the other dates (the history
# index) and what it decides across them (links, quote links and the id map). A run writes
# them for its own date and for every other date whose rows its articles change.
ARTICLE_INDEX = pa.schema(
    [
        col("article_id", pa.string(), "Article of the date."),
        col("content_hash", pa.string(), "Hash of its normalized body (`articles.content_hash`)."),
        col("source_uri", pa.string(), "Its input (`articles.source_uri`)."),
        col(
            "local_story_id",
            pa.string(),
            "Its story within the date (`articles.story_id` of the file).",
        ),
        col(
            "story_name",
            pa.string(),
            "Smallest `article_id` of that story: the story id across dates is the hash of the"
            " smallest of its stories' names.",
        ),
        col("is_copy", pa.bool_(), "An exact copy of an earlier article of its date."),
        col("published_at", TS, "Publication time (`articles.published_at`).", nullable=True),
        col(
            "lead_weekday",
            pa.int32(),
            "For an undated article, the weekday its lead names (0 = Monday): its time evidence.",
            nullable=True,
        ),
        col("shingle_count", pa.int32(), "Distinct word shingles of the body."),
        col(
            "shingle_samples",
            pa.list_(pa.int64()),
            "Hashes of the shingles whose hash falls in the sample (`DedupSettings.sample_every`):"
            " two articles sharing text share sampled shingles.",
        ),
        col(
            "terms",
            pa.list_(pa.string()),
            "Its distinctive top terms (`DedupSettings.candidate_terms`): same-story candidates share one.",
        ),
        col(
            "vector_terms",
            pa.list_(pa.string()),
            "Terms of its TF-IDF vector (idf of its date), sorted; empty when too short to judge.",
        ),
        col("vector_weights", pa.list_(pa.float64()), "Weights of `vector_terms`, unit length."),
        col("cast_keys", pa.list_(pa.string()), "Group keys of the entities it mentions, sorted."),
        col("quote_keys", pa.list_(pa.string()), "Word keys of its quotes, sorted."),
        _run_id(),
        _run_date(),
    ]
)

QUOTE_INDEX = pa.schema(
    [
        col(
            "quote_cluster_id",
            pa.string(),
            "Quote cluster within the date (`quotes.quote_cluster_id` of the file).",
        ),
        col("key", pa.string(), "Word key of one of its quotes (lower-cased words)."),
        col(
            "trigrams",
            pa.list_(pa.int64()),
            "Hashes of the key's word trigrams when it is long enough to match with small"
            " wording changes (`QuoteSettings.cluster_min_words`); else empty.",
        ),
        _run_id(),
        _run_date(),
    ]
)

ENTITY_INDEX = pa.schema(
    [
        col("entity_id", pa.string(), "Entity within the date (`entities.entity_id` of the file)."),
        col(
            "group_key",
            pa.string(),
            'Its group key ("PERSON:antony blinken"), whose hash is the id.',
        ),
        col("label", pa.string(), "Its label."),
        col("canonical_name", pa.string(), "Its fullest written name on the date."),
        col("mention_count", pa.int32(), "Its mentions on the date."),
        _run_id(),
        _run_date(),
    ]
)

HISTORY_LINKS = pa.schema(
    [
        col(
            "article_id",
            pa.string(),
            "The article the relation is stated for, as in `article_links`.",
        ),
        col("article_run_date", pa.date32(), "Run date of `article_id`."),
        col("other_article_id", pa.string(), "The article it relates to."),
        col("other_run_date", pa.date32(), "Run date of `other_article_id`."),
        col("relation", pa.string(), "As in `article_links`."),
        col("score", pa.float64(), "As in `article_links`."),
        col("run_id", pa.string(), "Run that found the link."),
        col(
            "run_date",
            pa.date32(),
            "The later of the two run dates (Hive partition): the date whose articles' links to"
            " earlier dates the file holds.",
            partition=True,
        ),
    ]
)

QUOTE_LINKS = pa.schema(
    [
        col("quote_cluster_id", pa.string(), "Quote cluster within its date."),
        col("cluster_run_date", pa.date32(), "Its run date."),
        col(
            "other_quote_cluster_id",
            pa.string(),
            "A quote cluster of another date with the same quote.",
        ),
        col("other_run_date", pa.date32(), "Its run date."),
        col("run_id", pa.string(), "Run that found the link."),
        col(
            "run_date",
            pa.date32(),
            "The later of the two run dates (Hive partition).",
            partition=True,
        ),
    ]
)

ID_MAP = pa.schema(
    [
        col(
            "kind",
            pa.string(),
            "`story` (a story within the date), `quote_cluster`, `entity`, or `duplicate_of`"
            " (an article whose earliest copy is on an earlier date).",
        ),
        col("local_id", pa.string(), "The id within the date (for `duplicate_of`: the article)."),
        col(
            "global_id", pa.string(), "The id across dates (for `duplicate_of`: the earliest copy)."
        ),
        col(
            "name",
            pa.string(),
            "For an entity named in the alias file, the file's canonical name.",
            nullable=True,
        ),
        col("run_id", pa.string(), "Run that decided the mapping."),
        _run_date(),
    ]
)

FETCHES = pa.schema(
    [
        col(
            "url", pa.string(), "The page newsetl asked for (from a feed, a sitemap or a URL list)."
        ),
        col("final_url", pa.string(), "The page's URL after redirects.", nullable=True),
        col(
            "listed_in",
            pa.string(),
            "The feed, sitemap or URL list that named the page (`--input`).",
        ),
        col(
            "http_status",
            pa.int32(),
            "The status of the last answer (304 when unchanged since the fetch the conditional"
            " request named); null when no answer came.",
            nullable=True,
        ),
        col(
            "outcome",
            pa.string(),
            "`article`, or the reason it is none: the `rejects` row's reason (`not_modified`,"
            " `robots_disallowed`, `http_status_410`, `timeout`, `too_large`, `not_html`, ...).",
        ),
        col("fetched_at", TS, "When the answer came, or the fetch gave up (UTC).", volatile=True),
        col(
            "etag",
            pa.string(),
            "The page's `ETag`, sent as `If-None-Match` by the next run's fetch.",
            nullable=True,
        ),
        col(
            "last_modified",
            pa.string(),
            "The page's `Last-Modified`, sent as `If-Modified-Since` by the next run's fetch.",
            nullable=True,
        ),
        col(
            "archive",
            pa.string(),
            "The WARC file the page as fetched is kept in, relative to the warehouse (beside"
            " this file: `fetches/run_date=D/<attempt>.warc.gz`); null when no page was kept.",
            nullable=True,
        ),
        col("archive_offset", pa.int64(), "The record's byte offset in `archive`.", nullable=True),
        col("archive_length", pa.int64(), "The record's length in `archive`.", nullable=True),
        _run_id(),
        _run_date(),
    ]
)

# Append-only tables keep one file per run attempt (a log); all others replace their partition.
APPEND_ONLY = frozenset({"runs"})

TABLES: dict[str, pa.Schema] = {
    "articles": ARTICLES,
    "removed_lines": REMOVED_LINES,
    "entity_mentions": ENTITY_MENTIONS,
    "entities": ENTITIES,
    "quotes": QUOTES,
    "article_links": ARTICLE_LINKS,
    "rejects": REJECTS,
    "fetches": FETCHES,
    "runs": RUNS,
    "article_index": ARTICLE_INDEX,
    "quote_index": QUOTE_INDEX,
    "entity_index": ENTITY_INDEX,
    "history_links": HISTORY_LINKS,
    "quote_links": QUOTE_LINKS,
    "id_map": ID_MAP,
}
# Written for a date by its own run, from its own articles: the history index.
INDEX_TABLES = ("article_index", "quote_index", "entity_index")
# Written for any date by the run whose articles change them: decisions across dates.
ACROSS_TABLES = ("history_links", "quote_links", "id_map")

# Views computed over all run dates, declared like the tables so the views can be checked
# against them and documented with them.
STORIES = pa.schema(
    [
        col(
            "story_id",
            pa.string(),
            "Stable id: hash of the smallest `article_id` of the story, over all dates.",
        ),
        col(
            "title",
            pa.string(),
            "Representative title (of the earliest dated titled article).",
            nullable=True,
        ),
        col("article_count", pa.int64(), "Articles in the story, over all run dates."),
        col("outlets", pa.list_(pa.string()), "Distinct outlets covering the story, sorted."),
        col(
            "first_published_at", TS, "Earliest publication time among its articles.", nullable=True
        ),
        col("last_published_at", TS, "Latest publication time among its articles.", nullable=True),
        col(
            "top_entities",
            pa.list_(pa.string()),
            "Canonical names of its most widely mentioned entities (most articles, then most "
            "mentions), at most five.",
        ),
        col("first_run_date", pa.date32(), "Earliest run date holding one of its articles."),
        col("last_run_date", pa.date32(), "Latest run date holding one of its articles."),
        col("run_dates", pa.int64(), "Run dates holding its articles."),
    ]
)

ENTITY_SUMMARY = pa.schema(
    [
        col("entity_id", pa.string(), "Canonical entity, the same over all run dates."),
        col(
            "canonical_name",
            pa.string(),
            "The alias file's name for it, else its fullest written name over all dates.",
        ),
        col("label", pa.string(), "Entity type (the most frequent over its dates)."),
        col("aliases", pa.list_(pa.string()), "Every distinct surface form, sorted."),
        col("mention_count", pa.int64(), "Mentions over all run dates."),
        col("article_count", pa.int64(), "Articles mentioning it."),
        col("outlet_count", pa.int64(), "Distinct outlets of those articles."),
        col("role", pa.string(), "A person's most frequent title.", nullable=True),
        col(
            "gender",
            pa.string(),
            "A person's gender over all run dates: the one their dates agree on, else"
            " `unknown`; null for other entities.",
            nullable=True,
        ),
        col(
            "gender_evidence",
            pa.string(),
            "What `gender` rests on (the date with the most kinds of evidence), or `conflicting`.",
            nullable=True,
        ),
        col(
            "first_seen_at",
            TS,
            "Earliest publication time of an article mentioning it.",
            nullable=True,
        ),
        col(
            "last_seen_at",
            TS,
            "Latest publication time of an article mentioning it.",
            nullable=True,
        ),
        col("first_run_date", pa.date32(), "Earliest run date mentioning it."),
        col("last_run_date", pa.date32(), "Latest run date mentioning it."),
    ]
)


def _flat(base: pa.Schema, added: list[pa.Field], drop: tuple[str, ...] = ()) -> pa.Schema:
    """A flat view's columns: the base's without its lists and structs (or `drop`), then `added`."""
    kept = [f for f in base if not pa.types.is_nested(f.type) and f.name not in drop]
    return pa.schema([*kept, *added])


def _element(name: str, dtype: pa.DataType, description: str) -> pa.Field:
    """A column of a list's element: null for a parent with no elements."""
    return col(name, dtype, description, nullable=True)


def _renamed(field: pa.Field, name: str, description: str) -> pa.Field:
    """A declared column under another name and description."""
    meta = {**(field.metadata or {}), DESCRIPTION: description.encode()}
    return field.with_name(name).with_metadata(meta)


def _warnings_of(of: str) -> list[pa.Field]:
    """The element columns of a list of warnings."""
    return [
        _element(
            "warning_index", pa.int32(), f"Position of the warning in the {of}'s list, from 1."
        ),
        _element("warning", pa.string(), f"One of the {of}'s warnings."),
    ]


# Flat views for BI tools (charts, CSV exports), which take no list or struct column: each
# unnests one list of a view above into one row per element beside the parent's scalar
# columns, and a parent with no elements keeps one row with the element's columns null. The
# internal history index (`article_index`, `quote_index`) has none.
FLAT_VIEWS: dict[str, pa.Schema] = {
    "quote_spans": _flat(
        QUOTES,
        [
            _element("span_index", pa.int32(), "Position of the span in the quote, from 1."),
            _element("span_start_char", pa.int32(), "Start offset of this span in the body."),
            _element("span_end_char", pa.int32(), "End offset of this span in the body."),
        ],
    ),
    "story_articles": _flat(
        STORIES,
        [
            ARTICLES.field("article_id"),
            ARTICLES.field("outlet"),
            _renamed(ARTICLES.field("title"), "article_title", "The article's own title."),
            ARTICLES.field("url"),
            ARTICLES.field("published_at"),
            ARTICLES.field("duplicate_of"),
            _renamed(ARTICLES.field("run_date"), "run_date", "Run date holding the article."),
        ],
    ),
    "story_entities": _flat(
        STORIES,
        [
            _element("entity_rank", pa.int32(), "Rank among the story's top entities, from 1."),
            _element("entity_name", pa.string(), "Canonical name of one of its top entities."),
        ],
    ),
    "entity_aliases": _flat(
        ENTITY_SUMMARY, [_element("alias", pa.string(), "One distinct surface form of the entity.")]
    ),
    "article_warnings": _flat(ARTICLES, _warnings_of("article"), drop=("body",)),
    "run_warnings": _flat(RUNS, _warnings_of("run")),
}
# The flat view of each list column's table or view.
FLATTENED_BY: dict[str, tuple[str, ...]] = {
    "quotes": ("quote_spans",),
    "stories": ("story_articles", "story_entities"),
    "entity_summary": ("entity_aliases",),
    "entities": ("entity_aliases",),
    "articles": ("article_warnings",),
    "runs": ("run_warnings",),
}

VIEWS: dict[str, pa.Schema] = {
    "stories": STORIES,
    "entity_summary": ENTITY_SUMMARY,
    **FLAT_VIEWS,
}


def is_flag(field: pa.Field, flag: bytes) -> bool:
    """Tell whether a column carries a flag (VOLATILE, PARTITION)."""
    return bool(field.metadata and field.metadata.get(flag) == b"true")


def file_schema(schema: pa.Schema) -> pa.Schema:
    """The schema stored in the Parquet file: the declaration less its partition columns."""
    return pa.schema([f for f in schema if not is_flag(f, PARTITION)])


def describe(field: pa.Field) -> str:
    """The description of a column."""
    raw: bytes = (field.metadata or {}).get(DESCRIPTION, b"")
    return raw.decode()


def sql_type(dtype: pa.DataType) -> str:
    """A column type as DuckDB users will see it."""
    names = {
        pa.string(): "VARCHAR",
        pa.int32(): "INTEGER",
        pa.int64(): "BIGINT",
        pa.float64(): "DOUBLE",
        pa.bool_(): "BOOLEAN",
        pa.date32(): "DATE",
        TS: "TIMESTAMP WITH TIME ZONE",
    }
    if pa.types.is_list(dtype):
        return f"{sql_type(dtype.value_type)}[]"
    if pa.types.is_struct(dtype):
        fields = ", ".join(f"{f.name} {sql_type(f.type)}" for f in dtype)
        return f"STRUCT({fields})"
    return names.get(dtype, str(dtype))


def render_markdown() -> str:
    """The schema document (warehouse/README.md), generated from the declarations above."""
    out = [
        "# Warehouse schema",
        "",
        "Generated from `tasks/store/schemas.py` by `newsetl schema-doc`; do not edit by hand.",
        "",
        "Each table is Parquet under `warehouse/<table>/run_date=YYYY-MM-DD/<attempt>.parquet`,",
        "Hive-partitioned by logical date. Every attempt writes its own files (temp name, then",
        "rename) and commits them by writing its `runs` row last. An attempt writes every table",
        "of its own date, and the cross-date tables of any other date its articles change; the",
        "DuckDB views of `tasks/warehouse/sql/views.sql` read, in each table's date folder, the file of the",
        "latest committed attempt that wrote one, so a crashed attempt shows nothing. The next",
        "run deletes unfinished attempts' files, and a superseded file once no query can still",
        "be reading it (`Settings.superseded_grace_seconds`). `runs` keeps one row per attempt,",
        "from `running` to its outcome. Query through the views (`newsetl sql`, or",
        "`duckdb warehouse/newsetl.duckdb`); `committed_attempts` lists each date's committed",
        "attempt and run id.",
        "",
        "## Across run dates",
        "",
        "A run links its articles to the committed articles of the other run dates within",
        "`DedupSettings.history_days` (before and after its own): exact and near copies,",
        "excerpts and rewrites at any distance in that window, `same_story` only within its",
        "publication-time window. Stories, entities and quote clusters are then merged over all",
        "dates. A date's own files keep the ids decided within that date; columns marked",
        "*across dates* are mapped by the views (through `id_map`) to their value over all",
        "dates, so every reader of the views sees a story that continues over several dates",
        "under one `story_id`, and one `entity_id` per entity. The result does not depend on",
        "the order in which dates are run, and rerunning a date on the same input changes",
        "nothing. A run reads only the history index of the dates in its window.",
        "",
        "Columns marked *volatile* hold wall-clock times; they are the only values that",
        "differ when the same input is run again for the same date.",
        "",
    ]
    for name, schema in TABLES.items():
        if name == INDEX_TABLES[0]:
            out += ["# Cross-date tables", "",
                    "The history index and the decisions across dates: read them through the",
                    "views above; their layout may change between releases.", ""]  # fmt: skip
        out += _table_doc(f"`{name}`", schema)
    out += ["# Views over all run dates", ""]
    for name, schema in VIEWS.items():
        if name == next(iter(FLAT_VIEWS)):
            out += ["# Flat views for BI tools", "",
                    "Charts and CSV exports take no list or struct column: each of these views",
                    "unnests one list of a table or view above into one row per element, beside",
                    "the parent's scalar columns; a parent with no elements keeps one row, the",
                    "element's columns null (`story_articles` keeps only stories' articles).",
                    "`article_warnings` leaves out the body.", ""]  # fmt: skip
        out += _table_doc(f"`{name}` (view)", schema)
    return "\n".join(out)


def _table_doc(title: str, schema: pa.Schema) -> list[str]:
    """One table's section of the schema document."""
    out = [f"## {title}", "", "| column | type | null | description |", "|---|---|---|---|"]
    for field in schema:
        notes = [describe(field)]
        if is_flag(field, VOLATILE):
            notes.append("*volatile*")
        if is_flag(field, PARTITION):
            notes.append("*partition column*")
        if is_flag(field, ACROSS):
            notes.append("*across dates*")
        null = "yes" if field.nullable else "no"
        out.append(f"| `{field.name}` | {sql_type(field.type)} | {null} | {' '.join(notes)} |")
    out.append("")
    return out
