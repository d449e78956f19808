"""The fault suite's driver (issue 10): a steady stream of uniquely signed webhooks against a real
stack, every 202 recorded; faults injected at seeded random moments by the scenario; then the
pipeline is left to drain and checked, Jepsen-style, from the audit database and the agent:

- every accepted signal (answered 202) has its signal, its one decision, one report and one fill
  in the audit (else it is *lost*), and so does every other signal that was stored;
- no event twice: the streams hold exactly what the audit recorded, no order has a second report
  or fill, nothing was dead-lettered (else *duplicated*);
- the agent's positions equal those recomputed from the audited fills (quantities live; quantities,
  average prices and realised P&L after a kill -9 and restart of the agent);
- every signal in the audit was sent by the load (nothing forged).

Requests that got no 202 (the sender gave up, or the gateway died before answering) may or may
not have been stored: they are counted as *indeterminate*, never as lost.

    load = Load(stack, "gwkill", rate=60)
    with load.running():
        load.sleep_random(0.5, 1.5); fault(); load.mark_fault(start, end)
    row = check(self, stack, load, "2 kill -9 of the gateway")

TRADEPIPE_FAULTS_SEED fixes the random moments (printed on every run); TRADEPIPE_FAULTS_SCALE
lengthens the load and the faults (scripts/faults runs long rounds); TRADEPIPE_FAULTS_REPORT
names a JSON-lines file each scenario appends its row to.
"""
import contextlib
import decimal
import json
import os
import random
import sqlite3
import threading
import time

from stack import signed_headers

SCALE = float(os.environ.get("TRADEPIPE_FAULTS_SCALE", "1"))
# The events one accepted market signal leaves in the audit, one each (envelope v2: the fill is
# the execution report of a filled order).
PATH = ("signal", "order", "fill")


def seed():
    value = int(os.environ.get("TRADEPIPE_FAULTS_SEED", str(random.SystemRandom().randrange(1 << 31))))
    print(f"fault suite seed: TRADEPIPE_FAULTS_SEED={value}", flush=True)
    return value


class Load:
    """Senders that behave like a webhook provider: each id is retried on 5xx and connection
    errors (same id, same body) until accepted or `give_up_s` after its first attempt."""

    SYMBOLS = ("AAPL", "MSFT", "NVDA", "TSLA", "AMZN")

    def __init__(self, stack, name, rate=60, senders=4, give_up_s=30):
        self.stack = stack
        self.name = name
        self.rate = rate
        self.senders = senders
        self.give_up_s = give_up_s
        self.rng = random.Random(seed())
        self.sent = {}          # id -> body (every id tried)
        self.accepted = {}      # id -> time of its 202
        self.refused = {}       # id -> last status (4xx: a bug here)
        self.statuses = {}      # status -> count of answers
        self.faults = []        # (start, end) of each fault
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = []
        self.started = self.stopped = None

    def _body(self, n):
        side = "buy" if n % 3 else "sell"
        return json.dumps({"symbol": self.SYMBOLS[n % len(self.SYMBOLS)], "action": side,
                           "qty": 1 + n % 4}).encode()

    def _count(self, status):
        with self._lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1

    def _send(self, msg_id, body):
        first = time.time()
        while time.time() - first < self.give_up_s:
            try:
                conn = self.stack.connection()
                conn.request("POST", "/webhook/demo", body=body, headers=signed_headers(msg_id, body))
                r = conn.getresponse()
                r.read()
                conn.close()
                self._count(r.status)
                if r.status == 202:
                    with self._lock:
                        self.accepted[msg_id] = time.time()
                    return
                if r.status < 500:
                    with self._lock:
                        self.refused[msg_id] = r.status
                    return
            except OSError:
                self._count("connection error")
            time.sleep(0.2)

    def _sender(self, index):
        interval = self.senders / self.rate
        n = index
        next_at = time.time()
        while not self._stop.is_set():
            msg_id = f"{self.name}_{n}"
            body = self._body(n)
            with self._lock:
                self.sent[msg_id] = body
            self._send(msg_id, body)
            n += self.senders
            next_at += interval
            time.sleep(max(0.0, next_at - time.time()))

    @contextlib.contextmanager
    def running(self):
        self.started = time.time()
        self._threads = [threading.Thread(target=self._sender, args=(i,), daemon=True) for i in range(self.senders)]
        for t in self._threads:
            t.start()
        try:
            yield self
        finally:
            self._stop.set()
            for t in self._threads:
                t.join()
            self.stopped = time.time()

    def sleep_random(self, low, high):
        time.sleep(self.rng.uniform(low, high) * SCALE)

    def mark_fault(self, start, end):
        self.faults.append((start, end))

    def accepted_during_faults(self):
        """202s per second while a fault was on."""
        seconds = sum(end - start for start, end in self.faults)
        count = sum(1 for t in self.accepted.values() if any(s <= t <= e for s, e in self.faults))
        return count / seconds if seconds > 0 else None


