#!/usr/bin/env python3
"""The mod_jk_rs benchmark: runs mod_jk_rs, mod_jk, mod_proxy_ajp and static files in the same
httpd build and prints one table per scenario (`run`), or counts instructions and mallocs per
request under callgrind (`callgrind`), or system calls per request under strace (`syscalls`).
Called by tests/bench/run.sh, callgrind.sh and syscalls.sh, which build what it needs; see tests/bench/README.md for the meaning of every figure.

Everything runs on 127.0.0.1 on free ports, in a fresh temporary directory. Only processes this
script started are signalled, by pid (an httpd parent, then if it will not stop, the children
whose parent it is). Python 3 standard library only.
"""

import argparse
import dataclasses
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

APACHE2 = "/usr/sbin/apache2"
MODULES_DIR = "/usr/lib/apache2/modules"
MOD_JK_SO = MODULES_DIR + "/mod_jk.so"
CLK_TCK = os.sysconf("SC_CLK_TCK")

# Which backend layout every front end uses: "single" (one ajp13 worker / one ajp:// URL, chosen
# while mod_jk_rs had no lb worker) or "lb" (mod_jk and mod_jk_rs mount the lb worker `balancer`
# over tomcatA and tomcatB, mod_proxy_ajp uses balancer:// with two BalancerMembers). This one
# line switches the default; --topology switches one run.
TOPOLOGY = "lb"
TOPOLOGIES = ("single", "lb")

FRONT_ENDS = ("mod_jk_rs", "mod_jk", "mod_proxy_ajp", "static", "mod_jk_rs_unix", "mod_jk_rs_base")
# Measured unless --front-ends says otherwise. mod_jk_rs_unix (mod_jk_rs with host=unix:/path to
# the responder's Unix socket, beyond mod_jk) only when asked for; mod_jk_rs_base (mod_jk_rs's
# configuration with another build, --base-module) only with run.sh --base-module.
DEFAULT_FRONT_ENDS = FRONT_ENDS[:4]
# Figures are divided by this front end's.
REFERENCE = "mod_jk"
# --backend pieces: the responder pauses this long (microseconds) before each packet of an answer
# but the first, so that the front end reads SEND_HEADERS, each body chunk and END_RESPONSE one
# by one, as it often does behind Tomcat. Long enough for httpd under callgrind to have read the
# previous piece; it adds latency, not instructions.
PIECES_PAUSE_US = 2000
MPMS = ("event", "worker", "prefork")
BACKEND_NAMES = ("tomcatA", "tomcatB")
# The URL space every front end serves: proxied to the backends, or files for `static`.
MOUNT_PREFIX = "/bench/"
SESSION_COOKIE = "JSESSIONID=5C0FFEE5C0FFEE5C0FFEE5C0FFEE5C0F.tomcatA"


def session_cookie(user=None):
    """The session cookie of `user` (None: the one user of `sticky` and `browser`): its own
    id, and a route that alternates tomcatA, tomcatB with the user's number."""
    if user is None:
        return SESSION_COOKIE
    return f"JSESSIONID={user + 1:032X}.{BACKEND_NAMES[user % len(BACKEND_NAMES)]}"


def browser_headers(user=None):
    """BROWSER_HEADERS with `user`'s session in the Cookie header."""
    return tuple((name, value.replace(SESSION_COOKIE, session_cookie(user)))
                 for name, value in BROWSER_HEADERS)


# What Chromium sends for a page of a site where the user is logged in (with Host: 12 headers),
# for the `browser` scenario (tests/bench/README.md lists them).
BROWSER_HEADERS = (
    ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                   "Chrome/131.0.0.0 Safari/537.36"),
    ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
               "*/*;q=0.8"),
    ("Accept-Language", "en-US,en;q=0.9,de;q=0.8"),
    ("Accept-Encoding", "gzip, deflate, br"),
    ("Referer", "http://127.0.0.1/bench/index.html"),
    ("Cookie", SESSION_COOKIE + "; _ga=GA1.1.1234567890.1700000000; theme=dark"),
    ("Upgrade-Insecure-Requests", "1"),
    ("Sec-Fetch-Dest", "document"),
    ("Sec-Fetch-Mode", "navigate"),
    ("Sec-Fetch-Site", "same-origin"),
    ("Cache-Control", "max-age=0"),
)

# Threaded MPMs: every process and thread exists from the start and none is ever stopped, so the
# CPU and RSS figures never include process start-up and the process count is the same for all.
# Two processes of 128 threads: 200 keep-alive connections fit even when the kernel hands most of
# them to one process (event closes keep-alive connections of a process above its limit, worker
# holds a thread per connection).
SERVERS = 2
THREADS_PER_CHILD = 128
# httpd -X under callgrind: few threads, so the warm-up reaches every one of them (a thread's first
# request sets up its thread-locals once; that must not be counted as a per-request cost).
CALLGRIND_THREADS = 4

KIB = 1024
MIB = 1024 * 1024
# Largest growth of mod_jk_rs's peak child RSS from 1 KiB to 10 MiB answers that still counts as
# "does not grow with answer size".
RSS_GROWTH_LIMIT_MIB = 2.0
# pattern_byte(i) of the backends repeats every 251 * 256 bytes.
PATTERN_PERIOD = 251 * 256
# Issue #18: with real Tomcats behind (--tomcat), httpd's CPU time per request (user + system of
# all its processes, from /proc) under load at most this times mod_jk's.
TOMCAT_CPU_GOAL = 0.7


@dataclasses.dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    size: int  # response body bytes
    connections: int = 16
    keepalive: bool = True
    post_bytes: int = 0  # request body bytes (POST when > 0)
    sticky: bool = False  # send a session cookie naming tomcatA
    browser: bool = False  # send what a browser sends (BROWSER_HEADERS), the session cookie too
    # Milliseconds each connection waits between an answer and its next request (wrk's delay()):
    # an offered load below every front end's capacity, the same for all, so latency is compared
    # at equal load instead of at each front end's own saturation point.
    pace_ms: int = 0
    # With `browser`: this many logged-in users, each with a session of its own whose route
    # alternates tomcatA, tomcatB, their requests interleaved (wrk cycles through them); 0: one
    # user, SESSION_COOKIE. The callgrind and strace runs send user 0's requests.
    users: int = 0

    @property
    def method(self):
        return "POST" if self.post_bytes else "GET"

    @property
    def is_bulk(self):
        """Large transfers: the table adds a MiB/s column."""
        return self.size >= 100 * KIB or self.post_bytes >= 100 * KIB


SCENARIOS = (
    Scenario("1k-keepalive", "GET 1 KiB, keep-alive", 1 * KIB),
    Scenario("1k-close", "GET 1 KiB, a new connection per request", 1 * KIB, keepalive=False),
    Scenario("100k", "GET 100 KiB, keep-alive", 100 * KIB),
    Scenario("10m", "GET 10 MiB, keep-alive", 10 * MIB),
    Scenario("post-1m", "POST 1 MiB, 1 KiB answer, keep-alive", 1 * KIB, post_bytes=1 * MIB),
    Scenario("c200", "GET 1 KiB, keep-alive, 200 connections", 1 * KIB, connections=200),
    # How issue #18 measured httpd's CPU per request behind real Tomcats (wrk, 50 connections).
    Scenario("c50", "GET 1 KiB, keep-alive, 50 connections", 1 * KIB, connections=50),
    Scenario("sticky", "GET 1 KiB with a session cookie for tomcatA", 1 * KIB, sticky=True),
    Scenario("browser", "GET 1 KiB as a logged-in browser asks: 12 headers, session cookie for tomcatA",
             1 * KIB, browser=True),
    Scenario("browser-users",
             "browser as 16 logged-in users ask: a session each, half on tomcatA, half on tomcatB",
             1 * KIB, browser=True, users=16),
    Scenario("c200-paced",
             "c200 at equal load: each connection pauses 0-50 ms (25 on average) between requests",
             1 * KIB, connections=200, pace_ms=25),
    Scenario("10m-paced",
             "10m at equal load: each connection pauses 0-600 ms (300 on average) between requests",
             10 * MIB, pace_ms=300),
)
SCENARIO_BY_NAME = {s.name: s for s in SCENARIOS}
# callgrind and syscalls count per request: a pause between requests changes nothing there.
UNPACED_SCENARIOS = [s.name for s in SCENARIOS if not s.pace_ms]


