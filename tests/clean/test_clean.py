"""Tests of the clean stage: line rules, head detection, dates, HTML extraction, rejects."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import lxml.etree
import pytest

from tasks.clean import cleaner as clean
from tasks.clean.cleaner import (
    CleanSettings,
    LineReport,
    clean_documents,
    headline_repeats,
    site_name,
)
from tasks.core.records import (
    CleanDocument,
    ContentType,
    DateCandidate,
    RawDocument,
    Reject,
    RemovedLine,
)
from tasks.html.page import inline_text
from tasks.text.dates import date_in_line, parse_date_line, parse_datetime

SEEDS = Path(__file__).parents[2] / "seeds"
SETTINGS = CleanSettings()

PROSE_1 = (
    "The United States and France rushed on Tuesday to halt the offensive, with diplomats "
    "meeting late into the night at the United Nations headquarters in New York."
)
PROSE_2 = (
    "Officials said the Security Council could meet as early as Thursday, although no date "
    "had been fixed by the end of the day."
)


def seed(name: str) -> str:
    """The text of the seed whose file name starts with name."""
    (path,) = SEEDS.glob(f"{name}_*.txt")
    return path.read_text(encoding="utf-8")


def clean_one(content: str, content_type: ContentType = "text", **fields: str) -> CleanDocument:
    """Clean a single document that must not be rejected."""
    doc = RawDocument("doc.txt", content, content_type, "utf-8", **fields)
    cleaned, rejects = clean_documents([doc], SETTINGS)
    assert rejects == []
    return cleaned[0]


def reject_one(content: str, content_type: ContentType = "text") -> Reject:
    """Clean a single document that must be rejected."""
    doc = RawDocument("doc.x", content, content_type, "utf-8")
    cleaned, rejects = clean_documents([doc], SETTINGS)
    assert cleaned == []
    return rejects[0]


def removed(doc: CleanDocument) -> list[tuple[str, str]]:
    """(text, reason) of every removed line, in line order."""
    return [(r.text, r.reason) for r in doc.removed]


def paragraphs(doc: CleanDocument) -> list[str]:
    """The body's paragraphs."""
    return doc.body.split("\n\n")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A UTC datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# --------------------------------------------------------------------------------------------
# Seeds
# --------------------------------------------------------------------------------------------


def test_seed_002_removes_page_header_and_boilerplate() -> None:
    doc = clean_one(seed("002"))
    title = "US, France Call Up Leaders Of Azerbaijan & Armenia Over Offensive At Nagorno-Karabakh"
    assert [(r.line_no, r.text, r.reason) for r in doc.removed] == [
        (1, "19.8 C", "weather"),
        (2, "Port Louis", "page_header"),
        (3, "Friday, July 19, 2024", "page_header"),
        (5, "Download The App:", "app_promo"),
        (7, "Read in French", "language_switch"),
        (10, title, "title"),
        (12, "Must Read", "section_label"),
        (48, "- Advertisement -spot_img", "advertisement"),
        (50, "More Articles", "related_links"),
        (53, "Please enter your comment!", "comment_form"),
        (54, "Please enter your name here", "comment_form"),
        (56, "- Advertisement -spot_img", "advertisement"),
        (58, "Latest Articles", "related_links"),
    ]
    assert (doc.title, doc.title_source) == (title, "first_line")
    assert paragraphs(doc)[0].startswith("Azerbaijan’s advance in Nagorno-Karabakh")
    assert paragraphs(doc)[-1].endswith("Menendez said.")


def test_seed_002_header_date_is_a_page_date_only() -> None:
    doc = clean_one(seed("002"))
    assert doc.dates == (DateCandidate(utc(2024, 7, 19), "page_header", "page"),)


def test_seed_004_dateline_reading_time_and_font_buttons() -> None:
    doc = clean_one(seed("004"))
    assert removed(doc) == [
        ("France condemns operation in Nagorno-Karabakh, holds Azerbaijan", "title"),
        ("September 20, 2023", "dateline"),
        ("3 MIN READ", "reading_time"),
        ("A", "font_size_control"),
        ("A+", "font_size_control"),
        ("A-", "font_size_control"),
    ]
    assert doc.title_source == "first_line"
    assert doc.dates == (DateCandidate(utc(2023, 9, 20), "dateline", "published"),)
    assert paragraphs(doc)[0].startswith("France has “utterly condemned”")


def test_seed_003_keeps_its_subheading() -> None:
    doc = clean_one(seed("003"))
    assert removed(doc) == [
        (
            "United States, France race at UN to stop Azerbaijan offensive in Nagorno-Karabakh",
            "title",
        )
    ]
    assert paragraphs(doc)[3] == "Russia joins calls for calm"


def test_seed_000_has_no_title_and_keeps_its_first_sentence() -> None:
    text = seed("000")
    doc = clean_one(text)
    assert doc.title is None and doc.title_source is None
    assert doc.removed == ()
    assert paragraphs(doc) == [line for line in text.splitlines() if line.strip()]


