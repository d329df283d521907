"""spaCy model loading and the DocBin round trip shared by the entities and quotes stages."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache

import numpy
import spacy
from spacy.language import Language
from spacy.tokens import Doc, DocBin
from thinc.api import Model, NumpyOps

from tasks.core import safety
from tasks.core.records import ParsedBatch
from tasks.nlp import attributes, lemmas, names
from tasks.nlp import places as gazetteer

# What the quotes stage reads back: sentences, the parse, tags, lemmas and entities.
DOCBIN_ATTRS = [
    "ORTH",
    "SPACY",
    "TAG",
    "POS",
    "MORPH",
    "LEMMA",
    "DEP",
    "HEAD",
    "SENT_START",
    "ENT_IOB",
    "ENT_TYPE",
]


@Language.component("paragraph_breaks")
def paragraph_breaks(doc: Doc) -> Doc:
    """Start a sentence after every line break: no sentence runs across two paragraphs."""
    for token in doc[1:]:
        before = doc[token.i - 1]
        if before.is_space and "\n" in before.text and not token.is_space:
            token.is_sent_start = True
    return doc


@Language.component("drop_tensor")
def drop_tensor(doc: Doc) -> Doc:
    """Free the tok2vec output once the pipeline is done with it.

    It is 384 bytes a token, and a batch keeps every doc until it is packed: 90 MB for 500
    articles that nothing after the pipeline reads.
    """
    doc.tensor = numpy.empty((0,), dtype="float32")
    return doc


@lru_cache(maxsize=2)
def load_model(name: str) -> Language:
    """Load a spaCy pipeline installed as a Python package (never downloaded at run time)."""
    model = spacy.load(name)
    _use_numpy_gemm(model)
    return with_rules(model)


def with_rules(model: Language) -> Language:
    """Add our components to a loaded pipeline: array attribute rules and lemmas, breaks, name rules."""
    if "attribute_ruler" in model.pipe_names:
        attributes.replace_attribute_ruler(model)
    if "lemmatizer" in model.pipe_names:
        lemmas.replace_lemmatizer(model)
    # The parser sometimes joins a paragraph to the next ("… emails." / "On Friday, he …"),
    # and a speaker or an antecedent is then looked for in the wrong sentence.
    if "parser" in model.pipe_names:
        model.add_pipe("paragraph_breaks", before="parser")
    if "ner" in model.pipe_names:
        model.add_pipe(gazetteer.entity_labels.__name__, after="ner")
        model.add_pipe(names.known_names.__name__, after=gazetteer.entity_labels.__name__)
    model.add_pipe(drop_tensor.__name__, last=True)
    return model


def _use_numpy_gemm(model: Language) -> None:
    """Run the pipeline's matrix products through numpy's BLAS instead of thinc's BLIS.

    On an AMD EPYC with AVX-512, one thread: BLIS 32 GFLOPS against OpenBLAS's 98 on
    tok2vec's (8000 x 288) @ (288 x 288); the pipeline did 13.7 against 20.7 articles/s
    on 300 BBC articles, with the same entities and parses. (The parser's own steps still
    call BLIS: their matrices are too small to matter.)
    """
    ops = NumpyOps(use_blis=False)
    for _, component in model.pipeline:
        layers = getattr(component, "model", None)
        if isinstance(layers, Model):
            for layer in layers.walk():
                layer.ops = ops


# Lexemes the vocabulary that parsed batches are unpacked into keeps before it starts afresh.
# Kept between batches, a worker's common words are looked up instead of made again with
# every batch (making them was 40% of the quote stage); 250,000 lexemes are some 50 MB.
UNPACK_MAX_LEXEMES = 250_000
# The same for the parsing pipeline's own vocabulary: its words are kept from batch to batch
# (in a memory zone per batch, every batch made its common words again) and the pipeline is
# loaded afresh once its new words pass the cap, so a worker's memory does not grow with
# every batch of fresh articles.
PARSE_MAX_LEXEMES = 250_000


@lru_cache(maxsize=1)
def _blank_vocab() -> Language:
    return spacy.blank("en")


def warm(model: str) -> None:
    """Load the pipeline and the vocabulary parsed batches are unpacked into, as a first batch would."""
    load_model(model)
    _blank_vocab()


def _unpacking_vocab(max_lexemes: int) -> Language:
    """The blank pipeline whose vocabulary parsed batches are unpacked into, renewed past a cap."""
    if len(_blank_vocab().vocab) > max_lexemes:
        _blank_vocab.cache_clear()
    return _blank_vocab()


def _parsing_model(model: str, max_lexemes: int) -> Language:
    """The loaded pipeline, loaded afresh once its vocabulary passes `max_lexemes`."""
    if len(load_model(model).vocab) > max_lexemes:
        load_model.cache_clear()
    return load_model(model)


# A longer text is parsed in pieces of at most this many characters, one piece at a time:
# the pipeline's memory grows with the characters of a batch (a 200,000-character text took
# 722 MB at once, 134 MB in pieces of 20,000), and a few thousand words a piece keep the
# parse's context.
PIECE_CHARS = 20_000


@contextmanager
def parsed_each(
    texts: Sequence[str],
    model: str,
    batch_size: int,
    budget: float,
    batch_chars: int,
    max_lexemes: int = PARSE_MAX_LEXEMES,
) -> Iterator[list[Doc | BaseException]]:
    """Parse texts in streamed batches; a text spaCy fails on is its exception, not the batch's.

    A batch holds at most `batch_size` texts and `batch_chars` characters. When a batch fails,
    each of its texts is parsed alone under the time budget to find which one. A text past
    PIECE_CHARS is parsed piece by piece and joined into one doc.
    """
    pipeline = _parsing_model(model, max_lexemes)
    short = [i for i, text in enumerate(texts) if len(text) <= PIECE_CHARS]
    found: list[Doc | BaseException] = [Doc(pipeline.vocab)] * len(texts)
    for group in batches(short, [len(t) for t in texts], batch_size, batch_chars):
        try:
            parsed = pipeline.pipe([texts[i] for i in group], batch_size=len(group))
            for i, doc in zip(group, parsed, strict=True):
                found[i] = doc
        except Exception:
            for i in group:
                found[i] = _parse_one(pipeline, texts[i], budget)
    for i in sorted(set(range(len(texts))) - set(short)):
        found[i] = _parse_one(pipeline, texts[i], budget)
    yield found


def batches(
    indexes: Sequence[int], sizes: Sequence[int], most: int, most_chars: int
) -> Iterator[list[int]]:
    """Consecutive groups of indexes, each of at most `most` items and `most_chars` characters.

    An item longer than `most_chars` is a group of its own.
    """
    group: list[int] = []
    chars = 0
    for i in indexes:
        if group and (len(group) >= most or chars + sizes[i] > most_chars):
            yield group
            group, chars = [], 0
        group.append(i)
        chars += sizes[i]
    if group:
        yield group


def _parse_one(pipeline: Language, text: str, budget: float) -> Doc | BaseException:
    """One text's doc (parsed in pieces if long), or the exception that stopped its parse."""
    try:
        with safety.time_limit(budget):
            if len(text) <= PIECE_CHARS:
                return pipeline(text)
            docs = list(pipeline.pipe(pieces(text, PIECE_CHARS), batch_size=1))
            return Doc.from_docs(docs, ensure_whitespace=False)
    except (Exception, safety.DocumentTimeout) as err:
        return err