def pattern_byte(i):
    """Byte i of every answer body: tests/support/ajp_backend.rs's pattern_byte."""
    return (i * 7 + i // 251) % 256


_PERIOD_BYTES = None


def pattern(n):
    """The first n bytes every backend answers `?size=n` with (and the static files hold)."""
    global _PERIOD_BYTES
    if _PERIOD_BYTES is None:
        _PERIOD_BYTES = bytes(pattern_byte(i) for i in range(PATTERN_PERIOD))
    repeats = n // PATTERN_PERIOD + 1
    return (_PERIOD_BYTES * repeats)[:n]


def request_path(scenario):
    """The same request line for all four: the backends read `size`, static ignores it."""
    return f"{MOUNT_PREFIX}s{scenario.size}?size={scenario.size}"


def static_file_name(size):
    return f"s{size}"


# ---------------------------------------------------------------------------------------------
# Configuration


@dataclasses.dataclass
class Backend:
    name: str
    host: str
    port: int
    # The responder's Unix socket as well ("" when it has none).
    socket: str = ""


def topology_description(front_end, topology, backends):
    """One line saying where a front end sends /bench/*, printed in every report header."""
    a = backends[0]
    if front_end == "static":
        return f"files {MOUNT_PREFIX}s<size> from disk (the ceiling; no backend)"
    if topology == "lb":
        members = ", ".join(f"{b.name} unix:{b.socket}" if front_end == "mod_jk_rs_unix"
                            else f"{b.name} {b.host}:{b.port}" for b in backends)
        if front_end == "mod_proxy_ajp":
            return (f"lb: ProxyPass {MOUNT_PREFIX} balancer://bench ({members}; "
                    "lbmethod=byrequests, stickysession=JSESSIONID)")
        return f"lb: JkMount {MOUNT_PREFIX}* balancer (type=lb over {members}; sticky_session)"
    if front_end == "mod_proxy_ajp":
        return f"single backend: ProxyPass {MOUNT_PREFIX} ajp://{a.host}:{a.port}{MOUNT_PREFIX}"
    if front_end == "mod_jk_rs_unix":
        return f"single backend: JkMount {MOUNT_PREFIX}* {a.name} (ajp13 unix:{a.socket})"
    return f"single backend: JkMount {MOUNT_PREFIX}* {a.name} (ajp13 {a.host}:{a.port})"


def workers_properties(backends, topology, unix=False):
    """The workers.properties mod_jk and mod_jk_rs share. The lb worker is always defined, so
    switching TOPOLOGY only changes which worker is listed and mounted. `unix`: the backends'
    Unix sockets instead of their ports (mod_jk_rs_unix)."""
    lines = [
        "# Generated by tests/bench/bench.py: the same file for mod_jk and mod_jk_rs.",
        f"worker.list={jk_mount_target(topology)}",
    ]
    for b in backends:
        lines.append(f"worker.{b.name}.type=ajp13")
        if unix:
            lines.append(f"worker.{b.name}.host=unix:{b.socket}")
        else:
            lines += [f"worker.{b.name}.host={b.host}", f"worker.{b.name}.port={b.port}"]
    if len(backends) > 1:
        lines += [
            "worker.balancer.type=lb",
            "worker.balancer.balance_workers=" + ",".join(b.name for b in backends),
            "worker.balancer.sticky_session=true",
        ]
    return "\n".join(lines) + "\n"


def jk_mount_target(topology):
    return "balancer" if topology == "lb" else BACKEND_NAMES[0]


def mpm_block(mpm, max_connections, threads=THREADS_PER_CHILD):
    if mpm == "prefork":
        # One process per connection: as many as the busiest scenario needs, all started at once.
        n = max_connections + 8
        return "\n".join([
            f"ServerLimit {n}",
            f"StartServers {n}",
            "MinSpareServers 1",
            f"MaxSpareServers {n}",
            f"MaxRequestWorkers {n}",
            "MaxConnectionsPerChild 0",
        ])
    total = SERVERS * threads
    return "\n".join([
        f"ServerLimit {SERVERS}",
        f"StartServers {SERVERS}",
        f"ThreadLimit {threads}",
        f"ThreadsPerChild {threads}",
        f"MaxRequestWorkers {total}",
        f"MinSpareThreads {threads}",
        f"MaxSpareThreads {total}",
        "MaxConnectionsPerChild 0",
    ])


def front_end_block(front_end, directory, topology, backends, module_path):
    a = backends[0]
    if front_end in ("mod_jk_rs", "mod_jk_rs_unix", "mod_jk_rs_base"):
        return "\n".join([
            f'LoadModule jk_rs_module "{module_path}"',
            f'JkWorkersFile "{directory}/workers.properties"',
            f'JkShmFile "{directory}/run/jk-runtime-status"',
            f"JkMount {MOUNT_PREFIX}* {jk_mount_target(topology)}",
        ])
    if front_end == "mod_jk":
        return "\n".join([
            f'LoadModule jk_module "{MOD_JK_SO}"',
            f'JkWorkersFile "{directory}/workers.properties"',
            f'JkShmFile "{directory}/run/jk-runtime-status"',
            f'JkLogFile "{directory}/mod_jk.log"',
            "JkLogLevel error",
            f"JkMount {MOUNT_PREFIX}* {jk_mount_target(topology)}",
        ])
    if front_end == "mod_proxy_ajp":
        lines = [
            f"LoadModule proxy_module {MODULES_DIR}/mod_proxy.so",
            f"LoadModule proxy_ajp_module {MODULES_DIR}/mod_proxy_ajp.so",
        ]
        if topology == "lb":
            lines += [
                f"LoadModule slotmem_shm_module {MODULES_DIR}/mod_slotmem_shm.so",
                f"LoadModule proxy_balancer_module {MODULES_DIR}/mod_proxy_balancer.so",
                f"LoadModule lbmethod_byrequests_module {MODULES_DIR}/mod_lbmethod_byrequests.so",
                "<Proxy balancer://bench>",
            ]
            lines += [f"    BalancerMember ajp://{b.host}:{b.port} route={b.name}" for b in backends]
            lines += [
                "    ProxySet lbmethod=byrequests stickysession=JSESSIONID|jsessionid",
                "</Proxy>",
                f"ProxyPass {MOUNT_PREFIX} balancer://bench{MOUNT_PREFIX}",
            ]
        else:
            lines.append(f"ProxyPass {MOUNT_PREFIX} ajp://{a.host}:{a.port}{MOUNT_PREFIX}")
        return "\n".join(lines)
    if front_end == "static":
        return "# static: httpd's own file handler serves htdocs/bench/s<size>."
    raise ValueError(f"unknown front end {front_end}")


def httpd_conf(front_end, directory, port, mpm, topology, backends, module_path, htdocs,
               max_connections, run_as_user, threads=THREADS_PER_CHILD):
    """The whole httpd.conf of one front end: identical for all four but the last block."""
    user = "User www-data\nGroup www-data\n" if run_as_user else ""
    return f"""# Generated by tests/bench/bench.py: front end {front_end}, MPM {mpm}, topology {topology}.
ServerRoot "{directory}"
Listen 127.0.0.1:{port}
ServerName 127.0.0.1
PidFile "{directory}/run/httpd.pid"
DefaultRuntimeDir "{directory}/run"
ErrorLog "{directory}/error.log"
LogLevel warn
LoadModule mpm_{mpm}_module {MODULES_DIR}/mod_mpm_{mpm}.so
LoadModule authz_core_module {MODULES_DIR}/mod_authz_core.so
LoadModule mime_module {MODULES_DIR}/mod_mime.so
TypesConfig /etc/mime.types
{user}# No access log for any of the four: the figures are the front end's own work.
Timeout 60
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 5
{mpm_block(mpm, max_connections, threads)}
# As every real configuration (Debian's apache2.conf among them): no .htaccess lookups, so the
# static-file ceiling does not pay for six open() calls per request.
<Directory />
    AllowOverride None
</Directory>
DocumentRoot "{htdocs}"
<Directory "{htdocs}">
    AllowOverride None
    Require all granted
    ForceType application/octet-stream
    FileETag None
</Directory>

{front_end_block(front_end, directory, topology, backends, module_path)}
"""


def write_htdocs(htdocs, sizes):
    os.makedirs(os.path.join(htdocs, MOUNT_PREFIX.strip("/")), exist_ok=True)
    for size in sizes:
        path = os.path.join(htdocs, MOUNT_PREFIX.strip("/"), static_file_name(size))
        with open(path, "wb") as f:
            f.write(pattern(size))
    make_readable(htdocs)


def make_readable(path):
    """httpd's children run as www-data: they must reach every file under the run directory."""
    for root, dirs, files in os.walk(path):
        os.chmod(root, 0o755)
        for name in files:
            os.chmod(os.path.join(root, name), 0o644)


def write_front_end(base, front_end, port, args, backends, module_path, htdocs, max_connections,
                    threads=THREADS_PER_CHILD):
    directory = os.path.join(base, front_end)
    os.makedirs(os.path.join(directory, "run"), exist_ok=True)
    os.chmod(directory, 0o755)
    with open(os.path.join(directory, "workers.properties"), "w") as f:
        f.write(workers_properties(backends, args.topology, unix=front_end == "mod_jk_rs_unix"))
    conf = os.path.join(directory, "httpd.conf")
    with open(conf, "w") as f:
        f.write(httpd_conf(front_end, directory, port, args.mpm, args.topology, backends,
                           module_path, htdocs, max_connections, os.geteuid() == 0, threads))
    return directory, conf


# ---------------------------------------------------------------------------------------------
# /proc


def parse_proc_stat(text):
    """(ppid, utime + stime, cutime + cstime) in clock ticks from /proc/<pid>/stat. The command
    name may hold spaces and parentheses, so fields are counted after the last ')'."""
    fields = text[text.rindex(")") + 2:].split()
    # fields[0] is field 3 (state): ppid is field 4, utime..cstime fields 14..17.
    ppid = int(fields[1])
    own = int(fields[11]) + int(fields[12])
    reaped = int(fields[13]) + int(fields[14])
    return ppid, own, reaped


def read_proc_stat(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return parse_proc_stat(f.read())
    except (OSError, ValueError, IndexError):
        return None


def children_of(parent):
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = read_proc_stat(int(entry))
            if stat and stat[0] == parent:
                pids.append(int(entry))
    return pids


def cpu_ticks(parent):
    """CPU ticks of an httpd: the parent, its live children, and (cutime, cstime) the children it
    has already reaped, so a child that exits during a run still counts."""
    stat = read_proc_stat(parent)
    if stat is None:
        return 0
    total = stat[1] + stat[2]
    for child in children_of(parent):
        child_stat = read_proc_stat(child)
        if child_stat:
            total += child_stat[1]
    return total


def parse_context_switches(status_text):
    """voluntary + involuntary context switches from /proc/<pid>/task/<tid>/status."""
    return sum(int(n) for n in re.findall(r"^(?:non)?voluntary_ctxt_switches:\s+(\d+)",
                                           status_text, re.MULTILINE))


def context_switches(parent):
    """Context switches of every thread of an httpd parent and its children: each one is a
    thread going to sleep or being pushed off its CPU (a hand-off between threads costs two)."""
    total = 0
    for pid in [parent] + children_of(parent):
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/status") as f:
                    total += parse_context_switches(f.read())
            except OSError:
                pass
    return total


def process_ticks(pid):
    stat = read_proc_stat(pid)
    return stat[1] if stat else 0


def parse_vm_hwm(status_text):
    """Peak resident set size in KiB from /proc/<pid>/status."""
    match = re.search(r"^VmHWM:\s+(\d+)\s+kB", status_text, re.MULTILINE)
    return int(match.group(1)) if match else None


def vm_hwm_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return parse_vm_hwm(f.read())
    except OSError:
        return None


def reset_hwm(pid):
    """Restarts the peak-RSS count (Linux >= 4.0); False when not permitted."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


# ---------------------------------------------------------------------------------------------
# Processes


class Processes:
    """Every process this script started, stopped by pid in reverse order."""

    def __init__(self):
        self.started = []  # (Popen, kind)

    def start(self, argv, log_path, kind):
        log = open(log_path, "ab")
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        self.started.append((proc, kind))
        return proc

    def stop(self, proc, kind, timeout=20):
        if proc.poll() is None:
            try:
                proc.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                # Still alive and not reaped, so the processes whose parent it is are ours.
                children = children_of(proc.pid) if kind == "httpd" else []
                for child in children:
                    try:
                        os.kill(child, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                proc.kill()
                proc.wait()
        self.started = [(p, k) for p, k in self.started if p is not proc]

    def stop_all(self):
        for proc, kind in reversed(list(self.started)):
            self.stop(proc, kind)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, proc, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            time.sleep(0.05)
    return False


# ---------------------------------------------------------------------------------------------
# A tiny HTTP/1.1 client (sanity checks and the callgrind runs)


class HttpError(Exception):
    pass


def build_request(scenario, port, path=None, body=None):
    headers = [f"Host: 127.0.0.1:{port}"]
    if not scenario.keepalive:
        headers.append("Connection: close")
    if scenario.sticky:
        headers.append(f"Cookie: {SESSION_COOKIE}")
    if scenario.browser:
        user = 0 if scenario.users else None
        headers += [f"{name}: {value}" for name, value in browser_headers(user)]
    if scenario.post_bytes:
        headers += ["Content-Type: application/octet-stream",
                    f"Content-Length: {scenario.post_bytes}"]
    head = f"{scenario.method} {path or request_path(scenario)} HTTP/1.1\r\n"
    head += "".join(h + "\r\n" for h in headers) + "\r\n"
    payload = head.encode()
    if scenario.post_bytes:
        payload += body if body is not None else b"b" * scenario.post_bytes
    return payload


class HttpConnection:
    def __init__(self, port, timeout=30.0, sock=None):
        self.sock = sock or socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buffer = b""

    def close(self):
        self.sock.close()

    def _fill(self):
        data = self.sock.recv(256 * KIB)
        if not data:
            raise HttpError("connection closed before the answer ended")
        self.buffer += data

    def _take(self, n):
        while len(self.buffer) < n:
            self._fill()
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def _line(self):
        while b"\r\n" not in self.buffer:
            self._fill()
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def exchange(self, request, keep_body=True):
        """Sends one request, reads its answer: (status, headers, body or its length)."""
        self.sock.sendall(request)
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        try:
            status = int(lines[0].split()[1])
        except (IndexError, ValueError):
            raise HttpError(f"bad status line {lines[0]!r}") from None
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        chunks = []
        received = 0
        if "content-length" in headers:
            remaining = int(headers["content-length"])
            while remaining:
                if not self.buffer:
                    self._fill()
                piece = self.buffer[:remaining]
                self.buffer = self.buffer[len(piece):]
                remaining -= len(piece)
                received += len(piece)
                if keep_body:
                    chunks.append(piece)
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int(self._line().split(b";")[0], 16)
                if size == 0:
                    while self._line():
                        pass  # trailers, up to the empty line
                    break
                piece = self._take(size)
                received += size
                if keep_body:
                    chunks.append(piece)
                self._line()  # the CRLF after the chunk's data
        return status, headers, b"".join(chunks) if keep_body else received


def check_answer(port, scenario, path):
    """One request as the benchmark sends it; returns None when the answer is right, else why.
    The bytes are checked too, except from a Tomcat application (only the length is)."""
    try:
        conn = HttpConnection(port, timeout=30)
        try:
            status, headers, body = conn.exchange(build_request(scenario, port, path))
        finally:
            conn.close()
    except (OSError, HttpError) as error:
        return f"request failed: {error}"
    if status != 200:
        return f"status {status} (server: {headers.get('server', '?')})"
    if len(body) != scenario.size:
        return f"{len(body)} body bytes, expected {scenario.size}"
    if path == request_path(scenario) and body != pattern(scenario.size):
        return "body bytes differ from the pattern"
    return None


# ---------------------------------------------------------------------------------------------
# wrk

WRK_RESULT = re.compile(r"^BENCH_RESULT (.*)$", re.MULTILINE)
WRK_FIELDS = ("requests", "duration_us", "bytes", "connect_errors", "read_errors", "write_errors",
              "status_errors", "timeouts", "p50_us", "p99_us", "mean_us", "max_us")


def wrk_script(scenario):
    """wrk's Lua: the request (set once, so wrk sends fixed bytes) and a machine-readable summary."""
    lines = [f"-- Generated by tests/bench/bench.py: scenario {scenario.name}."]
    if scenario.post_bytes:
        lines += [
            'wrk.method = "POST"',
            f'wrk.body = string.rep("b", {scenario.post_bytes})',
            'wrk.headers["Content-Type"] = "application/octet-stream"',
        ]
    if not scenario.keepalive:
        lines.append('wrk.headers["Connection"] = "close"')
    if scenario.sticky:
        lines.append(f'wrk.headers["Cookie"] = "{SESSION_COOKIE}"')
    if scenario.browser and scenario.users:
        # One request per user, built once; request() hands them out in turn (a table lookup
        # per request, the same for every front end).
        cookies = ", ".join(f'"{session_cookie(u)}"' for u in range(scenario.users))
        lines += [f'wrk.headers["{name}"] = "{value}"' for name, value in BROWSER_HEADERS
                  if name != "Cookie"]
        cookie_value = dict(BROWSER_HEADERS)["Cookie"]
        rest = cookie_value[len(SESSION_COOKIE):]
        lines += [
            f"local cookies = {{{cookies}}}",
            "local requests = {}",
            "function init(args)",
            "  for u, session in ipairs(cookies) do",
            "    local h = {}",
            "    for k, v in pairs(wrk.headers) do h[k] = v end",
            f'    h["Cookie"] = session .. "{rest}"',
            "    requests[u] = wrk.format(nil, nil, h)",
            "  end",
            "end",
            "local turn = 0",
            "function request()",
            "  turn = turn % #requests + 1",
            "  return requests[turn]",
            "end",
        ]
    elif scenario.browser:
        lines += [f'wrk.headers["{name}"] = "{value}"' for name, value in BROWSER_HEADERS]
    if scenario.pace_ms:
        # Uniform in [0, 2 x pace] ms: connections that paused alike would stay in step and
        # arrive as one burst per pause. The same seed gives every front end the same pauses.
        # wrk starts a request's latency clock when it writes it, after the pause.
        lines += ["math.randomseed(1)",
                  f"function delay() return math.random(0, {2 * scenario.pace_ms}) end"]
    lines += [
        "function done(summary, latency, requests)",
        "  local e = summary.errors",
        '  io.write(string.format("BENCH_RESULT %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f'
        ' %.0f %.0f %.0f %.0f\\n",',
        "    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,",
        "    e.status, e.timeout, latency:percentile(50), latency:percentile(99), latency.mean,",
        "    latency.max))",
        "end",
    ]
    return "\n".join(lines) + "\n"


def parse_wrk_output(text):
    match = WRK_RESULT.search(text)
    if not match:
        raise ValueError("no BENCH_RESULT line in wrk's output")
    values = [float(v) for v in match.group(1).split()]
    if len(values) != len(WRK_FIELDS):
        raise ValueError(f"BENCH_RESULT has {len(values)} fields, expected {len(WRK_FIELDS)}")
    return dict(zip(WRK_FIELDS, values))


def wrk_threads(connections, scenario=None):
    """wrk's threads. A wrk thread reads a readable connection 8 KiB at a time for as long as
    it stays readable, so with several connections per thread a front end that keeps one socket
    full (10 MiB answers) gets that connection drained while the thread's others wait: their
    latency then shows wrk's loop, not the front end. Answers of a MiB or more get a thread per
    connection; the rest share one or two, as wrk is usually run."""
    if scenario is not None and scenario.size >= MIB:
        return connections
    return 2 if connections >= 64 else 1


def split_cpus(cpus):
    """--pin: the first half of the usable CPUs for httpd, the rest for wrk and the backends."""
    cpus = sorted(cpus)
    if len(cpus) < 2:
        raise SystemExit(f"--pin needs at least 2 usable CPUs, this process may use {cpus}")
    half = len(cpus) // 2
    return cpus[:half], cpus[half:]


def pinned(argv, cpus):
    """`argv` run on `cpus` only (taskset execs the command: the pid stays the command's)."""
    if not cpus:
        return argv
    return ["taskset", "-c", ",".join(str(c) for c in cpus)] + argv


# Set by main() from --pin: (CPUs for httpd, CPUs for wrk and the backends), or empty.
PIN = {"httpd": [], "load": []}


def run_wrk(port, scenario, script_path, seconds, connections=None, path=None):
    connections = connections or scenario.connections
    argv = pinned(["wrk", f"-t{wrk_threads(connections, scenario)}", f"-c{connections}",
                   f"-d{seconds}s",
            "--timeout", "10s", "-s", script_path,
            f"http://127.0.0.1:{port}{path or request_path(scenario)}"], PIN["load"])
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()}")
    return parse_wrk_output(done.stdout)


# ---------------------------------------------------------------------------------------------
# The `run` command


@dataclasses.dataclass
class RunningFrontEnd:
    name: str
    port: int
    directory: str
    proc: subprocess.Popen
    topology: str


def front_end_path(args, front_end, scenario):
    """The request path: ours everywhere, or the Tomcat application's for proxied front ends."""
    if args.tomcat_path and front_end != "static":
        return f"{args.tomcat_path}?size={scenario.size}"
    return request_path(scenario)


def measure(front_end, scenario, script_path, seconds, backend_pids, path):
    parent = front_end.proc.pid
    hwm_reset = all(reset_hwm(pid) for pid in [parent] + children_of(parent))
    ticks_before = cpu_ticks(parent)
    switches_before = context_switches(parent)
    backend_before = [process_ticks(pid) for pid in backend_pids]
    result = run_wrk(front_end.port, scenario, script_path, seconds, path=path)
    result["cpu_ticks"] = cpu_ticks(parent) - ticks_before
    result["switches"] = context_switches(parent) - switches_before
    # Per backend, so an lb run shows where the requests went.
    result["backend_ticks_each"] = [process_ticks(pid) - before
                                    for pid, before in zip(backend_pids, backend_before)]
    result["backend_ticks"] = sum(result["backend_ticks_each"])
    peaks = [vm_hwm_kib(pid) for pid in children_of(parent)]
    result["rss_kib"] = max((p for p in peaks if p), default=0)
    result["rss_since_start"] = not hwm_reset
    return result


def summarize(runs, post_bytes=0):
    """The figures of one front end in one scenario: medians over rounds (RSS: the largest)."""
    ok = [r for r in runs if r["requests"] > 0]
    if not ok:
        return None
    per_run_rps = [r["requests"] / (r["duration_us"] / 1e6) for r in ok]
    rps = statistics.median(per_run_rps)
    us_per_tick = 1e6 / CLK_TCK
    errors = {kind: int(sum(r[f"{kind}_errors"] for r in runs))
              for kind in ("connect", "read", "write", "status")}
    errors["timeout"] = int(sum(r["timeouts"] for r in runs))
    return {
        "rps": rps,
        "spread": (max(per_run_rps) - min(per_run_rps)) / rps if rps else 0.0,
        # Upload scenarios count what was sent, the others what came back (headers included).
        "mib_s": statistics.median(
            (r["requests"] * post_bytes if post_bytes else r["bytes"]) / (r["duration_us"] / 1e6)
            / MIB for r in ok),
        "p50_ms": statistics.median(r["p50_us"] for r in ok) / 1000,
        "p99_ms": statistics.median(r["p99_us"] for r in ok) / 1000,
        "cpu_us": statistics.median(r["cpu_ticks"] * us_per_tick / r["requests"] for r in ok),
        # Every round's, in order (the rounds of all front ends are interleaved).
        "cpu_us_rounds": [r["cpu_ticks"] * us_per_tick / r["requests"] for r in ok],
        "switches": statistics.median(r.get("switches", 0) / r["requests"] for r in ok),
        "backend_us": statistics.median(r["backend_ticks"] * us_per_tick / r["requests"]
                                        for r in ok),
        "rss_mib": max(r["rss_kib"] for r in ok) / KIB,
        "rss_since_start": any(r["rss_since_start"] for r in ok),
        "backend_share": backend_share(ok),
        "errors": errors,
        "runs": len(runs),
    }


def backend_share(runs):
    """Each backend's part of the backends' CPU time, in percent (empty without our backends)."""
    totals = [sum(ticks) for ticks in zip(*(r.get("backend_ticks_each", []) for r in runs))]
    whole = sum(totals)
    return [round(100 * t / whole) for t in totals] if whole else []


def ratio(value, reference):
    if value is None or not reference:
        return None
    return value / reference


def fmt(value, digits=1):
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def errors_text(errors):
    """`0`, or the non-zero kinds: `read 108, status 2`."""
    listed = [f"{kind} {n}" for kind, n in errors.items() if n]
    return ", ".join(listed) if listed else "0"


def fmt_ratio(value):
    return "-" if value is None else f"{value:.2f}x"


def scenario_table(scenario, figures, front_ends):
    """Rows of one scenario: each figure with its ratio to mod_jk."""
    columns = [("req/s", "rps", 0), ("p50 ms", "p50_ms", 2), ("p99 ms", "p99_ms", 2),
               ("CPU us/req", "cpu_us", 1), ("cs/req", "switches", 1), ("RSS MiB", "rss_mib", 1)]
    if scenario.is_bulk:
        columns.insert(1, ("MiB/s", "mib_s", 0))
    header = ["front end"]
    for title, _, _ in columns:
        header += [title, f"x{REFERENCE}"]
    header += ["spread", "backend us/req", "errors"]
    rows = [header]
    reference = figures.get(REFERENCE)
    for fe in front_ends:
        f = figures.get(fe)
        if f is None:
            rows.append([fe] + ["-"] * (len(header) - 1))
            continue
        row = [fe]
        for _, key, digits in columns:
            row.append(fmt(f[key], digits))
            row.append(fmt_ratio(ratio(f[key], reference[key] if reference else None)))
        row += [f"{f['spread'] * 100:.0f}%",
                "-" if fe == "static" else fmt(f["backend_us"], 1),
                errors_text(f["errors"])]
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = []
    for r in rows:
        cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:])]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def ceiling_remark(static_ratio, goal, above, upload=False):
    """For a missed target: the same ratio for static files, which no proxied request can beat.
    When static files miss it too, the target is out of this machine's reach, not the module's.
    For uploads static files are no ceiling: httpd reads and discards the body, and forwards none
    of it (a proxy sends it on to the backend, a GET_BODY_CHUNK round trip per 8 KiB)."""
    missed = static_ratio > goal if above else static_ratio < goal
    where = "static files miss it too" if missed else "static files make it"
    if upload and not missed:
        where = "static files discard the body, forward none: no ceiling"
    return f"  (static {static_ratio:.2f}x: {where})"


