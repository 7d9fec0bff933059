"""`pt2qe ui` — the Airflow UI and REST API on the embedded stack.

Starts `airflow standalone` (api-server, scheduler, dag-processor, triggerer; LocalExecutor,
SQLite metadata) with the environment `pt2qe run` uses (runner.airflow_environ: same Airflow
home, DAGs and plugins folders, DAGs not paused at creation), after starting the warehouse
and refreshing the dbt manifest. Analysts then trigger the `pt2qe` DAG from its Params form
or through the REST API v2 (`POST /auth/token`, then `POST /api/v2/dags/pt2qe/dagRuns`).

Login: the simple auth manager's user `admin` (role admin). Its password is generated
once and kept in `<Airflow home>/simple_auth_manager_passwords.json` (mode 600); set
PT2QE_UI_PASSWORD to choose it. `pt2qe ui` prints the URL and the login when the server
is ready; Ctrl-C stops every component.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from pt2qe import paths

DEFAULT_PORT = 8080
ADMIN = "admin"
PASSWORDS_FILE = "simple_auth_manager_passwords.json"


class UiError(RuntimeError):
    """The UI could not start; the message says why."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the API server binds
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def admin_password(airflow_home: Path) -> str:
    """The admin's password (from PT2QE_UI_PASSWORD), else the one kept in the passwords file
    (generated on first use)."""
    path = airflow_home / PASSWORDS_FILE
    passwords: dict[str, str] = {}
    if path.exists():
        content = path.read_text(encoding="utf-8").strip()
        passwords = json.loads(content) if content else {}
    wanted = os.environ.get("PT2QE_UI_PASSWORD") or passwords.get(ADMIN) or secrets.token_urlsafe(12)
    if passwords.get(ADMIN) != wanted:
        passwords[ADMIN] = wanted
        airflow_home.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(passwords) + "\n")
    os.chmod(path, 0o600)
    return wanted


