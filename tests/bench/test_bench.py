"""Unit tests of tests/bench/bench.py's parsing, configuration and reporting (no httpd needed):
python3 -B -m unittest discover -s tests/bench -p 'test_*.py'"""

import contextlib
import io
import os
import signal
import socket
import sys
import threading
import time
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import bench  # noqa: E402


class ProcParsing(unittest.TestCase):
    def test_stat_fields_are_counted_after_the_last_parenthesis(self):
        # A command name with spaces and ')' must not shift utime/stime.
        fields = ["S", "42"] + ["0"] * 9 + ["150", "50", "7", "3"] + ["0"] * 20
        text = "1234 (apache2 (odd) name) " + " ".join(fields)
        self.assertEqual(bench.parse_proc_stat(text), (42, 200, 10))

    def test_vm_hwm_is_read_in_kib(self):
        status = "Name:\tapache2\nVmPeak:\t  9000 kB\nVmHWM:\t    8123 kB\nVmRSS:\t 7000 kB\n"
        self.assertEqual(bench.parse_vm_hwm(status), 8123)
        self.assertIsNone(bench.parse_vm_hwm("Name:\tkthreadd\n"))


class StraceParsing(unittest.TestCase):
    TRACE = "\n".join([
        '100 epoll_wait(4, [{events=EPOLLIN, data={u32=1}}], 11, 5000) = 1',
        '101 read(7, "GET / HTTP/1.1\\r\\n"..., 8000) = 62',
        '101 recvfrom(8, 0x7f, 1, MSG_PEEK|MSG_DONTWAIT, NULL, NULL) = -1 EAGAIN (Resource '
        'temporarily unavailable)',
        '101 futex(0x7f5bd0325164, FUTEX_WAIT_BITSET_PRIVATE, 0, NULL <unfinished ...>',
        '100 futex(0x7f5bd0325164, FUTEX_WAKE_PRIVATE, 1) = 1',
        '101 <... futex resumed>) = 0',
        '101 writev(7, [{iov_base="HTTP/1.1 200 OK\\r\\n"..., iov_len=150}], 1) = 150',
        '100 --- SIGTERM {si_signo=SIGTERM, si_code=SI_USER, si_pid=1, si_uid=0} ---',
        '100 restart_syscall(<... resuming interrupted read ...>) = 0',
        '101 +++ exited with 0 +++',
        '',
    ])

    def test_every_call_counts_once_and_resumptions_signals_and_exits_not_at_all(self):
        self.assertEqual(bench.parse_strace(self.TRACE),
                         {"epoll_wait": 1, "read": 1, "recvfrom": 1, "futex": 2, "writev": 1,
                          "restart_syscall": 1})

    def test_with_an_end_the_calls_from_its_read_on_do_not_count(self):
        end = bench.STRACE_END_MARK
        trace = "\n".join([
            '101 read(7, "GET /bench/s1024 HTTP/1.1\\r\\n"..., 8000) = 62',
            '101 writev(7, [{iov_base="HTTP/1.1 200 OK\\r\\n"...}], 1) = 150',
            '100 accept4(3, {sa_family=AF_INET}, [128 => 16], SOCK_CLOEXEC) = 7',
            '101 read(7,  <unfinished ...>',
            f'101 <... read resumed>"{end}HTTP/1.1\\r\\nHost"..., 8000) = 70',
            '101 writev(7, [{iov_base="HTTP/1.1 404 Not Found\\r\\n"...}], 1) = 300',
            '100 accept4(3, {sa_family=AF_INET}, [128 => 16], SOCK_CLOEXEC) = 8',
            '101 read(8, "", 8000) = 0',
        ])
        self.assertEqual(bench.parse_strace(trace, until=end),
                         {"read": 2, "writev": 1, "accept4": 1})
        self.assertEqual(bench.parse_strace(trace)["read"], 3)

    def test_a_trace_that_never_reads_the_end_is_refused(self):
        with self.assertRaises(RuntimeError):
            bench.parse_strace("close(3) = 0\n", until=bench.STRACE_END_MARK)

    def test_the_end_request_fits_what_strace_shows_of_a_read(self):
        # strace prints a string's first 32 bytes; the marker must be within them.
        self.assertLessEqual(len(bench.STRACE_END_MARK), 32)
        self.assertTrue(bench.STRACE_END_MARK.startswith(f"GET {bench.STRACE_END_PATH} "))
        self.assertTrue(bench.STRACE_END_REQUEST.startswith(bench.STRACE_END_MARK.encode()))

    def test_a_trace_without_pids_counts_too(self):
        self.assertEqual(bench.parse_strace("close(3) = 0\nclose(4) = 0\n"), {"close": 2})

    def test_difference_is_per_request_and_drops_unchanged_calls(self):
        after = {"read": 2200, "futex": 700, "close": 3}
        before = {"read": 200, "futex": 100, "close": 3, "openat": 10}
        self.assertEqual(bench.count_difference(after, before, 1000),
                         {"read": 2.0, "futex": 0.6, "openat": -0.01})

    def test_mix_lists_the_frequent_calls_most_first(self):
        mix = bench.syscall_mix({"read": 2.0, "writev": 2.0, "futex": 0.6, "openat": -0.01,
                                 "close": 0.04})
        self.assertEqual(mix, "read 2.0, writev 2.0, futex 0.6")


