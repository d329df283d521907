"""Quoted stretches of a body: quote marks, quotes split by an attribution, multi-paragraph quotes."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from tasks.core.records import QuoteSpan
from tasks.text.marks import SENTENCE_BREAK

# Opening mark -> closing marks. Straight quotes close themselves; straight and curly double
# marks also close each other, since edited copy mixes them ("… predict,” Reid said).
MARKS = {"“": '”"', '"': '"”', "«": "»", "„": "“”"}
# Words between two quoted parts of one statement: an attribution ("he said,") and no more.
WORD = re.compile(r"[^\W\d_]+")
QUOTE_CHARS = re.compile("[" + "".join(MARKS) + "".join(MARKS.values()) + "]")
# The marks that can open a quote: a paragraph is searched from one to the next.
OPENERS = re.compile("[" + "".join(MARKS) + "]")


@dataclass(frozen=True)
class Quoted:
    """A quote: one part, or several (split by "he said", or running over paragraphs)."""

    parts: tuple[QuoteSpan, ...]

    def text_words(self, body: str) -> list[str]:
        """The words of all parts."""
        return [w for p in self.parts for w in body[p.start_char : p.end_char].split()]

    @property
    def start(self) -> int:
        """Start of the first part."""
        return self.parts[0].start_char

    @property
    def end(self) -> int:
        """End of the last part."""
        return self.parts[-1].end_char


class QuotedOffsets:
    """Whether an offset lies inside one of a body's quotes, in log time.

    Speaker resolution asks this of every name and pronoun it considers; scanning all the
    quotes each time made an article of many quotes and names cubic.
    """

    def __init__(self, quoted: Sequence[Quoted]) -> None:
        parts = sorted((p.start_char, p.end_char) for q in quoted for p in q.parts)
        self._starts = [start for start, _ in parts]
        # The furthest end among the parts starting at or before each one (parts may overlap).
        self._reach: list[int] = []
        furthest = -1
        for _, end in parts:
            furthest = max(furthest, end)
            self._reach.append(furthest)

    def __contains__(self, offset: int) -> bool:
        """True when some part has start <= offset < end."""
        i = bisect_right(self._starts, offset)
        return i > 0 and self._reach[i - 1] > offset


@dataclass(frozen=True)
class _Raw:
    """A quoted stretch before trimming: where its marks are, and whether it runs on."""

    open_at: int  # the opening mark
    close_at: int  # the closing mark (or the paragraph end of a continued quote)
    continued: bool  # runs on into the next paragraph


def find_quotes(body: str, min_words: int, max_gap_words: int) -> list[Quoted]:
    """Quotes in a body; an unclosed mark is skipped, never fatal."""
    raws = _stretches(body)
    quotes: list[list[_Raw]] = []
    for raw in raws:
        previous = quotes[-1][-1] if quotes else None
        running_on = previous is not None and previous.continued
        if previous is not None and (
            (running_on and not body[previous.close_at : raw.open_at].strip())
            or _split_by_attribution(body, previous, raw, max_gap_words)
        ):
            quotes[-1].append(raw)
        else:
            quotes.append([raw])
    out = []
    for group in quotes:
        parts = tuple(p for p in (_trim(body, r) for r in group) if p.end_char > p.start_char)
        words = sum(len(body[p.start_char : p.end_char].split()) for p in parts)
        if parts and not group[-1].continued and words >= min_words:
            out.append(Quoted(parts))
    return out


def _stretches(body: str) -> list[_Raw]:
    """Closed quoted stretches, paragraph by paragraph, with quotes continued over paragraphs.

    A quote running over paragraphs repeats its opening mark at each paragraph's start and
    closes only in the last one; an opening mark never closed is dropped. Linear in the body:
    each paragraph is read forward once per kind of mark (see _Marks), whatever the number of
    marks, and the paragraph after each one is looked up once.
    """
    out: list[_Raw] = []
    paragraphs = list(_paragraphs(body))
    following = _following_text(paragraphs)
    for n, (offset, para) in enumerate(paragraphs):
        marks = _Marks(para)
        i = 0
        while (found := OPENERS.search(para, i)) is not None:
            i = found.start()
            closers = MARKS[para[i]]
            # A straight mark after a letter or before a space closes a quote, never opens one.
            straight = para[i] == '"'
            if straight and ((i > 0 and para[i - 1].isalnum()) or para[i + 1 : i + 2].isspace()):
                i += 1
                continue
            close = _closing(marks, i + 1, para[i], closers)
            if close >= 0:
                out.append(_Raw(offset + i, offset + close, continued=False))
                i = close + 1
                continue
            if following[n].startswith(para[i]):
                out.append(_Raw(offset + i, offset + len(para), continued=True))
                break
            i += 1
    return out


def _following_text(paragraphs: list[tuple[int, str]]) -> list[str]:
    """For each paragraph, the next non-empty one without its leading spaces ("" if none).

    A quote runs on when that paragraph opens with its mark; computed once, back to front.
    """
    out = [""] * len(paragraphs)
    after = ""
    for n in range(len(paragraphs) - 1, -1, -1):
        out[n] = after
        if paragraphs[n][1].strip():
            after = paragraphs[n][1].lstrip()
    return out


class _Marks:
    """The next position of each mark in a paragraph, for positions that only move forward.

    A paragraph of 10,000 unclosed marks would otherwise be searched to its end from each of
    them (quadratic); here each kind of mark is searched past each of its occurrences once.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.found: dict[str, tuple[int, int]] = {}  # mark -> (searched from, found at or -1)

    def find(self, mark: str, start: int) -> int:
        """Position of the first `mark` at or after `start`, or -1 (`start` never decreasing)."""
        cached = self.found.get(mark)
        if cached is not None and cached[0] <= start and (cached[1] < 0 or cached[1] >= start):
            return cached[1]
        at = self.text.find(mark, start)
        self.found[mark] = (start, at)
        return at


