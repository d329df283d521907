"""Headline rules: the <h1> a reader sees, else a metadata title without the site name."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from lxml.html import HtmlElement  # type: ignore[import-untyped]  # lxml ships no stubs

from tasks.html.csscase import visible_case
from tasks.html.tree import (
    MetadataSettings,
    class_tokens,
    element_text,
    in_noise,
    is_noise_block,
    json_ld,
    meta_values,
    visible_text,
    vocab,
)
from tasks.text.keys import CJK, clean_text, word_key

# Separators between headline and site name in <title>, strongest first.
TITLE_SEPARATORS = vocab(" | ; – ; — ; - ; :: ; // ; » ; « ; · ; • ; / ; : ", ";")
# Chinese and Japanese titles join headline and site without spaces ("标题-新华网").
CJK_SEPARATORS = vocab("- _ | －")
# Separators between an inline kicker and the headline ("„Reformstau lösen“ / Irme ...").
INLINE_KICKER_SEPARATORS = vocab(" / ; | ", ";")
# Leading ornaments of themed headings.
DECORATION = "[]<>|›•· "
# Separator remnants left at either end of a title once the site part is cut off.
STRIP_CHARS = " »«|-–—:/·•"
# Headings naming the site or labelling widgets for screen readers, never the story.
NOT_HEADLINE_TOKENS = frozenset(
    vocab("site logo brand branding visuallyhidden aural assistive screen sr widget hidden")
)
# Children of a headline that are its kicker or a date/category line ("Dachzeile").
KICKER_TOKENS = frozenset(
    vocab(
        "kicker roofline dachzeile topline overline eyebrow label h1small topic titleheader "
        "spitzmarke date category"
    )
)
# Second-level labels under which a domain's own name is one label further left (bbc.co.uk).
SECOND_LEVEL = frozenset(vocab("co com org net gov ac"))
# A link to the site's front page ("/", "https://host/", an archived ".../http://host/").
HOME_LINK = re.compile(r"^/$|^\.?/?index\.\w+$|(?:^|//)[\w.-]+\.[a-z]{2,}/?(?:index\.\w+)?$")
# The host at the start of a site name or URL ("www.bmas.de", "https://edition.cnn.com/x").
SITE_HOST = re.compile(r"^(?:https?://)?([\w.-]+\.[a-z]{2,})(?:/|$)")
# A title part that is a domain ("spiegel.de"), read from the start of a run of its characters.
DOMAIN_PART = re.compile(r"(?<![\w.-])[\w.-]+\.[a-z]{2,}")
# Class words of headings styled as the title.
TITLE_CLASS = re.compile("title|headline|heading", re.I)


@dataclass(frozen=True)
class Page:
    """What several rules read of one page, found once: its JSON-LD, titles and headline."""

    tree: HtmlElement
    ld: tuple[dict[str, Any], ...]  # the article's JSON-LD objects (see tree.json_ld)
    titles: tuple[tuple[str, bool], ...]  # metadata titles, <title> flagged (see _meta_titles)
    h1: HtmlElement | None  # the headline element (see headline_element)


def read_page(tree: HtmlElement, settings: MetadataSettings) -> Page:
    """The facts of a page that the title, author and date rules share."""
    ld = tuple(json_ld(tree))
    titles = tuple(_meta_titles(tree, ld))
    return Page(tree, ld, titles, headline_element(tree, titles, settings))


def page_title(page: Page) -> str | None:
    """The headline a reader sees: the matching <h1>, else a metadata title without site name."""
    site = site_names(page)
    stripped = [strip_site_name(t, site, tag).strip(STRIP_CHARS) for t, tag in page.titles]
    if page.h1 is not None:
        text = _without_inline_kicker(headline_text(page.h1), stripped)
        return visible_case(text, page.h1, page.tree)
    return next((t for t in stripped if t), None)


def _without_inline_kicker(text: str, titles: list[str]) -> str:
    """A headline without a kicker written before it ("Quote" / Headline) that metadata omits."""
    # Only when og:title or <title> hold the part after the separator alone: the kicker is then
    # the page's decoration of the headline, not a part of it.
    keys = {word_key(t) for t in titles if t}
    for sep in INLINE_KICKER_SEPARATORS:
        _, found, rest = text.partition(sep)
        if found and word_key(rest) in keys and word_key(text) not in keys:
            return rest.strip()
    return text


def _meta_titles(tree: HtmlElement, ld: tuple[dict[str, Any], ...]) -> list[tuple[str, bool]]:
    """og:title, JSON-LD headline, then <title> (flagged True: it always ends in the site)."""
    titles = [(t, False) for t in meta_values(tree, "og:title", "twitter:title", "dc.title")]
    titles += [(clean_text(str(o["headline"])), False) for o in ld if o.get("headline")]
    titles += [(element_text(t), True) for t in tree.iter("title")][:1]
    return [(t, flag) for t, flag in titles if t]


def site_names(page: Page, title_edges: bool = False) -> set[str]:
    """Keys of the outlet's names: og:site_name, publisher, logo, domain, <title> edges."""
    tree = page.tree
    # The first and last parts of <title> are where sites put their name; only author
    # checks use them, since for titles they would strip the headline itself.
    names = meta_values(tree, "og:site_name", "application-name", "twitter:site", "og:url")
    names += [link.get("href") or "" for link in tree.xpath('//link[@rel="canonical"]')]
    names += [
        str(o["publisher"].get("name")) for o in page.ld if isinstance(o.get("publisher"), dict)
    ]
    names += [element_text(h) for h in tree.iter("h1") if _is_site_heading(h)]
    keys = {word_key(n.lstrip("@")) for n in names if isinstance(n, str) and "://" not in n}
    for name in names:  # "www.bmas.de", "https://edition.cnn.com/x" name the site too
        if host := SITE_HOST.match(str(name).lower()):
            labels = host.group(1).split(".")
            second_level = len(labels) > 2 and labels[-2] in SECOND_LEVEL
            keys.add(word_key(labels[-3] if second_level else labels[-2]))
    for title in [element_text(t) for t in tree.iter("title")][:1] if title_edges else []:
        parts = next((title.split(s) for s in TITLE_SEPARATORS if s in title), [])
        keys |= {word_key(parts[0]), word_key(parts[-1])} if parts else set()
    return keys - {""}


