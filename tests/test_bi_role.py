"""BI tools connect with a read-only role that sees the marts and nothing else."""

import psycopg
import pytest

from pt2qe.pipeline import publish_marts
from pt2qe.warehouse import bi_url

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
    with psycopg.connect(bi_url(warehouse)) as bi:
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
    ],
)
def test_bi_role_is_refused_everything_else(published, warehouse, statement):
    with psycopg.connect(bi_url(warehouse)) as bi:
        with pytest.raises((psycopg.errors.InsufficientPrivilege, psycopg.errors.ReadOnlySqlTransaction)):
            bi.execute(statement)
