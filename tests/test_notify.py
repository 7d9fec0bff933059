"""Price-change notifications: which changes are sent, in which batches, and that a
receiver that was down gets every change once it is back, once.

The receiver is a real HTTP server on 127.0.0.1 (random port): "down" is the port
closed, "up" the server listening on it. The history table is written by hand with the
columns of marts.price_list_items_history; the outbox lives in a scratch schema.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pt2qe.config import NotificationsConfig, Webhook
from pt2qe.notify import deliver_pending, enqueue_changes, notify_run

pytestmark = pytest.mark.warehouse

D = Decimal
HISTORY_COLUMNS = (
    "item_key, price_list_code, id_art, id_cln, customer_group, channel, min_quantity, old_price_ht, new_price_ht, "
    "changed_at, run_id, source_run_id, category, dbt_is_deleted"
)
# run F3: what the history snapshot recorded after a publication
HISTORY = [
    # id_art, id_cln, old, new, run, category, deleted
    (
        "A1",
        "K1",
        "10.00",
        "10.50",
        "F3",
        "EPICERIE",
        "False",
    ),  # +5.00 %: exactly the threshold, sent
    ("A2", "K1", "10.00", "10.49", "F3", "EPICERIE", "False"),  # +4.90 %: below, not sent
    ("A3", "K2", "20.00", "18.00", "F3", "EPICERIE", "False"),  # -10.00 %: a decrease counts too
    (
        "A4",
        "K2",
        None,
        "5.00",
        "F3",
        "EPICERIE",
        "False",
    ),  # new item without an old price: not a change
    ("A5", "K3", "8.00", "9.00", "F3", "FRAIS", "False"),  # +12.50 %
    ("A7", "K3", "10.00", "20.00", "F3", "FRAIS", "True"),  # removed item: not a price change
    ("A8", "K3", "10.00", "20.00", "F2", "FRAIS", "False"),  # another run
    ("A6", "K3", "3.00", "3.30", "F3", "EPICERIE", "False"),  # +10.00 %
]
CODE = "PT2QE_2025-11-17"


def change(id_art, id_cln, old, new, pct, category):
    return {
        "price_list_code": CODE,
        "id_art": id_art,
        "id_cln": id_cln,
        "customer_group": None,
        "channel": None,
        "min_quantity": 1,
        "category": category,
        "old_price": D(old),
        "new_price": D(new),
        "change_pct": D(pct),
    }


# sent for F3 with min_change_pct 5 and every category, ordered by list, article, customer
EXPECTED_F3 = [
    change("A1", "K1", "10.00", "10.50", "5.00", "EPICERIE"),
    change("A3", "K2", "20.00", "18.00", "-10.00", "EPICERIE"),
    change("A5", "K3", "8.00", "9.00", "12.50", "FRAIS"),
    change("A6", "K3", "3.00", "3.30", "10.00", "EPICERIE"),
]


class Receiver:
    """A webhook receiver on 127.0.0.1:port that records what it gets; `statuses` are
    the answers to give, in order (then 200)."""

    def __init__(self, port: int, statuses: list[int] | None = None) -> None:
        self.requests: list[dict] = []
        self.statuses = list(statuses or [])
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                receiver.requests.append(
                    {
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body,
                        "status": status,
                    }
                )
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def accepted(self) -> list[dict]:
        return [
            json.loads(r["body"], parse_float=Decimal) for r in self.requests if r["status"] == 200
        ]


def napper(slept: list[float]):
    """A sleep that records its delays (the retry delays of the tests are tiny)."""

    def nap(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)

    return nap


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture()
def scratch(pg):
    name = f"nt_test_{uuid.uuid4().hex[:8]}"
    pg.execute(f"create schema {name}")
    pg.execute(
        f"""create table {name}.history (item_key text, price_list_code text, id_art text, id_cln text, customer_group text,
        channel text, min_quantity integer, old_price_ht numeric, new_price_ht numeric, changed_at timestamptz, run_id text,
        source_run_id text, category text, dbt_is_deleted text)"""
    )
    add_history(pg, name, HISTORY)
    pg.commit()
    yield name
    pg.rollback()
    pg.execute(f"drop schema if exists {name} cascade")
    pg.commit()


def add_history(pg, schema, rows):
    with pg.cursor() as cur:
        cur.executemany(
            f"insert into {schema}.history ({HISTORY_COLUMNS}) values (%s, %s, %s, %s, null, null, 1, %s, %s, now(), %s, 'R1', %s, %s)",
            [
                (f"{CODE}|{a}|{c}|||1", CODE, a, c, old, new, run, cat, deleted)
                for a, c, old, new, run, cat, deleted in rows
            ],
        )
    pg.commit()


def settings(url="http://127.0.0.1:1/hook", **kwargs) -> NotificationsConfig:
    values = {
        "min_change_pct": 5.0,
        "categories": (),
        "batch_size": 2,
        "max_attempts": 3,
        "webhooks": (Webhook("erp", url),),
    }
    values.update(kwargs)
    return NotificationsConfig(**values)


def outbox(pg, schema):
    return pg.execute(
        f"select id, webhook, run_id, batch_number, change_count, attempts, delivered_at is not null, last_error from {schema}.notification_outbox order by id"
    ).fetchall()


def without_times(changes: list[dict]) -> list[dict]:
    return [{k: v for k, v in c.items() if k != "changed_at"} for c in changes]


def test_changes_above_the_threshold_are_enqueued_in_batches(pg, scratch):
    result = enqueue_changes(pg, "F3", settings(), history=f"{scratch}.history", schema=scratch)
    assert (result.changes, result.batches, result.enqueued) == (4, 2, 2)
    rows = outbox(pg, scratch)
    assert [r[1:7] for r in rows] == [("erp", "F3", 1, 2, 0, False), ("erp", "F3", 2, 2, 0, False)]
    payloads = [
        json.loads(p, parse_float=Decimal)
        for (p,) in pg.execute(
            f"select payload::text from {scratch}.notification_outbox order by id"
        )
    ]
    assert [(p["event"], p["run_id"], p["batch"], p["batches"]) for p in payloads] == [
        ("price_change", "F3", 1, 2),
        ("price_change", "F3", 2, 2),
    ]
    assert without_times(payloads[0]["changes"] + payloads[1]["changes"]) == EXPECTED_F3
    # enqueueing the same run again adds nothing
    assert (
        enqueue_changes(pg, "F3", settings(), history=f"{scratch}.history", schema=scratch).enqueued
        == 0
    )
    assert len(outbox(pg, scratch)) == 2


def test_categories_and_threshold_filter_the_changes(pg, scratch):
    only_frais = enqueue_changes(
        pg, "F3", settings(categories=("FRAIS",)), history=f"{scratch}.history", schema=scratch
    )
    assert (only_frais.changes, only_frais.enqueued) == (1, 1)
    (payload,) = pg.execute(f"select payload::text from {scratch}.notification_outbox").fetchone()
    assert without_times(json.loads(payload, parse_float=Decimal)["changes"]) == [EXPECTED_F3[2]]
    # 10 %: only A3 (-10 %), A5 (+12.5 %), A6 (+10 %); no webhook: counted, nothing enqueued
    counted = enqueue_changes(
        pg,
        "F3",
        settings(min_change_pct=10, webhooks=()),
        history=f"{scratch}.history",
        schema=scratch,
    )
    assert (counted.changes, counted.batches, counted.enqueued) == (3, 2, 0)


def test_a_receiver_that_was_down_gets_every_change_once_it_is_back(pg, scratch):
    port = free_port()  # nobody listens: the receiver is down
    config = settings(f"http://127.0.0.1:{port}/price-changes")
    slept: list[float] = []
    enqueued, report = notify_run(
        pg,
        "F3",
        config,
        history=f"{scratch}.history",
        schema=scratch,
        retry_delay=0.01,
        sleep=napper(slept),
    )
    assert enqueued.enqueued == 2
    # 3 rounds: the first message fails each time, the second waits behind it; backoff 0.01, 0.02
    assert (report.delivered, report.failed_attempts, report.pending) == (0, 3, 2)
    assert slept == [0.01, 0.02]
    rows = outbox(pg, scratch)
    assert [(r[5], r[6]) for r in rows] == [(3, False), (0, False)]
    assert "cannot reach the webhook" in rows[0][7]

    receiver = Receiver(port)  # back up, on the same port
    try:
        pg.execute("select pg_sleep(0.05)")  # the last retry delay has passed
        report = deliver_pending(pg, config, schema=scratch, retry_delay=0.01, sleep=napper(slept))
        assert (report.delivered, report.failed_attempts, report.pending) == (2, 0, 0)
        accepted = receiver.accepted()
        assert [(p["batch"], p["batches"]) for p in accepted] == [(1, 2), (2, 2)]
        assert without_times(accepted[0]["changes"] + accepted[1]["changes"]) == EXPECTED_F3
        first = receiver.requests[0]
        assert first["path"] == "/price-changes"
        assert first["headers"]["content-type"] == "application/json"
        assert first["headers"]["x-pt2qe-delivery"] == str(rows[0][0])
        # a later call sends nothing again, and a second publication of the run adds nothing
        assert deliver_pending(pg, config, schema=scratch).delivered == 0
        assert (
            notify_run(pg, "F3", config, history=f"{scratch}.history", schema=scratch)[0].enqueued
            == 0
        )
        assert len(receiver.requests) == 2
        assert [(r[5], r[6], r[7]) for r in outbox(pg, scratch)] == [
            (4, True, None),
            (1, True, None),
        ]
    finally:
        receiver.stop()


def test_an_error_answer_is_retried_with_backoff_in_the_same_call(pg, scratch):
    receiver = Receiver(free_port(), statuses=[500, 503])
    try:
        config = settings(f"http://127.0.0.1:{receiver.server.server_port}/", batch_size=500)
        slept: list[float] = []
        _, report = notify_run(
            pg,
            "F3",
            config,
            history=f"{scratch}.history",
            schema=scratch,
            retry_delay=0.01,
            sleep=napper(slept),
        )
        assert (report.delivered, report.failed_attempts, report.pending) == (1, 2, 0)
        assert slept == [0.01, 0.02]
        assert [r["status"] for r in receiver.requests] == [500, 503, 200]
        assert len(receiver.accepted()[0]["changes"]) == 4  # one batch of at most 500
        assert [(r[5], r[6]) for r in outbox(pg, scratch)] == [(3, True)]
        assert "HTTP 500" in report.errors[0]
    finally:
        receiver.stop()


def test_delivery_problems_never_raise_and_keep_the_messages(pg, scratch, monkeypatch):
    monkeypatch.delenv("PT2QE_TEST_HOOK", raising=False)
    config = settings("env:PT2QE_TEST_HOOK")
    _, report = notify_run(
        pg,
        "F3",
        config,
        history=f"{scratch}.history",
        schema=scratch,
        retry_delay=0.01,
        sleep=time.sleep,
    )
    assert report.pending == 2 and "PT2QE_TEST_HOOK" in report.errors[0]
    # a webhook removed from the configuration: its messages wait, nothing is lost
    other = settings("http://127.0.0.1:1/", webhooks=(Webhook("bi", "http://127.0.0.1:1/"),))
    report = deliver_pending(pg, other, schema=scratch, retry_delay=0.01, sleep=time.sleep)
    assert report.pending == 2 and "'erp' is not configured" in report.errors[0]
    # no history table at all: reported, not raised
    enqueued, report = notify_run(
        pg,
        "F3",
        config,
        history=f"{scratch}.missing",
        schema=scratch,
        retry_delay=0.01,
        sleep=time.sleep,
    )
    assert enqueued is None and "could not enqueue" in report.errors[0]
    # the variable set: everything is delivered
    receiver = Receiver(free_port())
    try:
        monkeypatch.setenv(
            "PT2QE_TEST_HOOK", f"http://127.0.0.1:{receiver.server.server_port}/hook"
        )
        pg.execute("select pg_sleep(0.05)")
        report = deliver_pending(pg, config, schema=scratch, retry_delay=0.01, sleep=time.sleep)
        assert (report.delivered, report.pending) == (2, 0)
        assert (
            without_times(receiver.accepted()[0]["changes"] + receiver.accepted()[1]["changes"])
            == EXPECTED_F3
        )
    finally:
        receiver.stop()


def test_only_http_urls_are_posted_to(pg, scratch):
    config = settings("file:///etc/passwd")
    _, report = notify_run(
        pg,
        "F3",
        config,
        history=f"{scratch}.history",
        schema=scratch,
        retry_delay=0.01,
        sleep=time.sleep,
    )
    assert report.delivered == 0 and "http:// or https://" in report.errors[0]
