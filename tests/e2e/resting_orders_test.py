#!/usr/bin/env python3
"""Resting orders end to end (docs/trading-core.md section 6, "Resting orders"): a real nats-server
and the four services. A GTC limit buy larger than the book's depth within its price fills in part
on arrival, rests (an `accepted` report carrying the order's terms) and fills the rest at the
ticks' market at its own price; the agent's position ends at the ordered quantity with nothing left
open. A limit the market never reaches stays resting, open in the agent, and comes back after
exec-sim is killed (-9) and restarted (rebuilt from EXECUTIONS). Every recorded event matches
proto/schemas."""
import argparse
import decimal
import json
import os
import sqlite3
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from stack import Stack  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from golden_path_test import schema_validators  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN_DIR = os.path.join(ROOT, "build", "release", "services")
D = decimal.Decimal


class RestingOrders(unittest.TestCase):
    def test_a_limit_rests_fills_at_the_ticks_and_survives_a_restart(self):
        # With the venue's latency on: the orders meet the market 30 ms after exec-sim fetches them.
        with Stack(BIN_DIR, exec_args=["--tick-ms", "50", "--levels", "3", "--depth-qty", "2",
                                       "--order-latency-ms", "30"]) as stack:
            try:
                self.run_scenario(stack)
            except BaseException:
                stack.dump_logs()
                raise

    def test_killed_while_its_orders_fill_at_the_ticks_nothing_is_lost_or_doubled(self):
        with Stack(BIN_DIR, exec_args=["--tick-ms", "20", "--levels", "2", "--depth-qty", "1"]) as stack:
            try:
                self.run_crash_scenario(stack)
            except BaseException:
                stack.dump_logs()
                raise

    def test_a_cancel_signal_cancels_the_resting_orders_of_its_symbol(self):
        with Stack(BIN_DIR, exec_args=["--tick-ms", "50", "--cancel-latency-ms", "80"]) as stack:
            try:
                self.run_cancel_scenario(stack)
            except BaseException:
                stack.dump_logs()
                raise

    def run_cancel_scenario(self, stack):
        # Two buys far below the market (they rest, never filled), one in another symbol; TradersPost's
        # cancel for CXL reaches exec-sim 80 ms later (the venue's cancel latency) and cancels both of
        # CXL's; the other symbol's order rests on. A second cancel finds nothing open.
        orders = []
        for key, symbol in (("cxl_a", "CXL"), ("cxl_b", "CXL"), ("cxl_other", "KEEP")):
            mid = D(json.loads(stack.get("exec-sim", f"/book/{symbol}")[1])["mid"])
            body = {"symbol": symbol, "action": "buy", "qty": 2, "price": str((mid * D("0.9")).quantize(D("0.01"))),
                    "order_type": "limit", "time_in_force": "gtc"}
            status, _, text = stack.post_webhook(key, json.dumps(body).encode())
            self.assertEqual(status, 202, text)
            orders.append(f"demo:{key}/order")
        self.wait_position(stack, "CXL", "0", "4")
        deadline = time.time() + 10
        while stack.metrics("exec-sim")["tradepipe_execsim_resting_orders"] < 3 and time.time() < deadline:
            time.sleep(0.05)
        self.assertEqual(stack.metrics("exec-sim")["tradepipe_execsim_resting_orders"], 3)

        status, _, text = stack.post_webhook("cxl_cancel", json.dumps({"ticker": "CXL", "action": "cancel"}).encode())
        self.assertEqual(status, 202, text)
        self.wait_position(stack, "CXL", "0", "0")
        # The audit records behind the agent: wait for the two requests and the two reports.
        events = self.wait_audit(lambda: self.events_of(stack, None)[0], lambda found: sum(
            1 for e in found if e["type"] == "order_cancel" or e["payload"].get("status") == "cancelled") >= 4)
        requests = {e["id"]: e for e in events if e["type"] == "order_cancel"}
        self.assertEqual(set(requests), {"demo:cxl_cancel/cancel/1", "demo:cxl_cancel/cancel/2"})
        self.assertEqual(sorted(r["payload"]["order_id"] for r in requests.values()), orders[:2])
        reports = {e["payload"]["order_id"]: e for e in events
                   if e["type"] == "exec_report" and e["payload"]["status"] == "cancelled"}
        self.assertEqual(set(reports), set(orders[:2]))
        for r in requests.values():
            report = reports[r["payload"]["order_id"]]
            self.assertEqual((report["id"], report["payload"]["leaves_qty"]), (report["payload"]["order_id"] + "/report/2", "2"))
            # It took effect the cancel latency after the agent decided it.
            self.assertGreaterEqual(report["ts"]["filled"] - r["ts"]["decided"], 80_000_000, (r["ts"], report["ts"]))
        status, text = stack.get("exec-sim", f"/orders/{orders[0]}")
        self.assertEqual((status, json.loads(text)["status"]), (200, "cancelled"))
        cancelled = 'tradepipe_execsim_cancel_requests_total{result="cancelled"}'
        exec_metrics = self.wait_audit(lambda: stack.metrics("exec-sim"), lambda m: m[cancelled] == 2, timeout=5)
        self.assertEqual(exec_metrics["tradepipe_execsim_resting_orders"], 1)  # KEEP's
        self.assertEqual(exec_metrics[cancelled], 2)
        self.assertEqual(self.position(stack, "KEEP")["open_qty"], "2")

        status, _, text = stack.post_webhook("cxl_again", json.dumps({"symbol": "CXL", "action": "cancel"}).encode())
        self.assertEqual(status, 202, text)
        events = self.wait_audit(lambda: self.events_of(stack, None)[0],
                                 lambda found: any(e["id"] == "demo:cxl_again/order" for e in found), timeout=10)
        refused = [e for e in events if e["id"] == "demo:cxl_again/order"]
        self.assertEqual([(e["type"], e["payload"]["reason"]) for e in refused], [("order_rejected", "no_open_orders")])
        validators = schema_validators()
        for e in events:
            errors = sorted(validators[e["type"]].iter_errors(e), key=str)
            self.assertEqual(errors, [], f"{e['type']} {e['id']}: {[x.message for x in errors[:3]]}")

    def run_crash_scenario(self, stack):
        # Three symbols, a buy and a sell each, every tick crossing them, each needing many ticks
        # (about 3 units of depth per tick against 600 ordered); exec-sim killed twice meanwhile.
        orders = {}
        for symbol in ("AAA", "BBB", "CCC"):
            mid = D(json.loads(stack.get("exec-sim", f"/book/{symbol}")[1])["mid"])
            for action, factor in (("buy", D("1.03")), ("sell", D("0.97"))):
                msg_id = f"crash_{symbol}_{action}"
                body = {"symbol": symbol, "action": action, "qty": 600, "price": str((mid * factor).quantize(D("0.01"))),
                        "order_type": "limit", "time_in_force": "gtc"}
                status, _, text = stack.post_webhook(msg_id, json.dumps(body).encode())
                self.assertEqual(status, 202, text)
                orders[f"demo:{msg_id}/order"] = symbol
        def tick_fills():
            events, _ = self.events_of(stack, None)
            counts = dict.fromkeys(orders, 0)
            for e in events:
                if e["type"] == "fill" and "tick" in e["ts"] and e["payload"]["order_id"] in counts:
                    counts[e["payload"]["order_id"]] += 1
            return counts

        for _ in range(2):
            # Killed mid-stream: only once every order has filled at a tick since the last start.
            before = tick_fills()
            deadline = time.time() + 30
            while time.time() < deadline and not all(n > before[o] for o, n in tick_fills().items()):
                time.sleep(0.02)
            now = tick_fills()
            self.assertTrue(all(n > before[o] for o, n in now.items()), (before, now))
            stack.kill("exec-sim")
            stack.restart("exec-sim")
        deadline = time.time() + 60
        while time.time() < deadline:
            done = [p for p in (self.position(stack, s) for s in ("AAA", "BBB", "CCC")) if p.get("open_qty") == "0"]
            if len(done) == 3:
                break
            time.sleep(0.1)
        # The audit records behind the agent: wait until it holds every order's last fill.
        def fills_by_order():
            events, _ = self.events_of(stack, None)
            found = {}
            for e in events:
                if e["type"] == "fill" and e["payload"]["order_id"] in orders:
                    found.setdefault(e["payload"]["order_id"], []).append(e["payload"])
            return found
        by_order = self.wait_audit(fills_by_order, lambda found: set(found) == set(orders) and all(
            sum(D(f["qty"]) for f in fills) >= D(600) for fills in found.values()))
        self.assertEqual(set(by_order), set(orders))
        for order_id, fills in by_order.items():
            fills.sort(key=lambda f: f["fill_no"])
            # Numbered without gap or repeat, each continuing the state of the one before it.
            self.assertEqual([f["fill_no"] for f in fills], list(range(1, len(fills) + 1)), order_id)
            cum = D(0)
            for f in fills:
                cum += D(f["qty"])
                self.assertEqual(D(f["cum_qty"]), cum, (order_id, f))
                self.assertEqual(D(f["leaves_qty"]), D(600) - cum, (order_id, f))
            self.assertEqual(cum, D(600), order_id)
            self.assertEqual(fills[-1]["status"], "filled")
        for symbol in ("AAA", "BBB", "CCC"):
            p = self.position(stack, symbol)
            self.assertEqual((p.get("qty"), p.get("open_qty")), ("0", "0"), (symbol, p))

    def test_take_profit_and_stop_loss_close_the_entry_one_cancelling_the_other(self):
        with Stack(BIN_DIR, exec_args=["--tick-ms", "50"]) as stack:
            try:
                self.run_exits_scenario(stack)
            except BaseException:
                stack.dump_logs()
                raise

    def run_exits_scenario(self, stack):
        # No price known to the agent (market entries on fresh symbols), so only the order of the
        # two exits is checked; the prices are chosen so the tick's market reaches one at once:
        # on TPX a take-profit below the bids, on SLX a stop-loss above them.
        cases = {"TPX": ("0.97", "0.5", "tp", "sl"), "SLX": ("2", "1.5", "sl", "tp")}
        for symbol, (tp, sl, _, _) in cases.items():
            mid = D(json.loads(stack.get("exec-sim", f"/book/{symbol}")[1])["mid"])
            body = {"symbol": symbol, "action": "buy", "qty": 3, "take_profit": str((mid * D(tp)).quantize(D("0.01"))),
                    "stop_loss": {"stop_price": str((mid * D(sl)).quantize(D("0.01")))}}
            status, _, text = stack.post_webhook(f"exits_{symbol}", json.dumps(body).encode())
            self.assertEqual(status, 202, text)
        # A wrong-sided pair is refused by the agent with its reason.
        status, _, text = stack.post_webhook("exits_wrong", b'{"symbol":"TPX","action":"buy","qty":1,'
                                                            b'"take_profit":90,"stop_loss":95}')
        self.assertEqual(status, 202, text)
        for symbol in cases:
            self.wait_position(stack, symbol, "0", "0")
        # The audit records behind the agent: wait for each pair's end and the refusal.
        ends = {f"demo:exits_{symbol}/order/{other}/report/2" for symbol, (_, _, _, other) in cases.items()}
        ends.add("demo:exits_wrong/order")
        events = self.wait_audit(lambda: self.events_of(stack, None)[0],
                                 lambda found: ends <= {e["id"] for e in found})
        for symbol, (_, _, hit, other) in cases.items():
            entry = f"demo:exits_{symbol}/order"
            mine = [(e["type"], e["id"], e["payload"].get("status")) for e in events
                    if e["payload"].get("order_id", "").startswith(entry + "/")]
            self.assertIn(("exec_report", f"{entry}/tp/report/1", "accepted"), mine)
            self.assertIn(("exec_report", f"{entry}/sl/report/1", "accepted"), mine)
            hit_fills = [m for m in mine if m[0] == "fill" and m[1].startswith(f"{entry}/{hit}/fill/")]
            self.assertTrue(hit_fills and hit_fills[-1][2] == "filled", mine)
            self.assertIn(("exec_report", f"{entry}/{other}/report/2", "cancelled"), mine)
            self.assertFalse([m for m in mine if m[1].startswith(f"{entry}/{other}/fill/")], mine)
        rejected = [e for e in events if e["type"] == "order_rejected" and e["correlation_id"] == "demo:exits_wrong"]
        self.assertEqual([r["payload"]["reason"] for r in rejected], ["exit_prices"])
        resting = self.wait_audit(lambda: stack.metrics("exec-sim")["tradepipe_execsim_resting_orders"],
                                  lambda n: n == 0, timeout=5)
        self.assertEqual(resting, 0)
        validators = schema_validators()
        for e in events:
            errors = sorted(validators[e["type"]].iter_errors(e), key=str)
            self.assertEqual(errors, [], f"{e['type']} {e['id']}: {[x.message for x in errors[:3]]}")

    def wait_audit(self, read, done, timeout=20):
        """read() until done(what it read) or the timeout; the last read."""
        deadline = time.time() + timeout
        found = read()
        while not done(found) and time.time() < deadline:
            time.sleep(0.05)
            found = read()
        return found

    def position(self, stack, symbol):
        return json.loads(stack.get("agent", "/positions")[1])["symbols"].get(symbol, {})

    def wait_position(self, stack, symbol, qty, open_qty, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            p = self.position(stack, symbol)
            if (p.get("qty"), p.get("open_qty")) == (qty, open_qty):
                return p
            time.sleep(0.05)
        self.fail(f"{symbol}: position {p}, expected qty {qty} open {open_qty}")

    def events_of(self, stack, order_id):
        with sqlite3.connect(f"file:{stack.db_path}?mode=ro", uri=True) as db:
            rows = db.execute("SELECT envelope FROM events ORDER BY seq").fetchall()
        events = [json.loads(r[0]) for r in rows]
        return events, [e for e in events if order_id and e["payload"].get("order_id") == order_id
                        and e["type"] != "order"]

    def run_scenario(self, stack):
        # Far above any ask the walk can reach (±0.5 % by default): every tick crosses it.
        mid = D(json.loads(stack.get("exec-sim", "/book/ETHUSD")[1])["mid"])
        limit = (mid * D("1.03")).quantize(D("0.01"))
        body = {"symbol": "ETHUSD", "action": "buy", "qty": 40, "price": str(limit), "order_type": "limit",
                "time_in_force": "gtc"}
        status, _, text = stack.post_webhook("rest_cross", json.dumps(body).encode())
        self.assertEqual(status, 202, text)
        self.wait_position(stack, "ETHUSD", "40", "0")
        order_id = "demo:rest_cross/order"
        deadline = time.time() + 20
        while time.time() < deadline:
            events, mine = self.events_of(stack, order_id)
            if mine and mine[-1]["type"] == "fill" and mine[-1]["payload"]["status"] == "filled":
                break
            time.sleep(0.05)
        reports = [e for e in mine if e["type"] == "exec_report"]
        fills = [e["payload"] for e in mine if e["type"] == "fill"]
        self.assertEqual([r["payload"]["status"] for r in reports], ["accepted"], mine)
        accepted = reports[0]["payload"]
        self.assertEqual((accepted["side"], accepted["qty"], accepted["limit_price"], accepted["time_in_force"]),
                         ("buy", "40", str(limit), "gtc"))
        arrival = accepted["fills"]
        self.assertGreaterEqual(arrival, 1, "the arrival walks the book within the limit")
        # It met the market the venue's latency (30 ms) after exec-sim fetched it.
        ts = reports[0]["ts"]
        self.assertGreaterEqual(ts["filled"] - ts["exec_consumed"], 30_000_000, ts)
        self.assertGreater(len(fills), arrival, "the rest fills at the ticks")
        self.assertEqual([f["fill_no"] for f in fills], list(range(1, len(fills) + 1)))
        self.assertEqual(sum(D(f["qty"]) for f in fills), D("40"))
        self.assertEqual(D(fills[arrival - 1]["cum_qty"]), D(accepted["filled_qty"]))
        for f in fills[arrival:]:
            self.assertEqual(D(f["price"]), limit)  # a maker fills at its own price
        self.assertEqual(fills[-1]["status"], "filled")
        tick_fill = next(e for e in mine if e["type"] == "fill" and e["payload"]["fill_no"] == arrival + 1)
        self.assertEqual(tick_fill["causation_id"], order_id)
        self.assertIn("tick", tick_fill["ts"])
        agent = self.position(stack, "ETHUSD")
        exact = sum(D(f["qty"]) * D(f["price"]) for f in fills) / 40
        # The agent's running average is truncated to 8 decimals at each fill.
        self.assertLessEqual(abs(D(agent["avg_price"]) - exact), D("0.00000001") * len(fills), (agent, exact))

        # A sell limit the market never reaches: it rests, open in the agent.
        far = (mid * D("2")).quantize(D("0.01"))
        body = {"symbol": "ETHUSD", "action": "sell", "qty": "1.5", "price": str(far), "order_type": "limit",
                "time_in_force": "gtc"}
        status, _, text = stack.post_webhook("rest_far", json.dumps(body).encode())
        self.assertEqual(status, 202, text)
        self.wait_position(stack, "ETHUSD", "40", "-1.5")
        far_id = "demo:rest_far/order"

        def order_state():
            status, text = stack.get("exec-sim", f"/orders/{far_id}")
            return status, json.loads(text)

        deadline = time.time() + 10
        while order_state()[0] != 200 and time.time() < deadline:
            time.sleep(0.05)
        status, state = order_state()
        self.assertEqual((status, state["status"], state["leaves_qty"]), (200, "accepted", "1.5"))
        self.assertEqual(stack.metrics("exec-sim")["tradepipe_execsim_resting_orders"], 1)

        # Killed and restarted, exec-sim rebuilds it from EXECUTIONS.
        stack.kill("exec-sim")
        stack.restart("exec-sim")
        status, state = order_state()
        self.assertEqual((status, state["status"], state["leaves_qty"]), (200, "accepted", "1.5"))
        self.assertEqual(stack.metrics("exec-sim")["tradepipe_execsim_resting_orders"], 1)
        time.sleep(0.3)  # a few ticks: still nothing
        self.assertEqual(self.position(stack, "ETHUSD")["open_qty"], "-1.5")

        events, _ = self.events_of(stack, far_id)
        validators = schema_validators()
        for e in events:
            errors = sorted(validators[e["type"]].iter_errors(e), key=str)
            self.assertEqual(errors, [], f"{e['type']} {e['id']}: {[x.message for x in errors[:3]]}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", default=BIN_DIR)
    args, rest = parser.parse_known_args()
    BIN_DIR = args.bin_dir
    unittest.main(argv=[sys.argv[0], *rest])
