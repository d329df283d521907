"""Settings from a file: overrides, strict validation, the CLI's --config, the settings page."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

import flows.cli
import flows.engine
from flows.cli import app
from tasks.settings import (
    Settings,
    SettingsError,
    extraction_fingerprints,
    field_comments,
    load_settings,
    read_settings,
    run_fingerprint,
    sections,
)
from tasks.store import write

SEEDS = sorted((Path(__file__).resolve().parents[1] / "seeds").glob("*.txt"))
NEWSETL = str(Path(sys.executable).parent / "newsetl")


def _refused(text: str) -> str:
    with pytest.raises(SettingsError) as caught:
        load_settings(text, "my.toml")
    message = str(caught.value)
    assert "\n" not in message and message.startswith("my.toml: "), message
    return message


# --------------------------------------------------------------------------------------------
# The file


def test_an_empty_file_is_the_defaults() -> None:
    assert load_settings("", "empty.toml") == Settings()
    assert load_settings("# nothing set\n", "empty.toml") == Settings()


def test_keys_override_top_level_section_and_nested_section_fields() -> None:
    text = """
batch_size = 400
superseded_grace_seconds = 5      # an integer is a number

[entities]
max_nlp_chars = 100000
labels = ["PERSON", "ORG"]

[clean]
title_min_words = 4

[clean.html]
include_tables = false

