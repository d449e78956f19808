"""A full stream refuses instead of forgetting, and frees itself when its consumer returns (issue
10, item 8 and fault scenario 5). SIGNALS has interest retention: it holds what the agent or the
audit has not acked yet. With it limited to 32 KiB (TRADEPIPE_SIGNALS_MAX_BYTES) and the agent
stopped, the real gateway answers 503 `publish_unavailable` with Retry-After once it is full, and
every signal answered 202 is still there, the first one included (discard new, never discard
old). When the agent is back it takes them all, SIGNALS empties and the door accepts again."""
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from stack import Stack, signed_headers  # noqa: E402

BIN_DIR = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "release", "services")


class StreamFull(unittest.TestCase):
    def test_full_stream_answers_503_and_keeps_every_accepted_signal(self):
        with Stack(BIN_DIR, extra_env={"TRADEPIPE_SIGNALS_MAX_BYTES": "32768"}) as stack:
            stack.stop("agent")  # the consumer goes away; the audit goes on acking its copies
            accepted, refused = [], None
            conn = stack.connection()
            body = json.dumps({"symbol": "AAPL", "action": "buy", "qty": 1, "strategy": "x" * 200}).encode()
            for i in range(2000):
                msg_id = f"full_{i}"
                conn.request("POST", "/webhook/demo", body=body, headers=signed_headers(msg_id, body))
                r = conn.getresponse()
                payload = json.loads(r.read())
                if r.status == 202:
                    accepted.append(payload["id"])
                    continue
                refused = (r.status, payload.get("error"), r.getheader("Retry-After"))
                break
            conn.close()
            self.assertIsNotNone(refused, "the stream never filled")
            self.assertEqual(refused[:2], (503, "publish_unavailable"), refused)
            self.assertIsNotNone(refused[2], "503 without Retry-After")
            self.assertGreater(len(accepted), 10)
            # Visible before and when it happens: /ready says why, /metrics shows the fill level.
            status, why = stack.get("gateway", "/ready")
            self.assertEqual(status, 503, why)
            self.assertIn("stream SIGNALS is", why)
            metrics = stack.metrics("gateway")
            self.assertEqual(metrics['tradepipe_stream_max_bytes{stream="SIGNALS"}'], 32768)
            self.assertGreater(metrics['tradepipe_stream_bytes{stream="SIGNALS"}'], 0.9 * 32768)
            streams, _ = stack.jetstream()
            self.assertEqual(streams["SIGNALS"]["messages"], len(accepted), "an accepted signal was deleted")
            self.assertEqual(streams["SIGNALS"]["first_seq"], 1, "the oldest signal was deleted")

            # The agent returns: it takes every signal, SIGNALS lets go of them, the door opens.
            stack.restart("agent")
            deadline = time.time() + 30
            while stack.jetstream()[0]["SIGNALS"]["messages"] > 0 and time.time() < deadline:
                time.sleep(0.2)
            self.assertEqual(stack.jetstream()[0]["SIGNALS"]["messages"], 0, "acked signals still take the space")
            self.assertEqual(stack.post_webhook("after_return", body)[0], 202, "the door did not open again")
            n = len(accepted) + 1
            expected = {"signal": n, "order": n, "fill": n}
            self.assertEqual(stack.wait_for_audit_counts(expected), expected)

    def test_signals_wait_for_consumers_that_are_not_running(self):
        # Interest retention drops a message nobody is interested in: the durables, provisioned by
        # every service at start (the gateway's own start included), are that interest even while
        # the agent and the audit are down.
        with Stack(BIN_DIR) as stack:
            stack.stop("agent")
            stack.stop("audit")
            body = b'{"symbol":"AAPL","action":"buy","qty":1}'
            self.assertEqual(stack.post_webhook("nobody_home", body)[0], 202)
            time.sleep(0.5)
            self.assertEqual(stack.jetstream()[0]["SIGNALS"]["messages"], 1, "an accepted signal was dropped")
            stack.restart("agent")
            stack.restart("audit")
            expected = {"signal": 1, "order": 1, "fill": 1}
            self.assertEqual(stack.wait_for_audit_counts(expected), expected)

if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