def round_ratios(ours, theirs):
    """Each interleaved round's ratio of two front ends' CPU figures, as "0.66 0.75 0.80", or
    None unless both have the same rounds, more than one."""
    if not (ours and theirs and len(ours) == len(theirs) > 1):
        return None
    return " ".join(f"{a / b:.2f}" for a, b in zip(ours, theirs) if b)


def base_lines(all_figures, scenarios):
    """--base-module: mod_jk_rs's figures over mod_jk_rs_base's, per scenario (below 1.0 is
    less CPU or latency for mod_jk_rs, above 1.0 more req/s), the CPU with each round's own
    ratio (the rounds are interleaved, so a round compares like with like)."""
    lines = []
    for s in scenarios:
        a = all_figures.get(s.name, {}).get("mod_jk_rs")
        b = all_figures.get(s.name, {}).get("mod_jk_rs_base")
        if not a or not b:
            continue
        parts = []
        for key, label in (("rps", "req/s"), ("p99_ms", "p99"), ("cpu_us", "CPU us/req")):
            if a.get(key) is not None and b.get(key):
                parts.append(f"{label} {a[key] / b[key]:.3f}x")
        rounds = round_ratios(a.get("cpu_us_rounds"), b.get("cpu_us_rounds"))
        if rounds is not None:
            parts.append(f"(CPU rounds: {rounds})")
        if parts:
            lines.append(f"  {s.name:<13} " + "  ".join(parts))
    return lines