def ui_environ(port: int, host: str = "127.0.0.1", airflow_home: Path | None = None) -> dict[str, str]:
    """The environment of `airflow standalone`: runner.airflow_environ() plus the warehouse,
    the API server's address and the simple auth manager's user and passwords file."""
    from pt2qe.runner import airflow_environ
    from pt2qe.warehouse import get_warehouse

    wh = get_warehouse()
    extra = dict(wh.dbt_env())
    if airflow_home is not None:
        extra["AIRFLOW_HOME"] = str(airflow_home)
        if "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN" not in os.environ:
            extra["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{airflow_home / 'airflow.db'}"
    env = airflow_environ(extra)
    if wh.embedded:
        env.setdefault("PT2QE_WAREHOUSE_URL", wh.url)
    home = Path(env["AIRFLOW_HOME"])
    local = host in ("127.0.0.1", "localhost", "::1")
    base_url = f"http://{'127.0.0.1' if local or host == '0.0.0.0' else host}:{port}"
    env.update(
        {
            "AIRFLOW__API__HOST": host,
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__BASE_URL": base_url,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / PASSWORDS_FILE),
            # `airflow standalone` starts its components as `airflow ...`: the venv's
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
        }
    )
    # a small machine: a few task processes at a time unless told otherwise
    if "AIRFLOW__CORE__PARALLELISM" not in os.environ:
        env["AIRFLOW__CORE__PARALLELISM"] = "4"
    return env


def api_call(base_url: str, method: str, path: str, body: dict | None = None, token: str | None = None, timeout: float = 30):
    """One JSON request to the API server: (status, decoded body)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base_url + path, data=data, method=method)
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            raw = resp.read()
            status = resp.status
    except urllib.error.HTTPError as exc:
        raw, status = exc.read(), exc.code
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode("utf-8", "replace")


@dataclass
class UiServer:
    process: subprocess.Popen
    url: str
    username: str
    password: str
    log_file: Path

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_file.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return ""

    def token(self) -> str:
        status, body = api_call(self.url, "POST", "/auth/token", dict(username=self.username, password=self.password))
        if status not in (200, 201):
            raise UiError(f"POST /auth/token answered {status}: {body}")
        return body["access_token"]

    def wait_ready(self, timeout: float = 300, dag_id: str | None = "pt2qe") -> None:
        """Until the API server answers, the scheduler is healthy and (with `dag_id`)
        the DAG has been parsed."""
        deadline = time.monotonic() + timeout
        token = None
        while True:
            if not self.alive():
                raise UiError(f"airflow standalone exited ({self.process.returncode}); log {self.log_file}:\n{self.log_tail()}")
            try:
                status, body = api_call(self.url, "GET", "/api/v2/monitor/health", timeout=5)
                healthy = status == 200 and body["scheduler"]["status"] == "healthy"
                if healthy and dag_id:
                    token = token or self.token()
                    status, _ = api_call(self.url, "GET", f"/api/v2/dags/{dag_id}", token=token, timeout=10)
                    healthy = status == 200
                if healthy:
                    return
            except (OSError, KeyError, TypeError, UiError):
                pass
            if time.monotonic() > deadline:
                raise UiError(f"Airflow was not ready after {timeout:.0f} s; log {self.log_file}:\n{self.log_tail()}")
            time.sleep(2)

    def stop(self, timeout: float = 30) -> None:
        """Stop every component: Ctrl-C to `airflow standalone` (it stops its components),
        then SIGTERM and at last SIGKILL to whatever is left of its process group."""
        pgid = self.process.pid  # start_new_session: the group is the standalone's pid

        def group_gone(wait: float) -> bool:
            deadline = time.monotonic() + wait
            while True:
                self.process.poll()
                try:
                    os.killpg(pgid, 0)  # anyone left in the group?
                except ProcessLookupError:
                    return True
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.2)

        steps = ((lambda: self.process.send_signal(signal.SIGINT), timeout),
                 (lambda: os.killpg(pgid, signal.SIGTERM), 10),
                 (lambda: os.killpg(pgid, signal.SIGKILL), 10))
        for send, wait in steps:
            if self.process.poll() is None or not group_gone(0):
                try:
                    send()
                except ProcessLookupError:
                    pass
            if group_gone(wait):
                break
        self.process.wait(timeout=5)


def start(port: int | None = None, host: str = "127.0.0.1", log_file: Path | None = None, airflow_home: Path | None = None) -> UiServer:
    """Start `airflow standalone` in its own process group on the embedded stack."""
    from pt2qe.runner import _bin, ensure_airflow_db, ensure_manifest

    port = port or DEFAULT_PORT
    if not _port_free(host if host != "0.0.0.0" else "127.0.0.1", port):
        raise UiError(f"port {port} is in use: choose another with --port")
    env = ui_environ(port, host, airflow_home)
    home = Path(env["AIRFLOW_HOME"])
    ensure_airflow_db(env)
    ensure_manifest(env)
    password = admin_password(home)
    log_file = log_file or home / "standalone.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as log:
        process = subprocess.Popen(
            [_bin("airflow"), "standalone"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=paths.project_root(),
            start_new_session=True,  # its own process group: stop() ends every component
        )
    return UiServer(process=process, url=env["AIRFLOW__API__BASE_URL"], username=ADMIN, password=password, log_file=log_file)


def serve(port: int | None = None, host: str = "127.0.0.1", follow: bool = False) -> int:
    """`pt2qe ui`: start, print the URL and login once ready, run until Ctrl-C."""
    print("pt2qe ui — starting the warehouse and Airflow (standalone)…", flush=True)
    try:
        server = start(port, host)
    except Exception as exc:  # noqa: BLE001 - the CLI says why
        print(f"pt2qe: {exc}", file=sys.stderr)
        return 1
    print(f"  log       {server.log_file}", flush=True)
    try:
        server.wait_ready()
        print(
            f"Airflow is ready: {server.url}\n"
            f"  login     {server.username} / {server.password}\n"
            f"  DAG       {server.url}/dags/pt2qe  (Trigger → the Params form)\n"
            f"  REST API  {server.url}/api/v2  (a bearer token from POST {server.url}/auth/token)\n"
            "Ctrl-C stops it.",
            flush=True,
        )
        offset = server.log_file.stat().st_size
        while server.alive():
            if follow:
                with open(server.log_file, "rb") as fh:
                    fh.seek(offset)
                    data = fh.read()
                offset += len(data)
                sys.stdout.write(data.decode("utf-8", "replace"))
                sys.stdout.flush()
            time.sleep(0.5)
        print(f"pt2qe: airflow standalone exited ({server.process.returncode}); see {server.log_file}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping Airflow…", flush=True)
        return 0
    except UiError as exc:
        print(f"pt2qe: {exc}", file=sys.stderr)
        return 1
    finally:
        server.stop()
