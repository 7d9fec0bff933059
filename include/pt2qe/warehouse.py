"""The warehouse: a configured PostgreSQL, or the embedded one.

Resolution order:
1. `PT2QE_WAREHOUSE_URL` (any PostgreSQL URL, e.g. `postgresql://user:pw@host:5432/db`);
2. the Airflow connection `pt2qe_warehouse` given as `AIRFLOW_CONN_PT2QE_WAREHOUSE`
   (a URI, as Airflow reads it from the environment);
3. the embedded PostgreSQL 16 of the `pgserver` wheel, whose cluster lives in
   `.pt2qe/pgdata` and which listens on 127.0.0.1 on a free port. It is started on
   demand and reused across runs (a daemon started by `pg_ctl`), never a system service.

`pg_ctl` refuses to run as root; as root the cluster is owned by and runs as the
unprivileged system user `pgserver` (the same user the pgserver wheel itself uses).

Every TCP login to the embedded warehouse needs a password (SCRAM); the passwords are
generated at the first start into the state folder (`pt2qe.warehouse_auth`), and a cluster
made before that (`initdb --auth=trust`) is migrated at its next start.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import os
import pwd
import secrets
import socket
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from pt2qe.paths import state_dir

EMBEDDED_DB = "pt2qe"
EMBEDDED_USER = "postgres"
SYSTEM_USER = "pgserver"
BI_ROLE = "pt2qe_bi"

# Settings of the embedded cluster: a single-user analytical warehouse on a small box.
# wal_level=minimal lets CREATE TABLE + COPY in one transaction skip the WAL.
EMBEDDED_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "password_encryption": "'scram-sha-256'",
    "max_connections": "60",
    "shared_buffers": "'1GB'",
    "work_mem": "'256MB'",
    "maintenance_work_mem": "'512MB'",
    "effective_cache_size": "'8GB'",
    "wal_level": "'minimal'",
    "max_wal_senders": "0",
    "max_wal_size": "'4GB'",
    "synchronous_commit": "'off'",
    "checkpoint_timeout": "'15min'",
    "max_parallel_workers_per_gather": "2",
    "jit": "'off'",
    "timezone": "'UTC'",
    "lc_messages": "'C'",
    "logging_collector": "'off'",
}


class WarehouseError(RuntimeError):
    """The warehouse cannot be reached or started; the message says why."""


@dataclass(frozen=True)
class Warehouse:
    url: str  # libpq URL: postgresql://user[:password]@host:port/dbname
    embedded: bool

    @property
    def parts(self):
        return urlsplit(self.url)

    @property
    def host(self) -> str:
        return self.parts.hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        return self.parts.port or 5432

    @property
    def user(self) -> str:
        return unquote(self.parts.username or "")

    @property
    def password(self) -> str:
        return unquote(self.parts.password or "")

    @property
    def dbname(self) -> str:
        return self.parts.path.lstrip("/")

    @property
    def sqlalchemy_url(self) -> str:
        return "postgresql+psycopg" + self.url[len("postgresql") :]

    def dbt_env(self) -> dict[str, str]:
        """Environment read by dbt_project/profiles.yml."""
        return {
            "PT2QE_PG_HOST": self.host,
            "PT2QE_PG_PORT": str(self.port),
            "PT2QE_PG_USER": self.user,
            "PT2QE_PG_PASSWORD": self.password,
            "PT2QE_PG_DBNAME": self.dbname,
        }

    def connect(self, **kwargs):
        import psycopg

        try:
            return psycopg.connect(self.url, **kwargs)
        except psycopg.OperationalError as exc:
            where = "embedded warehouse" if self.embedded else "warehouse"
            raise WarehouseError(f"cannot connect to the {where} at {redact(self.url)}: {exc}") from exc

    def each_on_connections(self, items, work, workers: int = 2) -> list:
        """`work(conn, item)` for every item, `workers` at a time, each worker over its
        own connection (one COPY or query keeps one PostgreSQL backend busy: two use both
        cores of a small server). Items are taken in order; the first failure stops the
        workers after their current item and is raised. Returns the results in the
        items' order."""
        import threading
        from concurrent.futures import ThreadPoolExecutor

        items = list(items)
        results: list = [None] * len(items)
        indexes = iter(range(len(items)))
        lock = threading.Lock()
        failures: list[BaseException] = []

        def worker() -> None:
            with self.connect() as conn:
                while True:
                    with lock:
                        i = None if failures else next(indexes, None)
                    if i is None:
                        return
                    try:
                        results[i] = work(conn, items[i])
                    except BaseException as exc:
                        with lock:
                            failures.append(exc)
                        return

        count = min(workers, len(items))
        if count:
            with ThreadPoolExecutor(max_workers=count) as pool:
                for future in [pool.submit(worker) for _ in range(count)]:
                    future.result()
        if failures:
            raise failures[0]
        return results


def redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(":" + parts.password + "@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url


def _normalise(url: str) -> str:
    """Any postgres URL (SQLAlchemy or Airflow flavour) → a libpq URL."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.split("+")[0] not in ("postgresql", "postgres"):
        raise WarehouseError(f"the warehouse URL must be a PostgreSQL URL, got {redact(url)}")
    return "postgresql://" + rest.split("?")[0]


def configured_url() -> str | None:
    for var in ("PT2QE_WAREHOUSE_URL", "AIRFLOW_CONN_PT2QE_WAREHOUSE"):
        value = os.environ.get(var)
        if value:
            return _normalise(value)
    return None


def get_warehouse(start: bool = True) -> Warehouse:
    """The warehouse in use; starts the embedded one when none is configured."""
    url = configured_url()
    if url:
        return Warehouse(url, embedded=False)
    return EmbeddedPostgres().ensure_running() if start else EmbeddedPostgres().warehouse()


# --------------------------------------------------------------------------- embedded


def _bin_dir() -> Path:
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise WarehouseError("the pgserver package is not installed (run `make install`)")
    return Path(list(spec.submodule_search_locations)[0]) / "pginstall" / "bin"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


class EmbeddedPostgres:
    def __init__(self, root: Path | None = None):
        self.root = root or state_dir()
        self.pgdata = self.root / "pgdata"
        self.logfile = self.root / "pgdata.log"
        self.lockfile = self.root / "warehouse.lock"
        self.bin = _bin_dir()
        self.as_root = os.geteuid() == 0

    # -- helpers
    def _run(self, exe: str, *args: str, check: bool = True, timeout: int = 120):
        kwargs = {}
        if self.as_root:
            kwargs["user"] = SYSTEM_USER
            kwargs["group"] = pwd.getpwnam(SYSTEM_USER).pw_gid
        proc = subprocess.run(
            [str(self.bin / exe), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            timeout=timeout,
            cwd="/",
            **kwargs,
        )
        if check and proc.returncode != 0:
            raise WarehouseError(f"{exe} failed ({proc.returncode}): {proc.stdout.strip()[-2000:]}")
        return proc

    def _prepare_root_user(self) -> None:
        try:
            pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            subprocess.run(["useradd", "-M", "-s", "/usr/sbin/nologin", SYSTEM_USER], check=True)
        uid, gid = pwd.getpwnam(SYSTEM_USER).pw_uid, pwd.getpwnam(SYSTEM_USER).pw_gid
        # the server user must traverse the path to its data and run the binaries
        for folder in [*self.root.parents, self.root]:
            mode = folder.stat().st_mode
            if not mode & stat.S_IXOTH:
                folder.chmod(mode | stat.S_IXOTH | stat.S_IROTH)
        for folder in [self.bin.parent, *self.bin.parent.parents]:
            mode = folder.stat().st_mode
            if not mode & stat.S_IXOTH:
                folder.chmod(mode | stat.S_IXOTH | stat.S_IROTH)
        for path in self.bin.parent.rglob("*"):
            mode = path.stat().st_mode
            want = mode | stat.S_IROTH | (stat.S_IXOTH if mode & stat.S_IXUSR or path.is_dir() else 0)
            if want != mode:
                path.chmod(want)
        for path in (self.pgdata, self.logfile):
            if path.exists():
                os.chown(path, uid, gid)

    def port(self) -> int | None:
        conf = self.pgdata / "postgresql.auto.conf"
        if not conf.exists():
            return None
        for line in conf.read_text().splitlines():
            if line.startswith("port"):
                return int(line.split("=")[1].strip().strip("'"))
        return None

    def warehouse(self) -> Warehouse:
        """The owner's URL, with its generated password."""
        from pt2qe.warehouse_auth import load_secrets

        port = self.port()
        if port is None:
            raise WarehouseError("the embedded warehouse has not been created yet (run `pt2qe warehouse start`)")
        login = f"{EMBEDDED_USER}:{quote(load_secrets(self.root)[EMBEDDED_USER], safe='')}"
        return Warehouse(f"postgresql://{login}@127.0.0.1:{port}/{EMBEDDED_DB}", embedded=True)

    def is_running(self) -> bool:
        port = self.port()
        if port is None or not (self.pgdata / "postmaster.pid").exists():
            return False
        proc = self._run("pg_isready", "-h", "127.0.0.1", "-p", str(port), "-q", check=False, timeout=10)
        return proc.returncode == 0

    @contextlib.contextmanager
    def _lock(self):
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.lockfile, "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _write_settings(self, port: int) -> None:
        lines = ["# written by pt2qe.warehouse; edit EMBEDDED_SETTINGS instead"]
        lines += [f"{k} = {v}" for k, v in EMBEDDED_SETTINGS.items()]
        lines += [f"port = {port}", f"unix_socket_directories = '{self.pgdata}'"]
        (self.pgdata / "postgresql.auto.conf").write_text("\n".join(lines) + "\n")

    def ensure_running(self) -> Warehouse:
        from pt2qe.warehouse_auth import load_secrets, write_auth_files

        with self._lock():
            load_secrets(self.root)  # a bad secrets file stops everything before it starts
            if self.as_root:
                self._prepare_root_user()
            if not (self.pgdata / "PG_VERSION").exists():
                self._init()
            if self.logfile.exists():  # error messages may quote rows: not for everyone
                self.logfile.chmod(0o600)
            owner = self._ids() if self.as_root else None
            logins_changed = write_auth_files(self.pgdata, self._owner_os_users(), owner)
            running = self.is_running()
            reloaded = logins_changed and running
            if reloaded:
                self._run("pg_ctl", "-D", str(self.pgdata), "reload")
            elif not running:
                port = self.port()
                if port is None or not _port_free(port):
                    port = _free_port()
                self._write_settings(port)
                if self.as_root:
                    os.chown(self.pgdata / "postgresql.auto.conf", *self._ids())
                stale = self.pgdata / "postmaster.pid"
                if stale.exists():
                    stale.unlink()
                self._run("pg_ctl", "-D", str(self.pgdata), "-l", str(self.logfile), "-w", "-t", "60", "start")
            wh = self.warehouse()
            self._ensure_database_and_passwords()
            if reloaded:
                self._wait_passwords_required(wh)
            return wh

    def _owner_os_users(self) -> list[str]:
        """OS users that may log in as the owner over the Unix socket: the server's own
        user (and root, which can read pgdata anyway)."""
        if self.as_root:
            return [SYSTEM_USER, pwd.getpwuid(0).pw_name]
        try:
            return [pwd.getpwuid(os.geteuid()).pw_name]
        except KeyError:  # a uid without a name (some containers): no socket login
            return []

    def _ids(self) -> tuple[int, int]:
        entry = pwd.getpwnam(SYSTEM_USER)
        return entry.pw_uid, entry.pw_gid

    def _new_pgdata(self) -> None:
        """The empty data folder (0700) and log file (0600), owned by the server's OS user."""
        self.pgdata.mkdir(parents=True, exist_ok=True)
        self.logfile.touch(mode=0o600)
        if self.as_root:
            os.chown(self.pgdata, *self._ids())
            os.chown(self.logfile, *self._ids())
        self.pgdata.chmod(0o700)

    def _init(self) -> None:
        self._new_pgdata()
        self._run(
            "initdb",
            "-D",
            str(self.pgdata),
            "--auth-local=peer",
            "--auth-host=scram-sha-256",
            "-U",
            EMBEDDED_USER,
            "--encoding=UTF8",
            "--locale=C",
            timeout=300,
        )

    def _socket_connect(self, dbname: str):
        """The owner over the Unix socket in pgdata (peer): works before any password is
        set; retried while the server is starting."""
        import psycopg

        deadline = time.monotonic() + 30
        while True:
            try:
                return psycopg.connect(
                    host=str(self.pgdata),
                    port=self.port(),
                    user=EMBEDDED_USER,
                    dbname=dbname,
                    autocommit=True,
                )
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    where = f"the embedded warehouse over its socket in {self.pgdata}"
                    raise WarehouseError(f"cannot log in to {where}: {exc}") from None
                time.sleep(0.5)

    def _ensure_database_and_passwords(self) -> None:
        from pt2qe.warehouse_auth import bi_password, ensure_passwords, load_secrets

        with self._socket_connect("postgres") as conn:
            query = "select 1 from pg_database where datname = %s"
            if not conn.execute(query, (EMBEDDED_DB,)).fetchone():
                conn.execute(f'create database "{EMBEDDED_DB}"')
            owner = load_secrets(self.root)[EMBEDDED_USER]
            ensure_passwords(conn, {EMBEDDED_USER: owner, BI_ROLE: bi_password(self.root)})

    def _wait_passwords_required(self, wh: Warehouse) -> None:
        """After pg_hba.conf changed under a running server: wait until it refuses a TCP
        login with a wrong password (a reload is asynchronous), then try the right one."""
        import psycopg

        netloc = f"{EMBEDDED_USER}:{secrets.token_hex(16)}@127.0.0.1:{wh.port}"
        wrong = wh.parts._replace(netloc=netloc).geturl()
        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg.connect(wrong, connect_timeout=5).close()
            except psycopg.OperationalError:
                break
            if time.monotonic() > deadline:
                raise WarehouseError(
                    "the embedded warehouse still accepts a login with a wrong password"
                    f" (check {self.pgdata / 'pg_hba.conf'})"
                )
            time.sleep(0.2)
        wh.connect(connect_timeout=5).close()

    def stop(self) -> None:
        with self._lock():
            if (self.pgdata / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.pgdata), "-m", "fast", "-w", "stop", check=False)


