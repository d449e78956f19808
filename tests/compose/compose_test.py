"""`docker compose up` for real: build the images, start the stack, wait until every container is
healthy, send signed webhooks to the published gateway port and trace each one to its fill
through the audit's published port, see every Prometheus target `up`, check that every query of
the Grafana dashboard names metrics the services export and returns data, then `down -v`.
A second round adds deploy/compose.redis.yml and deploy/compose.postgres.yml: the gateway keeps
its idempotency keys in Redis (a repeat after a gateway restart is still recognised) and
Postgres becomes healthy.

The engine and the images come from scripts/docker-offline (starts Debian's dockerd when none
runs; stand-ins where no registry answers). Exits 77 (ctest: skipped) with the reason where no
engine can be had. Host ports are free ports picked here, the project name is unique, and
everything (containers, networks, volumes) is removed at the end, also on failure.

Run: ctest -L compose --output-on-failure   (or /usr/bin/python3 tests/compose/compose_test.py)
"""
import http.client
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
import unittest
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from stack import free_port, parse_metrics, signed_headers  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SKIP = 77
SERVICES = {"gateway": 8001, "agent": 8002, "exec-sim": 8004, "audit": 8005}
HEALTHY_WITHIN_S = 240
DASHBOARD = os.path.join(ROOT, "deploy", "grafana", "dashboards", "tradepipe.json")
with open(os.path.join(ROOT, "docker-compose.yml")) as _f:
    GRAFANA_IMAGE = re.search(r"image:\s*(grafana/\S+)", _f.read()).group(1)


def log(*args):
    print("compose-test:", *args, flush=True)


def compose_command():
    """`docker compose` (v2) where the plugin exists, else `docker-compose` (v1.29, Debian 12)."""
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def http_get(port, path, timeout=5):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read().decode()
    finally:
        conn.close()


def http_post(port, path, body, headers):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", path, body=body, headers=headers)
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), r.read().decode()
    finally:
        conn.close()


def dashboard_queries():
    with open(DASHBOARD) as f:
        dashboard = json.load(f)
    return [(panel["title"], target["expr"]) for panel in dashboard["panels"] for target in panel["targets"]]


PROMQL_WORDS = {"sum", "by", "rate", "max", "histogram_quantile", "le", "without", "avg", "min", "count"}


def metric_names(expr):
    """Metric names an expression selects (identifiers that are not PromQL words, labels or strings)."""
    expr = re.sub(r'"[^"]*"', "", expr)            # label values
    expr = re.sub(r"\{[^}]*\}", "", expr)          # label matchers
    expr = re.sub(r"by \([^)]*\)", "", expr)       # grouping labels
    expr = re.sub(r"\[[^\]]*\]", "", expr)         # ranges
    return {w for w in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr) if w not in PROMQL_WORDS}


