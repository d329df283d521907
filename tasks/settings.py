"""All tunable settings in one frozen tree; stages receive their own part, never the environment."""

from __future__ import annotations

from dataclasses import dataclass, field

from tasks.clean import CleanSettings
from tasks.dedup import DedupSettings
from tasks.entities import EntitySettings
from tasks.ingest import IngestSettings
from tasks.normalize import NormalizeSettings
from tasks.quotes import QuoteSettings


@dataclass(frozen=True)
class Settings:
    """Run-wide settings; each stage reads only its own section."""

    # Articles per Prefect task call: large enough to amortize spaCy's batched pipe,
    # small enough that one batch's texts and parses stay well under a few hundred MB.
    batch_size: int = 500
    ingest: IngestSettings = field(default_factory=IngestSettings)
    clean: CleanSettings = field(default_factory=CleanSettings)
    normalize: NormalizeSettings = field(default_factory=NormalizeSettings)
    entities: EntitySettings = field(default_factory=EntitySettings)
    quotes: QuoteSettings = field(default_factory=QuoteSettings)
    dedup: DedupSettings = field(default_factory=DedupSettings)
