"""Hostile input: every file ends as documents or rejects, in time, with storable text.

A property test feeds the real ingest, clean and normalize stages generated files of every
kind (random bytes, JSON nested deep, random HTML, lines that make regular expressions
backtrack, odd Unicode, odd file names); a corpus test runs the hostile corpus of
`tests/badcorpus.py` through the same stages and compares each input's outcome.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import re
import shutil
import signal
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import fields, is_dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from badcorpus import (
    ARTICLE_CHECKS,
    GOOD,
    REGEX_BYLINE,
    REGEX_CAPS,
    REGEX_SPACES,
    ArticleCheck,
    html_page,
    source_uri,
    write_hostile,
)
from hypothesis import HealthCheck, Phase, example, given, note, settings
from hypothesis import strategies as st

from tasks import ingest
from tasks.clean import cleaner as clean
from tasks.clean.cleaner import CleanSettings
from tasks.core.records import Article, CleanDocument, RawDocument, Reject
from tasks.ingest.read import IngestSettings
from tasks.normalize import fields as normalize
from tasks.normalize.fields import NormalizeSettings

REFERENCE_TIME = datetime(2030, 1, 2, tzinfo=UTC)  # the flow's for run date 2030-01-01
SNAKE_CASE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
# The stages' per-document budget when their settings do not name one (the ingest stage's).
DEFAULT_BUDGET = 30.0
# CPU seconds past a budget after which a stage is hanging, not finishing late: the test
# fails there instead of waiting for ever on a stage without a working budget.
HANG_GRACE = 15.0


def budget(stage_settings: object) -> float:
    """A stage's per-document time budget in seconds (`max_seconds_per_document`)."""
    return float(getattr(stage_settings, "max_seconds_per_document", DEFAULT_BUDGET))


@contextmanager
def hang_guard(seconds: float, what: str) -> Iterator[None]:
    """Fail the test once the block has used `seconds` of CPU time.

    Profiling-timer signals (SIGPROF) leave SIGALRM, which the stages' own budgets use, alone.
    """

    def expire(signum: int, frame: object) -> None:
        pytest.fail(f"{what}: still running after {seconds:g} s of CPU", pytrace=False)

    previous = signal.signal(signal.SIGPROF, expire)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def texts(value: object) -> Iterator[str]:
    """Every string inside a record: its fields, tuples and nested records."""
    if isinstance(value, str):
        yield value
    elif is_dataclass(value) and not isinstance(value, type):
        for f in fields(value):
            yield from texts(getattr(value, f.name))
    elif isinstance(value, tuple | list):
        for item in value:
            yield from texts(item)


def assert_storable(records: Sequence[RawDocument | CleanDocument | Article | Reject]) -> None:
    """Every text of the records is valid UTF-8, as Parquet stores it."""
    for record in records:
        for text in texts(record):
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as err:
                raise AssertionError(f"not UTF-8 in {record.source_uri!r}: {err}") from None


def assert_reasons(rejects: list[Reject]) -> None:
    """Every reject has a snake_case reason."""
    for r in rejects:
        assert SNAKE_CASE.fullmatch(r.reason), (r.source_uri, r.reason)


def same_uris(
    inputs: Sequence[RawDocument | CleanDocument],
    outputs: Sequence[CleanDocument | Article | Reject],
) -> bool:
    """Tell whether a stage's outputs (documents and rejects) name its inputs, once each."""
    return Counter(d.source_uri for d in inputs) == Counter(r.source_uri for r in outputs)


# --------------------------------------------------------------------------------------------
# Generated inputs
# --------------------------------------------------------------------------------------------


class Input:
    """One generated file: its path in the folder, bytes, and its JSONL lines when known."""

    __slots__ = ("data", "kind", "lines", "rel")

    def __init__(self, rel: str, data: bytes, kind: str, lines: tuple[str, ...] | None) -> None:
        self.rel = rel
        self.data = data
        self.kind = kind
        self.lines = lines  # the file's text split at "\n", for a generated JSONL

    def __repr__(self) -> str:
        """Short enough for a failure report: a file can be megabytes."""
        head = self.data[:120]
        more = f"... ({len(self.data):,} bytes)" if len(self.data) > len(head) else ""
        return f"Input({self.rel!r}, {self.kind}, {head!r}{more})"

    @property
    def jsonl(self) -> bool:
        """Whether ingest reads the file as JSONL (by its suffix)."""
        return self.rel.lower().removesuffix(".gz").endswith(".jsonl")


