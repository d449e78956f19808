#!/usr/bin/env python3
"""The README's TradingView alert template (docs/tradingview-alert.json), rendered as TradingView
renders it for each case a strategy produces — an entry, a reverse, an exit to flat, a fractional
quantity — and sent through a real stack with the body-token scheme: each becomes the orders the
trader meant, and the position follows. The README must show the template exactly."""
import argparse
import datetime
import decimal
import http.client
import json
import os
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from stack import Stack  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN_DIR = os.path.join(ROOT, "build", "release", "services")
TEMPLATE = os.path.join(ROOT, "docs", "tradingview-alert.json")
TOKEN = "tv-template-token-0123456789"

# What TradingView substitutes, case by case: (name, placeholders, orders expected as (side, qty),
# the position after).
CASES = (
    ("entry", {"strategy.order.action": "buy", "strategy.order.contracts": "1",
               "strategy.market_position": "long", "strategy.prev_market_position": "flat"},
     [("buy", "1")], "1"),
    # A reverse's contracts cover the close and the new position: 2 = close 1 long + open 1 short.
    ("reverse", {"strategy.order.action": "sell", "strategy.order.contracts": "2",
                 "strategy.market_position": "short", "strategy.prev_market_position": "long"},
     [("sell", "1"), ("sell", "1")], "-1"),
    ("exit to flat", {"strategy.order.action": "buy", "strategy.order.contracts": "1",
                      "strategy.market_position": "flat", "strategy.prev_market_position": "short"},
     [("buy", "1")], "0"),
    ("fractional entry", {"strategy.order.action": "buy", "strategy.order.contracts": "0.00125",
                          "strategy.market_position": "long", "strategy.prev_market_position": "flat"},
     [("buy", "0.00125")], "0.00125"),
)


def render(template, values):
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    common = {"timenow": now, "exchange": "BINANCE", "ticker": "BTCUSDT", "close": "43012.5"}
    text = template.replace("PASTE_YOUR_TOKEN", TOKEN)
    for key, value in {**common, **values}.items():
        text = text.replace("{{" + key + "}}", value)
    assert "{{" not in text, f"a placeholder is left: {text}"
    return text


class TradingViewTemplate(unittest.TestCase):
    def test_the_readme_shows_the_template(self):
        with open(TEMPLATE) as f:
            template = f.read().strip()
        with open(os.path.join(ROOT, "README.md")) as f:
            self.assertIn(template, f.read(), "README.md and docs/tradingview-alert.json differ")
        json.loads(render(template, CASES[0][1]))  # renders to JSON

    def test_each_rendered_case_becomes_the_orders_meant(self):
        with open(TEMPLATE) as f:
            template = f.read()
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump({"sources": {"tradingview": {"schemes": ["body-token"]}}}, f)
        env = {"TRADEPIPE_GATEWAY_SOURCE_TRADINGVIEW_TOKENS": TOKEN}
        try:
            with Stack(BIN_DIR, gateway_args=["--sources-file", f.name], extra_env=env) as stack:
                for name, values, orders, position in CASES:
                    body = render(template, values).encode()
                    conn = http.client.HTTPConnection("127.0.0.1", stack.ports["gateway"], timeout=10)
                    conn.request("POST", "/webhook/tradingview", body=body, headers={"content-type": "text/plain"})
                    r = conn.getresponse()
                    answer = json.loads(r.read().decode())
                    conn.close()
                    self.assertEqual(r.status, 202, f"{name}: {answer}")
                    self.assertEqual(self.orders_of(stack, answer["id"], len(orders)), orders, name)
                    self.assertEqual(self.position(stack, position), decimal.Decimal(position), name)
        finally:
            os.unlink(f.name)

    def orders_of(self, stack, signal_id, count):
        deadline, orders = time.time() + 20, []
        while time.time() < deadline:
            status, text = stack.get("audit", f"/trace/{signal_id}")
            events = json.loads(text).get("events", []) if status == 200 else []
            orders = [(e["payload"]["side"], e["payload"]["qty"]) for e in events if e["type"] == "order"]
            fills = [e for e in events if e["type"] == "fill"]
            if len(orders) >= count and len(fills) >= count:
                break
            time.sleep(0.05)
        return orders

    def position(self, stack, expected):
        deadline, got = time.time() + 20, None
        while time.time() < deadline:
            symbols = json.loads(stack.get("agent", "/positions")[1])["symbols"]
            got = decimal.Decimal(symbols.get("BTCUSDT", {"qty": "0"})["qty"])
            if got == decimal.Decimal(expected):
                break
            time.sleep(0.05)
        return got


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", default=BIN_DIR)
    args, rest = parser.parse_known_args()
    BIN_DIR = os.path.abspath(args.bin_dir)
    unittest.main(argv=[sys.argv[0], "-v", *rest])
