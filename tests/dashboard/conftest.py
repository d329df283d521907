"""Warehouses and sites for the dashboard tests: the seeds', a larger run's, empty ones."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import dashcorpus
import pytest

from flows.pipeline import news_etl
from tasks.dashboard import Filters, build_site

ROOT = Path(__file__).resolve().parents[2]
SEEDS_DAY = date(2023, 9, 20)


@pytest.fixture(scope="session")
def seeds_warehouse(tmp_path_factory: pytest.TempPathFactory, seeds_dir: Path) -> Path:
    """A warehouse written by one real run over the seeds."""
    target = tmp_path_factory.mktemp("seeds-warehouse")
    shutil.copy(ROOT / "warehouse" / "aliases.csv", target)
    news_etl(input_dir=seeds_dir, warehouse=target, run_date=SEEDS_DAY)
    return target


@pytest.fixture(scope="session")
def large_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three run dates of the dev corpus (`dashcorpus`), then a failed attempt on the second."""
    inputs = tmp_path_factory.mktemp("large-inputs")
    target = tmp_path_factory.mktemp("large-warehouse")
    for day, folder in dashcorpus.write_inputs(inputs).items():
        news_etl(input_dir=folder, warehouse=target, run_date=day)
    # A rerun with no input of a date that has articles is refused: a failed attempt to show.
    empty = inputs / "empty"
    empty.mkdir()
    with pytest.raises(Exception, match="committed articles"):
        news_etl(input_dir=empty, warehouse=target, run_date=dashcorpus.RUN_DATES[1])
    return target


@pytest.fixture(scope="session")
def empty_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse folder with no run yet."""
    return tmp_path_factory.mktemp("empty-warehouse")


@pytest.fixture(scope="session")
def seeds_site(tmp_path_factory: pytest.TempPathFactory, seeds_warehouse: Path) -> Path:
    """The dashboard of the seeds' warehouse."""
    out = tmp_path_factory.mktemp("sites") / "seeds"
    build_site(seeds_warehouse, out)
    return out


@pytest.fixture(scope="session")
def large_site(tmp_path_factory: pytest.TempPathFactory, large_warehouse: Path) -> Path:
    """The dashboard of the larger run."""
    out = tmp_path_factory.mktemp("sites") / "large"
    build_site(large_warehouse, out)
    return out


@pytest.fixture(scope="session")
def no_data_sites(
    tmp_path_factory: pytest.TempPathFactory, seeds_warehouse: Path, empty_warehouse: Path
) -> dict[str, Path]:
    """Sites with nothing to show: no run yet, a period with no article, an unknown outlet."""
    root = tmp_path_factory.mktemp("sites")
    cases = {
        "empty-warehouse": (empty_warehouse, Filters()),
        "no-data-period": (
            seeds_warehouse,
            Filters(since=date(2001, 1, 1), until=date(2001, 12, 31)),
        ),
        "unknown-outlet": (seeds_warehouse, Filters(outlet="No Such Gazette")),
    }
    for name, (warehouse, filters) in cases.items():
        build_site(warehouse, root / name, filters)
    return {name: root / name for name in cases}