[clean.blocks]
edge_reasons = ["tags", "copyright", "tags"]
"""
    got = load_settings(text, "my.toml")
    want = Settings()
    want = replace(
        want,
        batch_size=400,
        superseded_grace_seconds=5.0,
        entities=replace(want.entities, max_nlp_chars=100_000, labels=("PERSON", "ORG")),
        clean=replace(
            want.clean,
            title_min_words=4,
            html=replace(want.clean.html, include_tables=False),
            blocks=replace(want.clean.blocks, edge_reasons=frozenset({"tags", "copyright"})),
        ),
    )
    assert got == want
    assert isinstance(got.superseded_grace_seconds, float)
    assert isinstance(got.entities.labels, tuple)
    # Everything not named keeps its default.
    assert got.quotes == Settings().quotes and got.clean.metadata == Settings().clean.metadata


def test_dotted_keys_and_inline_tables_are_the_same_tables() -> None:
    a = load_settings("[clean]\nhtml.include_tables = false\n", "a.toml")
    b = load_settings("clean = { html = { include_tables = false } }\n", "b.toml")
    assert a == b and a.clean.html.include_tables is False


def test_every_default_written_as_toml_reads_back_as_the_defaults() -> None:
    lines: list[str] = []
    for section in sections():
        if section.key:
            lines.append(f"[{section.key}]")
        for key, _kind, default, _why in section.rows:
            if default != "-":
                lines.append(f"{key.rsplit('.', 1)[-1]} = {default}")
    assert load_settings("\n".join(lines), "all.toml") == Settings()


def test_unknown_keys_and_sections_are_named_with_the_closest_known_one() -> None:
    assert _refused("batch_sise = 3") == (
        "my.toml: unknown setting batch_sise (did you mean batch_size?)"
    )
    assert "unknown setting entities.max_nlp_char (did you mean entities.max_nlp_chars?)" in (
        _refused("[entities]\nmax_nlp_char = 5")
    )
    assert "unknown section [entitis] (did you mean [entities]?)" in _refused(
        "[entitis]\nmax_nlp_chars = 5"
    )
    assert "unknown section [clean.htm] (did you mean [clean.html]?)" in _refused(
        "[clean.htm]\ninclude_tables = false"
    )
    assert _refused("[zzz]\na = 1") == "my.toml: unknown section [zzz]"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("batch_size = true", "batch_size must be an integer, not a boolean"),
        ("batch_size = 1.5", "batch_size must be an integer, not a float"),
        ("batch_size = 2.0", "batch_size must be an integer, not a float"),
        ('batch_size = "400"', "batch_size must be an integer, not a string"),
        ("superseded_grace_seconds = false", "superseded_grace_seconds must be a number, not a boolean"),
        ("superseded_grace_seconds = nan", "superseded_grace_seconds must be a number"),
        ("[entities]\nmodel = 3", "entities.model must be a string, not an integer"),
        ("[clean.html]\ninclude_tables = 0", "clean.html.include_tables must be true or false"),
        ("[clean.html]\nmax_date = 2099-12-31", "clean.html.max_date must be a string, not a date"),
        ('[normalize]\nnlp_languages = "en"', "normalize.nlp_languages must be a list of strings"),
        ('[entities]\nlabels = ["ORG", 1]', "entities.labels[1] must be a string, not an integer"),
        ("[clean.blocks]\nedge_reasons = [true]", "clean.blocks.edge_reasons[0] must be a string"),
        ("clean = 3", "clean is a section: write it as a table [clean], not an integer"),
        ("[clean]\nhtml = true", "clean.html is a section: write it as a table [clean.html]"),
        ("[entities.max_nlp_chars]\nx = 1", "entities.max_nlp_chars must be an integer, not a table"),
    ],
)  # fmt: skip
def test_wrong_types_are_refused_naming_the_key(text: str, says: str) -> None:
    assert says in _refused(text)


def test_settings_that_come_from_elsewhere_are_refused_saying_where() -> None:
    message = _refused('[entities]\naliases = [["UN", "United Nations"]]')
    assert "entities.aliases" in message and "aliases.csv" in message


def test_a_file_that_is_not_toml_or_cannot_be_read_is_one_line(tmp_path: Path) -> None:
    assert _refused("batch_size = ").startswith("my.toml: not valid TOML: ")
    with pytest.raises(SettingsError, match=r"missing\.toml: cannot be read"):
        read_settings(tmp_path / "missing.toml")
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"batch_size = 4\xff\n")
    with pytest.raises(SettingsError, match=r"binary\.toml: not UTF-8"):
        read_settings(binary)
    good = tmp_path / "good.toml"
    good.write_text("batch_size = 7\n", encoding="utf-8")
    assert read_settings(good).batch_size == 7


def test_a_changed_setting_changes_the_fingerprints_that_it_decides() -> None:
    base = Settings()
    quotes = load_settings("[quotes]\nmin_words = 3", "q.toml")
    assert run_fingerprint(quotes) != run_fingerprint(base)
    assert extraction_fingerprints(quotes) != extraction_fingerprints(base)
    # The run-wide merge and links: the run's rows change, an article's own rows do not.
    dedup = load_settings("[dedup]\nnear_duplicate_jaccard = 0.6", "d.toml")
    assert run_fingerprint(dedup) != run_fingerprint(base)
    assert extraction_fingerprints(dedup) == extraction_fingerprints(base)
    # Batch sizes decide no rows.
    batches = load_settings("batch_size = 7\n[entities]\npipe_batch_size = 3", "b.toml")
    assert run_fingerprint(batches) == run_fingerprint(base)
    assert extraction_fingerprints(batches) == extraction_fingerprints(base)


# --------------------------------------------------------------------------------------------
# The command line


class _Stop(Exception):
    """Raised by a stand-in engine once it has seen the settings."""


def _capture(monkeypatch: pytest.MonkeyPatch) -> list[Settings | None]:
    """Replace the flow's engine by one that records its settings and stops the run."""
    seen: list[Settings | None] = []

    def engine(dask: str | None, workers: int | None, settings: Settings | None = None) -> object:
        seen.append(settings)

        def run(*args: object) -> None:
            raise _Stop("stopped")

        return run

    monkeypatch.setattr(flows.engine, "engine", engine)
    return seen


