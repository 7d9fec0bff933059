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


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium, installed by the tests that need it (a clean machine has none).
    A failed install fails the test: a browser test is never skipped."""
    import subprocess

    if not CHROMIUM.exists():
        for args in (["update"], ["install", "-y", "--no-install-recommends", "chromium"]):
            proc = subprocess.run(
                ["apt-get", "-o", "DPkg::Lock::Timeout=600", "-q", *args],
                capture_output=True,
                text=True,
                env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
            )
            output = f"{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
            assert proc.returncode == 0, f"apt-get {' '.join(args)} failed:\n{output}"
    assert CHROMIUM.exists()
    return CHROMIUM


@pytest.fixture()
def browser(chromium):
    """A headless Chromium driven by Playwright, closed after the test."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture()
def small_disk():
    """A real 1 MB file system (tmpfs) in a fresh folder of /tmp, unmounted after the
    test: a full disk that gives ENOSPC like any other. Mounting needs root, as on the
    CI machine; a failed mount fails the test."""
    import subprocess

    mount_point = Path(tempfile.mkdtemp(prefix="pt2qe-small-disk-"))
    mount_point.chmod(0o755)  # the warehouse's server user must be able to reach it
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m,mode=0755", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, f"cannot mount a tmpfs on {mount_point}: {proc.stderr}"
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "--lazy", str(mount_point)], check=True)
        mount_point.rmdir()


@pytest.fixture()
def full_disk(small_disk):
    """`small_disk` filled to the last byte by one file, filler.bin."""
    import errno

    with open(small_disk / "filler.bin", "wb", buffering=0) as fh:
        try:
            while True:
                fh.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
    return small_disk
