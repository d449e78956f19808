"""The gateway with its idempotency store in a real redis-server, shared by two gateway replicas:
a webhook sent to both is published once; a Redis outage answers 503 with Retry-After (fail
closed) and /ready says why; everything recovers by itself when Redis is back."""
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from stack import Stack  # noqa: E402

BIN_DIR = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "release", "services")
BODY = b'{"symbol":"AAPL","action":"buy","qty":1}'


def post(stack, service, msg_id, body=BODY):
    status, headers, text = stack.post_webhook(msg_id, body, service)
    return status, headers, json.loads(text)


class GatewayWithRedis(unittest.TestCase):
    def test_replicas_share_keys_and_redis_outage_fails_closed(self):
        with Stack(BIN_DIR, redis=True) as stack:
            try:
                stack.start_gateway_replica("gateway-2")
                status, _, first = post(stack, "gateway", "shared_1")
                self.assertEqual(status, 202, first)
                status, headers, second = post(stack, "gateway-2", "shared_1")
                self.assertEqual((status, headers.get("Idempotent-Replayed")), (202, "true"))
                self.assertEqual(second, first)
                status, _, body = post(stack, "gateway-2", "shared_1", b'{"symbol":"MSFT","action":"buy","qty":1}')
                self.assertEqual((status, body["error"]), (422, "idempotency_key_reused"))
                for i in range(20):  # alternate replicas: each key published once
                    self.assertEqual(post(stack, "gateway" if i % 2 else "gateway-2", f"alt_{i}")[0], 202)
                    self.assertEqual(post(stack, "gateway-2" if i % 2 else "gateway", f"alt_{i}")[0], 202)
                streams, _ = stack.jetstream()
                self.assertEqual(streams["SIGNALS"]["last_seq"], 21)

                stack.stop("redis-server")
                started = time.time()
                status, headers, body = post(stack, "gateway", "during_outage")
                self.assertEqual((status, body["error"]), (503, "idempotency_unavailable"))
                self.assertEqual(headers.get("Retry-After"), "1")
                self.assertLess(time.time() - started, 3)
                status, ready = stack.get("gateway", "/ready")
                self.assertEqual(status, 503)
                self.assertIn("redis", ready)
                self.assertEqual(stack.jetstream()[0]["SIGNALS"]["last_seq"], 21, "nothing published while failing closed")

                stack.restart("redis-server")
                deadline = time.time() + 10
                while stack.get("gateway", "/ready")[0] != 200 and time.time() < deadline:
                    time.sleep(0.1)
                self.assertEqual(stack.get("gateway", "/ready")[0], 200)
                self.assertEqual(post(stack, "gateway", "during_outage")[0], 202)  # the sender's retry
                m = stack.metrics("gateway")
                self.assertEqual(m['tradepipe_gateway_rejected_total{error="idempotency_unavailable"}'], 1)
            except BaseException:
                stack.dump_logs()
                raise


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