def test_run_reads_newsetl_toml_from_the_working_folder_and_config_over_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _capture(monkeypatch)
    monkeypatch.chdir(tmp_path)
    args = ["run", "--input", str(SEEDS[0].parent), "--warehouse", str(tmp_path / "wh")]
    CliRunner().invoke(app, args)
    (tmp_path / "newsetl.toml").write_text("batch_size = 17\n", encoding="utf-8")
    CliRunner().invoke(app, args)
    other = tmp_path / "other.toml"
    other.write_text("[entities]\nmax_nlp_chars = 1000\n", encoding="utf-8")
    CliRunner().invoke(app, [*args, "--config", str(other)])
    assert seen[0] is None  # no file: the flow's defaults
    assert seen[1] == replace(Settings(), batch_size=17)
    assert seen[2] is not None and seen[2].batch_size == 500
    assert seen[2].entities.max_nlp_chars == 1000


def test_backfill_takes_a_config_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _capture(monkeypatch)
    config = tmp_path / "c.toml"
    config.write_text("[quotes]\nmin_words = 3\n", encoding="utf-8")
    out = CliRunner().invoke(app, ["backfill", "--start", "2025-01-15", "--end", "2025-01-15",
                                   "--input", str(SEEDS[0].parent), "--warehouse",
                                   str(tmp_path / "wh"), "--config", str(config)])  # fmt: skip
    assert out.exit_code == 1 and "2025-01-15: failed: _Stop" in out.output
    assert len(seen) == 1 and seen[0] is not None and seen[0].quotes.min_words == 3


@pytest.mark.parametrize("command", ["run", "backfill"])
def test_a_bad_config_is_one_line_and_exit_2_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    seen = _capture(monkeypatch)
    config = tmp_path / "bad.toml"
    config.write_text("[entities]\nmax_nlp_char = 5\n", encoding="utf-8")
    wh = tmp_path / "wh"
    dates = ["--date", "2025-01-15"] if command == "run" else ["--start", "2025-01-15",
                                                               "--end", "2025-01-16"]  # fmt: skip
    out = CliRunner().invoke(app, [command, *dates, "--input", str(SEEDS[0].parent),
                                   "--warehouse", str(wh), "--config", str(config)])  # fmt: skip
    assert out.exit_code == 2
    lines = out.output.strip().splitlines()
    assert len(lines) == 1 and "max_nlp_char" in lines[0] and str(config) in lines[0], lines
    assert not seen and not wh.exists()
    # A --config that does not exist is refused too, not silently replaced by the defaults.
    missing = CliRunner().invoke(app, [command, *dates, "--input", str(SEEDS[0].parent),
                                       "--warehouse", str(wh), "--config",
                                       str(tmp_path / "nope.toml")])  # fmt: skip
    assert missing.exit_code == 2 and "nope.toml: cannot be read" in missing.output
    assert not seen and not wh.exists()