WORDS = (
    "the", "minister", "said", "flood", "London", "Tuesday", "Jane Porter", "By", "Amy", "A",
    "H!", "Read more", "Share", "Advertisement", "© 2024", "Jan. 2, 2024", "10:32 a.m. EDT",
    "Comments", "Related", "Photo:", "Reuters", "https://example.org/a?b=1", "@user", "#tag",
    "told reporters.", "officials", "The", "and", "of", "Ministers agree new flood plan",
)  # fmt: skip
ODD = (
    "\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x85", "\u00a0", "\u00ad",
    "\u200b", "\u200d", "\u200e", "\u200f", "\u202a", "\u202e", "\u2028", "\u2029", "\u0301",
    "\u0328", "\u0489", "\ufeff", "\ufffd", "\ufffe", "\uffff", "\U0001f4f0", "\U0001f469\u200d\U0001f692",
    "\U0010ffff", "\u0645\u0631\u062d\u0628\u0627", "\u05e9\u05dc\u05d5\u05dd", "\u65e5\u672c",
    "\t", "\r", "\r\n", "\n", "\n\n", '"', "\u201c", "\u201d", "\u00ab", "\u00bb", "\u201e",
    "''", "``", "'", "<", ">", "&", ";", "&amp;", "&#0;", "&#xD800;", "&#xFFFE;", "&nbsp;",
)  # fmt: skip
PIECES = (
    "A", "a ", " ", "\t", "By Amy ", "Amy ", '"', "\u201c", '"a" ', "'", "<", "<p>", "<div>",
    "&amp;", ".", "-", "=", "*", "http://", "www.", "@", "#", "0", "1,", "\u00a9 ", "Read more ",
    "Jan. 2, 2024 ", "\u00a0", "\u2028", ",", "\\", "\U0001f4f0", "\u0301", "x",
)  # fmt: skip
STARTS = ("", "", "", "", "By ", "A", "Photo: ", "Read more: ", "Updated ", "\u00a9 ", "- ",
          GOOD + "\n")  # fmt: skip
MAX_LINE_CHARS = 1_200_000
# The units and ends that made the line rules backtrack before: drawn more often.
UNITS = ("A", "a", " ", "Amy ", "1", "a ", "\t", '"', "-", ".", "x", "A ")
ENDS = ("H!", "H!", "!", "", "x", ".", '"', ":", "\n", " 2024", "\x00")
# The killers need a few dozen repeats under the rules' length caps, or many thousands.
REPEATS = (1, 3, 8, 16, 24, 30, 40, 50, 60, 80, 120, 500, 3000, 20_000, 200_000)
TAGS = (
    "p", "div", "span", "b", "i", "a", "h1", "h2", "script", "style", "table", "tr", "td", "ul",
    "li", "br", "img", "article", "main", "header", "footer", "nav", "figure", "figcaption",
    "time", "meta", "title", "head", "body", "html", "iframe", "svg", "math", "template",
    "noscript", "textarea", "pre", "blockquote", "q", "font", "center", "x-custom",
)  # fmt: skip
ATTRS = (
    "class", "id", "href", "src", "style", "data-x", "onclick", "lang", "dir", "content",
    "property", "itemprop", "datetime", "charset", "name", "http-equiv", "type",
)  # fmt: skip
CHARSETS = ("utf-8", "utf-16", "cp037", "shift_jis", "x-no-such", "latin-1", "utf-32", "")
ENCODINGS = ("utf-8", "utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32",
             "latin-1", "cp1252", "cp037", "gb18030")  # fmt: skip
MAGICS = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"PK\x03\x04", b"\x7fELF", b"%PDF-1.4\n",
          b"\x1f\x8b\x08", b"GIF89a", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xff\xfe\x00\x00",
          b"\x00\x00\xfe\xff")  # fmt: skip
