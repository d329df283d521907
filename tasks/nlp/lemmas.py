"""The model's rule lemmatizer run once per distinct form of a doc instead of once per token.

spaCy's Lemmatizer walks every token in Python (a Token object, a cache lookup and a string
store write each): 1.25 s of the 11 s en_core_web_sm 3.8.6 takes on 300 BBC articles. Its
rules are a function of the token's form, POS and morphology (its own cache key), so the
lemma of each distinct (form, POS, morphology) of a doc is asked once and written back with
one array call; tests/test_lemmas.py compares the result with the stock component's.
"""

from __future__ import annotations

import numpy as np
from spacy.attrs import LEMMA, MORPH, ORTH, POS
from spacy.language import Language
from spacy.pipeline import Lemmatizer
from spacy.tokens import Doc

COLUMNS = [ORTH, POS, MORPH, LEMMA]
# Distinct (form, POS, morphology) keys kept between docs: some 57 MB at the cap. Past it the
# memo starts afresh, as a run of unbounded new words must not grow a worker for ever.
MAX_KEYS = 200_000


class ArrayLemmatizer:
    """A pipeline step giving each token without a lemma the stock lemmatizer's lemma."""

    def __init__(self, stock: Lemmatizer | None = None, max_keys: int = MAX_KEYS) -> None:
        self.stock = stock
        self.max_keys = max_keys
        # Lemmas as text, not string-store ids: an id added inside a memory zone is gone at
        # its end, and the text is added again to each doc's store.
        self.memo: dict[tuple[int, int, int], str] = {}

    def __call__(self, doc: Doc) -> Doc:
        """Lemmatize the tokens the attribute rules left without a lemma, as the stock step."""
        if self.stock is None or len(doc) == 0:
            return doc
        table = doc.to_array(COLUMNS)
        todo = np.arange(len(doc)) if self.stock.overwrite else np.flatnonzero(table[:, 3] == 0)
        if todo.size == 0:
            return doc
        keys, first, inverse = np.unique(
            table[todo, :3], axis=0, return_index=True, return_inverse=True
        )
        if len(self.memo) + len(keys) > self.max_keys:
            self.memo.clear()
            self.stock.cache.clear()
        strings = doc.vocab.strings
        ids = np.empty(len(keys), dtype=np.uint64)
        for k, (key, at) in enumerate(zip(keys.tolist(), first.tolist(), strict=True)):
            lemma = self.memo.get(key := tuple(key))
            if lemma is None:
                lemma = self.memo[key] = self.stock.lemmatize(doc[int(todo[at])])[0]
            ids[k] = strings.add(lemma)
        table[todo, 3] = ids[inverse.reshape(-1)]
        doc.from_array([LEMMA], np.ascontiguousarray(table[:, 3:]))  # type: ignore[arg-type]  # uint64, as to_array gave
        return doc


@Language.factory("array_lemmatizer")
def make_array_lemmatizer(nlp: Language, name: str) -> ArrayLemmatizer:
    """An empty step; `replace_lemmatizer` gives it the model's own lemmatizer."""
    return ArrayLemmatizer()


def replace_lemmatizer(model: Language) -> None:
    """Swap the model's lemmatizer for the per-form version of the same rules."""
    stock = model.get_pipe("lemmatizer")
    assert isinstance(stock, Lemmatizer)
    # No config to validate; spaCy < 3.8.8 cannot validate a factory with postponed annotations.
    model.replace_pipe("lemmatizer", "array_lemmatizer", validate=False)
    replacement = model.get_pipe("lemmatizer")
    assert isinstance(replacement, ArrayLemmatizer)
    replacement.stock = stock
