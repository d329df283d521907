"""Tests of the HTML metadata rules: headline, author and date candidates from small pages."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from lxml.html import HtmlElement  # type: ignore[import-untyped]
from trafilatura.utils import load_html

from tasks.clean import CleanSettings, clean_documents
from tasks.core.records import RawDocument
from tasks.html import headline
from tasks.html.metadata import (
    MetadataSettings,
    Page,
    page_author,
    page_dates,
    page_title,
    read_page,
)
from tasks.text.dates import parse_date_line

SETTINGS = MetadataSettings()
BODY = "<p>" + "The council met on Tuesday and agreed the budget after a long debate. " * 4 + "</p>"


def tree(body: str, head: str = "") -> HtmlElement:
    """A parsed page with the given head and body markup."""
    parsed = load_html(f"<html><head>{head}</head><body>{body}</body></html>")
    assert parsed is not None
    return parsed


def page(body: str, head: str = "") -> Page:
    """A page's facts as the rules read them."""
    return read_page(tree(body, head), SETTINGS)


def published_days(
    body: str, head: str = "", url: str | None = None, kind: str = "published"
) -> list[tuple[date, str]]:
    """(day, source) of the page's candidates of one kind, in the order returned."""
    candidates = page_dates(page(body, head), url, SETTINGS)
    return [(c.value.date(), c.source) for c in candidates if c.kind == kind]


# --- title -----------------------------------------------------------------------------------


def test_h1_is_chosen_over_title_with_site_suffix() -> None:
    head = "<title>Council agrees budget - Springfield Gazette</title>"
    body = "<article><h1>Council agrees budget</h1>" + BODY + "</article>"
    assert page_title(page(body, head)) == "Council agrees budget"


def test_site_suffix_is_stripped_without_h1() -> None:
    head = "<title>Council agrees budget | Springfield Gazette</title>"
    assert page_title(page(BODY, head)) == "Council agrees budget"


def test_title_of_several_parts_keeps_its_longest_part() -> None:
    head = "<title>Fan Club - Council agrees the new city budget - Local - News</title>"
    assert page_title(page(BODY, head)) == "Council agrees the new city budget"


def test_plain_h2_repeating_the_title_is_the_headline_when_there_is_no_h1() -> None:
    head = "<title>Local | Council agrees the new city budget</title>"
    body = "<div><h2>[> Council agrees the new city budget</h2>" + BODY + "</div>"
    assert page_title(page(body, head)) == "Council agrees the new city budget"


def test_plain_h2_in_a_header_inside_the_content_is_the_headline() -> None:
    # <header> around a content block's heading is that block's header, not the page's;
    # the h2 drops the issue number that og:title carries.
    head = '<meta property="og:title" content="The historic somersault (2021/5)">'
    body = (
        '<div class="content"><div class="text"><header><h2>The historic somersault</h2>'
        "</header>" + BODY + "</div></div>"
    )
    assert page_title(page(body, head)) == "The historic somersault"


def test_site_logo_h1_is_not_the_headline() -> None:
    head = "<title>Council agrees budget | Gazette</title>"
    body = (
        '<h1 class="site-title"><a href="https://gazette.example/" rel="home">Gazette</a></h1>'
        '<article><h1 class="entry-title">Council agrees budget</h1>' + BODY + "</article>"
    )
    assert page_title(page(body, head)) == "Council agrees budget"


def test_kicker_inside_h1_is_dropped() -> None:
    head = '<meta property="og:title" content="Budget: Council agrees budget">'
    body = '<h1><span class="kicker">Budget</span> Council agrees budget</h1>' + BODY
    assert page_title(page(body, head)) == "Council agrees budget"


def test_css_uppercase_on_the_headline_is_applied() -> None:
    head = "<style>.entry-header h1 { text-transform: uppercase; }</style>"
    body = '<div class="entry-header"><h1>Council agrees budget</h1></div>' + BODY
    assert page_title(page(body, head)) == "COUNCIL AGREES BUDGET"


def test_itemprop_headline_h2_is_a_candidate() -> None:
    # The h2 is picked by its markup and its overlap, so its own wording wins over og:title's.
    head = '<meta property="og:title" content="Council agrees budget after a long debate">'
    body = (
        "<h1>Springfield news</h1><h1>Weather today</h1>"
        '<h2><span itemprop="headline">Council agrees budget</span></h2>' + BODY
    )
    assert page_title(page(body, head)) == "Council agrees budget"


