"""Shared fixtures. Tests run on their own embedded stack (warehouse + Airflow home under
.pt2qe/test), never on the one `make run` uses."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("PT2QE_STATE_DIR", str(ROOT / ".pt2qe" / "test"))
os.environ.pop("AIRFLOW_HOME", None)
# the tests' worlds and outputs live in pytest's temporary folders
os.environ.setdefault("PT2QE_ALLOWED_ROOTS", tempfile.gettempdir())


@pytest.fixture(scope="session")
def warehouse():
    from pt2qe.warehouse import get_warehouse

    return get_warehouse()


@pytest.fixture()
def pg(warehouse):
    """A connection to the test warehouse (psycopg commits on leaving the block: tests
    clean up the scratch schemas they create)."""
    with warehouse.connect() as conn:
        yield conn
