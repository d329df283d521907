"""The shared spaCy pipeline: numpy matrix products, no sentence across a line break, surnames found again."""

from __future__ import annotations

import spacy
from thinc.api import Model

from tasks.entities.mentions import EntitySettings
from tasks.nlp import pipeline as nlp


def _layers(model: spacy.language.Language) -> list[Model]:  # type: ignore[type-arg]
    return [layer for _, c in model.pipeline if isinstance(getattr(c, "model", None), Model)
            for layer in c.model.walk()]  # fmt: skip


def test_the_pipeline_multiplies_with_numpy_and_parses_as_the_stock_model(
    seed_texts: list[str],
) -> None:
    ours = nlp.load_model(EntitySettings().model)
    assert not any(layer.ops.use_blis for layer in _layers(ours))
    stock = nlp.with_rules(spacy.load(EntitySettings().model))
    assert any(layer.ops.use_blis for layer in _layers(stock))
    assert _analyses(ours, seed_texts) == _analyses(stock, seed_texts)


def _analyses(model: spacy.language.Language, texts: list[str]) -> list[tuple[object, ...]]:
    return [(t.i, t.tag_, t.dep_, t.head.i, t.ent_iob_, t.ent_type_, t.is_sent_start)
            for doc in model.pipe(texts) for t in doc]  # fmt: skip


def test_a_sentence_never_runs_across_a_paragraph_break() -> None:
    text = (
        "Republicans were quick to chime in, with Donald Trump calling it a disaster\n\n"
        "Sanders appeared to dismiss the email issue in October.\n"
        "On Friday he remarked that nothing had changed"
    )
    doc = nlp.load_model(EntitySettings().model)(text)
    starts = [s.text.split()[0] for s in doc.sents]
    assert starts == ["Republicans", "Sanders", "On"]
    assert all("\n" not in s.text.strip() for s in doc.sents)


def ents(text: str) -> list[tuple[str, str]]:
    """(text, label) of the shared pipeline's entities."""
    doc = nlp.load_model(EntitySettings().model)(text)
    return [(e.text, e.label_) for e in doc.ents]


def test_a_surname_named_before_is_a_person_wherever_it_recurs() -> None:
    found = ents(
        "Bernie Sanders spoke in Iowa.\n\n"
        "Sanders appeared to dismiss the email issue in October.\n\n"
        "Rubio donor Luther Stan Pate IV paid for it. Pate and his allies denied it."
    )
    assert ("Sanders", "PERSON") in found and ("Pate", "PERSON") in found


def test_a_surname_starting_a_sentence_stays_a_word_the_article_uses() -> None:
    found = ents(
        "State Department spokesman Ned Price spoke on Monday.\n\n"
        "Price increases hurt families, and the price of bread rose again."
    )
    assert ("Price", "PERSON") not in found


def test_a_found_again_name_keeps_only_given_names_before_the_surname() -> None:
    found = ents(
        "Home Secretary David Blunkett spoke on Monday.\n\n"
        "Mr Blunkett said the plan would work, and Labour MP Eric Joyce agreed with Mr Joyce's "
        "colleagues."
    )
    people = {text for text, label in found if label == "PERSON"}
    assert "Blunkett" in people and "Mr Blunkett" not in people
    assert not any(p.startswith(("Labour", "MP")) for p in people)
