"""Renders the fault suite's JSON-lines report (TRADEPIPE_FAULTS_REPORT) as the Markdown table of
docs/faults.md, Jepsen's columns:

    python3 tests/faults/report.py report.jsonl
"""
import json
import sys

COLUMNS = [("scenario", "scenario"), ("sent", "sent"), ("accepted", "accepted (202)"), ("audited", "audited"),
           ("lost", "lost"), ("duplicated", "duplicated"), ("indeterminate", "indeterminate"),
           ("recover_s", "serving again (s)"), ("drain_s", "caught up (s)"),
           ("during_fault_per_s", "202/s during fault"), ("load_per_s", "load (/s)")]


def main(path):
    with open(path) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    print("| " + " | ".join(title for _, title in COLUMNS) + " |")
    print("|" + "---|" * len(COLUMNS))
    for row in sorted(rows, key=lambda r: r["scenario"]):
        print("| " + " | ".join("—" if row.get(key) is None else str(row[key]) for key, _ in COLUMNS) + " |")


if __name__ == "__main__":
    main(sys.argv[1])
