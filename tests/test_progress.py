"""A run's progress: reported by the flow batch by batch, drawn only for a terminal."""

from __future__ import annotations

import io
import shutil
from datetime import date
from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from flows.cli import app
from flows.pipeline import news_etl
from flows.progress import listening, progress_bar, report

SEEDS = sorted((Path(__file__).resolve().parents[1] / "seeds").glob("*.txt"))


def test_the_bar_shows_counts_and_an_estimate_of_the_time_left() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120)
    with progress_bar(console):
        report("read", 3, 10)
        report("entities", 0, 7)
        report("read", 10, 10)
    shown = out.getvalue()
    assert "reading inputs" in shown and "10/10" in shown and "0/7" in shown
    assert "eta" in shown


def test_the_flow_reports_each_stage_to_its_end(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    for seed in SEEDS[:3]:
        shutil.copy(seed, inputs / seed.name)
    seen: list[tuple[str, int, int]] = []
    with listening(lambda *event: seen.append(event)):
        news_etl(input_dir=inputs, warehouse=tmp_path / "wh", run_date=date(2024, 5, 3))
    last = {stage: (done, total) for stage, done, total in seen}
    assert last == {"read": (3, 3), "prepare": (3, 3), "entities": (3, 3), "quotes": (3, 3)}
    # Each stage counts up, never past its total.
    for stage in last:
        counts = [done for s, done, total in seen if s == stage]
        assert counts == sorted(counts) and counts[-1] == last[stage][1]


def test_no_bar_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(SEEDS[0], inputs / SEEDS[0].name)
    out = CliRunner().invoke(
        app, ["run", "--input", str(inputs), "--warehouse", str(tmp_path / "wh")]
    )
    assert out.exit_code == 0, out.output
    assert "reading inputs" not in out.stderr and "eta" not in out.stderr
