"""Sources from a configuration file, over the real gateway binary: a TradingView-style sender
with a body token (text/plain, no headers, token from the environment, never published), a
sender signing with a hex HMAC header, and the body-hash idempotency key for both."""
import hashlib
import hmac
import json
import os
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from stack import Stack  # noqa: E402

BIN_DIR = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "release", "services")
TOKEN = "tv-token-from-env-0123456789"
HEX_KEY = b"abc"  # whsec_YWJj


class GatewaySources(unittest.TestCase):
    def post(self, stack, source, body, headers):
        conn = stack.connection()
        conn.request("POST", f"/webhook/{source}", body=body, headers=headers)
        r = conn.getresponse()
        text = r.read().decode()
        conn.close()
        return r.status, dict(r.getheaders()), json.loads(text)

    def test_token_and_hex_sources_from_a_file(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump({"sources": {"tradingview": {"schemes": ["body-token"], "tokens": ["placeholder-in-file-0000"]},
                                   "partner": {"schemes": ["hex-hmac"], "secrets": ["whsec_YWJj"]}}}, f)
            path = f.name
        try:
            env = {"TRADEPIPE_GATEWAY_SOURCE_TRADINGVIEW_TOKENS": TOKEN}
            with Stack(BIN_DIR, gateway_args=["--sources-file", path], extra_env=env) as stack:
                alert = ('{"ticker":"BINANCE:BTCUSDT","action":"buy","contracts":"0.001",'
                         f'"time":"{time.time()}","token":"{TOKEN}"}}').encode()
                status, _, first = self.post(stack, "tradingview", alert, {"content-type": "text/plain"})
                self.assertEqual(status, 202, first)
                self.assertTrue(first["id"].startswith("tradingview:sha256:"))
                status, headers, again = self.post(stack, "tradingview", alert, {"content-type": "text/plain"})
                self.assertEqual((status, headers.get("Idempotent-Replayed"), again), (202, "true", first))
                placeholder = alert.replace(TOKEN.encode(), b"placeholder-in-file-0000")
                status, _, body = self.post(stack, "tradingview", placeholder, {"content-type": "text/plain"})
                self.assertEqual((status, body["error"]), (401, "bad_token"), "the environment replaces the file")

                payload = b'{"symbol":"MSFT","action":"sell","qty":"2"}'
                ts = str(int(time.time()))
                sig = hmac.new(HEX_KEY, ts.encode() + b"." + payload, hashlib.sha256).hexdigest()
                status, _, body = self.post(stack, "partner", payload,
                                            {"content-type": "application/json", "x-timestamp": ts,
                                             "x-signature": "sha256=" + sig})
                self.assertEqual(status, 202, body)
                status, _, body = self.post(stack, "partner", payload + b" ",
                                            {"content-type": "application/json", "x-timestamp": ts, "x-signature": sig})
                self.assertEqual((status, body["error"]), (401, "bad_signature"))

                deadline = time.time() + 20
                counts = {}
                while time.time() < deadline and counts.get("fill") != 2:
                    counts = stack.audit_counts()
                    time.sleep(0.1)
                self.assertEqual(counts, {"signal": 2, "order": 2, "fill": 2})
                # Nothing stored anywhere holds the token: JetStream's files, the audit database and its WAL.
                for root, _, files in os.walk(stack.dir):
                    for name in files:
                        if name.endswith(".log"):
                            continue
                        with open(os.path.join(root, name), "rb") as fh:
                            self.assertNotIn(TOKEN.encode(), fh.read(), f"the token reached {name}")
        finally:
            os.unlink(path)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