def test_a_bad_newsetl_toml_stops_the_command_at_once(tmp_path: Path) -> None:
    (tmp_path / "newsetl.toml").write_text("batch_size = true\n", encoding="utf-8")
    wh = tmp_path / "wh"
    started = time.monotonic()
    done = subprocess.run([NEWSETL, "run", "--input", str(SEEDS[0].parent), "--warehouse",
                           str(wh), "--date", "2025-01-15"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    took = time.monotonic() - started
    assert done.returncode == 2
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert lines == ["error: newsetl.toml: batch_size must be an integer, not a boolean (True)"]
    # Told before Prefect or spaCy start: Python's start, the CLI's and the settings' imports.
    assert took < 10, took
    assert not wh.exists()


def test_a_run_applies_the_working_folders_newsetl_toml(tmp_path: Path) -> None:
    inputs, wh = tmp_path / "in", tmp_path / "wh"
    inputs.mkdir()
    for path in SEEDS[:2]:
        shutil.copy(path, inputs / path.name)
    # Every seed article is far shorter than this: all of them become rejects.
    (tmp_path / "newsetl.toml").write_text("[normalize]\nmin_words = 1000000\n", "utf-8")
    done = subprocess.run([NEWSETL, "-q", "run", "--input", str(inputs), "--warehouse", str(wh),
                           "--date", "2025-01-15"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    committed = write.committed_run(wh, date(2025, 1, 15))
    assert committed is not None
    assert (committed[1].articles, committed[1].rejects) == (0, 2)


# --------------------------------------------------------------------------------------------
# The settings page


def test_the_settings_page_is_up_to_date() -> None:
    out = CliRunner().invoke(app, ["settings-doc", "--check"])
    assert out.exit_code == 0, out.output


def test_a_stale_settings_page_fails_the_check_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(flows.cli, "PROJECT_ROOT", tmp_path)
    (tmp_path / "warehouse").mkdir()
    missing = CliRunner().invoke(app, ["settings-doc", "--check"])
    assert missing.exit_code == 1
    assert missing.output.strip().splitlines() == [
        "warehouse/SETTINGS.md is stale: run `newsetl settings-doc`"
    ]
    assert CliRunner().invoke(app, ["settings-doc"]).exit_code == 0
    assert CliRunner().invoke(app, ["settings-doc", "--check"]).exit_code == 0
    page = tmp_path / "warehouse" / "SETTINGS.md"
    page.write_text(page.read_text(encoding="utf-8") + "edited\n", encoding="utf-8")
    assert CliRunner().invoke(app, ["settings-doc", "--check"]).exit_code == 1


def test_every_setting_says_why_and_is_on_the_page() -> None:
    page = (Path(__file__).resolve().parents[1] / "warehouse" / "SETTINGS.md").read_text("utf-8")
    count = 0
    for section in sections():
        assert section.about, f"[{section.key}] has neither a comment nor a docstring"
        for key, _kind, _default, why in section.rows:
            assert why, f"{key} has no comment above its field saying why"
            assert f"| `{key}` |" in page, key
            count += 1
    assert count > 100  # the whole tree, nested sections included


@dataclass(frozen=True)
class _Example:
    """A settings class as a stage would write one."""

    # Said once for the pair below.
    low: int = 1
    high: int = 2

    # Its own reason,
    # over two lines.
    alone: float = 0.5

    silent: bool = True


def test_comments_are_read_from_the_source_and_a_silent_field_is_found() -> None:
    comments = field_comments(_Example)
    assert comments["low"] == comments["high"] == "Said once for the pair below."
    assert comments["alone"] == "Its own reason, over two lines."
    assert comments["silent"] == ""  # apart from any group: what the test above catches
    assert field_comments(_Example, shared=False)["high"] == ""


@pytest.mark.parametrize("command", ["run", "backfill"])
def test_a_field_map_reaches_ingest_and_a_bad_one_is_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    seen = _capture(monkeypatch)
    config = tmp_path / "c.toml"
    config.write_text('[ingest]\nfield_map = ["author=writer"]\n', encoding="utf-8")
    wh = tmp_path / "wh"
    dates = ["--date", "2025-01-15"] if command == "run" else ["--start", "2025-01-15",
                                                               "--end", "2025-01-15"]  # fmt: skip
    base = [command, *dates, "--input", str(SEEDS[0].parent), "--warehouse", str(wh)]
    CliRunner().invoke(app, [*base, "--config", str(config), "--map", "text=maintext, title=hed"])
    assert len(seen) == 1 and seen[0] is not None
    # --map first, then the file's: the command line is the latest word.
    assert seen[0].ingest.field_map == ("text=maintext", "title=hed", "author=writer")
    (tmp_path / "bad.toml").write_text('[ingest]\nfield_map = ["byline=by"]\n')
    wh = tmp_path / "untouched"
    base[base.index("--warehouse") + 1] = str(wh)
    for bad, value in [("--map", "body=maintext"), ("--map", "text"),
                       ("--config", str(tmp_path / "bad.toml"))]:  # fmt: skip
        out = CliRunner().invoke(app, [*base, bad, value])
        lines = out.output.strip().splitlines()
        assert out.exit_code == 2 and len(lines) == 1, (bad, out.output)
        assert "field mapping" in lines[0] and (bad == "--config" or bad in lines[0])
    assert len(seen) == 1 and not wh.exists()
