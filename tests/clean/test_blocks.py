"""Tests of the main-text block search over plain-text lines (tasks/clean/blocks.py)."""

from __future__ import annotations

from tasks.clean.blocks import (
    SECTION_BREAK,
    BlockSettings,
    anchored_block,
    earlier_block,
    line_weights,
    main_block,
    mark_listings,
    reads_as_prose,
    trim,
)
from tasks.text.keys import count_words

SETTINGS = BlockSettings()
SENTENCE = "The council met on Tuesday and agreed to publish its findings next week."


def test_main_block_is_the_best_scoring_run() -> None:
    assert main_block([-3, 10, -2, 8, -30, 5]) == (1, 4)


def test_main_block_is_none_when_nothing_scores() -> None:
    assert main_block([-3.0, 0.0, -1.0]) is None


def test_anchored_block_starts_under_the_repeated_headline() -> None:
    # A teaser (index 1) scores on its own, but the article is the run under the headline (3).
    weights = [0.0, 30.0, -3.0, -3.0, 12.0, 14.0, -20.0, 6.0]
    assert anchored_block(weights, [3]) == (3, (4, 6))


def test_the_nearest_repeat_above_the_run_is_its_headline() -> None:
    # The title repeats in a teaser list (1) and above the article (4): same run, the
    # headline is the nearer repeat, so the teasers between are not the article's head.
    weights = [0.0, -3.0, -15.0, -15.0, -3.0, 30.0, 40.0]
    assert anchored_block(weights, [1, 4]) == (4, (5, 7))


def test_anchored_block_ends_at_the_next_section_break() -> None:
    # Comments after a share bar (the break) outweigh the article, but the headline opens
    # the article: the run under it stops at the break.
    weights = [0.0, 20.0, 15.0, SECTION_BREAK, -15.0, 40.0, 50.0]
    assert anchored_block(weights, [0]) == (0, (1, 3))
    assert main_block(weights) == (5, 7)


def test_three_close_dated_lines_between_prose_start_a_listing() -> None:
    # article, then (headline, date, summary) three times: the first date starts the list.
    weights = [40.0, 30.0, -3.0, -6.0, 20.0, -3.0, -6.0, 20.0, -3.0, -6.0, 20.0]
    mark_listings(weights, [3, 6, 9], SETTINGS)
    assert weights[3] == SECTION_BREAK
    assert main_block(weights) == (0, 2)


def test_dated_lines_without_prose_between_or_far_apart_are_not_a_listing() -> None:
    weights = [40.0, -6.0, -6.0, -6.0, 20.0]
    mark_listings(weights, [1, 2, 3], SETTINGS)
    assert SECTION_BREAK not in weights
    spread = [40.0, -6.0, *[10.0] * 40, -6.0, 10.0, -6.0, 10.0]
    mark_listings(spread, [1, 42, 44], SETTINGS)
    assert SECTION_BREAK not in spread


def test_joined_wrapped_lines_read_as_prose_only_as_a_sentence() -> None:
    headlines = "How moon rocks reveal the history of the cosmos These senators target polluters"
    assert reads_as_prose(SENTENCE, SETTINGS)
    assert not reads_as_prose(headlines, SETTINGS)


def test_trim_drops_short_lines_at_the_ends_of_a_span() -> None:
    assert trim([-3.0, 5.0, -1.0, 4.0, -2.0], (0, 5)) == (1, 4)


def test_prose_lines_score_their_words_and_menus_cost() -> None:
    long = f"{SENTENCE[:-1]}, and the mayor said the city would answer every question then."
    text = ["Home", "World", SENTENCE, long]
    weights = line_weights(text, {}, set(), SETTINGS)
    assert weights[0] < 0 and weights[1] < 0
    assert weights[2] == SETTINGS.short_prose_factor * len(SENTENCE.split())  # a short line
    assert weights[3] == len(long.split())


def test_a_run_of_short_lines_costs_more_per_line() -> None:
    text = ["Home", "World", "Sport", "Culture"]
    weights = line_weights(text, {}, set(), SETTINGS)
    assert weights == sorted(weights, reverse=True) and weights[0] > weights[-1]


def test_headline_and_colon_lines_are_not_prose() -> None:
    text = [
        "Hong Kong Uprising: Protesters Send Defiant Warning To China Tonight",
        "Hong Kong uprising: protesters send a defiant warning to China",
    ]
    assert all(w < 0 for w in line_weights(text, {}, set(), SETTINGS))


def test_tag_cloud_without_punctuation_is_not_prose() -> None:
    cloud = " ".join(["politik wirtschaft sport kultur"] * 8)
    assert line_weights([cloud], {}, set(), SETTINGS)[0] < 0


def test_interface_lines_cost_by_kind() -> None:
    text = ["Advertisement", "Share this article"]
    rules = {0: "advertisement", 1: "social_share"}
    ad, share = line_weights(text, rules, set(), SETTINGS)
    assert ad == -SETTINGS.ui_line_cost and share == -SETTINGS.edge_line_cost


def test_wrapped_prose_lines_count_as_prose() -> None:
    text = ["The council met on Tuesday and agreed", "to publish its findings next week"]
    assert line_weights(text, {}, {0, 1}, SETTINGS) == [7.0, 6.0]


def test_cjk_characters_count_as_words() -> None:
    assert count_words("東京で会議が開かれた。") == 10
    assert count_words("Tokyo 会議") == 3
    weights = line_weights(["東京で会議が開かれた。政府は声明を出した。"], {}, set(), SETTINGS)
    assert weights[0] > 0


def test_earlier_block_above_a_section_break_is_preferred_when_heavy_enough() -> None:
    weights = [40.0, 30.0, SECTION_BREAK, 50.0, 45.0]
    assert earlier_block(weights, (3, 5), SETTINGS) == (0, 2)  # 70 >= 0.5 * 95


def test_light_block_above_a_section_break_is_not_preferred() -> None:
    weights = [20.0, SECTION_BREAK, 50.0, 45.0]
    assert earlier_block(weights, (2, 4), SETTINGS) == (2, 4)


def test_earlier_block_needs_a_section_break_between() -> None:
    weights = [40.0, SECTION_BREAK, 30.0, -50.0, 50.0, 45.0]
    assert earlier_block(weights, (4, 6), SETTINGS) == (4, 6)


def test_a_sentence_introducing_a_list_with_a_colon_is_prose() -> None:
    line = "The ministry listed the following changes to the budget for next year:"
    assert line_weights([line, "Roads"], {}, set(), SETTINGS)[0] > 0
