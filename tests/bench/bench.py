#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""The benchmark behind `make bench` (issue 6): tiktok-mirror against the
emulator, measured side by side with a floor that makes the same requests
and does nothing else.

For each fixture size (default 10k, 50k and 100k videos over 100 accounts,
`quantity: all`, small real JPEG/PNG/WebP covers from the emulator's CDN):

  initial sync   wall, CPU (user+sys from wait4), peak RSS (VmHWM) and peak
                 Private_Dirty (/proc/PID/status and smaps_rollup, sampled
                 every 50 ms; not ru_maxrss, which also counts the forked
                 Python parent's pages before exec),
                 requests by endpoint and covers served (emulator counters),
                 and the emulator's own CPU over the run
  floor          tests/bench/floor.c replays the same request list (user/info,
                 video/list pages by cursor, then every cover and avatar
                 URL) with the same concurrency (app.concurrency, 4) and
                 keeps nothing; the ratio sync/floor of wall time, and of
                 CPU (a reference: the floor runs between the syncs, on
                 the host as fast or slow as it is in that run). The
                 list comes from
                 walking every account's listing once before the runs, so
                 the floor's pages do not wait on each other's cursors.
  refresh        a second `sync` with nothing changed: requests, video rows
                 written (counted by bench-only triggers on videos), covers
                 fetched, CPU; steady-state calls per hour against the rate
                 budget (600 calls/min/endpoint = 36,000/h)

and on the largest fixture: the idle daemon (`run`, 100 accounts, after the
initial sync): RSS, Private_Dirty, wake-ups and syscalls over
BENCH_IDLE_SECONDS untouched (wake-ups = voluntary context switches, and
CPU, from /proc), then BENCH_STRACE_SECONDS (default 20, to keep the run
short) under strace -f -c for the syscalls; readers:
`videos NAME --quantity 20 --json` as a whole process (best of N) and the
same query in SQL through Python's sqlite3. One initial sync on the real disk
(BENCH_DISK_SIZE) gives the durability (fsync) cost, set against the same
size on tmpfs.

Method. Data lives on tmpfs (a folder under /dev/shm, SQLite's temporary
files too through SQLITE_TMPDIR) so the CPU figure is the program's, not the
disk's. api_url is the emulator's plain-http port (TLS in a Python server
would only slow the bound down); app.rate_limit is 1000000 and the
emulator's rate_limit 0, so the emulator is the bound. Each initial sync and
floor is repeated BENCH_REPEAT times, alternating, on a wiped mirror; the
table shows the median and the spread (min-max), because the machine is
shared and timings are noisy.

Shortcut (documented, bench only): accounts are authorized by minting
tokens with the emulator's OAuth flow (emu.oauth(): PKCE authorize + token)
and inserting them straight into the daemon's secrets file (its table
`tokens`; the program makes the file, mode 0600 and schema, when a first
`sync --dry-run` finds no account authorized) instead of running
`tiktok-mirror auth` 100 times.

Environment: BENCH_SIZES (default 10000,50000,100000), BENCH_ACCOUNTS (100),
BENCH_REPEAT (3), BENCH_IDLE_SECONDS (60), BENCH_STRACE_SECONDS (20),
BENCH_READER_RUNS (30), BENCH_DISK_SIZE (10000; 0 skips), BENCH_CONCURRENCY
(4), BENCH_TMPFS (/dev/shm), BENCH_OUT (build/bench), BENCH_KEEP=1 keeps the
data, BENCH_PROFILE=1 also records a perf profile (cpu-clock, DWARF call
graphs) of one initial sync of the smallest fixture and prints the time by
library and our functions by inclusive time. TM_BIN and BENCH_FLOOR name the
binaries (make bench sets both). About 9 minutes on a 2-core machine.

Results: a table on the terminal and BENCH_OUT/results.json.
"""
import datetime
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
ROOT = os.path.dirname(TESTS)
sys.path.insert(0, TESTS)
sys.path.insert(0, os.path.join(TESTS, "e2e"))

from emu import Emulator  # noqa: E402
import harness  # noqa: E402


def env_int(name, default):
    v = os.environ.get(name)
    return int(v) if v not in (None, "") else default


SIZES = [int(x) for x in os.environ.get(
    "BENCH_SIZES", "10000,50000,100000").split(",") if x.strip()]
ACCOUNTS = env_int("BENCH_ACCOUNTS", 100)
REPEAT = max(1, env_int("BENCH_REPEAT", 3))
IDLE_SECONDS = env_int("BENCH_IDLE_SECONDS", 60)
STRACE_SECONDS = env_int("BENCH_STRACE_SECONDS", min(20, IDLE_SECONDS))
READER_RUNS = max(1, env_int("BENCH_READER_RUNS", 30))
DISK_SIZE = env_int("BENCH_DISK_SIZE", 10000)
CONCURRENCY = env_int("BENCH_CONCURRENCY", 4)
TMPFS = os.environ.get("BENCH_TMPFS", "/dev/shm")
OUT = os.path.abspath(os.environ.get("BENCH_OUT",
                                     os.path.join(ROOT, "build", "bench")))
KEEP = os.environ.get("BENCH_KEEP") == "1"
PROFILE = os.environ.get("BENCH_PROFILE") == "1"
BIN = os.path.abspath(os.environ.get("TM_BIN") or
                      os.path.join(ROOT, "build", "tiktok-mirror"))
FLOOR = os.path.abspath(os.environ.get("BENCH_FLOOR") or
                        os.path.join(OUT, "floor"))
RATE_LIMIT = 1000000          # app.rate_limit: the emulator is the bound
BUDGET_PER_HOUR = 600 * 60    # TikTok's default: 600 calls/min/endpoint
CACHE = 3600                  # seconds between refreshes (the default)
KIB = 1024.0
MIB = 1024.0 * 1024.0

# The targets of issue 6, CPU per video and the unchanged refresh as
# issue 16 set them (its "before": 172 us/video, a 2.61 s refresh of 100k,
# peak RSS 17.9 MiB and Private_Dirty 7.2 MiB at 100k, idle 3.8 MiB; the
# memory figures may not grow).
T_RATIO = 1.2
T_CPU_US = 120.0
T_REFRESH_CPU_S = 1.5         # an unchanged refresh of 100k videos
T_REFRESH_VIDEOS = 100000
T_RSS_MIB = 20.0
T_PD_MIB = 8.0
T_IDLE_PD_MIB = 4.0
T_READER_MS = 10.0


def api_fields():
    """The fields the daemon asks for, read from lib/api.h (and the video
    fields from lib/video_fields.h, whose X-macro table api.h expands) so
    that the floor's requests stay the daemon's."""
    with open(os.path.join(ROOT, "lib", "api.h")) as f:
        text = f.read()
    with open(os.path.join(ROOT, "lib", "video_fields.h")) as f:
        keys = re.findall(r'X\(\w+, "([^"]+)", \w+\)', f.read())

    def define(name):
        m = re.search(r'#define %s((?:\s|\\|"[^"]*"|VIDEO_FIELDS\(\w+\))+)'
                      % name, text)
        v = "".join(re.findall(r'"([^"]*)"', m.group(1)))
        if "VIDEO_FIELDS(" in m.group(1):
            v += "".join("," + k for k in keys)
        return v
    return define("API_USER_FIELDS"), define("API_VIDEO_FIELDS")


USER_FIELDS, VIDEO_FIELDS = api_fields()


def log(msg):
    sys.stderr.write("bench: %s\n" % msg)
    sys.stderr.flush()


# --------------------------------------------------------------------------
# Process measurement
# --------------------------------------------------------------------------

def read_rollup(pid):
    """{'Rss': kB, 'Private_Dirty': kB, ...} from smaps_rollup, or None."""
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            text = f.read()
    except OSError:
        return None
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].endswith(":") and \
                parts[1].isdigit():
            out[parts[0][:-1]] = int(parts[1])
    return out or None


def proc_status(pid):
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                out[k] = v.strip()
    except OSError:
        return None
    return out


def proc_cpu(pid):
    """utime + stime of pid in seconds (all threads), or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    hz = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / float(hz)


class Sampler(threading.Thread):
    """Peak Rss and Private_Dirty of a process, sampled every 'interval'."""

    def __init__(self, pid, interval=0.05):
        threading.Thread.__init__(self, daemon=True)
        self.pid = pid
        self.interval = interval
        self.stop = threading.Event()
        self.peak_pd = 0
        self.peak_rss = 0
        self.hwm = 0
        self.samples = 0

    def run(self):
        while not self.stop.is_set():
            r = read_rollup(self.pid)
            if r is not None:
                self.samples += 1
                self.peak_pd = max(self.peak_pd, r.get("Private_Dirty", 0))
                self.peak_rss = max(self.peak_rss, r.get("Rss", 0))
            st = proc_status(self.pid)
            if st and "VmHWM" in st:
                self.hwm = max(self.hwm, int(st["VmHWM"].split()[0]))
            self.stop.wait(self.interval)


def measure(argv, env=None, stderr_path=None, sample=True, emu_pid=None,
            cwd=None):
    """Run argv to completion. Returns wall, CPU, memory and exit status;
    and the emulator's CPU over the same time when emu_pid is given."""
    err = open(stderr_path, "w") if stderr_path else subprocess.DEVNULL
    out = subprocess.PIPE
    emu0 = proc_cpu(emu_pid) if emu_pid else None
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                         stderr=err, env=env, cwd=cwd)
    s = None
    if sample:
        s = Sampler(p.pid)
        s.start()
    stdout = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    p.stdout.close()
    if s is not None:
        s.stop.set()
        s.join()
    if stderr_path:
        err.close()
    emu1 = proc_cpu(emu_pid) if emu_pid else None
    # Peak RSS is VmHWM (reset by exec), sampled: wait4's ru_maxrss also
    # counts the forked (vforked) Python parent's pages before exec, about
    # 30 MiB here, so it is kept for reference only.
    r = {"wall_s": wall, "user_s": ru.ru_utime, "sys_s": ru.ru_stime,
         "cpu_s": ru.ru_utime + ru.ru_stime,
         "ru_maxrss_kib": ru.ru_maxrss, "rc": p.returncode,
         "voluntary_switches": ru.ru_nvcsw,
         "involuntary_switches": ru.ru_nivcsw,
         "stdout": stdout.decode("utf-8", "replace")}
    if s is not None:
        r["private_dirty_peak_kib"] = s.peak_pd
        r["maxrss_kib"] = s.hwm
        r["rss_peak_sampled_kib"] = s.peak_rss
        r["samples"] = s.samples
    if emu0 is not None and emu1 is not None:
        r["emulator_cpu_s"] = emu1 - emu0
        r["emulator_util"] = (emu1 - emu0) / wall if wall > 0 else 0.0
    return r


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return [float(x) for x in f.read().split()[:3]]
    except OSError:
        return None


