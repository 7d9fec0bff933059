"""A full disk, said in words: which file or table could not be written, and why.

Python says `[Errno 28] No space left on device` without a file name, PostgreSQL names
one of its own data files. `on_full_disk(what, outcome)` wraps a write: a full disk (or
an exhausted quota) there becomes DiskFullError naming `what` and what became of the run;
every other error passes through unchanged. The writer itself removes what it left half
written (a temporary file, a rolled back table).
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager

_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
_PG_DISK_FULL = "53100"  # SQLSTATE disk_full


class DiskFullError(RuntimeError):
    """A file or table could not be written because its disk is full."""


def is_disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS:
        return True
    return getattr(exc, "sqlstate", None) == _PG_DISK_FULL


def disk_full_message(what: str, exc: BaseException, outcome: str) -> str:
    detail = ""
    diag = getattr(exc, "diag", None)
    if diag is not None and diag.message_primary:
        detail = f" (the warehouse says: {diag.message_primary})"
    return (
        f"{what} could not be written: the disk is full{detail}; {outcome}."
        " Free some space and run again"
    )


@contextmanager
def on_full_disk(what: str, outcome: str) -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        if is_disk_full(exc):
            raise DiskFullError(disk_full_message(what, exc, outcome)) from None
        raise
