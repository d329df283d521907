"""Author rules: structured data, byline markup, bylines by the headline, labelled lines."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from lxml.html import HtmlElement  # type: ignore[import-untyped]  # lxml ships no stubs

from tasks.html.headline import Page, site_names
from tasks.html.tree import (
    MetadataSettings,
    article_scope,
    block_lines,
    head_lines,
    in_noise,
    meta_values,
    visible_text,
    vocab,
)
from tasks.text.dates import parse_date_line
from tasks.text.keys import clean_text, word_key

# Phrases before a byline name ("By", "Von", "Posted by", "Zeige alle Beiträge von").
AUTHOR_PREFIX = re.compile(
    r"^(?:.{0,40}?\b(?:posts?|beiträge|artikel|articles?)\s+(?:by|von|de|par|por)\s+"
    r"|(?:(?:written|posted|published|veröffentlicht|erstellt|geschrieben|verfasst|publicado|"
    r"publié|ein\s+beitrag|text|texto|story)\s+)?"
    r"(?:by|von|par|por|de|text|texto|autor(?:in)?|author|auteur|redaktion)(?:\s*+[:\-])?\s++)",
    re.I,
)
# Where a date, role or bullet-separated field starts after the name ("Jane Doe | 3 March",
# "X (dpa)"): the rest is cut there (see _without_tail). A run of spaces is read from its
# first one only, and once.
AUTHOR_TAIL = re.compile(
    r"(?!(?<=\s)\s)\s*+(?:[|•·–—(]|(?<=\s)-\s|\b(?:am|on|updated|veröffentlicht|published"
    r"|fotos?|photos?|illustrations?|bilder)\b|\d{1,2}[./]\d)",
    re.I,
)
# Job titles before a name ("FOCUS-Online-Experte Robin Tschöpe"): a word holding one.
ROLE_WORD = re.compile(
    r"experte|expertin|redakteur|korrespondent|reporter|editor|journalist|columnist|kolumnist",
    re.I,
)
# Words that label a byline without naming anyone ("Von", "Auteur", "Veröffentlicht").
LABEL_ONLY = frozenset(
    vocab(
        "by von par por de text texto autor autorin author auteur posted published veröffentlicht "
        "erstellt geschrieben written no author"
    )
)
# Co-author separators; ", PhD" stays with its name. Spaces are read from the first of a run.
NAME_SPLIT = re.compile(
    r"(?!(?<=\s)\s)\s*+(?:;|\band\b|\bund\b|&|\bet\b|\by\b|,(?!\s*(?:PhD|MD|Jr|Sr)\b))\s*+"
)
# A byline label inside a short line: "By Jane", "ByJ.R. Stone", "05.02.2020 - Redaktion: X".
# It is read from the last separator before it (the same label, the same end), so a row of
# dashes is read once, not again from each dash.
BYLINE_LABEL = re.compile(
    r"(?:^|[|•·–—:-])[^\w|•·–—:-]*+"
    r"(?:by|von|par|por|auteur|autor(?:in|en)?|authors?|redaktion|text)"
    r"(?:\s*:\s*|\s+|(?=(?-i:[A-ZÄÖÜ]))|$)",
    re.I,
)
# An author label explicit enough to be read anywhere in the article, not only by the headline
# ("Autor: X" under the text); "by"/"von" alone open too many body sentences, and English
# "Author" without a colon heads other things ("Author information", "Author Contributions").
ARTICLE_BYLINE = re.compile(
    r"^\W*(?:(?:autor(?:in|en|[*:_/]in(?:nen)?)?|verfasser(?:in)?)(?:\s*:|\s)"
    r"|(?:authors?|text|redaktion)\s*:|text\s+von\s|(?:责任编辑|作者|记者)\s*[:：])\s*",
    re.I,
)
# Fields of a dateline ("04.02.2022 | 13:10 Uhr | Uta Helkenberg").
FIELD_SPLIT = re.compile(r"\s[|•·]\s")
# A name without a label: two or three capitalised words of letters ("Uta Helkenberg").
PLAIN_NAME = re.compile(r"(?:[A-ZÄÖÜ][a-zäöüßéèáíóñ'-]+\s){1,2}[A-ZÄÖÜ][a-zäöüßéèáíóñ'-]+")
# Dateline fields that look like names but are page controls ("View Comments", "Read More").
UI_WORDS = frozenset(
    vocab("view read more comments comment kommentare kommentar share teilen print drucken minutes")
)
# A news agency's dateline opening the text: "Hamburg (dpa/lno) – ...", "Paris (AFP) - ...".
AGENCY_DATELINE = re.compile(
    r"^[A-ZÄÖÜ][\w .'/-]{0,40}?\s"
    r"\(([a-z]{2,5}(?:[/-][a-z]{2,5})*|[A-Z]{2,5}(?:[/-][A-Za-z]{2,5})*)\)\s*[–—-]\s"
)
# A user handle in an author string ("Jane Doe @janedoe").
HANDLE = re.compile(r"\s@\w+")
# What a user handle keeps of a name: letters and digits ("Jane_Doe" -> "janedoe").
NOT_ALNUM = re.compile(r"[\W_]+")
# An agency's acronym ("AFP", "DPA").
ACRONYM = re.compile(r"[A-Z]{2,5}")
# Class/id words of byline elements ("author vcard", "td-post-author-name", "itemPoster"),
# and of the agency credit under a headline ("credit": "JIJI").
AUTHOR_MARK = re.compile(r"author|byline|autor|poster|creator|verfasser|credit", re.I)
# Author bio boxes, pictures and photo credits sit in author/credit-classed blocks but hold
# no byline.
NOT_BYLINE_MARK = re.compile(r"avatar|bio|desc|img|image|photo|foto|caption|media|box|about", re.I)
# A web address names a site, never a person ("Deutsche Welle (www.dw.com)", "24horas.cl").
DOMAIN = re.compile(r"www\.|\w\.[a-z]{2,3}\b")


def page_author(page: Page, settings: MetadataSettings) -> str | None:
    """The article's author(s) joined with "; "; outlet names only when no person is named."""
    site = site_names(page, title_edges=True)
    fallback: list[str] = []
    sources = _author_sources(page, settings)
    for raw in sources:
        names = _clean_names(raw, settings)
        # The raw value can show an outlet its cleaned name hides ("X (www.dw.com)").
        outlets = {n for v in raw if DOMAIN.search(v) for n in _clean_names([v], settings)}
        if persons := [n for n in names if n not in outlets and not _is_outlet(n, site)]:
            return _joined(_display_name(persons, sources, settings), raw)
        fallback = fallback or names
    return "; ".join(fallback) or None