class Leftovers(unittest.TestCase):
    def test_processes_running_our_config_are_killed_and_no_others(self):
        import subprocess
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            conf = os.path.join(d, "httpd.conf")
            other = os.path.join(d, "other.conf")
            sleeper = "import time; time.sleep(60)"
            ours = subprocess.Popen([sys.executable, "-c", sleeper, "-f", conf])
            theirs = subprocess.Popen([sys.executable, "-c", sleeper, "-f", other])
            try:
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline and not bench.kill_ours(conf):
                    time.sleep(0.05)  # until the child has exec'd with its arguments
                self.assertEqual(ours.wait(10), -signal.SIGKILL)
                self.assertIsNone(theirs.poll(), "a process of another config was killed")
                self.assertEqual(bench.kill_ours(conf), [])
            finally:
                for p in (ours, theirs):
                    if p.poll() is None:
                        p.kill()
                        p.wait()


class Pinning(unittest.TestCase):
    def test_httpd_gets_the_first_half_and_the_load_the_rest(self):
        self.assertEqual(bench.split_cpus({3, 1, 0, 2}), ([0, 1], [2, 3]))
        self.assertEqual(bench.split_cpus({0, 1}), ([0], [1]))
        self.assertEqual(bench.split_cpus({4, 5, 6}), ([4], [5, 6]))

    def test_one_cpu_cannot_be_split(self):
        with self.assertRaises(SystemExit):
            bench.split_cpus({0})

    def test_pinned_commands_keep_their_arguments(self):
        self.assertEqual(bench.pinned(["wrk", "-t2"], [1, 3]), ["taskset", "-c", "1,3", "wrk", "-t2"])
        self.assertEqual(bench.pinned(["wrk"], []), ["wrk"])