def test_cjk_title_loses_unspaced_site_suffix() -> None:
    head = "<title>武汉的声音：有英勇的你-新华网</title>"
    assert page_title(page(BODY, head)) == "武汉的声音：有英勇的你"


def test_inline_kicker_before_slash_is_dropped_when_metadata_omits_it() -> None:
    head = '<meta property="og:title" content="Council agrees budget | Gazette">'
    head += '<meta property="og:site_name" content="Gazette">'
    body = '<h1>"A long night" / Council agrees budget</h1>' + BODY
    assert page_title(page(body, head)) == "Council agrees budget"


# --- author ----------------------------------------------------------------------------------


def test_json_ld_author() -> None:
    head = (
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "X", '
        '"author": [{"@type": "Person", "name": "Jane Doe"}, {"name": "John Roe"}]}</script>'
    )
    assert page_author(page(BODY, head), SETTINGS) == "Jane Doe; John Roe"


def test_meta_author() -> None:
    head = '<meta name="author" content="Logan C. Ritchie">'
    assert page_author(page(BODY, head), SETTINGS) == "Logan C. Ritchie"


def test_byline_by_next_to_headline() -> None:
    body = "<article><h1>Council agrees budget</h1><p>By Jane Doe</p>" + BODY + "</article>"
    assert page_author(page(body), SETTINGS) == "Jane Doe"


def test_german_byline_in_author_element() -> None:
    body = '<article><h1>Rat beschließt Haushalt</h1><div class="byline">Von Max Muster</div>'
    assert page_author(page(body + BODY + "</article>"), SETTINGS) == "Max Muster"


def test_outlet_is_dropped_when_a_person_is_named() -> None:
    head = '<meta name="author" content="Rob Picheta, CNN">'
    head += '<link rel="canonical" href="https://edition.cnn.com/2021/03/08/story">'
    assert page_author(page(BODY, head), SETTINGS) == "Rob Picheta"


def test_role_prefix_is_dropped() -> None:
    head = '<meta name="author" content="FOCUS-Online-Experte Robin Tschöpe">'
    assert page_author(page(BODY, head), SETTINGS) == "Robin Tschöpe"


def test_comment_author_is_not_the_author() -> None:
    body = (
        "<article><h1>Council agrees budget</h1>" + BODY + "</article>"
        '<div class="comments"><span class="comment-author">Troll Ninety</span></div>'
    )
    assert page_author(page(body), SETTINGS) is None


def test_comma_listed_authors_keep_their_form() -> None:
    head = '<meta name="author" content="Daniel Braun, Davor Pasoski">'
    assert page_author(page(BODY, head), SETTINGS) == "Daniel Braun, Davor Pasoski"


def test_author_label_at_the_end_of_the_article() -> None:
    body = "<article><h1>Rat beschließt Haushalt</h1>" + BODY + "<p>Autor: Max Muster</p></article>"
    assert page_author(page(body), SETTINGS) == "Max Muster"


def test_gendered_author_label_is_not_a_name() -> None:
    body = "<article><h1>Rat beschließt Haushalt</h1>" + BODY + "<p>Autor*innen: Max Muster</p>"
    assert page_author(page(body + "</article>"), SETTINGS) == "Max Muster"


def test_photo_credit_after_author_label_is_cut() -> None:
    body = "<article>" + BODY + "<p>Text von Max Muster Illustration von Eva Roe</p></article>"
    assert page_author(page(body), SETTINGS) == "Max Muster"


def test_chinese_editor_label() -> None:
    body = "<article><h1>标题</h1>" + BODY + "<p>责任编辑：焦鹏</p></article>"
    assert page_author(page(body), SETTINGS) == "焦鹏"


def test_unlabelled_name_beside_dateline() -> None:
    body = (
        "<article><small>04.02.2022 | 13:10 Uhr | Uta Helkenberg</small>"
        "<h1>Stellungnahme zum Pilotjahr</h1>" + BODY + "</article>"
    )
    assert page_author(page(body), SETTINGS) == "Uta Helkenberg"


def test_share_bar_field_beside_dateline_is_not_a_name() -> None:
    body = "<article><h1>Council agrees budget</h1><p>March 3, 2021 | View Comments</p>"
    assert page_author(page(body + BODY + "</article>"), SETTINGS) is None


def test_agency_dateline_names_the_agency() -> None:
    body = (
        "<article><h1>Verhärtete Fronten</h1><p>Hamburg (dpa/lno) – Trotz eines Gespräches "
        "bleiben die Fronten verhärtet.</p>" + BODY + "</article>"
    )
    assert page_author(page(body), SETTINGS) == "dpa/lno"


