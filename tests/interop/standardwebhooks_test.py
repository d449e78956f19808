"""Interoperability: a request signed by the reference Standard Webhooks library (npm package
`standardwebhooks`, pinned) is accepted by the real gateway, and a tampered one is refused.

The package is installed once with npm into the build directory (the npm registry is reachable
from our machines); node and npm come from Debian via scripts/bootstrap."""
import json
import os
import shutil
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
import npm  # noqa: E402
from stack import DEMO_SECRET, Stack  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
BIN_DIR = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "build", "release", "services")
NPM_DIR = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "..", "..", "build", "release", "npm")
PACKAGE = "standardwebhooks@1.1.1"


def install_reference_library():
    npm.install(NPM_DIR, [PACKAGE])
    shutil.copy(os.path.join(HERE, "sign.mjs"), os.path.join(NPM_DIR, "sign.mjs"))


def reference_sign(msg_id, body, secret=DEMO_SECRET):
    out = subprocess.run(["node", os.path.join(NPM_DIR, "sign.mjs"), secret, msg_id, str(int(time.time())), body],
                         check=True, capture_output=True, text=True, timeout=60)
    return json.loads(out.stdout)


class ReferenceLibrary(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        install_reference_library()

    def post(self, stack, body, headers):
        conn = stack.connection()
        conn.request("POST", "/webhook/demo", body=body.encode(), headers={"content-type": "application/json", **headers})
        r = conn.getresponse()
        text = r.read().decode()
        conn.close()
        return r.status, text

    def test_reference_signatures_are_accepted_and_tampering_refused(self):
        with Stack(BIN_DIR) as stack:
            body = '{"symbol":"AAPL","action":"buy","qty":"0.5"}'
            headers = reference_sign("msg_interop_1", body)
            self.assertTrue(headers["webhook-signature"].startswith("v1,"))
            status, text = self.post(stack, body, headers)
            self.assertEqual(status, 202, text)
            self.assertEqual(json.loads(text)["id"], "demo:msg_interop_1")

            tampered_body = body.replace("0.5", "5")
            headers = reference_sign("msg_interop_2", body)
            status, text = self.post(stack, tampered_body, headers)
            self.assertEqual((status, json.loads(text)["error"]), (401, "bad_signature"))

            other_key = reference_sign("msg_interop_3", body, secret="whsec_" + "b3RoZXIta2V5LW5vdC1kZW1v")
            status, text = self.post(stack, body, other_key)
            self.assertEqual((status, json.loads(text)["error"]), (401, "bad_signature"))


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
