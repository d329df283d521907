"""Hostile text runs in (near) linear time: every regular expression, and the quote search.

A pattern with nested or overlapping repetitions backtracks exponentially (or in n²) on a
line built to defeat it ("A" * 60 + "H!" against a font-button rule, "By " + "Amy " * 40
against the byline rule) and hangs the run. This walks every compiled pattern held at
module level (alone, or inside tuples, lists, dicts and dataclass instances such as the line
rules) and times `search` and `fullmatch` on ~20 KB inputs that provoke backtracking; then
the clean stage on the inputs that hung it, and quote and speaker search on texts of
thousands of quote marks.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import re
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

import tasks
from tasks.clean.cleaner import CleanSettings, clean_documents
from tasks.core.records import Article, RawDocument
from tasks.core.safety import DocumentTimeout, time_limit
from tasks.quotes.spans import find_quotes

# Each call on ~20 KB: a linear pattern takes a few milliseconds even under load; a
# super-linear one takes seconds to hours.
MAX_SECONDS = 0.5
SIZE = 20_000
# Literal words of a pattern used to build inputs from its own vocabulary.
MAX_LITERALS = 40


def _modules() -> list[ModuleType]:
    """Every module of the tasks package."""
    names = sorted(m.name for m in pkgutil.walk_packages(tasks.__path__, "tasks."))
    return [importlib.import_module(name) for name in names]


def _walk(value: Any, path: str, seen: set[int]) -> Iterator[tuple[str, re.Pattern[str]]]:
    """The patterns inside a value: itself, or in its items, keys or dataclass fields."""
    if id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, re.Pattern):
        if isinstance(value.pattern, str):
            yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(key, f"{path}[{key!r}]", seen)
            yield from _walk(item, f"{path}[{key!r}]", seen)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for i, item in enumerate(value):
            yield from _walk(item, f"{path}[{i}]", seen)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _walk(getattr(value, f.name), f"{path}.{f.name}", seen)


def module_patterns() -> list[tuple[str, re.Pattern[str]]]:
    """(module.NAME, pattern) of every pattern held at module level, each pattern once."""
    seen: set[int] = set()
    found = []
    for module in _modules():
        for name, value in vars(module).items():
            if not name.startswith("__"):
                found += _walk(value, f"{module.__name__}.{name}", seen)
    return found


def _literals(pattern: re.Pattern[str]) -> list[str]:
    """Words spelled out in a pattern's source (escapes like \\s and \\w removed)."""
    source = re.sub(r"\\[a-zA-Z]", " ", pattern.pattern)
    words = sorted(set(re.findall(r"[^\W\d_]{2,}", source)), key=lambda w: (-len(w), w))
    return words[:MAX_LITERALS]


