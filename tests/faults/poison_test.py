"""Fault suite, scenario 7: poison messages published straight into each stream (a foreign or
broken producer). Each consumer that cannot use one terminates it; JetStream's terminated
advisory lands in DEADLETTERS and the audit records it with the original message (given_up, GET
/dead-letters); the audit keeps its own unparsable copies in dead_letters. Nothing poisons the
pipeline: valid signals sent afterwards go through, each exactly once."""
import base64
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from stack import Stack, signed_headers  # noqa: E402

BIN_DIR = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "release", "services")

POISON = {
    # subject: (data, the consumers expected to give it up)
    "signals.demo.AAPL": (b"{not json", {"agent-signals"}),
    "orders.new.AAPL": (b'{"id":"x"}', {"exec-sim-orders"}),
    "exec.fill.AAPL": (b"\xff\xfe binary", {"agent-fills"}),
}


class Poison(unittest.TestCase):
    def test_poison_in_every_stream_is_given_up_recorded_and_harmless(self):
        with Stack(BIN_DIR) as stack:
            for subject, (data, _) in POISON.items():
                ack = stack.js_publish(subject, data, msg_id="poison-" + subject)
                self.assertIn("seq", ack, ack)
            conn = stack.connection()
            for i in range(20):
                body = json.dumps({"symbol": "MSFT", "action": "buy", "qty": 1}).encode()
                conn.request("POST", "/webhook/demo", body=body, headers=signed_headers(f"after_poison_{i}", body))
                r = conn.getresponse()
                r.read()
                self.assertEqual(r.status, 202)
            conn.close()

            expected = {"signal": 20, "order": 20, "fill": 20}
            self.assertEqual(stack.wait_for_audit_counts(expected), expected)
            wanted = {(s, c) for s, (_, consumers) in POISON.items() for c in consumers}
            deadline = time.time() + 30
            given_up = []
            while time.time() < deadline:
                status, text = stack.get("audit", "/dead-letters")
                self.assertEqual(status, 200, text)
                body = json.loads(text)
                given_up = body["given_up"]
                if {(g["subject"], g["consumer"]) for g in given_up} >= wanted:
                    break
                time.sleep(0.2)
            self.assertEqual({(g["subject"], g["consumer"]) for g in given_up}, wanted)
            for g in given_up:
                self.assertEqual(g["kind"], "terminated")
                self.assertEqual(base64.b64decode(g["data_base64"]), POISON[g["subject"]][0])
            # The audit's own copies of what it cannot parse (all three are not envelopes).
            self.assertEqual({d["subject"] for d in body["dead_letters"]}, set(POISON))
            au = stack.metrics("audit")
            self.assertEqual(sum(v for k, v in au.items() if k.startswith("tradepipe_audit_given_up_total")), 3)
            self.assertEqual(stack.metrics("agent")["tradepipe_agent_dead_letters_total"], 2)
            self.assertEqual(stack.metrics("exec-sim")["tradepipe_execsim_dead_letters_total"], 1)
            streams, _ = stack.jetstream()
            self.assertEqual(streams["DEADLETTERS"]["messages"], 3)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