# --------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------

def acct_name(i):
    return "a%03d" % i


def user_name(i):
    return "u%03d" % i


def write_secrets(m, tokens):
    """The documented shortcut: emu.oauth() token answers inserted into
    the secrets file of harness mirror 'm'. The program makes the file
    (its mode and schema are the daemon's business): a `sync --dry-run`
    with no account authorized yet opens it and changes nothing else."""
    path = os.path.join(m.dir, "secrets.db")
    if os.path.exists(path):
        os.unlink(path)
    m.run("sync", "--dry-run")
    if not os.path.exists(path):
        raise RuntimeError("sync --dry-run made no secrets file " + path)
    con = sqlite3.connect(path)
    now = int(time.time())
    for name, tok in tokens:
        con.execute("INSERT INTO tokens (account, open_id, scope,"
                    " access_token, access_expires_at, refresh_token,"
                    " refresh_expires_at, issued_at)"
                    " VALUES (?,?,?,?,?,?,?,?)",
                    (name, tok["open_id"], tok["scope"],
                     tok["access_token"], now + int(tok["expires_in"]),
                     tok["refresh_token"],
                     now + int(tok["refresh_expires_in"]), now))
    con.commit()
    con.close()


class Fixture:
    """The emulator's users and videos for one size, tokens, and the
    request list of one initial sync."""

    def __init__(self, emu, size):
        self.emu = emu
        self.size = size
        self.per = size // ACCOUNTS
        self.tokens = []

    def build(self):
        emu = self.emu
        emu.reset()
        emu.config(rate_limit=0)
        t0 = time.monotonic()
        for i in range(ACCOUNTS):
            emu.add_user(user_name(i), "Bench user %d" % i)
            emu.generate(user_name(i), self.per, seed=i,
                         formats=["jpeg", "png", "webp"])
        self.tokens = [(acct_name(i), emu.oauth(user_name(i)))
                       for i in range(ACCOUNTS)]
        self.build_s = time.monotonic() - t0

    def request_list(self, path):
        """Walk every account's listing once (as the daemon will) and write
        the floor's request list: user/info, list pages, then covers."""
        t0 = time.monotonic()
        base = self.emu.http_url
        host, port = "127.0.0.1", self.emu.http_port
        lines_user, lines_list, lines_cover = [], [], []
        results = [None] * ACCOUNTS

        def walk(idx):
            conn = http.client.HTTPConnection(host, port, timeout=60)
            for i in idx:
                name, tok = self.tokens[i]
                at = tok["access_token"]
                mine_list, mine_cover = [], []
                # user/info; its avatar is fetched like a cover when the
                # daemon asks for avatar_url.
                conn.request("GET", "/v2/user/info/?fields=" + USER_FIELDS,
                             headers={"Authorization": "Bearer " + at})
                r = conn.getresponse()
                data = json.loads(r.read())
                if r.status != 200:
                    raise RuntimeError("walk: %s" % data)
                avatar = data["data"]["user"].get("avatar_url")
                if avatar:
                    mine_cover.append("GET\t%s\t-\t-" % avatar)
                cursor = 0
                while True:
                    body = ('{"cursor":%d,"max_count":20}' % cursor
                            if cursor > 0 else '{"max_count":20}')
                    url = "/v2/video/list/?fields=" + VIDEO_FIELDS
                    conn.request("POST", url, body=body, headers={
                        "Authorization": "Bearer " + at,
                        "Content-Type": "application/json"})
                    r = conn.getresponse()
                    data = json.loads(r.read())
                    if r.status != 200:
                        raise RuntimeError("walk: %s" % data)
                    mine_list.append("POST\t%s%s\t%s\t%s" % (base, url, at,
                                                             body))
                    d = data["data"]
                    for v in d["videos"]:
                        mine_cover.append("GET\t%s\t-\t-" %
                                          v["cover_image_url"])
                    if not d["has_more"]:
                        break
                    cursor = d["cursor"]
                results[i] = (mine_list, mine_cover)
            conn.close()

        threads = [threading.Thread(target=walk,
                                    args=(range(k, ACCOUNTS, 4),))
                   for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for i in range(ACCOUNTS):
            at = self.tokens[i][1]["access_token"]
            lines_user.append("GET\t%s/v2/user/info/?fields=%s\t%s\t-" %
                              (base, USER_FIELDS, at))
            lines_list.extend(results[i][0])
            lines_cover.extend(results[i][1])
        with open(path, "w") as f:
            f.write("\n".join(lines_user + lines_list + lines_cover) + "\n")
        self.nrequests = len(lines_user) + len(lines_list) + len(lines_cover)
        self.walk_s = time.monotonic() - t0
        return self.nrequests


class Mirror:
    """A mirror folder with its config and secrets for one fixture."""

    def __init__(self, emu, fixture, folder):
        self.m = harness.Mirror(emu, https=False, folder=folder)
        self.dir = self.m.dir
        self.config = self.m.config
        self.db = self.m.db
        self.covers = self.m.covers
        self.m.write_config(
            [{"name": n, "quantity": "all", "cache": CACHE}
             for n, _ in fixture.tokens],
            rate_limit=RATE_LIMIT, concurrency=CONCURRENCY)
        write_secrets(self.m, fixture.tokens)

    def wipe(self):
        """Back to a never-synced mirror: config and secrets stay."""
        for n in ("mirror.db", "mirror.db-wal", "mirror.db-shm",
                  "mirror.db.lock"):
            try:
                os.unlink(os.path.join(self.dir, n))
            except FileNotFoundError:
                pass
        shutil.rmtree(self.covers, ignore_errors=True)
        tmp = os.path.join(self.dir, "tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)

    def env(self, tmpfs=True):
        e = dict(os.environ)
        e.pop("JOURNAL_STREAM", None)
        e.pop("NOTIFY_SOCKET", None)
        e.pop("WATCHDOG_USEC", None)
        if tmpfs:
            # SQLite's temporary files (temp_store=FILE) on tmpfs too.
            e["SQLITE_TMPDIR"] = os.path.join(self.dir, "tmp")
            os.makedirs(e["SQLITE_TMPDIR"], exist_ok=True)
        return e

    def argv(self, *args):
        return [BIN, "-c", self.config] + list(args)

    def sql(self, q, *args):
        con = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True)
        try:
            return con.execute(q, args).fetchall()
        finally:
            con.close()


def counters_summary(c):
    p = c.get("paths", {})
    return {"user_info": p.get("/v2/user/info/", 0),
            "video_list": p.get("/v2/video/list/", 0),
            "video_query": p.get("/v2/video/query/", 0),
            "oauth_token": p.get("/v2/oauth/token/", 0),
            "cdn": p.get("/cdn/", 0),
            "covers_served": c.get("cdn_served", 0),
            "status": c.get("status", {})}


def sync_logged(stderr_path):
    """Sum of the per-account 'N covers fetched, M requests' log lines."""
    covers = reqs = accounts = 0
    try:
        with open(stderr_path) as f:
            for line in f:
                m = re.search(r"(\d+) covers fetched, (\d+) requests", line)
                if m:
                    covers += int(m.group(1))
                    reqs += int(m.group(2))
                    accounts += 1
    except OSError:
        pass
    return {"covers": covers, "requests": reqs, "accounts_ok": accounts}


# --------------------------------------------------------------------------
# The measurements
# --------------------------------------------------------------------------

def run_sync(emu, mirror, tag, tmpfs=True):
    emu.reset_counters()
    errp = os.path.join(OUT, "sync-%s.log" % tag)
    r = measure(mirror.argv("sync"), env=mirror.env(tmpfs),
                stderr_path=errp, emu_pid=emu.pid)
    r.pop("stdout", None)
    r["requests"] = counters_summary(emu.counters())
    r["logged"] = sync_logged(errp)
    if r["rc"] != 0:
        with open(errp) as f:
            tail = f.read()[-2000:]
        raise RuntimeError("sync %s exited %d:\n%s" % (tag, r["rc"], tail))
    return r


def run_floor(emu, listfile):
    emu.reset_counters()
    r = measure([FLOOR, "-c", str(CONCURRENCY), listfile], sample=False,
                emu_pid=emu.pid)
    if r["rc"] != 0:
        raise RuntimeError("floor exited %d: %s" % (r["rc"], r["stdout"]))
    r["floor"] = json.loads(r.pop("stdout"))
    r["requests"] = counters_summary(emu.counters())
    return r


TRIGGERS = """
CREATE TABLE IF NOT EXISTS bench_writes (op TEXT PRIMARY KEY, n INTEGER);
INSERT OR REPLACE INTO bench_writes VALUES ('insert', 0), ('update', 0),
  ('delete', 0);
CREATE TRIGGER IF NOT EXISTS bench_ins AFTER INSERT ON videos BEGIN
  UPDATE bench_writes SET n = n + 1 WHERE op = 'insert'; END;
CREATE TRIGGER IF NOT EXISTS bench_upd AFTER UPDATE ON videos BEGIN
  UPDATE bench_writes SET n = n + 1 WHERE op = 'update'; END;
CREATE TRIGGER IF NOT EXISTS bench_del AFTER DELETE ON videos BEGIN
  UPDATE bench_writes SET n = n + 1 WHERE op = 'delete'; END;
"""
UNTRIGGER = """
DROP TRIGGER IF EXISTS bench_ins; DROP TRIGGER IF EXISTS bench_upd;
DROP TRIGGER IF EXISTS bench_del; DROP TABLE IF EXISTS bench_writes;
"""


def run_refresh(emu, mirror, tag):
    """A sync with nothing changed. Video rows written are counted by
    bench-only triggers (every INSERT/UPDATE/DELETE statement's row fires
    them, whether or not a value changed), removed afterwards."""
    con = sqlite3.connect(mirror.db)
    con.executescript(TRIGGERS)
    con.commit()
    max_run = con.execute("SELECT coalesce(max(id), 0) FROM sync_runs"
                          ).fetchone()[0]
    con.close()
    r = run_sync(emu, mirror, tag)
    con = sqlite3.connect(mirror.db)
    w = dict(con.execute("SELECT op, n FROM bench_writes").fetchall())
    runs = con.execute(
        "SELECT coalesce(sum(new),0), coalesce(sum(updated),0),"
        " coalesce(sum(deleted),0), count(*) FROM sync_runs WHERE id > ?",
        (max_run,)).fetchone()
    changes = con.execute("SELECT count(*) FROM changes WHERE run_id > ?",
                          (max_run,)).fetchone()[0]
    con.executescript(UNTRIGGER)
    con.commit()
    con.close()
    r["rows_written"] = w
    r["rows_written_total"] = sum(w.values())
    r["reported"] = {"new": runs[0], "updated": runs[1], "deleted": runs[2],
                     "runs": runs[3], "changes_rows": changes}
    return r


def by_user_list_calls(emu):
    c = emu.counters().get("by_user", {})
    calls = [v.get("/v2/video/list/", 0) for v in c.values()]
    return (min(calls), max(calls)) if calls else (0, 0)


def run_readers(mirror, name):
    """`videos NAME --quantity 20 --json`, whole process, best of N; and
    the same query (store_videos()'s SQL) through Python's sqlite3."""
    argv = mirror.argv("videos", name, "--quantity", "20", "--json")
    env = mirror.env()
    walls, cpus = [], []
    out = b""
    for _ in range(READER_RUNS):
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, env=env)
        out = p.stdout.read()
        _, status, ru = os.wait4(p.pid, 0)
        walls.append(time.perf_counter() - t0)
        p.returncode = os.waitstatus_to_exitcode(status)
        p.stdout.close()
        cpus.append(ru.ru_utime + ru.ru_stime)
        if p.returncode != 0:
            raise RuntimeError("videos exited %d" % p.returncode)
    n = len(json.loads(out))
    # An empty process, for the spawn overhead of this measurement.
    spawn = []
    for _ in range(READER_RUNS):
        t0 = time.perf_counter()
        subprocess.run(["/bin/true"])
        spawn.append(time.perf_counter() - t0)
    sql = ("SELECT account, id, position, title, description, duration,"
           " width, height, cover, embed_link, embed_html, share_url,"
           " created_at, total_shares, total_likes, total_comments,"
           " total_views, first_seen_at, updated_at, deleted_at"
           " FROM videos WHERE account = ? AND deleted_at IS NULL"
           " AND created_at * 1000 < ? ORDER BY created_at DESC, id DESC"
           " LIMIT ? OFFSET ?")
    q_only, q_open = [], []
    for _ in range(READER_RUNS):
        t0 = time.perf_counter()
        con = sqlite3.connect("file:%s?mode=ro" % mirror.db, uri=True)
        t1 = time.perf_counter()
        rows = con.execute(sql, (name, 2 ** 62, 20, 0)).fetchall()
        t2 = time.perf_counter()
        con.close()
        q_only.append(t2 - t1)
        q_open.append(t2 - t0)
    return {"videos_json_best_ms": min(walls) * 1000,
            "videos_json_median_ms": statistics.median(walls) * 1000,
            "videos_json_cpu_best_ms": min(cpus) * 1000,
            "videos_json_rows": n,
            "spawn_true_best_ms": min(spawn) * 1000,
            "sql_query_best_ms": min(q_only) * 1000,
            "sql_open_and_query_best_ms": min(q_open) * 1000,
            "sql_rows": len(rows), "runs": READER_RUNS}


