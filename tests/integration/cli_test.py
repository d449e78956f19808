"""Each binary's start-up configuration: bad values and unknown settings stop it with exit code 2
and a message naming the setting; --help lists every setting with its environment variable."""
import os
import subprocess
import sys
import tempfile
import unittest

BIN_DIR = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "release", "services")
BINARIES = {"gateway": "gateway/gateway", "agent": "agent/agent", "exec-sim": "exec-sim/exec-sim", "audit": "audit/audit"}


def run(name, *args, env_extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEPIPE_")}
    env.update(env_extra or {})
    # An unreachable NATS URL: a run that got past configuration would fail later with exit 1.
    env.setdefault("TRADEPIPE_NATS_URL", "nats://127.0.0.1:1")
    env.setdefault("TRADEPIPE_NATS_CONNECT_TIMEOUT_S", "1")
    return subprocess.run([os.path.join(BIN_DIR, BINARIES[name]), *args], env=env, capture_output=True,
                          text=True, timeout=60)


class Cli(unittest.TestCase):
    def test_help_lists_settings_and_exits_0(self):
        for name in BINARIES:
            r = run(name, "--help")
            self.assertEqual(r.returncode, 0, name)
            self.assertIn("--http-port", r.stdout)
            self.assertIn("TRADEPIPE_NATS_URL", r.stdout)

    def test_bad_values_name_the_setting(self):
        cases = [("gateway", ["--http-port", "70000"], "http-port"),
                 ("agent", ["--max-order-qty", "-5"], "max-order-qty"),
                 ("agent", ["--max-order-qty", "1e3"], "max-order-qty"),
                 ("agent", ["--admin-token", "short"], "admin-token"),
                 ("exec-sim", ["--seed", "abc"], "seed"),
                 ("exec-sim", ["--depth-qty", "0"], "depth-qty"),
                 ("exec-sim", ["--reject-bps", "10001"], "reject-bps"),
                 ("audit", ["--log-level", "loud"], "log-level"),
                 ("audit", ["--no-such-flag"], "no-such-flag")]
        for name, args, setting in cases:
            r = run(name, *args)
            self.assertEqual(r.returncode, 2, f"{name} {args}: {r.stderr}")
            self.assertIn(setting, r.stderr, f"{name} {args}")

    def test_a_wrong_trading_file_is_refused_naming_the_key(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
            f.write('{"risk": {"max_qty": "1"}}')
            f.flush()
            r = run("agent", "--trading-file", f.name)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("--trading-file", r.stderr)
        self.assertIn("max_qty: unknown key", r.stderr)
        r = run("agent", "--trading-file", "/nonexistent/trading.json")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("trading-file", r.stderr)

    def test_unknown_environment_variable_is_refused(self):
        r = run("agent", env_extra={"TRADEPIPE_AGENT_MAX_ORDER_QTTY": "5"})
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("TRADEPIPE_AGENT_MAX_ORDER_QTTY", r.stderr)

    def test_environment_values_are_validated_too(self):
        r = run("exec-sim", env_extra={"TRADEPIPE_EXEC_SIM_SPREAD_BPS": "-1"})
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("spread-bps", r.stderr)

    def test_gateway_without_sources_refuses_to_start(self):
        r = run("gateway", "--sources", "")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("no webhook source", r.stderr)

    def test_malformed_secret_is_refused_without_echoing_it(self):
        r = run("gateway", "--sources", "tv=whsec_s3cr3t!!")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("tv", r.stderr)
        self.assertNotIn("s3cr3t", r.stderr)

    def test_unreachable_nats_is_a_clear_error(self):
        r = run("agent", env_extra={"TRADEPIPE_NATS_URL": "nats://127.0.0.1:1"})
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot connect to nats://127.0.0.1:1", r.stderr)

    def test_nats_credentials_never_reach_the_logs(self):
        for service in BINARIES:
            for url in ("nats://app:pw-s3cret@127.0.0.1:1", "nats://tok-s3cret@127.0.0.1:1,nats://127.0.0.1:2"):
                r = run(service, *(["--demo"] if service == "gateway" else []), env_extra={"TRADEPIPE_NATS_URL": url})
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertIn("nats://***@127.0.0.1:1", r.stderr)
                self.assertNotIn("s3cret", r.stderr + r.stdout)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