SUFFIXES = (".txt", ".html", ".htm", ".jsonl", ".txt.gz", ".html.gz", ".jsonl.gz", ".TXT",
            ".Html", ".pdf", "", ".json", ".gz", ".txt.gz.gz")  # fmt: skip
FOLDERS = ("", "", "", "sub/", "a b/c d/", "\u00fc/", "2024-01-02/")
DATES = ("0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-14:00", "2024-02-30", "yesterday",
         "2024-01-02T10:00:00Z", "Tue, 19 Sep 2023 10:00:00 +0200", "1e999", "")  # fmt: skip

no_surrogates = st.characters(exclude_categories=["Cs"])
words = st.sampled_from(WORDS).map(lambda w: w + " ")
tokens = st.one_of(
    words, words, st.sampled_from(ODD), st.text(no_surrogates, min_size=1, max_size=4)
)
prose = st.lists(tokens, max_size=300).map("".join)


@st.composite
def text_docs(draw: st.DrawFn) -> str:
    """Odd text: words, control characters, RTL, combining marks, quotes; a real article or not."""
    text = draw(prose)
    where = draw(st.sampled_from(("none", "before", "after", "inside")))
    if where == "before":
        text = GOOD + text
    elif where == "after":
        text += "\n" + GOOD
    elif where == "inside":
        half = len(GOOD) // 2
        text = GOOD[:half] + text + GOOD[half:]
    return text


@st.composite
def repeated_lines(draw: st.DrawFn) -> str:
    """A long line of one repeated unit: what makes a backtracking expression run for ever.

    Built from a drawn seed: Hypothesis draws each choice near its simplest value, which
    would keep most lines a few characters long; a seed's choices are spread evenly.
    """
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    pieces = rng.choices(PIECES, k=rng.randint(1, 3))
    unit = rng.choice(UNITS) if rng.random() < 0.5 else "".join(pieces)
    times = min(rng.choice(REPEATS), MAX_LINE_CHARS // len(unit))
    after = rng.choice(("", "", "\n" + GOOD, "\n\n" + GOOD))
    return rng.choice(STARTS) + unit * times + rng.choice(ENDS) + after


def html_attrs() -> st.SearchStrategy[str]:
    """A tag's attributes, quoted, unquoted or broken."""
    value = st.one_of(prose.map(lambda t: t[:60]), st.sampled_from(CHARSETS))
    attr = st.tuples(st.sampled_from(ATTRS), value, st.sampled_from(('"', "'", "", "\\")))
    return st.lists(attr, max_size=4).map(
        lambda items: "".join(f" {name}={q}{v}{q}" for name, v, q in items)
    )


def html_tree() -> st.SearchStrategy[str]:
    """Random HTML: tags, attributes, entities, text, closed or not."""
    leaf = st.one_of(prose.map(lambda t: t[:200]), st.sampled_from(ODD), st.just(GOOD))

    def element(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        parts = st.tuples(st.sampled_from(TAGS), html_attrs(), st.lists(children, max_size=4),
                          st.sampled_from(("close", "close", "open", "stray")))  # fmt: skip
        return parts.map(_render_element)

    return st.recursive(leaf, element, max_leaves=30)


def _render_element(parts: tuple[str, str, list[str], str]) -> str:
    """One element's markup."""
    tag, attrs, children, closing = parts
    inner = "".join(children)
    if closing == "close":
        return f"<{tag}{attrs}>{inner}</{tag}>"
    if closing == "stray":
        return f"</{tag}>{inner}<{tag}{attrs}"
    return f"<{tag}{attrs}>{inner}"


@st.composite
def html_docs(draw: st.DrawFn) -> str:
    """A page: a random tree, maybe nested deep, maybe around a real article."""
    tree = draw(html_tree())
    depth = draw(st.sampled_from((0, 0, 0, 30, 260, 3000, 30_000)))
    wrapper = draw(st.sampled_from(("div", "span", "b", "table", "p")))
    closed = draw(st.booleans())
    tree = f"<{wrapper}>" * depth + tree + (f"</{wrapper}>" * depth if closed else "")
    prolog = draw(st.sampled_from(("", "<!DOCTYPE html>", '<?xml version="1.0"?>', "<!--",
                                   "<![CDATA[", '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>')))  # fmt: skip
    if draw(st.booleans()):
        page = html_page(GOOD, head=draw(html_attrs()).replace(" ", "<meta ", 1) + ">")
        return prolog + page.replace("<article>", "<article>" + tree, 1)
    return f"{prolog}<html><head><title>{draw(prose)[:80]}</title></head><body>{tree}</body></html>"


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20)),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)


