"""The array attribute ruler gives exactly the annotations of spaCy's own AttributeRuler."""

from __future__ import annotations

import pytest
import spacy
from spacy.pipeline import AttributeRuler

from tasks.entities.mentions import EntitySettings
from tasks.nlp import attributes
from tasks.nlp import pipeline as nlp

MODEL = EntitySettings().model
# The rules' special cases: contractions, dialect spellings, "there is", pronoun cases,
# auxiliaries by dependency, determiners used as pronouns, and whitespace tokens.
TRICKY = (
    "I'm gonna go, y'all. Let's see: ain't it fun? There is a cat, and there were two.\n\n"
    "She'd said he'd gotta go. C'mon!  Nothin' doin'. 'Em too, 'nuff said. I told you it "
    "was him, not me; they gave us theirs and this is that. Somebody has done it, but it "
    "could have been anyone. Do you? He does, she did, we had, they've been being watched."
)


def _annotations(model: spacy.language.Language, texts: list[str]) -> list[tuple[str, ...]]:
    return [
        (t.text, t.pos_, t.tag_, str(t.morph), t.lemma_, t.dep_)
        for doc in model.pipe(texts)
        for t in doc
    ]


@pytest.fixture(scope="module")
def texts(seed_texts: list[str]) -> list[str]:
    return [TRICKY, *seed_texts]


def test_array_rules_annotate_as_the_stock_ruler(texts: list[str]) -> None:
    stock, ours = spacy.load(MODEL), spacy.load(MODEL)
    attributes.replace_attribute_ruler(ours)
    assert isinstance(stock.get_pipe("attribute_ruler"), AttributeRuler)
    assert isinstance(ours.get_pipe("attribute_ruler"), attributes.ArrayAttributeRuler)
    got, want = _annotations(ours, texts), _annotations(stock, texts)
    assert len(got) > 2000 and got == want
    # The rules do something: without them, pronouns and auxiliaries keep no POS.
    assert {"PRON", "AUX", "SPACE"} <= {a[1] for a in got}


def test_the_pipeline_uses_the_array_rules() -> None:
    model = nlp.load_model(MODEL)
    assert isinstance(model.get_pipe("attribute_ruler"), attributes.ArrayAttributeRuler)
    doc = model("There is a cat")
    assert doc[1].pos_ == "VERB"  # the expletive rule: "is" is a verb here
    assert doc.tensor.size == 0  # freed once the pipeline is done, not kept for the batch