def parse_strace(text):
    """strace -c's table: {syscall: calls}, and the total."""
    calls = {}
    total = 0
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 5 and re.match(r"^[\d.]+$", parts[0]):
            name = parts[-1]
            try:
                n = int(parts[3])
            except ValueError:
                continue
            if name == "total":
                total = n
            else:
                calls[name] = n
        elif len(parts) >= 3 and parts[-1] == "total":
            try:
                total = int(parts[2])
            except ValueError:
                pass
    if not total:
        total = sum(calls.values())
    return calls, total


def run_idle(emu, mirror):
    """`run` after the initial sync: every account is due in about an hour,
    so the daemon should sleep. READY=1 through a notify socket of ours."""
    sockdir = tempfile.mkdtemp(prefix="tm-bench-notify-")
    sockpath = os.path.join(sockdir, "notify.sock")
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns.bind(sockpath)
    ns.settimeout(0.5)
    env = mirror.env()
    env["NOTIFY_SOCKET"] = sockpath
    errp = os.path.join(OUT, "idle-run.log")
    emu.reset_counters()
    p = subprocess.Popen(mirror.argv("run"), stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL,
                         stderr=open(errp, "w"), env=env)
    res = {}
    try:
        deadline = time.monotonic() + 30
        ready = False
        while time.monotonic() < deadline and not ready:
            try:
                ready = b"READY=1" in ns.recv(4096)
            except socket.timeout:
                if p.poll() is not None:
                    raise RuntimeError("run exited %s" % p.returncode)
        if not ready:
            raise RuntimeError("run sent no READY=1")
        time.sleep(3)  # the start jitter (at most 1 s) and settling
        roll = read_rollup(p.pid)
        threads = len(os.listdir("/proc/%d/task" % p.pid))
        # Window 1, untouched: every wake-up from epoll_wait ends in a
        # voluntary context switch when the loop blocks again.
        st0 = proc_status(p.pid)
        cpu0 = proc_cpu(p.pid)
        t0 = time.monotonic()
        time.sleep(IDLE_SECONDS)
        dt = time.monotonic() - t0
        st1 = proc_status(p.pid)
        cpu1 = proc_cpu(p.pid)
        roll1 = read_rollup(p.pid)
        # Window 2, under strace: which syscalls (attaching interrupts the
        # epoll_wait in progress once).
        t1 = time.monotonic()
        strace = shutil.which("strace")
        st_calls, st_total, st_note = {}, None, None
        if strace:
            sp = subprocess.Popen([strace, "-f", "-c", "-p", str(p.pid)],
                                  stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE)
            time.sleep(STRACE_SECONDS)
            sp.send_signal(signal.SIGINT)
            _, serr = sp.communicate(timeout=30)
            st_calls, st_total = parse_strace(serr.decode("utf-8",
                                                          "replace"))
            text = serr.decode("utf-8", "replace")
            if "not permitted" in text or "ptrace" in text:
                st_note = text.strip()[:300]
                st_total = None
        else:
            st_note = "strace not installed"
        dt_strace = time.monotonic() - t1
        counters = counters_summary(emu.counters())

        def sw(s, k):
            return int(s.get(k, "0")) if s else 0
        res = {
            "seconds": dt,
            "rss_kib": roll1.get("Rss") if roll1 else None,
            "private_dirty_kib": roll1.get("Private_Dirty") if roll1
            else None,
            "pss_kib": roll1.get("Pss") if roll1 else None,
            "rss_at_start_kib": roll.get("Rss") if roll else None,
            "private_dirty_at_start_kib": roll.get("Private_Dirty")
            if roll else None,
            "vmhwm_kib": int(st1["VmHWM"].split()[0]) if st1 else None,
            "threads": threads,
            "cpu_s": (cpu1 - cpu0) if cpu0 is not None and cpu1 is not None
            else None,
            "voluntary_switches": sw(st1, "voluntary_ctxt_switches") -
            sw(st0, "voluntary_ctxt_switches"),
            "involuntary_switches": sw(st1, "nonvoluntary_ctxt_switches") -
            sw(st0, "nonvoluntary_ctxt_switches"),
            "syscalls": st_calls, "syscalls_total": st_total,
            "strace_seconds": dt_strace,
            "strace_note": st_note,
            "requests_while_idle": counters,
        }
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        ns.close()
        shutil.rmtree(sockdir, ignore_errors=True)
    res["stop_rc"] = p.returncode
    return res


