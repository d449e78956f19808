"""Fault suite, scenario 8: a repeat after JetStream's duplicate window (shortened to 1 s here
with TRADEPIPE_STREAM_DUPLICATE_WINDOW_S) changes nothing. Orders and signals already decided
are published again straight into their streams, as an agent or gateway re-publishing late would:
the streams store them again (the window is over), but exec-sim publishes no second report or
fill and the agent no second decision, because each remembers what its output stream already
holds. Then both are killed (-9) and restarted: they rebuild that memory, and the agent its
positions, from the streams, and a third round of repeats still changes nothing."""
import json
import os
import sqlite3
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from stack import Stack, signed_headers  # noqa: E402

BIN_DIR = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "release", "services")
N = 5


class LateRepeat(unittest.TestCase):
    def wait_for(self, predicate, what, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if predicate():
                return
            time.sleep(0.1)
        self.fail(f"timed out waiting for {what}")

    def repeat(self, stack, events):
        for subject, event_id, envelope in events:
            ack = stack.js_publish(subject, envelope, msg_id=event_id)
            self.assertIn("seq", ack, ack)
            self.assertFalse(ack.get("duplicate", False), "still inside the duplicate window")

    def test_repeats_after_the_duplicate_window_have_no_second_effect_even_after_restarts(self):
        with Stack(BIN_DIR, extra_env={"TRADEPIPE_STREAM_DUPLICATE_WINDOW_S": "1"}) as stack:
            conn = stack.connection()
            for i in range(N):
                body = json.dumps({"symbol": "AAPL", "action": "buy" if i % 2 == 0 else "sell", "qty": 10 + i}).encode()
                conn.request("POST", "/webhook/demo", body=body, headers=signed_headers(f"late_{i}", body))
                r = conn.getresponse()
                r.read()
                self.assertEqual(r.status, 202)
            conn.close()
            expected = {"signal": N, "order": N, "fill": N}
            self.assertEqual(stack.wait_for_audit_counts(expected), expected)
            with sqlite3.connect(f"file:{stack.db_path}?mode=ro", uri=True) as db:
                signals = db.execute("SELECT subject, event_id, envelope FROM events WHERE type='signal'").fetchall()
                orders = db.execute("SELECT subject, event_id, envelope FROM events WHERE type='order'").fetchall()
            self.wait_for(lambda: json.loads(stack.get("agent", "/positions")[1])["symbols"], "positions")
            self.wait_for(lambda: stack.metrics("agent").get("tradepipe_agent_fills_applied_total") == N, "fills applied")
            positions = json.loads(stack.get("agent", "/positions")[1])
            self.assertEqual(positions["symbols"]["AAPL"]["qty"], "12")  # 10 - 11 + 12 - 13 + 14
            for round_ in ("late", "after restart"):
                time.sleep(2.5)  # the 1 s duplicate window is over: the streams store repeats again
                self.repeat(stack, orders)
                self.repeat(stack, signals)
                self.wait_for(lambda: stack.metrics("exec-sim").get("tradepipe_execsim_repeated_outputs_total") == N,
                              f"exec-sim to recognise every repeated order ({round_})")
                self.wait_for(lambda: stack.metrics("agent").get("tradepipe_agent_repeated_decisions_total") == N,
                              f"the agent to recognise every repeated signal ({round_})")
                streams, _ = stack.jetstream()
                self.assertEqual(streams["EXECUTIONS"]["messages"], N, f"a second fill ({round_})")
                self.assertEqual(streams["DEADLETTERS"]["messages"], 0)
                # Repeats are stored (the window is over): the stream holds them, the effects do not.
                rounds = 1 if round_ == "late" else 2
                self.assertEqual(streams["ORDERS"]["messages"], N + 2 * rounds * N - rounds * N)
                self.assertEqual(streams["SIGNALS"]["last_seq"], N + rounds * N)
                self.assertEqual(json.loads(stack.get("agent", "/positions")[1]), positions)
                if round_ == "late":
                    stack.kill("agent")
                    stack.kill("exec-sim")
                    stack.restart("agent")
                    stack.restart("exec-sim")
                    # Positions rebuilt from EXECUTIONS before anything is decided.
                    self.assertEqual(json.loads(stack.get("agent", "/positions")[1]), positions)
            self.assertEqual(stack.audit_counts(), expected)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