@st.composite
def json_lines(draw: st.DrawFn) -> str:
    """One JSONL line: an article object, another JSON value, or something broken."""
    kind = draw(st.sampled_from(("object", "object", "object", "value", "deep", "digits",
                                 "surrogate", "garbage", "blank")))  # fmt: skip
    if kind == "object":
        body = draw(st.one_of(text_docs(), html_docs(), json_values, repeated_lines()))
        obj: dict[str, object] = {draw(st.sampled_from(("text", "html", "text", "body"))): body}
        if draw(st.booleans()):
            obj["published_at"] = draw(st.one_of(st.sampled_from(DATES), json_values))
        if draw(st.booleans()):
            obj["title"] = draw(st.one_of(prose.map(lambda t: t[:100]), json_values))
        if draw(st.booleans()):
            obj["url"] = draw(st.one_of(st.just("https://example.org/a"), st.text(max_size=20)))
        return json.dumps(obj, ensure_ascii=draw(st.booleans()))
    if kind == "value":
        return json.dumps(draw(json_values), ensure_ascii=draw(st.booleans()))
    if kind == "deep":
        n = draw(st.one_of(st.integers(1, 1000), st.integers(1000, 120_000)))
        opener, closer = draw(st.sampled_from((("[", "]"), ('{"a":', "}"))))
        return '{"text": ' + json.dumps(GOOD) + ', "x": ' + opener * n + "1" + closer * n + "}"
    if kind == "digits":
        n = draw(st.integers(4000, 6000))
        return '{"text": ' + json.dumps(GOOD) + ', "n": 1' + "0" * n + "}"
    if kind == "surrogate":
        code = draw(st.integers(0xD800, 0xDFFF))
        field = draw(st.sampled_from(("text", "title", "url", "published_at")))
        return (
            '{"text": '
            + json.dumps(GOOD)[:-1]
            + f'\\u{code:04x}", "{field}": "\\u{code:04x}"'
            + "}"
        )
    if kind == "garbage":
        return draw(prose)
    return draw(st.sampled_from(("", " ", "\t", "\u00a0", "\u3000")))


@st.composite
def jsonl_docs(draw: st.DrawFn) -> str:
    """A JSONL file's text: lines joined by LF or CRLF."""
    lines = draw(st.lists(json_lines(), min_size=1, max_size=6))
    return draw(st.sampled_from(("\n", "\r\n"))).join(lines) + draw(st.sampled_from(("", "\n")))


def file_names() -> st.SearchStrategy[str]:
    """A file name Linux allows: any characters, or any bytes, but "/" and NUL."""
    as_text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="/\x00"),
                      min_size=1, max_size=30)  # fmt: skip
    as_bytes = (
        st.binary(min_size=1, max_size=30)
        .filter(lambda b: b"/" not in b and b"\x00" not in b)
        .map(os.fsdecode)
    )
    return st.one_of(as_text, as_bytes).filter(
        lambda n: not n.startswith(".") and not n.lower().startswith("readme")
    )