def run_profile(emu, fixture, folder):
    """perf record (cpu-clock: this VM has no hardware counters; DWARF call
    graphs, since the binary has no frame pointers) of one initial sync.
    Returns the time by library, and our functions by inclusive time
    (the event-loop plumbing above 60% left out)."""
    perf = shutil.which("perf")
    if perf is None:
        return {"note": "perf not installed"}
    mirror = Mirror(emu, fixture, folder)
    mirror.wipe()
    data = os.path.join(OUT, "perf.data")
    emu.reset_counters()
    argv = [perf, "record", "-q", "-e", "cpu-clock", "-F", "1000",
            "--call-graph", "dwarf,16384", "-o", data, "--"] + \
        mirror.argv("sync")
    r = subprocess.run(argv, env=mirror.env(), stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    if not KEEP:
        shutil.rmtree(folder, ignore_errors=True)
    if r.returncode != 0:
        return {"note": "perf record failed: %s" %
                r.stderr.decode("utf-8", "replace")[-300:]}
    base = [perf, "report", "-i", data, "--stdio", "--comm",
            "tiktok-mirror", "-g", "none"]

    def report(extra):
        out = subprocess.run(base + extra, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL)
        return out.stdout.decode("utf-8", "replace").splitlines()
    dsos = []
    for line in report(["--no-children", "--sort", "dso"]):
        m = re.match(r"\s*([\d.]+)%\s+(\S+)\s*$", line)
        if m and float(m.group(1)) >= 0.5:
            dsos.append({"pct": float(m.group(1)), "dso": m.group(2)})
    ours = []
    for line in report(["--children", "--sort", "dso,sym",
                        "--percent-limit", "1"]):
        m = re.match(r"\s*([\d.]+)%\s+([\d.]+)%\s+(\S+)\s+\[.\]\s+(.*)$",
                     line)
        if m and m.group(3) == "tiktok-mirror" and \
                float(m.group(1)) <= 60.0 and \
                m.group(4).strip() not in ("_start", "main", "cmd_sync"):
            ours.append({"incl": float(m.group(1)),
                         "self": float(m.group(2)),
                         "sym": m.group(4).strip()})
    return {"data": data, "dsos": dsos, "top": ours[:30]}


# --------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------

def med(runs, key):
    return statistics.median(r[key] for r in runs)


def spread(runs, key):
    v = [r[key] for r in runs]
    return min(v), max(v)


def summarize(size, syncs, floors, refresh, videos):
    ratios = [s["wall_s"] / f["wall_s"] for s, f in zip(syncs, floors)]
    cpu_ratios = [s["cpu_s"] / f["cpu_s"] for s, f in zip(syncs, floors)]
    cpu_us = [s["cpu_s"] / videos * 1e6 for s in syncs]
    return {
        "videos": videos,
        "sync_wall_s": med(syncs, "wall_s"),
        "sync_wall_s_range": spread(syncs, "wall_s"),
        "sync_cpu_s": med(syncs, "cpu_s"),
        "sync_cpu_s_range": spread(syncs, "cpu_s"),
        "sync_user_s": med(syncs, "user_s"),
        "sync_sys_s": med(syncs, "sys_s"),
        "cpu_us_per_video": statistics.median(cpu_us),
        "cpu_us_per_video_range": (min(cpu_us), max(cpu_us)),
        "peak_rss_kib": max(s["maxrss_kib"] for s in syncs),
        "peak_private_dirty_kib": max(s["private_dirty_peak_kib"]
                                      for s in syncs),
        "floor_wall_s": med(floors, "wall_s"),
        "floor_wall_s_range": spread(floors, "wall_s"),
        "floor_cpu_s": med(floors, "cpu_s"),
        "cpu_ratio": statistics.median(cpu_ratios),
        "cpu_ratio_range": (min(cpu_ratios), max(cpu_ratios)),
        "ratio": statistics.median(ratios),
        "ratio_range": (min(ratios), max(ratios)),
        "emulator_util_sync": med(syncs, "emulator_util"),
        "emulator_util_floor": med(floors, "emulator_util"),
        "requests": syncs[-1]["requests"],
        "floor_requests": floors[-1]["requests"],
        "covers_fetched": syncs[-1]["logged"]["covers"],
        "refresh": refresh,
    }


def table(res):
    sizes = [str(s) for s in SIZES if str(s) in res["sizes"]]
    S = res["sizes"]
    lines = []

    def row(label, fn):
        cells = []
        for s in sizes:
            try:
                cells.append(fn(S[s]))
            except (KeyError, TypeError, ZeroDivisionError):
                cells.append("-")
        lines.append("%-38s %s" % (label, "  ".join("%-24s" % c
                                                     for c in cells)))

    lines.append("%-38s %s" % ("fixture (100 accounts, quantity all)",
                               "  ".join("%-24s" % ("%s videos" % s)
                                         for s in sizes)))
    lines.append("-" * (39 + 26 * len(sizes)))
    lines.append("initial sync (tmpfs), median (min-max) of %d" % REPEAT)
    row("  wall s", lambda x: "%.2f (%.2f-%.2f)" % (
        (x["sync_wall_s"],) + tuple(x["sync_wall_s_range"])))
    row("  CPU user+sys s", lambda x: "%.2f (%.2f-%.2f)" % (
        (x["sync_cpu_s"],) + tuple(x["sync_cpu_s_range"])))
    row("  CPU us/video (target <= %.0f)" % T_CPU_US,
        lambda x: "%.0f (%.0f-%.0f)" % (
        (x["cpu_us_per_video"],) + tuple(x["cpu_us_per_video_range"])))
    row("  user / sys s", lambda x: "%.2f / %.2f" % (x["sync_user_s"],
                                                     x["sync_sys_s"]))
    row("  peak RSS MiB (target < 20)",
        lambda x: "%.1f" % (x["peak_rss_kib"] / KIB))
    row("  peak Private_Dirty MiB (< 8)",
        lambda x: "%.1f" % (x["peak_private_dirty_kib"] / KIB))
    row("  requests user/list/query/token",
        lambda x: "%d/%d/%d/%d" % (
            x["requests"]["user_info"], x["requests"]["video_list"],
            x["requests"]["video_query"], x["requests"]["oauth_token"]))
    row("  covers fetched (CDN requests)",
        lambda x: "%d (%d)" % (x["covers_fetched"], x["requests"]["cdn"]))
    row("  emulator CPU / wall", lambda x: "%.2f" % x["emulator_util_sync"])
    lines.append("floor (floor.c, same requests, concurrency %d)"
                 % CONCURRENCY)
    row("  wall s", lambda x: "%.2f (%.2f-%.2f)" % (
        (x["floor_wall_s"],) + tuple(x["floor_wall_s_range"])))
    row("  CPU s", lambda x: "%.2f" % x["floor_cpu_s"])
    row("  sync CPU / floor CPU (same run)", lambda x: "%.2f (%.2f-%.2f)" % (
        (x["cpu_ratio"],) + tuple(x["cpu_ratio_range"])))
    row("  emulator CPU / wall", lambda x: "%.2f" % x["emulator_util_floor"])
    row("  sync/floor (target <= 1.2)", lambda x: "%.2f (%.2f-%.2f)" % (
        (x["ratio"],) + tuple(x["ratio_range"])))
    lines.append("refresh, nothing changed")
    row("  wall s / CPU s", lambda x: "%.2f / %.2f" % (
        x["refresh"]["wall_s"], x["refresh"]["cpu_s"]))
    row("  requests user/list/query/cdn", lambda x: "%d/%d/%d/%d" % (
        x["refresh"]["requests"]["user_info"],
        x["refresh"]["requests"]["video_list"],
        x["refresh"]["requests"]["video_query"],
        x["refresh"]["requests"]["cdn"]))
    row("  video rows written (target 0)",
        lambda x: "%d (ins %d upd %d del %d)" % (
            x["refresh"]["rows_written_total"],
            x["refresh"]["rows_written"].get("insert", 0),
            x["refresh"]["rows_written"].get("update", 0),
            x["refresh"]["rows_written"].get("delete", 0)))
    row("  covers fetched (target 0)",
        lambda x: "%d" % x["refresh"]["requests"]["covers_served"])
    row("  peak RSS / Private_Dirty MiB", lambda x: "%.1f / %.1f" % (
        x["refresh"]["maxrss_kib"] / KIB,
        x["refresh"]["private_dirty_peak_kib"] / KIB))
    row("  list calls/h at cache=3600 (budget)",
        lambda x: "%d / %d (%.0f%%)" % (
            x["refresh"]["list_calls_per_hour"], BUDGET_PER_HOUR,
            100.0 * x["refresh"]["list_calls_per_hour"] / BUDGET_PER_HOUR))
    row("  list calls per account min/max",
        lambda x: "%d / %d" % tuple(x["refresh"]["list_calls_per_account"]))
    out = "\n".join(lines) + "\n"

    g = res.get("growth")
    if g:
        out += ("\ngrowth %s -> %s videos: CPU/video x%.2f, peak RSS x%.2f, "
                "peak Private_Dirty x%.2f, sync wall x%.2f (videos x%.0f)\n"
                % (g["from"], g["to"], g["cpu_per_video_x"], g["peak_rss_x"],
                   g["peak_private_dirty_x"], g["wall_x"], g["videos_x"]))
    d = res.get("disk")
    if d:
        out += ("\ndisk (%s, %d videos, one run): wall %.2f s vs tmpfs %.2f "
                "s, CPU %.2f s vs %.2f s (sys %.2f vs %.2f): durability "
                "costs %.0f us/video wall, %.0f us/video CPU\n"
                % (d["path"], d["videos"], d["wall_s"], d["tmpfs_wall_s"],
                   d["cpu_s"], d["tmpfs_cpu_s"], d["sys_s"],
                   d["tmpfs_sys_s"], d["wall_us_per_video"],
                   d["cpu_us_per_video"]))
    i = res.get("idle")
    if i:
        top = sorted(i["syscalls"].items(), key=lambda kv: -kv[1])[:6]
        out += ("\nidle daemon (%s videos, %d accounts): RSS %.1f MiB, "
                "Private_Dirty %.1f MiB (target < 4); over %.0f s: CPU "
                "%.3f s, wake-ups (voluntary switches) %d; over %.0f s under "
                "strace -f -c: syscalls %s%s\n"
                % (i["size"], ACCOUNTS, i["rss_kib"] / KIB,
                   i["private_dirty_kib"] / KIB, i["seconds"],
                   i["cpu_s"] or 0, i["voluntary_switches"],
                   i["strace_seconds"],
                   i["syscalls_total"] if i["syscalls_total"] is not None
                   else "n/a",
                   (" (" + ", ".join("%s %d" % kv for kv in top) + ")")
                   if top else ""))
    r = res.get("readers")
    if r:
        out += ("\nreaders (%s mirror): videos --quantity 20 --json %.2f ms "
                "best of %d (median %.2f; spawning /bin/true costs %.2f); "
                "SQL query %.3f ms, open+query %.3f ms\n"
                % (r["size"], r["videos_json_best_ms"], r["runs"],
                   r["videos_json_median_ms"], r["spawn_true_best_ms"],
                   r["sql_query_best_ms"], r["sql_open_and_query_best_ms"]))
    out += "\ntargets\n"
    for t in res["targets"]:
        out += "  %-4s %-44s %s\n" % ("ok" if t["ok"] else "MISS",
                                      t["name"], t["measured"])
    p = res.get("profile")
    if p and p.get("top"):
        out += ("\nprofile of one initial sync of %s (perf cpu-clock, DWARF "
                "call graphs; %s)\n  time by library: %s\n  our functions, "
                "inclusive %% (self %%):\n" % (
                    p["size"], p["data"], ", ".join(
                        "%s %.1f%%" % (d["dso"], d["pct"])
                        for d in p["dsos"])))
        for e in p["top"][:25]:
            out += "    %5.1f%% (%4.1f%%)  %s\n" % (e["incl"], e["self"],
                                                   e["sym"])
    elif p:
        out += "\nprofile: %s\n" % p.get("note")
    out += ("\nload average before/after: %s / %s; %d CPUs; tree %s; "
            "binary %s\n" % (res["machine"]["loadavg_before"],
                             res["machine"]["loadavg_after"],
                             res["machine"]["nproc"],
                             res["machine"]["source"],
                             res["machine"]["binary"]))
    return out


def targets(res):
    t = []
    S = res["sizes"]
    big = str(max(SIZES))
    for s in SIZES:
        x = S[str(s)]
        t.append({"name": "sync wall <= 1.2x floor (%d)" % s,
                  "ok": x["ratio"] <= T_RATIO,
                  "measured": "%.2fx (%.2f-%.2f); emulator CPU/wall %.2f "
                  "sync, %.2f floor" % ((x["ratio"],) +
                                        tuple(x["ratio_range"]) +
                                        (x["emulator_util_sync"],
                                         x["emulator_util_floor"]))})
    for s in SIZES:
        x = S[str(s)]
        t.append({"name": "CPU <= %.0f us/video (%d)" % (T_CPU_US, s),
                  "ok": x["cpu_us_per_video"] <= T_CPU_US,
                  "measured": "%.0f us/video" % x["cpu_us_per_video"]})
    if len(SIZES) > 1:
        g = res["growth"]
        t.append({"name": "CPU/video flat %d -> %d" % (g["from"], g["to"]),
                  "ok": g["cpu_per_video_x"] <= 1.2,
                  "measured": "x%.2f" % g["cpu_per_video_x"]})
    x = S[big]
    t.append({"name": "peak RSS < 20 MiB (%s)" % big,
              "ok": x["peak_rss_kib"] / KIB < T_RSS_MIB,
              "measured": "%.1f MiB" % (x["peak_rss_kib"] / KIB)})
    t.append({"name": "peak Private_Dirty < 8 MiB (%s)" % big,
              "ok": x["peak_private_dirty_kib"] / KIB < T_PD_MIB,
              "measured": "%.1f MiB" % (x["peak_private_dirty_kib"] / KIB)})
    i = res.get("idle")
    if i:
        t.append({"name": "idle Private_Dirty < 4 MiB",
                  "ok": i["private_dirty_kib"] / KIB < T_IDLE_PD_MIB,
                  "measured": "%.1f MiB" % (i["private_dirty_kib"] / KIB)})
        # Every account is due in about an hour, and no watchdog is set:
        # over the window the daemon has no timer to wake for.
        # The untouched window decides; strace's window is for the record
        # (attaching restarts the epoll_wait in progress).
        ok = i["voluntary_switches"] == 0 and (i["cpu_s"] or 0) < 0.01
        t.append({"name": "idle daemon wakes only for its timers",
                  "ok": ok,
                  "measured": "%d wake-ups, CPU %.3f s in %.0f s; %s "
                  "syscalls in %.0f s under strace" % (
                      i["voluntary_switches"], i["cpu_s"] or 0,
                      i["seconds"], i["syscalls_total"],
                      i["strace_seconds"])})
    for s in SIZES:
        rf = S[str(s)]["refresh"]
        if s == T_REFRESH_VIDEOS:
            t.append({"name": "unchanged refresh CPU < %.1f s (%d)" % (
                T_REFRESH_CPU_S, s), "ok": rf["cpu_s"] < T_REFRESH_CPU_S,
                "measured": "%.2f s" % rf["cpu_s"]})
        t.append({"name": "unchanged refresh: 0 rows, 0 covers (%d)" % s,
                  "ok": rf["rows_written_total"] == 0 and
                  rf["requests"]["covers_served"] == 0,
                  "measured": "%d video rows written, %d covers" % (
                      rf["rows_written_total"],
                      rf["requests"]["covers_served"])})
    r = res.get("readers")
    if r:
        t.append({"name": "videos --json < 10 ms (%s)" % r["size"],
                  "ok": r["videos_json_best_ms"] < T_READER_MS,
                  "measured": "%.2f ms best of %d" % (
                      r["videos_json_best_ms"], r["runs"])})
    return t


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

def git_describe():
    try:
        head = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short",
                               "HEAD"], capture_output=True, text=True,
                              timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain",
                                "--untracked-files=no"],
                               capture_output=True, text=True,
                               timeout=10).stdout.strip()
        return head + ("+changes" if dirty else "") if head else None
    except (OSError, subprocess.SubprocessError):
        return None