def _display_name(
    persons: list[str], later: Iterator[list[str]], settings: MetadataSettings
) -> list[str]:
    """A lone user handle ("janedoe") replaced by the name a later source spells it with."""
    # CMSs put the login in structured data and the display name in the byline.
    handle = persons[0]
    if len(persons) > 1 or not handle.islower() or " " in handle:
        return persons
    for raw in later:
        for name in _clean_names(raw, settings):
            if NOT_ALNUM.sub("", name.lower()) == handle:
                return [name]
    return persons


def _joined(persons: list[str], raw: list[str]) -> str:
    """Names joined with "; ", or as the page listed them when one string gave "A, B"."""
    # One value written "A, B" is the page's own list of co-authors, kept as it reads; names
    # from separate values (JSON-LD lists, several elements) are joined with "; ".
    listed = ", ".join(persons)
    if len(persons) > 1 and len(raw) == 1 and listed in clean_text(raw[0]):
        return listed
    return "; ".join(persons)


def _is_outlet(name: str, site: set[str]) -> bool:
    """True for the outlet or an agency: a site name either way round, an acronym, a domain."""
    # "EFC Bayrische Bembel" on "EFC Bayrische Bembel Regensburg"; "CNN" on edition.cnn.com.
    key = f" {word_key(name)} "
    if key.strip() and any(s and (f" {s} " in key or key in f" {s} ") for s in site):
        return True
    return bool(ACRONYM.fullmatch(name) or DOMAIN.search(name))


def _author_sources(page: Page, settings: MetadataSettings) -> Iterator[list[str]]:
    """Raw author strings per source, most trustworthy first."""
    tree, h1 = page.tree, page.h1
    for obj in page.ld:
        yield _ld_names(obj.get("author"))
    names = "author article:author dc.creator parsely-author sailthru.author byl citation_author "
    names += "shareaholic:article_author_name"
    yield [m for m in meta_values(tree, *names.split()) if "://" not in m]
    yield _first_group(tree.xpath('//*[@itemprop="author"]'), h1)
    yield _first_group(tree.xpath('//a[@rel="author"]'), h1)
    yield _marked_bylines(tree, h1, settings)[:1]
    yield _byline_lines(tree, h1, settings)
    yield _labelled_lines(tree, h1, settings)[:1]
    yield _dated_names(h1, settings)[:1]
    yield [m.group(1) for ln in head_lines(h1, settings) if (m := AGENCY_DATELINE.match(ln))][:1]


