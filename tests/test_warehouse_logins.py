"""The embedded warehouse asks every TCP login for a password (SCRAM).

Its owner's and BI role's passwords are generated at the first start into the state
folder (mode 0600); a local OS user who cannot read that file cannot log in, as the owner
or as the BI role. A cluster made before (`initdb --auth=trust`) is migrated at its next
start. Probes run `psql` as a separate unprivileged OS user when the tests run as root.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from pt2qe import warehouse_auth
from pt2qe.paths import state_dir
from pt2qe.warehouse import (
    BI_ROLE,
    EMBEDDED_USER,
    SYSTEM_USER,
    EmbeddedPostgres,
    WarehouseError,
    _bin_dir,
    _free_port,
    ensure_bi_role,
)

PT2QE = str(Path(sys.executable).parent / "pt2qe")
PROBE_USER = "pt2qe_probe"
ROLES = [EMBEDDED_USER, BI_ROLE]


def cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PT2QE, *args], capture_output=True, text=True, timeout=1800, env={**os.environ, **env}
    )


def psql(os_user: str | None, conninfo: str, sql: str, password: str | None = None):
    """`psql -c sql` as `os_user` (None: this process's user), with no password file."""
    env = {"PATH": "/usr/bin:/bin", "HOME": "/", "LC_ALL": "C", "PGPASSFILE": "/nonexistent/.pgpass"}
    env["PGCONNECT_TIMEOUT"] = "10"
    if password is not None:
        env["PGPASSWORD"] = password
    ids = {}
    if os_user is not None:
        entry = pwd.getpwnam(os_user)
        ids = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
    return subprocess.run(
        [str(_bin_dir() / "psql"), "-w", "-X", "-At", "-d", conninfo, "-c", sql],
        env=env,
        capture_output=True,
        text=True,
        cwd="/",
        timeout=60,
        **ids,
    )


@pytest.fixture(scope="module")
def probe_user():
    """Another local OS user (neither the server's nor ours) when we are root; otherwise
    the tests probe as ourselves, who at least are not given any password either."""
    if os.geteuid() != 0:
        yield None
        return
    created = False
    try:
        pwd.getpwnam(PROBE_USER)
    except KeyError:
        subprocess.run(["useradd", "-M", "-s", "/usr/sbin/nologin", PROBE_USER], check=True)
        created = True
    yield PROBE_USER
    if created:
        subprocess.run(["userdel", PROBE_USER], check=False)


@pytest.fixture(scope="module")
def urls(warehouse):
    """The URLs `pt2qe warehouse url [--bi]` prints, by role, once the BI role exists."""
    with warehouse.connect() as conn:
        conn.execute("create schema if not exists marts")
        ensure_bi_role(conn)
    owner, bi = cli("warehouse", "url"), cli("warehouse", "url", "--bi")
    assert owner.returncode == 0 and bi.returncode == 0, owner.stderr + bi.stderr
    return {EMBEDDED_USER: owner.stdout.strip(), BI_ROLE: bi.stdout.strip()}


def without_password(url: str) -> str:
    parts = urlsplit(url)
    return parts._replace(netloc=f"{parts.username}@{parts.hostname}:{parts.port}").geturl()


# --------------------------------------------------------------------------- TCP logins


@pytest.mark.warehouse
@pytest.mark.parametrize("role", ROLES)
def test_tcp_login_without_a_password_is_refused(probe_user, urls, role):
    proc = psql(probe_user, without_password(urls[role]), "select current_user")
    assert proc.returncode != 0 and proc.stdout == ""
    assert "no password supplied" in proc.stderr


@pytest.mark.warehouse
@pytest.mark.parametrize("role", ROLES)
def test_tcp_login_with_a_wrong_password_is_refused(probe_user, urls, role):
    proc = psql(probe_user, without_password(urls[role]), "select current_user", "not-it-1234")
    assert proc.returncode != 0 and proc.stdout == ""
    assert f'password authentication failed for user "{role}"' in proc.stderr


@pytest.mark.warehouse
@pytest.mark.parametrize("role", ROLES)
def test_tcp_login_with_the_generated_password(probe_user, urls, role):
    password = urlsplit(urls[role]).password
    assert password == warehouse_auth.load_secrets()[role]
    proc = psql(probe_user, without_password(urls[role]), "select current_user", password)
    assert (proc.returncode, proc.stdout) == (0, f"{role}\n"), proc.stderr


@pytest.mark.warehouse
def test_a_local_user_runs_no_program_through_the_warehouse(probe_user, urls):
    """As the owner (a superuser) COPY … TO PROGRAM would run any command as the server's
    OS user: without the password there is no login; the BI role may not run programs."""
    marker = Path(tempfile.gettempdir()) / f"pt2qe_probe_{os.getpid()}"  # writable by all
    copy = f"copy (select 1) to program 'touch {marker}'"
    try:
        owner = psql(probe_user, without_password(urls[EMBEDDED_USER]), copy)
        assert owner.returncode != 0 and "no password supplied" in owner.stderr
        bi_password = urlsplit(urls[BI_ROLE]).password
        bi = psql(probe_user, without_password(urls[BI_ROLE]), copy, bi_password)
        assert bi.returncode != 0
        assert "permission denied to COPY to or from an external program" in bi.stderr
        assert not marker.exists()
    finally:
        marker.unlink(missing_ok=True)


@pytest.mark.warehouse
def test_socket_logins_only_for_the_server_user_as_owner(probe_user, warehouse):
    emb = EmbeddedPostgres()
    socket = f"host={emb.pgdata} port={warehouse.port} dbname=pt2qe user="
    server_user = SYSTEM_USER if os.geteuid() == 0 else None
    owner = psql(server_user, socket + EMBEDDED_USER, "select current_user")
    assert (owner.returncode, owner.stdout) == (0, "postgres\n"), owner.stderr
    bi = psql(server_user, socket + BI_ROLE, "select current_user")
    assert (
        bi.returncode != 0
        and 'no pg_hba.conf entry for host "[local]", user "pt2qe_bi"' in bi.stderr
    )
    if probe_user is not None:  # another OS user cannot even reach the socket
        other = psql(probe_user, socket + EMBEDDED_USER, "select current_user")
        assert other.returncode != 0 and "Permission denied" in other.stderr


# --------------------------------------------------------------------------- the secrets file


@pytest.mark.warehouse
def test_the_secrets_file_is_private(warehouse):
    path = state_dir() / "warehouse_secrets.json"
    info = path.stat()
    assert (oct(info.st_mode & 0o777), info.st_uid) == (oct(0o600), os.geteuid())
    values = json.loads(path.read_text())
    assert sorted(values) == sorted(ROLES)
    assert values[EMBEDDED_USER] != values[BI_ROLE]
    assert all(len(v) >= 40 for v in values.values())
    assert warehouse.password == values[EMBEDDED_USER]


@pytest.mark.warehouse
def test_the_server_log_is_private(warehouse):
    EmbeddedPostgres().ensure_running()
    assert oct((state_dir() / "pgdata.log").stat().st_mode & 0o777) == oct(0o600)


def test_secrets_are_generated_once_0600_whatever_the_umask(tmp_path):
    got: list[dict] = []
    old = os.umask(0)
    try:
        threads = [
            threading.Thread(target=lambda: got.append(warehouse_auth.load_secrets(tmp_path)))
            for _ in range(8)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        os.umask(old)
    assert len(got) == 8 and all(g == got[0] for g in got)
    assert [p.name for p in tmp_path.iterdir()] == ["warehouse_secrets.json"]
    assert oct((tmp_path / "warehouse_secrets.json").stat().st_mode & 0o777) == oct(0o600)
    assert warehouse_auth.load_secrets(tmp_path) == got[0]


def test_a_secrets_file_others_can_read_is_refused(tmp_path):
    warehouse_auth.load_secrets(tmp_path)
    path = tmp_path / "warehouse_secrets.json"
    path.chmod(0o644)
    with pytest.raises(WarehouseError) as err:
        warehouse_auth.load_secrets(tmp_path)
    assert str(err.value) == (
        f"{path}: other users may read it (mode 0644); it holds the warehouse's passwords"
        f" and must be mode 0600 (chmod 600 {path})"
    )


@pytest.mark.parametrize(
    "text, message",
    [
        (
            '{\n  "postgres": "abc",\n',
            "line 3, column 1: expected a JSON object of passwords"
            " (Expecting property name enclosed in double quotes)",
        ),
        (
            '{"postgres": "abc", "pt2qe_bi": ""}',
            ": expected a non-empty text password for role pt2qe_bi"
            " (delete the file to generate new passwords at the next start)",
        ),
        (
            "[1]",
            ": expected a JSON object of passwords by role;"
            " expected a non-empty text password for role postgres;"
            " expected a non-empty text password for role pt2qe_bi (delete the file",
        ),
    ],
)
def test_a_bad_secrets_file_is_named_before_anything_starts(tmp_path, text, message):
    path = tmp_path / "warehouse_secrets.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    proc = cli("warehouse", "url", PT2QE_STATE_DIR=str(tmp_path))
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.startswith(f"pt2qe: warehouse: {path}") and message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert [p.name for p in tmp_path.iterdir() if p.name != "warehouse.lock"] == [path.name]


# --------------------------------------------------------------------------- migration


@pytest.fixture()
def trust_cluster():
    """An embedded cluster as pt2qe made it before: `initdb --auth=trust`, running, with
    the database, a table and a BI role without password."""
    root = Path(tempfile.mkdtemp(prefix="trust_", dir=state_dir()))
    emb = EmbeddedPostgres(root=root / "state")
    emb.root.mkdir()
    if emb.as_root:
        emb._prepare_root_user()
    emb._new_pgdata()
    old_flags = ["--auth=trust", "-U", "postgres", "--encoding=UTF8", "--locale=C"]
    emb._run("initdb", "-D", str(emb.pgdata), *old_flags)
    emb._write_settings(_free_port())
    if emb.as_root:
        os.chown(emb.pgdata / "postgresql.auto.conf", *emb._ids())
    emb._run("pg_ctl", "-D", str(emb.pgdata), "-l", str(emb.logfile), "-w", "-t", "60", "start")
    url = f"postgresql://postgres@127.0.0.1:{emb.port()}"
    with psycopg.connect(url + "/postgres", autocommit=True) as conn:
        conn.execute("create database pt2qe")
        conn.execute("create role pt2qe_bi login")
    with psycopg.connect(url + "/pt2qe") as conn:
        conn.execute("create table kept as select 42 as x")
    yield emb
    emb.stop()
    shutil.rmtree(root)


@pytest.mark.warehouse
@pytest.mark.parametrize("state", ["running", "stopped"])
def test_a_trust_cluster_is_migrated_at_its_next_start(trust_cluster, probe_user, state):
    emb = trust_cluster
    port = emb.port()
    anyone = f"postgresql://{EMBEDDED_USER}@127.0.0.1:{port}/pt2qe"
    before = psql(probe_user, anyone, "select x from kept")
    assert (before.returncode, before.stdout) == (0, "42\n"), "the old cluster trusts every login"
    if state == "stopped":
        emb.stop()

    wh = emb.ensure_running()

    assert (emb.pgdata / "pg_hba.conf").read_text() == warehouse_auth.hba_text()
    assert "trust" not in (emb.pgdata / "pg_hba.conf").read_text()
    secrets = warehouse_auth.load_secrets(emb.root)
    assert wh.port == port and wh.password == secrets[EMBEDDED_USER]
    for role in ROLES:
        url = f"postgresql://{role}@127.0.0.1:{port}/pt2qe"
        assert "no password supplied" in psql(probe_user, url, "select 1").stderr
        assert "password authentication failed" in psql(probe_user, url, "select 1", "x1").stderr
        proc = psql(
            probe_user, url, "select current_user, (select count(*) from pg_class)", secrets[role]
        )
        assert proc.returncode == 0 and proc.stdout.startswith(f"{role}|"), proc.stderr
    with wh.connect() as conn:
        assert conn.execute("select x from kept").fetchall() == [(42,)]
    # the next start changes nothing
    stamps = {n: (emb.pgdata / n).stat().st_mtime_ns for n in ("pg_hba.conf", "pg_ident.conf")}
    assert emb.ensure_running() == wh
    assert stamps == {n: (emb.pgdata / n).stat().st_mtime_ns for n in stamps}
