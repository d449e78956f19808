"""A real tradepipe stack for integration and end-to-end tests.

Starts nats-server (JetStream, ephemeral loopback ports, a temporary storage directory) and the
four service binaries, waits until every /ready answers 200, and tears everything down (and
deletes the directory) on exit, even when the test fails. Nothing is mocked.

    with Stack(bin_dir, agent_args=["--max-order-qty", "150"]) as stack:
        stack.post_webhook(...)
"""
import base64
import hashlib
import hmac
import http.client
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
import urllib.request

from proxy import Proxy

DEMO_SECRET = "whsec_dHJhZGVwaXBlLWRlbW8tc2VjcmV0"  # the documented DEMO key, not a secret


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sign(secret, msg_id, timestamp, body):
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def signed_headers(msg_id, body, secret=DEMO_SECRET, timestamp=None):
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": ts,
        "webhook-signature": sign(secret, msg_id, ts, body),
    }


def parse_metrics(text):
    """Prometheus text format -> {'name{labels}': value}."""
    values = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, _, value = line.rpartition(" ")
        values[name] = float(value)
    return values


class Stack:
    SERVICES = {"gateway": "gateway/gateway", "agent": "agent/agent",
                "exec-sim": "exec-sim/exec-sim", "audit": "audit/audit"}

    def __init__(self, bin_dir, agent_args=(), gateway_args=(), exec_args=(), audit_args=(), redis=False,
                 extra_env=None, proxies=()):
        """`proxies`: servers ("nats", "redis") the services reach through a test-controlled
        Proxy (self.proxies[name]) instead of directly."""
        self.bin_dir = bin_dir
        self.proxy_names = tuple(proxies)
        self.proxies = {}
        self.extra_env = dict(extra_env or {})
        self.redis = redis
        self.extra = {"gateway": ["--demo", *gateway_args], "agent": list(agent_args),
                      "exec-sim": list(exec_args), "audit": list(audit_args)}
        self.procs = {}
        self.argv = {}
        self.env = None
        self.ports = {}
        self.dir = None

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="tradepipe-e2e-")
        try:
            self._start()
        except BaseException:
            self.dump_logs()
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, exc_type, *exc):
        # Services first (they drain), nats-server last; a clean shutdown is part of the contract.
        problems = []
        infra = ("redis-server", "nats-server")
        order = [n for n in reversed(list(self.procs)) if n not in infra] + [n for n in infra if n in self.procs]
        for name in order:
            code = self.stop(name)
            if code not in (0, None) and name not in infra:
                problems.append(f"{name} exited with {code} on SIGTERM")
        for proxy in self.proxies.values():
            proxy.close()
        problems += self._sanitizer_reports()
        if problems and exc_type is None:
            self.dump_logs()
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
        if problems and exc_type is None:
            raise AssertionError("; ".join(problems))
        return False

    def _sanitizer_reports(self):
        found = []
        for f in os.listdir(self.dir or "."):
            if f.endswith(".log"):
                with open(os.path.join(self.dir, f), errors="replace") as fh:
                    text = fh.read()
                if "Sanitizer" in text or "runtime error:" in text:
                    found.append(f"sanitizer report in {f}")
        return found

    @property
    def db_path(self):
        return os.path.join(self.dir, "audit.db")

    def _spawn(self, name, argv, env=None):
        self.argv[name] = (argv, env)
        with open(os.path.join(self.dir, f"{name}.log"), "ab") as log:  # the child keeps its own copy
            self.procs[name] = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env)

    def start_gateway_replica(self, name):
        """Another gateway process on its own port, same NATS (and Redis, if any), like a replica."""
        self.ports[name] = free_port()
        argv = [os.path.join(self.bin_dir, self.SERVICES["gateway"]), "--http-host", "127.0.0.1",
                "--http-port", str(self.ports[name]), *self.extra["gateway"]]
        self._spawn(name, argv, self.env)
        self._wait(lambda: self.get(name, "/ready")[0] == 200, f"{name} /ready")

    def kill(self, name):
        """kill -9: no shutdown, no drain, as in a crash."""
        self.stop(name, signal.SIGKILL)

    def pause(self, name):
        """SIGSTOP: the process keeps its sockets open and answers nothing (a stalled server)."""
        pid = self.procs[name].pid
        self.procs[name].send_signal(signal.SIGSTOP)
        deadline = time.time() + 2
        while time.time() < deadline:  # the signal is delivered asynchronously
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "T":
                    return
            time.sleep(0.001)

    def resume(self, name):
        self.procs[name].send_signal(signal.SIGCONT)

    def restart(self, name):
        """Starts a stopped process again with the same command line and waits until it is ready."""
        argv, env = self.argv[name]
        self._spawn(name, argv, env)
        if name in self.SERVICES:
            self._wait(lambda: self.get(name, "/ready")[0] == 200, f"{name} /ready after restart")
        elif name == "redis-server":
            self._wait(lambda: socket.create_connection(("127.0.0.1", self.ports["redis"]), 1).close() is None,
                       "redis-server restart")
        else:
            self._wait(lambda: self._get(self.ports["nats-monitor"], "/healthz")[0] == 200, "nats-server restart")

    def _start(self):
        self.ports["nats"] = free_port()
        self.ports["nats-monitor"] = free_port()
        self._spawn("nats-server", ["nats-server", "-js", "-a", "127.0.0.1", "-p", str(self.ports["nats"]),
                                    "-m", str(self.ports["nats-monitor"]), "-sd", os.path.join(self.dir, "nats")])
        self._wait(lambda: self._get(self.ports["nats-monitor"], "/healthz")[0] == 200, "nats-server")
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEPIPE_")}
        env["TRADEPIPE_NATS_URL"] = f"nats://127.0.0.1:{self._reach('nats')}"
        env.update(self.extra_env)
        if self.redis:
            self.ports["redis"] = free_port()
            self._spawn("redis-server", ["redis-server", "--bind", "127.0.0.1", "--port", str(self.ports["redis"]),
                                         "--save", "", "--appendonly", "no", "--dir", self.dir])
            self._wait(lambda: socket.create_connection(("127.0.0.1", self.ports["redis"]), 1).close() is None,
                       "redis-server")
            env["TRADEPIPE_GATEWAY_REDIS_URL"] = f"redis://127.0.0.1:{self._reach('redis')}"
        self.env = env
        for name, rel in self.SERVICES.items():
            self.ports[name] = free_port()
            argv = [os.path.join(self.bin_dir, rel), "--http-host", "127.0.0.1", "--http-port", str(self.ports[name])]
            if name == "audit":
                argv += ["--db", self.db_path]
            self._spawn(name, argv + self.extra[name], env)
        for name in self.SERVICES:
            self._wait(lambda n=name: self.get(n, "/ready")[0] == 200, f"{name} /ready")

    def _reach(self, server):
        """The port the services use for `server`: its own, or its proxy's."""
        if server not in self.proxy_names:
            return self.ports[server]
        self.proxies[server] = Proxy(self.ports[server]).__enter__()
        return self.proxies[server].port

    def _wait(self, predicate, what, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for name, p in self.procs.items():
                if p.poll() is not None:
                    raise RuntimeError(f"{name} exited with {p.returncode} while waiting for {what}")
            try:
                if predicate():
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"timed out waiting for {what}")

    def stop(self, name, sig=signal.SIGTERM):
        """Stops a process; returns its exit code (None if it was not running)."""
        p = self.procs.pop(name, None)
        if p is None:
            return None
        if p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                return "timeout (killed)"
        return p.returncode

    def dump_logs(self, lines=30):
        if not self.dir:
            return
        for f in sorted(os.listdir(self.dir)):
            if f.endswith(".log"):
                with open(os.path.join(self.dir, f), errors="replace") as fh:
                    tail = fh.readlines()[-lines:]
                print(f"---- {f} (last {len(tail)} lines)\n" + "".join(tail))

    @staticmethod
    def _get(port, path):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def get(self, service, path):
        return self._get(self.ports[service], path)

    def metrics(self, service):
        status, text = self.get(service, "/metrics")
        assert status == 200, f"{service} /metrics answered {status}"
        return parse_metrics(text)

    def event_streams(self):
        """jetstream()'s streams of events only: AGENT_STATE holds the agent's positions snapshots,
        written at its start and stop and on a timer (a count that depends on timing)."""
        streams, _ = self.jetstream()
        return {name: state for name, state in streams.items() if name != "AGENT_STATE"}

    def jetstream(self):
        """nats-server's /jsz: stream name -> state, consumer name -> info."""
        _, text = self._get(self.ports["nats-monitor"], "/jsz?streams=true&consumers=true")
        data = json.loads(text)
        streams, consumers = {}, {}
        for account in data.get("account_details", []):
            for s in account.get("stream_detail", []):
                streams[s["name"]] = s["state"]
                for c in s.get("consumer_detail", []) or []:
                    consumers[c["name"]] = c
        return streams, consumers

    def audit_counts(self):
        """Rows of the audit database by event type (read-only)."""
        with sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True) as db:
            return dict(db.execute("SELECT type, count(*) FROM events GROUP BY type").fetchall())

    def wait_for_audit_counts(self, expected, timeout=60):
        """Polls until the audit rows by type equal `expected`; returns the last counts seen."""
        counts = {}
        deadline = time.time() + timeout
        while time.time() < deadline:
            counts = self.audit_counts()
            if counts == expected:
                break
            time.sleep(0.2)
        return counts

    def connection(self, service="gateway"):
        return http.client.HTTPConnection("127.0.0.1", self.ports[service], timeout=10)

    def post_webhook(self, msg_id, body, service="gateway", source="demo"):
        """One webhook signed with the DEMO key, on a connection of its own: (status, headers, text)."""
        conn = self.connection(service)
        try:
            conn.request("POST", f"/webhook/{source}", body=body, headers=signed_headers(msg_id, body))
            r = conn.getresponse()
            return r.status, dict(r.getheaders()), r.read().decode()
        finally:
            conn.close()

    def js_publish(self, subject, data, msg_id=None, timeout=5):
        """Publishes straight into JetStream (as a foreign producer would, bypassing the gateway)
        and returns the PubAck as a dict; the NATS protocol is a few lines of text."""
        with socket.create_connection(("127.0.0.1", self.ports["nats"]), timeout=timeout) as s:
            f = s.makefile("rb")
            f.readline()  # INFO
            inbox = "_INBOX.test." + hashlib.sha256(os.urandom(8)).hexdigest()[:16]
            headers = b"NATS/1.0\r\n" + (f"Nats-Msg-Id: {msg_id}\r\n".encode() if msg_id else b"") + b"\r\n"
            payload = data if isinstance(data, bytes) else data.encode()
            s.sendall(b'CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true}\r\n'
                      + f"SUB {inbox} 1\r\n".encode()
                      + f"HPUB {subject} {inbox} {len(headers)} {len(headers) + len(payload)}\r\n".encode()
                      + headers + payload + b"\r\n")
            while True:
                line = f.readline()
                if not line:
                    raise RuntimeError("nats closed the connection before the PubAck")
                if line.startswith(b"PING"):
                    s.sendall(b"PONG\r\n")
                elif line.startswith(b"-ERR"):
                    raise RuntimeError(line.decode().strip())
                elif line.startswith(b"MSG") or line.startswith(b"HMSG"):
                    parts = line.split()
                    body = f.read(int(parts[-1]) + 2)[:-2]
                    if line.startswith(b"HMSG"):
                        body = body[int(parts[-2]):]
                    return json.loads(body) if body else {"error": "no responders"}