def test_seed_001_title_prefix_gives_title_and_date() -> None:
    doc = clean_one(seed("001"))
    assert doc.title == "Pashinyan, Blinken Discuss Azerbaijan’s Latest Attack on Artsakh"
    assert doc.title_source == "title_prefix"
    assert doc.dates == (DateCandidate(utc(2023, 9, 19), "title_prefix", "published"),)
    assert [r.line_no for r in doc.removed] == [1]
    assert paragraphs(doc)[0].startswith("President Emmanuel Macron of France told")


@pytest.mark.parametrize("name", ["000", "001", "002", "003", "004"])
def test_seed_every_kept_line_is_a_body_paragraph(name: str) -> None:
    text = seed(name)
    doc = clean_one(text)
    dropped = {r.line_no for r in doc.removed}
    kept = [line.strip() for no, line in enumerate(text.splitlines(), 1) if no not in dropped]
    assert paragraphs(doc) == [line for line in kept if line]


# --------------------------------------------------------------------------------------------
# Line rules, on lines other than the seeds' own strings
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("Sunny, 24°C", "weather"),
        ("-3 °F / -19 °C", "weather"),
        ("Get our free app", "app_promo"),
        ("Available on the App Store and Google Play", "app_promo"),
        ("Lire en français", "language_switch"),
        ("English | Français | Հայերեն", "language_switch"),
        ("Editor’s Picks", "section_label"),
        ("TRENDING NOW", "section_label"),
        ("Related Stories", "related_links"),
        ("You might also like", "related_links"),
        ("Read more: Azerbaijan launches offensive in Karabakh", "related_links"),
        ("ADVERTISEMENT", "advertisement"),
        ("Story continues below advertisement", "advertisement"),
        ("Leave a Reply", "comment_form"),
        ("You have entered an incorrect email address!", "comment_form"),
        (
            "Save my name, email, and website in this browser for the next time I comment.",
            "comment_form",
        ),
        ("A- A A+", "font_size_control"),
        ("Text size", "font_size_control"),
        ("5 min read", "reading_time"),
        ("Reading time: 4 minutes", "reading_time"),
        ("Share on Facebook", "social_share"),
        ("Facebook Twitter WhatsApp Email", "social_share"),
        ("Subscribe to our newsletter", "call_to_action"),
        ("Follow us on Google News", "call_to_action"),
        ("© 2024 Daily Planet. All rights reserved.", "copyright"),
        ("Tags: Armenia, Azerbaijan, France", "tags"),
        ("Photo: Reuters/Vahram Baghdasaryan", "photo_credit"),
        ("Sanjeev Verma/Hindustan Times/Getty Images", "photo_credit"),
        ("The plague wiped out half of Europe in the 14th century (Image: GETTY)", "photo_credit"),
        ("Premio Nobel de la Paz (REUTERS/Denis Balibouse)", "photo_credit"),
        (
            "The house where Hitler was born, in Austria. Leonhard Foeger / Reuters file",
            "photo_credit",
        ),
        ("* * *", "separator"),
        # other languages
        ("Lea también: Impiden ingreso a Nicaragua a reportero", "related_links"),
        ("Lesen Sie auch: Die Regierung plant neue Steuern", "related_links"),
        ("Ähnliche Beiträge", "related_links"),
        ("Zurück zur Übersicht", "related_links"),
        ("Schlagworte: Schule, Bildung", "tags"),
        ("Alle Rechte vorbehalten.", "copyright"),
        ("Teilen Drucken", "social_share"),
        ("Newsletter abonnieren", "call_to_action"),
        ("Erdölpumpen im Abendrot. Bild: TebNad/Shutterstock.com", "photo_credit"),
        ("Privacy Policy | Terms of Use | Contact Us", "footer_links"),
        ("Kommentar verfassen", "comment_form"),
        # comment sections, sign-up prompts, credits, consent banners
        ("(Reporting by Greg Roumeliotis; editing by Jane Doe)", "credits"),
        ("Keith Bradsher contributed reporting from Hong Kong.", "credits"),
        ("Thanks for signing up!", "call_to_action"),
        ("There was an error processing your subscription.", "call_to_action"),
        ("Keep an eye on your inbox for the latest sports news.", "call_to_action"),
        ("Never miss the latest news by signing up to our newsletter today!", "call_to_action"),
        ("2 days ago at 07:52 am", "relative_time"),
        ("vor 3 Stunden", "relative_time"),
        ("Top Rated Comments", "comment_form"),
        ("Rating: 36 Votes", "comment_form"),
        ("Write to Al Root at allen.root@example.com", "credits"),
        ("We use cookies to improve your experience. By continuing you agree.", "cookie_notice"),
        ("Diese Website verwendet Cookies. Mit der Nutzung stimmen Sie zu.", "cookie_notice"),
    ],
)
def test_ui_line_inside_the_body_is_removed(line: str, reason: str) -> None:
    doc = clean_one(f"{PROSE_1}\n\n{line}\n\n{PROSE_2}\n")
    assert doc.removed == (RemovedLine(3, line, reason),)
    assert paragraphs(doc) == [PROSE_1, PROSE_2]