def _fill(unit: str, tail: str = "") -> str:
    """A unit repeated to about SIZE characters, then a tail that makes the match fail late."""
    return unit * max(SIZE // max(len(unit), 1), 1) + tail


GENERIC_UNITS = (
    "a", "A", "aA", "Aa ", " ", "\t", "\n", " \n", "1", "12 ", "1.", "1/", "1:", "1-",
    "2023-01-01 ", "1 1 ", ".", ",", "-", "–", "/", "|", ":", ";", "!", "?", "'", '"', "“",
    "”", "«", "„", "’", "(", ")", "#", "@", "_", "a.", "A.", "a b ", "ab ", "Amy ",
    "Amy and ", "Amy, ", "A. ", "word ", "Word ", "WORD ", "a-", "a ", "A ", "a. B",
    "x. Y ", "°", "+", "a+", "aa", "a a", "{", "}", "{}", "a{", "<", "> ", "/*", "*/",
    "/* a ", "{ a ", "( a ", "“a ", "a@", "a / ", "a | ", "- ", "by ", "By Amy, ",
    "\ufeff", "\u00a0", "中", "é",
)  # fmt: skip
TAILS = ("", "!", "H!", "\x00", " x", ".")


def hostile_inputs(pattern: re.Pattern[str]) -> list[str]:
    """Long runs built to make a backtracking matcher try every way to split them."""
    inputs = [_fill(unit, tail) for unit in GENERIC_UNITS for tail in TAILS[:3]]
    inputs += [" " * SIZE + "x", "A" * 60 + "H!", "By " + "Amy " * 40 + "!"]
    words = _literals(pattern)
    for word in words:
        for unit in (word, f"{word} ", f"{word.capitalize()} ", f"{word.upper()} ", f"{word}."):
            inputs.append(_fill(unit, "!"))
        inputs += [word + _fill(" ", "!"), word + _fill(" - ", "!"), word + _fill("1", "!")]
    if words:
        inputs.append(_fill(" ".join(words) + " ", "!"))
        inputs.append(_fill("".join(words), "!"))
    # Phrases spelled with \s ("reporting\sby"), as a list of them would be written.
    for phrase in _phrases(pattern):
        inputs += [_fill(f"{phrase} ab, ", ";"), _fill(f"{phrase} ", "!")]
    return inputs


def _phrases(pattern: re.Pattern[str]) -> list[str]:
    r"""Runs of words joined by \s in a pattern's source, with plain spaces."""
    found = re.findall(r"[^\W\d_]+(?:\\s[^\W\d_]+)+", pattern.pattern)
    return sorted({p.replace("\\s", " ") for p in found})[:MAX_LITERALS]


def _timed(op: Any, text: str, limit: float) -> float:
    """Seconds one call takes (limit * 4 when the time limit has to stop it)."""
    started = time.perf_counter()
    try:
        with time_limit(limit * 4):
            op(text)
    except DocumentTimeout:
        pass
    return time.perf_counter() - started


def slowest(pattern: re.Pattern[str], limit: float) -> tuple[float, str, str]:
    """The slowest (seconds, operation, input preview) of search and fullmatch on hostile text.

    A slow-looking call is timed twice more and counts at its fastest: a busy machine slows
    a linear match for a moment, a backtracking one every time.
    """
    worst = (0.0, "", "")
    for text in hostile_inputs(pattern):
        for op in (pattern.search, pattern.fullmatch):
            seconds = _timed(op, text, limit)
            if seconds > limit / 4:
                seconds = min(seconds, *(_timed(op, text, limit) for _ in range(2)))
            if seconds > worst[0]:
                worst = (seconds, op.__name__, f"{text[:40]!r}... ({len(text)} chars)")
            if seconds > limit:
                return worst
    return worst


PATTERNS = module_patterns()


def test_patterns_are_found() -> None:
    """The walk reaches patterns in tuples, dicts and dataclasses (the line rules)."""
    names = {name for name, _ in PATTERNS}
    assert "tasks.clean.rules.BYLINE" in names
    assert any(name.startswith("tasks.clean.rules.RULES[") for name in names)
    assert "tasks.text.dates.DATE_LINE" in names
    assert len(PATTERNS) > 80


@pytest.mark.parametrize(("name", "pattern"), PATTERNS, ids=[name for name, _ in PATTERNS])
def test_pattern_is_linear_on_hostile_text(name: str, pattern: re.Pattern[str]) -> None:
    """No hostile input keeps a pattern's search or fullmatch busy for long."""
    seconds, op, preview = slowest(pattern, MAX_SECONDS)
    assert seconds < MAX_SECONDS, f"{name}.{op} took {seconds:.2f} s on {preview}"


# --------------------------------------------------------------------------------------------
# The inputs that hung the clean stage
# --------------------------------------------------------------------------------------------

ARTICLE = (
    "Officials said on Tuesday that the new bridge over the river would open next spring, "
    "after years of delays caused by funding disputes and a lawsuit.\n\n"
) * 5


@pytest.mark.parametrize(
    "content",
    [
        "A" * 60 + "H!",  # the font-button rule: "aa" one button or two, every way
        "Bridge opens next spring\n\nBy " + "Amy " * 40 + "!\n\n" + ARTICLE,  # "Am" + "y"
        "By " + "Amy " * 40 + "!",
        " " * 200_000 + "\n" + ARTICLE,
        "Bridge opens" + " " * 200_000 + "Site\n\n" + ARTICLE,  # title separator on spaces
    ],
    ids=["font-buttons", "byline-in-head", "byline-alone", "space-line", "spaces-in-title"],
)
def test_hostile_text_is_cleaned_at_once(content: str) -> None:
    doc = RawDocument("x.txt", content, "text", "utf-8")
    started = time.perf_counter()
    with time_limit(20):
        _cleaned, rejects = clean_documents([doc], CleanSettings())
    assert time.perf_counter() - started < 2
    assert all(r.reason == "empty_after_cleaning" for r in rejects)  # never a timeout


# --------------------------------------------------------------------------------------------
# Quote marks: the search is linear in their number, and so is speaker resolution
# --------------------------------------------------------------------------------------------


def _marks(unit: str, count: int) -> str:
    """A unit holding quote marks, repeated to about `count` marks."""
    per = sum(unit.count(mark) for mark in '"“”«»„')
    return unit * (count // per)


QUOTE_SHAPES = {
    "pairs": '"a b" ',
    "unclosed": "“",
    "alternating": '“word "word ',
    "unbalanced": "“a ” b “x “y ",
    "runs-on": "“a b c\n",  # each paragraph opens a quote that never closes
    "low-high": "„a „b ",
}


@pytest.mark.parametrize("unit", QUOTE_SHAPES.values(), ids=QUOTE_SHAPES.keys())
def test_quote_search_is_linear_in_quote_marks(unit: str) -> None:
    # 80,000 marks: a search that is quadratic in them takes half a minute on "runs-on".
    body = _marks(unit, 80_000)
    started = time.perf_counter()
    with time_limit(30):
        find_quotes(body, 2, 40)
    assert time.perf_counter() - started < 3


@pytest.fixture(scope="module")
def quote_stage() -> Any:
    """Run the entity and quote stages on one article, as the flow does."""
    from tasks.core.records import short_hash
    from tasks.entities.mentions import EntitySettings, canonicalize, extract_mentions
    from tasks.quotes.attribution import QuoteSettings, extract_quotes

    def run(body: str) -> list[tuple[str, str | None]]:
        article = Article(
            article_id=short_hash(body), content_hash=short_hash(body), source_uri="a.txt",
            url=None, outlet=None, title=None, title_source=None, standfirst=None, author=None,
            published_at=None, published_date=None, published_at_source=None,
            modified_at=None, modified_at_source=None, language="en", nlp_skip_reason=None,
            body=body, word_count=len(body.split()), content_type="text", encoding="utf-8",
            removed=(),
        )  # fmt: skip
        batch = extract_mentions([article], EntitySettings())
        linked, entities = canonicalize(batch.mentions, EntitySettings())
        settings = dataclasses.replace(QuoteSettings(), max_seconds_per_document=0)
        found, rejects = extract_quotes([article], batch.parsed, linked, entities, settings)
        assert rejects == []
        return [(q.text, q.speaker) for q in found]

    return run


@pytest.mark.parametrize(
    ("unit", "opening", "speaker"),
    [
        # Each "he" looked through every name, and for each name through every quote.
        ('Obama met Biden in Paris. "Yes we can," he said. ', "", "Obama"),
        # Each "he" walked back through every "he said" sentence to the name.
        ('"Yes we can," he said. ', "Barack Obama spoke in Paris. ", "Barack Obama"),
        # Each "the official" looked through every earlier noun phrase.
        ('Obama met the official. "Yes we can," the official said. ', "", "Obama"),
    ],
    ids=["pronoun-after-names", "pronoun-chain", "nominal"],
)
def test_speakers_of_many_quotes_are_found_in_linear_time(
    quote_stage: Any, unit: str, opening: str, speaker: str
) -> None:
    # 2,000 marks (1,000 quotes): quadratic and cubic searches took 1 to 5 minutes.
    body = opening + _marks(unit, 2_000)
    started = time.perf_counter()
    with time_limit(120):
        found = quote_stage(body)
    assert time.perf_counter() - started < 30
    assert len(found) == 1_000 and {text for text, _ in found} == {"Yes we can"}
    # Long texts are parsed in pieces: at a piece's edge a sentence may split differently.
    assert sum(name == speaker for _, name in found) >= 990


if __name__ == "__main__":  # a survey: every pattern's slowest call
    import sys

    wanted = sys.argv[1:]
    for pattern_name, compiled in PATTERNS:
        if wanted and not any(w in pattern_name for w in wanted):
            continue
        took, operation, text_preview = slowest(compiled, 2.0)
        flag = "SLOW" if took >= MAX_SECONDS else "ok  "
        print(f"{flag} {took:7.3f}s {pattern_name} {operation} {text_preview}", flush=True)
