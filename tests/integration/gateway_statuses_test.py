"""Every answer of the real gateway binary, over real HTTP, with a real nats-server behind it:
status, stable error code, Retry-After where promised — and nothing refused is published."""
import http.client
import json
import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from stack import Stack, signed_headers  # noqa: E402

BIN_DIR = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "release", "services")
GOOD = b'{"symbol":"AAPL","action":"buy","qty":1}'


class GatewayStatuses(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = Stack(BIN_DIR, gateway_args=["--max-body", "1024", "--source-rate", "5", "--source-burst", "20",
                                                 "--read-timeout-ms", "500"]).__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.stack.__exit__(None, None, None)

    def request(self, method, path, body=b"", headers=None):
        conn = self.stack.connection()
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        text = r.read().decode()
        conn.close()
        return r.status, r, (json.loads(text) if text.startswith("{") else text)

    def test_status_table(self):
        before = self.stack.jetstream()[0]["SIGNALS"]["last_seq"]
        stale = signed_headers("st_stale", GOOD, timestamp=int(time.time()) - 400)
        bad_sig = signed_headers("st_badsig", GOOD)
        bad_sig["webhook-signature"] = "v1," + "A" * 43 + "="
        xml = signed_headers("st_xml", GOOD)
        xml["content-type"] = "application/xml"
        missing = b'{"action":"buy","qty":1}'
        cases = [
            ("unknown source", "POST", "/webhook/nope", GOOD, signed_headers("st_404", GOOD), 404, "unknown_source"),
            ("bad signature", "POST", "/webhook/demo", GOOD, bad_sig, 401, "bad_signature"),
            ("no signature", "POST", "/webhook/demo", GOOD, {"content-type": "application/json"}, 401,
             "missing_signature_headers"),
            ("stale timestamp", "POST", "/webhook/demo", GOOD, stale, 401, "stale_timestamp"),
            ("malformed JSON", "POST", "/webhook/demo", b'{"symbol":', signed_headers("st_400", b'{"symbol":'), 400,
             "malformed_json"),
            ("missing field", "POST", "/webhook/demo", missing, signed_headers("st_422", missing), 422,
             "invalid_signal"),
            ("wrong method", "GET", "/webhook/demo", b"", {}, 405, "method_not_allowed"),
            ("wrong content type", "POST", "/webhook/demo", GOOD, xml, 415, "unsupported_media_type"),
            ("body too large", "POST", "/webhook/demo", b"x" * 2000, signed_headers("st_413", b"x" * 2000), 413,
             "body_too_large"),
            ("headers too large", "POST", "/webhook/demo", GOOD, {**signed_headers("st_431", GOOD), "x-big": "b" * 9000},
             431, "headers_too_large"),
            ("no such path", "GET", "/nope", b"", {}, 404, "not_found"),
        ]
        for name, method, path, body, headers, status, code in cases:
            got, _, payload = self.request(method, path, body, headers)
            self.assertEqual(got, status, f"{name}: {payload}")
            self.assertEqual(payload.get("error"), code, name)
        streams, _ = self.stack.jetstream()
        self.assertEqual(streams["SIGNALS"]["last_seq"], before, "a refused webhook was published")

    def test_slow_client_is_cut_off(self):
        s = socket.create_connection(("127.0.0.1", self.stack.ports["gateway"]))
        s.sendall(b"POST /webhook/demo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"sym")
        s.settimeout(5)
        started = time.time()
        data = s.recv(1000)  # the server closes after its 500 ms read timeout
        s.close()
        self.assertEqual(data, b"")
        self.assertLess(time.time() - started, 3)

    def test_rate_limit_then_recovery(self):
        statuses = []
        retry_after = None
        for i in range(40):
            status, r, _ = self.request("POST", "/webhook/demo", GOOD, signed_headers(f"st_rl_{i}_{time.time()}", GOOD))
            statuses.append(status)
            if status == 429:
                retry_after = r.getheader("Retry-After")
        self.assertIn(429, statuses)
        self.assertGreaterEqual(statuses.count(202), 20)
        self.assertEqual(retry_after, "1")
        time.sleep(1.1)
        status, _, _ = self.request("POST", "/webhook/demo", GOOD, signed_headers(f"st_rl_after_{time.time()}", GOOD))
        self.assertEqual(status, 202)



class GatewayConcurrency(unittest.TestCase):
    """Many copies of one webhook at once (no rate limit): exactly one publish."""

    @classmethod
    def setUpClass(cls):
        cls.stack = Stack(BIN_DIR).__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.stack.__exit__(None, None, None)

    request = GatewayStatuses.request

    def test_concurrent_repeats_publish_once(self):
        import concurrent.futures
        body = b'{"symbol":"NVDA","action":"buy","qty":3}'
        headers = signed_headers(f"st_conc_{time.time()}", body)
        before = self.stack.jetstream()[0]["SIGNALS"]["last_seq"]

        def send(_):
            status, r, payload = self.request("POST", "/webhook/demo", body, headers)
            return status, r.getheader("Idempotent-Replayed"), payload

        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            results = list(pool.map(send, range(64)))
        fresh = [p for s, replayed, p in results if s == 202 and replayed is None]
        replays = [p for s, replayed, p in results if s == 202 and replayed == "true"]
        in_flight = [p for s, _, p in results if s == 409]
        self.assertEqual(len(fresh), 1, results[:3])
        self.assertEqual(len(fresh) + len(replays) + len(in_flight), 64, [s for s, _, _ in results])
        self.assertTrue(all(p == fresh[0] for p in replays), "a replay differs from the first answer")
        self.assertTrue(all(p["error"] == "request_in_progress" for p in in_flight))
        # Same key, different body, while and after: 422, never a second publish.
        other = b'{"symbol":"NVDA","action":"sell","qty":3}'
        status, _, payload = self.request("POST", "/webhook/demo", other, {**headers, "webhook-signature":
                                          signed_headers(headers["webhook-id"], other, timestamp=int(headers["webhook-timestamp"]))["webhook-signature"]})
        self.assertEqual((status, payload["error"]), (422, "idempotency_key_reused"))
        self.assertEqual(self.stack.jetstream()[0]["SIGNALS"]["last_seq"], before + 1)

if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
