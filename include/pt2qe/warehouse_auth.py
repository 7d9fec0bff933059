"""Logins of the embedded warehouse: generated secrets, pg_hba.conf, role passwords.

- Every TCP login (127.0.0.1 and ::1) must give a password, checked with SCRAM-SHA-256.
- Over the Unix socket (a directory inside pgdata, mode 0700, owned by the server's OS
  user: no other OS user can even reach it) only the owner role logs in, by `peer`, and
  only from the server's OS user or root. Both can read pgdata anyway, so this login
  gives them nothing they did not have; pt2qe uses it to set the passwords. Any other
  socket login is rejected.
- The owner's and the BI role's passwords are generated once (`secrets`) into
  `<state folder>/warehouse_secrets.json`, mode 0600, created complete or not at all.
  PT2QE_BI_PASSWORD, when set, chooses the BI role's password instead.

docs/security.md says what this means for the people using it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import stat
from pathlib import Path

from pt2qe.paths import state_dir
from pt2qe.warehouse import BI_ROLE, EMBEDDED_USER, WarehouseError

SECRETS_FILE = "warehouse_secrets.json"
IDENT_MAP = "pt2qe_owner"
HEADER = "# written by pt2qe at every start of the embedded warehouse (pt2qe/warehouse_auth.py)"


def secrets_path(root: Path | None = None) -> Path:
    return (root or state_dir()) / SECRETS_FILE


def load_secrets(root: Path | None = None) -> dict[str, str]:
    """The generated passwords by role, generated on the first call."""
    path = secrets_path(root)
    if not path.exists():
        _create(path, {role: secrets.token_urlsafe(32) for role in (EMBEDDED_USER, BI_ROLE)})
    return _read(path)


def bi_password(root: Path | None = None) -> str:
    """The BI role's password, from PT2QE_BI_PASSWORD or else the generated one."""
    return os.environ.get("PT2QE_BI_PASSWORD") or load_secrets(root)[BI_ROLE]


def _create(path: Path, values: dict[str, str]) -> None:
    """Write `values` to `path` with mode 0600, complete or not at all: the text goes to
    a private temporary file (O_CREAT|O_EXCL, 0600) that is then linked to its name,
    which fails if another process was first (its file is kept)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(values, fh, indent=2, sort_keys=True)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
    finally:
        tmp.unlink(missing_ok=True)


def _read(path: Path) -> dict[str, str]:
    info = path.stat()
    if info.st_mode & 0o077:
        raise WarehouseError(
            f"{path}: other users may read it (mode {stat.S_IMODE(info.st_mode):04o}); "
            f"it holds the warehouse's passwords and must be mode 0600 (chmod 600 {path})"
        )
    if info.st_uid != os.geteuid():
        raise WarehouseError(
            f"{path}: it belongs to another user (uid {info.st_uid}); it must belong to"
            f" uid {os.geteuid()}, who runs pt2qe"
        )
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        values = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"{path}, line {exc.lineno}, column {exc.colno}"
        raise WarehouseError(f"{where}: expected a JSON object of passwords ({exc.msg})") from None
    problems = []
    if not isinstance(values, dict):
        problems.append("expected a JSON object of passwords by role")
        values = {}
    for role in (EMBEDDED_USER, BI_ROLE):
        value = values.get(role)
        if not isinstance(value, str) or not value:
            problems.append(f"expected a non-empty text password for role {role}")
    if problems:
        raise WarehouseError(
            f"{path}: " + "; ".join(problems)
            + " (delete the file to generate new passwords at the next start)"
        )
    return {role: values[role] for role in (EMBEDDED_USER, BI_ROLE)}


# --------------------------------------------------------------------------- pg_hba.conf


def hba_text() -> str:
    return "\n".join(
        [
            HEADER,
            "# TYPE  DATABASE  USER      ADDRESS        METHOD",
            f"local   all       {EMBEDDED_USER}                 peer map={IDENT_MAP}",
            "host    all       all       127.0.0.1/32   scram-sha-256",
            "host    all       all       ::1/128        scram-sha-256",
            "",
        ]
    )


def ident_text(os_users: list[str]) -> str:
    lines = [HEADER, "# MAPNAME  SYSTEM-USERNAME  PG-USERNAME"]
    lines += [f"{IDENT_MAP}  {user}  {EMBEDDED_USER}" for user in dict.fromkeys(os_users)]
    return "\n".join(lines) + "\n"


def write_auth_files(pgdata: Path, os_users: list[str], owner: tuple[int, int] | None) -> bool:
    """pg_hba.conf and pg_ident.conf as above; True when one of them changed (a running
    server must then reload). Each file is replaced atomically, mode 0600, owned by
    `owner` (uid, gid) when given."""
    changed = False
    for name, text in (("pg_hba.conf", hba_text()), ("pg_ident.conf", ident_text(os_users))):
        path = pgdata / name
        if path.exists() and path.read_text(errors="replace") == text:
            continue
        tmp = path.with_name(f".{name}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        if owner is not None:
            os.chown(tmp, *owner)
        os.replace(tmp, path)
        changed = True
    return changed


# --------------------------------------------------------------------------- passwords


def scram_matches(verifier: str | None, password: str) -> bool:
    """Whether a stored SCRAM-SHA-256 verifier (pg_authid.rolpassword) is `password`'s."""
    m = re.fullmatch(r"SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)", verifier or "")
    if not m:
        return False
    salt, stored_key = base64.b64decode(m[2]), base64.b64decode(m[3])
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, int(m[1]))
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    return hmac.compare_digest(hashlib.sha256(client_key).digest(), stored_key)


def set_password(conn, role: str, password: str) -> None:
    """ALTER ROLE … PASSWORD with the SCRAM verifier computed here: the clear password
    never travels in a statement (nor in a server log line)."""
    from psycopg import sql

    verifier = conn.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256")
    statement = sql.SQL("alter role {} password {}")
    conn.execute(statement.format(sql.Identifier(role), sql.Literal(verifier.decode())))


def ensure_passwords(conn, passwords: dict[str, str]) -> list[str]:
    """Give each existing role its password unless it already has it (needs a superuser:
    it reads pg_authid). Returns the roles changed."""
    changed = []
    for role, password in passwords.items():
        query = "select rolpassword from pg_authid where rolname = %s"
        row = conn.execute(query, (role,)).fetchone()
        if row is not None and not scram_matches(row[0], password):
            set_password(conn, role, password)
            changed.append(role)
    return changed
