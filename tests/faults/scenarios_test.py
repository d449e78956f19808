"""Fault suite scenarios on the shared driver (driver.py): steady signed load, faults at seeded
random moments, drain, then the Jepsen-style checks. One ctest entry per scenario:

    python3 tests/faults/scenarios_test.py build/release/services Scenarios.test_gateway_kill_9
"""
import os
import sqlite3
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
sys.path.insert(0, os.path.dirname(__file__))
from driver import SCALE, Load, check  # noqa: E402
from stack import Stack  # noqa: E402

BIN_DIR = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "release", "services")
LOAD_S = 8 * SCALE  # seconds of load around the faults in a short (CI) round


def outage(load, stop, restore, before, down):
    """Waits a random time in `before`, calls `stop`, waits a random time in `down`, calls
    `restore`, and records the fault's span (seconds, scaled)."""
    load.sleep_random(*before)
    start = time.time()
    stop()
    load.sleep_random(*down)
    restore()
    load.mark_fault(start, time.time())


class Scenarios(unittest.TestCase):
    def run_scenario(self, stack, name, scenario, inject, rate=50):
        load = Load(stack, name, rate=rate)
        try:
            with load.running():
                started = time.time()
                inject(load)
                time.sleep(max(0.0, LOAD_S - (time.time() - started)))
            return check(self, stack, load, scenario)
        except BaseException:
            stack.dump_logs()
            raise

    def test_consumers_kill_9_at_random_moments(self):
        """Scenario 1: agent, exec-sim and audit each killed (-9) twice at random moments."""
        def inject(load):
            victims = ["agent", "exec-sim", "audit"] * 2
            load.rng.shuffle(victims)
            for victim in victims:
                outage(load, lambda v=victim: stack.kill(v), lambda v=victim: stack.restart(v), (0.2, 1.0), (0.0, 0.5))

        with Stack(BIN_DIR) as stack:
            self.run_scenario(stack, "consumers", "1 kill -9 of agent, exec-sim, audit (2 each)", inject)

    def test_gateway_kill_9_mid_load(self):
        """Scenario 2: the gateway killed (-9) twice mid-load; unanswered requests may be lost, no 202."""
        def inject(load):
            for _ in range(2):
                outage(load, lambda: stack.kill("gateway"), lambda: stack.restart("gateway"), (0.5, 2.0), (0.1, 0.8))

        with Stack(BIN_DIR) as stack:
            self.run_scenario(stack, "gateway", "2 kill -9 of the gateway (twice)", inject)

    def test_nats_server_kill_9_restarted_on_the_same_store(self):
        """Scenario 3: nats-server killed (-9) and restarted on the same storage directory."""
        def inject(load):
            outage(load, lambda: stack.kill("nats-server"), lambda: stack.restart("nats-server"), (1.0, 3.0), (0.5, 2.0))

        with Stack(BIN_DIR) as stack:
            self.run_scenario(stack, "natskill", "3 kill -9 of nats-server, same store", inject)

    def test_redis_stopped_and_started_under_the_redis_store(self):
        """Scenario 4: Redis (the gateway's idempotency store) killed and started again, empty."""
        def inject(load):
            outage(load, lambda: stack.kill("redis-server"), lambda: stack.restart("redis-server"), (1.0, 3.0), (1.0, 2.0))

        with Stack(BIN_DIR, redis=True) as stack:
            self.run_scenario(stack, "redis", "4 Redis stopped and started (gateway on Redis)", inject)

    def test_signals_full_while_the_agent_is_stopped(self):
        """Scenario 5: SIGNALS (interest retention: it holds what the agent or the audit has not
        acked yet) limited to 48 KiB; the agent stopped (-9) long enough for it to fill: 503 at the
        door, nothing dropped, and room again as soon as the agent is back and acks."""
        def inject(load):
            outage(load, lambda: stack.kill("agent"), lambda: stack.restart("agent"), (0.5, 1.5), (3.0, 4.0))

        with Stack(BIN_DIR, extra_env={"TRADEPIPE_SIGNALS_MAX_BYTES": "49152"}) as stack:
            row = self.run_scenario(stack, "full", f"5 SIGNALS full (48 KiB), agent stopped {3 * SCALE:g}-{4 * SCALE:g} s", inject)
            self.assertGreater(row["statuses"].get("503", 0), 0, "SIGNALS never filled: the door never said 503")
            self.assertIsNotNone(row["recover_s"])

    def test_audit_database_unwritable_for_a_while(self):
        """Scenario 6: another process holds SQLite's write lock longer than the audit's busy
        timeout (5 s): its writes fail, it holds its batch and retries; nothing is acked unwritten,
        nothing dead-lettered."""
        def inject(load):
            load.sleep_random(0.5, 2.0)
            locked = threading.Event()
            release = threading.Event()

            def hold():
                db = sqlite3.connect(stack.db_path, timeout=30, isolation_level=None)
                db.execute("BEGIN EXCLUSIVE")
                locked.set()
                release.wait()
                db.execute("ROLLBACK")
                db.close()

            holder = threading.Thread(target=hold)
            start = time.time()
            holder.start()
            locked.wait(30)
            time.sleep(7 * SCALE)
            stalled = stack.metrics("audit")
            release.set()
            holder.join()
            load.mark_fault(start, time.time())
            failures = sum(v for k, v in stalled.items() if k.startswith("tradepipe_consumer_sink_failures_total"))
            self.assertGreater(failures, 0, "the audit's writes failed while the database was locked")

        with Stack(BIN_DIR) as stack:
            self.run_scenario(stack, "auditdb", f"6 audit database locked {7 * SCALE:g} s (busy timeout 5 s)", inject)

    def test_nats_connection_cut_then_restored(self):
        """Scenario 9: every service's connection to nats-server cut (reset, new ones refused) for a
        few seconds by a loopback proxy, then restored."""
        def inject(load):
            outage(load, stack.proxies["nats"].cut, stack.proxies["nats"].restore, (1.0, 3.0), (1.0, 3.0))

        with Stack(BIN_DIR, proxies=("nats",)) as stack:
            row = self.run_scenario(stack, "natscut", f"9 nats connection cut {SCALE:g}-{3 * SCALE:g} s (proxy)",
                                    inject)
            self.assertGreater(row["statuses"].get("503", 0), 0, "the cut was never seen at the door")


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v", *sys.argv[2:]])
