"""Tests of the CSS text-transform reading: which page rules give an element capitals."""

from __future__ import annotations

from lxml.html import HtmlElement  # type: ignore[import-untyped]
from trafilatura.utils import load_html

from tasks.html.csscase import element_transform, text_transform_rules, visible_case


def page(style: str, body: str) -> HtmlElement:
    """A parsed page with one <style> block and the given body."""
    parsed = load_html(f"<html><head><style>{style}</style></head><body>{body}</body></html>")
    assert parsed is not None
    return parsed


def h1_of(tree: HtmlElement) -> HtmlElement:
    """The page's first h1."""
    return next(tree.iter("h1"))


def test_descendant_class_selector_uppercases_headline() -> None:
    tree = page(
        ".post-header .entry-title { font-weight: 700; text-transform: uppercase }",
        '<div class="post-header"><h1 class="entry-title">Council agrees budget</h1></div>',
    )
    assert visible_case("Council agrees budget", h1_of(tree), tree) == "COUNCIL AGREES BUDGET"


def test_rule_for_another_element_does_not_apply() -> None:
    tree = page(
        ".sidebar h1, .menu a { text-transform: uppercase }",
        '<article><h1 class="entry-title">Council agrees budget</h1></article>',
    )
    assert visible_case("Council agrees budget", h1_of(tree), tree) == "Council agrees budget"


def test_more_specific_rule_wins() -> None:
    tree = page(
        "h1 { text-transform: uppercase } #story h1.title { text-transform: none }",
        '<div id="story"><h1 class="title">Council agrees budget</h1></div>',
    )
    assert element_transform(h1_of(tree), text_transform_rules(tree)) == "none"


def test_pseudo_class_selector_is_ignored() -> None:
    tree = page("h1:hover { text-transform: uppercase }", "<h1>Council agrees budget</h1>")
    assert element_transform(h1_of(tree), text_transform_rules(tree)) is None


def test_style_attribute_applies() -> None:
    tree = page("", '<h1 style="text-transform:uppercase">Council agrees budget</h1>')
    assert visible_case("Council agrees budget", h1_of(tree), tree) == "COUNCIL AGREES BUDGET"


def test_child_combinator_needs_the_parent() -> None:
    tree = page(
        "header > h1 { text-transform: uppercase }",
        "<header><div><h1>Council agrees budget</h1></div></header>",
    )
    assert element_transform(h1_of(tree), text_transform_rules(tree)) is None
