"""Price-change notifications (PRICE_BOOK_RULES.md, History and notifications).

After a final run published the price book and the history snapshot recorded what
changed (marts.price_list_items_history, one row per new item or new price, with
OLD_PRICE_HT, NEW_PRICE_HT, RUN_ID and the article's CATEGORY), the changes of that run
of at least `notifications.min_change_pct` percent (up or down), for articles whose
category is in `notifications.categories` (empty: all), are sent to every configured
webhook as JSON:

    {"event": "price_change", "run_id": "...", "batch": 1, "batches": 3,
     "changes": [{"price_list_code": ..., "id_art": ..., "id_cln": ..., "old_price": ...,
                  "new_price": ..., "change_pct": ..., ...}, ...]}

with at most `notifications.batch_size` changes per message. Prices are exact decimal
JSON numbers (the payload is built by PostgreSQL as jsonb).

Transactional outbox: `enqueue_changes` writes one row per webhook and batch into
`control.notification_outbox` (idempotent: a run's batches are enqueued once), then
`deliver_pending` POSTs whatever is not delivered yet, oldest first, and records each
attempt (attempts, next_attempt_at, last_error, delivered_at). A failed POST is retried
with exponential backoff, at most `notifications.max_attempts` rounds per call; what is
still undelivered stays in the outbox and the next call (the next run, or
`deliver_pending` by hand) sends it. Nothing here raises into the pricing run: problems
are logged and kept in the outbox. Each message carries the header X-PT2QE-Delivery (the
outbox id), so a receiver can drop a repeat.
"""

from __future__ import annotations

import logging
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

log = logging.getLogger(__name__)

OUTBOX_SCHEMA = "control"
HISTORY = "marts.price_list_items_history"
USER_AGENT = "pt2qe-notify/1"
_SQL_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?")


def _name(value: str) -> str:
    if not _SQL_NAME.fullmatch(value):
        raise ValueError(
            f"expected a lower-case SQL name (schema or schema.table), found {value!r}"
        )
    return value


def outbox_ddl(schema: str = OUTBOX_SCHEMA) -> list[str]:
    schema = _name(schema)
    return [
        f"create schema if not exists {schema}",
        f"""
        create table if not exists {schema}.notification_outbox (
            id bigint generated always as identity primary key,
            webhook text not null,
            run_id text not null,
            batch_number integer not null,
            change_count integer not null,
            payload jsonb not null,
            attempts integer not null default 0,
            next_attempt_at timestamptz not null default now(),
            delivered_at timestamptz,
            last_error text,
            created_at timestamptz not null default now(),
            unique (webhook, run_id, batch_number)
        )
        """,
        f"create index if not exists notification_outbox_pending"
        f" on {schema}.notification_outbox (id) where delivered_at is null",
    ]


def ensure_outbox(conn, schema: str = OUTBOX_SCHEMA) -> None:
    """Create `schema`.notification_outbox when it does not exist (and commit)."""
    for statement in outbox_ddl(schema):
        conn.execute(statement)
    conn.commit()


# --------------------------------------------------------------------------- enqueue

_CHANGES = """
changes as (

    select
        h.*,
        round(100 * (h.new_price_ht - h.old_price_ht) / h.old_price_ht, 2) as change_pct
    from {history} as h
    where
        h.run_id = %(run_id)s
        and coalesce(h.dbt_is_deleted, 'False') <> 'True'
        and h.old_price_ht > 0
        and h.new_price_ht is not null
        and abs(h.new_price_ht - h.old_price_ht) * 100 >= %(min_change_pct)s * h.old_price_ht
        and (cardinality(%(categories)s::text[]) = 0 or h.category = any(%(categories)s::text[]))

)
"""

