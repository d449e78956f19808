#!/usr/bin/env python3
"""The kill switch and the risk checks end to end (docs/trading-core.md "Risk checks"): a real
nats-server and the four services; the trading state is switched with POST /admin/trading-state
(admin token), refuses what it should with its reason code in the orders.rejected event, the
audit and /metrics, survives an agent restart, and is recorded by the audit as a trading_state
event that matches proto/schemas."""
import argparse
import decimal
import http.client
import json
import os
import sqlite3
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from stack import Stack  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from golden_path_test import schema_validators  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN_DIR = os.path.join(ROOT, "build", "release", "services")
TOKEN = "test-admin-token-0123456789"

TRADING = {
    "starting_balance": "10000",
    "risk": {"allowed_symbols": ["BTCUSD", "ETHUSD"], "max_position": "5"},
    "strategies": {"dca": {"sizing": {"kind": "notional", "value": "1000"}, "allow_signal_qty": False}},
}


class KillSwitch(unittest.TestCase):
    def switch(self, stack, body, token=TOKEN):
        conn = http.client.HTTPConnection("127.0.0.1", stack.ports["agent"], timeout=10)
        try:
            headers = {"Content-Type": "application/json"}
            if token is not None:
                headers["Authorization"] = f"Bearer {token}"
            conn.request("POST", "/admin/trading-state", body=body, headers=headers)
            r = conn.getresponse()
            return r.status, json.loads(r.read().decode() or "{}")
        finally:
            conn.close()

    def outcome(self, stack, msg_id):
        """The final events of one signal as the audit traces them: ("order", [qty...]) or
        ("rejected", reason)."""
        deadline = time.time() + 20
        while time.time() < deadline:
            status, text = stack.get("audit", f"/trace/demo:{msg_id}")
            events = json.loads(text).get("events", []) if status == 200 else []
            rejected = [e for e in events if e["type"] == "order_rejected"]
            fills = [e for e in events if e["type"] == "fill"]
            orders = [e for e in events if e["type"] == "order"]
            if rejected:
                return "rejected", rejected[0]["payload"]["reason"]
            if orders and len(fills) >= len(orders):
                return "filled", [o["payload"]["qty"] for o in orders]
            time.sleep(0.05)
        self.fail(f"{msg_id}: no outcome in the audit")

    def send(self, stack, msg_id, body):
        status, _, text = stack.post_webhook(msg_id, json.dumps(body).encode())
        self.assertEqual(status, 202, text)
        return self.outcome(stack, msg_id)

    def test_the_switch_refuses_what_it_should_and_is_durable(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(TRADING, f)
        try:
            with Stack(BIN_DIR, agent_args=["--admin-token", TOKEN, "--trading-file", f.name]) as stack:
                self.run_scenario(stack)
        finally:
            os.unlink(f.name)

    def test_open_orders_count_in_the_position_limit_and_survive_a_restart(self):
        # Exec-sim is away: nothing fills, so only the orders decided and not yet filled can stop
        # a burst of entries at the position limit.
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump({"risk": {"max_position": "5"}}, f)
        try:
            with Stack(BIN_DIR, agent_args=["--trading-file", f.name]) as stack:
                stack.kill("exec-sim")
                for i in range(8):
                    status, _, text = stack.post_webhook(f"burst_{i}", b'{"symbol":"SOLUSD","action":"buy","qty":1}')
                    self.assertEqual(status, 202, text)
                expected = {"signal": 8, "order": 5, "order_rejected": 3}
                self.assertEqual(stack.wait_for_audit_counts(expected), expected)
                symbol = json.loads(stack.get("agent", "/positions")[1])["symbols"]["SOLUSD"]
                self.assertEqual((symbol["qty"], symbol["open_qty"]), ("0", "5"))
                # Rebuilt from ORDERS and EXECUTIONS at start: still open after a restart.
                stack.kill("agent")
                stack.restart("agent")
                symbol = json.loads(stack.get("agent", "/positions")[1])["symbols"]["SOLUSD"]
                self.assertEqual((symbol["qty"], symbol["open_qty"]), ("0", "5"))
                # A close right behind the entries closes what they open, filled or not.
                status, _, text = stack.post_webhook("burst_close", b'{"symbol":"SOLUSD","action":"close"}')
                self.assertEqual(status, 202, text)
                stack.restart("exec-sim")
                self.assertEqual(self.outcome(stack, "burst_close"), ("filled", ["5"]))
                deadline = time.time() + 20
                while time.time() < deadline:
                    symbol = json.loads(stack.get("agent", "/positions")[1])["symbols"]["SOLUSD"]
                    if symbol["open_qty"] == "0" and stack.audit_counts().get("fill") == 6:
                        break
                    time.sleep(0.05)
                self.assertEqual((symbol["qty"], symbol["open_qty"]), ("0", "0"))
                self.assertEqual(stack.metrics("agent")["tradepipe_agent_open_orders"], 0)
                rejected = [self.outcome(stack, f"burst_{i}") for i in range(5, 8)]
                self.assertEqual(rejected, [("rejected", "max_position")] * 3)
        finally:
            os.unlink(f.name)

    def run_scenario(self, stack):
        # The door: a token is required, and a body that says what it wants.
        self.assertEqual(self.switch(stack, '{"state":"halted"}', token=None)[0], 401)
        self.assertEqual(self.switch(stack, '{"state":"halted"}', token="wrong-token-0123456789")[0], 401)
        status, body = self.switch(stack, '{"state":"stopped"}')
        self.assertEqual((status, body["error"]), (422, "invalid_body"))
        self.assertEqual(self.switch(stack, "not json")[0], 422)
        self.assertEqual(json.loads(stack.get("agent", "/admin/trading-state")[1]), {"state": "active"})

        # Active: sizing by the strategy (a dollar amount at the signal's price), the allow-list,
        # the maximum position.
        self.assertEqual(self.send(stack, "ks_entry", {"symbol": "BTCUSD", "action": "buy", "qty": 9, "price": 400,
                                                       "strategy": "dca"}), ("filled", ["2.5"]))
        self.assertEqual(self.send(stack, "ks_not_allowed", {"symbol": "DOGE", "action": "buy", "qty": 1}),
                         ("rejected", "symbol_not_allowed"))
        self.assertEqual(self.send(stack, "ks_too_big", {"symbol": "BTCUSD", "action": "buy", "qty": 3}),
                         ("rejected", "max_position"))

        # Halted: everything is refused, a close included.
        status, body = self.switch(stack, '{"state":"halted","reason":"test: venue incident"}')
        self.assertEqual((status, body["state"], body["previous"]), (200, "halted", "active"))
        self.assertEqual(self.send(stack, "ks_halted_entry", {"symbol": "ETHUSD", "action": "buy", "qty": 1}),
                         ("rejected", "trading_halted"))
        self.assertEqual(self.send(stack, "ks_halted_close", {"symbol": "BTCUSD", "action": "close"}),
                         ("rejected", "trading_halted"))
        agent = stack.metrics("agent")
        self.assertEqual(agent['tradepipe_agent_trading_state{state="halted"}'], 1)
        self.assertEqual(agent['tradepipe_agent_trading_state{state="active"}'], 0)
        self.assertEqual(agent['tradepipe_agent_rejections_total{reason="trading_halted"}'], 2)

        # Reducing survives a restart (read back from ORDERS); entries are refused, exits pass.
        self.assertEqual(self.switch(stack, '{"state":"reducing"}')[0], 200)
        stack.kill("agent")
        stack.restart("agent")
        self.assertEqual(json.loads(stack.get("agent", "/admin/trading-state")[1]), {"state": "reducing"})
        self.assertEqual(self.send(stack, "ks_reducing_entry", {"symbol": "ETHUSD", "action": "buy", "qty": 1}),
                         ("rejected", "reducing_only"))
        self.assertEqual(self.send(stack, "ks_reducing_close", {"symbol": "BTCUSD", "action": "close"}),
                         ("filled", ["2.5"]))

        # Active again.
        self.assertEqual(self.switch(stack, '{"state":"active"}')[0], 200)
        self.assertEqual(self.send(stack, "ks_active_again", {"symbol": "ETHUSD", "action": "buy", "qty": "0.5"}),
                         ("filled", ["0.5"]))
        positions = json.loads(stack.get("agent", "/positions")[1])
        self.assertEqual(decimal.Decimal(positions["symbols"]["BTCUSD"]["qty"]), 0)
        self.assertEqual(decimal.Decimal(positions["symbols"]["ETHUSD"]["qty"]), decimal.Decimal("0.5"))

        # The audit holds every switch, in order, each valid against proto/schemas.
        deadline = time.time() + 20
        while time.time() < deadline and stack.audit_counts().get("trading_state", 0) < 3:
            time.sleep(0.1)
        with sqlite3.connect(f"file:{stack.db_path}?mode=ro", uri=True) as db:
            rows = db.execute("SELECT envelope FROM events WHERE type='trading_state' ORDER BY stream_seq").fetchall()
        switches = [json.loads(r[0]) for r in rows]
        self.assertEqual([s["payload"]["state"] for s in switches], ["halted", "reducing", "active"])
        self.assertEqual(switches[0]["payload"]["reason"], "test: venue incident")
        validators = schema_validators()
        for event in switches:
            errors = list(validators["trading_state"].iter_errors(event))
            self.assertFalse(errors, errors[:1])
        with sqlite3.connect(f"file:{stack.db_path}?mode=ro", uri=True) as db:
            rows = db.execute("SELECT envelope FROM events WHERE type='order_rejected'").fetchall()
        rejections = [json.loads(r[0]) for r in rows]
        self.assertEqual(len(rejections), 5)
        for event in rejections:
            errors = list(validators["order_rejected"].iter_errors(event))
            self.assertFalse(errors, errors[:1])


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", default=BIN_DIR)
    args, rest = parser.parse_known_args()
    BIN_DIR = os.path.abspath(args.bin_dir)
    unittest.main(argv=[sys.argv[0], "-v", *rest])
