#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""The 30-day version of the time-compressed soak (tests/soak/soak.py,
`make soak` runs the 365-day one): the real daemon against the emulator
for 30 simulated days in under two minutes, the same scenario and checks.
The table goes to stdout and build/soak/soak-30.txt."""
import argparse
import contextlib
import io
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOAK = os.path.join(os.path.dirname(HERE), "soak", "soak.py")
sys.path.insert(0, os.path.dirname(SOAK))

import soak  # noqa: E402


class SoakTest(unittest.TestCase):
    @unittest.skipIf(os.environ.get("TM_VALGRIND") == "1",
                     "a time-compressed run cannot go at memcheck's pace")
    def test_30_days(self):
        p = subprocess.Popen([sys.executable, SOAK, "--days", "30"],
                             stdin=subprocess.DEVNULL)
        try:
            rc = p.wait(600)
        except subprocess.TimeoutExpired:
            p.terminate()           # the soak cleans up on SIGTERM
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            self.fail("the 30-day soak took more than 10 minutes")
        self.assertEqual(rc, 0, "the 30-day soak failed (table above; "
                         "state kept under build/soak/)")


class FakeClock:
    scale = 1000            # 1 real ms = 1 simulated s


def fake_soak(runs, waits):
    """A Soak with just what the lag accounting reads: sync_runs rows
    (account 'a', cache 1 h) and a CpuWait series [(sim t, wait ns)]."""
    s = soak.Soak.__new__(soak.Soak)
    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE sync_runs (account TEXT, started_at INTEGER,"
                " finished_at INTEGER, outcome TEXT)")
    con.executemany("INSERT INTO sync_runs VALUES ('a', ?, ?, ?)", runs)
    s.con = con
    s.cpu = soak.CpuWait(0, FakeClock())
    for t, ns in waits:
        s.cpu.ts.append(t)
        s.cpu.ns.append(ns)
    s.clock = FakeClock()
    s.by_name = {"a": soak.Account(0, "a", soak.HOUR, 20, "hourly")}
    return s


class SoakAccountingTest(unittest.TestCase):
    """How the soak keeps a busy machine out of its verdict: the daemon's
    waits for a CPU (schedstat), in simulated time, are excused from the
    idle time between refreshes, and only there."""

    def test_waits_inside_refreshes_are_not_excused_twice(self):
        # Refresh 1000-1100; the daemon waits 50 ms (50 sim s) before
        # it, 200 ms inside it, 30 ms after it.
        s = fake_soak([(1000, 1100, "ok")],
                      [(0, 0), (1000, 50e6), (1100, 250e6), (2000, 280e6)])
        inflight, failed, okruns, waited = s.inflight(s.con, "a", 0, 2000)
        self.assertEqual((inflight, failed, okruns), (100.0, 0, 1))
        self.assertAlmostEqual(waited, 80.0)
        # Half of a stretch: the series is linear in between.
        self.assertAlmostEqual(s.cpu.sim(1100, 1550), 15.0)

    def test_a_wait_that_ends_when_the_refresh_starts_is_excused(self):
        # Idle 0-1000, the refresh 1000-1100. The daemon's timer fired at
        # 400 and it waited 600 ms (600 sim s) for a CPU: the kernel adds
        # the wait when the daemon runs again, at 1000, and the world's
        # loop samples the counter at 990 and 1010.
        s = fake_soak([(1000, 1100, "ok")],
                      [(0, 0), (990, 0), (1010, 600e6), (1100, 600e6)])
        inflight, failed, okruns, waited = s.inflight(s.con, "a", 0, 1100)
        self.assertEqual((inflight, okruns), (100.0, 1))
        self.assertAlmostEqual(waited, 600.0)
        # Where no refresh starts, the counter is interpolated as before.
        self.assertAlmostEqual(s.cpu.sim(0, 1000), 300.0)

    def test_a_late_refresh_passes_only_by_the_measured_wait(self):
        cache = soak.HOUR
        bound = cache + min(cache / 20.0, 60.0) + \
            soak.SLACK_REAL_MS / 1000.0 * FakeClock.scale
        late = bound + 500          # 500 simulated s past the bound
        for wait_ms, ok in ((600, True), (400, False), (0, False)):
            s = fake_soak([(late, late + 10, "ok")],
                          [(0, 0), (late, wait_ms * 1e6),
                           (late + 10, wait_ms * 1e6)])
            e = soak.Expect("counts", "a", "v", 0, 1)
            e.seen = late + 10
            e.t_eff = 0
            s.measure(s.con, e)
            self.assertEqual(e.ok, ok, "waited %d ms" % wait_ms)
            self.assertAlmostEqual(e.waited, wait_ms)

    def test_the_world_s_own_latency_is_excused(self):
        s = fake_soak([(4000, 4010, "ok")], [(0, 0), (5000, 0)])
        e = soak.Expect("new", "a", "v", 0)
        e.seen, e.t_eff = 4010, 0
        s.measure(s.con, e)
        self.assertFalse(e.ok)
        e.world = 400               # the control call took 400 ms
        s.measure(s.con, e)
        self.assertTrue(e.ok)

    def test_schedstat_is_read(self):
        w = soak.CpuWait(os.getpid(), FakeClock())
        w.sample(1.0)
        if not w.available:
            self.skipTest("no /proc/PID/schedstat in this kernel")
        sum(range(10 ** 6))
        w.sample(2.0)
        self.assertEqual(len(w.ts), 2)
        self.assertGreater(w.cpu_ns, 0)
        self.assertGreaterEqual(w.ns[1], w.ns[0])

    def test_a_warning_no_refresh_could_log_is_not_expected(self):
        # A daily account whose grant expires at day 40: its last
        # refreshes came 1.2 days apart around the expiry (a busy machine)
        # and none started in the final day, so no 1-day warning can be
        # asked of it; its 30- and 7-day warnings were logged in time.
        day = soak.DAY
        s = fake_soak([], [(0, 0)])
        s.start, s.end = 0.0, 60 * day
        a = soak.Account(0, "d", day, 20, "daily")
        a.grants = [(0, 40 * day)]
        s.accts = [a]
        s.warn_log = [{"acct": "d", "expiry": 40 * day, "th": th,
                       "t": (40 - th + 0.5) * day, "idle": 3600.0,
                       "bound": day, "amount": th - 1, "unit": "days"}
                      for th in (30, 7)]
        s.probes = []
        s.run_starts = {"d": [k * day for k in range(1, 33)] +
                        [33.4 * day, 34.6 * day, 35.8 * day, 37 * day,
                         38.2 * day, 40.3 * day]}
        rows = []
        s.warning_rows(lambda n, ok, d: rows.append((n, ok, d)))
        self.assertTrue(rows[0][1], rows[0][2])
        self.assertIn("2 expected", rows[0][2])
        # One refresh in the last day: the 1-day warning is owed.
        s.run_starts["d"].insert(-1, 39.4 * day)
        rows = []
        s.warning_rows(lambda n, ok, d: rows.append((n, ok, d)))
        self.assertFalse(rows[0][1])
        self.assertIn("d 1d", rows[0][2])

    def test_failed_rows_come_last(self):
        s = soak.Soak.__new__(soak.Soak)
        s.days, s.failures = 30, []
        s.samples = s.per_day_calls = s.warn_log = s.probes = []
        s.fault_log, s.auths, s.diag, s.by_video = [], [], {}, {}
        out = tempfile.mkdtemp(prefix="soak-table-")
        s.a = argparse.Namespace(out=out)
        rows = [("scenario", "info", "x"), ("lags", "FAIL", "late"),
                ("rss", "PASS", "flat"), ("fds", "FAIL", "grew")]
        buf = io.StringIO()
        try:
            with contextlib.redirect_stdout(buf):
                s.print_table(rows, False)
        finally:
            shutil.rmtree(out)
        lines = buf.getvalue().splitlines()
        self.assertIn("FAIL", lines[0])
        self.assertEqual([ln.split()[0] for ln in lines[3:]],
                         ["scenario", "rss", "lags", "fds"])


class SoakRevokeTest(unittest.TestCase):
    """The revoked account's row: when the account is ok again is the
    end of the refresh that made it so, read from what the daemon wrote,
    and a failed row names what failed."""

    def setUp(self):
        fd, self.db = tempfile.mkstemp(prefix="soak-watch-", suffix=".db")
        os.close(fd)
        self.addCleanup(os.unlink, self.db)
        con = sqlite3.connect(self.db)
        con.execute("CREATE TABLE accounts (name TEXT, state TEXT)")
        con.execute("CREATE TABLE sync_runs (id INTEGER PRIMARY KEY, "
                    "account TEXT, started_at INTEGER, finished_at INTEGER,"
                    " outcome TEXT)")
        con.execute("INSERT INTO accounts VALUES ('revoked', 'needs_auth')")
        con.executemany("INSERT INTO sync_runs (account, started_at, "
                        "finished_at, outcome) VALUES ('revoked', ?, ?, ?)",
                        [(1000, 1100, "ok"), (4600, 4700, "needs_auth")])
        con.commit()
        con.close()
        self.s = s = soak.Soak.__new__(soak.Soak)
        s.ro = lambda: sqlite3.connect(self.db)
        s.q = lambda con, sql, *args: con.execute(sql, args).fetchall()
        s.state_watch = {}
        s.clock = FakeClock()
        s.clock.now = lambda: 99999

    def sql(self, stmt, *args):
        con = sqlite3.connect(self.db)
        con.execute(stmt, args)
        con.commit()
        con.close()

    def test_ok_is_when_the_recovering_refresh_closed_its_run(self):
        seen = []
        self.s.watch_state("revoked", "ok", lambda t, n: seen.append(t))
        self.s.poll_watches()
        self.assertEqual(seen, [])
        # The daemon has applied the refresh (state ok) and not yet
        # closed its sync_runs row: the latest closed run is the one
        # that failed, and the ok run before it is not this recovery.
        self.sql("INSERT INTO sync_runs (account, started_at) VALUES "
                 "('revoked', 90000)")
        self.sql("UPDATE accounts SET state = 'ok'")
        self.s.poll_watches()
        self.assertEqual(seen, [])
        self.sql("UPDATE sync_runs SET finished_at = 90072, outcome = 'ok' "
                 "WHERE started_at = 90000")
        self.s.poll_watches()
        self.assertEqual(seen, [90072])
        self.assertEqual(self.s.state_watch, {})

    def test_needs_auth_waits_for_the_failed_run_to_close(self):
        self.sql("DELETE FROM sync_runs WHERE outcome = 'needs_auth'")
        self.sql("UPDATE accounts SET state = 'needs_auth'")
        self.sql("INSERT INTO sync_runs (account, started_at) VALUES "
                 "('revoked', 4600)")
        seen = []
        self.s.watch_state("revoked", "needs_auth",
                           lambda t, n: seen.append(t))
        self.s.poll_watches()
        self.assertEqual(seen, [])
        self.sql("UPDATE sync_runs SET finished_at = 4650, outcome = "
                 "'needs_auth' WHERE finished_at IS NULL")
        self.s.poll_watches()
        self.assertEqual(seen, [4650])

    def verdict(self, **kw):
        s = self.s
        s.start = 0
        s.roles = {"revoked": soak.Account(2, "revoked", soak.HOUR, 20,
                                           "revoked")}
        s.accts = [s.roles["revoked"]] * 50
        s.cpu = soak.CpuWait(0, FakeClock())
        s.cpu.ts, s.cpu.ns = [0, 40 * soak.DAY], [0, 0]
        s.clock = FakeClock()
        d = soak.DAY
        r = {"t": 9 * d, "acct": "revoked", "needs_auth_at": 9 * d + 2940,
             "auth_at": 10 * d, "auth_written": 10 * d + 1130,
             "auth_ok": True, "same_pid": True, "others": 49,
             "ok_at": 10 * d + 4409}
        r.update(kw)
        return s.revoke_verdict({k: v for k, v in r.items()
                                 if v is not None})

    def test_a_recovery_passes(self):
        ok, detail = self.verdict()
        self.assertTrue(ok, detail)
        self.assertNotIn("FAILED", detail)

    def test_each_failed_condition_is_named(self):
        d = soak.DAY
        for kw, named in (
                # What the soak measured when it took an older run's time.
                ({"ok_at": 9 * d - 686, "others": 0},
                 ["0 other accounts refreshed while it was stuck < 47",
                  "before auth began"]),
                ({"ok_at": 10 * d + 1130 + 3 * soak.HOUR},
                 ["ok again 3.0 h after the grant was written >"]),
                ({"needs_auth_at": 9 * d + 2 * soak.HOUR},
                 ["needs_auth 2.0 h after the revocation >"]),
                ({"same_pid": False}, ["the daemon's pid changed"]),
                ({"auth_ok": False}, ["auth failed"]),
                ({"others": None},
                 ["the other accounts' refreshes never counted"])):
            ok, detail = self.verdict(**kw)
            self.assertFalse(ok, kw)
            for n in named:
                self.assertIn(n, detail.split("FAILED: ")[1])
        s = self.s
        ok, detail = s.revoke_verdict({"t": 9 * d, "acct": "revoked",
                                       "needs_auth_at": 9 * d + 60,
                                       "auth_at": 10 * d,
                                       "auth_written": 10 * d + 5,
                                       "auth_ok": True, "same_pid": True})
        self.assertFalse(ok)
        self.assertIn("never ok again after auth", detail)


if __name__ == "__main__":
    unittest.main(verbosity=2)
