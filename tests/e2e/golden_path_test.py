"""End to end on real servers: 200 distinct signed webhooks plus 50 repeats through gateway,
agent, exec-sim and audit, over a real nats-server. Asserts what reaches each stream, the
audit database and every /metrics (linted by promtool), and validates every recorded event against proto/schemas.

Run: ctest -R e2e_golden_path   (or python3 tests/e2e/golden_path_test.py --bin-dir build/release/services)
"""
import argparse
import collections
import concurrent.futures
import decimal
import glob
import json
import os
import sqlite3
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from stack import Stack, signed_headers  # noqa: E402

import jsonschema  # noqa: E402  (Debian's python3-jsonschema)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN_DIR = os.path.join(ROOT, "build", "release", "services")
DISTINCT = 200
REPEATS = 50
MAX_QTY = 150  # signals with qty 151..200 are rejected


def schema_validators():
    store = {}
    for path in glob.glob(os.path.join(ROOT, "proto", "schemas", "*.schema.json")):
        with open(path) as f:
            schema = json.load(f)
        store[schema["$id"]] = schema
    validators = {}
    for sid, schema in store.items():
        name = sid.rsplit("/", 1)[1].removesuffix(".schema.json")
        resolver = jsonschema.RefResolver.from_schema(schema, store=store)
        validators[name] = jsonschema.Draft202012Validator(schema, resolver=resolver)
    return validators


def post(conn, path, body, headers):
    conn.request("POST", path, body=body, headers=headers)
    r = conn.getresponse()
    return r.status, dict(r.getheaders()), r.read().decode()


