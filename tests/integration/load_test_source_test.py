"""The honest path for hey: the `loadtest` source (--load-test-token) over the real gateway, with
the real `hey` (Debian's package). hey sends one identical request N times; through the load-test
source every one of them is a new signal (no de-duplication) that crosses the whole pipeline,
while the signed `demo` source still answers the same identical requests as replays. Off unless
configured: without the token the source does not exist."""
import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from stack import Stack, signed_headers  # noqa: E402

BIN_DIR = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "release", "services")
TOKEN = "load-test-token-for-this-test-0123"
REQUESTS = 300
BODY = '{"symbol":"AAPL","action":"buy","qty":1}'


def hey(url, headers):
    argv = ["hey", "-n", str(REQUESTS), "-c", "10", "-m", "POST", "-T", "application/json", "-d", BODY]
    for h in headers:
        argv += ["-H", h]
    out = subprocess.run(argv + [url], capture_output=True, text=True, timeout=120, check=True).stdout
    # hey's summary: "Status code distribution:\n  [202]\t300 responses"
    return {int(code): int(n) for code, n in re.findall(r"\[(\d{3})\]\s+(\d+) responses", out)}, out


class LoadTestSource(unittest.TestCase):
    def test_hey_through_the_load_test_source_runs_every_request_end_to_end(self):
        with Stack(BIN_DIR, gateway_args=["--load-test-token", TOKEN]) as stack:
            url = f"http://127.0.0.1:{stack.ports['gateway']}/webhook/loadtest"
            codes, out = hey(url, [f"Authorization: Bearer {TOKEN}"])
            self.assertEqual(codes, {202: REQUESTS}, out)
            gw = stack.metrics("gateway")
            self.assertEqual(gw["tradepipe_gateway_accepted_total"], REQUESTS)
            self.assertEqual(gw["tradepipe_gateway_replays_total"], 0)
            # Every one crossed the pipeline: a signal, an order and a fill each.
            counts = stack.wait_for_audit_counts({"signal": REQUESTS, "order": REQUESTS, "fill": REQUESTS})
            self.assertEqual(counts, {"signal": REQUESTS, "order": REQUESTS, "fill": REQUESTS})

            # A wrong token is refused; the token opens only this source.
            codes, out = hey(url, ["Authorization: Bearer not-the-token-at-all-0000"])
            self.assertEqual(codes, {401: REQUESTS}, out)
            demo = f"http://127.0.0.1:{stack.ports['gateway']}/webhook/demo"
            codes, out = hey(demo, [f"Authorization: Bearer {TOKEN}"])
            self.assertEqual(codes, {401: REQUESTS}, out)

            # The signed source still de-duplicates the identical requests hey sends: one runs, the
            # others are replays (202, Idempotent-Replayed) or, while the first is still being
            # stored, 409 request_in_progress. That is what plain hey measures against it.
            headers = signed_headers("hey-same-request", BODY.encode())
            codes, out = hey(demo, [f"{k}: {v}" for k, v in headers.items() if k.lower() != "content-type"])
            self.assertEqual(set(codes) - {202, 409}, set(), out)
            self.assertEqual(sum(codes.values()), REQUESTS, out)
            gw = stack.metrics("gateway")
            self.assertEqual(gw["tradepipe_gateway_replays_total"], codes[202] - 1)
            self.assertEqual(gw["tradepipe_gateway_accepted_total"], REQUESTS + 1, "one new signal, not 300")

    def test_without_the_token_there_is_no_load_test_source(self):
        with Stack(BIN_DIR) as stack:
            status, _, text = stack.post_webhook("x", BODY.encode(), source="loadtest")
            self.assertEqual(status, 404, text)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