class CallgrindParsing(unittest.TestCase):
    SAMPLE = "\n".join([
        "version: 1",
        "events: Ir",
        "fl=(1) /lib/libc.so.6",
        "fn=(1) handler",
        "0 10",
        "cfn=(2) malloc",
        "calls=3 0",
        "0 300",
        "cfn=(3) memcpy",
        "calls=9 0",
        "0 90",
        "fn=(4) other_caller",
        "cfn=(2)",
        "calls=2 0",
        "0 200",
        "cfn=(5) calloc'2",
        "calls=1 0",
        "0 20",
        "totals: 123456",
    ])

    def test_totals_and_call_edges_with_compressed_names(self):
        total, edges = bench.parse_callgrind(self.SAMPLE)
        self.assertEqual(total, 123456)
        self.assertEqual(edges[("handler", "malloc")], 3)
        self.assertEqual(edges[("other_caller", "malloc")], 2)
        self.assertEqual(edges[("other_caller", "calloc")], 1)  # recursion suffix dropped
        self.assertEqual(bench.allocation_calls(edges), 6)

    def test_allocations_are_charged_through_rust_plumbing_to_the_asker(self):
        edges = {
            ("__rustc::__rdl_alloc", "malloc"): 10,
            ("__rustc::__rust_alloc", "__rustc::__rdl_alloc"): 10,
            ("alloc::raw_vec::finish_grow", "__rustc::__rust_alloc"): 6,
            ("mod_jk_rs::service::forward", "__rustc::__rust_alloc"): 4,
            ("mod_jk_rs::ajp::encode", "alloc::raw_vec::finish_grow"): 6,
            ("ap_malloc", "malloc"): 2,
            ("realloc", "malloc"): 8,  # inside glibc: already counted as the realloc call
            ("mod_jk_rs::service::forward", "memcpy"): 50,
        }
        sites = bench.allocation_sites(edges, requests=2)
        self.assertEqual(sites, {"mod_jk_rs::ajp::encode": 3.0,
                                 "mod_jk_rs::service::forward": 2.0, "ap_malloc": 1.0})

    def test_difference_keeps_only_changed_edges(self):
        after = {("a", "malloc"): 5, ("b", "malloc"): 2}
        before = {("a", "malloc"): 5, ("c", "malloc"): 1}
        self.assertEqual(bench.edge_difference(after, before),
                         {("b", "malloc"): 2, ("c", "malloc"): -1})

    def test_summary_line_wins_over_totals(self):
        total, _ = bench.parse_callgrind("events: Ir\nsummary: 77\ntotals: 99\n")
        self.assertEqual(total, 77)

    def test_file_without_totals_is_rejected(self):
        with self.assertRaises(ValueError):
            bench.parse_callgrind("version: 1\nevents: Ir\n")


class WrkOutput(unittest.TestCase):
    def test_result_line_is_found_among_wrk_text(self):
        text = ("Running 2s test @ http://127.0.0.1:1/\n  1 threads and 16 connections\n"
                "BENCH_RESULT 1000 2000000 1100000 0 3 0 1 0 650 4100 700.5 9000\n"
                "Requests/sec: 500\n")
        result = bench.parse_wrk_output(text)
        self.assertEqual(result["requests"], 1000)
        self.assertEqual(result["read_errors"], 3)
        self.assertEqual(result["status_errors"], 1)
        self.assertEqual(result["p99_us"], 4100)

    def test_missing_result_line_is_an_error(self):
        with self.assertRaises(ValueError):
            bench.parse_wrk_output("Requests/sec: 500\n")

    def test_script_sets_method_body_and_headers_once(self):
        script = bench.wrk_script(bench.SCENARIO_BY_NAME["post-1m"])
        self.assertIn('wrk.method = "POST"', script)
        self.assertIn("string.rep(\"b\", 1048576)", script)
        self.assertNotIn("function request", script)
        close = bench.wrk_script(bench.SCENARIO_BY_NAME["1k-close"])
        self.assertIn('wrk.headers["Connection"] = "close"', close)
        browser = bench.wrk_script(bench.SCENARIO_BY_NAME["browser"])
        self.assertIn(bench.SESSION_COOKIE, browser)
        self.assertEqual(browser.count("wrk.headers["), len(bench.BROWSER_HEADERS))
        request = bench.build_request(bench.SCENARIO_BY_NAME["browser"], 8080).decode()
        self.assertGreaterEqual(request.count("\r\n") - 2, 9, request)
        self.assertIn("Cookie: " + bench.SESSION_COOKIE, request)
        sticky = bench.wrk_script(bench.SCENARIO_BY_NAME["sticky"])
        self.assertIn(bench.SESSION_COOKIE, sticky)
        self.assertNotIn("function delay", sticky)

    def test_browser_users_each_send_their_own_session_half_to_each_member(self):
        scenario = bench.SCENARIO_BY_NAME["browser-users"]
        script = bench.wrk_script(scenario)
        cookies = [bench.session_cookie(u) for u in range(scenario.users)]
        self.assertEqual(len(set(cookies)), 16)
        for cookie in cookies:
            self.assertIn(f'"{cookie}"', script)
        self.assertEqual(sum(c.endswith(".tomcatA") for c in cookies), 8)
        self.assertEqual(sum(c.endswith(".tomcatB") for c in cookies), 8)
        self.assertIn("function request()", script)
        # The other eleven headers are set once; the Cookie per user, with the other cookies.
        self.assertEqual(script.count("wrk.headers["), len(bench.BROWSER_HEADERS) - 1)
        self.assertIn('"; _ga=GA1.1.1234567890.1700000000; theme=dark"', script)
        self.assertNotIn(bench.SESSION_COOKIE, script)
        request = bench.build_request(scenario, 8080).decode()
        self.assertIn("Cookie: " + cookies[0] + "; _ga=", request)

    def test_paced_script_pauses_a_seeded_random_time_around_the_pace(self):
        script = bench.wrk_script(bench.SCENARIO_BY_NAME["c200-paced"])
        self.assertIn("math.randomseed(1)", script)
        self.assertIn("function delay() return math.random(0, 50) end", script)

    def test_large_answers_get_a_wrk_thread_per_connection(self):
        by = bench.SCENARIO_BY_NAME
        self.assertEqual(bench.wrk_threads(16, by["10m"]), 16)
        self.assertEqual(bench.wrk_threads(16, by["10m-paced"]), 16)
        self.assertEqual(bench.wrk_threads(16, by["100k"]), 1)
        self.assertEqual(bench.wrk_threads(200, by["c200"]), 2)
        self.assertEqual(bench.wrk_threads(16), 1)

    def test_callgrind_and_syscalls_offer_no_paced_scenario(self):
        self.assertIn("c200", bench.UNPACED_SCENARIOS)
        self.assertNotIn("c200-paced", bench.UNPACED_SCENARIOS)
        with self.assertRaises(SystemExit):
            with contextlib.redirect_stderr(io.StringIO()):
                bench.parser().parse_args(["callgrind", "--scenarios", "10m-paced"])


