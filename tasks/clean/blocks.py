"""Main-text block of a page's lines: prose lines score for, interface lines against, best run wins."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from tasks.text.keys import CJK
from tasks.text.marks import SENTENCE_END, SENTENCE_INSIDE

WORD = re.compile(r"\w+")
CLAUSE_MARK = re.compile(r"[,;:]\s")
SECTION_BREAK = -1e9  # a weight no run of prose outweighs


@dataclass(frozen=True)
class BlockSettings:
    """Weights of the main-block search (a maximum-sum run of lines, as in Body Text Extraction)."""

    # A line with at least this many words and a sentence mark is prose: nav items, link
    # titles and buttons are shorter or unpunctuated.
    prose_min_words: int = 6
    # A line this long, with a comma or semicolon in it, is a paragraph even without a final
    # mark (a wrapped line, a quote); link titles and teasers stay under it.
    long_line_words: int = 25
    # A prose line under this many words (a teaser's summary, a caption, a short comment)
    # counts at this factor of its words: an article's paragraphs are longer, so runs of
    # page furniture made of short sentences weigh less than the article.
    short_prose_words: int = 20
    short_prose_factor: float = 0.5
    # What a non-prose line costs: a menu of a dozen short items outweighs a short paragraph,
    # but one subheading or caption between paragraphs does not split the article.
    short_line_cost: float = 3.0
    # Interface lines (ads, captions) cost more than plain short lines.
    ui_line_cost: float = 6.0
    # Share bars, "Related", comment forms, tags and copyright lines usually close an article,
    # so they cost the most; still under a short paragraph's weight, so an inline "Read more:"
    # link between two paragraphs does not cut the article there.
    edge_line_cost: float = 15.0
    edge_reasons: frozenset[str] = frozenset({
        "social_share", "related_links", "comment_form", "comment_header", "copyright", "tags",
        "call_to_action", "section_label", "footer_links", "cookie_notice",
    })  # fmt: skip
    # A gap between prose lines holding this many edge lines (share bar, then "Related" or
    # "Comments") ends a page region: the main block never spans it.
    section_break_edges: int = 2
    # The k-th short line in a row costs k times as much (up to this factor): one subheading
    # or a three-item list inside an article is cheap, a long menu or a link list is not.
    run_cost_cap: int = 5
    # Repeats of the headline tried as the article's start; each costs a pass over the page,
    # and a page repeating its title more often than this is a list, not an article.
    max_anchors: int = 20
    # A run above a section break is the article when it weighs at least this share of the
    # best run below it (comments and story lists follow articles, and can be longer).
    earlier_block_share: float = 0.5
    # The run under a repeated headline is the article unless it weighs less than this share
    # of the page's best run (a teaser for the next article repeats the title too).
    anchor_min_share: float = 0.3
    # Three date lines within this many lines, with prose between them, are a list of
    # dated items (teasers with summaries, comments): two items of up to 15 lines each.
    listing_window: int = 30
    # Headline lists (most words capitalised) are navigation, not prose, in every
    # language we see, even German (nouns only, about a third of the words).
    title_case_share: float = 0.6


def line_weights(
    text: Sequence[str], rules: dict[int, str], prose: set[int], settings: BlockSettings
) -> list[float]:
    """Each line's weight; lines in `prose` (wrapped paragraphs) count as prose whatever shape."""
    weights: list[float] = []
    run = 0  # short lines since the last prose line
    for i, line in enumerate(text):
        words = line_words(line)
        if not words:
            weights.append(0.0)
        elif i not in rules and _is_prose(line, words, settings):
            run = 0
            short = len(words) < settings.short_prose_words
            weights.append(len(words) * (settings.short_prose_factor if short else 1.0))
        elif i not in rules and i in prose:
            # A hard-wrapped line is prose when it is long; a short one ("fmcshan" under a
            # comment) may only look wrapped, so it neither counts for nor against.
            wrapped = len(words) >= settings.prose_min_words
            run = 0 if wrapped else run
            weights.append(float(len(words)) if wrapped else 0.0)
        else:
            run += 1
            rule = rules.get(i)
            factor = min(run, settings.run_cost_cap) if rule is None else 1
            weights.append(-_cost(rule, settings) * factor)
    _mark_section_breaks(weights, rules, settings)
    return weights


def _mark_section_breaks(
    weights: list[float], rules: dict[int, str], settings: BlockSettings
) -> None:
    """Make a gap between prose lines that holds several edge lines impassable.

    One "Read more" link between paragraphs is an inline aside; a share bar followed by
    "Related" or "Comments" is the end of the article, whatever prose comes after it.
    """
    gap: list[int] = []
    for i, w in enumerate([*weights, 1.0]):
        if w > 0:
            edges = [j for j in gap if rules.get(j) in settings.edge_reasons]
            if len(edges) >= settings.section_break_edges:
                weights[edges[0]] = SECTION_BREAK
            gap = []
        elif w < 0:
            gap.append(i)