def main():
    if not os.access(BIN, os.X_OK):
        sys.exit("bench: %s is missing; run make" % BIN)
    if not os.access(FLOOR, os.X_OK):
        sys.exit("bench: %s is missing; run make bench" % FLOOR)
    os.makedirs(OUT, exist_ok=True)
    base = os.path.join(TMPFS, "tiktok-mirror-bench-%d" % os.getpid())
    os.makedirs(base)
    res = {"machine": {"nproc": os.cpu_count(),
                       "kernel": platform.release(),
                       "date": datetime.datetime.now(
                           datetime.timezone.utc).isoformat(),
                       "loadavg_before": loadavg(),
                       "source": git_describe(), "binary": BIN},
           "settings": {"sizes": SIZES, "accounts": ACCOUNTS,
                        "repeat": REPEAT, "concurrency": CONCURRENCY,
                        "rate_limit": RATE_LIMIT, "cache": CACHE,
                        "idle_seconds": IDLE_SECONDS, "tmpfs": TMPFS,
                        "api": "emulator, plain http"},
           "sizes": {}, "raw": {}}
    started = time.monotonic()
    emu = Emulator().start()
    try:
        for size in SIZES:
            log("fixture %d videos: generating" % size)
            fx = Fixture(emu, size)
            fx.build()
            listfile = os.path.join(OUT, "requests-%d.tsv" % size)
            n = fx.request_list(listfile)
            log("fixture %d: %d requests in the floor's list (walk %.1f s)"
                % (size, n, fx.walk_s))
            mirror = Mirror(emu, fx, os.path.join(base, str(size)))
            syncs, floors = [], []
            for k in range(REPEAT):
                mirror.wipe()
                s = run_sync(emu, mirror, "%d-%d" % (size, k))
                videos = mirror.sql("SELECT count(*) FROM videos")[0][0]
                f = run_floor(emu, listfile)
                log("  %d #%d: sync %.2f s (CPU %.2f s, RSS %.1f MiB, "
                    "Private_Dirty %.1f MiB), floor %.2f s"
                    % (size, k + 1, s["wall_s"], s["cpu_s"],
                       s["maxrss_kib"] / KIB,
                       s["private_dirty_peak_kib"] / KIB, f["wall_s"]))
                syncs.append(s)
                floors.append(f)
            if videos != size:
                raise RuntimeError("mirrored %d videos, expected %d"
                                   % (videos, size))
            rf = run_refresh(emu, mirror, "%d-refresh" % size)
            rf["list_calls_per_hour"] = \
                rf["requests"]["video_list"] * 3600 // CACHE
            rf["query_calls_per_hour"] = \
                rf["requests"]["video_query"] * 3600 // CACHE
            rf["list_calls_per_account"] = by_user_list_calls(emu)
            log("  %d refresh: %.2f s, %d rows written, %d covers"
                % (size, rf["wall_s"], rf["rows_written_total"],
                   rf["requests"]["covers_served"]))
            res["sizes"][str(size)] = summarize(size, syncs, floors, rf,
                                                videos)
            res["raw"][str(size)] = {"syncs": syncs, "floors": floors}
            if size == max(SIZES):
                log("readers on the %d mirror" % size)
                r = run_readers(mirror, acct_name(0))
                r["size"] = size
                res["readers"] = r
                log("idle daemon for %d s" % IDLE_SECONDS)
                i = run_idle(emu, mirror)
                i["size"] = size
                res["idle"] = i
            if size == DISK_SIZE:
                log("initial sync of %d on the real disk" % size)
                dfolder = os.path.join(OUT, "disk-%d" % size)
                dm = Mirror(emu, fx, dfolder)
                dm.wipe()
                d = run_sync(emu, dm, "%d-disk" % size, tmpfs=False)
                x = res["sizes"][str(size)]
                res["disk"] = {
                    "path": dfolder, "videos": size,
                    "wall_s": d["wall_s"], "cpu_s": d["cpu_s"],
                    "sys_s": d["sys_s"], "user_s": d["user_s"],
                    "tmpfs_wall_s": x["sync_wall_s"],
                    "tmpfs_cpu_s": x["sync_cpu_s"],
                    "tmpfs_sys_s": x["sync_sys_s"],
                    "wall_us_per_video":
                    (d["wall_s"] - x["sync_wall_s"]) / size * 1e6,
                    "cpu_us_per_video":
                    (d["cpu_s"] - x["sync_cpu_s"]) / size * 1e6,
                    "maxrss_kib": d["maxrss_kib"],
                    "private_dirty_peak_kib": d["private_dirty_peak_kib"]}
                if not KEEP:
                    shutil.rmtree(dfolder, ignore_errors=True)
            if PROFILE and size == min(SIZES):
                log("perf profile of one initial sync of %d" % size)
                p = run_profile(emu, fx, os.path.join(base, "profile"))
                p["size"] = size
                res["profile"] = p
            if not KEEP:
                shutil.rmtree(mirror.dir, ignore_errors=True)
                os.unlink(listfile)
        if len(SIZES) > 1:
            a, b = res["sizes"][str(min(SIZES))], res["sizes"][str(max(SIZES))]
            res["growth"] = {
                "from": min(SIZES), "to": max(SIZES),
                "videos_x": b["videos"] / a["videos"],
                "cpu_per_video_x": b["cpu_us_per_video"] /
                a["cpu_us_per_video"],
                "peak_rss_x": b["peak_rss_kib"] / a["peak_rss_kib"],
                "peak_private_dirty_x": b["peak_private_dirty_kib"] /
                a["peak_private_dirty_kib"],
                "wall_x": b["sync_wall_s"] / a["sync_wall_s"]}
    finally:
        emu.stop()
        if not KEEP:
            shutil.rmtree(base, ignore_errors=True)
    res["machine"]["loadavg_after"] = loadavg()
    res["elapsed_s"] = time.monotonic() - started
    res["targets"] = targets(res)
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump(res, f, indent=1, sort_keys=True)
    text = table(res)
    sys.stderr.flush()
    sys.stdout.write("\n" + text)
    sys.stdout.write("\nresults: %s (%.0f s)\n" % (
        os.path.join(OUT, "results.json"), res["elapsed_s"]))
    with open(os.path.join(OUT, "results.txt"), "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
