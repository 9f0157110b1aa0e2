#!/usr/bin/env python3
"""bench/report.py: reads Google Benchmark JSON files and prints the comparison table.

Pairs "<op>/ours[/<arg>]" with "<op>/primitive[/<arg>]" (see bench_common.hpp), using the median
of the repetitions and CPU time (the machine is shared, wall time is noisier), and prints
ours / primitive against the target for that operation. Rows with no primitive (end-to-end runs)
are printed with their counters. Usage: report.py [--markdown] file.json ...
Exit status 0; a ratio over target is reported, not fatal (timings are not assertions)."""
import json
import sys

# Upper bounds on ours / primitive (issue 6).
TARGETS = {"seal": 1.15, "open": 1.15, "open_new_sender": 1.15, "onion_build": 1.3}
# Issue 12: attachment encryption and decryption against the bare AES/HMAC/SHA-256 or secretstream calls.
TARGETS.update({op: 1.1 for op in ("encrypt_cbc_hmac", "decrypt_cbc_hmac", "encrypt_stream", "decrypt_stream",
                                   "encrypt_gcm", "decrypt_gcm")})
UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
SKIP_KEYS = {"name", "run_name", "run_type", "repetitions", "repetition_index", "threads", "iterations",
             "real_time", "cpu_time", "time_unit", "family_index", "per_family_instance_index",
             "aggregate_name", "aggregate_unit", "label", "error_occurred", "error_message"}


def load(paths):
    rows = {}
    for p in paths:
        with open(p) as f:
            data = json.load(f)
        for b in data.get("benchmarks", []):
            if b.get("error_occurred"):
                rows[b.get("run_name", b["name"])] = {"error": b.get("error_message", "error")}
                continue
            kind = b.get("run_type", "iteration")
            if kind == "aggregate" and b.get("aggregate_name") != "median":
                continue
            name = b.get("run_name", b["name"])
            # Fixed-iteration end-to-end runs carry "/iterations:N" and "/manual_time" in their names,
            # wall-time runs (bench_store) "/real_time".
            name = "/".join(p for p in name.split("/")
                            if not p.startswith("iterations:") and p not in ("manual_time", "real_time"))
            if kind == "iteration" and name in rows and "median" in rows[name].get("src", ""):
                continue
            if kind == "iteration" and b.get("repetitions", 1) > 1:
                continue  # the median aggregate stands for these
            scale = UNIT_NS.get(b.get("time_unit", "ns"), 1.0)
            counters = {k: v for k, v in b.items() if k not in SKIP_KEYS and isinstance(v, (int, float))}
            rows[name] = {"cpu_ns": b["cpu_time"] * scale, "real_ns": b["real_time"] * scale,
                          "counters": counters, "src": kind + ("/median" if kind == "aggregate" else ""),
                          "label": b.get("label", "")}
    return rows


def fmt_ns(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} us"
    return f"{ns:.0f} ns"


def fmt_counter(v):
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def main(argv):
    md = "--markdown" in argv
    paths = [a for a in argv if not a.startswith("--")]
    rows = load(paths)
    paired, single = [], []
    for name, r in rows.items():
        parts = name.split("/")
        if len(parts) >= 2 and parts[1] == "ours":
            prim = "/".join([parts[0], "primitive"] + parts[2:])
            paired.append((name, r, rows.get(prim)))
        elif len(parts) >= 2 and parts[1] == "primitive":
            continue
        else:
            single.append((name, r))

    out = []
    if not paired:
        pass
    elif md:
        out.append("| operation | ours (CPU) | primitive (CPU) | ratio | target | within |")
        out.append("|---|---:|---:|---:|---:|---|")
    else:
        out.append(f"{'operation':34} {'ours':>12} {'primitive':>12} {'ratio':>7} {'target':>7}  within")
    for name, r, p in paired if paired else []:
        op = name.split("/")[0]
        label = name.replace("/ours", "")
        if "error" in r:
            out.append(f"| {label} | error: {r['error']} | | | | |" if md else f"{label:34} error: {r['error']}")
            continue
        ours = r["cpu_ns"]
        prim = p["cpu_ns"] if p and "cpu_ns" in p else None
        ratio = ours / prim if prim else None
        target = TARGETS.get(op)
        within = "-" if ratio is None or target is None else ("yes" if ratio <= target else "NO")
        cells = [label, fmt_ns(ours), fmt_ns(prim) if prim else "-",
                 f"{ratio:.2f}x" if ratio else "-", f"<= {target:.2f}x" if target else "-", within]
        if md:
            out.append("| " + " | ".join(cells) + " |")
        else:
            out.append(f"{cells[0]:34} {cells[1]:>12} {cells[2]:>12} {cells[3]:>7} {cells[4]:>7}  {cells[5]}")
    if single:
        if paired:
            out.append("")
        if md:
            out.append("| end-to-end / other | wall time | counters |")
            out.append("|---|---:|---|")
        for name, r in single:
            if "error" in r:
                out.append(f"| {name} | error: {r['error']} | |" if md else f"{name:34} error: {r['error']}")
                continue
            cs = ", ".join(f"{k}={fmt_counter(v)}" for k, v in sorted(r["counters"].items()))
            if md:
                out.append(f"| {name} | {fmt_ns(r['real_ns'])} | {cs} |")
            else:
                out.append(f"{name:34} {fmt_ns(r['real_ns']):>12}  {cs}")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