def mark_listings(weights: list[float], dated: Sequence[int], settings: BlockSettings) -> None:
    """Make the first of three close dated lines, each pair with prose between, a section break.

    A date line under every few paragraphs is a list of stories or of comments, each with
    its date; an article prints its date once. The list starts at its first date.
    """
    for a, b, c in zip(dated, dated[1:], dated[2:], strict=False):
        if c - a <= settings.listing_window and all(
            any(w > 0 for w in weights[lo:hi]) for lo, hi in ((0, a), (a, b), (b, c))
        ):
            weights[a] = SECTION_BREAK
            return


def line_words(line: str) -> list[str]:
    """A line's words: \\w+ runs, each CJK character one word."""
    if CJK.search(line):
        return [*WORD.findall(CJK.sub(" ", line)), *CJK.findall(line)]
    return WORD.findall(line)


def reads_as_prose(line: str, settings: BlockSettings) -> bool:
    """Tell whether a line (or a joined wrapped paragraph) reads as running text."""
    return _is_prose(line, line_words(line), settings)


def _cost(rule: str | None, settings: BlockSettings) -> float:
    """What one non-prose line costs, by the rule that matched it (None: no rule)."""
    if rule is None:
        return settings.short_line_cost
    return settings.edge_line_cost if rule in settings.edge_reasons else settings.ui_line_cost


def _is_prose(line: str, words: Sequence[str], settings: BlockSettings) -> bool:
    """Tell whether a line reads as running text rather than a label, link or headline."""
    n = len(words)
    if n < settings.prose_min_words:
        return False
    alpha = [w for w in words if w[0].isalpha()]
    capitalised = sum(1 for w in alpha if w[0].isupper())
    if (
        alpha
        and capitalised / len(alpha) >= settings.title_case_share
        and n < 2 * settings.long_line_words
    ):
        return False
    if SENTENCE_END.search(line) or SENTENCE_INSIDE.search(line):
        return True
    # A long line with no punctuation at all is a tag cloud or a keyword list.
    return n >= settings.long_line_words and bool(CLAUSE_MARK.search(line))


def anchored_block(
    weights: Sequence[float], anchors: Sequence[int]
) -> tuple[int, tuple[int, int]] | None:
    """The anchor (a repeated headline) with the best run below it up to the next section break."""
    best, found = 0.0, None
    for anchor in anchors:
        # The article under a headline ends at the next section break: the comments or the
        # story list after it can outweigh it, but they are not the run the headline opens.
        end = next(
            (i for i in range(anchor + 1, len(weights)) if weights[i] == SECTION_BREAK), None
        )
        span = main_block(weights[anchor + 1 : end])
        if span is None:
            continue
        start, end = anchor + 1 + span[0], anchor + 1 + span[1]
        total = sum(weights[start:end])
        if total > best:
            best, found = total, (anchor, (start, end))
    if found is None:
        return None
    # Of the repeats above the run, the nearest is its headline; earlier ones are teasers.
    return max(a for a in anchors if a < found[1][0]), found[1]


def earlier_block(
    weights: Sequence[float], span: tuple[int, int], settings: BlockSettings
) -> tuple[int, int]:
    """The best run before a section break above the span, when it weighs enough; else span.

    Pages put the article before the comments and the lists of other stories, so a run cut
    off from the best one by a section break, and at least half as heavy, is the article.
    """
    before = weights[: span[0]]
    if SECTION_BREAK not in before:
        return span
    earlier = main_block(before)
    if earlier is None or SECTION_BREAK not in weights[earlier[1] : span[0]]:
        return span
    ratio = sum(before[slice(*earlier)]) / sum(weights[slice(*span)])
    return earlier if ratio >= settings.earlier_block_share else span


def trim(weights: Sequence[float], span: tuple[int, int]) -> tuple[int, int]:
    """A span narrowed to its first and last prose line (weight > 0)."""
    inside = [i for i in range(*span) if weights[i] > 0]
    return (inside[0], inside[-1] + 1) if inside else span


def main_block(weights: Sequence[float]) -> tuple[int, int] | None:
    """The [start, end) run of lines with the largest total weight (Kadane), None if all <= 0."""
    best, best_span = 0.0, None
    total, start = 0.0, 0
    for i, w in enumerate(weights):
        if total <= 0:
            total, start = 0.0, i
        total += w
        if total > best:
            best, best_span = total, (start, i + 1)
    return best_span