class ComposeStack:
    """One compose project: up on free host ports, torn down (with its volumes) on exit."""

    def __init__(self, compose, files, name, profiles=()):
        self.compose = compose
        self.files = files
        self.name = name
        self.profiles = list(profiles)
        self.ports = {"gateway": free_port(), "agent": free_port(), "exec-sim": free_port(),
                      "audit": free_port(), "nats": free_port(), "nats-monitor": free_port(),
                      "prometheus": free_port(), "grafana": free_port()}
        self.env = dict(os.environ,
                        TRADEPIPE_GATEWAY_PORT=str(self.ports["gateway"]),
                        TRADEPIPE_AGENT_PORT=str(self.ports["agent"]),
                        TRADEPIPE_EXEC_SIM_PORT=str(self.ports["exec-sim"]),
                        TRADEPIPE_AUDIT_PORT=str(self.ports["audit"]),
                        TRADEPIPE_NATS_PORT=str(self.ports["nats"]),
                        TRADEPIPE_NATS_MONITOR_PORT=str(self.ports["nats-monitor"]),
                        TRADEPIPE_PROMETHEUS_PORT=str(self.ports["prometheus"]),
                        TRADEPIPE_GRAFANA_PORT=str(self.ports["grafana"]))
        self.env.pop("TRADEPIPE_GATEWAY_BIND", None)

    def run(self, *args, check=True, capture=False, timeout=1800):
        argv = [*self.compose, "-p", self.name]
        for f in self.files:
            argv += ["-f", f]
        for p in self.profiles:
            argv += ["--profile", p]
        argv += list(args)
        return subprocess.run(argv, cwd=ROOT, env=self.env, check=check, timeout=timeout,
                              capture_output=capture, text=True)

    def containers(self):
        ids = self.run("ps", "-a", "-q", capture=True).stdout.split()
        if not ids:
            return []
        out = subprocess.run(["docker", "inspect", *ids], capture_output=True, text=True, check=True).stdout
        return json.loads(out)

    def wait_healthy(self, expected):
        """Every expected service's container healthy; a restart (crash loop) fails at once."""
        deadline = time.time() + HEALTHY_WITHIN_S
        while True:
            states = {}
            for c in self.containers():
                service = c["Config"]["Labels"].get("com.docker.compose.service")
                health = c["State"].get("Health", {}).get("Status", "no healthcheck")
                if c["RestartCount"] > 0 or c["State"]["Status"] in ("exited", "dead"):
                    raise AssertionError(f"{service} is not staying up: {c['State']['Status']}, "
                                         f"{c['RestartCount']} restarts, exit code {c['State']['ExitCode']}")
                states[service] = health
            if all(states.get(s) == "healthy" for s in expected):
                return states
            if time.time() > deadline:
                raise AssertionError(f"not all healthy within {HEALTHY_WITHIN_S} s: {states}")
            time.sleep(1)

    def dump_logs(self):
        self.run("ps", check=False)
        self.run("logs", "--no-color", "--tail", "40", check=False)

    def down(self):
        self.run("down", "-v", "--remove-orphans", check=False, timeout=300)


