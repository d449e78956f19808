"""The k6 scripts (loadtests/k6/) cannot run here (k6 is not packaged for Debian); each is checked
as an ES module by node, and its use of the k6 API is type-checked by TypeScript against
@types/k6 (both pinned, installed with npm into the build directory). A misspelt option, executor
or parameter fails this test."""
import glob
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
import npm  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
K6_DIR = os.path.join(HERE, "..", "..", "loadtests", "k6")
NPM_DIR = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "build", "release", "npm")
PACKAGES = ["typescript@5.9.3", "@types/k6@2.3.0"]


class K6Scripts(unittest.TestCase):
    def test_every_script_is_an_es_module(self):
        scripts = sorted(glob.glob(os.path.join(K6_DIR, "*.js")) + glob.glob(os.path.join(K6_DIR, "lib", "*.js")))
        self.assertGreaterEqual(len(scripts), 3, scripts)
        for script in scripts:
            with open(script, "rb") as f:
                r = subprocess.run(["node", "--input-type=module", "--check"], stdin=f, capture_output=True,
                                   text=True, timeout=60)
            self.assertEqual(r.returncode, 0, f"{script}: {r.stderr}")

    def test_k6_api_use_type_checks(self):
        npm.install(NPM_DIR, PACKAGES)
        tsc = os.path.join(NPM_DIR, "node_modules", ".bin", "tsc")
        r = subprocess.run([tsc, "-p", os.path.join(K6_DIR, "tsconfig.json"), "--typeRoots",
                            os.path.join(NPM_DIR, "node_modules", "@types")], capture_output=True, text=True,
                           timeout=300)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