class GoldenPath(unittest.TestCase):
    def test_webhooks_become_signals_orders_fills_and_audit_rows(self):
        with Stack(BIN_DIR, agent_args=["--max-order-qty", str(MAX_QTY)]) as stack:
            try:
                self.run_scenario(stack)
            except BaseException:
                stack.dump_logs()
                raise

    def run_scenario(self, stack):
        symbols = ["AAPL", "MSFT", "BRK.B", "BTC/USD"]
        requests = []
        for i in range(DISTINCT):
            body = json.dumps({"symbol": symbols[i % len(symbols)], "action": "buy" if i % 3 else "sell",
                               "qty": i + 1, "strategy": "e2e"}).encode()
            msg_id = f"e2e_{i:04d}"
            requests.append((msg_id, body, signed_headers(msg_id, body)))

        def send(chunk):
            conn = stack.connection()  # keep-alive per worker
            out = [(msg_id, *post(conn, "/webhook/demo", body, headers)) for msg_id, body, headers in chunk]
            conn.close()
            return out

        chunks = [requests[i::8] for i in range(8)]
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            first = [r for result in pool.map(send, chunks) for r in result]
        statuses = collections.Counter(status for _, status, _, _ in first)
        self.assertEqual(statuses, {202: DISTINCT}, f"first sends: {statuses}; e.g. {first[:2]}")
        answers = {msg_id: body for msg_id, _, _, body in first}
        seqs = {json.loads(body)["seq"] for body in answers.values()}
        self.assertEqual(len(seqs), DISTINCT, "every accepted signal has its own stream sequence")

        # 50 repeats: replayed with the first answer, never published again.
        conn = stack.connection()
        for msg_id, body, headers in requests[:REPEATS]:
            status, resp_headers, text = post(conn, "/webhook/demo", body, headers)
            self.assertEqual(status, 202, text)
            self.assertEqual(resp_headers.get("Idempotent-Replayed"), "true")
            self.assertEqual(text, answers[msg_id])

        # Refused requests publish nothing.
        body = b'{"symbol":"AAPL","action":"buy","qty":1}'
        bad = signed_headers("e2e_bad", body)
        bad["webhook-signature"] = "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
        self.assertEqual(post(conn, "/webhook/demo", body, bad)[0], 401)
        self.assertEqual(post(conn, "/webhook/nope", body, signed_headers("e2e_nope", body))[0], 404)
        conn.close()

        expected = {"signal": DISTINCT, "order": MAX_QTY, "order_rejected": DISTINCT - MAX_QTY,
                    "fill": MAX_QTY}
        counts = stack.wait_for_audit_counts(expected)
        self.assertEqual(counts, expected, "audit rows by type")

        # No event twice on the wire: each stream holds exactly the events, all consumers caught up.
        deadline = time.time() + 10
        while True:
            streams, consumers = stack.jetstream()
            idle = all(c["num_pending"] == 0 and c["num_ack_pending"] == 0 for c in consumers.values())
            if idle or time.time() > deadline:
                break
            time.sleep(0.2)
        # Stored (last_seq), and held: SIGNALS (interest retention) lets go of what both its
        # consumers acked, the other streams keep their history.
        streams = {name: s for name, s in streams.items() if name != "AGENT_STATE"}  # the agent's snapshots
        self.assertEqual({name: s["last_seq"] for name, s in streams.items()},
                         {"SIGNALS": DISTINCT, "ORDERS": DISTINCT, "EXECUTIONS": MAX_QTY, "DEADLETTERS": 0})
        self.assertEqual({name: s["messages"] for name, s in streams.items()},
                         {"SIGNALS": 0, "ORDERS": DISTINCT, "EXECUTIONS": MAX_QTY, "DEADLETTERS": 0})
        self.assertEqual(len(consumers), 9)  # 7 on the event streams, 2 recording give-up advisories
        for name, c in consumers.items():
            self.assertEqual((c["num_pending"], c["num_ack_pending"]), (0, 0), f"consumer {name} not drained")

        with sqlite3.connect(f"file:{stack.db_path}?mode=ro", uri=True) as db:
            rows = db.execute("SELECT type, event_id, correlation_id, envelope FROM events").fetchall()
            dead = db.execute("SELECT count(*) FROM dead_letters").fetchone()[0]
            given_up = db.execute("SELECT count(*) FROM given_up").fetchone()[0]
        self.assertEqual(dead, 0)
        self.assertEqual(given_up, 0)
        by_corr = collections.defaultdict(list)
        validators = schema_validators()
        for type_, event_id, corr, envelope in rows:
            event = json.loads(envelope)
            errors = sorted(validators[type_].iter_errors(event), key=str)
            self.assertFalse(errors, f"{event_id} does not match proto/schemas/{type_}: {errors[:1]}")
            by_corr[corr].append(event)
        self.assertEqual(len(by_corr), DISTINCT)
        for corr, events in by_corr.items():
            types = collections.Counter(e["type"] for e in events)
            signal = next(e for e in events if e["type"] == "signal")
            qty = int(signal["payload"]["qty"])
            if qty <= MAX_QTY:
                self.assertEqual(types, {"signal": 1, "order": 1, "fill": 1}, corr)
                order = next(e for e in events if e["type"] == "order")
                fill = next(e for e in events if e["type"] == "fill")
                self.assertEqual(order["id"], corr + "/order")
                self.assertEqual(fill["payload"]["order_id"], order["id"])
                self.assertEqual(fill["payload"]["qty"], signal["payload"]["qty"])
                self.assertEqual(fill["payload"]["side"], signal["payload"]["action"])
                self.assertEqual(fill["causation_id"], order["id"])
            else:
                self.assertEqual(types, {"signal": 1, "order_rejected": 1}, corr)
                rejection = next(e for e in events if e["type"] == "order_rejected")
                self.assertEqual(rejection["payload"]["reason"], "max_order_qty")

        # Every /metrics answers and counts what happened.
        gw = stack.metrics("gateway")
        self.assertEqual(gw["tradepipe_gateway_accepted_total"], DISTINCT)
        self.assertEqual(gw["tradepipe_gateway_replays_total"], REPEATS)
        self.assertEqual(gw['tradepipe_gateway_responses_total{status="202"}'], DISTINCT + REPEATS)
        self.assertEqual(gw['tradepipe_gateway_responses_total{status="401"}'], 1)
        self.assertEqual(gw['tradepipe_gateway_rejected_total{error="bad_signature"}'], 1)
        self.assertEqual(gw['tradepipe_gateway_rejected_total{error="unknown_source"}'], 1)
        ag = stack.metrics("agent")
        self.assertEqual(ag["tradepipe_agent_signals_total"], DISTINCT)
        self.assertEqual(ag["tradepipe_agent_orders_total"], MAX_QTY)
        self.assertEqual(ag['tradepipe_agent_rejections_total{reason="max_order_qty"}'], DISTINCT - MAX_QTY)
        # Batches and messages fetched: every signal once (no redelivery in a clean run), in at
        # least one batch and at most one per signal.
        fetched = ag['tradepipe_consumer_messages_total{durable="agent-signals"}']
        batches = ag['tradepipe_consumer_batches_total{durable="agent-signals"}']
        self.assertEqual(fetched, DISTINCT)
        self.assertTrue(1 <= batches <= DISTINCT, batches)
        ex = stack.metrics("exec-sim")
        self.assertEqual(ex["tradepipe_execsim_orders_total"], MAX_QTY)
        self.assertEqual(ex["tradepipe_execsim_fills_total"], MAX_QTY)
        self.assertEqual(ex["tradepipe_execsim_multi_level_orders_total"], 0)  # the default depth holds them
        # The book the next order meets, and an order's last state.
        status, book = stack.get("exec-sim", "/book/AAPL")
        self.assertEqual(status, 200, book)
        book = json.loads(book)
        self.assertEqual((len(book["bids"]), len(book["asks"])), (5, 5))
        self.assertLess(decimal.Decimal(book["bids"][0]["price"]), decimal.Decimal(book["asks"][0]["price"]))
        status, state = stack.get("exec-sim", "/orders/demo:e2e_0001%2Forder")
        self.assertEqual(status, 200, state)
        state = json.loads(state)
        self.assertEqual((state["status"], state["fills"], state["leaves_qty"]), ("filled", 1, "0"))
        self.assertEqual(stack.get("exec-sim", "/orders/demo:nothing/order")[0], 404)
        self.assertEqual(stack.get("exec-sim", "/book/no%20spaces")[0], 400)
        au = stack.metrics("audit")
        recorded = {k: v for k, v in au.items() if k.startswith("tradepipe_audit_events_recorded_total")}
        self.assertEqual(sum(recorded.values()), 2 * DISTINCT + MAX_QTY, recorded)
        # Every signal's final event (its fill or its rejection) timed once, end to end and by stage.
        self.assertEqual(au["tradepipe_end_to_end_seconds_count"], DISTINCT)
        self.assertEqual(au['tradepipe_stage_seconds_count{stage="filled"}'], MAX_QTY)
        self.assertEqual(au['tradepipe_stage_seconds_count{stage="recorded"}'], DISTINCT)
        # Every durable consumer reports its lag, and each drains to 0 (the agent's fills consumer
        # may still be a batch behind the audit at this point: wait for it).
        def lags():
            found = {}
            for service in ("agent", "exec-sim", "audit"):
                found.update({k: v for k, v in stack.metrics(service).items()
                              if k.startswith("tradepipe_consumer_pending_messages")})
            return found
        drained = {f'tradepipe_consumer_pending_messages{{durable="{d}"}}': 0 for d in
                   ("agent-signals", "agent-fills", "exec-sim-orders", "exec-sim-cancels", "audit-signals",
                    "audit-orders", "audit-executions", "audit-max-deliveries", "audit-terminated")}
        deadline = time.time() + 10
        while lags() != drained and time.time() < deadline:
            time.sleep(0.1)
        self.assertEqual(lags(), drained)
        # Each service times its own stages (docs/metrics.md): once per webhook that reached the
        # idempotency store (replays too), per signal, per order, per recorded event.
        stage = 'tradepipe_{}_stage_seconds_count{{stage="{}"}}'.format
        self.assertEqual(gw[stage("gateway", "verify")], DISTINCT + REPEATS)
        self.assertEqual(gw[stage("gateway", "idempotency")], DISTINCT + REPEATS)
        self.assertEqual(gw[stage("gateway", "publish")], DISTINCT)
        for name in ("consume", "decide", "publish"):
            self.assertEqual(ag[stage("agent", name)], DISTINCT, name)
        for name in ("consume", "fill", "publish"):
            self.assertEqual(ex[stage("execsim", name)], MAX_QTY, name)
        self.assertEqual(au[stage("audit", "consume")], 2 * DISTINCT + MAX_QTY)
        self.assertEqual(au[stage("audit", "write")], 2 * DISTINCT + MAX_QTY)
        for service in ("gateway", "agent", "exec-sim", "audit"):
            status, text = stack.get(service, "/metrics")
            self.assertEqual(status, 200)
            # Prometheus' own linter (Debian's prometheus package): names, suffixes, help texts.
            lint = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
            self.assertEqual(lint.returncode, 0, f"promtool check metrics on {service}: {lint.stdout}{lint.stderr}")
            m = stack.metrics(service)
            build = [k for k, v in m.items() if k.startswith("tradepipe_build_info{") and v == 1]
            self.assertEqual(len(build), 1, build)
            self.assertIn(f'service="{service}"', build[0])
            self.assertGreater(m["process_resident_memory_bytes"], 0)
            self.assertEqual(stack.get(service, "/health")[0], 200)
            self.assertEqual(stack.get(service, "/ready")[0], 200)

        # The agent's positions follow the fills: buys add, sells subtract.
        _, positions = stack.get("agent", "/positions")
        positions = json.loads(positions)
        expected_positions = collections.Counter()
        for i in range(MAX_QTY):
            expected_positions[symbols[i % len(symbols)]] += (i + 1) if i % 3 else -(i + 1)
        self.assertEqual({k: int(decimal.Decimal(v["qty"])) for k, v in positions["symbols"].items()},
                         dict(expected_positions))

        # The trace of one signal shows its whole path with stage latencies.
        status, trace = stack.get("audit", "/trace/demo:e2e_0001")
        self.assertEqual(status, 200)
        trace = json.loads(trace)
        self.assertEqual([e["type"] for e in trace["events"]], ["signal", "order", "fill"])
        self.assertEqual(trace["final_type"], "fill")
        self.assertGreater(trace["end_to_end_ms"], 0)
        self.assertEqual(stack.get("audit", "/trace/demo:missing")[0], 404)

    def test_decimal_quantities_arrive_exactly_in_the_order_and_the_fill(self):
        # A JSON number 0.3 (not 0.29999...) and a string "0.00001": exact decimals end to end.
        with Stack(BIN_DIR) as stack:
            for msg_id, qty in (("dec_1", "0.3"), ("dec_2", '"0.00001"')):
                body = f'{{"symbol":"BTCUSD","action":"buy","qty":{qty}}}'.encode()
                status, _, text = stack.post_webhook(msg_id, body)
                self.assertEqual(status, 202, text)
            counts = stack.wait_for_audit_counts({"signal": 2, "order": 2, "fill": 2})
            self.assertEqual(counts, {"signal": 2, "order": 2, "fill": 2})
            for msg_id, expected in (("dec_1", "0.3"), ("dec_2", "0.00001")):
                status, trace = stack.get("audit", f"/trace/demo:{msg_id}")
                self.assertEqual(status, 200)
                events = {e["type"]: e for e in json.loads(trace)["events"]}
                for kind, field in (("signal", "qty"), ("order", "qty"), ("fill", "qty"), ("fill", "cum_qty")):
                    payload = events[kind]["payload"]
                    self.assertEqual(payload[field], expected, f"{msg_id} {kind}.{field}")
                    self.assertIsInstance(payload[field], str, "decimals travel as strings, never floats")


    def test_entry_reverse_and_exit_to_flat_follow_the_position(self):
        # TradingView's strategy alerts: an entry, a reverse (one decision: the close, then the
        # open), an exit to flat; then a close with nothing held is refused with its reason.
        def wait_position(stack, expected):
            deadline, got = time.time() + 20, None
            while time.time() < deadline:
                got = json.loads(stack.get("agent", "/positions")[1])["symbols"].get("ETHUSD", {"qty": "0"})["qty"]
                if decimal_equal(got, expected):
                    return got
                time.sleep(0.05)
            return got

        def decimal_equal(a, b):
            return decimal.Decimal(a) == decimal.Decimal(b)

        steps = (
            ("tv_entry", '{"ticker":"COINBASE:ETHUSD","action":"buy","contracts":"5",'
                         '"market_position":"long","prev_market_position":"flat"}', "5"),
            ("tv_reverse", '{"ticker":"COINBASE:ETHUSD","action":"sell","contracts":"12",'
                           '"market_position":"short","prev_market_position":"long"}', "-7"),
            ("tv_exit", '{"ticker":"COINBASE:ETHUSD","action":"buy","contracts":"7",'
                        '"market_position":"flat","prev_market_position":"short"}', "0"),
        )
        with Stack(BIN_DIR) as stack:
            for msg_id, body, position in steps:
                status, _, text = stack.post_webhook(msg_id, body.encode())
                self.assertEqual(status, 202, text)
                self.assertTrue(decimal_equal(wait_position(stack, position), position), msg_id)
            status, trace = stack.get("audit", "/trace/demo:tv_reverse")
            self.assertEqual(status, 200)
            events = json.loads(trace)["events"]
            orders = [e["payload"] for e in events if e["type"] == "order"]
            self.assertEqual([(o["order_id"], o["side"], o["qty"]) for o in orders],
                             [("demo:tv_reverse/order", "sell", "5"), ("demo:tv_reverse/order/2", "sell", "7")])
            status, _, text = stack.post_webhook("tv_close_flat", b'{"ticker":"ETHUSD","action":"close"}')
            self.assertEqual(status, 202, text)
            deadline, rejection = time.time() + 20, None
            while time.time() < deadline and rejection is None:
                events = json.loads(stack.get("audit", "/trace/demo:tv_close_flat")[1] or "{}").get("events", [])
                rejection = next((e for e in events if e["type"] == "order_rejected"), None)
                time.sleep(0.05)
            self.assertIsNotNone(rejection)
            self.assertEqual(rejection["payload"]["reason"], "no_position")
            agent = stack.metrics("agent")
            self.assertEqual(agent["tradepipe_agent_orders_total"], 4)  # 1 + 2 + 1
            self.assertEqual(agent['tradepipe_agent_rejections_total{reason="no_position"}'], 1)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", default=BIN_DIR)
    args, rest = parser.parse_known_args()
    BIN_DIR = os.path.abspath(args.bin_dir)
    unittest.main(argv=[sys.argv[0], "-v", *rest])