class ComposeTest(unittest.TestCase):
    compose = None

    def stack(self, files, suffix, profiles=()):
        stack = ComposeStack(self.compose, files, f"tptest{os.getpid()}{suffix}", profiles)
        self.addCleanup(stack.down)
        return stack

    def up(self, stack, expected):
        started = time.time()
        try:
            stack.run("build")
            built = time.time()
            stack.run("up", "-d")
            states = stack.wait_healthy(expected)
        except BaseException:
            stack.dump_logs()
            raise
        log(f"build {built - started:.0f} s; up -> all healthy {time.time() - built:.1f} s: {states}")

    # --- the default stack ---------------------------------------------------------------------

    def test_default_stack_settles_and_carries_signals_to_fills(self):
        # Grafana (profile `grafana`) only where its image exists: it has no stand-in.
        grafana = subprocess.run(["docker", "image", "inspect", GRAFANA_IMAGE], capture_output=True).returncode == 0
        if not grafana:
            log(f"grafana NOT run: no image {GRAFANA_IMAGE} here (no registry, no stand-in); "
                "its dashboard's queries are checked against Prometheus below")
        stack = self.stack(["docker-compose.yml"], "a", ["grafana"] if grafana else [])
        self.up(stack, ["nats", *SERVICES, "prometheus", *(["grafana"] if grafana else [])])
        try:
            self.check_published_ports(stack)
            ids = self.send_webhooks(stack, "dflt", count=10)
            self.check_traced_to_fills(stack, ids)
            self.check_prometheus_targets(stack)
            self.check_dashboard(stack)
            if grafana:
                self.check_grafana(stack)
            self.report_image_size()
        except BaseException:
            stack.dump_logs()
            raise

    def check_published_ports(self, stack):
        for c in stack.containers():
            service = c["Config"]["Labels"]["com.docker.compose.service"]
            for container_port, bindings in (c["NetworkSettings"]["Ports"] or {}).items():
                for b in bindings or []:
                    self.assertEqual(b["HostIp"], "127.0.0.1",
                                     f"{service} {container_port} published on {b['HostIp']}, not loopback only")

    def send_webhooks(self, stack, prefix, count):
        port = stack.ports["gateway"]
        ids = []
        for i in range(count):
            msg_id = f"{prefix}_{os.getpid()}_{i}"
            body = json.dumps({"symbol": ["AAPL", "BTC/USD"][i % 2], "action": "buy", "qty": i + 1}).encode()
            status, _, answer = http_post(port, "/webhook/demo", body, signed_headers(msg_id, body))
            self.assertEqual(status, 202, answer)
            self.assertEqual(json.loads(answer)["id"], f"demo:{msg_id}")
            ids.append(f"demo:{msg_id}")
        # A repeat replays the first answer; a bad signature and an oversized order are refused
        # (they also give the dashboard's refusal and rejection panels a series).
        body = json.dumps({"symbol": "AAPL", "action": "buy", "qty": 1}).encode()
        status, headers, _ = http_post(port, "/webhook/demo", body, signed_headers(ids[0].split(":", 1)[1], body))
        self.assertEqual((status, headers.get("Idempotent-Replayed")), (202, "true"))
        forged = signed_headers(f"{prefix}_forged", body, secret="whsec_" + "QUJD" * 8)
        self.assertEqual(http_post(port, "/webhook/demo", body, forged)[0], 401)
        big = json.dumps({"symbol": "MSFT", "action": "buy", "qty": 5000}).encode()
        status, _, answer = http_post(port, "/webhook/demo", big, signed_headers(f"{prefix}_big", big))
        self.assertEqual(status, 202, answer)
        return ids

    def check_traced_to_fills(self, stack, ids):
        port = stack.ports["audit"]
        pending = set(ids)
        deadline = time.time() + 30
        traces = {}
        while pending and time.time() < deadline:
            for cid in sorted(pending):
                status, body = http_get(port, "/trace/" + urllib.parse.quote(cid, safe=":"))
                if status == 200 and json.loads(body).get("final_type") == "fill":
                    traces[cid] = json.loads(body)
                    pending.discard(cid)
            time.sleep(0.2)
        self.assertFalse(pending, f"not traced to a fill within 30 s: {sorted(pending)}")
        types = [e["type"] for e in traces[ids[0]]["events"]]
        self.assertEqual(types, ["signal", "order", "fill"], traces[ids[0]])
        log(f"{len(ids)} webhooks traced to their fills; e.g. end to end "
            f"{traces[ids[0]].get('end_to_end_ms')} ms")

    def prometheus(self, stack, path):
        status, body = http_get(stack.ports["prometheus"], path, timeout=10)
        self.assertEqual(status, 200, body)
        return json.loads(body)

    def check_prometheus_targets(self, stack):
        deadline = time.time() + 60
        while True:
            active = self.prometheus(stack, "/api/v1/targets")["data"]["activeTargets"]
            health = {t["labels"]["job"]: t["health"] for t in active}
            if set(health) == set(SERVICES) and all(h == "up" for h in health.values()):
                log("prometheus targets:", health)
                return
            self.assertLess(time.time(), deadline, f"prometheus targets not all up: {health}")
            time.sleep(1)

    def check_dashboard(self, stack):
        exported = set()
        for service in SERVICES:
            status, text = http_get(stack.ports[service], "/metrics")
            self.assertEqual(status, 200)
            exported |= {re.split(r"[{ ]", key, maxsplit=1)[0] for key in parse_metrics(text)}
        queries = dashboard_queries()
        self.assertGreaterEqual(len(queries), 10)
        for title, expr in queries:
            unknown = metric_names(expr) - exported
            self.assertFalse(unknown, f"panel '{title}': {expr} names metrics no service exports: {unknown}")
        # Every query runs on Prometheus and returns a finite value. Rates need an increase between
        # two scrapes, so traffic keeps flowing while we wait (a NaN quantile means no increase).
        deadline = time.time() + 90
        empty = queries
        round_ = 0
        while empty:
            round_ += 1
            self.send_webhooks(stack, f"dash{round_}", count=3)
            empty = []
            for title, expr in queries:
                promql = expr.replace("$__rate_interval", "1m")
                answer = self.prometheus(stack, "/api/v1/query?" + urllib.parse.urlencode({"query": promql}))
                self.assertEqual(answer["status"], "success", f"panel '{title}': {promql}: {answer}")
                values = [float(r["value"][1]) for r in answer["data"]["result"]]
                if not any(math.isfinite(v) for v in values):  # no series, or NaN only
                    empty.append((title, expr))
            if empty and time.time() > deadline:
                self.fail(f"dashboard queries without data after 90 s: {empty}")
            if empty:
                time.sleep(2)
        log(f"dashboard: {len(queries)} queries name exported metrics and return data")

    def check_grafana(self, stack):
        """The provisioned data source answers and the dashboard is loaded (anonymous viewer)."""
        port = stack.ports["grafana"]
        status, body = http_get(port, "/api/datasources/uid/tradepipe-prometheus/health", timeout=10)
        self.assertEqual(status, 200, body)
        status, body = http_get(port, "/api/dashboards/uid/tradepipe-pipeline", timeout=10)
        self.assertEqual(status, 200, body)
        with open(DASHBOARD) as f:
            self.assertEqual(len(json.loads(body)["dashboard"]["panels"]), len(json.load(f)["panels"]))
        log("grafana: data source healthy, dashboard loaded")

    def report_image_size(self):
        out = subprocess.run(["docker", "image", "inspect", "tradepipe:dev", "--format", "{{.Size}}"],
                             capture_output=True, text=True, check=True).stdout.strip()
        log(f"image tradepipe:dev: {int(out) / 1e6:.0f} MB")

    # --- with the Redis and Postgres overrides -------------------------------------------------

    def test_redis_and_postgres_overrides(self):
        stack = self.stack(["docker-compose.yml", "deploy/compose.redis.yml", "deploy/compose.postgres.yml"], "b")
        self.up(stack, ["nats", *SERVICES, "prometheus", "redis", "postgres"])
        try:
            ids = self.send_webhooks(stack, "redis", count=4)
            self.check_traced_to_fills(stack, ids)
            # The keys live in Redis: after a gateway restart (its memory gone) a repeat is
            # still recognised and replays the first answer.
            stack.run("restart", "gateway")
            stack.wait_healthy(["gateway"])
            msg_id = ids[0].split(":", 1)[1]
            body = json.dumps({"symbol": "AAPL", "action": "buy", "qty": 1}).encode()
            status, headers, answer = http_post(stack.ports["gateway"], "/webhook/demo", body,
                                                signed_headers(msg_id, body))
            self.assertEqual(status, 202, answer)
            self.assertEqual(headers.get("Idempotent-Replayed"), "true", headers)
        except BaseException:
            stack.dump_logs()
            raise