def target_lines(all_figures, scenarios, cpu_goal=None):
    """The issue's targets for mod_jk_rs, each with the measured ratio and PASS/FAIL; with
    `cpu_goal` (real Tomcats behind) also httpd's CPU per request against mod_jk's."""
    lines = []

    def fig(scenario, fe, key):
        f = all_figures.get(scenario, {}).get(fe)
        return None if f is None else f[key]

    for s in scenarios:
        rs, jk, px = (fig(s.name, fe, "rps") for fe in ("mod_jk_rs", "mod_jk", "mod_proxy_ajp"))
        if rs is None:
            continue
        goal_jk = 1.0 if s.name == "10m" else 1.3
        checks = []
        # Paced: the offered load is fixed, req/s is the same for all, latency is the figure.
        if not s.pace_ms:
            if jk:
                checks.append((rs / jk, goal_jk, "mod_jk"))
            if px and s.name != "10m":
                checks.append((rs / px, 1.1, "mod_proxy_ajp"))
        static_rps = fig(s.name, "static", "rps")
        for value, goal, who in checks:
            verdict = "PASS" if value >= goal else "FAIL"
            what = "throughput" if s.name == "10m" else "req/s"
            line = (f"  {s.name:<13} {what} >= {goal:.1f}x {who:<14} measured "
                    f"{value:.2f}x  {verdict}")
            reference = fig(s.name, who, "rps")
            if verdict == "FAIL" and static_rps and reference:
                line += ceiling_remark(static_rps / reference, goal, above=False,
                                       upload=bool(s.post_bytes))
            lines.append(line)
        p99 = {fe: fig(s.name, fe, "p99_ms")
               for fe in ("mod_jk_rs", "mod_jk", "mod_proxy_ajp", "static")}
        if p99["mod_jk_rs"] is not None:
            for who in ("mod_jk", "mod_proxy_ajp"):
                if p99[who]:
                    # Judged on the printed two decimals: "1.00x" is not worse.
                    value = p99["mod_jk_rs"] / p99[who]
                    verdict = "PASS" if round(value, 2) <= 1.0 else "FAIL"
                    line = (f"  {s.name:<13} p99 <= 1.0x {who:<18} measured "
                            f"{value:.2f}x  {verdict}")
                    if verdict == "FAIL" and p99["static"]:
                        line += ceiling_remark(p99["static"] / p99[who], 1.0, above=True,
                                               upload=bool(s.post_bytes))
                    lines.append(line)
        cpu = ({fe: fig(s.name, fe, "cpu_us") for fe in ("mod_jk_rs", "mod_jk", "static")}
               if cpu_goal is not None else {})
        if cpu and cpu["mod_jk_rs"] is not None and cpu["mod_jk"]:
            # httpd's own CPU per request (the table's CPU us/req), judged unrounded and
            # printed with three decimals, so a figure on the line shows which side it is on.
            value = cpu["mod_jk_rs"] / cpu["mod_jk"]
            verdict = "PASS" if value <= cpu_goal else "FAIL"
            line = (f"  {s.name:<13} CPU us/req <= {cpu_goal:.1f}x mod_jk      measured "
                    f"{value:.3f}x  {verdict}")
            if verdict == "FAIL" and cpu["static"]:
                line += ceiling_remark(cpu["static"] / cpu["mod_jk"], cpu_goal, above=True,
                                       upload=bool(s.post_bytes))
            # Each round's own ratio: on a shared machine they spread, and the median alone
            # does not say how far.
            rounds = round_ratios(*[(all_figures[s.name].get(fe) or {}).get("cpu_us_rounds")
                                    for fe in ("mod_jk_rs", "mod_jk")])
            if rounds is not None:
                line += f"  (rounds: {rounds})"
            lines.append(line)
    sizes = [s.name for s in scenarios if s.name in ("1k-keepalive", "100k", "10m")]

    def growth(fe):
        rss = [(n, fig(n, fe, "rss_mib")) for n in sizes]
        rss = [(n, v) for n, v in rss if v is not None]
        return (rss, rss[-1][1] - rss[0][1]) if len(rss) >= 2 else (rss, None)

    rss, grown = growth("mod_jk_rs")
    if grown is not None:
        # Thread stacks and allocator caches move by about a megabyte between scenarios in every
        # front end; keeping a 10 MiB answer in memory would add ten.
        verdict = "PASS" if grown < RSS_GROWTH_LIMIT_MIB else "FAIL"
        listed = ", ".join(f"{n} {v:.1f}" for n, v in rss)
        _, reference = growth(REFERENCE)
        seen = "" if reference is None else f"; {REFERENCE} {reference:+.1f}"
        lines.append(f"  child RSS flat with answer size: {listed} MiB (growth {grown:+.1f} MiB"
                     f"{seen}; limit +{RSS_GROWTH_LIMIT_MIB:.1f})  {verdict}")
    return lines


