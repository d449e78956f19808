"""Prints one signal's trace (GET /trace/{id} of audit) as a short human summary."""
import json
import sys

trace = json.load(sys.stdin)
events = trace.get("events", [])
print(f"  trace {trace['correlation_id']}: " + " -> ".join(e["type"] for e in events))
for e in events:
    p = e.get("payload", {})
    detail = ", ".join(f"{k}={v}" for k, v in p.items() if v is not None)
    print(f"    {e['type']:<15} {e['subject']:<28} {detail}")
stages = trace.get("stages", [])
if stages:
    print("    stages: " + ", ".join(f"{s['from']}->{s['to']} {s['ms']:.3f} ms" for s in stages))
    print(f"    end to end (received -> {trace['final_type']} recorded): {trace['end_to_end_ms']:.3f} ms")
