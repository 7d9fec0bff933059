"""No secret in the repository (QUALITY.md, Security).

Every file git would commit (tracked, plus untracked files that are not ignored) is
scanned for private keys, cloud and service tokens, passwords inside URLs and password
or token literals. Placeholders that documentation uses on purpose are allowed and listed
here. `.env` must be git-ignored and `.env.example` tracked. The scanner is checked on
planted samples first, so a scanner that finds nothing cannot pass by accident.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_BYTES = 5 << 20

# Values that only stand for a secret: documentation placeholders, redaction marks,
# template or environment references, and Oracle's classic demo account used by a
# parsing test (scott/tiger is public knowledge, not a credential of this project).
PLACEHOLDERS = re.compile(
    r"""^(
        CHANGE_?ME | changeme | \*+ | x+ | X+ | \.\.\.|…
        | \$\{[^}]*\}.* | \{[^}]*\} | %s | %\([a-z_]+\)s | <[^>]+>
        | pw | password\]? | secret | tiger
        | test-[a-z0-9_]+ | __[A-Z0-9_]+__
    )$""",
    re.X,
)

PATTERNS: list[tuple[str, re.Pattern]] = [
    ("private key", re.compile(r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY(?: BLOCK)?-----")),
    ("AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    (
        "AWS secret access key",
        re.compile(r"(?i)aws_secret_access_key\s*[=:]\s*['\"]?[A-Za-z0-9/+=]{40}\b"),
    ),
    (
        "GitHub token",
        re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})\b"),
    ),
    ("Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("Google API key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b")),
    ("Stripe live key", re.compile(r"\b[sr]k_live_[0-9A-Za-z]{20,}\b")),
    (
        "JSON web token",
        re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
    ),
]
# scheme://user:password@host — the password group is checked against PLACEHOLDERS
URL_PASSWORD = re.compile(
    r"\b[a-z][a-z0-9+.\-]*://(?:\$\{[^}]*\}|[^\s:/@'\"`$])+:((?:\$\{[^}]*\}|[^\s@/'\"`$])*)@"
)
# password = "literal" / password: 'literal' / PASSWORD=literal (env files)
ASSIGNED_SECRET = re.compile(
    r"""(?ix)
    (?<![\w${])[\w.]*(?:password|passwd|pwd|secret|token|api_?key|fernet_key)\b["']?  # name
    \s*(?:=(?!=)|:(?![?+=-]))\s*                                        # = or :, not == :? :-
    (?:\\?"([^"\n]*?)\\?"|'([^'\n]*)'|([^\s,;)'"\#\\]+))                          # the value
    """
)
# values of such names that are code or configuration, not a secret
CODE_VALUE = re.compile(
    r"""^(
        [a-z_][\w.]*\(.*  | [a-z_][\w.\[\]"']*  | os\.environ.*
        | None | True | False | null | true | false
        | \d+ | \$.* | \{\{.*
    )$""",
    re.X,
)


def findings(text: str, where: str = "<memory>") -> list[str]:
    """Every suspected secret in `text`, as 'where:line: kind: excerpt'."""
    found = []
    for lineno, line in enumerate(text.splitlines(), 1):
        for kind, pattern in PATTERNS:
            if pattern.search(line):
                found.append(f"{where}:{lineno}: {kind}")
        for m in URL_PASSWORD.finditer(line):
            if m.group(1) and not PLACEHOLDERS.match(m.group(1)):
                found.append(f"{where}:{lineno}: password in URL ({m.group(0)[:60]})")
        for m in ASSIGNED_SECRET.finditer(line):
            quoted = m.group(1) if m.group(1) is not None else m.group(2)
            value = quoted if quoted is not None else m.group(3)
            if not value or PLACEHOLDERS.match(value):
                continue
            # an unquoted value that reads as code (a variable, a call) is not a literal
            if quoted is None and CODE_VALUE.match(value):
                continue
            if quoted is not None and (
                len(value) < 8 or " " in value or value.startswith(("$", "{", "%"))
            ):
                continue
            found.append(f"{where}:{lineno}: secret literal ({m.group(0)[:60]})")
    return found


def git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)


def committable_files() -> list[Path]:
    proc = git("ls-files", "-z", "--cached", "--others", "--exclude-standard")
    if proc.returncode != 0:
        pytest.skip(f"not a git work tree: {proc.stderr.strip()}")
    return [ROOT / name for name in proc.stdout.split("\0") if name]


# --------------------------------------------------------------------------- the scanner itself


@pytest.mark.parametrize(
    "sample",
    [
        "-----BEGIN RSA " + "PRIVATE KEY-----",
        "-----BEGIN OPENSSH " + "PRIVATE KEY-----",
        "aws_access_key_id = AKIA" + "Q3EXAMPLE7ABCD12",
        "aws_secret_access_key=" + "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKEY",
        "token: ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
        "PT2QE_WAREHOUSE_URL=postgresql://pt2qe:" + "s3cr3tP4ss" + "@db:5432/pt2qe",
        "oracle://PT2QE_READER:" + "Hunter2!" + "@oracle-host:1521/?service_name=X",
        'conn = connect(password="' + "Sup3rS3cret" + '")',
        "AIRFLOW_DB_PASSWORD=" + "9f8e7d6c5b4a",
        "api_key = '" + "0123456789abcdef0123" + "'",
        '{"password": "' + "Pl4nted9secret" + '"}',
    ],
)
def test_scanner_flags_planted_secrets(sample):
    assert findings(sample), f"the scanner missed {sample!r}"


@pytest.mark.parametrize(
    "sample",
    [
        "PT2QE_WAREHOUSE_URL=postgresql://pt2qe:CHANGE_ME@warehouse:5432/pt2qe",
        "AIRFLOW_DB_PASSWORD=",
        "postgresql://${PT2QE_WAREHOUSE_USER:-pt2qe}:${PT2QE_WAREHOUSE_PASSWORD:?set}@wh:5432/db",
        'netloc = parts.netloc.replace(":" + parts.password + "@", ":***@")',
        "password = os.environ.get('PT2QE_BI_PASSWORD')",
        "password: \"{{ env_var('PT2QE_PG_PASSWORD', '') }}\"",
        "if token == '(' and wh.password == 'x':",
        "oracle://${PT2QE_ORACLE_USER:-pt2qe_src}:${PT2QE_ORACLE_PASSWORD:-}@oracle:1521/",
        "postgresql://postgres@127.0.0.1:5432/pt2qe",
    ],
)
def test_scanner_accepts_placeholders(sample):
    assert not findings(sample), findings(sample)


# --------------------------------------------------------------------------- the repository


def test_no_secret_in_committable_files():
    found = []
    scanned = 0
    for path in committable_files():
        if not path.is_file() or path.stat().st_size > MAX_BYTES:
            continue
        data = path.read_bytes()
        if b"\0" in data:
            continue  # binary (e.g. docs/report_screenshot.png)
        scanned += 1
        found += findings(data.decode("utf-8", errors="replace"), str(path.relative_to(ROOT)))
    assert scanned > 50, f"only {scanned} files scanned: the file list is wrong"
    assert not found, "possible secrets:\n" + "\n".join(found)


def test_env_is_ignored_and_example_tracked():
    assert git("check-ignore", "-q", ".env").returncode == 0, ".env must be git-ignored"
    assert git("check-ignore", "-q", ".env.example").returncode == 1, (
        ".env.example must not be ignored"
    )
    assert git("ls-files", "--error-unmatch", ".env.example").returncode == 0, (
        ".env.example must be tracked"
    )
    assert git("ls-files", ".env").stdout.strip() == "", ".env must never be committed"
