#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""A year unattended: the time-compressed soak of `tiktok-mirror run`.

    python3 tests/soak/soak.py [--days 365] [--minutes M] [--scale K]
                               [--accounts 50] [--seed 1] [--dir DIR]
                               [--keep] [--out DIR]

`make soak` runs the 365-day version (8.5 minutes of wall time for the year,
about nine in all); tests/e2e/test_soak.py, in `make test`, the 30-day one
(about two minutes). Nothing here is part of the product: the clock seam
TIKTOK_MIRROR_TEST_CLOCK exists for tests only.

The real daemon runs against the emulator (tests/emulator.py) for DAYS
simulated days in about MINUTES of wall time. Both read one compressed
clock, the test-only seam TIKTOK_MIRROR_TEST_CLOCK="REAL_MS:SIM_MS:SCALE"
(the emulator's --clock / POST /_emu/clock {"clock": ...}): wall time and
scheduling delays run SCALE times faster, HTTP timeouts stay real.

This script is the world. It polls the simulated clock and applies a
schedule of events to the emulator in simulated time: new videos every few
days per account, counts of the newest videos changing daily, title and
description edits, cover changes, deletions and restorations, deep edits
in a big account (the archive rotation), bursts of 429s and 5xx, a
week-long outage of video/list, refresh tokens expiring (one account
re-authorized when the 7-day warning appears, one left to lapse and
re-authorized late), and one account's grant revoked mid-run and
re-authorized with `auth` while the daemon keeps running.

It measures, in simulated time, how long each change takes to reach the
mirror, samples the daemon's RSS, open descriptors, database size and
temporary cover files every simulated day, checks the refresh-token
warnings in the log, `status --json` and the metrics file, and at the end
compares the mirror with the emulator, runs PRAGMA integrity_check and
stops the daemon with SIGTERM. It prints a table and exits 0 when every
check holds (1 otherwise). Results also go to OUT/soak-DAYS.{txt,json}
(default build/soak).

Lags: "lag" is the simulated time from the change in the emulator to the
commit that shows it. Under compression every real millisecond a refresh
spends on HTTP and SQLite counts SCALE simulated milliseconds, so the
check is on the "idle lag": the lag minus the time the account spent
inside refreshes (from sync_runs), which must stay within one `cache`
interval plus the scheduler's jitter (5%, at most 60 s), plus one capped
backoff per failed refresh in between, plus a small allowance for the
event loop's real-time latency (SLACK_REAL_MS real milliseconds). What a
busy machine adds is excused, measured rather than guessed: the time the
daemon was awake (running, or waiting for a CPU) outside the account's
refreshes (the kernel's counts in /proc/PID/schedstat, sampled at every
turn of the world's loop, times SCALE; see CpuWait) and the time the
world took to make the change. What is left is the time the daemon slept,
which only its timers decide. The same goes for the other checks with a
time bound (warnings, the outage, re-authorization, the windows that
excuse a change); the verdict does not depend on load. Changes
made while video/list is down or an account waits for `auth` count from
the end of that window (for `auth`, plus the daemon's real-time 200 ms
settle after the secrets file changed); changes undone before any refresh
could see them (an edit to a video then deleted or pushed out of the kept
slice, a deletion restored) are counted apart. Deep changes in the big
account must show within the archive rotation: ceil((N - 200) / 200) + 1
successful refreshes. Accounts of at most 200 videos are re-listed whole
on every refresh, so for them every change is a change at the top.

Working state is in a fresh folder in /dev/shm (fsync is free there; the
soak measures the daemon, not the disk), removed after a pass and copied
to OUT/soak-DAYS-state after a failure.
"""
import argparse
import bisect
import heapq
import calendar
import http.client
import json
import math
import os
import random
import re
import shutil
import signal
import sqlite3
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
ROOT = os.path.dirname(TESTS)
sys.path.insert(0, os.path.join(TESTS, "e2e"))

import harness  # noqa: E402  (puts tests/ on sys.path for emu)
from harness import Emulator, Mirror  # noqa: E402
from daemon_util import Daemon, NotifyListener, wait_until  # noqa: E402

DAY = 86400
# The end of `status`'s "stale: ..." warning (daemon/cmd_status.c).
STALE_END = "journalctl -u tiktok-mirror)"
HOUR = 3600
S0 = 1798761600            # 2027-01-01T00:00:00Z: the simulated epoch
SLACK_REAL_MS = 50         # event-loop latency allowance, real ms
SETTLE_REAL_MS = 200       # daemon/cmd_run.c SECRETS_SETTLE_MS (real time)
RATE_LIMIT = 600           # calls per minute per endpoint (app.rate_limit)
ENDPOINTS = ("/v2/oauth/token/", "/v2/user/info/", "/v2/video/list/",
             "/v2/video/query/", "/cdn/")
# The daemon stores a grant's expiry as the time it read TikTok's answer
# plus its expires_in; under compression the moment between the emulator's
# answer and the daemon's reading is SCALE times longer (200 ms on a busy
# machine: 3.4 simulated hours). Grants of one account are months apart:
# one is recognised by an expiry within a day.
EXPIRY_SLACK = DAY
CONCURRENCY = 4            # app.concurrency of the soak's configuration
CONNS_CACHED = CONCURRENCY + 4   # idle connections libcurl may keep
ROTATE_HEAD = 200          # videos re-listed every refresh (10 pages)
ROTATE_WINDOW = 200        # archive window per refresh (10 pages)

PIECES = (
    "Sunset at the beach \U0001F305", "\u65e5\u672c\u8a9e\u306e\u30bf\u30a4"
    "\u30c8\u30eb", 'He said "hi"', "line one\nline two", "tab\tseparated",
    "family \U0001F469\u200D\U0001F469\u200D\U0001F467",
    "\u00dcn\u00efc\u00f6d\u00e9 caf\u00e9", "back\\slash path",
    "<b>bold</b> & <i>amp</i>", "\u4e2d\u6587\u6807\u9898",
    "\ud55c\uad6d\uc5b4 \uc81c\ubaa9", "\u0627\u0644\u0639\u0631\u0628\u064a",
    "\U0001F525\U0001F525", "#fyp #viral", "it's 'quoted'",
    "math \u2211 \u221e \u2260", "\U0001F44D\U0001F3FD ok",
    "plain ascii words", "carriage\r\nreturn", "slash / and ? and %20",
)


def fmt_dur(s):
    """A simulated duration for people: 45 s, 12 min, 3.5 h, 2.1 d."""
    if s is None:
        return "-"
    a = abs(s)
    if a < 120:
        return "%.0f s" % s
    if a < 2 * HOUR:
        return "%.0f min" % (s / 60)
    if a < 2 * DAY:
        return "%.1f h" % (s / HOUR)
    return "%.1f d" % (s / DAY)


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def parse_iso(s):
    return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ"))


def day_of(t, start):
    return (t - start) / DAY


# --------------------------------------------------------------------------
# The shared compressed clock
# --------------------------------------------------------------------------

class SimClock:
    """sim(real) = SIM0 + (real - REAL0) * SCALE, in milliseconds, exactly
    as lib/util.c and the emulator compute it."""

    def __init__(self, real0_ms, sim0_ms, scale):
        self.real0 = int(real0_ms)
        self.sim0 = int(sim0_ms)
        self.scale = int(scale)

    def spec(self):
        return "%d:%d:%d" % (self.real0, self.sim0, self.scale)

    def now(self):
        return (self.sim0 + (time.time() * 1000.0 - self.real0) *
                self.scale) / 1000.0

    def real_at(self, sim):
        return (self.real0 + (sim * 1000.0 - self.sim0) / self.scale) / 1e3

    def sleep_until(self, sim, cap=0.05):
        d = self.real_at(sim) - time.time()
        if d > 0:
            time.sleep(min(d, cap))


class CpuWait:
    """How long the daemon was awake (on a CPU or waiting for one), as
    simulated time.

    Under compression every real millisecond counts SCALE simulated ones,
    so on a busy machine the daemon's timers fire late by whatever time the
    kernel kept it off the CPU, and by whatever its own work for other
    accounts took (slower too when the machine is busy), and every lag
    grows by that times SCALE (300 ms are five simulated hours at
    62,000x): a check with a fixed real-time allowance fails because the
    machine is busy, not because the daemon is wrong. The kernel counts
    both exactly: the first two fields of /proc/PID/schedstat are the
    nanoseconds the task ran and the nanoseconds it was runnable but
    waiting on a run queue (the daemon's event loop is its one thread;
    curl's resolver threads never block it). They are sampled at every
    turn of the world's loop, paired with the simulated time, and a check
    excuses the simulated time the daemon was awake within the stretch it
    judges, outside the account's own refreshes. What remains is the time
    it slept, which only its timers decide: the scheduler is judged, not
    the machine. On an idle machine that is a few milliseconds; the totals
    are reported (row "compression")."""

    def __init__(self, pid, clock):
        self.path = "/proc/%d/schedstat" % pid
        self.scale = clock.scale
        self.ts = []            # simulated time of each sample
        self.ns = []            # cumulative time awake (ns) at that time
        self.cpu_ns = self.wait_ns = 0     # since the first sample
        self.first = None
        self.available = True

    def sample(self, now):
        if not self.available:
            return
        try:
            with open(self.path) as f:
                fields = f.read().split()
            cpu, wait = int(fields[0]), int(fields[1])
        except (OSError, ValueError, IndexError):
            if not self.ts:
                self.available = False    # no schedstat in this kernel
            return
        if self.ts and now <= self.ts[-1]:
            return
        if self.first is None:
            self.first = (cpu, wait)
        self.ts.append(now)
        self.ns.append(cpu + wait)
        self.cpu_ns = cpu - self.first[0]
        self.wait_ns = wait - self.first[1]

    def at(self, t):
        """The cumulative time awake at simulated time t (linear in
        between)."""
        if not self.ts:
            return 0.0
        i = bisect.bisect_left(self.ts, t)
        if i == 0:
            return float(self.ns[0])
        if i >= len(self.ts):
            return float(self.ns[-1])
        t0, t1 = self.ts[i - 1], self.ts[i]
        n0, n1 = self.ns[i - 1], self.ns[i]
        return n0 + (n1 - n0) * (t - t0) / (t1 - t0)

    def sim(self, t0, t1, woke=False):
        """Simulated seconds the daemon was awake in [t0, t1].

        woke: t1 is when the daemon started something (a refresh) on a
        timer due before. The kernel adds a wait for a CPU to the counter
        when the wait ends, the daemon then starts at once, and the sample
        that shows the wait comes after t1: interpolated, a part of it (up
        to all of it) would land after t1, inside the refresh, where it is
        not excused. Counted to that sample instead (what it adds past t1
        is at most one turn of the world's loop)."""
        if t1 <= t0:
            return 0.0
        end = self.at(t1)
        if woke:
            i = bisect.bisect_left(self.ts, t1)
            if i < len(self.ts):
                end = float(self.ns[i])
        return (end - self.at(t0)) / 1e9 * self.scale


class Ctl:
    """Emulator control calls over one kept-alive connection (the world
    makes tens of thousands of them)."""

    def __init__(self, port):
        self.port = port
        self.conn = None
        self.calls = 0

    def call(self, path, obj=None, method="POST"):
        body = json.dumps(obj if obj is not None else {}).encode() \
            if method == "POST" else None
        for attempt in (0, 1):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(
                        "127.0.0.1", self.port, timeout=60)
                self.conn.request(method, path, body=body, headers={
                    "Content-Type": "application/json"})
                r = self.conn.getresponse()
                data = r.read()
                break
            except (http.client.HTTPException, OSError):
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                if attempt:
                    raise
        self.calls += 1
        if not 200 <= r.status < 300:
            raise RuntimeError("emulator %s: %s %s" % (path, r.status,
                                                        data[:300]))
        return json.loads(data) if data else None

    def close(self):
        if self.conn is not None:
            self.conn.close()


# --------------------------------------------------------------------------
# The world: accounts and videos as the emulator holds them
# --------------------------------------------------------------------------

class Video:
    __slots__ = ("id", "ts", "title", "desc", "duration", "width", "height",
                 "views", "likes", "comments", "shares", "fmt", "live")

    def emu(self):
        return {"id": self.id, "ts": self.ts, "title": self.title,
                "video_description": self.desc, "duration": self.duration,
                "width": self.width, "height": self.height,
                "view_count": self.views, "like_count": self.likes,
                "comment_count": self.comments, "share_count": self.shares,
                "cover_format": self.fmt}


class Account:
    def __init__(self, idx, name, cache, quantity, role):
        self.idx = idx
        self.name = name
        self.cache = cache
        self.quantity = quantity   # int or "all"
        self.role = role
        self.live = []             # live videos, newest first
        self.by_id = {}
        self.seq = 0
        self.grants = []           # (issued, expires) as the emulator has it

    def cfg(self):
        c = {"name": self.name, "cache": self.cache}
        if self.quantity != 20:
            c["quantity"] = self.quantity
        return c

    def q(self):
        return 10 ** 9 if self.quantity == "all" else self.quantity

    def rank(self, v):
        return self.live.index(v)

    def new_id(self):
        self.seq += 1
        return "7%02d%016d" % (self.idx, self.seq)

    def insert(self, v):
        keys = [-x.ts for x in self.live]
        self.live.insert(bisect.bisect_left(keys, -v.ts), v)
        self.by_id[v.id] = v
        v.live = True

    def remove(self, v):
        self.live.remove(v)
        v.live = False


def make_video(acct, rng, ts):
    v = Video()
    v.id = acct.new_id()
    v.ts = ts
    words = [PIECES[rng.randrange(len(PIECES))]
             for _ in range(rng.randint(1, 3))]
    v.title = ("%s #%d " % (acct.name, acct.seq) + " ".join(words))[:150]
    v.desc = " ".join(PIECES[rng.randrange(len(PIECES))]
                      for _ in range(rng.randint(1, 4)))[:150]
    v.duration = rng.randint(5, 300)
    v.width, v.height = (1080, 1920) if rng.random() < 0.8 else (720, 1280)
    v.views = rng.randint(0, 200000)
    v.likes = rng.randint(0, v.views // 10 + 1)
    v.comments = rng.randint(0, 500)
    v.shares = rng.randint(0, 500)
    v.fmt = ("jpeg", "png", "webp")[rng.randrange(3)]
    v.live = True
    return v


class Expect:
    """One change the mirror must show."""
    __slots__ = ("kind", "acct", "vid", "t", "value", "deep", "t_eff",
                 "seen", "lag", "inflight", "idle", "failed", "okruns",
                 "bound", "ok", "excused", "until", "pair", "superseded",
                 "world", "waited")

    def __init__(self, kind, acct, vid, t, value=None, deep=False):
        self.kind = kind
        self.acct = acct
        self.vid = vid
        self.t = t
        self.value = value
        self.deep = deep
        self.t_eff = t
        self.seen = None
        self.ok = None
        self.excused = None
        self.lag = self.inflight = self.idle = self.bound = None
        self.failed = self.okruns = None
        self.world = 0.0        # how long the world took to make it
        self.waited = 0.0       # excused: the daemon awake, self.world
        self.until = None       # no longer observable after this time
        self.pair = None        # a restoration's deletion
        self.superseded = False


# --------------------------------------------------------------------------
# The soak
# --------------------------------------------------------------------------

class Soak:
    def __init__(self, args):
        self.a = args
        self.days = args.days
        self.rng = random.Random(args.seed)
        self.failures = []
        self.events = []       # heap of (t, seq, name, fn, args)
        self.evseq = 0
        self.expects = []
        self.pending = []
        self.windows = []      # (account name or None, start, end, why)
        self.samples = []      # daily: dict
        self.ever = set()      # (account, id) ever seen in the mirror
        self.blanked = []
        self.warn_log = []     # refresh-token warnings from the log
        self.probes = []       # warning probes of status and metrics
        self.auths = []        # (t, account, why, ok)
        self.log_off = 0
        self.log_buf = ""
        self.daemon = None
        self.emu = None
        self.notify = None
        self.counters_prev = None
        self.per_day_calls = []
        self.fault_log = []
        self.state_watch = {}  # account -> (state awaited, callback)
        self.by_video = {}     # (account, id) -> expectations
        self.diag = {}         # evidence on late or missing changes
        self.tmp_prev = set()
        self.tmp_prev_t = 0
        self.run_starts = {}   # account -> refresh start times, in order
        self.runs_seen = 0
        self.edits = 0
        self.status_cache = None
        self.tmp_stale = set()

    # ---- helpers -------------------------------------------------------

    def fail(self, what):
        self.failures.append(what)

    def at(self, t, name, fn, *args):
        self.evseq += 1
        heapq.heappush(self.events, (t, self.evseq, name, fn, args))

    def ro(self):
        con = sqlite3.connect("file:%s?mode=ro" % self.m.db, uri=True,
                              timeout=10)
        return con

    def q(self, con, sql, *args):
        for attempt in range(20):
            try:
                return con.execute(sql, args).fetchall()
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) and "busy" not in str(e):
                    raise
                time.sleep(0.01)
        return con.execute(sql, args).fetchall()

    def env_clock(self, spec):
        os.environ["TIKTOK_MIRROR_TEST_CLOCK"] = spec

    def auth(self, acct, why, ttl_days):
        """`tiktok-mirror auth NAME` as the user runs it, through
        harness.auth_code (interrupted listener, then --code). Its clock:
        the simulated time now, running at real speed, so the pending
        authorization (30 min) outlives the real seconds this takes."""
        t = (self.clock or self.setup_clock).now()
        self.ctl.call("/_emu/config", {"refresh_ttl": int(ttl_days * DAY)})
        anchor = SimClock(time.time() * 1000, t * 1000, 1)
        self.env_clock(anchor.spec())
        try:
            p = self.m.auth_code(acct.name, acct.name)
        finally:
            os.environ.pop("TIKTOK_MIRROR_TEST_CLOCK", None)
        ok = p.returncode == 0
        if not ok:
            self.fail("auth %s (%s) exited %d: %s" % (
                acct.name, why, p.returncode, p.stderr.strip()[-300:]))
        g = [x for x in self.ctl.call("/_emu/state?videos=0", None, "GET")
             ["grants"] if x["user"] == acct.name]
        acct.grants.append((g[-1]["created"], g[-1]["refresh_expires_at"]))
        self.auths.append((t, acct.name, why, ok))
        return ok

    # ---- setup ---------------------------------------------------------

    def build_accounts(self):
        n = self.a.accounts
        roles = {}
        accts = []
        for i in range(n):
            if i < min(5, n):
                cache, quantity = HOUR, 20
                name = "hourly%d" % i
                role = "hourly"
                if i == 2 % n and n >= 3:
                    name, role = "revoked", "revoked"
            else:
                cache = DAY
                quantity = "all" if i % 3 == 0 else 20
                name = "daily%02d" % i
                role = "daily"
            accts.append(Account(i, name, cache, quantity, role))
        special = [("renew", 5), ("lapse", 6), ("big", 7)]
        for role, i in special:
            if i < n:
                accts[i].name = role
                accts[i].role = role
                accts[i].cache = DAY
                accts[i].quantity = "all" if role == "big" else 20
        for a in accts:
            roles[a.role] = a
        self.accts = accts
        self.by_name = {a.name: a for a in accts}
        self.roles = roles

    def setup(self):
        a = self.a
        with open(harness.BIN, "rb") as f:
            self.asan = b"__asan_init" in f.read()
        self.t_setup0 = time.monotonic()
        self.build_accounts()
        self.emu = Emulator(keep_dir=False).start()
        self.ctl = Ctl(self.emu.http_port)
        # The setup runs at real speed from the simulated epoch.
        self.clock = None
        self.setup_clock = SimClock(time.time() * 1000, S0 * 1000, 1)
        self.emu.set_clock(self.setup_clock.spec())
        self.ctl.call("/_emu/config", {
            "access_ttl": DAY, "code_ttl": 30 * DAY, "rate_limit": RATE_LIMIT,
            "rate_limit_retry_after": "auto"})
        if a.dir:
            folder = os.path.abspath(a.dir)
        else:
            base = "/dev/shm" if os.path.isdir("/dev/shm") and \
                os.access("/dev/shm", os.W_OK) else None
            folder = tempfile.mkdtemp(prefix="tiktok-mirror-soak-", dir=base)
        self.m = Mirror(self.emu, https=False, folder=folder)
        self.m.write_config([x.cfg() for x in self.accts],
                            rate_limit=RATE_LIMIT, concurrency=CONCURRENCY)
        with open(self.m.config, "a") as f:
            f.write("metrics: metrics.prom\n")
        self.metrics = os.path.join(self.m.dir, "metrics.prom")
        rng = self.rng
        for acct in self.accts:
            self.ctl.call("/_emu/users", {"name": acct.name,
                                          "display_name": acct.name.title()})
            count = 700 if acct.role == "big" else rng.randint(15, 60)
            span = 300 * DAY
            vids = []
            for k in range(count):
                ts = int((S0 - DAY - (k + rng.random()) * span / count) * 1000)
                vids.append(make_video(acct, rng, ts))
            for v in vids:
                acct.insert(v)
            for i in range(0, len(vids), 200):
                self.ctl.call("/_emu/videos", {
                    "user": acct.name,
                    "videos": [v.emu() for v in vids[i:i + 200]]})
        # Grants: most expire 20 days after the run (issued before it, by
        # TikTok's lifetime); renew's at 40% of the run (re-authorized
        # when the 7-day warning shows), lapse's at 47% (left to expire,
        # re-authorized two days late). Every refresh rotates the token.
        d = self.days
        self.e_renew = 0.40 * d
        self.e_lapse = 0.47 * d + 0.3
        for acct in self.accts:
            if acct.role == "renew":
                ttl = self.e_renew
            elif acct.role == "lapse":
                ttl = self.e_lapse
            else:
                ttl = d + 20
            self.auth(acct, "initial", ttl)
        self.setup_secs = time.monotonic() - self.t_setup0

    def schedule(self):
        d = self.days
        rng = self.rng
        start, end = self.start, self.end
        self.t_quiet = end - 1.5 * DAY
        quiet = self.t_quiet
        for acct in self.accts:
            # Counts of the newest three videos change once a day.
            off = rng.random() * DAY
            t = start + off
            while t < quiet:
                self.at(t, "counts", self.ev_counts, acct)
                t += DAY
            # New videos every few days.
            t = start + rng.uniform(0.2, 4) * DAY
            while t < quiet:
                self.at(t, "new", self.ev_new, acct)
                t += rng.uniform(2, 6) * DAY
        small = [x for x in self.accts if x.role != "big"]
        t = start + 0.5 * DAY
        while t < quiet:
            self.at(t, "title", self.ev_edit, rng.choice(small), "title")
            if rng.random() < 0.34:
                self.at(t + 0.3 * DAY, "desc", self.ev_edit,
                        rng.choice(small), "desc")
            t += DAY
        t = start + 1.3 * DAY
        while t < quiet:
            self.at(t, "cover", self.ev_cover, rng.choice(self.accts))
            t += (3 if d > 60 else 1) * DAY
        step = max(5.0, d / 12.0)
        t = start + 2.7 * DAY
        k = 0
        while t < quiet - 2 * DAY:
            self.at(t, "delete", self.ev_delete, rng.choice(small),
                    k % 2 == 0)
            t += step * DAY
            k += 1
        big = self.roles.get("big")
        if big is not None:
            step = 20 if d > 60 else 4
            t = start + 3.4 * DAY
            # Deep changes need up to the rotation's refreshes (days).
            while t < quiet - 6 * DAY:
                self.at(t, "deep", self.ev_deep, big)
                t += step * DAY
            self.at(start + 0.35 * d * DAY, "deep-delete", self.ev_deep_delete,
                    big)
        # Faults: bursts (prob/times) and a week-long video/list outage.
        bursts = [
            (0.10, [{"path": "/v2/", "kind": "status", "status": 503,
                     "prob": 0.3, "times": 60}]),
            (0.22, [{"path": "/v2/video/list/", "kind": "status",
                     "status": 429, "prob": 0.5, "times": 60,
                     "retry_after": 30}]),
            (0.40, [{"path": "/v2/oauth/token/", "kind": "status",
                     "status": 500, "prob": 0.5, "times": 10},
                    {"path": "/v2/video/", "kind": "drop", "prob": 0.2,
                     "times": 20}]),
            (0.53, [{"path": "/v2/user/info/", "kind": "status",
                     "status": 429, "prob": 0.6, "times": 60}]),
            (0.80, [{"path": "/v2/", "kind": "status", "status": 502,
                     "prob": 0.3, "times": 60},
                    {"path": "/cdn/", "kind": "status", "status": 503,
                     "prob": 0.5, "times": 20},
                    {"path": "/v2/video/list/", "kind": "truncate",
                     "prob": 0.2, "times": 10}]),
            (0.90, [{"path": "/v2/video/list/", "kind": "status",
                     "status": 429, "prob": 0.5, "times": 80,
                     "retry_after": 60}]),
        ]
        for i, (frac, rules) in enumerate(bursts):
            for j, r in enumerate(rules):
                r["seed"] = 100 * i + j
            self.at(start + frac * d * DAY, "burst", self.ev_faults, rules)
        self.outage_days = min(7.0, d / 4.0)
        self.outage = (start + 0.60 * d * DAY,
                       start + (0.60 * d + self.outage_days) * DAY)
        self.windows.append((None,) + self.outage + ("video/list outage",))
        self.at(self.outage[0], "outage", self.ev_outage, True)
        self.at(self.outage[1], "outage-end", self.ev_outage, False)
        self.at(min(self.outage[1] + 2 * DAY, self.t_quiet), "outage-report",
                self.ev_outage_report)
        if "revoked" in self.roles:
            self.at(start + 0.30 * d * DAY, "revoke", self.ev_revoke,
                    self.roles["revoked"])
        if "lapse" in self.roles:
            e = self.roles["lapse"].grants[-1][1]
            self.at(e + 2 * DAY, "late-auth", self.ev_late_auth,
                    self.roles["lapse"])
        # Warning probes: status --json and metrics after each threshold.
        for acct in self.accts:
            e = acct.grants[-1][1]
            for th in (31, 30, 7, 1):
                tp = e - th * DAY + 6 * HOUR
                if start + 2 * HOUR < tp < end - 2 * HOUR and \
                        not (acct.role == "renew" and th == 1):
                    self.at(tp, "probe", self.ev_probe, acct, th, e)

    # ---- world events --------------------------------------------------

    def gone(self, acct, v, t, kinds):
        """v stopped being observable at t for pending expectations of
        these kinds (deleted, pushed out of the kept slice, restored)."""
        for e in self.by_video.get((acct.name, v.id), ()):
            if e.seen is None and e.until is None and e.kind in kinds:
                e.until = t

    def pushed_out(self, acct, t):
        """After an insertion: the video now just past the kept slice."""
        q = acct.q()
        if q < len(acct.live):
            self.gone(acct, acct.live[q], t, ("new", "counts", "title",
                                              "desc"))

    def put(self, acct, vids):
        self.ctl.call("/_emu/videos", {"user": acct.name,
                                       "videos": [v.emu() for v in vids]})

    def ev_counts(self, t, acct):
        vids = acct.live[:3]
        for v in vids:
            v.views += self.rng.randint(50, 50000)
            v.likes += self.rng.randint(0, 500)
            v.comments += self.rng.randint(0, 20)
            v.shares += self.rng.randint(0, 20)
        if vids:
            self.put(acct, vids)
            for v in vids:
                self.expect("counts", acct, v, t, v.views)

    def ev_new(self, t, acct):
        v = make_video(acct, self.rng, int(t * 1000) -
                       self.rng.randrange(60000))
        acct.insert(v)
        self.put(acct, [v])
        self.expect("new", acct, v, t)
        self.pushed_out(acct, t)

    def ev_edit(self, t, acct, field):
        top = acct.live[:min(acct.q(), 20)]
        if not top:
            return
        v = self.rng.choice(top)
        self.edits += 1
        text = "%s edit %d %s" % (field, self.edits,
                                  PIECES[self.rng.randrange(len(PIECES))])
        if field == "title":
            v.title = text
        else:
            v.desc = text
        self.put(acct, [v])
        self.expect(field, acct, v, t, text)

    def ev_cover(self, t, acct):
        top = acct.live[:min(acct.q(), 20)]
        if top:
            v = self.rng.choice(top)
            self.ctl.call("/_emu/videos/update", {"user": acct.name,
                                                  "id": v.id,
                                                  "new_cover": True})

    def ev_delete(self, t, acct, restore):
        top = acct.live[:min(acct.q(), 12)]
        if len(top) < 4:
            return
        v = self.rng.choice(top[1:])
        acct.remove(v)
        self.ctl.call("/_emu/videos/delete", {"user": acct.name,
                                              "ids": [v.id]})
        self.gone(acct, v, t, ("new", "counts", "title", "desc"))
        self.expect("deleted", acct, v, t)
        if restore:
            self.at(t + self.rng.uniform(1, 4) * DAY, "restore",
                    self.ev_restore, acct, v)

    def ev_restore(self, t, acct, v):
        acct.insert(v)
        self.put(acct, [v])
        dels = [e for e in self.by_video.get((acct.name, v.id), ())
                if e.kind == "deleted"]
        self.gone(acct, v, t, ("deleted",))
        if acct.rank(v) < acct.q():
            self.expect("restored", acct, v, t)
            self.expects[-1].pair = dels[-1] if dels else None
        self.pushed_out(acct, t)

    def ev_deep(self, t, acct):
        n = len(acct.live)
        if n <= ROTATE_HEAD + 60:
            return
        v = acct.live[self.rng.randrange(ROTATE_HEAD + 40, n - 10)]
        self.edits += 1
        v.title = "deep edit %d %s" % (self.edits, PIECES[0])
        v.views += 1000
        self.put(acct, [v])
        self.expect("title", acct, v, t, v.title, deep=True)
        self.expect("counts", acct, v, t, v.views, deep=True)

    def ev_deep_delete(self, t, acct):
        n = len(acct.live)
        if n <= ROTATE_HEAD + 60:
            return
        v = acct.live[self.rng.randrange(ROTATE_HEAD + 40, n - 10)]
        acct.remove(v)
        self.ctl.call("/_emu/videos/delete", {"user": acct.name,
                                              "ids": [v.id]})
        self.gone(acct, v, t, ("new", "counts", "title", "desc"))
        self.expect("deleted", acct, v, t, deep=True)

    def ev_faults(self, t, rules):
        self.ctl.call("/_emu/faults", {"faults": rules})
        self.fault_log.append((t, [r["kind"] + ":" + r["path"]
                                   for r in rules]))

    def ev_outage(self, t, on):
        if on:
            self.ctl.call("/_emu/faults", {"faults": [{
                "path": "/v2/video/list/", "kind": "status", "status": 503,
                "times": -1, "outage": True}]})
            self.fault_log.append((t, ["outage:/v2/video/list/ 503"]))
            return
        # Remove the outage rule, keeping bursts that have times left.
        rules = self.ctl.call("/_emu/faults", None, "GET")["faults"]
        keep = []
        for r in rules:
            if r.get("outage") or r["times"] == 0:
                continue
            keep.append({k: x for k, x in r.items()
                         if k not in ("id", "seen", "fired", "after")})
        self.ctl.call("/_emu/faults/clear")
        if keep:
            self.ctl.call("/_emu/faults", {"faults": keep})
        self.fault_log.append((t, ["outage over"]))

    def ev_outage_report(self, t):
        """What the outage did, read while sync_runs still holds it."""
        o0, o1 = self.outage
        con = self.ro()
        try:
            failed = self.q(con, "SELECT count(*) FROM sync_runs WHERE "
                            "started_at >= ? AND started_at < ? AND outcome "
                            "!= 'ok'", int(o0), int(o1))[0][0]
            first_ok = self.q(con, "SELECT account, min(finished_at) FROM "
                              "sync_runs WHERE outcome = 'ok' AND "
                              "finished_at >= ? GROUP BY account", int(o1))
            kept = self.q(con, "SELECT count(*) FROM sync_runs WHERE "
                          "started_at >= ? AND started_at < ? AND outcome = "
                          "'ok'", int(o0), int(o1))[0][0]
        finally:
            con.close()
        # Until every account is back (a busy machine makes refreshes
        # longer in simulated time: the big account's can outlast its
        # access token and fail once more), look again later; the
        # verdict is on the idle time, not on when this report runs.
        if len([x for _, x in first_ok if x is not None]) < \
                len(self.accts) and t + DAY / 4 < self.t_quiet:
            self.at(t + DAY / 4, "outage-report", self.ev_outage_report)
            return
        # Catching up: the first successful refresh after the outage,
        # from its end, less the time spent in refreshes meanwhile (a
        # failing one in flight at the end, the successful one itself).
        cu, idle, over = {}, {}, {}
        con = self.ro()
        try:
            for a, x in first_ok:
                if x is None:
                    continue
                cu[a] = x - o1
                inflight, fails, _, waited = self.inflight(con, a, o1, x)
                idle[a] = max(0.0, x - o1 - inflight - waited)
                # After a failure the scheduler retries within
                # min(cache, 1 h) (+ jitter): once after the outage, again
                # after each failure (a burst) on the way.
                cache = self.cache_of(a)
                over[a] = idle[a] - (fails + 1) * (min(cache, HOUR) + 60) - \
                    self.slack()
        finally:
            con.close()
        self.outage_stats = {"failed": failed, "ok_during": kept,
                             "caught_up": cu, "idle": idle, "over": over}

    def ev_revoke(self, t, acct):
        self.ctl.call("/_emu/tokens/revoke", {"user": acct.name})
        self.revoke = {"t": t, "acct": acct.name}
        self.fault_log.append((t, ["revoked grant of %s" % acct.name]))
        self.watch_state(acct.name, "needs_auth", self.after_revoked)

    def after_revoked(self, t_seen, name):
        self.revoke["needs_auth_at"] = t_seen
        # The user notices a day later and runs `auth`.
        self.at(t_seen + DAY, "re-auth", self.ev_reauth, self.by_name[name])

    def ev_reauth(self, t, acct):
        pid = self.daemon.pid
        con = self.ro()
        try:
            self.revoke["others_running"] = self.q(
                con, "SELECT count(*) FROM accounts WHERE name != ? AND "
                "state = 'ok'", acct.name)[0][0]
        finally:
            con.close()
        ok = self.auth(acct, "after revocation", 365)
        # The grant is in the secrets file once `auth` is done, and the
        # daemon looks SECRETS_SETTLE_MS (real) after the file changed:
        # the impairment ends then (both take real time, sim hours).
        written = self.clock.now()
        done = written + self.settle()
        self.revoke["auth_at"] = t
        self.revoke["auth_written"] = written
        self.revoke["auth_done"] = done
        self.revoke["auth_ok"] = ok
        self.revoke["same_pid"] = self.daemon.pid == pid and \
            self.daemon.alive()
        self.windows.append((acct.name, self.revoke["t"], done, "revoked"))
        self.watch_state(acct.name, "ok", self.after_recovered)

    def after_recovered(self, t_seen, name):
        self.revoke["ok_at"] = t_seen
        # Isolation: the other accounts went on refreshing the whole time
        # this one was stuck (a day and more: to the recovery), counted
        # once the time the daemon was awake meanwhile has passed too (it
        # delay every account's refresh alike).
        t0 = self.revoke.get("needs_auth_at", t_seen)
        end = t_seen + self.cpu.sim(t0, t_seen)
        self.revoke["others_waited"] = end - t_seen
        self.at(end + 60, "revoke-others", self.ev_revoke_others, name, t0,
                end)

    def ev_revoke_others(self, t, name, t0, t1):
        con = self.ro()
        try:
            self.revoke["others"] = self.q(
                con, "SELECT count(DISTINCT account) FROM sync_runs WHERE "
                "outcome = 'ok' AND account != ? AND finished_at >= ? AND "
                "finished_at <= ?", name, int(t0), int(t1) + 1)[0][0]
        finally:
            con.close()

    def ev_late_auth(self, t, acct):
        e = acct.grants[-1][1]
        self.lapse = {"expiry": e, "auth_at": t}
        self.lapse["state_before"] = self.account_row(acct.name)
        self.auth(acct, "after expiry", 365)
        written = self.clock.now()
        done = written + self.settle()
        self.lapse["auth_written"] = written
        self.lapse["auth_done"] = done
        self.windows.append((acct.name, e, done, "refresh token expired"))
        self.watch_state(acct.name, "ok", self.after_lapse_ok)

    def after_lapse_ok(self, t_seen, name):
        self.lapse["ok_at"] = t_seen

    def on_renew_warning(self, t):
        acct = self.roles["renew"]
        if getattr(self, "renewed", None):
            return
        self.renewed = {"warned_at": t, "old_expiry": acct.grants[-1][1]}
        self.auth(acct, "renewed at the 7-day warning", 365)
        self.renewed["auth_at"] = self.clock.now()
        self.renewed["new_expiry"] = acct.grants[-1][1]

    def ev_probe(self, t, acct, th, expiry):
        if acct.grants[-1][1] != expiry:
            return          # renewed meanwhile
        # The world may run late (it is one process doing everything):
        # a probe that would land past its window is not made.
        late_ok = {31: 12 * HOUR, 30: 20 * DAY, 7: 5 * DAY, 1: 12 * HOUR}
        if t - (expiry - th * DAY + 6 * HOUR) > late_ok[th]:
            self.probes.append({"t": t, "acct": acct.name, "th": th,
                                "skipped": True})
            return
        # Probes due together share one `status --json` (an hour earlier
        # at most, which errs on the safe side for every probe).
        c = self.status_cache
        if c is not None and 0 <= t - c[0] <= HOUR:
            st = c[1]
        else:
            env = dict(os.environ)
            env["TIKTOK_MIRROR_TEST_CLOCK"] = self.clock.spec()
            p = self.m.run("status", "--json", env=env)
            try:
                st = {x["name"]: x for x in json.loads(p.stdout)["accounts"]}
            except (ValueError, KeyError):
                self.fail("status --json unreadable: %r" % p.stdout[:200])
                return
            self.status_cache = (t, st)
        row = st.get(acct.name, {})
        try:
            with open(self.metrics) as f:
                met = f.read()
        except OSError:
            met = ""
        m = re.search(r'^tiktok_mirror_refresh_token_warning\{account="%s"\}'
                      r' (\d+)$' % re.escape(acct.name), met, re.M)
        # `status` also warns of an account whose last attempt is older
        # than twice its cache ("stale", first in the warning). In
        # compressed time a daemon starved of CPU for a moment looks so;
        # this probe is about the refresh-token warning, which follows.
        warning = row.get("warning")
        if row.get("stale") and warning and STALE_END in warning:
            warning = warning.split(STALE_END, 1)[1].lstrip("; ") or None
        self.probes.append({"t": t, "acct": acct.name, "th": th,
                            "expiry": expiry, "warning": warning,
                            "metric": int(m.group(1)) if m else None,
                            "state": row.get("state")})

    # ---- state watches and the log ---------------------------------------

    def watch_state(self, name, state, cb):
        self.state_watch[name] = (state, cb)

    def account_row(self, name):
        con = self.ro()
        try:
            r = self.q(con, "SELECT state, last_error, last_success_at, "
                       "refresh_expires_at FROM accounts WHERE name = ?", name)
        finally:
            con.close()
        return r[0] if r else None

    def poll_watches(self):
        if not self.state_watch:
            return
        con = self.ro()
        try:
            for name, (state, cb) in list(self.state_watch.items()):
                # When it happened is the daemon's: the end of the refresh
                # that set the state, not when this loop got to look. The
                # daemon writes the account's state (with the data) before
                # it closes the refresh's sync_runs row (after retention,
                # checkpoint and the covers sweep): a busy machine stretches
                # that gap. Until the account's latest closed run has the
                # awaited outcome, the refresh that set the state is still
                # open; an older run's time would be a time before it.
                r = self.q(con, "SELECT a.state, r.outcome, r.finished_at "
                           "FROM accounts a LEFT JOIN sync_runs r ON r.id = "
                           "(SELECT max(id) FROM sync_runs WHERE account = "
                           "a.name AND finished_at IS NOT NULL) WHERE a.name "
                           "= ?", name)
                if not r or r[0][0] != state:
                    continue
                if r[0][1] is not None and r[0][1] != state:
                    continue
                del self.state_watch[name]
                cb(r[0][2] if r[0][2] is not None else self.clock.now(),
                   name)
        finally:
            con.close()

    WARN_RX = re.compile(r"^(\S+) warning: ([A-Za-z0-9_-]+): the authorization "
                         r"expires in (\d+) (hours?|days?) \(([^)]+)\)")

    def read_log(self):
        try:
            with open(self.daemon.log_path, "rb") as f:
                f.seek(self.log_off)
                data = f.read()
        except OSError:
            return
        self.log_off += len(data)
        self.log_buf += data.decode("utf-8", "replace")
        lines = self.log_buf.split("\n")
        self.log_buf = lines.pop()
        for ln in lines:
            m = self.WARN_RX.match(ln)
            if not m:
                continue
            t = parse_iso(m.group(1))
            w = {"t": t, "acct": m.group(2), "amount": int(m.group(3)),
                 "unit": m.group(4), "expiry": parse_iso(m.group(5))}
            w["th"] = self.log_threshold(w)
            self.warn_timing(w)
            self.warn_log.append(w)
            if w["acct"] == "renew" and w["th"] <= 7:
                self.on_renew_warning(self.clock.now())

    def warn_timing(self, w):
        """How late the warning came: from the threshold crossing (or the
        grant's first use) to the log line, less the time the account
        spent in refreshes (it is logged when the refresh that saw the
        crossing ends)."""
        acct = self.by_name.get(w["acct"])
        if acct is None:
            return
        c = w["expiry"] - w["th"] * DAY
        uses = [max(i, self.start) for i, e in acct.grants
                if abs(e - w["expiry"]) < EXPIRY_SLACK]
        if uses:
            c = max(c, uses[0])
        con = self.ro()
        try:
            inflight, failed, _, waited = self.inflight(con, w["acct"], c,
                                                        w["t"])
        finally:
            con.close()
        w["crossing"] = c
        w["idle"] = max(0.0, w["t"] - c - inflight - waited)
        w["bound"] = acct.cache + self.jitter(acct.cache) + \
            failed * min(acct.cache, HOUR) + self.slack() + 1

    # ---- expectations --------------------------------------------------

    def expect(self, kind, acct, v, t, value=None, deep=False):
        e = Expect(kind, acct.name, v.id, t, value, deep)
        self.expects.append(e)
        self.pending.append(e)
        self.by_video.setdefault((acct.name, v.id), []).append(e)

    def cache_of(self, name):
        return self.by_name[name].cache

    def jitter(self, cache):
        return min(cache / 20.0, 60.0)

    def slack(self):
        return SLACK_REAL_MS / 1000.0 * self.clock.scale

    def settle(self):
        return SETTLE_REAL_MS / 1000.0 * self.clock.scale

    def effective_start(self, e):
        cache = self.cache_of(e.acct)
        t = e.t
        changed = True
        while changed:
            changed = False
            for who, ws, we, why in self.windows:
                if who is not None and who != e.acct:
                    continue
                if t <= we and t + cache * 1.05 + self.slack() + \
                        self.cpu.sim(t, ws) >= ws and we > t:
                    t = we
                    e.excused = why
                    changed = True
        return t

    def note_runs(self):
        """Remember when each refresh started (sync_runs keeps 90 days;
        the warnings are judged at the end)."""
        con = self.ro()
        try:
            rows = self.q(con, "SELECT id, account, started_at FROM "
                          "sync_runs WHERE id > ? ORDER BY id",
                          self.runs_seen)
        finally:
            con.close()
        for rid, acct, st in rows:
            self.runs_seen = rid
            self.run_starts.setdefault(acct, []).append(st)

    def refreshed_in(self, name, t0, t1):
        """Whether a refresh of 'name' started in [t0, t1)."""
        v = self.run_starts.get(name, [])
        i = bisect.bisect_left(v, t0)
        return i < len(v) and v[i] < t1

    def resolve(self, final=False):
        self.note_runs()
        if not self.pending:
            return
        con = self.ro()
        still = []
        try:
            for e in self.pending:
                seen = self.find_seen(con, e)
                if seen is None:
                    if self.superseded(con, e):
                        e.superseded = True
                        continue
                    still.append(e)
                    self.diagnose(con, e, final)
                    continue
                e.seen = seen
                e.t_eff = self.effective_start(e)
                self.measure(con, e)
                if not e.ok:
                    self.diagnose(con, e, True)
        finally:
            con.close()
        self.pending = still

    def diagnose(self, con, e, force):
        """Keep the evidence on a late or missing change while sync_runs
        still holds it (90 days)."""
        if (e.acct, e.vid, e.kind, e.t) in self.diag:
            return
        now = self.clock.now()
        cache = self.cache_of(e.acct)
        if not force and now < self.effective_start(e) + 3 * cache + \
                2 * self.slack():
            return
        runs = self.q(con, "SELECT id, started_at, finished_at, outcome, "
                      "requests, new, updated, deleted, substr(error, 1, 160)"
                      " FROM sync_runs WHERE account = ? AND started_at >= ? "
                      "ORDER BY started_at LIMIT 12", e.acct,
                      int(e.t) - int(cache))
        row = self.q(con, "SELECT title, total_views, position, deleted_at, "
                     "updated_at, first_seen_at FROM videos WHERE account = "
                     "? AND id = ?", e.acct, e.vid)
        acct = self.by_name[e.acct]
        v = acct.by_id.get(e.vid)
        self.diag[(e.acct, e.vid, e.kind, e.t)] = {
            "kind": e.kind, "acct": e.acct, "vid": e.vid,
            "day": day_of(e.t, self.start), "value": e.value,
            "seen_day": day_of(e.seen, self.start) if e.seen else None,
            "idle": e.idle, "bound": e.bound, "excused": e.excused,
            "until_day": day_of(e.until, self.start) if e.until else None,
            "rank": acct.rank(v) if v is not None and v.live else None,
            "mirror": row[0] if row else None,
            "runs": [(r[0], round(day_of(r[1], self.start), 4),
                      round(day_of(r[2], self.start), 4) if r[2] else None)
                     + tuple(r[3:]) for r in runs]}

    def superseded(self, con, e):
        """True when e can no longer show and no successful refresh of its
        account started between the change and that moment (a deletion
        undone before any refresh, an edit to a video pushed out of the
        kept slice or deleted before any refresh, a restoration of a
        deletion the mirror never saw)."""
        if e.kind == "restored":
            p = e.pair
            if p is not None and (p.superseded or
                                  (p.seen is not None and p.seen > e.t)):
                return True
        if e.kind == "deleted" and any(
                x.kind == "new" and x.superseded
                for x in self.by_video.get((e.acct, e.vid), ())):
            return True     # a new video deleted before any refresh
        if e.until is None:
            return False
        t_eff = self.effective_start(e)
        if t_eff >= e.until:
            return True
        n = self.q(con, "SELECT count(*) FROM sync_runs WHERE account = ? "
                   "AND outcome = 'ok' AND started_at >= ? AND started_at < ?"
                   " AND finished_at IS NOT NULL", e.acct, int(math.ceil(
                       t_eff)), int(e.until))[0][0]
        if e.deep:
            return n < self.rotation_bound(e.acct)
        return n == 0

    def rotation_bound(self, name):
        n = len(self.by_name[name].live)
        return math.ceil(max(0, n - ROTATE_HEAD) / ROTATE_WINDOW) + 1

    def find_seen(self, con, e):
        t = int(math.floor(e.t))
        if e.kind == "new":
            r = self.q(con, "SELECT first_seen_at FROM videos WHERE "
                       "account = ? AND id = ?", e.acct, e.vid)
            return r[0][0] if r else None
        if e.kind == "counts":
            r = self.q(con, "SELECT min(observed_at) FROM video_stats WHERE "
                       "account = ? AND id = ? AND observed_at >= ? AND "
                       "total_views >= ?", e.acct, e.vid, t, e.value)
            return r[0][0] if r and r[0][0] is not None else None
        if e.kind in ("title", "desc"):
            # An update, or the video's first sighting when it was edited
            # before the mirror ever saw it.
            field = "title" if e.kind == "title" else "description"
            r = self.q(con, "SELECT min(r.finished_at) FROM changes c JOIN "
                       "sync_runs r ON r.id = c.run_id WHERE c.account = ? "
                       "AND c.id = ? AND c.kind = 'updated' AND instr(',' || "
                       "c.fields || ',', ?) > 0 AND r.finished_at >= ?",
                       e.acct, e.vid, "," + field + ",", t)
            if r and r[0][0] is not None:
                return r[0][0]
            r = self.q(con, "SELECT first_seen_at FROM videos WHERE account "
                       "= ? AND id = ? AND first_seen_at >= ?", e.acct,
                       e.vid, t)
            return r[0][0] if r else None
        if e.kind in ("deleted", "restored"):
            r = self.q(con, "SELECT min(r.finished_at) FROM changes c JOIN "
                       "sync_runs r ON r.id = c.run_id WHERE c.account = ? "
                       "AND c.id = ? AND c.kind = ? AND r.finished_at >= ?",
                       e.acct, e.vid, e.kind, t)
            return r[0][0] if r and r[0][0] is not None else None
        return None

    def inflight(self, con, acct, t0, t1):
        """(seconds acct spent inside refreshes within [t0, t1], failed
        refreshes that ended in it, successful ones that started in it,
        simulated seconds the daemon waited for a CPU in the rest)."""
        runs = self.q(con, "SELECT started_at, finished_at, outcome FROM "
                      "sync_runs WHERE account = ? AND started_at <= ? AND "
                      "(finished_at IS NULL OR finished_at >= ?) ORDER BY "
                      "started_at", acct, int(t1), int(t0))
        inflight = waited = 0.0
        failed = okruns = 0
        idle_from = t0
        for st, fin, outcome in runs:
            fin = t1 if fin is None else min(fin, t1)
            inflight += max(0.0, fin - max(st, t0))
            if st > idle_from:
                waited += self.cpu.sim(idle_from, st, woke=True)
            idle_from = max(idle_from, fin)
            if outcome is not None and outcome != "ok" and fin < t1:
                failed += 1
            if outcome == "ok" and st >= t0:
                okruns += 1
        waited += self.cpu.sim(idle_from, t1)
        return inflight, failed, okruns, waited

    def measure(self, con, e):
        cache = self.cache_of(e.acct)
        t0 = e.t_eff
        inflight, failed, okruns, waited = self.inflight(con, e.acct, t0,
                                                          e.seen)
        e.lag = e.seen - e.t
        e.inflight = inflight
        # Neither the time the daemon was awake (at work or waiting for a
        # CPU) outside this account's refreshes nor the time the world took
        # to make the change (it is visible somewhere in that span) are
        # the daemon's doing.
        e.waited = waited + e.world
        e.idle = max(0.0, e.seen - t0 - inflight - e.waited)
        e.failed = failed
        e.okruns = okruns
        if e.deep:
            e.bound = self.rotation_bound(e.acct)   # refreshes, not seconds
            e.ok = okruns <= e.bound
        else:
            e.bound = cache + self.jitter(cache) + \
                failed * min(cache, HOUR) + self.slack()
            e.ok = e.idle <= e.bound

    # ---- sampling ------------------------------------------------------

    def proc_sample(self):
        pid = self.daemon.pid
        rss = None
        try:
            with open("/proc/%d/status" % pid) as f:
                for ln in f:
                    if ln.startswith("VmRSS:"):
                        rss = int(ln.split()[1])
            fds = len(os.listdir("/proc/%d/fd" % pid))
        except OSError:
            fds = None
        return rss, fds

    def sample(self, t):
        rss, fds = self.proc_sample()
        size = 0
        for suffix in ("", "-wal", "-shm"):
            try:
                size += os.path.getsize(self.m.db + suffix)
            except OSError:
                pass
        tmp = 0
        covers = 0
        names = set()
        for dirpath, _, files in os.walk(self.m.covers):
            for fn in files:
                if fn.startswith(".tmp-"):
                    tmp += 1
                    names.add(os.path.join(dirpath, fn))
                else:
                    covers += 1
        con = self.ro()
        try:
            # A temporary file belongs to a download of the refresh in
            # flight when it was seen; once that refresh is over it must be
            # gone. Seen again at the next daily sample with no one refresh
            # of its account spanning both, it was left behind. (Not "seen
            # twice": on a busy machine a refresh can outlast a simulated
            # day.)
            for name in names & self.tmp_prev:
                acct = os.path.basename(os.path.dirname(name))
                if self.q(con, "SELECT count(*) FROM sync_runs WHERE "
                          "account = ? AND started_at <= ? AND (finished_at "
                          "IS NULL OR finished_at >= ?)", acct,
                          int(self.tmp_prev_t) + 1, int(t))[0][0] == 0:
                    self.tmp_stale.add(name)
            self.tmp_prev, self.tmp_prev_t = names, t
            rows = self.q(con, "SELECT account, id, title, description, "
                          "deleted_at FROM videos")
            counts = {}
            for tbl in ("videos", "video_stats", "sync_runs", "changes"):
                counts[tbl] = self.q(con, "SELECT count(*) FROM %s" % tbl)[0][0]
            # Changes go with their run (orphans are checked at the end).
            oldest_run = self.q(con, "SELECT min(started_at) FROM "
                                "sync_runs")[0][0]
            last_ok = self.q(con, "SELECT max(last_success_at) FROM "
                             "accounts")[0][0]
            states = dict(self.q(con, "SELECT state, count(*) FROM accounts "
                                 "GROUP BY state"))
        finally:
            con.close()
        for acc, vid, title, desc, deleted in rows:
            self.ever.add((acc, vid))
            if title == "" or desc == "":
                self.blanked.append((t, acc, vid))
        c = self.ctl.call("/_emu/counters", None, "GET")
        paths = c["paths"]
        if self.counters_prev is not None:
            self.per_day_calls.append({p: paths.get(p, 0) -
                                       self.counters_prev.get(p, 0)
                                       for p in ENDPOINTS})
        self.counters_prev = dict(paths)
        self.samples.append({"day": day_of(t, self.start), "t": t,
                             "rss_kb": rss, "fds": fds, "db_bytes": size,
                             "tmp": tmp, "covers": covers, "rows": counts,
                             "states": states,
                             "oldest_run": oldest_run, "last_ok": last_ok})

    # ---- the run -------------------------------------------------------

    def run(self):
        a = self.a
        self.setup()
        span = self.days * DAY
        self.scale = a.scale or max(1, int(span / (a.minutes * 60)))
        real0 = time.time() * 1000
        # Continue the setup clock at SCALE: same simulated instant now.
        st = self.ctl.call("/_emu/clock", None, "GET")
        sim0 = st["now"] * 1000
        self.clock = SimClock(real0, sim0, self.scale)
        self.ctl.call("/_emu/clock", {"clock": self.clock.spec()})
        self.start = self.clock.now()
        self.end = self.start + span
        self.ctl.call("/_emu/counters/reset")
        self.counters_prev = {}
        self.schedule()
        self.notify = NotifyListener(self.m.dir)
        env = {"TIKTOK_MIRROR_TEST_CLOCK": self.clock.spec()}
        self.daemon = Daemon(self.m, env=env, notify=self.notify)
        self.pid0 = self.daemon.pid
        self.cpu = CpuWait(self.daemon.pid, self.clock)
        self.cpu.sample(self.clock.now())
        self.notify.wait("READY", "1", timeout=30)
        self.t_run0 = time.monotonic()
        print("soak: %d accounts, %d simulated days at %dx (%.0f s of wall "
              "time), setup %.1f s, state in %s" % (
                  len(self.accts), self.days, self.scale,
                  span / self.scale, self.setup_secs, self.m.dir),
              flush=True)
        next_sample = self.start + DAY
        next_resolve = self.start + DAY / 4
        last_report = time.monotonic()
        self.crashed = None
        while True:
            now = self.clock.now()
            if now >= self.end:
                break
            if not self.daemon.alive():
                self.crashed = self.daemon.proc.returncode
                break
            self.cpu.sample(now)
            while self.events and self.events[0][0] <= now:
                t, _, name, fn, args = heapq.heappop(self.events)
                n = len(self.expects)
                t0 = self.clock.now()
                fn(t0, *args)
                span = self.clock.now() - t0
                for e in self.expects[n:]:
                    e.world = span
            self.read_log()
            self.poll_watches()
            if now >= next_sample:
                self.sample(now)
                next_sample += DAY
            if now >= next_resolve:
                self.resolve()
                next_resolve += DAY / 4
            if time.monotonic() - last_report > 30:
                last_report = time.monotonic()
                s = self.samples[-1] if self.samples else {}
                print("  day %5.1f: rss %s kB, fds %s, db %.1f MB, %d "
                      "pending, states %s" % (
                          day_of(now, self.start), s.get("rss_kb"),
                          s.get("fds"), s.get("db_bytes", 0) / 1e6,
                          len(self.pending), s.get("states")), flush=True)
            nxt = min(self.events[0][0] if self.events else self.end,
                      next_sample, next_resolve)
            self.clock.sleep_until(nxt, cap=0.02)
        self.t_run = time.monotonic() - self.t_run0
        if self.crashed is None:
            self.finish()
        self.report()

    def finish(self):
        """Quiet world: every account refreshes once more, then the mirror
        is compared with the emulator and the daemon stopped."""
        self.sample(self.clock.now())
        t_q = self.t_quiet
        names = [x.name for x in self.accts]

        def caught_up():
            # A refresh that started after the last change (one in flight
            # then may end after the quiet point without having seen it:
            # on a busy machine refreshes are long in simulated time).
            self.cpu.sample(self.clock.now())
            con = self.ro()
            try:
                rows = self.q(con, "SELECT a.name, a.state, (SELECT "
                              "max(r.started_at) FROM sync_runs r WHERE "
                              "r.account = a.name AND r.outcome = 'ok') "
                              "FROM accounts a")
            finally:
                con.close()
            done = {n: s == "ok" and (st or 0) >= t_q for n, s, st in rows}
            return all(done.get(n) for n in names)

        try:
            wait_until(caught_up, 120, interval=0.1,
                       what="every account refreshed after the quiet point")
        except AssertionError as e:
            self.fail(str(e))
        self.resolve(final=True)
        self.t_final = self.clock.now()
        self.compare()
        self.final_rows = {}
        con = self.ro()
        try:
            for tbl in ("videos", "video_stats", "sync_runs", "changes"):
                self.final_rows[tbl] = self.q(con, "SELECT count(*) FROM %s"
                                              % tbl)[0][0]
            self.oldest_run = self.q(con, "SELECT min(started_at) FROM "
                                     "sync_runs")[0][0]
            self.oldest_change = self.q(
                con, "SELECT min(r.started_at) FROM changes c JOIN sync_runs "
                "r ON r.id = c.run_id")[0][0]
            self.orphan_changes = self.q(
                con, "SELECT count(*) FROM changes WHERE run_id NOT IN "
                "(SELECT id FROM sync_runs)")[0][0]
            lim = int(self.t_final) - 31 * DAY
            self.thin_violations = self.q(
                con, "SELECT count(*) FROM (SELECT account, id, observed_at "
                "/ 86400 AS d FROM video_stats WHERE observed_at < ? GROUP BY "
                "1, 2, 3 HAVING count(*) > 1)", lim)[0][0]
            self.states_final = self.q(con, "SELECT name, state, last_error "
                                       "FROM accounts ORDER BY name")
        finally:
            con.close()
        self.pid_end = self.daemon.pid
        self.alive_end = self.daemon.alive()
        rc, secs = self.daemon.stop(timeout=10)
        self.stop_rc, self.stop_secs = rc, secs
        self.tmp_after = sum(1 for _, _, files in os.walk(self.m.covers)
                             for fn in files if fn.startswith(".tmp-"))
        self.integrity = harness_integrity(self.m.db)

    def compare(self):
        """The mirror against the emulator's truth."""
        mism = []
        retry = 0
        # A cover whose signed URL (6 simulated hours) expired again
        # between video/query and the download, as it does when the
        # machine is busy (350 ms are 6 hours at 62,000x), is fetched at
        # the account's next refresh: not a mismatch when the daemon said
        # so (a 403 for it after the quiet point).
        self.cover_retry = set()
        rx = re.compile(r"^(\S+) warning: ([A-Za-z0-9_-]+): cover (\d+): "
                        r"HTTP 403$")
        for ln in self.daemon.log().split("\n"):
            m = rx.match(ln)
            if m and parse_iso(m.group(1)) >= self.t_quiet:
                self.cover_retry.add((m.group(2), m.group(3)))
        missing_rows = 0
        st = self.ctl.call("/_emu/state", None, "GET")
        con = self.ro()
        con.row_factory = sqlite3.Row
        try:
            for acct in self.accts:
                truth = [v for v in st["users"][acct.name]["videos"]
                         if not v["hidden"]]
                by_id = {v["id"]: v for v in truth}
                keep = truth if acct.quantity == "all" else \
                    truth[:acct.quantity]
                rows = [dict(r) for r in self.q(
                    con, "SELECT * FROM videos WHERE account = ?", acct.name)]
                rid = {r["id"]: r for r in rows}
                listing = [r["id"] for r in sorted(
                    (r for r in rows if r["deleted_at"] is None and
                     r["position"] is not None), key=lambda r: r["position"])]
                if listing != [v["id"] for v in keep]:
                    mism.append("%s: listing differs (%d rows vs %d)" % (
                        acct.name, len(listing), len(keep)))
                for pos, v in enumerate(keep, 1):
                    r = rid.get(v["id"])
                    if r is None:
                        missing_rows += 1
                        continue
                    want = {"title": v["title"],
                            "description": v["video_description"],
                            "duration": v["duration"], "width": v["width"],
                            "height": v["height"],
                            "created_at": v["create_time"],
                            "total_views": v["view_count"],
                            "total_likes": v["like_count"],
                            "total_comments": v["comment_count"],
                            "total_shares": v["share_count"],
                            "share_url": v["share_url"],
                            "embed_link": v["embed_link"],
                            "embed_html": v["embed_html"],
                            "deleted_at": None, "position": pos}
                    for k, x in want.items():
                        if r[k] != x:
                            mism.append("%s/%s: %s is %r, not %r" % (
                                acct.name, v["id"], k, r[k], x))
                    if r["cover"] is None:
                        if (acct.name, v["id"]) in self.cover_retry:
                            retry += 1
                            continue
                        mism.append("%s/%s: no cover" % (acct.name, v["id"]))
                    else:
                        try:
                            sha = self.m.cover_sha(r["cover"])
                        except OSError:
                            sha = None
                        if sha != v["cover_sha256"]:
                            mism.append("%s/%s: cover differs" % (
                                acct.name, v["id"]))
                for r in rows:
                    if r["deleted_at"] is None and r["id"] not in by_id:
                        mism.append("%s/%s: live in the mirror, deleted at "
                                    "TikTok" % (acct.name, r["id"]))
        finally:
            con.close()
        self.mismatches = mism
        self.missing_rows = missing_rows
        self.covers_retry = retry

    # ---- the report ----------------------------------------------------

    def report(self):
        rows = []
        ok_all = True

        def row(name, ok, detail):
            nonlocal ok_all
            if ok is False:
                ok_all = False
            rows.append((name, "PASS" if ok else ("FAIL" if ok is False
                                                   else "info"), detail))

        if self.crashed is not None:
            row("daemon alive", False, "exited %s on day %.1f" % (
                self.crashed, day_of(self.clock.now(), self.start)))
            self.print_table(rows, False)
            return
        # Lags.
        def lag_rows(label, sel, deep=False):
            es = [e for e in self.expects if sel(e)]
            seen = [e for e in es if e.seen is not None]
            bad = [e for e in seen if not e.ok]
            sup = [e for e in es if e.superseded]
            miss = [e for e in es if e.seen is None and not e.superseded]
            if not es:
                row(label, None, "none in this run")
                return
            ok = not bad and not miss
            if deep:
                worst = max((e.okruns for e in seen), default=0)
                bound = max((e.bound for e in seen), default=0)
                detail = ("%d changes; seen after at most %d refreshes "
                          "(rotation bound %d); max lag %s" % (
                              len(es), worst, bound,
                              fmt_dur(max((e.lag for e in seen),
                                          default=None))))
            else:
                by = {}
                for e in seen:
                    by.setdefault(self.cache_of(e.acct), []).append(e)
                parts = []
                for cache in sorted(by):
                    g = by[cache]
                    parts.append("cache %s: max lag %s, max idle %s "
                                 "(%.2f cache)" % (
                                     fmt_dur(cache),
                                     fmt_dur(max(e.lag for e in g)),
                                     fmt_dur(max(e.idle for e in g)),
                                     max(e.idle for e in g) / cache))
                exc = sum(1 for e in seen if e.excused)
                waited = max(e.waited for e in seen) if seen else 0
                detail = "%d changes%s%s; %s%s" % (
                    len(es), (", %d during an outage/auth window (lag from "
                              "its end)" % exc) if exc else "",
                    (", %d undone before any refresh" % len(sup))
                    if sup else "", "; ".join(parts),
                    "; idle excludes at most %s of the daemon awake and the "
                    "world's own latency" % fmt_dur(waited) if waited >= 1
                    else "")
            if bad:
                e = max(bad, key=lambda x: (x.idle or 0) - (x.bound or 0))
                detail += "; %d late, worst %s %s/%s day %.2f idle %s > %s" \
                    % (len(bad), e.kind, e.acct, e.vid,
                       day_of(e.t, self.start), fmt_dur(e.idle),
                       fmt_dur(e.bound) if not e.deep else e.bound)
            if miss:
                e = miss[0]
                detail += "; %d never seen (first: %s %s/%s day %.2f)" % (
                    len(miss), e.kind, e.acct, e.vid,
                    day_of(e.t, self.start))
            row(label, ok, detail)

        row("scenario", None, "%d accounts (%d hourly, %d daily, one of "
            "them %d videos), %d world events, %d control calls" % (
                len(self.accts),
                sum(1 for x in self.accts if x.cache == HOUR),
                sum(1 for x in self.accts if x.cache == DAY),
                len(self.roles["big"].live) if "big" in self.roles else 0,
                self.evseq, self.ctl.calls))
        row("compression", None, "%d sim days in %.0f s wall (%dx; 1 real "
            "ms = %s sim); setup %.0f s; the daemon ran %s and waited %s "
            "for a CPU (time awake, excused from the lags below)" % (
                self.days, self.t_run, self.scale,
                fmt_dur(self.scale / 1000.0), self.setup_secs,
                "%.0f s" % (self.cpu.cpu_ns / 1e9), "%.0f s" % (
                    self.cpu.wait_ns / 1e9)) if self.cpu.available else
            "%d sim days in %.0f s wall (%dx; 1 real ms = %s sim); setup "
            "%.0f s; no /proc/PID/schedstat: lags not corrected for load" % (
                self.days, self.t_run, self.scale,
                fmt_dur(self.scale / 1000.0), self.setup_secs))
        notdeep = lambda e: not e.deep  # noqa: E731
        lag_rows("new videos within 1 cache",
                 lambda e: e.kind == "new")
        lag_rows("count changes (newest 3) within 1 cache",
                 lambda e: e.kind == "counts" and notdeep(e))
        lag_rows("title/description edits within 1 cache",
                 lambda e: e.kind in ("title", "desc") and notdeep(e))
        lag_rows("deletions within 1 cache",
                 lambda e: e.kind == "deleted" and notdeep(e))
        lag_rows("restorations within 1 cache",
                 lambda e: e.kind == "restored")
        lag_rows("deep changes within the rotation",
                 lambda e: e.deep, deep=True)
        # Outage.
        o0, o1 = self.outage
        exc = [e for e in self.expects if e.excused == "video/list outage"]
        st = getattr(self, "outage_stats", None)
        if st is None:
            row("%s video/list outage" % ("week-long" if self.outage_days >= 7
                                          else "%.0f-day" % self.outage_days),
                False, "no report")
        else:
            cu, idle = st["caught_up"], st["idle"]
            row("%s video/list outage" % ("week-long" if self.outage_days >= 7
                                          else "%.0f-day" % self.outage_days),
                len(cu) == len(self.accts) and st["failed"] > 0 and
                max(st["over"].values()) <= 0,
                "days %.1f-%.1f: %d refreshes failed (rows kept, state "
                "error); all %d accounts refreshed again %s-%s after it (%s "
                "at most outside refreshes; retry cap 1 h); %d changes made "
                "during it shown after, lag from its end" % (
                    day_of(o0, self.start), day_of(o1, self.start),
                    st["failed"], len(cu), fmt_dur(min(cu.values(),
                                                       default=None)),
                    fmt_dur(max(cu.values(), default=None)),
                    fmt_dur(max(idle.values(), default=None)), len(exc)))
        # Resources.
        self.resource_rows(row)
        # Warnings.
        self.warning_rows(row)
        # Revocation and lapse.
        self.auth_rows(row)
        # Crashes and rows.
        row("zero crashes", self.pid_end == self.pid0 and self.alive_end and
            self.stop_rc == 0 and self.stop_secs <= 5,
            "pid %d throughout; SIGTERM: exit %d in %.2f s" % (
                self.pid0, self.stop_rc, self.stop_secs))
        finals = set()
        con = sqlite3.connect("file:%s?mode=ro" % self.m.db, uri=True)
        try:
            for acc, vid in con.execute("SELECT account, id FROM videos"):
                finals.add((acc, vid))
        finally:
            con.close()
        lost = self.ever - finals
        row("zero lost or blanked rows", not lost and not self.blanked,
            "%d rows ever mirrored, %d missing at the end, %d blank "
            "title/description seen" % (len(self.ever), len(lost),
                                         len(self.blanked)))
        row("mirror matches the emulator", not self.mismatches and
            not self.missing_rows,
            "every live listed row: fields, position, cover bytes; %d "
            "mismatches%s%s" % (len(self.mismatches) + self.missing_rows,
                                (" (first: %s)" % self.mismatches[0])
                                if self.mismatches else "",
                                "; %d covers for the next refresh (URL "
                                "expired twice in the last one)" %
                                self.covers_retry
                                if self.covers_retry else ""))
        row("PRAGMA integrity_check", self.integrity == "ok", self.integrity)
        self.calls_rows(row)
        self.print_table(rows, ok_all)

    def window(self, key, lo, hi, how="max"):
        vals = sorted(s[key] for s in self.samples
                      if lo <= s["day"] <= hi and s[key] is not None)
        if not vals:
            return None
        if how == "min":
            return vals[0]
        return vals[-1] if how == "max" else vals[len(vals) // 2]

    def resource_rows(self, row):
        d = self.days
        if d >= 60:
            base = (10, 30)
            endw = (d - 30, d + 1)
        else:
            base = (d / 6.0, d / 3.0)
            endw = (d - d / 6.0, d + 1)
        # RSS: the peaks compared; fds: the fewest open at a daily sample
        # (a leak raises the floor; connections and cover files of the
        # transfers in flight come and go, and more of them overlap when
        # the machine is busy), peaks reported.
        for key, label, unit, how in (
                ("rss_kb", "RSS flat after warm-up", " kB", "max"),
                ("fds", "open fds flat after warm-up", "", "min")):
            b = self.window(key, *base, how=how)
            e = self.window(key, *endw, how=how)
            if b is None or e is None:
                row(label, False, "no samples")
                continue
            growth = (e - b) / float(b)
            verdict = growth <= 0.10
            if key == "fds":
                # A leak grows without bound; libcurl's cache of idle
                # connections is bounded (concurrency + 4, lib/http.c
                # HTTP_SPARE_CONNS) and fills further when transfers
                # overlap more, as they do on a busy machine.
                verdict = verdict or e - b <= CONNS_CACHED
            if key == "rss_kb" and self.asan:
                verdict = None      # ASan's quarantine fills as it goes
            row(label, verdict,
                "%s %s%s on days %.0f-%.0f, %s%s on days %.0f-%.0f: %+.1f%% "
                "(limit +10%%%s)%s" % (
                    how, b, unit, base[0], base[1], e, unit, endw[0],
                    min(endw[1], d), 100 * growth,
                    " or the %d idle connections libcurl may keep"
                    % CONNS_CACHED if key == "fds" else "",
                    "; peaks %s and %s" % (
                        self.window(key, *base), self.window(key, *endw))
                    if how != "max" else "") +
                ("; not judged: an AddressSanitizer build, whose quarantine "
                 "holds freed memory" if verdict is None else ""))
        # Database size: after warm-up the file grows only with rows the
        # retention keeps (videos, their daily stats points, and runs and
        # changes until they are 90 days old); once the 90 days are full
        # (long runs) only with videos and daily points.
        warm = 30 if d >= 60 else d / 3.0
        tables = ("videos", "video_stats", "sync_runs", "changes")

        def growth(lo):
            pts = [x for x in self.samples if x["day"] >= lo]
            if len(pts) < 2:
                return None
            s0, s1 = pts[0], pts[-1]
            dd = s1["day"] - s0["day"]
            db = s1["db_bytes"] - s0["db_bytes"]
            dr = sum(s1["rows"][t] - s0["rows"][t] for t in tables)
            return db / dd, db / float(dr) if dr > 0 else 0.0, \
                {t: (s1["rows"][t] - s0["rows"][t]) / dd for t in tables}

        g = growth(warm) or (0.0, 0.0, {})
        steady = growth(95) if d >= 150 else None
        fr = self.final_rows
        runs_ok = self.oldest_run is None or \
            self.oldest_run >= self.t_final - 91 * DAY
        ch_ok = (self.oldest_change is None or
                 self.oldest_change >= self.t_final - 91 * DAY) and \
            self.orphan_changes == 0
        detail = ("%.1f MB at the end; after day %.0f %+.0f kB/sim-day "
                  "(%.0f bytes per row kept)" % (
                      self.samples[-1]["db_bytes"] / 1e6, warm, g[0] / 1e3,
                      g[1]))
        if steady is not None:
            detail += ", after day 95 (runs and changes at their 90 days) " \
                "%+.0f kB/sim-day for %.0f video_stats + %.0f video rows/day" \
                % (steady[0] / 1e3, steady[2]["video_stats"],
                   steady[2]["videos"])
        # Retention held all along: the daemon's pass runs just after the
        # first successful refresh of each UTC day, so at every daily
        # sample no run (nor its changes) was older than 90 days before
        # the start of the day before the latest success (the sample may
        # fall between that success and its pass). Not "the row count
        # stays flat": how many refreshes a simulated day holds depends on
        # how busy the machine is; nor "90 days before now": nothing
        # succeeds during the outage, so nothing is thinned either.
        old = [x for x in self.samples if x.get("oldest_run") is not None
               and x.get("last_ok") is not None and x["oldest_run"] <
               (x["last_ok"] // DAY - 1) * DAY - 90 * DAY]
        runs_flat = not old
        detail += "; sync_runs %d rows (oldest %.0f d), changes %d (oldest " \
            "%s d), video_stats %d (%d video-days older than 31 d with more " \
            "than one point)" % (
                fr["sync_runs"], (self.t_final - self.oldest_run) / DAY
                if self.oldest_run else 0, fr["changes"],
                "%.0f" % ((self.t_final - self.oldest_change) / DAY)
                if self.oldest_change else "-", fr["video_stats"],
                self.thin_violations)
        if old:
            detail += "; runs past the retention at %d daily samples " \
                "(first day %.0f)" % (len(old), old[0]["day"])
        row("database bounded by retention",
            runs_ok and ch_ok and runs_flat and self.thin_violations == 0 and
            g[1] <= 2048 and (steady is None or steady[1] <= 2048), detail)
        tmax = max(s["tmp"] for s in self.samples)
        row("no temp files accumulating", not self.tmp_stale and
            self.tmp_after == 0,
            "covers/.tmp-*: at most %d at a daily sample (downloads in "
            "flight), %d outlived their refresh, %d after SIGTERM; %d "
            "cover files for %d rows" % (
                tmax, len(self.tmp_stale), self.tmp_after,
                self.samples[-1]["covers"], self.final_rows["videos"]))

    def warning_rows(self, row):
        # Log: each expiring grant warns once per threshold, in time.
        # A threshold crossed during the run warns when crossed; of those
        # already crossed when the grant comes into use, only the most
        # urgent one warns (then).
        exp_log = []
        for acct in self.accts:
            for gi, (issued, e) in enumerate(acct.grants):
                t_use = max(issued, self.start)
                t_end = acct.grants[gi + 1][0] \
                    if gi + 1 < len(acct.grants) else self.end
                for th in (30, 7, 1):
                    t = e - th * DAY
                    if t >= min(t_end, self.end - acct.cache * 1.1) or \
                            e <= t_use:
                        continue
                    if t < t_use:
                        smaller = [x for x in (1, 7) if x < th]
                        if any(e - x * DAY <= t_use for x in smaller):
                            continue
                    # Only a refresh can warn: one must have started
                    # while this threshold was the most urgent (a day for
                    # the last one, as long as a daily account's cache:
                    # on a busy machine its refreshes may skip it).
                    nxt = {30: 7, 7: 1, 1: 0}[th]
                    if not self.refreshed_in(acct.name, max(t, t_use),
                                             min(e - nxt * DAY, t_end)):
                        continue
                    exp_log.append((acct, e, th, max(t, t_use)))
        bad = []
        worst = None
        for acct, e, th, t in exp_log:
            hits = [w for w in self.warn_log if w["acct"] == acct.name and
                    abs(w["expiry"] - e) < EXPIRY_SLACK and w["th"] == th]
            if len(hits) != 1 or "idle" not in hits[0] or \
                    hits[0]["idle"] > hits[0]["bound"]:
                bad.append("%s %dd: %s" % (acct.name, th, [
                    (round(day_of(h["t"], self.start), 2), h["amount"],
                     h["unit"], fmt_dur(h.get("idle"))) for h in hits]))
            elif worst is None or hits[0]["idle"] / acct.cache > worst[0]:
                worst = (hits[0]["idle"] / acct.cache, acct.name, th)
        ths = sorted(set(th for _, _, th, _ in exp_log))
        row("refresh-token warnings in the log", not bad,
            "%d expected (thresholds %s d, %d grants), %d lines; %s" % (
                len(exp_log), "/".join(str(x) for x in reversed(ths)),
                len(set((a.name, e) for a, e, _, _ in exp_log)),
                len(self.warn_log), ("each once, at most %.2f cache after "
                                     "the threshold (%s %dd; time in "
                                     "refreshes excluded)" % worst)
                if not bad and worst else "wrong: " + "; ".join(bad[:3])))
        pbad = []
        for p in self.probes:
            if p.get("skipped"):
                continue
            want = p["th"] != 31
            ok = want == (p["warning"] is not None) and \
                p["metric"] == (1 if want else 0)
            if ok and want:
                ok = "auth %s" % p["acct"] in p["warning"]
                m = re.search(r"expires in (\d+) (day|hour)", p["warning"])
                left = p["expiry"] - p["t"]
                if m is None:
                    ok = False
                elif m.group(2) == "hour":
                    ok = ok and left < DAY + HOUR and \
                        abs(int(m.group(1)) * HOUR - left) <= 2 * HOUR
                else:
                    ok = ok and abs(int(m.group(1)) * DAY - left) <= DAY
            if not ok:
                pbad.append("%s %dd: %r metric %r" % (
                    p["acct"], p["th"], p["warning"], p["metric"]))
        shown = sorted(set(p["th"] for p in self.probes if p["th"] != 31),
                       reverse=True)
        skipped = sum(1 for p in self.probes if p.get("skipped"))
        row("warnings in status --json and metrics", not pbad and
            bool(self.probes),
            "%d probes of status --json and the metric (%s d before expiry: "
            "warned; 31 d: not)%s; %s" % (
                len(self.probes) - skipped,
                "/".join(str(x) for x in shown),
                (", %d skipped (the world was late)" % skipped)
                if skipped else "",
                "all right" if not pbad else "wrong: " + "; ".join(pbad[:3])))

    @staticmethod
    def log_threshold(w):
        """The threshold a log warning belongs to: the daemon warns at
        the smallest of 1, 7, 30 days that the time left is within."""
        left = w["expiry"] - w["t"]
        if left <= DAY:
            return 1
        if left <= 7 * DAY:
            return 7
        return 30

    def auth_rows(self, row):
        r = getattr(self, "revoke", None)
        if r is not None:
            row("revoked account isolated, recovered", *self.revoke_verdict(r))
        lp = getattr(self, "lapse", None)
        if lp is not None:
            sb = lp.get("state_before")
            ok = sb is not None and sb[0] == "needs_auth" and "ok_at" in lp
            if ok:
                ok = lp["ok_at"] - lp["auth_written"] <= self.resume_bound(
                    self.roles["lapse"], lp["auth_written"], lp["ok_at"])
            row("expired refresh token (not renewed)", ok,
                "expired day %.1f: %s (%s); auth day %.1f, ok %s after the "
                "grant was written" % (
                    day_of(lp["expiry"], self.start),
                    sb[0] if sb else "?", (sb[1] or "")[:70] if sb else "",
                    day_of(lp["auth_at"], self.start),
                    fmt_dur(max(0, lp["ok_at"] - lp["auth_written"]))
                    if "ok_at" in lp else "never"))
        rn = getattr(self, "renewed", None)
        if "renew" in self.roles:
            acct = self.roles["renew"]
            row_ = self.states_final_map().get("renew")
            con = self.ro()
            try:
                na = self.q(con, "SELECT count(*) FROM sync_runs WHERE "
                            "account = 'renew' AND outcome = 'needs_auth'")[0][0]
                rexp = self.q(con, "SELECT refresh_expires_at FROM accounts "
                              "WHERE name = 'renew'")[0][0]
            finally:
                con.close()
            ok = rn is not None and na == 0 and rexp is not None and \
                abs(rexp - rn["new_expiry"]) < EXPIRY_SLACK
            row("account re-authorized when warned", ok,
                "7-day warning day %s, auth then; expiry %s -> %s (mirror: "
                "%s); %d needs_auth refreshes" % (
                    "%.1f" % day_of(rn["warned_at"], self.start) if rn
                    else "-",
                    iso(rn["old_expiry"]) if rn else "-",
                    iso(rn["new_expiry"]) if rn else "-",
                    iso(rexp) if rexp else "-", na))

    def revoke_verdict(self, r):
        """The revoked account's row: (passed, detail). What failed is
        named in the detail, each condition with its measured value."""
        acct = self.roles["revoked"]
        bad = []
        detail = "revoked day %.1f" % day_of(r["t"], self.start)
        if "needs_auth_at" not in r:
            bad.append("never needs_auth")
        else:
            late = r["needs_auth_at"] - r["t"]
            detail += "; needs_auth %s later" % fmt_dur(late)
            bound = self.resume_bound(acct, r["t"], r["needs_auth_at"])
            if late > bound:
                bad.append("needs_auth %s after the revocation > %s" % (
                    fmt_dur(late), fmt_dur(bound)))
            # Counted after the account is ok again (up to then and the
            # time the daemon was awake meanwhile).
            if "others" in r:
                others, need = r["others"], len(self.accts) - 3
                detail += "; %d/%d other accounts refreshed meanwhile%s" % (
                    others, len(self.accts) - 1,
                    " (and %s the daemon was awake)" % fmt_dur(
                        r["others_waited"])
                    if r.get("others_waited", 0) >= 1 else "")
                if others < need:
                    bad.append("%d other accounts refreshed while it was "
                               "stuck < %d" % (others, need))
            elif "ok_at" in r:
                bad.append("the other accounts' refreshes never counted")
        if "auth_at" in r:
            detail += "; auth on day %.1f" % day_of(r["auth_at"], self.start)
            if not r.get("auth_ok"):
                bad.append("auth failed")
            if not r.get("same_pid"):
                bad.append("the daemon's pid changed")
        elif "needs_auth_at" in r:
            bad.append("auth never ran")
        if "ok_at" in r:
            after = r["ok_at"] - r["auth_written"]
            detail += ", ok again %s after the grant was written, %s" % (
                fmt_dur(max(0, after)),
                "same pid" if r.get("same_pid") else "pid changed")
            bound = self.resume_bound(acct, r["auth_written"], r["ok_at"])
            # The grant cannot be used before `auth` began (the refresh
            # may end a moment before the soak reads the clock after it).
            if r["ok_at"] < r["auth_at"]:
                bad.append("ok again at %s, %s before auth began" % (
                    iso(r["ok_at"]), fmt_dur(r["auth_at"] - r["ok_at"])))
            elif after > bound:
                bad.append("ok again %s after the grant was written > %s"
                           % (fmt_dur(after), fmt_dur(bound)))
        elif "auth_at" in r:
            bad.append("never ok again after auth")
        if bad:
            detail += "; FAILED: " + "; ".join(bad)
        return not bad, detail

    def resume_bound(self, acct, t0, t1):
        """A renewed grant is noticed SECRETS_SETTLE_MS (real) after the
        write and refreshed at once; a revoked one at the next refresh.
        The time the daemon was awake in [t0, t1] is excused."""
        return acct.cache * 1.05 + self.settle() + 2 * self.slack() + \
            self.cpu.sim(t0, t1)

    def states_final_map(self):
        return {n: (s, e) for n, s, e in getattr(self, "states_final", [])}

    def calls_rows(self, row):
        budget = RATE_LIMIT * 1440
        c = self.ctl.call("/_emu/counters", None, "GET")
        peak = c.get("window_peak", {})
        parts = []
        ok = True
        days = self.per_day_calls or [{}]
        for p in ENDPOINTS:
            per = [x.get(p, 0) for x in days]
            total = c["paths"].get(p, 0)
            mx = max(per)
            if p != "/cdn/" and mx > budget:
                ok = False
            parts.append("%s %d/day avg, %d max%s" % (
                p.strip("/").replace("v2/", ""),
                total / max(1, self.days), mx,
                (", %d/sim-min peak" % peak[p]) if p in peak else ""))
        row("API calls per sim day within the rate budget", ok,
            "budget %d/day/endpoint (600/min); %s; 429s served %d" % (
                budget, "; ".join(parts), c["status"].get("429", 0)))

    def print_table(self, rows, ok_all):
        w = max(len(r[0]) for r in rows)
        lines = ["tiktok-mirror soak: %d simulated days, %s" % (
            self.days, "PASS" if ok_all and not self.failures else "FAIL"),
            "%-*s  %-6s %s" % (w, "check", "result", "detail"),
            "%s  %s %s" % ("-" * w, "-" * 6, "-" * 40)]
        # What failed comes last, where the eye lands after a run.
        for name, res, detail in sorted(rows, key=lambda r: r[1] == "FAIL"):
            lines.append("%-*s  %-6s %s" % (w, name, res, detail))
        for f in self.failures:
            lines.append("FAIL: %s" % f)
        text = "\n".join(lines)
        print(text, flush=True)
        self.ok = ok_all and not self.failures
        out = self.a.out
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "soak-%d.txt" % self.days), "w") as f:
            f.write(text + "\n")
        with open(os.path.join(out, "soak-%d.json" % self.days), "w") as f:
            json.dump({"ok": self.ok, "days": self.days, "rows": rows,
                       "failures": self.failures, "samples": self.samples,
                       "per_day_calls": self.per_day_calls,
                       "warn_log": self.warn_log, "probes": self.probes,
                       "faults": self.fault_log,
                       "late": [d for k, d in self.diag.items()
                                if any(e.acct == k[0] and e.vid == k[1] and
                                       e.kind == k[2] and e.t == k[3] and
                                       not e.superseded and
                                       (e.seen is None or not e.ok)
                                       for e in self.by_video.get(
                                           (k[0], k[1]), ()))],
                       "outage": getattr(self, "outage_stats", None),
                       "revoke": getattr(self, "revoke", None),
                       "lapse": getattr(self, "lapse", None),
                       "renewed": getattr(self, "renewed", None),
                       "auths": self.auths}, f, indent=1, default=str)

    def cleanup(self):
        if self.daemon is not None:
            self.daemon.kill()
        if self.notify is not None:
            self.notify.close()
        if getattr(self, "ctl", None) is not None:
            self.ctl.close()
        if self.emu is not None:
            self.emu.stop()
        m = getattr(self, "m", None)
        if m is not None:
            if getattr(self, "ok", False) and not self.a.keep:
                m.cleanup()
            else:
                keep = os.path.join(self.a.out, "soak-%d-state" % self.days)
                if os.path.abspath(m.dir) != os.path.abspath(keep):
                    shutil.rmtree(keep, ignore_errors=True)
                    try:
                        shutil.copytree(m.dir, keep, symlinks=True,
                                        ignore=shutil.ignore_patterns(
                                            "*.sock"))
                    except (OSError, shutil.Error):
                        pass
                    m.cleanup()
                print("soak: state kept in %s" % keep)


def harness_integrity(db):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--minutes", type=float, default=None,
                    help="wall time for the simulated days (default: 8.5 "
                    "for a year, 0.06 per day otherwise)")
    ap.add_argument("--scale", type=int, default=None,
                    help="compression factor (default from --minutes)")
    ap.add_argument("--accounts", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dir", help="state folder (default: a fresh folder "
                    "in /dev/shm, removed after a pass)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the state folder after a pass")
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "soak"))
    args = ap.parse_args(argv)
    if args.minutes is None:
        args.minutes = 8.5 if args.days >= 365 else max(0.5, args.days * 0.06)
    if args.accounts < 8:
        ap.error("--accounts must be at least 8")
    s = Soak(args)

    def on_term(signum, frame):
        raise SystemExit("soak: stopped by signal %d" % signum)

    # SIGTERM (timeout, a test runner) cleans up as an exception does.
    signal.signal(signal.SIGTERM, on_term)
    try:
        s.run()
    finally:
        s.cleanup()
    return 0 if getattr(s, "ok", False) else 1


if __name__ == "__main__":
    sys.exit(main())