def headline_element(
    tree: HtmlElement, meta_titles: tuple[tuple[str, bool], ...], settings: MetadataSettings
) -> HtmlElement | None:
    """The h1 repeating a metadata title, else the only h1, else a matching title-classed h2."""
    # Old blog themes put the site name in the h1 and the post title in an h2/h3; schema.org
    # markup (itemprop="headline") names the headline heading whatever its class.
    titles = [word_key(t).split() for t, _ in meta_titles]
    titled = [
        h
        for h in tree.iter("h2", "h3")
        if TITLE_CLASS.search(h.get("class") or "")
        or h.xpath('descendant-or-self::*[@itemprop="headline"]')
    ]
    candidates = [
        h
        for h in list(tree.iter("h1")) + titled
        if 1 < len(element_text(h)) <= settings.title_max_chars and not _is_site_heading(h)
    ]
    h1s = [h for h in candidates if h.tag == "h1"]
    if (best := _best_match(h1s, titles, settings)) is not None:
        return best
    if len(clean := [h for h in h1s if not in_noise(h)]) == 1:
        return clean[0]
    if (
        best := _best_match([h for h in candidates if h.tag != "h1"], titles, settings)
    ) is not None:
        return best
    # Without an h1, a plain h2/h3 outside navigation and sidebars that repeats the title
    # (a <header> around one heading is the article's: only noise blocks rule it out).
    plain = [
        h
        for h in tree.iter("h2", "h3")
        if 1 < len(element_text(h)) <= settings.title_max_chars
        and not any(map(is_noise_block, h.iterancestors()))
    ]
    return None if h1s else _best_match(plain, titles, settings)


def _best_match(
    headings: list[HtmlElement], titles: list[list[str]], settings: MetadataSettings
) -> HtmlElement | None:
    """The (first) heading sharing most words with a metadata title, if it shares enough."""
    scored = [
        (max((_dice(h, t) for t in titles), default=0.0), -i, h) for i, h in enumerate(headings)
    ]
    score, _, best = max(scored, key=lambda s: s[:2], default=(0.0, 0, None))
    return best if score >= settings.title_match_min else None


def _dice(heading: HtmlElement, title: list[str]) -> float:
    """Dice overlap of a heading's words with a title's words (0..1)."""
    words = word_key(headline_text(heading)).split()
    common = sum((Counter(words) & Counter(title)).values())
    return 2 * common / (len(words) + len(title)) if words and title else 0.0


def _is_site_heading(h: HtmlElement) -> bool:
    """True for a heading that is the site's logo/name or a screen-reader/widget label."""
    if class_tokens(h) & NOT_HEADLINE_TOKENS:
        return True
    return any(
        a.get("rel") == "home" or HOME_LINK.search(a.get("href") or "x") for a in h.iter("a")
    )


def headline_text(h: HtmlElement) -> str:
    """A heading's text without its kicker, hidden separator or date/category line."""
    marked = [c for c in h.iterdescendants() if "headline" in class_tokens(c) and element_text(c)]
    if len(marked) == 1:
        return element_text(marked[0])
    text = visible_text(h, skip=is_kicker, spaced=False) or element_text(h)
    # Themes decorate headings with arrows and brackets ("[> Jens Weber"): not the headline.
    return text.lstrip(DECORATION).strip()


def is_kicker(node: HtmlElement) -> bool:
    """True for a heading child that is a kicker, a hidden separator or small print."""
    return (
        node.tag in {"small", "time", "script", "style"}
        or node.get("aria-hidden") == "true"
        or bool(class_tokens(node) & KICKER_TOKENS)
    )


def strip_site_name(title: str, site: set[str], is_title_tag: bool) -> str:
    """A title without its " | Site" / "Site - " part, cut at its strongest separator."""
    # A <title> loses its last part even when the site name is unknown: sites put it there.
    unspaced = CJK_SEPARATORS if CJK.search(title) else ()
    for sep in TITLE_SEPARATORS + unspaced:
        if len(parts := title.split(sep)) < 2:
            continue
        if len(parts) >= 3 and is_title_tag:
            # "Site - Headline - Section - News": the headline is the longest part.
            return max(parts, key=lambda p: len(p.split()))
        if _is_site_part(parts[-1], site) or (is_title_tag and not _is_site_part(parts[0], site)):
            return sep.join(parts[:-1])
        if _is_site_part(parts[0], site):
            return sep.join(parts[1:])
    return title


def _is_site_part(part: str, site: set[str]) -> bool:
    """True when a title part is the outlet: a known site name or a domain."""
    return word_key(part) in site or bool(DOMAIN_PART.fullmatch(part.strip().lower()))
