"""The model's attribute_ruler rules (tag to POS, morphology, lemma exceptions) as array lookups.

spaCy's AttributeRuler runs a Matcher with 179 patterns over every token: 8 ms of the 66 ms
a BBC article takes in en_core_web_sm here (per-component timing of 300 articles). The same
rules evaluated with numpy over the doc's attribute arrays give the same annotations
(tests/test_attributes.py compares them).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from spacy.attrs import DEP, IDS, IS_SPACE, LEMMA, LOWER, MORPH, POS, TAG
from spacy.language import Language
from spacy.pipeline import AttributeRuler
from spacy.tokens import Doc
from spacy.vocab import Vocab

Mask = Callable[[Mapping[int, np.ndarray], Mapping[int, set[int]]], np.ndarray | None]
# What the rules test, and what they set: the columns read from and written to each doc.
READ = (TAG, LOWER, DEP, IS_SPACE)
WRITE = (POS, MORPH, LEMMA, TAG, DEP)
WRITE_COLUMN = {attr: i for i, attr in enumerate(WRITE)}


@dataclass(frozen=True)
class Rule:
    """One pattern of the ruler: alternatives of token specs, the token it sets, and what."""

    alternatives: tuple[tuple[Mask, ...], ...]
    index: int
    values: tuple[tuple[int, int], ...]  # (column, value id)


class ArrayAttributeRuler:
    """A pipeline step applying an AttributeRuler's rules with array operations."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)

    def __call__(self, doc: Doc) -> Doc:
        """Apply every rule in order, later rules overriding earlier ones, as spaCy does."""
        if len(doc) == 0:
            return doc
        read = doc.to_array(list(READ))
        columns = {attr: read[:, i] for i, attr in enumerate(READ)}
        present = {TAG: set(columns[TAG].tolist()), LOWER: set(columns[LOWER].tolist())}
        out = doc.to_array(list(WRITE))
        for rule in self.rules:
            hits = _matches(rule, columns, present, len(doc))
            if hits is None:
                continue
            for attr, value in rule.values:
                out[hits, WRITE_COLUMN[attr]] = value
        doc.from_array(list(WRITE), out)  # type: ignore[arg-type]  # uint64, as to_array gave
        return doc


def _matches(
    rule: Rule, columns: Mapping[int, np.ndarray], present: Mapping[int, set[int]], n: int
) -> np.ndarray | None:
    """Indices of the tokens a rule sets, or None when it matches nowhere."""
    found = np.zeros(n, dtype=bool)
    for specs in rule.alternatives:
        masks = []
        for spec in specs:
            mask = spec(columns, present)
            if mask is None:
                break
            masks.append(mask)
        else:
            width = len(masks)
            if width > n:
                continue
            start = np.ones(n - width + 1, dtype=bool)
            for offset, mask in enumerate(masks):
                start &= mask[offset : n - width + 1 + offset]
            found[np.flatnonzero(start) + rule.index] = True
    return np.flatnonzero(found) if found.any() else None


def compile_rules(ruler: AttributeRuler, vocab: Vocab) -> list[Rule]:
    """The ruler's patterns, in order, as Rules over the doc's attribute arrays."""
    rules = []
    for pattern, values, index in zip(ruler.patterns, ruler.attrs, ruler.indices, strict=True):
        given = cast(list[list[dict[str, Any]]], pattern["patterns"])
        alternatives = tuple(tuple(_token_spec(spec, vocab) for spec in alt) for alt in given)
        if index < 0 or any(len(alt) <= index for alt in alternatives):
            raise ValueError(f"unsupported attribute_ruler index {index} in {pattern}")
        rules.append(Rule(alternatives, index, tuple((int(k), int(v)) for k, v in values.items())))
    return rules


def _token_spec(spec: Mapping[str, Any], vocab: Vocab) -> Mask:
    """One token's conditions as a function of the doc's columns (None: no token matches)."""
    tests = [_condition(IDS[key], value, vocab) for key, value in spec.items()]

    def mask(
        columns: Mapping[int, np.ndarray], present: Mapping[int, set[int]]
    ) -> np.ndarray | None:
        result: np.ndarray | None = None
        for test in tests:
            part = test(columns, present)
            if part is None:
                return None
            result = part if result is None else result & part
        return result

    return mask


def _condition(attr: int, value: Any, vocab: Vocab) -> Mask:
    """A test of one attribute: equal to, in, not in, or matching a regex."""
    if attr not in READ:
        raise ValueError(f"attribute_ruler pattern on unsupported attribute {attr}")

    def ids(values: Sequence[Any]) -> np.ndarray:
        return np.array([_id(v, vocab) for v in values], dtype=np.uint64)

    if not isinstance(value, dict):
        wanted = _id(value, vocab)

        def equal(
            columns: Mapping[int, np.ndarray], present: Mapping[int, set[int]]
        ) -> np.ndarray | None:
            if attr in present and wanted not in present[attr]:
                return None  # cheap: most rules name a tag or word the doc does not have
            same: np.ndarray = columns[attr] == wanted
            return same

        return equal
    [(op, operand)] = value.items()
    if op in ("IN", "NOT_IN"):
        members = ids(operand)
        negate = op == "NOT_IN"

        def member(columns: Mapping[int, np.ndarray], _: Mapping[int, set[int]]) -> np.ndarray:
            found: np.ndarray = np.isin(columns[attr], members, invert=negate)
            return found

        return member
    if op == "REGEX" and attr == LOWER:
        regex = re.compile(operand)

        def matching(columns: Mapping[int, np.ndarray], _: Mapping[int, set[int]]) -> np.ndarray:
            col = columns[attr]
            hits = [i for i in np.unique(col).tolist() if regex.search(vocab.strings[i])]
            found: np.ndarray = np.isin(col, np.array(hits, dtype=np.uint64))
            return found

        return matching
    raise ValueError(f"unsupported attribute_ruler operator {op}")


def _id(value: Any, vocab: Vocab) -> int:
    """The array value of a pattern value: booleans as 0/1, strings as their hash."""
    if isinstance(value, bool):
        return int(value)
    return 0 if value == "" else int(vocab.strings.add(value))


@Language.factory("array_attribute_ruler")
def make_array_attribute_ruler(nlp: Language, name: str) -> ArrayAttributeRuler:
    """An empty ruler; `replace_attribute_ruler` fills it from the model's own."""
    return ArrayAttributeRuler(())


def replace_attribute_ruler(model: Language) -> None:
    """Swap the model's attribute_ruler for the array version of the same rules."""
    stock = model.get_pipe("attribute_ruler")
    assert isinstance(stock, AttributeRuler)
    rules = compile_rules(stock, model.vocab)
    # No config to validate; spaCy < 3.8.8 cannot validate a factory with postponed annotations.
    model.replace_pipe("attribute_ruler", "array_attribute_ruler", validate=False)
    replacement = model.get_pipe("attribute_ruler")
    assert isinstance(replacement, ArrayAttributeRuler)
    replacement.rules = tuple(rules)
