"""Sentence marks: where a sentence, a line of prose or a title ends, written once."""

from __future__ import annotations

import re

# Full stops of Latin and CJK scripts, and what may close a sentence after its stop.
LATIN_STOPS = ".!?…"
CJK_STOPS = "。！？"
CLOSERS = '"”’»)\\]'
CJK_CLOSERS = "」』"

# A line the next one cannot continue: it ends a sentence or a clause (hard-wrapped text).
CLAUSE_END = re.compile(rf"[{LATIN_STOPS}:;{CLOSERS}]$")
# A line of prose ends with a full stop, in any script, before any closing marks.
PROSE_END = re.compile(rf"[.…{CJK_STOPS}][{CLOSERS}{CJK_CLOSERS}]*$")
# A title does not end in a stop or a separator ("Home |").
TITLE_BAD_END = re.compile(r"[.:;,…|]$")
# A line ending a sentence (a colon too: it introduces a list or a quote); a colon inside a
# line does not count ("Hong Kong uprising: Protesters send warning" is a headline).
SENTENCE_END = re.compile(rf"[{LATIN_STOPS}{CJK_STOPS}:][{CLOSERS}」]*$")
# A sentence end and the next sentence's start inside a line.
SENTENCE_INSIDE = re.compile(
    rf"[a-z\d)][{LATIN_STOPS}][{CLOSERS}]*\s+[\"“„«(]?[A-ZÀ-Þ]|[{CJK_STOPS}]."
)
# "...in 2023. They are..." inside a line: two sentences, so prose, not a headline (three
# lowercase letters or digits before the period spare "U.S. Senate", "Mr. Smith").
PERIOD_BREAK = re.compile(r"[a-z0-9]{3}\.\s+[A-Z]")
# The same with any Latin stop but the ellipsis: "... he said. Then ..." or "... he asked? ...".
SENTENCE_BREAK = re.compile(r"[a-z0-9]{3}[.!?]\s+[A-Z]")
