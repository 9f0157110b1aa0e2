#!/usr/bin/env python3
"""test_bench_instructions.py: bench/instructions.py's reading of callgrind files, on small files
written here in callgrind's compressed format (names given once, then by number)."""
import contextlib
import io
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
import instructions  # noqa: E402

BROADCAST = "session::Client::broadcast(std::span<session::SessionId const>, std::string_view)"
SEND_MANY = "session::Client::send_many(std::span<session::detail::Outgoing const>)"
SEAL = "session::envelope::seal(session::Identity const&, session::SessionId const&)"
BUILD = "session::onion::build(std::span<session::onion::NodeKeys const>)"


def callgrind(total, calls, defined=()):
    """A callgrind file: `calls` is a list of (caller, callee, count, inclusive cost); each name is
    given in full the first time and by number after, as callgrind writes it."""
    ids = {}

    def ref(name):
        if name in ids:
            return f"({ids[name]})"
        ids[name] = len(ids) + 1
        return f"({ids[name]}) {name}"

    lines = ["version: 1", "creator: callgrind-3.19.0", "events: Ir", ""]
    for name in defined:
        lines += [f"fn={ref(name)}", "0 5"]
    for caller, callee, count, cost in calls:
        lines += [f"fn={ref(caller)}", "0 3", f"cfn={ref(callee)}", f"calls={count} 0", f"+1 {cost}", ""]
    lines.append(f"summary: {total}")
    return "\n".join(lines) + "\n"


class Instructions(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)

    def write(self, name, text):
        path = os.path.join(self.dir.name, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def run_main(self, *argv):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            status = instructions.main(["instructions.py", *argv])
        return status, out.getvalue()

    def test_calls_are_summed_over_call_sites_and_nested_ones_left_out(self):
        p = instructions.Profile(self.write("f", callgrind(1000, [
            ("main", SEAL, 2, 300),
            ("worker", SEAL, 1, 160),
            ("main", BROADCAST, 1, 700),
            (BROADCAST, SEND_MANY, 1, 650),  # broadcast calls send_many: counted once, as broadcast
        ])))
        self.assertEqual(p.total, 1000)
        self.assertEqual(p.called(instructions.re.compile(r"^session::envelope::seal\(")), (3, 460))
        self.assertEqual(p.called(instructions.TIMED_CALL, instructions.re.compile(r"^session::Client::")), (1, 700))
        self.assertEqual(p.called(instructions.TIMED_CALL), (2, 1350))

    def test_a_file_without_its_summary_is_refused(self):
        path = self.write("cut", callgrind(10, [("main", SEAL, 1, 5)]).replace("summary: 10\n", ""))
        with self.assertRaises(SystemExit) as e:
            instructions.Profile(path)
        self.assertIn("no summary line", str(e.exception))

    def client_run(self, prefix, messages, seals_on_main):
        # The main thread (timed call plus set-up that is not counted), two client threads found by
        # name, and a local-network thread that is not the client's.
        self.write(f"{prefix}-01", callgrind(10**6, [
            ("main", "setup()", 1, 5000),
            ("main", BROADCAST, 1, 100 * messages),
            (BROADCAST, SEAL, seals_on_main, 60 * seals_on_main),
        ]))
        self.write(f"{prefix}-02", callgrind(40 * messages + 900, [("worker", SEAL, messages - seals_on_main, 10)],
                                             defined=["session::network::(anonymous namespace)::IoLoop::run()"]))
        self.write(f"{prefix}-03", callgrind(20 * messages, [],
                                             defined=["session::(anonymous namespace)::ThreadPool::post(std::function<void ()>)"]))
        self.write(f"{prefix}-04", callgrind(10**7, [("httplib::Server::listen()", SEAL, 3, 7)]))
        return os.path.join(self.dir.name, prefix)

    def test_the_client_is_the_timed_call_and_its_own_threads(self):
        prefix = self.client_run("small", 500, 200)
        cost, threads, seals = instructions.client_cost(prefix)
        self.assertEqual(cost, 100 * 500 + 40 * 500 + 900 + 20 * 500)
        self.assertEqual(threads, 2)
        self.assertEqual(seals, 500 + 3)  # seals are counted on every thread; the network's 3 show up

    def test_client_mode_gives_the_cost_of_one_more_message_and_its_ratio(self):
        small = self.client_run("small", 500, 200)
        large = self.client_run("large", 1500, 700)
        base = self.write("base.json", json.dumps({"seal_instructions": 120, "onion_build_instructions": 600}))
        status, out = self.run_main("client", base, "e2e_broadcast", "500", small, "1500", large)
        self.assertEqual(status, 0)
        r = json.loads(out)
        self.assertEqual(r["client_instructions_per_msg"], 160)  # 100 + 40 + 20, the fixed 900 gone
        self.assertEqual(r["base_instructions"], 150)  # 120 + 600 / 20
        self.assertAlmostEqual(r["ratio"], 1.067, places=3)
        self.assertEqual(r["seals_per_msg"], 1.0)
        with self.assertRaises(SystemExit):
            self.run_main("client", base, "e2e_broadcast", "1500", large, "500", small)

    def test_a_main_thread_without_one_timed_call_is_refused(self):
        self.write("x-01", callgrind(100, [("main", "setup()", 1, 50)]))
        with self.assertRaises(SystemExit) as e:
            instructions.client_cost(os.path.join(self.dir.name, "x"))
        self.assertIn("0 timed calls", str(e.exception))

    def test_base_mode_counts_one_more_call_not_the_first_calls_setup(self):
        # The first call of each costs 1,000 more (its one-time set-up); the margin leaves it out.
        e1 = self.write("e1", callgrind(0, [("bench", SEAL, 10, 10 * 50 + 1000)]))
        e2 = self.write("e2", callgrind(0, [("bench", SEAL, 30, 30 * 50 + 1000)]))
        o1 = self.write("o1", callgrind(0, [("bench", BUILD, 4, 4 * 400 + 1000)]))
        o2 = self.write("o2", callgrind(0, [("bench", BUILD, 8, 8 * 400 + 1000)]))
        status, out = self.run_main("base", e1, e2, o1, o2)
        self.assertEqual(status, 0)
        r = json.loads(out)
        self.assertEqual((r["seal_instructions"], r["seal_calls"]), (50, 20))
        self.assertEqual((r["onion_build_instructions"], r["onion_build_calls"]), (400, 4))
        with self.assertRaises(SystemExit):
            self.run_main("base", e2, e1, o1, o2)


if __name__ == "__main__":
    unittest.main()