def describe_host():
    cpus = os.cpu_count()
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{cpus} CPUs ({model}), load average {load}"


def tool_version(argv, pattern_text):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except OSError:
        return "?"
    match = re.search(pattern_text, out.stdout + out.stderr)
    return match.group(1) if match else "?"


def package_version(package):
    return tool_version(["dpkg-query", "-W", "-f=${Version}", package], r"(\S+)")


def external_backends(tomcat, tomcat_pids=None):
    """--tomcat HOST:PORT,HOST:PORT (and --tomcat-pids PID,PID): the backends, their pids (whose
    CPU is then measured, as our own backends'), and the header's line about them."""
    backends = []
    for name, spec in zip(BACKEND_NAMES, tomcat.split(",")):
        host, _, port = spec.strip().rpartition(":")
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise SystemExit(f"--tomcat: {spec!r} is not HOST:PORT")
        backends.append(Backend(name, host or "127.0.0.1", int(port)))
    pids = []
    if tomcat_pids:
        texts = [t.strip() for t in tomcat_pids.split(",")]
        if len(texts) != len(backends) or not all(t.isdigit() and int(t) > 0 for t in texts):
            raise SystemExit(f"--tomcat-pids needs one pid per --tomcat backend "
                             f"({len(backends)}), got {tomcat_pids!r}")
        pids = [int(t) for t in texts]
    listed = ", ".join(f"{b.name} {b.host}:{b.port}" for b in backends)
    if pids:
        cpu = "their CPU from pids " + ", ".join(map(str, pids))
    else:
        cpu = "their CPU not measured: no --tomcat-pids"
    return backends, pids, f"external AJP backends ({listed}; {cpu})"


def backend_binary(args):
    """Our backend's program: the test backend for --backend test, else the responder."""
    return args.backend_bin if args.backend == "test" else args.responder


def backend_command(args, port, name, socket_path=""):
    """The command line of one of our backends (--backend fast, pieces or test)."""
    command = [backend_binary(args), "--port", str(port), "--name", name]
    if args.backend == "pieces":
        command += ["--pieces", str(PIECES_PAUSE_US)]
    if socket_path:
        command += ["--unix", socket_path]
    return command


def start_backends(args, procs, base):
    """Our two AJP backends (or the given external ones, e.g. real Tomcats)."""
    if args.tomcat:
        backends, pids, text = external_backends(args.tomcat, args.tomcat_pids)
        for pid in pids:
            if read_proc_stat(pid) is None:
                raise RuntimeError(f"--tomcat-pids: no process {pid}")
        return backends, pids, text
    backends, pids = [], []
    for name in BACKEND_NAMES:
        port = free_port()
        socket_path = ""
        if "mod_jk_rs_unix" in args.front_ends:
            socket_path = os.path.join(base, f"backend-{name}.sock")
        command = backend_command(args, port, name, socket_path)
        proc = procs.start(pinned(command, PIN["load"]),
                           os.path.join(base, f"backend-{name}.log"), "backend")
        if not wait_for_port(port, proc):
            raise RuntimeError(f"backend {name} did not start; see {base}/backend-{name}.log")
        backends.append(Backend(name, "127.0.0.1", port, socket_path))
        pids.append(proc.pid)
    kind = {
        "fast": "ajp-responder (tests/bench/ajp_responder.rs)",
        "pieces": f"ajp-responder --pieces {PIECES_PAUSE_US} (tests/bench/ajp_responder.rs: "
                  "each packet in a write of its own, as Tomcat writes them)",
        "test": "ajp-backend (tests/support/ajp_backend.rs)",
    }[args.backend]
    listed = ", ".join(f"{b.name} 127.0.0.1:{b.port}" for b in backends)
    return backends, pids, f"{kind}: {listed}"


def start_front_ends(args, procs, base, backends, htdocs, max_connections):
    running = []
    for fe in args.front_ends:
        port = free_port()
        module = args.base_module if fe == "mod_jk_rs_base" else args.module
        directory, conf = write_front_end(base, fe, port, args, backends, module, htdocs,
                                          max_connections)
        proc = procs.start(pinned([APACHE2, "-f", conf, "-DFOREGROUND"], PIN["httpd"]),
                           os.path.join(directory, "stderr.log"), "httpd")
        running.append(RunningFrontEnd(fe, port, directory, proc,
                                       "static" if fe == "static" else args.topology))
    for fe in running:
        if not wait_for_port(fe.port, fe.proc):
            raise RuntimeError(f"{fe.name}: httpd did not start; see {fe.directory}/error.log "
                               f"and {fe.directory}/stderr.log\n" + tail(fe.directory))
    return running


def tail(directory, lines=15):
    out = []
    for name in ("stderr.log", "error.log"):
        try:
            with open(os.path.join(directory, name), errors="replace") as f:
                out += [f"{name}: {line.rstrip()}" for line in f.readlines()[-lines:]]
        except OSError:
            pass
    return "\n".join(out)


def sanity_check(args, front_end, scenarios):
    """None when the front end answers every scenario right (retrying while it starts up), else
    why not: a front end that cannot serve the topology is left out instead of timed."""
    for s in scenarios:
        deadline = time.monotonic() + 10
        while True:
            why = check_answer(front_end.port, s, front_end_path(args, front_end.name, s))
            if why is None:
                break
            if time.monotonic() > deadline or front_end.proc.poll() is not None:
                return f"scenario {s.name}: {why}"
            time.sleep(0.2)
    return None


