#!/usr/bin/env python3
"""Reads callgrind output files (bench/instructions.sh makes them) and prints the client's
instructions per message beside the CPU target's base, one seal plus a twentieth of an onion build.

  instructions.py base ENVELOPE_1 ENVELOPE_2 ONION_1 ONION_2
        instructions per call of session::envelope::seal and of session::onion::build, from two
        runs of each benchmark with fewer and more calls (the difference leaves out one-time work,
        such as the first call's lazy set-up)
  instructions.py client BASE_JSON CASE N1 PREFIX1 N2 PREFIX2
        the client's instructions per message between two runs of one e2e case, N1 and N2
        messages, whose per-thread files are PREFIX1-* and PREFIX2-* (--separate-threads=yes),
        and their ratio to the base (BASE_JSON: what `base` printed)
  instructions.py table FILE
        the table of FILE's lines (what `base` and `client` printed)

`base` and `client` print one JSON object. What counts as the client in an e2e run: the work of the timed call
on the main thread (Client::broadcast or Client::send_many, whichever the benchmark called), and
every instruction of the client's own threads (its executor's, named by ThreadPool, and the
transport's I/O thread, IoLoop::run). The in-process local network's threads are not counted. The
difference of two runs leaves out what does not grow with the messages (the client's bootstrap).
"""
import glob
import json
import re
import sys

# A function (or a call) line of callgrind's compressed format: "fn=(12) name" or "cfn=(12)".
NAME_LINE = re.compile(r"^(fn|cfn)=\((\d+)\)(?: (.*))?$")
CLIENT_THREAD = re.compile(r"session::network::\(anonymous namespace\)::IoLoop::run\(|"
                           r"session::\(anonymous namespace\)::ThreadPool::")
# A batch request carries up to 20 stores: each message's share of one onion build (the base).
ONION_SHARE = 20
TIMED_CALL = re.compile(r"^session::Client::(broadcast|send_many)\(")


class Profile:
    """One callgrind file: its total, the functions it defines, and per callee the calls made to it
    and their inclusive cost, with the caller's name (first event only: Ir)."""

    def __init__(self, path):
        self.path = path
        self.total = None
        self.defined = set()
        self.calls = []  # (caller, callee, count, inclusive)
        names = {}
        caller = callee = None
        pending = None
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                line = line.rstrip("\n")
                if pending is not None:
                    parts = line.split()
                    if len(parts) >= 2 and parts[1].isdigit():
                        self.calls.append((caller, callee, pending, int(parts[1])))
                    pending = None
                    continue
                m = NAME_LINE.match(line)
                if m:
                    kind, ident, name = m.groups()
                    if name is not None:
                        names[ident] = name
                    resolved = names.get(ident, "?")
                    if kind == "fn":
                        caller = resolved
                        self.defined.add(resolved)
                    else:
                        callee = resolved
                    continue
                if line.startswith("calls="):
                    pending = int(line[len("calls="):].split()[0])
                    continue
                if line.startswith(("summary:", "totals:")):
                    self.total = int(line.split(":", 1)[1].split()[0])
        if self.total is None:
            raise SystemExit(f"instructions.py: {path}: no summary line (not a finished callgrind file?)")

    def called(self, pattern, exclude_callers=None):
        """(calls, inclusive instructions) of calls whose callee matches `pattern`, leaving out calls
        made from callers matching `exclude_callers` (the nested ones)."""
        n = cost = 0
        for caller, callee, count, inclusive in self.calls:
            if not pattern.search(callee):
                continue
            if exclude_callers is not None and exclude_callers.search(caller or ""):
                continue
            n += count
            cost += inclusive
        return n, cost


def per_call(path1, path2, function):
    pattern = re.compile("^" + re.escape(function) + r"\(")
    n1, cost1 = Profile(path1).called(pattern)
    n2, cost2 = Profile(path2).called(pattern)
    if n2 <= n1:
        raise SystemExit(f"instructions.py: {path2} has {n2} calls of {function}, not more than {path1}'s {n1}")
    return (cost2 - cost1) / (n2 - n1), n2 - n1


def client_cost(prefix):
    files = sorted(glob.glob(prefix + "-*"))
    if not files:
        raise SystemExit(f"instructions.py: no files {prefix}-*")
    main_file = [f for f in files if f.endswith("-01")]
    if len(main_file) != 1:
        raise SystemExit(f"instructions.py: no main thread's file ({prefix}-01)")
    total = 0
    threads = 0
    seals = 0
    for path in files:
        p = Profile(path)
        seals += p.called(re.compile(r"^session::envelope::seal\("))[0]
        if path in main_file:
            calls, cost = p.called(TIMED_CALL, exclude_callers=re.compile(r"^session::Client::"))
            if calls != 1:
                raise SystemExit(f"instructions.py: {path}: {calls} timed calls (expected one)")
            total += cost
        elif any(CLIENT_THREAD.search(name) for name in p.defined):
            total += p.total
            threads += 1
    return total, threads, seals


def main(argv):
    if len(argv) == 6 and argv[1] == "base":
        seal, seal_calls = per_call(argv[2], argv[3], "session::envelope::seal")
        onion, onion_calls = per_call(argv[4], argv[5], "session::onion::build")
        print(json.dumps({"seal_instructions": round(seal), "seal_calls": seal_calls,
                          "onion_build_instructions": round(onion), "onion_build_calls": onion_calls}))
        return 0
    if len(argv) == 8 and argv[1] == "client":
        with open(argv[2], encoding="utf-8") as f:
            base = json.load(f)
        n1, n2 = int(argv[4]), int(argv[6])
        if n2 <= n1:
            raise SystemExit("instructions.py: the second run must send more messages than the first")
        c1, t1, s1 = client_cost(argv[5])
        c2, t2, s2 = client_cost(argv[7])
        per_msg = (c2 - c1) / (n2 - n1)
        target_base = base["seal_instructions"] + base["onion_build_instructions"] / ONION_SHARE
        print(json.dumps({"case": argv[3], "client_instructions_per_msg": round(per_msg),
                          "base_instructions": round(target_base), "ratio": round(per_msg / target_base, 3),
                          "seals_per_msg": round((s2 - s1) / (n2 - n1), 3), "client_threads_counted": [t1, t2],
                          "client_instructions": [c1, c2], "messages": [n1, n2]}))
        return 0
    if len(argv) == 3 and argv[1] == "table":
        with open(argv[2], encoding="utf-8") as f:
            rows = [json.loads(line) for line in f if line.strip()]
        base = next((r for r in rows if "seal_instructions" in r), None)
        if base:
            print(f"seal: {base['seal_instructions']:,} instructions a call; onion build: "
                  f"{base['onion_build_instructions']:,} (a {ONION_SHARE}th: "
                  f"{base['onion_build_instructions'] / ONION_SHARE:,.0f})")
        print(f"{'case':<28} {'client instr/msg':>17} {'base':>11} {'ratio':>7}  target")
        for r in rows:
            if "case" in r:
                print(f"{r['case']:<28} {r['client_instructions_per_msg']:>17,} {r['base_instructions']:>11,} "
                      f"{r['ratio']:>6.2f}x  <= 1.30x")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