def _split_by_attribution(body: str, first: _Raw, second: _Raw, max_gap_words: int) -> bool:
    """True for “Part one,” he said, “part two.” and “One,” he said. “Two.”: one statement.

    The comma closing the first part says its sentence goes on into the attribution; what
    follows the attribution in the same paragraph is the rest of what was said.
    """
    inside = body[first.open_at + 1 : first.close_at].rstrip()
    gap = body[first.close_at + 1 : second.open_at]
    if "\n" in gap or not (inside.endswith(",") or gap.lstrip().startswith(",")):
        return False
    words = WORD.findall(gap)
    # The attribution between two parts is one sentence: "…,” he told Reuters in Macau. “…”;
    # a sentence ending inside it ("... he said. Then ...") makes the next quote another one.
    if not 0 < len(words) <= max_gap_words or SENTENCE_BREAK.search(gap) or QUOTE_CHARS.search(gap):
        return False
    if gap.rstrip().endswith("."):
        # “One,” Doe said. “Two,” she added.: the second part has an attribution of its own.
        return not body[second.open_at + 1 : second.close_at].rstrip().endswith(",")
    return gap.rstrip().endswith((",", ":"))


def _paragraphs(body: str) -> Iterator[tuple[int, str]]:
    """Paragraphs (split on newlines) with their offsets."""
    offset = 0
    for line in body.split("\n"):
        yield offset, line
        offset += len(line) + 1


def _closing(marks: _Marks, start: int, opener: str, closers: str) -> int:
    """Index of the closing mark, or -1 when the quote is not closed in this paragraph."""
    positions = [p for p in (marks.find(c, start) for c in closers) if p >= 0]
    if not positions:
        return -1
    close = min(positions)
    # Typographic marks open and close differently: a second opening mark before any closing
    # one means this one was never closed (a typo, or a quote running past the paragraph).
    reopened = marks.find(opener, start) if opener not in closers else -1
    return -1 if 0 <= reopened < close else close


def _trim(body: str, raw: _Raw) -> QuoteSpan:
    """The text inside the marks, without surrounding spaces and a trailing comma."""
    start, end = raw.open_at + 1, raw.close_at
    # A doubled opening mark ("“You …,” Rubio said) is one mark typed twice.
    while start < end and (body[start].isspace() or body[start] in MARKS):
        start += 1
    while end > start and (body[end - 1].isspace() or body[end - 1] == ","):
        end -= 1
    return QuoteSpan(start, end)