def ensure_bi_role(conn) -> None:
    """The read-only role of BI tools: it can read schema marts and nothing else.

    Its password is PT2QE_BI_PASSWORD, else the one generated into the state folder
    (pt2qe.warehouse_auth). Call inside the publishing transaction.
    """
    from psycopg import sql

    from pt2qe.warehouse_auth import bi_password, set_password

    if not conn.execute("select 1 from pg_roles where rolname = %s", (BI_ROLE,)).fetchone():
        conn.execute(sql.SQL("create role {} login nosuperuser nocreatedb nocreaterole noinherit").format(sql.Identifier(BI_ROLE)))
    set_password(conn, BI_ROLE, bi_password())
    conn.execute(sql.SQL("revoke create on schema public from public"))
    conn.execute(sql.SQL("alter role {} set default_transaction_read_only = on").format(sql.Identifier(BI_ROLE)))
    conn.execute(sql.SQL("grant usage on schema marts to {}").format(sql.Identifier(BI_ROLE)))
    conn.execute(sql.SQL("grant select on all tables in schema marts to {}").format(sql.Identifier(BI_ROLE)))


def bi_url(wh: Warehouse, password: str | None = None) -> str:
    """URL for BI tools: the read-only role on the same database (with `password`)."""
    parts = wh.parts
    login = quote(BI_ROLE) + (":" + quote(password, safe="") if password else "")
    netloc = f"{login}@{parts.hostname}:{parts.port or 5432}"
    return parts._replace(netloc=netloc).geturl()