@pytest.mark.parametrize(
    "line",
    [
        "Russia joins calls for calm",
        "What happens next",
        "A",  # a lone "A" is a font button only next to "A+" / "A-"
        "The advertisement ran in three newspapers on Tuesday, officials said.",
        "Users can download the app for free from the ministry website.",
        "Temperatures reached 40 C in the capital on Tuesday.",
        "More than 20 people were injured",
        "He wrote about it at length. Then he said the source: a photo he had seen twice.",
        "The court said the cookie law forced every site to show a banner from next year.",
        "Reporting by committee members was slow, the minister said on Tuesday evening.",
        "WASHINGTON (AP) — The Senate voted on Tuesday to fund the agency.",
        "The ministry confirmed the figures to Reuters",
    ],
)
def test_content_line_that_resembles_ui_is_kept(line: str) -> None:
    doc = clean_one(f"{PROSE_1}\n\n{line}\n\n{PROSE_2}\n")
    assert doc.removed == ()
    assert paragraphs(doc) == [PROSE_1, line, PROSE_2]


def test_line_numbers_count_crlf_lines_from_one() -> None:
    doc = clean_one(f"{PROSE_1}\r\nAdvertisement\r\n{PROSE_2}")
    assert doc.removed == (RemovedLine(2, "Advertisement", "advertisement"),)


def test_hard_wrapped_lines_join_into_one_paragraph() -> None:
    text = (
        "Diplomats met late on Tuesday at the United Nations in New York, where\n"
        "France called for an urgent session of the Security Council on the crisis.\n"
        "\n"
        f"{PROSE_2}\n"
    )
    doc = clean_one(text)
    assert paragraphs(doc) == [
        "Diplomats met late on Tuesday at the United Nations in New York, where France called "
        "for an urgent session of the Security Council on the crisis.",
        PROSE_2,
    ]
    assert doc.title is None


def test_a_list_of_headlines_that_looks_wrapped_is_not_prose_in_a_paragraph_per_line_text() -> None:
    # Each headline is 50-100 characters with no final stop, as a wrapped line is, but the
    # page writes a paragraph per line: joined, the headlines are not a sentence.
    headlines = (
        "How moon rocks reveal the history of the cosmos and its early days\n"
        "These senators are going after the biggest polluters in Washington\n"
        "Brazil's rainforest destruction is at its highest rate in a decade\n"
        "The plan to boost drone batteries with a teensy jet engine inside\n"
    )
    bio = (
        "Molly Wood is a contributor and the host of a daily show about technology, money "
        "and the people who build the future."
    )
    text = f"{PROSE_1}\n\n{PROSE_2} {PROSE_2}\n\n{PROSE_1}\n\n{headlines}\n{bio}\n"
    doc = clean_one(text)
    assert paragraphs(doc) == [PROSE_1, f"{PROSE_2} {PROSE_2}", PROSE_1]
    assert {reason for _, reason in removed(doc)} == {"after_main_text"}


def test_link_titles_under_a_closing_related_heading_are_removed() -> None:
    links = "Related Articles\nArmenia asks for talks\nKarabakh ceasefire holds\n"
    text = f"{PROSE_1}\n\n{PROSE_2}\n\n{links}"
    doc = clean_one(text)
    assert removed(doc) == [
        ("Related Articles", "related_links"),
        ("Armenia asks for talks", "related_links"),
        ("Karabakh ceasefire holds", "related_links"),
    ]


# --------------------------------------------------------------------------------------------
# Head: title, page header, dateline, byline
# --------------------------------------------------------------------------------------------


def test_header_date_above_the_title_is_a_page_date() -> None:
    text = (
        f"Port Louis\nMonday, 2 September 2024\n\nMauritius Votes On New Budget Today\n\n{PROSE_1}"
    )
    doc = clean_one(text)
    assert removed(doc) == [
        ("Port Louis", "page_header"),
        ("Monday, 2 September 2024", "page_header"),
        ("Mauritius Votes On New Budget Today", "title"),
    ]
    assert doc.dates == (DateCandidate(utc(2024, 9, 2), "page_header", "page"),)


def test_dateline_under_the_title_with_time_and_zone() -> None:
    text = f"Armenia Appeals To The UN\nPublished: Sept. 20, 2023 at 2:05 pm EDT\n\n{PROSE_1}"
    doc = clean_one(text)
    assert doc.dates == (DateCandidate(utc(2023, 9, 20, 18, 5), "dateline", "published"),)
    assert removed(doc)[1] == ("Published: Sept. 20, 2023 at 2:05 pm EDT", "dateline")


def test_a_date_bar_with_more_than_the_date_is_a_dateline() -> None:
    text = (
        f"Armenia Appeals To The UN\nReuters September 20, 2023 11:03 PM • 2 min read\n\n{PROSE_1}"
    )
    doc = clean_one(text)
    assert removed(doc)[1] == ("Reuters September 20, 2023 11:03 PM • 2 min read", "dateline")
    assert doc.dates == (DateCandidate(utc(2023, 9, 20, 23, 3), "dateline", "published"),)