@st.composite
def input_files(draw: st.DrawFn) -> list[Input]:
    """A folder's worth of hostile files, each with a unique name."""
    made: list[Input] = []
    for i in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(("bytes", "magic", "text", "html", "jsonl", "lines")))
        lines: tuple[str, ...] | None = None
        if kind == "bytes":
            data, natural = draw(st.binary(max_size=4096)), ".txt"
        elif kind == "magic":
            data, natural = draw(st.sampled_from(MAGICS)) + draw(st.binary(max_size=512)), ".txt"
        elif kind == "jsonl":
            text = draw(jsonl_docs())
            data, natural, lines = text.encode(), ".jsonl", tuple(text.split("\n"))
        else:
            text = draw({"text": text_docs(), "html": html_docs(), "lines": repeated_lines()}[kind])
            encoding = draw(st.sampled_from(ENCODINGS))
            data = text.encode(encoding, "replace")
            natural = ".html" if kind == "html" else ".txt"
            for at, junk in draw(
                st.lists(
                    st.tuples(st.integers(0, 10**6), st.binary(min_size=1, max_size=3)), max_size=3
                )
            ):
                at %= len(data) + 1
                data = data[:at] + junk + data[at:]
                lines = None
        suffix = draw(st.one_of(st.just(natural), st.just(natural), st.sampled_from(SUFFIXES)))
        if suffix.lower().endswith(".gz"):
            data = gzip.compress(data)
            if draw(st.integers(0, 9)) == 0:  # truncated or with a garbage tail
                data = data[: draw(st.integers(0, len(data)))] + draw(st.binary(max_size=8))
            if suffix.lower().endswith(".gz.gz"):
                data = gzip.compress(data)
        if not suffix.lower().removesuffix(".gz").endswith(".jsonl"):
            lines = None
        name = f"{draw(file_names())}-{i}{suffix}"
        if len(os.fsencode(name)) > 255:
            name = f"long-{i}{suffix}"
        made.append(Input(draw(st.sampled_from(FOLDERS)) + name, data, kind, lines))
    return made


KILLERS = [
    Input("killer-caps.txt", REGEX_CAPS.encode(), "lines", None),
    Input("killer-byline.txt", REGEX_BYLINE.encode(), "lines", None),
    Input("killer-byline-23.txt", f"By {'Amy ' * 23}!".encode(), "lines", None),
    Input("killer-spaces.txt", f"{REGEX_SPACES}\n{GOOD}".encode(), "lines", None),
]


@settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    phases=(Phase.explicit, Phase.generate),  # no shrinking: a failing run stops at once
    suppress_health_check=(HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.function_scoped_fixture, HealthCheck.large_base_example),
)  # fmt: skip
@example(files=KILLERS)
@given(files=input_files())
def test_any_input_is_accounted_for_in_time(
    files: list[Input], tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("hostile")
    try:
        _check_stages(folder, files)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _check_stages(folder: Path, files: list[Input]) -> None:
    """Write the files, run ingest, clean and normalize as the flow does, and check them."""
    for f in files:
        path = folder / f.rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f.data)
        note(repr(f))
    ingest_settings, clean_settings = IngestSettings(), CleanSettings()
    paths = ingest.discover(folder).inputs
    assert sorted(i.path.relative_to(folder) for i in paths) == sorted(Path(f.rel) for f in files)
    limit = budget(ingest_settings) * len(paths) + HANG_GRACE
    with hang_guard(limit, "ingest"):
        docs, rejects = ingest.read_inputs(paths, folder, ingest_settings)
    assert_accounted(files, docs, rejects)
    assert_reasons(rejects)
    assert_storable(docs)
    assert_storable(rejects)

    allowed = budget(clean_settings)
    for doc in docs:  # one by one first: each document has its own budget
        started = time.perf_counter()
        with hang_guard(allowed + HANG_GRACE, f"cleaning {doc.source_uri!r}"):
            one, bad = clean.clean_documents([doc], clean_settings)
        seconds = time.perf_counter() - started
        assert seconds < allowed, f"cleaning {doc.source_uri!r} took {seconds:.1f} s"
        assert [d.source_uri for d in one] + [r.source_uri for r in bad] == [doc.source_uri]
    # Then the batch, as the flow cleans it (outlet templates are found across documents).
    with hang_guard((allowed + HANG_GRACE) * len(docs) + HANG_GRACE, "cleaning the batch"):
        cleaned, clean_rejects = clean.clean_documents(docs, clean_settings)
    assert same_uris(docs, [*cleaned, *clean_rejects])
    assert_reasons(clean_rejects)
    assert_storable(cleaned)
    assert_storable(clean_rejects)

    normal_settings = NormalizeSettings()
    with hang_guard((budget(normal_settings) + HANG_GRACE) * len(cleaned) + 1, "normalizing"):
        articles, normal_rejects = normalize.normalize_documents(
            cleaned, normal_settings, REFERENCE_TIME
        )
    assert same_uris(cleaned, [*articles, *normal_rejects])
    assert_reasons(normal_rejects)
    assert_storable(articles)
    assert_storable(normal_rejects)