_ENQUEUE = """
with

{changes},

numbered as (

    select
        *,
        (row_number() over (
            order by price_list_code, id_art, id_cln nulls first, customer_group nulls first,
                channel nulls first, min_quantity
        ) - 1) / %(batch_size)s as batch_index
    from changes

),

batches as (

    select
        batch_index,
        count(*) as change_count,
        jsonb_agg(
            jsonb_build_object(
                'price_list_code', price_list_code,
                'id_art', id_art,
                'id_cln', id_cln,
                'customer_group', customer_group,
                'channel', channel,
                'min_quantity', min_quantity,
                'category', category,
                'old_price', old_price_ht,
                'new_price', new_price_ht,
                'change_pct', change_pct,
                'changed_at', changed_at
            )
            order by price_list_code, id_art, id_cln nulls first, customer_group nulls first,
                channel nulls first, min_quantity
        ) as changes
    from numbered
    group by batch_index

),

total as (

    select count(*) as batches from batches

)

insert into {outbox} (webhook, run_id, batch_number, change_count, payload)
select
    webhooks.name,
    %(run_id)s,
    batches.batch_index + 1,
    batches.change_count,
    jsonb_build_object(
        'event', 'price_change',
        'run_id', %(run_id)s::text,
        'batch', batches.batch_index + 1,
        'batches', total.batches,
        'changes', batches.changes
    )
from batches
cross join total
cross join unnest(%(webhooks)s::text[]) as webhooks (name)
on conflict (webhook, run_id, batch_number) do nothing
"""


@dataclass
class EnqueueResult:
    run_id: str
    changes: int = 0  # changes of the run that pass the filters
    batches: int = 0  # messages per webhook
    enqueued: int = 0  # outbox rows added now (0 when the run was already enqueued)


def enqueue_changes(
    conn, run_id: str, settings, *, history: str = HISTORY, schema: str = OUTBOX_SCHEMA
) -> EnqueueResult:
    """Put the price changes recorded by `run_id` in the outbox, one row per webhook and
    batch, and commit. Idempotent: a batch already enqueued is not added again."""
    ensure_outbox(conn, schema)
    result = EnqueueResult(run_id=run_id)
    webhooks = [w.name for w in settings.webhooks]
    params = {
        "run_id": run_id,
        "min_change_pct": Decimal(str(settings.min_change_pct)),
        "categories": list(settings.categories),
        "batch_size": int(settings.batch_size),
        "webhooks": webhooks,
    }
    changes = _CHANGES.format(history=_name(history))
    count = conn.execute(f"with {changes} select count(*) from changes", params).fetchone()[0]
    result.changes = int(count)
    result.batches = -(-result.changes // int(settings.batch_size)) if result.changes else 0
    if webhooks and result.changes:
        cursor = conn.execute(
            _ENQUEUE.format(changes=changes, outbox=f"{_name(schema)}.notification_outbox"), params
        )
        result.enqueued = cursor.rowcount
    conn.commit()
    return result


# --------------------------------------------------------------------------- deliver


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect would turn the POST into a GET without body: treat it as a failure."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D102
        return None


def post_json(url: str, body: bytes, delivery_id: int, timeout: float) -> None:
    """POST `body` to `url`; raises OSError/HTTPError/ValueError when not answered 2xx."""
    if not url.lower().startswith(("http://", "https://")):
        raise ValueError("the webhook URL must start with http:// or https://")
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-PT2QE-Event": "price_change",
            "X-PT2QE-Delivery": str(delivery_id),
        },
    )
    opener = urllib.request.build_opener(_NoRedirect())
    with opener.open(request, timeout=timeout) as response:
        response.read()
        if not 200 <= response.status < 300:
            raise OSError(f"HTTP {response.status}")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return f"cannot reach the webhook: {exc.reason}"
    return f"{type(exc).__name__}: {exc}"


@dataclass
class DeliveryReport:
    delivered: int = 0  # messages delivered by this call
    failed_attempts: int = 0  # POSTs that failed during this call
    pending: int = 0  # messages still undelivered after this call
    errors: list[str] = field(
        default_factory=list
    )  # one line per failure (no URL: it may hold a token)