class Configuration(unittest.TestCase):
    BACKENDS = [bench.Backend("tomcatA", "127.0.0.1", 8009),
                bench.Backend("tomcatB", "127.0.0.1", 8010)]

    def conf(self, front_end, topology="single", mpm="event"):
        return bench.httpd_conf(front_end, "/d", 8080, mpm, topology, self.BACKENDS,
                                "/m/libmod_jk_rs.so", "/h", 200, True)

    def test_four_configs_differ_only_in_the_front_end_block(self):
        def common(text):
            lines = text.splitlines()
            # Line 1 names the front end; the block after the last blank line is its own.
            last_blank = len(lines) - 1 - lines[::-1].index("")
            return lines[1:last_blank]
        confs = [common(self.conf(fe)) for fe in bench.FRONT_ENDS]
        for other in confs[1:]:
            self.assertEqual(confs[0], other)

    def test_base_front_end_loads_its_own_build_as_mod_jk_rs_does(self):
        ours = bench.front_end_block("mod_jk_rs", "/d", "lb", self.BACKENDS, "/a/new.so")
        base = bench.front_end_block("mod_jk_rs_base", "/d", "lb", self.BACKENDS, "/b/old.so")
        self.assertIn('LoadModule jk_rs_module "/b/old.so"', base)
        self.assertEqual(ours.replace("/a/new.so", "/b/old.so"), base)

    def test_pieces_backend_is_the_responder_writing_packet_by_packet(self):
        args = bench.parser().parse_args(["run", "--module", "/m.so", "--responder", "/r",
                                          "--backend-bin", "/t", "--backend", "pieces"])
        command = bench.backend_command(args, 9000, "tomcatB", "/s.sock")
        self.assertEqual(command, ["/r", "--port", "9000", "--name", "tomcatB",
                                   "--pieces", str(bench.PIECES_PAUSE_US), "--unix", "/s.sock"])
        args.backend = "fast"
        self.assertNotIn("--pieces", bench.backend_command(args, 9000, "tomcatB"))
        args.backend = "test"
        self.assertEqual(bench.backend_command(args, 9000, "tomcatB")[0], "/t")

    def test_single_topology_mounts_tomcatA_and_keeps_lb_defined(self):
        props = bench.workers_properties(self.BACKENDS, "single")
        self.assertIn("worker.list=tomcatA\n", props)
        self.assertIn("worker.balancer.type=lb\n", props)
        self.assertIn("JkMount /bench/* tomcatA", self.conf("mod_jk_rs"))
        self.assertIn("ProxyPass /bench/ ajp://127.0.0.1:8009/bench/", self.conf("mod_proxy_ajp"))

    def test_lb_topology_changes_only_list_and_mounts(self):
        single = bench.workers_properties(self.BACKENDS, "single").splitlines()
        lb = bench.workers_properties(self.BACKENDS, "lb").splitlines()
        self.assertEqual([a for a, b in zip(single, lb) if a != b], ["worker.list=tomcatA"])
        self.assertIn("worker.list=balancer", lb)
        self.assertIn("JkMount /bench/* balancer", self.conf("mod_jk", "lb"))
        proxy = self.conf("mod_proxy_ajp", "lb")
        self.assertIn("BalancerMember ajp://127.0.0.1:8010 route=tomcatB", proxy)
        self.assertIn("stickysession=JSESSIONID|jsessionid", proxy)

    def test_unix_front_end_names_the_sockets_and_no_ports(self):
        backends = [bench.Backend("tomcatA", "127.0.0.1", 8009, "/r/backend-tomcatA.sock"),
                    bench.Backend("tomcatB", "127.0.0.1", 8010, "/r/backend-tomcatB.sock")]
        props = bench.workers_properties(backends, "single", unix=True)
        self.assertIn("worker.tomcatA.host=unix:/r/backend-tomcatA.sock\n", props)
        self.assertNotIn(".port=", props)
        tcp = bench.workers_properties(backends, "single")
        self.assertEqual(tcp, bench.workers_properties(self.BACKENDS, "single"))
        self.assertIn("JkMount /bench/* tomcatA", self.conf("mod_jk_rs_unix"))
        self.assertNotIn("mod_jk_rs_unix", bench.DEFAULT_FRONT_ENDS)

    def test_prefork_has_a_process_for_every_connection(self):
        conf = self.conf("static", mpm="prefork")
        self.assertIn("MaxRequestWorkers 208", conf)
        self.assertIn("mod_mpm_prefork.so", conf)