def test_a_standfirst_sentence_holding_a_date_is_kept() -> None:
    standfirst = "The talks began on September 20, 2023 and are still going on."
    doc = clean_one(f"Armenia Appeals To The UN\n{standfirst}\n\n{PROSE_1}")
    assert paragraphs(doc) == [standfirst, PROSE_1]
    assert doc.dates == ()


def test_updated_dateline_is_a_modified_date() -> None:
    text = f"Armenia Appeals To The UN\nUpdated 21.09.2023 10:30\n\n{PROSE_1}"
    doc = clean_one(text)
    assert doc.dates == (DateCandidate(utc(2023, 9, 21, 10, 30), "dateline", "modified"),)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("20 septembre 2023", (utc(2023, 9, 20), "published")),
        ("Posted on March 3rd, 2022", (utc(2022, 3, 3), "published")),
        ("Wed 20 Sep 2023 10.32 BST", (utc(2023, 9, 20, 9, 32), "published")),
        ("2023-09-20T10:32:00Z", (utc(2023, 9, 20, 10, 32), "published")),
        ("Last updated: 21.09.2023, 14:05", (utc(2023, 9, 21, 14, 5), "modified")),
        ("Published 19/09/2023", (utc(2023, 9, 19), "published")),
        ("Published 09/10/2023", None),  # day and month order unknown
        ("February 30, 2023", None),
        ("September 2023", None),
        ("The talks of September 20, 2023 failed", None),
    ],
)
def test_date_lines(line: str, expected: tuple[datetime, str] | None) -> None:
    assert parse_date_line(line, SETTINGS.date_line_max_chars) == expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Tom Rogan Tuesday November 19, 2019", True),
        ("photobix 11. Dezember 2012 um 11:07", True),
        ("Becket Adams", False),
        (f"{PROSE_1} It was 19 November 2019.", False),  # a paragraph, not a short line
    ],
)
def test_lines_mentioning_a_date(line: str, expected: bool) -> None:
    assert (date_in_line(line, SETTINGS.date_line_max_chars) is not None) is expected


def test_a_list_of_dated_teasers_after_the_article_is_removed() -> None:
    teasers = "".join(
        f"Story number {n} about the budget\nJane Doe\nTuesday November {n + 10}, 2019\n\n"
        f"{PROSE_1}\n\n"
        for n in range(1, 5)
    )
    text = f"{PROSE_2} {PROSE_2}\n\n{PROSE_1}\n\n{PROSE_2}\n\nMore from the site\n{teasers}"
    doc = clean_one(text)
    assert paragraphs(doc) == [f"{PROSE_2} {PROSE_2}", PROSE_1, PROSE_2]


def test_byline_gives_the_author() -> None:
    doc = clean_one(f"Armenia Appeals To The UN\nBy Jane Doe and John Smith\n\n{PROSE_1}")
    assert doc.author == "Jane Doe and John Smith"
    assert removed(doc)[1] == ("By Jane Doe and John Smith", "byline")


def test_title_is_the_longest_headline_shaped_head_line() -> None:
    text = (
        f"World News Desk\nArmenia and Azerbaijan Trade Blame After Overnight Shelling\n\n{PROSE_1}"
    )
    doc = clean_one(text)
    assert doc.title == "Armenia and Azerbaijan Trade Blame After Overnight Shelling"
    assert removed(doc)[0] == ("World News Desk", "page_header")


def test_input_title_wins_and_its_line_is_removed() -> None:
    text = f"Armenia Appeals To The UN\n\n{PROSE_1}"
    doc = clean_one(text, title="Armenia appeals to the UN")
    assert (doc.title, doc.title_source) == ("Armenia appeals to the UN", "input_field")
    assert removed(doc) == [("Armenia Appeals To The UN", "title")]


def test_blank_input_title_falls_back_to_the_first_line() -> None:
    doc = clean_one(f"Armenia Appeals To The UN\n\n{PROSE_1}", title="  ")
    assert (doc.title, doc.title_source) == ("Armenia Appeals To The UN", "first_line")


def test_title_followed_directly_by_a_long_paragraph_is_still_the_title() -> None:
    doc = clean_one(f"Armenia Appeals To The UN Over Karabakh Shelling\n{PROSE_1}\n{PROSE_2}")
    assert doc.title == "Armenia Appeals To The UN Over Karabakh Shelling"
    assert paragraphs(doc) == [PROSE_1, PROSE_2]


def test_input_title_that_is_not_in_the_text_removes_nothing() -> None:
    doc = clean_one(f"Subheading Kept In The Text\n\n{PROSE_1}", title="Another title")
    assert doc.title_source == "input_field"
    assert paragraphs(doc) == ["Subheading Kept In The Text", PROSE_1]


@pytest.mark.parametrize(
    ("published_at", "expected"),
    [
        ("2023-09-19T10:00:00+02:00", utc(2023, 9, 19, 8)),
        ("Tue, 19 Sep 2023 10:00:00 +0200", utc(2023, 9, 19, 8)),
        ("September 19, 2023", utc(2023, 9, 19)),
    ],
)
def test_input_published_at_is_parsed(published_at: str, expected: datetime) -> None:
    doc = clean_one(PROSE_1, published_at=published_at)
    assert doc.dates == (DateCandidate(expected, "input_field", "published"),)