def _ld_names(value: Any) -> list[str]:
    """Names from a JSON-LD author value: a string, a Person, or a list of them."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return _ld_names(value.get("name"))
    return [n for item in value for n in _ld_names(item)] if isinstance(value, list) else []


def _first_group(elements: list[HtmlElement], h1: HtmlElement | None) -> list[str]:
    """Names of the first element outside noise and its co-authors in the same block."""
    kept = [e for e in elements if not in_noise(e, h1)]
    block = kept[0].getparent() if kept else None
    out = []
    for el in [e for e in kept if e.getparent() is block]:
        named = el.xpath('.//*[@itemprop="name"]')[:1]  # schema.org Person markup
        out.append(
            clean_text(named[0].get("content") or visible_text(named[0]))
            if named
            else visible_text(el)
        )
    return out


def _marked_bylines(
    tree: HtmlElement, h1: HtmlElement | None, settings: MetadataSettings
) -> list[str]:
    """Texts of the innermost author/byline-classed elements outside noise."""
    out: list[str] = []
    for el in tree.iter():
        if not _is_author_marked(el) or in_noise(el, h1):
            continue
        if any(map(_is_author_marked, el.iterdescendants())):
            continue  # the inner element holds the name alone
        for node in (el, el.getparent()):  # the parent when el holds only a label ("Von")
            text = visible_text(node)
            too_long = len(_without_tail(text).split()) > settings.byline_max_words
            if too_long or len(text.split()) > 2 * settings.byline_max_words:
                break
            if _clean_names([text], settings):
                out.append(text)
                break
    return out


def _is_author_marked(el: HtmlElement) -> bool:
    """True for a text element whose class/id says author or byline (not a bio or avatar)."""
    if not isinstance(el.tag, str) or el.tag in {"meta", "link", "script", "img", "svg", "body"}:
        return False
    marks = f"{el.get('class', '')} {el.get('id', '')}"
    return bool(AUTHOR_MARK.search(marks)) and not NOT_BYLINE_MARK.search(marks)


def _byline_lines(
    tree: HtmlElement, h1: HtmlElement | None, settings: MetadataSettings
) -> list[str]:
    """What follows a byline label ("By", "Von", "Auteur :") in short lines by the headline."""
    lines = [ln for ln in head_lines(h1, settings) if len(ln) <= settings.byline_max_chars]
    out = []
    for i, line in enumerate(lines):
        for match in BYLINE_LABEL.finditer(line):
            # A label alone on its line ("Por") names the author on the next one.
            out.append(line[match.end() :].strip() or "".join(lines[i + 1 : i + 2]))
    return [text for text in out if text]


def _dated_names(h1: HtmlElement | None, settings: MetadataSettings) -> list[str]:
    """An unlabelled name beside a date in a dateline by the headline ("4.2.2022 | Uta Roe")."""
    out = []
    for line in head_lines(h1, settings):
        fields = [f.strip() for f in FIELD_SPLIT.split(line)]
        if len(line) > settings.byline_max_chars or len(fields) < 2:
            continue
        if any(parse_date_line(f, settings.date_line_max_chars) for f in fields):
            out += [f for f in fields if PLAIN_NAME.fullmatch(f) and not _ui_words(f)]
    return out


def _ui_words(text: str) -> bool:
    """True when a dateline field holds share-bar or comment words, not a name."""
    return bool(set(text.lower().split()) & UI_WORDS)


def _labelled_lines(
    tree: HtmlElement, h1: HtmlElement | None, settings: MetadataSettings
) -> list[str]:
    """Names after an explicit author label ("Autor: X", "责任编辑：X") anywhere in the article."""
    scope = article_scope(tree, h1, settings)
    lines = [ln for ln in block_lines(scope) if isinstance(ln, str)]
    short = [ln for ln in lines if len(ln) <= settings.byline_max_chars]
    out = [ln[m.end() :].strip() for ln in short if (m := ARTICLE_BYLINE.match(ln))]
    return [text for text in out if text]


def _clean_names(raw: list[str], settings: MetadataSettings) -> list[str]:
    """Person names from raw author strings: labels, handles, roles and trailing dates dropped."""
    names: list[str] = []
    for value in raw:
        value = AUTHOR_PREFIX.sub("", HANDLE.sub("", clean_text(value)))
        value = _without_tail(value).strip(" ,;:|-")
        if len(value.split()) > settings.byline_max_words:
            continue  # an author bio ("Über Kathrin: Hallo, ich bin ..."), not a byline
        for name in NAME_SPLIT.split(value):
            words = name.strip(" ,;:|-").split()
            while len(words) > 2 and ROLE_WORD.search(words[0]):
                words = words[1:]
            name = " ".join(words)
            if _name_shaped(name, settings) and name.lower() not in map(str.lower, names):
                names.append(name)
    return names


def _without_tail(text: str) -> str:
    """An author string cut where a date, role or field follows the name (one line of text)."""
    tail = AUTHOR_TAIL.search(text)
    return text[: tail.start()] if tail else text


def _name_shaped(name: str, settings: MetadataSettings) -> bool:
    """True for 1-6 words with letters, no e-mail or bare label; digits only in a user name."""
    words = name.split()
    return (
        0 < len(words) <= settings.author_max_words
        and any(c.isalpha() for c in name)
        and "@" not in name
        and (len(words) == 1 or not any(c.isdigit() for c in name))  # "freeman1984"
        and not set(name.lower().replace(":", " ").split()) <= LABEL_ONLY
    )
