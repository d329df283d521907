"""An installed newsetl: the wheel in a fresh venv runs from any folder, not only a checkout.

The wheel is built from a copy of the sources (so nothing is written into the checkout) and
installed with `--no-deps --no-index` into a new venv whose dependencies come from this
venv's site-packages through a `.pth` path line: that line adds the folder to `sys.path`
without running its own `.pth` files, so the checkout's editable install is not loaded and
`tasks` and `flows` are the installed copies. Nothing is downloaded but the wheel's build
backend (pip's isolated build), and the new venv's HOME is its own (Prefect's ~/.prefect).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DAY = "2025-01-15"
CHECKS = {
    "empty_body",
    "high_reject_share",
    "inputs_accounted",
    "mention_offsets",
    "quotes_outside_body",
}


@dataclass(frozen=True)
class Installed:
    """A venv with the newsetl wheel, its environment, and a warehouse it wrote."""

    venv: Path
    env: dict[str, str]
    work: Path  # the folder the commands run in: neither the checkout nor the venv
    warehouse: Path

    def run(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        """A command of the venv's bin/ (newsetl, python), from the work folder."""
        return subprocess.run(
            [str(self.venv / "bin" / args[0]), *args[1:]],
            cwd=cwd or self.work,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
        )

    def ok(self, *args: str, cwd: Path | None = None) -> str:
        done = self.run(*args, cwd=cwd)
        assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
        return done.stdout


def _pip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )


def _build_wheel(tmp: Path) -> Path:
    """newsetl's wheel, built from a copy of the sources (no build/ or egg-info here)."""
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src)
    for package in ("flows", "tasks"):
        shutil.copytree(ROOT / package, src / package, ignore=shutil.ignore_patterns("__pycache__"))
    built = _pip("wheel", "--no-deps", str(src), "-w", str(tmp / "dist"))
    if built.returncode != 0 and "No matching distribution" in built.stdout + built.stderr:
        pytest.skip("no package index for the build backend (setuptools>=68, wheel)")
    assert built.returncode == 0, built.stdout + built.stderr
    [wheel] = (tmp / "dist").glob("newsetl-*.whl")
    return wheel


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The wheel installed in a new venv, and one run over a copy of the seeds."""
    tmp = tmp_path_factory.mktemp("install")
    wheel = _build_wheel(tmp)
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # The dependencies: this venv's site-packages, as a path line (its .pth files not run).
    (Path(purelib) / "newsetl-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    done = _pip("--python", python, "install", "--no-deps", "--no-index", str(wheel))
    assert done.returncode == 0, done.stdout + done.stderr
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PREFECT_HOME", "PREFECT_API_URL", "PYTHONPATH", "VIRTUAL_ENV"}
    }
    (tmp / "home").mkdir()
    env["HOME"] = str(tmp / "home")
    work = tmp / "work"
    shutil.copytree(ROOT / "seeds", work / "news")
    inst = Installed(venv, env, work, work / "wh")
    inst.ok("newsetl", "-q", "run", "--input", "news", "--warehouse", "wh", "--date", DAY)
    return inst


def test_the_installed_packages_are_imported_not_the_checkout(installed: Installed) -> None:
    script = (
        "import json, os, flows, tasks, tasks.warehouse.query as q\n"
        "print(json.dumps([tasks.__file__, flows.__file__, str(q.SQL_DIR), str(flows.CHECKOUT),"
        " str(flows.PROJECT_ROOT), os.environ.get('PREFECT_HOME')]))"
    )
    files = json.loads(installed.ok("python", "-c", script))
    venv = str(installed.venv.resolve())
    assert all(f.startswith(venv) for f in files[:3]), files
    # No checkout: the CLI's folders are the working folder's, Prefect's home its default.
    assert files[3:] == ["None", ".", None]
    assert (Path(installed.env["HOME"]) / ".prefect").is_dir()  # the run's Prefect state


def test_version_and_default_folders(installed: Installed) -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert installed.ok("newsetl", "--version").split() == [
        "newsetl",
        declared["project"]["version"],
    ]
    help_text = installed.ok("newsetl", "run", "--help")
    assert "site-packages" not in help_text and "[default: seeds]" in help_text


def test_check_runs_the_five_shipped_checks(installed: Installed) -> None:
    out = installed.ok("newsetl", "check", "--warehouse", str(installed.warehouse))
    assert all(name in out for name in CHECKS), out


def test_reports_are_shipped(installed: Installed) -> None:
    unknown = installed.run("newsetl", "report", "nosuch", "--warehouse", "wh")
    assert unknown.returncode != 0
    for name in ("top_entities", "story_coverage", "quote_reach"):
        assert name in unknown.stdout + unknown.stderr
    out = installed.ok(
        "newsetl", "report", "story_coverage", "--warehouse", "wh", "--format", "json"
    )
    stories = [json.loads(line) for line in out.splitlines()]
    assert sum(row["articles"] for row in stories) == 5, stories


def test_a_copy_of_the_warehouse_reads_from_a_third_folder(installed: Installed) -> None:
    copy = installed.work.parent / "elsewhere" / "wh"
    shutil.copytree(installed.warehouse, copy)
    third = installed.work.parent / "third"
    third.mkdir()
    script = (
        "import sys, duckdb\n"
        "con = duckdb.connect(sys.argv[1], read_only=True)\n"
        "print(con.sql('SELECT count(*) FROM articles').fetchall()[0][0])"
    )
    away = installed.warehouse.rename(installed.work / "wh-away")
    try:
        out = installed.ok("python", "-c", script, "../elsewhere/wh/newsetl.duckdb", cwd=third)
    finally:
        away.rename(installed.warehouse)
    assert out.split() == ["5"]


def test_the_dashboard_builds_from_the_installed_package(installed: Installed) -> None:
    # Its SQL and the shipped reports it reuses come from the wheel, not the checkout.
    installed.ok("newsetl", "dashboard", "--warehouse", "wh", "--out", "site")
    quotes = (installed.work / "site" / "quotes.html").read_text(encoding="utf-8")
    assert "Catherine Colonna" in quotes and "No data" not in quotes
    assert (installed.work / "site" / "assets" / "vega-embed.js").stat().st_size > 100_000
