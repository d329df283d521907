"""The CSS text-transform a page's own stylesheet gives an element (headlines set in capitals)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml.html import HtmlElement  # type: ignore[import-untyped]  # lxml ships no stubs

# A rule body without nested braces; an @media block's inner rules match on their own. A
# rule starts after a brace (or at the start): from inside a run without braces, a search
# would re-read the run from each of its characters.
CSS_RULE = re.compile(r"(?<![^{}])([^{}]++)\{([^{}]*+)\}")
TEXT_TRANSFORM = re.compile(r"text-transform\s*:\s*([a-z-]+)\s*(!\s*important)?", re.I)
# Only tag, .class and #id compounds joined by descendant or child combinators are read;
# pseudo-classes (":hover"), attributes and sibling combinators never count as a match.
SIMPLE_SELECTOR = re.compile(r"[\w\s.#>-]+")
COMPOUND = re.compile(r"([a-z][a-z0-9]*)?((?:[.#][\w-]+)*)", re.I)
# The compounds of a selector and the combinators (" " or ">") between them.
COMBINATOR = re.compile(r"\s*(>)\s*|\s+")
# The .class and #id parts of a compound.
CLASS_OR_ID = re.compile(r"[.#][\w-]+")


@dataclass(frozen=True)
class CssRule:
    """One selector of a rule setting text-transform, with its cascade rank."""

    compounds: tuple[str, ...]  # left to right
    combinators: tuple[str, ...]  # " " or ">" between consecutive compounds
    value: str
    rank: tuple[int, int, int, int, int]  # important, ids, classes, tags, source order


def text_transform_rules(tree: HtmlElement) -> list[CssRule]:
    """The page's <style> rules that set text-transform, with simple selectors only."""
    css = strip_comments(" ".join(style.text or "" for style in tree.iter("style")))
    rules: list[CssRule] = []
    for order, match in enumerate(CSS_RULE.finditer(css)):
        if (decl := _last_transform(match.group(2))) is None:
            continue
        for selector in match.group(1).split(","):
            if rule := _parse_selector(selector.strip(), decl[0], decl[1], order):
                rules.append(rule)
    return rules


def strip_comments(css: str) -> str:
    """CSS without its /* comments */; an unclosed "/*" and what follows it are kept.

    A scan rather than a lazy regex, which would read to the end from every unclosed "/*".
    """
    parts: list[str] = []
    done = 0
    while (start := css.find("/*", done)) >= 0 and (end := css.find("*/", start + 2)) >= 0:
        parts.append(css[done:start])
        done = end + 2
    parts.append(css[done:])
    return "".join(parts)


def _last_transform(body: str) -> tuple[str, bool] | None:
    """The text-transform value of a declaration block and whether it is !important."""
    found = TEXT_TRANSFORM.findall(body)
    return (found[-1][0].lower(), bool(found[-1][1])) if found else None


def _parse_selector(selector: str, value: str, important: bool, order: int) -> CssRule | None:
    """A selector split into compounds, or None when it uses more than tags, classes and ids."""
    if not selector or not SIMPLE_SELECTOR.fullmatch(selector):
        return None
    tokens = COMBINATOR.split(selector)
    compounds = [t for i, t in enumerate(tokens) if i % 2 == 0 and t]
    combinators = [t or " " for i, t in enumerate(tokens) if i % 2 == 1]
    if len(compounds) != len(combinators) + 1 or not all(map(COMPOUND.fullmatch, compounds)):
        return None
    ids = selector.count("#")
    classes = selector.count(".")
    tags = sum(1 for c in compounds if c[0].isalpha())
    rank = (int(important), ids, classes, tags, order)
    return CssRule(tuple(compounds), tuple(combinators), value, rank)


def element_transform(el: HtmlElement, rules: list[CssRule]) -> str | None:
    """The text-transform the cascade gives the element itself: its style attribute or rules."""
    matching = [r for r in rules if _matches(el, r.compounds, r.combinators)]
    inline = TEXT_TRANSFORM.findall(el.get("style") or "")
    best = max(matching, key=lambda r: r.rank, default=None)
    if inline and not (best is not None and best.rank[0] and not inline[-1][1]):
        return str(inline[-1][0]).lower()
    return best.value if best is not None else None


def _matches(el: HtmlElement, compounds: tuple[str, ...], combinators: tuple[str, ...]) -> bool:
    """True when the element matches the last compound and its ancestors the ones before."""
    if not _compound_matches(el, compounds[-1]):
        return False
    if len(compounds) == 1:
        return True
    rest, combinator = compounds[:-1], combinators[-1]
    if combinator == ">":
        parent = el.getparent()
        return parent is not None and _matches(parent, rest, combinators[:-1])
    return any(_matches(anc, rest, combinators[:-1]) for anc in el.iterancestors())


def _compound_matches(el: HtmlElement, compound: str) -> bool:
    """True when the element has the compound's tag, all its classes and its id."""
    match = COMPOUND.fullmatch(compound)
    if match is None or not isinstance(el.tag, str):
        return False
    tag, rest = match.group(1), match.group(2)
    if tag and tag.lower() != el.tag.lower():
        return False
    classes = set((el.get("class") or "").split())
    for part in CLASS_OR_ID.findall(rest):
        if part[0] == "." and part[1:] not in classes:
            return False
        if part[0] == "#" and part[1:] != el.get("id"):
            return False
    return True


def visible_case(text: str, el: HtmlElement, tree: HtmlElement) -> str:
    """The element's text as the page's CSS prints it: in capitals under text-transform."""
    rules = text_transform_rules(tree)
    return text.upper() if element_transform(el, rules) == "uppercase" else text