def deliver_pending(
    conn,
    settings,
    *,
    schema: str = OUTBOX_SCHEMA,
    retry_delay: float = 1.0,
    max_retry_delay: float = 30.0,
    timeout: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
    post: Callable[[str, bytes, int, float], None] = post_json,
) -> DeliveryReport:
    """Send every undelivered, due message of the outbox, oldest first per webhook.

    Round after round (at most `settings.max_attempts`): each webhook gets its messages
    in order until one fails or is not due yet (its next_attempt_at is later: an earlier
    failure's backoff); a failure is recorded (attempts + 1, last_error, next_attempt_at
    = now + delay) and the webhook waits for the next round, after `retry_delay` x
    2^round seconds (at most `max_retry_delay`). Each message is locked
    while it is sent (FOR UPDATE SKIP LOCKED) and its outcome committed at once, so two
    deliverers never send the same message and a crash loses nothing. Never raises:
    problems are logged and left in the outbox for the next call.
    """
    report = DeliveryReport()
    outbox = f"{_name(schema)}.notification_outbox"
    try:
        ensure_outbox(conn, schema)
        webhooks = {w.name: w for w in settings.webhooks}
        rounds = max(1, int(settings.max_attempts))
        for round_number in range(rounds):
            delay = min(retry_delay * 2**round_number, max_retry_delay)
            pending = conn.execute(
                f"select id, webhook, next_attempt_at <= clock_timestamp() from {outbox}"
                " where delivered_at is null order by id"
            ).fetchall()
            conn.commit()
            blocked: set[str] = (
                set()
            )  # webhooks that wait for the next round (order is kept per webhook)
            retry = False
            for outbox_id, webhook, due in pending:
                if webhook in blocked:
                    continue
                blocked.add(webhook)
                hook = webhooks.get(webhook)
                if hook is None:
                    message = (
                        f"webhook {webhook!r} is not configured: its messages stay in the outbox"
                    )
                    if message not in report.errors:
                        report.errors.append(message)
                    continue
                if not due:  # its backoff is not over: try again after this round's delay
                    retry = True
                    continue
                if _deliver_one(conn, outbox, outbox_id, hook, delay, timeout, post, report):
                    blocked.discard(webhook)
                else:
                    retry = True
            if not retry or round_number == rounds - 1:
                break
            sleep(delay)
        report.pending = conn.execute(
            f"select count(*) from {outbox} where delivered_at is null"
        ).fetchone()[0]
        conn.commit()
    except Exception as exc:  # never fail the pricing run: the outbox keeps everything
        log.exception("price-change notifications: delivery stopped")
        report.errors.append(f"delivery stopped: {_describe(exc)}")
        try:
            conn.rollback()
        except Exception:  # pragma: no cover - the connection itself is gone
            pass
    for line in report.errors:
        log.warning("price-change notifications: %s", line)
    return report


def _deliver_one(
    conn,
    outbox: str,
    outbox_id: int,
    hook,
    delay: float,
    timeout: float,
    post,
    report: DeliveryReport,
) -> bool:
    with conn.transaction():
        row = conn.execute(
            f"select payload::text from {outbox}"
            " where id = %s and delivered_at is null for update skip locked",
            (outbox_id,),
        ).fetchone()
        if row is None:  # delivered meanwhile, or being sent by another deliverer
            return True
        try:
            post(hook.resolve(), row[0].encode("utf-8"), outbox_id, timeout)
        except Exception as exc:
            error = _describe(exc)
            conn.execute(
                f"""
                update {outbox}
                set attempts = attempts + 1, last_error = %s,
                    next_attempt_at = clock_timestamp() + make_interval(secs => %s)
                where id = %s
                """,
                (error[:1000], delay, outbox_id),
            )
            report.failed_attempts += 1
            report.errors.append(f"webhook {hook.name!r}, message {outbox_id}: {error}")
            return False
        conn.execute(
            f"update {outbox} set attempts = attempts + 1, last_error = null,"
            " delivered_at = clock_timestamp() where id = %s",
            (outbox_id,),
        )
        report.delivered += 1
        return True


def notify_run(
    conn, run_id: str, settings, *, history: str = HISTORY, schema: str = OUTBOX_SCHEMA, **delivery
) -> tuple[EnqueueResult | None, DeliveryReport]:
    """After a publication: enqueue the run's changes, then deliver everything pending
    (this run's and any earlier run's left over). Never raises; `delivery` goes to
    deliver_pending (retry_delay, max_retry_delay, timeout, sleep)."""
    try:
        enqueued = enqueue_changes(conn, run_id, settings, history=history, schema=schema)
    except (
        Exception
    ) as exc:  # the history keeps the changes: enqueue_changes can be re-run for this run_id
        log.exception("price-change notifications: could not enqueue the changes of run %s", run_id)
        try:
            conn.rollback()
        except Exception:  # pragma: no cover
            pass
        report = deliver_pending(conn, settings, schema=schema, **delivery)
        report.errors.insert(0, f"could not enqueue the changes of run {run_id}: {_describe(exc)}")
        return None, report
    return enqueued, deliver_pending(conn, settings, schema=schema, **delivery)
