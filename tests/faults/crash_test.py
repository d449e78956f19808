"""Faults on real servers: kill -9 of agent, exec-sim and audit mid-stream, a restart of
nats-server, and a stalled nats-server. Nothing accepted is lost and nothing is recorded twice."""
import collections
import json
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from stack import Stack, signed_headers  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN_DIR = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "release", "services")


def send_with_retry(stack, msg_id, body, deadline_s=30):
    """Like a well-behaved webhook sender: retry 5xx and connection errors with the same id."""
    deadline = time.time() + deadline_s
    last = None
    while time.time() < deadline:
        try:
            conn = stack.connection()
            conn.request("POST", "/webhook/demo", body=body, headers=signed_headers(msg_id, body))
            r = conn.getresponse()
            text = r.read().decode()
            conn.close()
            if r.status == 202:
                return json.loads(text)
            last = (r.status, text)
            if r.status < 500:
                raise AssertionError(f"{msg_id}: {last}")
        except OSError as e:
            last = e
        time.sleep(0.2)
    raise AssertionError(f"{msg_id} never accepted: {last}")


class Crashes(unittest.TestCase):
    def wait_for_audit(self, stack, expected):
        self.assertEqual(stack.wait_for_audit_counts(expected, timeout=90), expected, "audit rows by type")

    def assert_streams(self, stack, expected):
        streams = stack.event_streams()
        # Stored, not held: SIGNALS (interest retention) lets go of what its consumers acked.
        self.assertEqual({n: s["last_seq"] for n, s in streams.items()}, expected, "messages stored per stream")

    def test_kill_9_of_each_consumer_mid_stream_loses_and_duplicates_nothing(self):
        n = 300
        with Stack(BIN_DIR) as stack:
            try:
                accepted = []

                def producer():
                    for i in range(n):
                        body = json.dumps({"symbol": f"S{i % 7}", "action": "buy", "qty": 1 + i % 5}).encode()
                        accepted.append(send_with_retry(stack, f"crash_{i}", body))
                        time.sleep(0.01)

                t = threading.Thread(target=producer)
                t.start()
                for victim in ("agent", "exec-sim", "audit"):
                    time.sleep(0.7)
                    stack.kill(victim)
                    time.sleep(0.3)
                    stack.restart(victim)
                t.join()
                self.assertEqual(len(accepted), n)
                self.wait_for_audit(stack, {"signal": n, "order": n, "fill": n})
                self.assert_streams(stack, {"SIGNALS": n, "ORDERS": n, "EXECUTIONS": n, "DEADLETTERS": 0})
            except BaseException:
                stack.dump_logs()
                raise

    def test_nats_server_restart_recovers_by_itself(self):
        with Stack(BIN_DIR) as stack:
            try:
                for i in range(50):
                    send_with_retry(stack, f"before_{i}", b'{"symbol":"AAPL","action":"buy","qty":1}')
                stack.stop("nats-server")
                # While it is down the gateway says so: not ready, and 503 (never a hang) for webhooks.
                time.sleep(0.5)
                self.assertEqual(stack.get("gateway", "/ready")[0], 503)
                conn = stack.connection()
                body = b'{"symbol":"AAPL","action":"sell","qty":1}'
                started = time.time()
                conn.request("POST", "/webhook/demo", body=body, headers=signed_headers("during_0", body))
                r = conn.getresponse()
                r.read()
                conn.close()
                self.assertEqual(r.status, 503)
                self.assertEqual(r.getheader("Retry-After"), "1")
                self.assertLess(time.time() - started, 5)
                stack.restart("nats-server")
                for i in range(50):
                    send_with_retry(stack, f"after_{i}", b'{"symbol":"MSFT","action":"buy","qty":2}')
                send_with_retry(stack, "during_0", body)  # the sender's retry of the refused one
                self.wait_for_audit(stack, {"signal": 101, "order": 101, "fill": 101})
                self.assert_streams(stack, {"SIGNALS": 101, "ORDERS": 101, "EXECUTIONS": 101, "DEADLETTERS": 0})
                for service in ("gateway", "agent", "exec-sim", "audit"):
                    self.assertEqual(stack.get(service, "/ready")[0], 200, service)
            except BaseException:
                stack.dump_logs()
                raise

    def test_stalled_nats_server_gets_503_in_bounded_time_then_recovers(self):
        # SIGSTOP: the TCP connection stays up, the publish is written, no PubAck comes. The gateway
        # must answer 503 by its publish timeout (never hang, never 202), and the sender's retry
        # after the stall must not store the signal twice (the stalled publish is stored late).
        body = b'{"symbol":"NVDA","action":"buy","qty":3}'
        with Stack(BIN_DIR, gateway_args=("--request-deadline-ms", "500")) as stack:
            try:
                for i in range(20):
                    send_with_retry(stack, f"before_{i}", body)
                stack.pause("nats-server")
                try:
                    for i in range(5):
                        conn = stack.connection()
                        started = time.time()
                        conn.request("POST", "/webhook/demo", body=body, headers=signed_headers(f"stalled_{i}", body))
                        r = conn.getresponse()
                        text = r.read().decode()
                        elapsed = time.time() - started
                        conn.close()
                        self.assertEqual(r.status, 503, text)
                        self.assertEqual(r.getheader("Retry-After"), "1")
                        self.assertIn(json.loads(text)["error"], ("publish_unavailable", "bus_unavailable"), text)
                        self.assertLess(elapsed, 3, "503 within the publish timeout, not a hang")
                finally:
                    stack.resume("nats-server")
                for i in range(5):
                    send_with_retry(stack, f"stalled_{i}", body)  # the senders' retries
                for i in range(20):
                    send_with_retry(stack, f"after_{i}", body)
                self.wait_for_audit(stack, {"signal": 45, "order": 45, "fill": 45})
                self.assert_streams(stack, {"SIGNALS": 45, "ORDERS": 45, "EXECUTIONS": 45, "DEADLETTERS": 0})
                self.assertEqual(stack.get("gateway", "/ready")[0], 200)
            except BaseException:
                stack.dump_logs()
                raise


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
