#!/usr/bin/env python3
"""Positions and the kill switch outlive the streams they are rebuilt from (docs/trading-core.md
§5 "As built: snapshots"), end to end: a real nats-server and the four services, the event
streams' age limit shortened to seconds (TRADEPIPE_STREAM_MAX_AGE_S) so that every fill and the
trading-state switch leave ORDERS and EXECUTIONS as 7 days would. The agent, restarted, shows the
same positions and the same trading state from its snapshot in AGENT_STATE; with the snapshots
gone it refuses to start, saying why, unless told to go on with what is left. A second agent
beside the first refuses to start (it would split the fills). A GTC limit resting in exec-sim
outlives them too: stated again every quarter of the age limit, it comes back after exec-sim's
restart when its accepted report has aged out, and stays open in the restarted agent."""
import argparse
import decimal
import http.client
import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from stack import Stack, free_port  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN_DIR = os.path.join(ROOT, "build", "release", "services")
TOKEN = "test-admin-token-0123456789"
MAX_AGE_S = 6


def wait_for(predicate, what, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class PositionsSnapshot(unittest.TestCase):
    def positions(self, stack):
        return json.loads(stack.get("agent", "/positions")[1])["symbols"]

    def resting(self, stack, order_id):
        status, text = stack.get("exec-sim", f"/orders/{order_id}")
        state = json.loads(text)
        return status, state.get("status"), state.get("leaves_qty")

    def trading_state(self, stack):
        return json.loads(stack.get("agent", "/admin/trading-state")[1])["state"]

    def halt(self, stack):
        conn = http.client.HTTPConnection("127.0.0.1", stack.ports["agent"], timeout=10)
        try:
            conn.request("POST", "/admin/trading-state", body='{"state":"halted","reason":"drill"}',
                         headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"})
            self.assertEqual(conn.getresponse().status, 200)
        finally:
            conn.close()

    def test_positions_and_the_kill_switch_outlive_the_streams(self):
        env = {"TRADEPIPE_STREAM_MAX_AGE_S": str(MAX_AGE_S), "TRADEPIPE_STREAM_DUPLICATE_WINDOW_S": "1"}
        with Stack(BIN_DIR, agent_args=["--snapshot-period-s", "1", "--admin-token", TOKEN], extra_env=env) as stack:
            for i, body in enumerate([{"symbol": "BTCUSD", "action": "buy", "qty": "1"},
                                      {"symbol": "BTCUSD", "action": "buy", "qty": "2"},
                                      {"symbol": "BTCUSD", "action": "sell", "qty": "0.5"}]):
                status, _, text = stack.post_webhook(f"snap_{i}", json.dumps(body).encode())
                self.assertEqual(status, 202, text)
            wait_for(lambda: self.positions(stack).get("BTCUSD", {}).get("qty") == "2.5"
                     and self.positions(stack)["BTCUSD"]["open_qty"] == "0", "the three fills")
            # A sell limit the market never reaches rests in exec-sim.
            mid = decimal.Decimal(json.loads(stack.get("exec-sim", "/book/ETHUSD")[1])["mid"])
            far = {"symbol": "ETHUSD", "action": "sell", "qty": "1.5", "price": str((mid * 2).quantize(
                decimal.Decimal("0.01"))), "order_type": "limit", "time_in_force": "gtc"}
            status, _, text = stack.post_webhook("snap_far", json.dumps(far).encode())
            self.assertEqual(status, 202, text)
            wait_for(lambda: self.resting(stack, "demo:snap_far/order") == (200, "accepted", "1.5"), "the rest")
            self.halt(stack)
            before = self.positions(stack)["BTCUSD"]
            # A second agent would split the fills with this one: it refuses to start.
            argv, agent_env = stack.argv["agent"]
            second = list(argv)
            second[second.index("--http-port") + 1] = str(free_port())
            refused = subprocess.run(second, env=agent_env, capture_output=True, text=True, timeout=60)
            self.assertEqual(refused.returncode, 1, refused.stdout + refused.stderr)
            self.assertIn("another process consumes", refused.stdout + refused.stderr)
            self.assertNotEqual(before["realised_pnl"], "0")  # the sell realised something: it must come back
            # The running agent's snapshot reaches the last execution event (the period is 1 s).
            last = stack.event_streams()["EXECUTIONS"]["last_seq"]
            wait_for(lambda: stack.metrics("agent")["tradepipe_agent_snapshot_executions_through"] >= last,
                     "a snapshot covering the fills", timeout=MAX_AGE_S - 1)

            # Every event ages out of ORDERS and EXECUTIONS, the switch and the rest's report included
            # (EXECUTIONS keeps exec-sim's restatements of the resting order, every 1.5 s).
            wait_for(lambda: stack.event_streams()["ORDERS"]["messages"] == 0
                     and stack.event_streams()["EXECUTIONS"]["first_seq"] > last,
                     "ORDERS and EXECUTIONS to age out")
            self.assertGreater(stack.metrics("exec-sim")["tradepipe_execsim_restated_total"], 0)
            stack.kill("agent")  # no snapshot at stop: the periodic one must do
            stack.restart("agent")
            # exec-sim keeps no snapshot: restarted now, it says that its history is partial.
            self.assertEqual(stack.metrics("exec-sim")["tradepipe_execsim_rebuilt_from_partial_history"], 0)
            self.assertEqual(stack.stop("exec-sim"), 0)
            stack.restart("exec-sim")
            self.assertEqual(stack.metrics("exec-sim")["tradepipe_execsim_rebuilt_from_partial_history"], 1)
            # ...and still rests the order whose first report is gone, rebuilt from its restatement.
            self.assertEqual(self.resting(stack, "demo:snap_far/order"), (200, "accepted", "1.5"))
            self.assertEqual(stack.metrics("exec-sim")["tradepipe_execsim_resting_orders"], 1)
            after = self.positions(stack)["BTCUSD"]
            for field in ("qty", "avg_price", "realised_pnl", "last_price"):
                self.assertEqual(after[field], before[field], field)
            # The resting sell's decision aged out of ORDERS: the agent reopened it from a restatement.
            self.assertEqual(self.positions(stack)["ETHUSD"]["open_qty"], "-1.5")
            self.assertEqual(self.trading_state(stack), "halted")

            # Without the snapshots the positions cannot be proven: the start is refused with the reason.
            self.assertEqual(stack.stop("agent"), 0)
            purged = stack.js_publish("$JS.API.STREAM.PURGE.AGENT_STATE", "")
            self.assertTrue(purged.get("success"), purged)
            argv, agent_env = stack.argv["agent"]
            refused = subprocess.run(argv, env=agent_env, capture_output=True, text=True, timeout=60)
            self.assertEqual(refused.returncode, 1, refused.stdout + refused.stderr)
            said = refused.stdout + refused.stderr
            self.assertIn("positions cannot be proven", said)
            self.assertIn("--allow-unproven-positions", said)
            # Told to go on: it starts with what is left (nothing: the fills are gone), and says so.
            stack.argv["agent"] = (argv + ["--allow-unproven-positions"], agent_env)
            stack.restart("agent")
            self.assertNotIn("BTCUSD", self.positions(stack))
            self.assertEqual(self.trading_state(stack), "active")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", default=BIN_DIR)
    args, rest = parser.parse_known_args()
    BIN_DIR = os.path.abspath(args.bin_dir)
    unittest.main(argv=[sys.argv[0], "-v", *rest])