def test_agency_credit_element() -> None:
    body = '<article><h1>Masks stolen</h1><p class="credit">JIJI</p>' + BODY + "</article>"
    assert page_author(page(body), SETTINGS) == "JIJI"


def test_user_handle_gets_its_display_name() -> None:
    head = (
        '<script type="application/ld+json">{"@type": "Article", "headline": "X", '
        '"author": {"@type": "Person", "name": "janedoe"}}</script>'
    )
    body = '<article><h1>Council agrees budget</h1><p class="byline">By Jane Doe</p>' + BODY
    assert page_author(page(body + "</article>", head), SETTINGS) == "Jane Doe"


# --- dates -----------------------------------------------------------------------------------


def test_two_digit_year_with_glued_time() -> None:
    parsed = parse_date_line("28.09.1912:44", SETTINGS.date_line_max_chars)
    assert parsed is not None
    assert (parsed[0].date(), parsed[0].hour) == (date(2019, 9, 28), 12)


def test_two_digit_year_dateline() -> None:
    body = "<article><h1>Kein App Store mehr</h1><p>28.09.19 12:44</p>" + BODY + "</article>"
    assert published_days(body)[0] == (date(2019, 9, 28), "dateline")


def test_url_date() -> None:
    days = published_days(BODY, url="https://news.example/2021/03/08/story.html")
    assert (date(2021, 3, 8), "url") in days


def test_dateline_next_to_h1() -> None:
    body = "<article><h1>Rat beschließt Haushalt</h1><p>29.10.2021</p>" + BODY + "</article>"
    assert published_days(body)[0] == (date(2021, 10, 29), "dateline")


def test_german_month_date_in_byline() -> None:
    body = "<article><h1>Rat beschließt Haushalt</h1><p>Von Max Muster | 1. November 2023</p>"
    assert published_days(body + BODY + "</article>")[0] == (date(2023, 11, 1), "dateline")


def test_header_date_is_not_published() -> None:
    body = (
        '<header class="site-header"><span class="date">Monday, 2 January 2023</span></header>'
        "<article><h1>Council agrees budget</h1>" + BODY + "</article>"
    )
    assert all(day != date(2023, 1, 2) for day, _ in published_days(body))


def test_latest_articles_dates_are_not_published() -> None:
    body = (
        "<article><h1>Council agrees budget</h1>" + BODY + "</article>"
        '<div class="latest-news"><time datetime="2023-01-02">2 Jan</time></div>'
    )
    assert published_days(body) == []


def test_modified_is_kept_apart() -> None:
    head = (
        '<meta property="article:published_time" content="2022-05-01T10:00:00+02:00">'
        '<meta property="article:modified_time" content="2022-05-04T09:00:00+02:00">'
    )
    assert published_days(BODY, head)[0][0] == date(2022, 5, 1)
    assert (date(2022, 5, 4), "html_metadata") in published_days(BODY, head, kind="modified")


def test_updated_label_gives_modified() -> None:
    body = "<article><h1>Council agrees budget</h1><p>Updated: March 4, 2021</p>" + BODY
    assert (date(2021, 3, 4), "dateline") in published_days(body + "</article>", kind="modified")


def test_stated_offset_is_kept() -> None:
    head = '<meta property="article:published_time" content="2022-05-03T22:00:00-05:00">'
    candidates = page_dates(page(BODY, head), None, SETTINGS)
    assert candidates[0].value.date() == date(2022, 5, 3)
    assert candidates[0].value.utcoffset() is not None


def test_a_page_is_read_once_for_its_title_author_and_dates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: Counter[str] = Counter()

    def counting(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            calls[name] += 1
            return real(*args)

        return call

    for name in ("json_ld", "headline_element"):
        monkeypatch.setattr(headline, name, counting(name, getattr(headline, name)))
    ld = '{"@type": "NewsArticle", "headline": "Council agrees budget", "author": {"name": "Jane Doe"}}'
    page_html = (
        f'<html><head><script type="application/ld+json">{ld}</script></head><body><article>'
        f"<h1>Council agrees budget</h1>{BODY}{BODY}</article></body></html>"
    )
    doc = RawDocument("page.html", page_html, "html", "utf-8")
    cleaned, rejects = clean_documents([doc], CleanSettings())
    assert not rejects and cleaned[0].author == "Jane Doe"
    assert calls == {"json_ld": 1, "headline_element": 1}