class ExternalBackends(unittest.TestCase):
    def test_tomcat_backends_are_named_and_their_pids_measured(self):
        backends, pids, text = bench.external_backends("127.0.0.1:8009, :8010", "41,42")
        self.assertEqual([(b.name, b.host, b.port) for b in backends],
                         [("tomcatA", "127.0.0.1", 8009), ("tomcatB", "127.0.0.1", 8010)])
        self.assertEqual(pids, [41, 42])
        self.assertIn("their CPU from pids 41, 42", text)

    def test_without_pids_the_header_says_their_cpu_is_not_measured(self):
        _, pids, text = bench.external_backends("127.0.0.1:8009,127.0.0.1:8010")
        self.assertEqual(pids, [])
        self.assertIn("not measured", text)

    def test_a_pid_per_backend_and_well_formed_ports(self):
        for tomcat, tomcat_pids in (("127.0.0.1:8009,127.0.0.1:8010", "41"),
                                    ("127.0.0.1:8009,127.0.0.1:8010", "41,x"),
                                    ("127.0.0.1:8009,127.0.0.1:8010", "41,0"),
                                    ("127.0.0.1:8009,127.0.0.1", None),
                                    ("127.0.0.1:8009,127.0.0.1:70000", None)):
            with self.subTest(tomcat=tomcat, pids=tomcat_pids), self.assertRaises(SystemExit):
                bench.external_backends(tomcat, tomcat_pids)

    def refused(self, *extra):
        """Why `run.sh` with these arguments stops before starting anything."""
        with self.assertRaises(SystemExit) as caught:
            bench.main(["run", "--module", "/nonexistent.so", *extra])
        return str(caught.exception)

    def test_command_line_checks_tomcat_arguments_before_anything_starts(self):
        refused = self.refused
        self.assertIn("--tomcat-pids needs --tomcat", refused("--tomcat-pids", "1,2"))
        self.assertIn("one pid per --tomcat backend",
                      refused("--tomcat", "127.0.0.1:1,127.0.0.1:2", "--tomcat-pids", "1"))

    def test_base_module_joins_mod_jk_rs_and_must_exist(self):
        refused = self.refused
        self.assertIn("cannot read", refused("--base-module", "/nonexistent-base.so"))
        self.assertIn("keep it in --front-ends",
                      refused("--base-module", __file__, "--front-ends", "mod_jk"))
        self.assertIn("run.sh --base-module", refused("--front-ends", "mod_jk_rs_base"))