def test_unparseable_input_date_gives_no_candidate() -> None:
    assert clean_one(PROSE_1, published_at="sometime last week").dates == ()


@pytest.mark.parametrize(
    "published_at",
    [
        "0001-01-01T00:00:00+05:00",  # 31 Dec of year 0 in UTC: no such datetime
        "9999-12-31T23:59:59-05:00",  # year 10000 in UTC
        "sometime last week",
        "Tue, 19 Sep 99999999999999999999 10:00:00 +0200",  # overflows a C long
        "\ud800",  # a lone surrogate from a JSON escape
    ],
)
def test_bad_input_date_drops_the_date_with_a_warning(published_at: str) -> None:
    doc = clean_one(PROSE_1, published_at=published_at)
    assert doc.dates == ()
    shown = "\ufffd" if published_at == "\ud800" else published_at  # lone surrogate replaced
    assert doc.warnings == (f"bad_date_field: {shown}",)
    doc.warnings[0].encode("utf-8")  # storable as Parquet text


def test_bad_input_date_warning_follows_the_input_warnings() -> None:
    raw = RawDocument("doc.html", PAGE, "html", "utf-8", published_at="0001-01-01T00:00:00+05:00",
                      warnings=("invalid_utf8: 4 bytes replaced",))  # fmt: skip
    (doc,), rejects = clean_documents([raw], SETTINGS)
    assert rejects == []
    assert not any(d.source == "input_field" for d in doc.dates)
    assert doc.warnings == (
        "invalid_utf8: 4 bytes replaced",
        "bad_date_field: 0001-01-01T00:00:00+05:00",
    )


def test_rfc2822_date_with_huge_numbers_is_no_date() -> None:
    assert parse_datetime("Mon, 1 Jan 2020 99999999999999999999:00:00 +0000", 80) is None


@pytest.mark.parametrize(
    ("given", "url", "outlet"),
    [
        ("Azatutyun", "https://www.example.com/a", "Azatutyun"),
        (None, "https://www.example.com/news/a", "example.com"),
        (None, None, None),
    ],
)
def test_outlet_falls_back_to_the_url_host(
    given: str | None, url: str | None, outlet: str | None
) -> None:
    doc = RawDocument("doc.txt", PROSE_1, "text", "utf-8", url=url, outlet=given)
    cleaned, _ = clean_documents([doc], SETTINGS)
    assert cleaned[0].outlet == outlet


# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html><head><title>Storm hits coast | Daily Planet</title>
<meta property="og:site_name" content="Daily Planet">
<meta property="og:title" content="Storm hits coast">
<meta property="article:published_time" content="2023-09-19T10:00:00+02:00">
<meta property="article:modified_time" content="2023-09-20T08:30:00Z">
<meta name="author" content="Jane Doe">
<link rel="canonical" href="https://www.dailyplanet.com/news/storm">
</head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li></ul></nav>
<header><div class="weather">19.8 C</div><div>Friday, July 19, 2024</div></header>
<article><h1>Storm hits coast</h1>
<p>A powerful storm struck the northern coast on Tuesday, flooding several towns and cutting
power to thousands of homes across the region.</p>
<p>Advertisement</p>
<p>Officials said emergency crews were working through the night<br>to restore electricity and
clear roads blocked by fallen trees and debris.</p>
<p>"We have never seen anything like this," said the mayor, who urged residents to stay
indoors until the winds had passed.</p>
</article>
<footer><p>Copyright 2024 Daily Planet. All rights reserved.</p>
<a href="/privacy">Privacy policy</a></footer>
</body></html>"""


def test_html_main_text_and_metadata() -> None:
    doc = clean_one(PAGE, "html")
    assert paragraphs(doc) == [
        "A powerful storm struck the northern coast on Tuesday, flooding several towns and "
        "cutting power to thousands of homes across the region.",
        "Officials said emergency crews were working through the night to restore electricity "
        "and clear roads blocked by fallen trees and debris.",
        '"We have never seen anything like this," said the mayor, who urged residents to stay '
        "indoors until the winds had passed.",
    ]
    assert (doc.title, doc.title_source) == ("Storm hits coast", "html_headline")
    assert (doc.outlet, doc.author) == ("Daily Planet", "Jane Doe")
    assert doc.url == "https://www.dailyplanet.com/news/storm"


def test_html_removed_lines_are_numbered_in_the_visible_text() -> None:
    doc = clean_one(PAGE, "html")
    assert [(r.line_no, r.text, r.reason) for r in doc.removed] == [
        (1, "Home", "html_boilerplate"),
        (2, "World", "html_boilerplate"),
        (3, "19.8 C", "html_boilerplate"),
        (4, "Friday, July 19, 2024", "html_boilerplate"),
        (5, "Storm hits coast", "title"),
        (7, "Advertisement", "advertisement"),
        (11, "Copyright 2024 Daily Planet. All rights reserved.", "html_boilerplate"),
        (12, "Privacy policy", "html_boilerplate"),
    ]


def test_html_dates_come_from_metadata_never_from_the_page_header() -> None:
    doc = clean_one(PAGE, "html")
    assert doc.dates == (
        DateCandidate(utc(2023, 9, 19, 8), "html_metadata", "published"),
        DateCandidate(utc(2023, 9, 20, 8, 30), "html_metadata", "modified"),
    )


def test_html_input_fields_win_over_page_metadata() -> None:
    doc = clean_one(PAGE, "html", title="Given title", outlet="Wire", url="https://x.org/a")
    assert (doc.title, doc.title_source, doc.outlet, doc.url) == (
        "Given title",
        "input_field",
        "Wire",
        "https://x.org/a",
    )
    assert "Storm hits coast" not in doc.body  # the page's own headline is still removed


def test_html_table_rows_become_paragraphs() -> None:
    page = PAGE.replace(
        "</article>",
        "<table><tr><td>Town</td><td>Homes without power</td></tr>"
        "<tr><td>Northport</td><td>1,200</td></tr></table></article>",
    )
    doc = clean_one(page, "html")
    assert paragraphs(doc)[-2:] == ["Town | Homes without power", "Northport | 1,200"]
    assert all(r.text not in ("Town", "Northport | 1,200") for r in doc.removed)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("", "empty_input"),
        ("   \n\t ", "empty_input"),
        ("just some words, no markup at all", "malformed_html"),
        ("<<<>>>", "malformed_html"),
        ("<html><body><div></div></body></html>", "extraction_failed"),
        ("<html><head><title>Only a title</title></head><body></body></html>", "extraction_failed"),
    ],
)
def test_bad_html_is_rejected_not_raised(content: str, reason: str) -> None:
    rejected = reject_one(content, "html")
    assert (rejected.reason, rejected.stage) == (reason, "clean")


def test_text_of_boilerplate_only_is_empty_after_cleaning() -> None:
    assert reject_one("Advertisement\n\nMust Read\nShare on Facebook\n").reason == (
        "empty_after_cleaning"
    )


def _slow_on(marker: str, seconds: float) -> object:
    """classify_lines that stalls (sleeps, then spins in Python) on lines holding a marker."""
    original = clean.classify_lines

    def classify(lines: Sequence[str], *args: object, **kwargs: object) -> LineReport:
        if any(marker in line for line in lines):
            time.sleep(seconds)
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:  # a runaway loop: only the watchdog ends it
                pass
        return original(lines, *args, **kwargs)  # type: ignore[arg-type]

    return classify


def test_document_over_its_time_budget_is_a_timeout_reject(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(clean, "classify_lines", _slow_on("STALL", 5.0))
    settings = dataclasses.replace(SETTINGS, max_seconds_per_document=0.3)
    docs = [
        RawDocument("a.txt", PROSE_1, "text", "utf-8"),
        RawDocument("slow.txt", f"STALL\n\n{PROSE_1}", "text", "utf-8"),
        RawDocument("c.txt", PROSE_2, "text", "utf-8"),
    ]
    started = time.monotonic()
    cleaned, rejects = clean_documents(docs, settings)
    assert time.monotonic() - started < 3
    assert [d.source_uri for d in cleaned] == ["a.txt", "c.txt"]
    assert [(r.source_uri, r.reason, r.stage) for r in rejects] == [
        ("slow.txt", "timeout", "clean")
    ]


def test_time_budget_holds_in_a_worker_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    # Dask runs the stage in worker threads: there a watchdog, not SIGALRM, ends the overrun.
    monkeypatch.setattr(clean, "classify_lines", _spinning_on("STALL", clean.classify_lines))
    settings = dataclasses.replace(SETTINGS, max_seconds_per_document=0.3)
    docs = [
        RawDocument("slow.txt", f"STALL\n\n{PROSE_1}", "text", "utf-8"),
        RawDocument("b.txt", PROSE_2, "text", "utf-8"),
    ]
    out: list[tuple[list[CleanDocument], list[Reject]]] = []
    worker = threading.Thread(target=lambda: out.append(clean_documents(docs, settings)))
    worker.start()
    worker.join(timeout=20)
    assert not worker.is_alive()
    ((cleaned, rejects),) = out
    assert [d.source_uri for d in cleaned] == ["b.txt"]
    assert [(r.source_uri, r.reason) for r in rejects] == [("slow.txt", "timeout")]


def _spinning_on(marker: str, original: object) -> object:
    """classify_lines that loops for good on lines holding a marker."""

    def classify(lines: Sequence[str], *args: object, **kwargs: object) -> LineReport:
        while any(marker in line for line in lines):
            pass
        return original(lines, *args, **kwargs)  # type: ignore[operator]

    return classify


def test_unexpected_error_is_an_extraction_error_reject(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> LineReport:
        raise ValueError("rule exploded")

    monkeypatch.setattr(clean, "classify_lines", broken)
    rejected = reject_one(PROSE_1)
    assert (rejected.reason, rejected.stage) == ("extraction_error", "clean")
    assert rejected.detail == "ValueError: rule exploded"


def test_default_time_budget() -> None:
    assert CleanSettings().max_seconds_per_document == 30


def test_batch_keeps_order_and_is_deterministic() -> None:
    docs = [
        RawDocument("a.txt", PROSE_1, "text", "utf-8"),
        RawDocument("b.html", "", "html", "utf-8"),
        RawDocument("c.html", PAGE, "html", "utf-8"),
        RawDocument("d.txt", seed("002"), "text", "utf-8"),
    ]
    first = clean_documents(docs, SETTINGS)
    assert [d.source_uri for d in first[0]] == ["a.txt", "c.html", "d.txt"]
    assert [r.source_uri for r in first[1]] == ["b.html"]
    assert clean_documents(docs, SETTINGS) == first


# --------------------------------------------------------------------------------------------
# Whole pages as plain text: menus, teasers and footers around the article
# --------------------------------------------------------------------------------------------

PROSE_3 = (
    "Diplomats said the talks would resume next week in Geneva, where both delegations are "
    "expected to present written proposals."
)
TEASER = (
    "Ministers meet to discuss the budget. The finance minister presented a draft that "
    "cuts spending on roads and raises it for schools and hospitals across the country."
)
MENU = "Home\nWorld\nPolitics\nBusiness\nSport\nCulture\nOpinion"


def test_page_menus_and_footer_around_the_article_are_removed() -> None:
    page = (
        f"Talks resume in Geneva - Daily Planet\n\n{MENU}\n\nTalks resume in Geneva\n\n"
        f"{PROSE_1}\n\n{PROSE_2}\n\n{PROSE_3}\n\nShare this article\n\nMost read\n\n"
        "Markets fall again\nA new bridge opens\nWeather turns cold\n\n"
        "Impressum | Datenschutz | Kontakt"
    )
    doc = clean_one(page)
    assert paragraphs(doc) == [PROSE_1, PROSE_2, PROSE_3]
    assert doc.title == "Talks resume in Geneva"
    reasons = dict(removed(doc))
    assert reasons["Politics"] == "before_main_text"
    assert reasons["A new bridge opens"] == "related_links"  # listed under "Most read"
    assert reasons["Culture"] == "before_main_text"
    assert reasons["Impressum | Datenschutz | Kontakt"] == "footer_links"


def test_teasers_above_the_repeated_headline_are_not_the_article() -> None:
    # A teaser is prose too; the article is the text under the line repeating the page title.
    page = (
        f"Talks resume in Geneva | Daily Planet\n\n{MENU}\n\n{TEASER}\n\nweiter lesen\n\n"
        f"Talks resume in Geneva\n\n{PROSE_1}\n\n{PROSE_2}\n"
    )
    doc = clean_one(page)
    assert paragraphs(doc) == [PROSE_1, PROSE_2]
    assert (TEASER, "before_main_text") in removed(doc)


def test_reader_comments_after_the_share_bar_are_not_the_article() -> None:
    comments = (
        "Jasmin sagt:\n10. Februar 2019 um 18:05 Uhr\nWhat a story, thank you.\nAntworten\n"
        "Flory sagt:\n10. Februar 2019 um 18:22 Uhr\nGreat.\nAntworten\n"
    )
    page = f"{PROSE_1}\n\n{PROSE_2}\n\nShare this article\nFacebook\nTwitter\n\n{comments}"
    doc = clean_one(page)
    assert paragraphs(doc) == [PROSE_1, PROSE_2]
    assert ("Jasmin sagt:", "comment_header") in removed(doc)
    assert ("Antworten", "comment_form") in removed(doc)


def test_standfirst_between_headline_and_body_is_kept_but_labels_are_not() -> None:
    standfirst = "Both delegations bring written proposals to the table"
    page = (
        f"Talks resume in Geneva - Daily Planet\n\n{MENU}\n\nTalks resume in Geneva\n\n"
        f"{standfirst}\n\nWorld\n\n{PROSE_1}\n\n{PROSE_2}\n"
    )
    doc = clean_one(page)
    assert paragraphs(doc) == [standfirst, PROSE_1, PROSE_2]


def test_cjk_article_is_not_too_short_for_the_body_rules() -> None:
    text = "政府は火曜日に新しい予算案を発表した。財務大臣は道路への支出を減らすと述べた。"
    doc = clean_one(f"予算案を発表\n\n{text}\n")
    assert paragraphs(doc) == [text]


def test_html_teaser_links_after_the_article_are_a_link_list() -> None:
    teasers = (
        '<p><a href="/a">Flood warnings extended to the southern valleys</a></p>'
        '<p><a href="/b">Rail services suspended between the two largest cities</a></p>'
        '<p><a href="/c">Schools close for a second day</a></p>'
    )
    doc = clean_one(PAGE.replace("</article>", f"{teasers}</article>"), "html")
    assert "Flood warnings" not in doc.body
    assert ("Flood warnings extended to the southern valleys", "link_list") in removed(doc)
    assert paragraphs(doc)[-1].startswith('"We have never seen anything like this,"')


@pytest.mark.parametrize(
    ("xml", "text"),
    [
        (
            '<p>the last <ref target="/a">MacBook Pro</ref>was released</p>',
            "the last MacBook Pro was released",
        ),
        ('<p>the <ref target="/a">weather office</ref>, said</p>', "the weather office, said"),
        ('<p><ref target="/a">link</ref> text</p>', "link text"),
    ],
)
def test_word_after_an_extracted_link_gets_back_its_space(xml: str, text: str) -> None:
    # trafilatura strips the space between a link and the word after it.
    assert inline_text(lxml.etree.fromstring(xml)) == text


def test_html_link_inside_the_article_text_is_kept_with_its_spaces() -> None:
    linked = (
        '<p>Forecasters <a href="/x">published the full report</a> on the storm, '
        'which the <a href="/y">weather office</a>, said was its worst.</p>'
    )
    page = PAGE.replace("<p>Advertisement</p>", linked)
    body = clean_one(page, "html").body
    assert (
        "Forecasters published the full report on the storm, which the weather office, said" in body
    )


def test_html_heading_rewording_the_title_is_removed_and_the_standfirst_set_apart() -> None:
    standfirst = "Thousands of homes are without power after the worst storm in a decade"
    page = PAGE.replace(
        "<h1>Storm hits coast</h1>", f"<h2>Storm hits the coast</h2><h2>{standfirst}</h2>"
    )
    doc = clean_one(page, "html")
    assert doc.standfirst == standfirst
    assert paragraphs(doc)[0].startswith("A powerful storm struck")
    assert ("Storm hits the coast", "title") in removed(doc)
    assert (standfirst, "standfirst") in removed(doc)


def test_html_heading_unlike_the_title_above_the_text_is_the_standfirst() -> None:
    standfirst = "Thousands of homes are without power after the worst storm in a decade"
    doc = clean_one(PAGE.replace("<h1>Storm hits coast</h1>", f"<h2>{standfirst}</h2>"), "html")
    assert (doc.standfirst, doc.title) == (standfirst, "Storm hits coast")


def test_article_before_a_longer_comment_section_is_the_main_text() -> None:
    comment = (
        "I have read every report on these talks and I still think the diplomats are wasting "
        "their time, because nothing will change until the offensive stops for good."
    )
    comments = "\n\n".join(f"reader{n}\n\n{comment}" for n in range(8))
    page = (
        f"{PROSE_1}\n\n{PROSE_2}\n\n{PROSE_3}\n\n{PROSE_1} {PROSE_3}\n\n"
        f"Share this article\n\nComments\n\n{comments}\n"
    )
    doc = clean_one(page)
    assert comment not in doc.body
    assert paragraphs(doc)[:3] == [PROSE_1, PROSE_2, PROSE_3]


def test_headline_repeated_in_a_next_article_teaser_does_not_move_the_article() -> None:
    page = (
        f"Talks resume in Geneva - Daily Planet\n\n{MENU}\n\n{PROSE_1}\n\n{PROSE_2}\n\n"
        f"{PROSE_3}\n\n{PROSE_1} {PROSE_2}\n\nUp next\n\nTalks resume in Geneva\n\n"
        "Ministers meet to discuss the budget on Monday.\n"
    )
    doc = clean_one(page)
    assert paragraphs(doc)[:3] == [PROSE_1, PROSE_2, PROSE_3]
    assert "Ministers meet" not in doc.body


def test_headline_repeats_are_capped() -> None:
    text = ["Talks resume in Geneva - Daily Planet", *["Talks resume in Geneva", PROSE_1] * 100]
    repeats = headline_repeats(text, max_anchors=20)
    assert len(repeats) == 20 and repeats[0] == 1


def test_headline_repeats_ignore_the_site_name() -> None:
    text = ["Talks resume in Geneva | Daily Planet", "Daily Planet", "Talks resume in Geneva"]
    assert headline_repeats(text, max_anchors=20) == [2]


def test_empty_headline_element_falls_back_to_the_title_metadata() -> None:
    page = PAGE.replace("<h1>Storm hits coast</h1>", "<h1><b><i><span></span></i></b></h1>")
    doc = clean_one(page, "html")
    assert paragraphs(doc)[0].startswith("A powerful storm struck")
    assert doc.title == "Storm hits coast"


@pytest.mark.parametrize(
    ("first_line", "headline", "expected"),
    [
        ("Talks resume in Geneva - Daily Planet", "Talks resume in Geneva", "Daily Planet"),
        ("Daily Planet | Talks resume in Geneva", "Talks resume in Geneva", "Daily Planet"),
        ("Talks resume in Geneva", "Talks resume in Geneva", None),
        ("Talks resume – as diplomats meet again", "Talks resume – as diplomats meet again", None),
    ],
)
def test_site_name_of_a_page_title(first_line: str, headline: str, expected: str | None) -> None:
    assert site_name(first_line, headline, SETTINGS) == expected


def test_plain_text_page_takes_its_outlet_from_the_page_title() -> None:
    page = (
        f"Talks resume in Geneva - Daily Planet\n\n{MENU}\n\nTalks resume in Geneva\n\n{PROSE_1}\n"
    )
    assert clean_one(page).outlet == "Daily Planet"
    assert clean_one(f"Talks resume in Geneva\n\n{PROSE_1}\n").outlet is None