def remove_leftovers():
    """Containers, volumes and networks of earlier runs of this test that were killed before their
    cleanup ran (a ctest timeout): `restart: unless-stopped` would keep them running."""
    def labelled(kind, *extra):
        key = "{{.Name}}" if kind == "volume" else "{{.ID}}"
        out = subprocess.run(["docker", kind, "ls", *extra, "--filter", "label=com.docker.compose.project",
                              "--format", key + ' {{.Label "com.docker.compose.project"}}'],
                             capture_output=True, text=True).stdout
        return [line.split()[0] for line in out.splitlines() if line.split()[1:2] and
                line.split()[1].startswith("tptest")]
    for kind, extra, remove in (("container", ["-a"], ["rm", "-f"]), ("volume", [], ["rm", "-f"]),
                                ("network", [], ["rm"])):
        ids = labelled(kind, *extra)
        if ids:
            log(f"removing {len(ids)} leftover {kind}(s) of earlier runs")
            subprocess.run(["docker", kind, *remove, *ids], capture_output=True)


def prepare_engine():
    """The compose command to use; exits 77 (skipped) where no engine can be had."""
    prepared = subprocess.run([os.path.join(ROOT, "scripts", "docker-offline")], cwd=ROOT)
    if prepared.returncode == 3:
        log("SKIPPED: no Docker engine can be had on this machine (see the message above)")
        sys.exit(SKIP)
    if prepared.returncode != 0:
        sys.exit(f"compose-test: scripts/docker-offline failed with exit code {prepared.returncode}")
    compose = compose_command()
    if compose is None:
        log("SKIPPED: neither `docker compose` nor `docker-compose` is installed")
        sys.exit(SKIP)
    log("using", " ".join(compose))
    return compose


if __name__ == "__main__":
    ComposeTest.compose = prepare_engine()
    remove_leftovers()
    unittest.main(verbosity=2)