def _audit(stack):
    with sqlite3.connect(f"file:{stack.db_path}?mode=ro", uri=True) as db:
        return db.execute("SELECT type, event_id, correlation_id, envelope FROM events").fetchall()


def _net_positions(stack):
    """{symbol: (qty, avg_price, realised_pnl)} from the audited fills in EXECUTIONS order, every
    product and quotient truncated toward zero to 8 places as events::Decimal does."""
    def trunc(x):
        return x.quantize(decimal.Decimal("0.00000001"), rounding=decimal.ROUND_DOWN)

    with sqlite3.connect(f"file:{stack.db_path}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT envelope FROM events WHERE type='fill' ORDER BY stream_seq").fetchall()
    book = {}
    for (envelope,) in rows:
        e = json.loads(envelope)
        p = e["payload"]
        qty, price, buy = decimal.Decimal(p["qty"]), decimal.Decimal(p["price"]), p["side"] == "buy"
        pos, avg, realised = book.get(e["symbol"], (decimal.Decimal(0),) * 3)
        after = pos + (qty if buy else -qty)
        if pos == 0 or (pos > 0) == buy:
            avg = trunc((trunc(abs(pos) * avg) + trunc(qty * price)) / abs(after))
        else:
            pnl = trunc((price - avg) * min(qty, abs(pos)))
            realised += pnl if pos > 0 else -pnl
            avg = decimal.Decimal(0) if after == 0 else (price if (after > 0) != (pos > 0) else avg)
        book[e["symbol"]] = (after, avg, realised)
    return book


