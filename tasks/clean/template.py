"""Outlet templates: paragraphs that recur across many pages of one outlet in a batch."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import PurePosixPath

from tasks.core.records import CleanDocument, RemovedLine
from tasks.text.keys import match_key

REASON = "outlet_template"


@dataclass(frozen=True)
class TemplateSettings:
    """When a recurring paragraph counts as the outlet's template rather than its news."""

    # Fewer pages of one outlet say nothing about its template.
    min_outlet_docs: int = 5
    # A paragraph on at least this share of an outlet's distinct pages (and on 3 or more)
    # is the site's furniture: a subscription prompt, a disclaimer, a contact box.
    min_share: float = 0.5
    min_docs: int = 3
    # Templates sit above or below the article; a recurring paragraph in the middle of a
    # page is more likely a quoted statement or a wire boilerplate line worth keeping.
    edge_paragraphs: int = 3


def outlet_key(doc: CleanDocument) -> str:
    """The outlet a page belongs to: its outlet or URL host, else the folder it came from."""
    if doc.outlet:
        return doc.outlet
    return f"folder:{PurePosixPath(doc.source_uri.split('#')[0]).parent}"


def remove_templates(
    docs: Sequence[CleanDocument], settings: TemplateSettings
) -> list[CleanDocument]:
    """Drop each outlet's recurring edge paragraphs from its pages, recording them as removed."""
    groups: dict[str, list[int]] = defaultdict(list)
    for n, doc in enumerate(docs):
        groups[outlet_key(doc)].append(n)
    out = list(docs)
    for members in groups.values():
        template = _template_keys([docs[n] for n in members], settings)
        for n in members:
            out[n] = _without(docs[n], template, settings)
    return out


def _template_keys(docs: Sequence[CleanDocument], settings: TemplateSettings) -> set[str]:
    """Keys of the edge paragraphs found on enough of a group's distinct pages."""
    bodies = {doc.body: doc for doc in docs}  # exact duplicates count once
    if len(bodies) < settings.min_outlet_docs:
        return set()
    counts: Counter[str] = Counter()
    for body in bodies:
        counts.update({k for p in _edges(body.split("\n\n"), settings) if (k := match_key(p))})
    needed = max(settings.min_docs, settings.min_share * len(bodies))
    return {key for key, count in counts.items() if count >= needed}


def _edges(paragraphs: Sequence[str], settings: TemplateSettings) -> list[str]:
    """The first and last few paragraphs of a body."""
    k = settings.edge_paragraphs
    return [*paragraphs[:k], *paragraphs[-k:]]


def _without(doc: CleanDocument, template: set[str], settings: TemplateSettings) -> CleanDocument:
    """The document without its template edge paragraphs; unchanged if nothing would be left."""
    paragraphs = doc.body.split("\n\n")
    edges = set(_edges(paragraphs, settings))
    drop = [p for p in paragraphs if p in edges and match_key(p) in template]
    kept = [p for p in paragraphs if p not in drop]
    if not drop or not kept:
        return doc
    # A paragraph's input lines are not tracked past cleaning: line 0 means "not known".
    removed = [*doc.removed, *(RemovedLine(0, p, REASON) for p in drop)]
    return replace(doc, body="\n\n".join(kept), removed=tuple(removed))
