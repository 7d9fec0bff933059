"""BI tools connect with a read-only role that sees the marts and nothing else, with
its password (generated into the state folder, or PT2QE_BI_PASSWORD)."""

import os
import secrets

import psycopg
import pytest

from pt2qe.pipeline import publish_marts
from pt2qe.warehouse import bi_url, ensure_bi_role
from pt2qe.warehouse_auth import bi_password, load_secrets

pytestmark = pytest.mark.warehouse


@pytest.fixture()
def published(warehouse):
    with warehouse.connect() as conn:
        conn.execute("create schema if not exists raw")
        conn.execute("create table if not exists raw.bi_probe (x int)")
        conn.execute("drop schema if exists marts_next cascade")
        conn.execute("create schema marts_next")
        conn.execute("create table marts_next.bi_probe as select 1 as x")
        conn.commit()
        assert "bi_probe" in publish_marts(conn)
    yield
    with warehouse.connect() as conn:
        conn.execute("drop table if exists marts.bi_probe")
        conn.execute("drop table if exists raw.bi_probe")
        conn.commit()


def test_bi_role_reads_the_marts(published, warehouse):
    with psycopg.connect(bi_url(warehouse, bi_password())) as bi:
        assert bi.execute("select x from marts.bi_probe").fetchone() == (1,)
        assert bi.execute("select current_user").fetchone() == ("pt2qe_bi",)


@pytest.mark.parametrize(
    "statement",
    [
        "select * from raw.bi_probe",
        "insert into marts.bi_probe values (2)",
        "create table marts.bi_write (x int)",
        "create table public.bi_write (x int)",
        "drop table marts.bi_probe",
        # a read-write transaction of its own does not give it the right to write
        "set default_transaction_read_only = off; insert into marts.bi_probe values (2)",
        "copy (select 1) to program 'touch /tmp/pt2qe_bi_probe'",
        "copy marts.bi_probe from program 'echo 2'",
        "select pg_read_file('pg_hba.conf')",
    ],
)
def test_bi_role_is_refused_everything_else(published, warehouse, statement):
    with psycopg.connect(bi_url(warehouse, bi_password())) as bi:
        refused = (psycopg.errors.InsufficientPrivilege, psycopg.errors.ReadOnlySqlTransaction)
        with pytest.raises(refused):
            bi.execute(statement)
    with warehouse.connect() as owner:
        assert owner.execute("select x from marts.bi_probe").fetchall() == [(1,)]
    assert not os.path.exists("/tmp/pt2qe_bi_probe")


@pytest.mark.parametrize("password", [None, "wrong"])
def test_bi_role_needs_its_password(published, warehouse, password):
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(bi_url(warehouse, password), passfile=os.devnull)


def test_bi_password_from_the_environment_wins(published, warehouse, monkeypatch):
    chosen = "bi-" + secrets.token_hex(12)
    monkeypatch.setenv("PT2QE_BI_PASSWORD", chosen)
    try:
        with warehouse.connect() as conn:
            ensure_bi_role(conn)  # what every publication does
        with psycopg.connect(bi_url(warehouse, chosen)) as bi:
            assert bi.execute("select current_user").fetchone() == ("pt2qe_bi",)
        generated = load_secrets()["pt2qe_bi"]
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(bi_url(warehouse, generated))
    finally:
        monkeypatch.delenv("PT2QE_BI_PASSWORD")
        with warehouse.connect() as conn:  # back to the generated password
            ensure_bi_role(conn)
    with psycopg.connect(bi_url(warehouse, generated)) as bi:
        assert bi.execute("select current_user").fetchone() == ("pt2qe_bi",)
