"""Comparison keys of lines, words and names: how two texts are judged the same, written once."""

from __future__ import annotations

import re
import unicodedata

import ftfy

APOSTROPHES = str.maketrans("’‘`´–—−", "''''---")
NON_WORD = re.compile(r"[\W_]+")


def fold(line: str) -> str:
    """Casefold, unify apostrophes and dashes, single spaces."""
    return " ".join(line.translate(APOSTROPHES).casefold().split())


def shape_key(line: str) -> str:
    """The line as symbol-aware rules see it: mojibake repaired, folded."""
    return fold(line if line.isascii() else ftfy.fix_encoding(line))


def words_key(shape: str) -> str:
    """A shape key reduced to its words, so punctuation and spacing do not matter."""
    return NON_WORD.sub(" ", shape).strip()


# Chinese, Japanese and Korean write without spaces: each ideograph or kana counts as a word,
# so length thresholds mean the same in every script.
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def count_words(text: str) -> int:
    """Words of a text: whitespace-separated tokens, each CJK character counting as one."""
    cjk = len(CJK.findall(text))
    if not cjk:
        return len(text.split())
    # Punctuation left between ideographs ("。") is not a word.
    return cjk + sum(1 for token in CJK.sub(" ", text).split() if NON_WORD.sub("", token))


def match_key(line: str) -> str:
    """The words of a line, to compare lines of the same source (no mojibake repair: cheap)."""
    return words_key(fold(line))


# --------------------------------------------------------------------------------------------
# Page texts: <title>, og:title and headings compared word by word
# --------------------------------------------------------------------------------------------

# <title>, og:title and the h1 of one headline differ in quote marks and dashes.
FOLD = str.maketrans({c: '"' for c in "„“”«»"} | {c: "'" for c in "‚‘’‹›"} | {"–": "-", "—": "-"})
# Words of a comparison key.
WORD = re.compile(r"\w+")


def clean_text(text: str) -> str:
    """Whitespace collapsed, soft hyphens and zero-width spaces removed."""
    return " ".join(text.replace("\u00ad", "").replace("\u200b", "").split())


def word_key(text: str) -> str:
    """A comparison key: NFKC, folded quotes and dashes, lowercase words only."""
    folded = unicodedata.normalize("NFKC", clean_text(text)).translate(FOLD).lower()
    return " ".join(WORD.findall(folded))


# --------------------------------------------------------------------------------------------
# Names: entity mentions, quotes and gazetteer lookups
# --------------------------------------------------------------------------------------------

POSSESSIVE = re.compile(r"(?:['’]s|['’])$")
PUNCT = re.compile(r"[^\w\s-]")


def normalize_name(text: str) -> str:
    """Comparison key of a name: NFKC, casefolded, no "the", possessive or punctuation."""
    key = unicodedata.normalize("NFKC", text).casefold().strip()
    key = POSSESSIVE.sub("", key)
    key = key.removeprefix("the ")
    return " ".join(PUNCT.sub(" ", key).split())


def place_key(text: str) -> str:
    """Lookup key of a name: casefolded, possessive dropped."""
    return text.casefold().removesuffix("'s").removesuffix("’s").strip()