def check(test, stack, load, scenario, drain_timeout=120):
    """Waits until every accepted signal is audited to its fill (or the timeout) and every
    durable is idle, asserts the guarantees above and returns the report row (also appended to TRADEPIPE_FAULTS_REPORT)."""
    accepted = set(load.accepted)
    recovered_at = None
    deadline = time.time() + drain_timeout
    rows = []
    while time.time() < deadline:
        rows = _audit(stack)
        done = {corr for kind, _, corr, _ in rows if kind == "fill"}
        signals = {eid for kind, eid, _, _ in rows if kind == "signal"}
        if {f"demo:{i}" for i in accepted} <= done and signals <= done:
            recovered_at = time.time()
            break
        time.sleep(0.2)
    # Then until every durable has nothing pending and nothing unacked: a redelivery after the ack
    # wait (30 s) that made a second event would be recorded before the checks below.
    idle_deadline = time.time() + 60
    while time.time() < idle_deadline:
        _, consumers = stack.jetstream()
        if all(c["num_pending"] == 0 and c["num_ack_pending"] == 0 for c in consumers.values()):
            break
        time.sleep(0.2)
    time.sleep(0.5)
    rows = _audit(stack)
    by_type = {}
    for kind, eid, corr, envelope in rows:
        by_type.setdefault(kind, {}).setdefault(corr, []).append((eid, envelope))

    def complete(signal_id):
        return all(len(by_type.get(kind, {}).get(signal_id, [])) == 1 for kind in PATH)

    lost = sorted(i for i in accepted if not complete(f"demo:{i}"))
    # Every signal that was stored is carried through, accepted (202) or not.
    unfinished = sorted(sid for sid in by_type.get("signal", {}) if not complete(sid))
    duplicated = sorted(corr for kind in PATH + ("exec_report",)
                        for corr, events in by_type.get(kind, {}).items() if len(events) > 1)
    sent_ids = {f"demo:{i}" for i in load.sent}
    forged = sorted(corr for corr in by_type.get("signal", {}) if corr not in sent_ids)
    audited = sum(1 for i in accepted if complete(f"demo:{i}"))
    indeterminate = len(by_type.get("signal", {})) - audited

    streams = stack.event_streams()
    counts = {kind: sum(len(v) for v in by_type.get(kind, {}).values())
              for kind in ("signal", "order", "exec_report", "fill")}
    # Stored, not held: SIGNALS (interest retention) drops what every consumer has acked.
    stream_counts = {n: s["last_seq"] for n, s in streams.items()}
    expected_streams = {"SIGNALS": counts["signal"], "ORDERS": counts["order"],
                        "EXECUTIONS": counts["exec_report"] + counts["fill"], "DEADLETTERS": 0}

    # Positions, average prices and realised P&L recomputed from the audited fills, in EXECUTIONS
    # order, the way the agent nets them (docs/trading-core.md "Positions").
    # Live, the quantities (a sum, whatever order the fills came in); after a kill -9 and a restart
    # of the agent, everything: it rebuilds from EXECUTIONS in stream order, and a fill whose
    # delivery was lost and redelivered late was applied out of that order while it ran.
    recomputed = _net_positions(stack)

    def agent_positions():
        status, text = stack.get("agent", "/positions")
        if status != 200:
            return None
        return {k: (decimal.Decimal(v["qty"]), decimal.Decimal(v["avg_price"]), decimal.Decimal(v["realised_pnl"]))
                for k, v in json.loads(text)["symbols"].items()}

    live = agent_positions()
    live_qty = {k: v[0] for k, v in (live or {}).items() if v[0] != 0}
    recomputed_qty = {k: v[0] for k, v in recomputed.items() if v[0] != 0}
    stack.kill("agent")
    stack.restart("agent")
    restarted = agent_positions()

    fault_end = max((end for _, end in load.faults), default=load.stopped)
    after = [t for t in load.accepted.values() if t >= fault_end]
    during = load.accepted_during_faults()
    row = {
        "scenario": scenario,
        "sent": len(load.sent),
        "accepted": len(accepted),
        "audited": audited,
        "lost": len(lost),
        "duplicated": len(duplicated),
        "indeterminate": indeterminate,
        # serving again: the fault's end to the first 202 after it
        "recover_s": round(min(after) - fault_end, 2) if after else None,
        # caught up: the load's end to every accepted signal audited to its fill
        "drain_s": round(max(0.0, recovered_at - load.stopped), 1) if recovered_at else None,
        "during_fault_per_s": round(during, 1) if during is not None else None,
        "load_per_s": load.rate,
        "statuses": {str(k): v for k, v in sorted(load.statuses.items(), key=lambda kv: str(kv[0]))},
    }
    print(json.dumps(row), flush=True)
    if os.environ.get("TRADEPIPE_FAULTS_REPORT"):
        with open(os.environ["TRADEPIPE_FAULTS_REPORT"], "a") as f:
            f.write(json.dumps(row) + "\n")

    test.assertEqual(load.refused, {}, "a valid webhook was refused with a 4xx")
    test.assertEqual(lost, [], "accepted (202) but not audited to its fill")
    test.assertEqual(unfinished, [], "a stored signal without its decision, report or fill")
    test.assertEqual(duplicated, [], "an event recorded twice")
    test.assertEqual(forged, [], "a signal nobody sent")
    test.assertEqual(stream_counts, expected_streams, "the streams stored exactly what the audit recorded")
    test.assertEqual(live_qty, recomputed_qty, "the agent's positions against the audited fills")
    test.assertEqual(restarted, recomputed,
                     "after a restart, the agent's positions (qty, average price, realised P&L) against the audited fills")
    test.assertGreater(len(accepted), 0)
    return row
