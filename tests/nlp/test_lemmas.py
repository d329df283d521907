"""The per-form lemmatizer gives exactly the lemmas of spaCy's own rule lemmatizer."""

from __future__ import annotations

import pytest
import spacy
from spacy.pipeline import Lemmatizer

from tasks.entities.mentions import EntitySettings
from tasks.nlp import lemmas
from tasks.nlp import pipeline as nlp

MODEL = EntitySettings().model
# Forms whose lemma depends on POS and morphology: "saw" (noun, verb), "leaves", "better",
# "'s" as a verb and a possessive, a proper noun, numbers, and the same words again.
TRICKY = (
    "She saw the saw. He leaves; the leaves fall. Better days are better than the best. "
    "It's Kim's. They're running, he ran, we've run the runs. Hoping, she hoped he hopes.\n\n"
    "The Smiths said 12 men were fined 3,000 dollars. She saw it and said so, saying nothing."
)


def _lemmas(model: spacy.language.Language, texts: list[str]) -> list[tuple[str, str, str]]:
    return [(t.text, t.pos_, t.lemma_) for doc in model.pipe(texts) for t in doc]


@pytest.fixture(scope="module")
def texts(seed_texts: list[str]) -> list[str]:
    return [TRICKY, *seed_texts]


def test_per_form_lemmas_are_the_stock_lemmatizers(texts: list[str]) -> None:
    stock, ours = spacy.load(MODEL), spacy.load(MODEL)
    lemmas.replace_lemmatizer(ours)
    assert isinstance(stock.get_pipe("lemmatizer"), Lemmatizer)
    step = ours.get_pipe("lemmatizer")
    assert isinstance(step, lemmas.ArrayLemmatizer)
    got, want = _lemmas(ours, texts), _lemmas(stock, texts)
    assert len(got) > 2000 and got == want
    # The words were lemmatized, not copied: "saw" the verb is "see", "leaves" is "leave".
    assert ("saw", "VERB", "see") in got and ("hoped", "VERB", "hope") in got
    # The second pass over the same texts is answered from the memo, with the same lemmas.
    assert step.memo and _lemmas(ours, texts) == want


def test_the_memo_starts_afresh_past_its_cap(texts: list[str]) -> None:
    stock, ours = spacy.load(MODEL), spacy.load(MODEL)
    lemmas.replace_lemmatizer(ours)
    step = ours.get_pipe("lemmatizer")
    assert isinstance(step, lemmas.ArrayLemmatizer)
    step.max_keys = 300
    seen: set[tuple[int, int, int]] = set()
    largest = 0
    for text in texts:
        assert _lemmas(ours, [text]) == _lemmas(stock, [text])
        keys = {(t.orth, t.pos, t.morph.key) for t in stock(text)}
        seen, largest = seen | keys, max(largest, len(keys))
    # Cleared on the way (it holds fewer than the texts' keys), never past one doc's keys.
    assert 0 < len(step.memo) <= max(300, largest) < len(seen)


def test_the_pipeline_uses_the_per_form_lemmatizer() -> None:
    model = nlp.load_model(MODEL)
    assert isinstance(model.get_pipe("lemmatizer"), lemmas.ArrayLemmatizer)
    assert [t.lemma_ for t in model("The ministers said they were hoping")][1:] == [
        "minister", "say", "they", "be", "hope",
    ]  # fmt: skip