class Pattern(unittest.TestCase):
    def test_pattern_matches_the_backends_formula(self):
        data = bench.pattern(70000)
        self.assertEqual(len(data), 70000)
        self.assertEqual(data[251], (251 * 7 + 1) % 256)
        self.assertEqual(data[bench.PATTERN_PERIOD:bench.PATTERN_PERIOD + 44], data[:44])


class HttpClient(unittest.TestCase):
    def answer(self, raw):
        client, server = socket.socketpair()
        def serve():
            server.recv(65536)
            server.sendall(raw)
        thread = threading.Thread(target=serve)
        thread.start()
        conn = bench.HttpConnection(0, sock=client)
        try:
            return conn.exchange(b"GET / HTTP/1.1\r\n\r\n")
        finally:
            thread.join()
            conn.close()
            server.close()

    def test_chunked_answer_ends_at_the_last_chunk_without_waiting_for_close(self):
        status, _, body = self.answer(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n")
        self.assertEqual((status, body), (200, b"abcde"))

    def test_content_length_answer(self):
        status, headers, body = self.answer(
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nnope")
        self.assertEqual((status, headers["content-length"], body), (404, "4", b"nope"))


class Reporting(unittest.TestCase):
    def figures(self, rps, rss=8.0, p99=None):
        return {"rps": rps, "rss_mib": rss, "p99_ms": p99}

    def test_targets_compare_mod_jk_rs_with_both_references(self):
        all_figures = {
            "1k-keepalive": {"mod_jk_rs": self.figures(140, p99=2.0),
                             "mod_jk": self.figures(100, p99=2.5),
                             "mod_proxy_ajp": self.figures(120, p99=1.6)},
            "10m": {"mod_jk_rs": self.figures(99, rss=10.5), "mod_jk": self.figures(100, 9.0)},
        }
        scenarios = [bench.SCENARIO_BY_NAME["1k-keepalive"], bench.SCENARIO_BY_NAME["10m"]]
        lines = bench.target_lines(all_figures, scenarios)
        self.assertIn("1.40x  PASS", lines[0])  # >= 1.3x mod_jk
        self.assertIn("1.17x  PASS", lines[1])  # >= 1.1x mod_proxy_ajp
        self.assertIn("p99 <= 1.0x mod_jk", lines[2])
        self.assertIn("0.80x  PASS", lines[2])  # p99 below mod_jk's
        self.assertIn("p99 <= 1.0x mod_proxy_ajp", lines[3])
        self.assertIn("1.25x  FAIL", lines[3])  # p99 above mod_proxy_ajp's
        self.assertIn("0.99x  FAIL", lines[4])  # 10 MiB throughput below mod_jk
        self.assertIn("growth +2.5 MiB; mod_jk +1.0", lines[5])
        self.assertTrue(lines[5].endswith("FAIL"))
        self.assertEqual(len(lines), 6)  # no p99 line without p99 figures

    def test_missed_targets_say_how_static_files_did(self):
        all_figures = {
            "1k-close": {"mod_jk_rs": self.figures(110, p99=3.0),
                         "mod_jk": self.figures(100, p99=2.0),
                         "mod_proxy_ajp": self.figures(90, p99=4.0),
                         "static": self.figures(120, p99=5.0)},
            "sticky": {"mod_jk_rs": self.figures(110, p99=3.0),
                       "mod_jk": self.figures(100, p99=2.0),
                       "static": self.figures(150, p99=1.5)},
        }
        scenarios = [bench.SCENARIO_BY_NAME["1k-close"], bench.SCENARIO_BY_NAME["sticky"]]
        lines = bench.target_lines(all_figures, scenarios)
        # 1.10x mod_jk misses 1.3x; static files reach only 1.20x.
        self.assertIn("1.10x  FAIL  (static 1.20x: static files miss it too)", lines[0])
        # 1.22x mod_proxy_ajp passes: no remark.
        self.assertTrue(lines[1].endswith("1.22x  PASS"))
        # p99 1.5x mod_jk's; static files 2.5x.
        self.assertIn("1.50x  FAIL  (static 2.50x: static files miss it too)", lines[2])
        self.assertTrue(lines[3].endswith("0.75x  PASS"))
        # sticky: static files reach 1.5x and a p99 of 0.75x mod_jk's: the misses are ours.
        self.assertIn("1.10x  FAIL  (static 1.50x: static files make it)", lines[4])
        self.assertIn("1.50x  FAIL  (static 0.75x: static files make it)", lines[5])
        self.assertEqual(len(lines), 6)

    def test_static_files_are_no_ceiling_for_uploads(self):
        all_figures = {
            "post-1m": {"mod_jk_rs": self.figures(110, p99=3.0),
                        "mod_jk": self.figures(100, p99=2.0),
                        "static": self.figures(600, p99=1.0)},
        }
        lines = bench.target_lines(all_figures, [bench.SCENARIO_BY_NAME["post-1m"]])
        self.assertIn("1.10x  FAIL  (static 6.00x: static files discard the body, forward none: "
                      "no ceiling)", lines[0])
        self.assertIn("1.50x  FAIL  (static 0.50x: static files discard", lines[1])

    def test_paced_scenarios_judge_latency_only(self):
        all_figures = {
            "c200-paced": {"mod_jk_rs": self.figures(7800, p99=1.8),
                           "mod_jk": self.figures(7800, p99=2.0),
                           "mod_proxy_ajp": self.figures(7800, p99=1.5)},
        }
        lines = bench.target_lines(all_figures, [bench.SCENARIO_BY_NAME["c200-paced"]])
        self.assertEqual(len(lines), 2)  # equal req/s is no miss of the 1.3x target
        self.assertIn("p99 <= 1.0x mod_jk", lines[0])
        self.assertIn("0.90x  PASS", lines[0])
        self.assertIn("1.20x  FAIL", lines[1])

    def test_with_real_tomcats_httpd_cpu_per_request_is_judged_against_mod_jk(self):
        def figures(cpu):
            return {"rps": 100, "rss_mib": 8.0, "p99_ms": None, "cpu_us": cpu}
        all_figures = {
            "1k-keepalive": {"mod_jk_rs": figures(60.0), "mod_jk": figures(100.0),
                             "static": figures(40.0)},
            "browser": {"mod_jk_rs": figures(75.0), "mod_jk": figures(100.0),
                        "static": figures(80.0)},
        }
        scenarios = [bench.SCENARIO_BY_NAME["1k-keepalive"], bench.SCENARIO_BY_NAME["browser"]]
        lines = bench.target_lines(all_figures, scenarios, cpu_goal=bench.TOMCAT_CPU_GOAL)
        cpu = [line for line in lines if "CPU us/req" in line]
        self.assertEqual(len(cpu), 2)
        self.assertIn("1k-keepalive  CPU us/req <= 0.7x mod_jk", cpu[0])
        self.assertTrue(cpu[0].endswith("measured 0.600x  PASS"))
        # 0.75x misses 0.7x, and static files (0.80x) would miss it too.
        self.assertIn("0.750x  FAIL  (static 0.80x: static files miss it too)", cpu[1])
        # With every round's figures, each round's ratio follows the verdict.
        all_figures["browser"]["mod_jk_rs"]["cpu_us_rounds"] = [66.0, 75.0, 80.0]
        all_figures["browser"]["mod_jk"]["cpu_us_rounds"] = [100.0, 100.0, 100.0]
        lines = bench.target_lines(all_figures, scenarios, cpu_goal=bench.TOMCAT_CPU_GOAL)
        cpu = [line for line in lines if "CPU us/req" in line]
        self.assertTrue(cpu[1].endswith("(rounds: 0.66 0.75 0.80)"), cpu[1])
        # Judged unrounded: 0.704x is not 0.70x.
        all_figures["1k-keepalive"]["mod_jk_rs"] = figures(70.4)
        lines = bench.target_lines(all_figures, scenarios, cpu_goal=bench.TOMCAT_CPU_GOAL)
        cpu = [line for line in lines if "CPU us/req" in line]
        self.assertIn("measured 0.704x  FAIL", cpu[0])
        # Without real Tomcats (no goal) there is no CPU line.
        self.assertFalse([line for line in bench.target_lines(all_figures, scenarios)
                          if "CPU" in line])

    def test_base_module_lines_divide_mod_jk_rs_by_the_base_build(self):
        def figures(rps, p99, cpu, rounds=None):
            f = {"rps": rps, "p99_ms": p99, "cpu_us": cpu, "rss_mib": 8.0}
            if rounds:
                f["cpu_us_rounds"] = rounds
            return f
        all_figures = {
            "1k-keepalive": {"mod_jk_rs": figures(110, 2.0, 45.0, [44.0, 45.0, 50.0]),
                             "mod_jk_rs_base": figures(100, 4.0, 50.0, [50.0, 50.0, 40.0]),
                             "mod_jk": figures(90, 5.0, 70.0)},
            "browser": {"mod_jk_rs": figures(100, 2.0, 50.0), "mod_jk": figures(90, 5.0, 70.0)},
        }
        scenarios = [bench.SCENARIO_BY_NAME["1k-keepalive"], bench.SCENARIO_BY_NAME["browser"]]
        lines = bench.base_lines(all_figures, scenarios)
        # Only scenarios where both builds ran; each round's CPU ratio after the medians'.
        self.assertEqual(lines, ["  1k-keepalive  req/s 1.100x  p99 0.500x  CPU us/req 0.900x  "
                                 "(CPU rounds: 0.88 0.90 1.25)"])
        # The targets still judge mod_jk_rs alone.
        self.assertFalse([line for line in bench.target_lines(all_figures, scenarios)
                          if "base" in line])

    def test_errors_list_only_what_happened(self):
        self.assertEqual(bench.errors_text({"read": 0, "status": 0}), "0")
        self.assertEqual(bench.errors_text({"read": 108, "status": 2, "timeout": 0}),
                         "read 108, status 2")

    def test_context_switches_add_both_kinds(self):
        status = ("Name:\tapache2\nvoluntary_ctxt_switches:\t120\n"
                  "nonvoluntary_ctxt_switches:\t7\n")
        self.assertEqual(bench.parse_context_switches(status), 127)
        self.assertEqual(bench.parse_context_switches("Name:\tx\n"), 0)

    def test_summary_takes_medians_and_the_largest_rss(self):
        def run(requests, rss):
            return {"requests": requests, "duration_us": 1e6, "bytes": requests * 1100,
                    "p50_us": 500, "p99_us": 900, "cpu_ticks": requests / 1000,
                    "backend_ticks": 0, "rss_kib": rss, "rss_since_start": False,
                    "switches": requests * 3,
                    "connect_errors": 0, "read_errors": 0, "write_errors": 0,
                    "status_errors": 0, "timeouts": 0}
        summary = bench.summarize([run(1000, 8192), run(3000, 9216), run(2000, 8192)])
        self.assertEqual(summary["rps"], 2000)
        self.assertEqual(summary["spread"], 1.0)
        self.assertEqual(summary["rss_mib"], 9.0)
        self.assertAlmostEqual(summary["cpu_us"], 1e6 / bench.CLK_TCK / 1000)
        self.assertEqual(summary["switches"], 3.0)


if __name__ == "__main__":
    unittest.main()