def command_run(args):
    scenarios = [SCENARIO_BY_NAME[n] for n in args.scenarios]
    max_connections = max(s.connections for s in scenarios)
    procs = Processes()
    base = tempfile.mkdtemp(prefix="mod_jk_rs-bench.")
    os.chmod(base, 0o755)
    htdocs = os.path.join(base, "htdocs")
    write_htdocs(htdocs, sorted({s.size for s in scenarios}))
    scripts = {}
    for s in scenarios:
        scripts[s.name] = os.path.join(base, f"wrk-{s.name}.lua")
        with open(scripts[s.name], "w") as f:
            f.write(wrk_script(s))
    all_figures = {}
    raw = {}
    try:
        backends, backend_pids, backend_text = start_backends(args, procs, base)
        front_ends = start_front_ends(args, procs, base, backends, htdocs, max_connections)
        excluded = {}
        for fe in list(front_ends):
            why = sanity_check(args, fe, scenarios)
            if why:
                excluded[fe.name] = why
                print(f"bench: {fe.name} left out: {why}\n{tail(fe.directory, 3)}",
                      file=sys.stderr)
                procs.stop(fe.proc, "httpd")
                front_ends.remove(fe)
        if not front_ends:
            raise RuntimeError("no front end gave the right answers")
        print_header(args, front_ends, backends, backend_text, base, scenarios, excluded)
        # Opens every pooled backend connection and warms caches before anything is timed.
        warm = SCENARIO_BY_NAME["1k-keepalive"]
        warm_script = os.path.join(base, "wrk-warmup.lua")
        with open(warm_script, "w") as f:
            f.write(wrk_script(warm))
        for fe in front_ends:
            run_wrk(fe.port, warm, warm_script, args.warmup, connections=max_connections,
                    path=front_end_path(args, fe.name, warm))
        for s in scenarios:
            runs = {fe.name: [] for fe in front_ends}
            for _ in range(args.rounds):
                for fe in front_ends:
                    runs[fe.name].append(measure(fe, s, scripts[s.name], args.duration,
                                                 backend_pids, front_end_path(args, fe.name, s)))
            figures = {name: summarize(r, s.post_bytes) for name, r in runs.items()}
            all_figures[s.name] = figures
            raw[s.name] = runs
            print(f"\n== {s.name}: {s.title}; wrk -t{wrk_threads(s.connections, s)} "
                  f"-c{s.connections} -d{args.duration}s; {args.rounds} round(s), "
                  "medians ==")
            print(scenario_table(s, figures, [fe.name for fe in front_ends]))
            notes = []
            if any(f and f["rss_since_start"] for f in figures.values()):
                notes.append("RSS could not be reset: peak since start-up")
            if any(f and f["errors"]["status"] for f in figures.values()):
                notes.append("status errors = non-2xx answers: that front end's figures do not "
                             "count")
            if any(f and f["errors"]["read"] for f in figures.values()):
                notes.append("read errors = httpd closed a connection wrk was using (wrk "
                             "reconnects); see README.md")
            if args.topology == "lb":
                split = ", ".join(f"{name} " + "/".join(str(p) for p in f["backend_share"])
                                  for name, f in figures.items()
                                  if f and f["backend_share"] and name != "static")
                if split:
                    notes.append(f"backend CPU split tomcatA/tomcatB in %: {split}")
            for note in notes:
                print(f"  note: {note}")
            sys.stdout.flush()
        lines = target_lines(all_figures, scenarios,
                             cpu_goal=TOMCAT_CPU_GOAL if args.tomcat else None)
        if lines:
            print(f"\n== targets for mod_jk_rs (topology {args.topology}) ==")
            print("\n".join(lines))
        lines = base_lines(all_figures, scenarios)
        if lines:
            print(f"\n== mod_jk_rs ({args.module}) / mod_jk_rs_base ({args.base_module}) ==")
            print("\n".join(lines))
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"figures": all_figures, "runs": raw, "mpm": args.mpm,
                           "topology": args.topology, "backend": backend_text}, f, indent=1)
            print(f"\nraw results: {args.json}")
    finally:
        procs.stop_all()
        if args.keep:
            print(f"\nrun directory kept: {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
    return 0


def print_header(args, front_ends, backends, backend_text, base, scenarios, excluded):
    httpd = tool_version([APACHE2, "-v"], r"Server version:\s*(.+)")
    if args.mpm == "prefork":
        shape = f"{max(s.connections for s in scenarios) + 8} processes"
    else:
        shape = f"{SERVERS} processes x {THREADS_PER_CHILD} threads"
    print("mod_jk_rs benchmark (tests/bench/run.sh)")
    print(f"  host:      {describe_host()}")
    print(f"  httpd:     {httpd}, MPM {args.mpm} ({shape}), KeepAlive On, "
          "MaxKeepAliveRequests 0, KeepAliveTimeout 5, no access log")
    print(f"  backends:  {backend_text}")
    wrk = tool_version(["wrk", "-v"], r"wrk (\S+)")
    print(f"  client:    wrk {wrk} on loopback, "
          f"{args.duration}s per run, {args.rounds} round(s) interleaved "
          f"({' '.join(fe.name for fe in front_ends)}, ...), warm-up {args.warmup}s")
    if PIN["httpd"]:
        print(f"  pinning:   httpd on CPU {','.join(map(str, PIN['httpd']))}; wrk and the "
              f"backends on CPU {','.join(map(str, PIN['load']))} (--pin)")
    else:
        print("  pinning:   none: httpd, wrk and the backends share every CPU (--pin separates "
              "them)")
    print("  front ends (same httpd, same modules but the last config block):")
    versions = {
        "mod_jk_rs": args.module,
        "mod_jk_rs_unix": args.module,
        "mod_jk_rs_base": getattr(args, "base_module", None),
        "mod_jk": f"mod_jk {package_version('libapache2-mod-jk')}",
        "mod_proxy_ajp": "httpd's mod_proxy + mod_proxy_ajp",
        "static": "httpd's file handler",
    }
    for fe in front_ends:
        print(f"    {fe.name:<14} {versions[fe.name]}")
        print(f"    {'':<14} topology {fe.topology}: "
              f"{topology_description(fe.name, args.topology, backends)}")
    for name, why in excluded.items():
        print(f"    {name:<14} LEFT OUT, wrong answer: {why}")
    print(f"  configs:   {base}/<front end>/httpd.conf"
          + ("" if args.keep else " (removed at exit; --keep keeps them)"))
    print("  columns:   medians over rounds; xmod_jk = figure / mod_jk's; CPU = all httpd "
          "processes' user+system time per request; RSS = largest peak RSS of one child; "
          "spread = (max-min)/median req/s")
    sys.stdout.flush()


# ---------------------------------------------------------------------------------------------
# The `callgrind` command

ALLOCATORS = ("malloc", "calloc", "realloc", "posix_memalign", "aligned_alloc", "memalign",
              "valloc")
NAME_LINE = re.compile(r"^(c?fn)=\((\d+)\)(?: (.*))?$")


def parse_callgrind(text):
    """Total instructions (Ir) and the call counts of every caller -> callee edge, from a
    callgrind output file (names may be compressed as `(id) name`, later just `(id)`)."""
    names = {}
    current_fn = None
    current_cfn = None
    total = None
    edges = {}
    for line in text.splitlines():
        if line.startswith(("fn=", "cfn=")):
            match = NAME_LINE.match(line)
            if match:
                kind, ident, name = match.groups()
                if name is not None:
                    names[ident] = name
                resolved = names.get(ident, ident)
            else:
                kind, _, resolved = line.partition("=")
            # `malloc'2` is callgrind's name for a recursion level of malloc.
            resolved = re.sub(r"'\d+$", "", resolved)
            if kind == "fn":
                current_fn = resolved
            else:
                current_cfn = resolved
        elif line.startswith("calls="):
            key = (current_fn or "?", current_cfn or "?")
            edges[key] = edges.get(key, 0) + int(line[len("calls="):].split()[0])
        elif line.startswith(("summary:", "totals:")):
            value = int(line.split(":", 1)[1].split()[0])
            if line.startswith("summary:") or total is None:
                total = value
    if total is None:
        raise ValueError("no summary/totals line: not a callgrind output file?")
    return total, edges


def allocation_calls(edges):
    """Calls into the C allocator (malloc, calloc, realloc, memalign...) among the edges; one
    allocator calling another (glibc's realloc(NULL, n) calls malloc) is one allocation."""
    return sum(count for (caller, callee), count in edges.items()
               if callee in ALLOCATORS and caller not in ALLOCATORS)


# Functions that only pass an allocation on (Rust's global allocator shims, alloc::'s growth
# paths, the formatting machinery behind format!): the place that asked for memory is their caller.
ALLOCATION_PLUMBING = re.compile(
    r"^(__rustc::)?__r(ust|dl)_|^<?alloc::|^<[^ ]+ as <?alloc::|^<&?(str|\[u8\]) as <alloc::"
    r"|^<?core::fmt::|^<[^ ]+ as core::fmt::")


def allocation_sites(edges, requests):
    """Allocator calls per request by the function that asked for them, from the difference of
    two runs' edges: through allocation plumbing, each call is shared among the plumbing's
    callers in proportion to their calls. Negative: the run without measured requests allocated
    more there (a one-off that happened in only one run)."""
    incoming = {}
    for (caller, callee), count in edges.items():
        if count > 0:
            incoming.setdefault(callee, []).append((caller, count))
    sites = {}

    def attribute(function, amount, depth):
        callers = incoming.get(function, [])
        whole = sum(count for _, count in callers)
        if not ALLOCATION_PLUMBING.match(function) or not whole or depth > 12:
            sites[function] = sites.get(function, 0.0) + amount
            return
        for caller, count in callers:
            attribute(caller, amount * count / whole, depth + 1)

    for (caller, callee), count in edges.items():
        if callee in ALLOCATORS and caller not in ALLOCATORS and count:
            attribute(caller, count / requests, 0)
    return sites


def edge_difference(after, before):
    keys = set(after) | set(before)
    return {k: after.get(k, 0) - before.get(k, 0) for k in keys if after.get(k, 0) != before.get(k, 0)}


def run_client(port, scenario, warmup, requests, deadline=600.0):
    """`warmup` then `requests` requests; keep-alive scenarios use one connection for all."""
    request = build_request(scenario, port)
    start = time.monotonic()
    conn = None
    while conn is None:
        try:
            conn = HttpConnection(port, timeout=120)
        except OSError:
            if time.monotonic() - start > deadline:
                raise
            time.sleep(0.2)
    try:
        for i in range(warmup + requests):
            if not scenario.keepalive and i:
                conn.close()
                conn = HttpConnection(port, timeout=120)
            status, _, length = conn.exchange(request, keep_body=False)
            if status != 200 or length != scenario.size:
                raise HttpError(f"request {i}: status {status}, {length} body bytes")
    finally:
        conn.close()


def stop_single_process(proc, port, timeout=120.0, signal_pid=None):
    """SIGTERM to an `httpd -X` (`signal_pid`, when `proc` is a tracer that started it) and wait
    for `proc`; prefork's only notices it once accept() returns, so while it lives it gets an
    empty connection every second (both runs alike, so it cancels out)."""
    if signal_pid is None:
        proc.send_signal(signal.SIGTERM)
    else:
        try:
            os.kill(signal_pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            proc.wait(1)
            return
        except subprocess.TimeoutExpired:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            except OSError:
                pass


def callgrind_once(args, base, fe_name, backends, htdocs, scenario, count, procs):
    port = free_port()
    directory, conf = write_front_end(base, fe_name, port, args, backends, args.module, htdocs,
                                      scenario.connections, CALLGRIND_THREADS)
    out_dir = os.path.join(base, "callgrind")
    os.makedirs(out_dir, exist_ok=True)
    os.chmod(out_dir, 0o777)  # httpd -X writes it after switching to www-data
    out = os.path.join(out_dir, f"{fe_name}.{scenario.name}.{count}.out")
    # valgrind creates the file as root at start (mode 0600 when new) but writes it at exit, after
    # httpd switched to www-data: a file that already exists keeps this mode.
    with open(out, "w"):
        pass
    os.chmod(out, 0o666)
    # CALLGRIND_DUMP_INSTR=1: costs per instruction, for tests/bench/callgrind_lines.py.
    per_instruction = ["--dump-instr=yes"] if os.environ.get("CALLGRIND_DUMP_INSTR") else []
    argv = ["valgrind", "--tool=callgrind", "--vgdb=no", *per_instruction,
            f"--callgrind-out-file={out}", APACHE2, "-X", "-f", conf]
    proc = procs.start(argv, os.path.join(directory, f"valgrind.{count}.log"), "httpd")
    try:
        run_client(port, scenario, args.warmup_requests, count)
        stop_single_process(proc, port)
    finally:
        procs.stop(proc, "httpd", timeout=120)
    if not os.path.exists(out):
        raise RuntimeError(f"{fe_name}: callgrind wrote no {out}\n" + tail(directory))
    with open(out, errors="replace") as f:
        return parse_callgrind(f.read())


def command_callgrind(args):
    scenarios = [SCENARIO_BY_NAME[n] for n in args.scenarios]
    procs = Processes()
    base = tempfile.mkdtemp(prefix="mod_jk_rs-callgrind.")
    os.chmod(base, 0o755)
    htdocs = os.path.join(base, "htdocs")
    write_htdocs(htdocs, sorted({s.size for s in scenarios}))
    results = {}
    try:
        backends, _, backend_text = start_backends(args, procs, base)
        httpd = tool_version([APACHE2, "-v"], r"Server version:\s*(.+)")
        valgrind = tool_version(["valgrind", "--version"], r"(valgrind-\S+)")
        print("mod_jk_rs instructions per request (tests/bench/callgrind.sh)")
        print(f"  httpd:    {httpd}, one process: apache2 -X, MPM {args.mpm}, under "
              f"{valgrind} --tool=callgrind")
        print(f"  backends: {backend_text}")
        print(f"  config:   run.sh's httpd.conf but ThreadsPerChild {CALLGRIND_THREADS} "
              "(so the warm-up reaches every thread)")
        print(f"  method:   whole-process Ir with {args.warmup_requests} + N requests (one "
              f"keep-alive connection, or one connection each for 1k-close), minus the same "
              f"with {args.warmup_requests} + 0, divided by N (in each table's title)")
        for fe in args.front_ends:
            print(f"  {fe:<14} topology "
                  f"{'static' if fe == 'static' else args.topology}: "
                  f"{topology_description(fe, args.topology, backends)}")
        sys.stdout.flush()
        for s in scenarios:
            results[s.name] = {}
            n = args.requests or default_requests(s)
            for fe in args.front_ends:
                base_ir, base_edges = callgrind_once(args, base, fe, backends, htdocs, s, 0,
                                                     procs)
                ir, edges = callgrind_once(args, base, fe, backends, htdocs, s, n, procs)
                difference = edge_difference(edges, base_edges)
                results[s.name][fe] = {
                    "ir": (ir - base_ir) / n,
                    "mallocs": allocation_calls(difference) / n,
                    "sites": allocation_sites(difference, n),
                    "requests": n,
                }
            print_callgrind_table(s, n, results[s.name], args.front_ends)
        print_callgrind_targets(results)
        if args.json:
            with open(args.json, "w") as f:
                json.dump({k: {fe: {"ir": v["ir"], "mallocs": v["mallocs"], "n": v["requests"]}
                               for fe, v in r.items()} for k, r in results.items()}, f, indent=1)
            print(f"\nraw results: {args.json}")
    finally:
        procs.stop_all()
        if args.keep:
            print(f"\nrun directory kept: {base} (callgrind_annotate {base}/callgrind/*.out)")
        else:
            shutil.rmtree(base, ignore_errors=True)
    return 0


# ---------------------------------------------------------------------------------------------
# The `syscalls` command: system calls per request under strace, the kernel-side cost that
# callgrind cannot see (every syscall is a user/kernel round trip; loopback sends also run the
# receiver's TCP path on the sender's CPU).

# `1234 name(args...` -- a call, whole or `<unfinished ...>`. `1234 <... name resumed>` (the rest
# of an unfinished call), `--- SIG...` and `+++ exited` lines are not new calls.
STRACE_CALL = re.compile(r"^(?:\[pid\s+)?\d*\]?\s*([a-z_][a-z0-9_]*)\(")


# The request that ends the counted part of a trace: sent after the measured requests, before
# httpd is stopped. What follows it (the stop, and the empty connections `stop_single_process`
# makes while httpd is still up: 121 in one run) differs from run to run; counted, it moved
# accept4, shutdown, close, fcntl and read by ±0.1 per request each. strace shows a read's first
# 32 bytes: the request line fits.
STRACE_END_PATH = "/syscalls-end"
# What marks the end request's line in the trace (a read's data), and the request itself.
STRACE_END_MARK = f"GET {STRACE_END_PATH} "
STRACE_END_REQUEST = (f"{STRACE_END_MARK}HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      "Connection: close\r\n\r\n").encode()


def parse_strace(text, until=None):
    """{syscall name: calls} from an `strace -f -qq -o FILE` trace (one line per call); with
    `until`, only the calls before the first line that holds it (the end request being read).
    A trace without that line is an error: its count would include the stop."""
    counts = {}
    for line in text.splitlines():
        if until is not None and until in line:
            return counts
        match = STRACE_CALL.match(line)
        if match:
            name = match.group(1)
            counts[name] = counts.get(name, 0) + 1
    if until is not None:
        raise RuntimeError(f"the trace never reads the end request ({until}): not counted")
    return counts


def count_difference(after, before, requests):
    """Per-request difference of two {name: count} maps, names that did not change left out."""
    keys = set(after) | set(before)
    return {k: (after.get(k, 0) - before.get(k, 0)) / requests for k in keys
            if after.get(k, 0) != before.get(k, 0)}


def traced_httpd_pid(strace_proc, timeout=15.0):
    """The httpd that strace started (strace's only child), or None if it never appeared."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if strace_proc.poll() is not None:
            return None
        children = children_of(strace_proc.pid)
        if children:
            return children[0]
        time.sleep(0.05)
    return None


def kill_ours(conf):
    """SIGKILL every process still running with our `conf` on its command line: the httpd that
    strace started, if strace stopped early and detached it (the run directory's config path is
    ours alone, so this finds no one else's process). Returns the pids signalled."""
    killed = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if conf.encode() in argv:
            try:
                os.kill(int(entry), signal.SIGKILL)
                killed.append(int(entry))
            except ProcessLookupError:
                pass
    return killed


def strace_once(args, base, fe_name, backends, htdocs, scenario, count, procs):
    port = free_port()
    directory, conf = write_front_end(base, fe_name, port, args, backends, args.module, htdocs,
                                      scenario.connections, CALLGRIND_THREADS)
    pidfile = os.path.join(directory, "run", "httpd.pid")
    if os.path.exists(pidfile):
        os.remove(pidfile)  # the previous -X run's; httpd refuses to start over a live-looking one
    out = os.path.join(base, "strace", f"{fe_name}.{scenario.name}.{count}.trace")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    # -f: every thread; -qq: no attach/exit chatter. strace itself stays root and writes `out`.
    argv = ["strace", "-f", "-qq", "-o", out, APACHE2, "-X", "-f", conf]
    proc = procs.start(argv, os.path.join(directory, f"strace.{count}.log"), "strace")
    try:
        httpd = traced_httpd_pid(proc)
        if httpd is None:
            raise RuntimeError(f"{fe_name}: httpd did not start under strace\n" + tail(directory))
        run_client(port, scenario, args.warmup_requests, count)
        end = HttpConnection(port, timeout=30)
        try:
            end.exchange(STRACE_END_REQUEST, keep_body=False)
        finally:
            end.close()
        # SIGTERM to httpd itself: strace, signalled, would detach and leave httpd running.
        stop_single_process(proc, port, signal_pid=httpd)
    finally:
        procs.stop(proc, "strace", timeout=60)
        # Whatever happened to strace, no httpd of this config outlives the run (one once did,
        # when strace ended before it: found by its config path, not by the pid seen at start).
        for pid in kill_ours(conf):
            print(f"bench: httpd {pid} outlived strace; killed", file=sys.stderr)
    with open(out, errors="replace") as f:
        return parse_strace(f.read(), until=STRACE_END_MARK)


def command_syscalls(args):
    scenarios = [SCENARIO_BY_NAME[n] for n in args.scenarios]
    procs = Processes()
    base = tempfile.mkdtemp(prefix="mod_jk_rs-syscalls.")
    os.chmod(base, 0o755)
    htdocs = os.path.join(base, "htdocs")
    write_htdocs(htdocs, sorted({s.size for s in scenarios}))
    results = {}
    try:
        backends, _, backend_text = start_backends(args, procs, base)
        httpd = tool_version([APACHE2, "-v"], r"Server version:\s*(.+)")
        strace = tool_version(["strace", "-V"], r"(strace -- version \S+)")
        print("mod_jk_rs system calls per request (tests/bench/syscalls.sh)")
        print(f"  httpd:    {httpd}, one process: apache2 -X, MPM {args.mpm}, under {strace} -f")
        print(f"  backends: {backend_text}")
        print(f"  config:   run.sh's httpd.conf but ThreadsPerChild {CALLGRIND_THREADS}")
        print(f"  method:   every system call of every thread with {args.warmup_requests} + N "
              f"requests, minus the same with {args.warmup_requests} + 0, divided by N; "
              f"counted up to the read of a last request ({STRACE_END_PATH}), not the stop")
        for fe in args.front_ends:
            print(f"  {fe:<14} topology "
                  f"{'static' if fe == 'static' else args.topology}: "
                  f"{topology_description(fe, args.topology, backends)}")
        sys.stdout.flush()
        for s in scenarios:
            results[s.name] = {}
            n = args.requests or default_requests(s)
            for fe in args.front_ends:
                before = strace_once(args, base, fe, backends, htdocs, s, 0, procs)
                after = strace_once(args, base, fe, backends, htdocs, s, n, procs)
                per_request = count_difference(after, before, n)
                results[s.name][fe] = {"total": sum(per_request.values()),
                                       "calls": per_request, "requests": n}
            print_syscall_table(s, n, results[s.name], args.front_ends)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(results, f, indent=1)
            print(f"\nraw results: {args.json}")
    finally:
        procs.stop_all()
        if args.keep:
            print(f"\nrun directory kept: {base} (traces in {base}/strace/)")
        else:
            shutil.rmtree(base, ignore_errors=True)
    return 0


def syscall_mix(calls, limit=8):
    """`name count, ...` of the calls made at least 0.05 times per request, most first."""
    top = sorted((kv for kv in calls.items() if abs(kv[1]) >= 0.05), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(f"{name} {value:.1f}" for name, value in top[:limit])


def print_syscall_table(scenario, requests, figures, front_ends):
    print(f"\n== {scenario.name}: {scenario.title}; N = {requests} ==")
    jk = figures.get("mod_jk", {}).get("total")
    px = figures.get("mod_proxy_ajp", {}).get("total")
    rows = [["front end", "syscalls/req", "xmod_jk", "xmod_proxy_ajp", "the calls per request"]]
    for fe in front_ends:
        f = figures.get(fe)
        if not f:
            continue
        rows.append([fe, fmt(f["total"], 1), fmt_ratio(ratio(f["total"], jk)),
                     fmt_ratio(ratio(f["total"], px)), syscall_mix(f["calls"])])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:4], widths[1:4])]
        print("  ".join(cells + [r[4]]))
    sys.stdout.flush()


def default_requests(scenario):
    """2000 requests, fewer when each moves more than 100 KiB (valgrind runs ~50x slower)."""
    moved = max(scenario.size, scenario.post_bytes)
    return max(20, min(2000, 2000 * 100 * KIB // moved))


def print_callgrind_table(scenario, requests, figures, front_ends):
    print(f"\n== {scenario.name}: {scenario.title}; N = {requests} ==")
    jk = figures.get("mod_jk", {}).get("ir")
    px = figures.get("mod_proxy_ajp", {}).get("ir")
    rows = [["front end", "instructions/req", "xmod_jk", "xmod_proxy_ajp", "mallocs/req"]]
    for fe in front_ends:
        f = figures.get(fe)
        if not f:
            continue
        rows.append([fe, fmt(f["ir"], 0), fmt_ratio(ratio(f["ir"], jk)),
                     fmt_ratio(ratio(f["ir"], px)), fmt(f["mallocs"], 2)])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join([r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:])]))
    for fe in front_ends:
        sites = figures.get(fe, {}).get("sites", {})
        top = sorted(sites.items(), key=lambda kv: -abs(kv[1]))[:6]
        top = [(k, v) for k, v in top if abs(v) >= 0.01]
        if top:
            print(f"  {fe}: allocations per request by the function asking for them:")
            for site, v in top:
                print(f"    {v:+6.2f}  {site}")
    sys.stdout.flush()


def print_callgrind_targets(results):
    """Issue #18's targets: per scenario (1 KiB with one header, and as a browser asks) at most
    0.35x mod_jk, 0.75x mod_proxy_ajp and 1.1x static; per extra header less than
    mod_proxy_ajp adds; no heap allocation."""
    goals = (("mod_jk", 0.35), ("mod_proxy_ajp", 0.75), ("static", 1.10))
    printed = False
    for scenario in ("1k-keepalive", "browser"):
        f = results.get(scenario)
        if not f or "mod_jk_rs" not in f:
            continue
        rs = f["mod_jk_rs"]
        print(f"\n== targets for mod_jk_rs ({scenario}) ==")
        printed = True
        for who, goal in goals:
            if who in f and f[who]["ir"]:
                value = rs["ir"] / f[who]["ir"]
                print(f"  instructions/req <= {goal:.2f}x {who:<14} measured {value:.3f}x  "
                      f"{'PASS' if value <= goal else 'FAIL'}")
        # Below one allocation in 100 requests is a one-off (a pool growing once).
        verdict = "PASS" if abs(rs["mallocs"]) < 0.01 else "FAIL"
        print(f"  heap allocations/req = 0 (malloc+calloc+realloc+memalign) measured "
              f"{rs['mallocs']:.2f}  {verdict}")
    one, browser = results.get("1k-keepalive"), results.get("browser")
    if printed and one and browser:
        extra = len(BROWSER_HEADERS)
        per = {fe: (browser[fe]["ir"] - one[fe]["ir"]) / extra
               for fe in browser if fe in one and browser[fe]["ir"] and one[fe]["ir"]}
        if "mod_jk_rs" in per and "mod_proxy_ajp" in per:
            verdict = "PASS" if per["mod_jk_rs"] < per["mod_proxy_ajp"] else "FAIL"
            others = ", ".join(f"{fe} {v:,.0f}" for fe, v in per.items() if fe != "mod_jk_rs")
            print(f"\n== per extra request header (browser - 1k-keepalive, / {extra}) ==")
            print(f"  mod_jk_rs {per['mod_jk_rs']:,.0f} < mod_proxy_ajp's  ({others})  {verdict}")


# ---------------------------------------------------------------------------------------------
# Command line


def csv_choice(allowed):
    def parse(text):
        items = [t.strip() for t in text.split(",") if t.strip()]
        for item in items:
            if item not in allowed:
                raise argparse.ArgumentTypeError(
                    f"{item!r} is not one of {', '.join(allowed)}")
        return items
    return parse


def positive_int(text):
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


def parser():
    p = argparse.ArgumentParser(prog="bench.py", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    for name in ("run", "callgrind", "syscalls"):
        c = sub.add_parser(name)
        c.add_argument("--module", required=True, help="libmod_jk_rs.so to load")
        c.add_argument("--responder", help="the built tests/bench/ajp_responder.rs")
        c.add_argument("--backend-bin", help="the built ajp-backend example")
        c.add_argument("--backend", choices=("fast", "pieces", "test"), default="fast",
                       help="fast: ajp-responder (default); pieces: ajp-responder writing each "
                            "packet by itself after a pause, as Tomcat's writes often arrive; "
                            "test: tests/support's ajp-backend")
        c.add_argument("--tomcat", metavar="HOST:PORT,HOST:PORT",
                       help="use these AJP backends (e.g. two Tomcats) instead of starting ours")
        c.add_argument("--tomcat-path", metavar="PATH",
                       help=f"with --tomcat: a path under {MOUNT_PREFIX} answering ?size=N")
        c.add_argument("--tomcat-pids", metavar="PID,PID",
                       help="with --tomcat: the backends' pids, so that their CPU per request is "
                            "measured (tests/bench/tomcat.sh pids)")
        c.add_argument("--mpm", choices=MPMS, default="event")
        c.add_argument("--topology", choices=TOPOLOGIES, default=TOPOLOGY)
        c.add_argument("--front-ends", type=csv_choice(FRONT_ENDS),
                       default=list(DEFAULT_FRONT_ENDS),
                       help="default: all but mod_jk_rs_unix (mod_jk_rs over a Unix socket)")
        c.add_argument("--keep", action="store_true", help="keep the run directory")
        c.add_argument("--json", help="also write the figures to this file")
        if name == "run":
            c.add_argument("--scenarios", type=csv_choice(list(SCENARIO_BY_NAME)),
                           default=list(SCENARIO_BY_NAME))
            c.add_argument("--rounds", type=positive_int, default=3)
            c.add_argument("--duration", type=positive_int, default=5, help="seconds per run")
            c.add_argument("--warmup", type=positive_int, default=2, help="seconds per front end")
            c.add_argument("--base-module", metavar="PATH",
                           help="also measure this libmod_jk_rs.so, configured as mod_jk_rs "
                                "(front end mod_jk_rs_base, in the same interleaved rounds), "
                                "and print mod_jk_rs / mod_jk_rs_base per scenario: an A/B of "
                                "two builds under the same load")
            c.add_argument("--pin", action="store_true",
                           help="httpd on the first half of the CPUs, wrk and the backends on "
                                "the rest (taskset), so req/s shows the front end's own cost")
            c.add_argument("--quick", action="store_true",
                           help="smoke run: 1 round of 2 s, 1 s warm-up (< 2 minutes)")
        else:
            c.add_argument("--scenarios", type=csv_choice(UNPACED_SCENARIOS),
                           default=["1k-keepalive"])
            c.add_argument("--requests", type=positive_int,
                           help="N: measured requests per front end (default 2000; fewer for "
                                "answers or bodies over 100 KiB, 20 for 10m)")
            # Threaded MPMs hand successive requests to any idle thread, and each thread's first
            # request sets up its thread-locals (an allocation or two, once): every thread must
            # have served requests before counting starts.
            c.add_argument("--warmup-requests", type=int, default=50 * CALLGRIND_THREADS,
                           help="requests in both runs before the measured ones")
    return p


def main(argv):
    args = parser().parse_args(argv)
    base_module = getattr(args, "base_module", None)
    if base_module:
        if not os.access(base_module, os.R_OK):
            raise SystemExit(f"--base-module: cannot read {base_module!r}")
        args.base_module = os.path.abspath(base_module)  # httpd reads it from its ServerRoot
        if "mod_jk_rs" not in args.front_ends:
            raise SystemExit("--base-module compares with mod_jk_rs: keep it in --front-ends")
        if "mod_jk_rs_base" not in args.front_ends:
            at = args.front_ends.index("mod_jk_rs") + 1
            args.front_ends = args.front_ends[:at] + ["mod_jk_rs_base"] + args.front_ends[at:]
    elif "mod_jk_rs_base" in args.front_ends:
        raise SystemExit("mod_jk_rs_base is the build given with run.sh --base-module")
    if args.tomcat_path and not args.tomcat:
        raise SystemExit("--tomcat-path needs --tomcat")
    if args.tomcat_pids and not args.tomcat:
        raise SystemExit("--tomcat-pids needs --tomcat")
    if args.tomcat:
        external_backends(args.tomcat, args.tomcat_pids)  # SystemExit when malformed
    if args.tomcat_path and not args.tomcat_path.startswith(MOUNT_PREFIX):
        raise SystemExit(f"--tomcat-path must be under {MOUNT_PREFIX} (what every front end mounts)")
    if not args.tomcat:
        needed = backend_binary(args)
        if not needed or not os.access(needed, os.X_OK):
            raise SystemExit(f"backend binary missing: {needed!r} (run through run.sh)")
    if "mod_jk_rs_unix" in args.front_ends and (args.tomcat or args.backend != "fast"):
        raise SystemExit("mod_jk_rs_unix needs our fast backend (ajp-responder --unix)")
    if args.topology == "lb" and args.tomcat and len(args.tomcat.split(",")) < 2:
        raise SystemExit("--topology lb needs two backends in --tomcat")
    if args.command == "run" and args.pin:
        PIN["httpd"], PIN["load"] = split_cpus(os.sched_getaffinity(0))
    if args.command == "run" and args.quick:
        args.rounds, args.duration, args.warmup = 1, 2, 1
    if args.command in ("callgrind", "syscalls") and args.tomcat_path:
        raise SystemExit(f"{args.command} checks answer sizes against ?size=N: use our backends")
    # A signal ends the run through the finally blocks that stop what we started (SIGINT too
    # when started in the background, where it arrives ignored).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        if args.command == "run":
            return command_run(args)
        if args.command == "syscalls":
            return command_syscalls(args)
        return command_callgrind(args)
    except KeyboardInterrupt:
        return 130
    except RuntimeError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
