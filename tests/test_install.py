"""The installed environment (`make install`) holds compiled bytecode.

A run starts several Python processes (the CLI, `airflow dags test`, dbt through
Cosmos, Great Expectations). Where PYTHONDONTWRITEBYTECODE is set, as on the CI
machine, Python never writes `__pycache__`, so without bytecode compiled at install
time every one of them compiled its thousands of modules from source at each start:
the seed-scale corrections run lost 2 to 3 s in `prepare` alone (README, Speed).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

HEAVY = ("airflow", "dbt", "great_expectations", "cosmos", "pandas", "sqlalchemy")


def _modules_without_bytecode(package: str) -> tuple[int, list[Path]]:
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.submodule_search_locations, f"{package} is not installed"
    root = Path(next(iter(spec.submodule_search_locations)))
    sources = [p for p in root.rglob("*.py") if "tests" not in p.parts]
    missing = [p for p in sources if not Path(importlib.util.cache_from_source(str(p))).exists()]
    return len(sources), missing


@pytest.mark.parametrize("package", HEAVY)
def test_heavy_dependencies_are_installed_with_their_bytecode(package):
    total, missing = _modules_without_bytecode(package)
    assert total > 20
    # a handful of files are not valid Python for this interpreter (templates, other
    # versions' shims): their compilation fails at install and they are never imported
    assert len(missing) <= total // 100, (
        f"{len(missing)} of {total} modules of {package} have no bytecode, e.g. {missing[:3]}"
    )