def assert_accounted(files: list[Input], docs: list[RawDocument], rejects: list[Reject]) -> None:
    """Each file is one document or reject; a JSONL file one per line, or one reject in all."""
    outcomes = Counter([d.source_uri for d in docs] + [r.source_uri for r in rejects])
    assert all(n == 1 for n in outcomes.values()), outcomes.most_common(3)
    claimed: set[str] = set()
    for f in files:
        uri = source_uri(f.rel)
        mine = {u for u in outcomes if u == uri or u.startswith(f"{uri}#L")}
        claimed |= mine
        if not f.jsonl or uri in mine:
            assert mine == {uri}, (f, sorted(mine)[:5])
            continue
        numbers = {int(u.removeprefix(f"{uri}#L")) for u in mine}
        assert numbers, f"{f}: no line and no reject"
        if f.lines is not None:  # the text is known: every line with content, no other line
            content = {n for n, line in enumerate(f.lines, start=1) if line.strip()}
            assert content <= numbers <= set(range(1, len(f.lines) + 1)), (f, numbers, content)
    assert claimed == set(outcomes), set(outcomes) - claimed


# --------------------------------------------------------------------------------------------
# The hostile corpus, stage by stage
# --------------------------------------------------------------------------------------------


def test_hostile_corpus_outcomes(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    expected = write_hostile(folder)
    assert len(expected) >= 60
    with hang_guard(600, "the hostile corpus through ingest, clean and normalize"):
        docs, ingest_rejects = ingest.read_inputs(
            ingest.discover(folder).inputs, folder, IngestSettings()
        )
        cleaned, clean_rejects = clean.clean_documents(docs, CleanSettings())
        articles, normal_rejects = normalize.normalize_documents(
            cleaned, NormalizeSettings(), REFERENCE_TIME
        )
    rejects = [*ingest_rejects, *clean_rejects, *normal_rejects]
    uris = Counter([a.source_uri for a in articles] + [r.source_uri for r in rejects])
    assert [u for u, n in uris.items() if n > 1] == []
    got = {a.source_uri: "article" for a in articles} | {r.source_uri: r.reason for r in rejects}
    problems = [
        f"{uri!r}: expected {outcome}, got {got.get(uri, '(no outcome)')}"
        for uri, outcome in expected.items()
        if got.get(uri) != outcome
    ]
    problems += [f"{uri!r}: {got[uri]}, but no such input" for uri in got.keys() - expected.keys()]
    by_uri = {a.source_uri: a for a in articles}
    for uri, check in ARTICLE_CHECKS.items():
        if uri in by_uri:
            problems += [f"{uri!r}: {p}" for p in article_problems(by_uri[uri], check)]
    assert not problems, "\n".join(["", *problems])
    assert_reasons(rejects)
    assert_storable(articles)
    assert_storable(rejects)
    assert all("\x00" not in a.body for a in articles)


def article_problems(article: Article, check: ArticleCheck) -> list[str]:
    """How an article differs from what the corpus says of it."""
    problems = []
    if check.warning is not None and not any(w.startswith(check.warning) for w in article.warnings):
        problems.append(f"no {check.warning} warning in {article.warnings}")
    if check.encoding is not None and article.encoding != check.encoding:
        problems.append(f"encoding {article.encoding}, not {check.encoding}")
    problems += [f"no {text!r} in the body" for text in check.contains if text not in article.body]
    problems += [f"{text!r} in the body" for text in check.absent if text in article.body]
    if check.undated and article.published_at is not None:
        problems.append(f"dated {article.published_at}")
    if check.author is not None and article.author != check.author:
        problems.append(f"author {article.author!r}, not {check.author!r}")
    if check.input_id is not None and article.input_id != check.input_id:
        problems.append(f"input_id {article.input_id!r}, not {check.input_id!r}")
    return problems