def pieces(text: str, size: int) -> Iterator[str]:
    """Consecutive parts of a text of about `size` characters, cut at a paragraph or a word."""
    start = 0
    while start < len(text):
        end = min(start + size, len(text))
        if end < len(text):
            cut = text.rfind("\n", start, end)
            cut = cut if cut > start + size // 2 else text.rfind(" ", start, end)
            end = cut + 1 if cut > start + size // 2 else end
            # The next piece starts at a word, as a paragraph would: a piece that starts
            # with a line break parses differently.
            while end < len(text) and text[end].isspace():
                end += 1
        yield text[start:end]
        start = end


def to_batch(article_ids: Sequence[str], docs: Sequence[Doc]) -> ParsedBatch:
    """Pack parsed docs into a picklable record."""
    bin_ = DocBin(attrs=DOCBIN_ATTRS, store_user_data=False)
    for doc in docs:
        bin_.add(doc)
    return ParsedBatch(article_ids=tuple(article_ids), docbin=bin_.to_bytes())


@contextmanager
def unpacked(batch: ParsedBatch, max_lexemes: int = UNPACK_MAX_LEXEMES) -> Iterator[dict[str, Doc]]:
    """Unpack a ParsedBatch into docs keyed by article id, valid inside the block only."""
    blank = _unpacking_vocab(max_lexemes)
    docs = DocBin().from_bytes(batch.docbin).get_docs(blank.vocab)
    yield dict(zip(batch.article_ids, docs, strict=True))
