#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""End to end: every network fault of the emulator against `sync`
(issue 5, item 1).

One account per fault case, all refreshed by the same `sync` run, each
with its own fault rules (rules match by user), so the whole matrix costs
one run's worth of retries. The truth changes before the faulted run
(a changed video, a new one, a deleted one), so:

- an account whose fault persists (times -1) fails after 4 attempts with
  backoff: it keeps exactly the rows it had (snapshot before == after),
  gets state 'error' and a last_error that names what went wrong, and its
  last_success_at does not move;
- an account whose fault clears in time (times 1 or 2) absorbs it: the
  sync succeeds and mirrors the new truth;
- once every fault is cleared, one more sync converges every account to
  the exact truth.

Connection refused and a server that never finishes the TLS handshake
(a connect timeout) need their own api_url: they run at the same time on
copies of the mirror. $TIKTOK_MIRROR_TEST_TIMEOUT_MS shortens every
transfer's time limits so timeouts take seconds.
"""
import os
import shutil
import socket
import threading
import time
import unittest

import harness
from harness import Emulator, Mirror
from checks import (assert_mirrors, auth_all, finish, gaps, popen_sync,
                    snapshot)

# Short enough that a hang costs seconds, long enough for a cover of the
# fault-free sync on a loaded machine under ASan; under memcheck a TLS
# handshake alone can take seconds.
TIMEOUT_MS = 15000 if os.environ.get("TM_VALGRIND") == "1" else 6000
ENV = {"TIKTOK_MIRROR_TEST_TIMEOUT_MS": str(TIMEOUT_MS)}
LIST = "/v2/video/list/"
USER = "/v2/user/info/"
TOKEN = "/v2/oauth/token/"
FOREVER = -1

# name: (fault rules, None when the sync absorbs them, else words that
# last_error must hold). Words are matched case-insensitively.
FAIL = {
    "s429ra": ([{"path": LIST, "kind": "status", "status": 429,
                 "retry_after": 2, "times": FOREVER}],
               ["429", "rate_limit_exceeded", "after 4 attempts"]),
    # A 429 without Retry-After waits TikTok's one-minute window out, for
    # every account: test_rate_window.py covers it on a compressed clock.
    "s500": ([{"path": USER, "kind": "status", "status": 500,
               "times": FOREVER}],
             ["user/info", "500", "internal_error", "after 4 attempts"]),
    "s503": ([{"path": LIST, "kind": "status", "status": 503, "after": 1,
               "times": FOREVER}], ["video/list", "503"]),
    "hang": ([{"path": LIST, "kind": "hang", "times": FOREVER}],
             ["video/list", "timed out", "after 4 attempts"]),
    "drip": ([{"path": LIST, "kind": "drip", "bytes_per_sec": 20,
               "times": FOREVER}], ["video/list", "timed out"]),
    "truncate": ([{"path": LIST, "kind": "truncate", "times": FOREVER}],
                 ["video/list", "curl error 18"]),
    "drop": ([{"path": USER, "kind": "drop", "times": FOREVER}],
             ["user/info", "curl error 5", "after 4 attempts"]),
    "internal": ([{"path": LIST, "kind": "internal_error",
                   "times": FOREVER}], ["internal_error", "500"]),
    "cursor": ([{"path": LIST, "kind": "cursor_stuck", "after": 1}],
               ["cursor did not decrease"]),
    # A wrong shape on both list and query: nothing is listed and nothing
    # confirmed, so the over-half guard refuses to delete everything.
    "ws_id_number": ([{"path": "/v2/video/", "kind": "wrong_shape",
                       "variant": "id_number", "times": FOREVER}],
                     ["no usable video on the page",
                      "after 4 attempts"]),
    "tok503": ([{"path": TOKEN, "kind": "status", "status": 503,
                 "times": FOREVER}], ["token", "503", "after 4 attempts"]),
    "tokdrop": ([{"path": TOKEN, "kind": "drop", "times": FOREVER}],
                ["token", "curl error 5", "after 4 attempts"]),
}
for _v, _w in (("truncated", "unterminated string"), ("garbage", "not JSON"),
               ("html", "not JSON"), ("empty", "empty document"),
               ("trailing", "after the value"),
               ("unterminated_string", "unterminated string"),
               ("bad_escape", "invalid escape")):
    FAIL["ij_" + _v] = ([{"path": LIST, "kind": "invalid_json",
                          "variant": _v, "times": FOREVER}],
                        ["video/list", "not JSON", _w])
for _v, _w in (("videos_object", "not an array"),
               ("cursor_string", "cursor"),
               ("data_array", "no \"data\" object"),
               ("error_string", "without a TikTok error envelope"),
               ("top_array", "not an object"),
               ("deep_nesting", "nesting deeper than")):
    FAIL["ws_" + _v] = ([{"path": LIST, "kind": "wrong_shape", "variant": _v,
                          "times": FOREVER}], ["video/list", _w])

ABSORB = {
    "x500": [{"path": LIST, "kind": "status", "status": 500}],
    "x503": [{"path": USER, "kind": "status", "status": 503}],
    "x429": [{"path": LIST, "kind": "status", "status": 429,
              "retry_after": 1}],
    "xhang": [{"path": LIST, "kind": "hang", "after": 1}],
    "xdrop": [{"path": LIST, "kind": "drop"}],
    "xtruncate": [{"path": USER, "kind": "truncate"}],
    "xinvalid": [{"path": LIST, "kind": "invalid_json", "variant": "html"}],
    "xinternal": [{"path": LIST, "kind": "internal_error", "times": 2}],
    "xshape": [{"path": LIST, "kind": "wrong_shape",
                "variant": "deep_nesting", "after": 1}],
    # Normal paging, however many requests it takes.
    "short": [{"path": LIST, "kind": "short_page", "n": 3,
               "times": FOREVER}],
    "empty": [{"path": LIST, "kind": "empty_page", "times": FOREVER}],
    # Slow but within the limits: 300 bytes/s on a ~200-byte answer.
    "slow": [{"path": USER, "kind": "drip", "bytes_per_sec": 300}],
    "tokx1": [{"path": TOKEN, "kind": "status", "status": 503}],
}
TOKEN_CASES = ("tok503", "tokdrop", "tokx1")
NAMES = sorted(FAIL) + sorted(ABSORB)


class BlackHole:
    """A TCP listener that accepts connections and never says a word, so a
    TLS client waits for the handshake until its connect timeout."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                c, _ = self.sock.accept()
                self.conns.append(c)
            except OSError:
                continue

    def close(self):
        self.stop.set()
        self.thread.join(5)
        for c in self.conns:
            c.close()
        self.sock.close()


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class FaultTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emu = Emulator().start()
        cls.emu.config(rate_limit=0)
        cls.m = Mirror(cls.emu, https=True)
        cls.copies = []
        for i, n in enumerate(NAMES):
            cls.emu.add_user(n)
            cls.emu.generate(n, 25, newest=1760000000, step=3600,
                             seed=100 + i, formats=["jpeg", "png", "webp"])
        cls.m.write_config([{"name": n, "quantity": "all"} for n in NAMES],
                           concurrency=32, rate_limit=1000000)

    @classmethod
    def tearDownClass(cls):
        for c in cls.copies:
            c.cleanup()
        cls.m.cleanup()
        cls.emu.stop()

    def copy_mirror(self, api_url):
        """A copy of the mirror folder whose config points at api_url."""
        c = Mirror(self.emu, https=True)
        shutil.rmtree(c.dir)
        shutil.copytree(self.m.dir, c.dir)
        with open(c.config) as f:
            text = f.read()
        text = text.replace(self.emu.https_url, api_url)
        with open(c.config, "w") as f:
            f.write(text)
        self.copies.append(c)
        return c

    def change_truth(self, n):
        vids = self.emu.videos(n)
        self.emu.update_video(n, vids[0]["id"], like_count=123456,
                              title="changed title")
        self.emu.add_videos(n, [{"create_time": 1760000000 + 600,
                                 "title": "brand new"}])
        self.emu.delete_videos(n, [vids[10]["id"]])

    def test_faults(self):
        report = os.environ.get("TM_REPORT")
        t_start = time.monotonic()
        auth_all(self.m, NAMES)
        p = self.m.run("sync", check=0, env=ENV)
        self.assertEqual(p.returncode, 0, p.stderr[-3000:])
        if report:
            print("\nauth + first sync: %.1fs" % (time.monotonic() - t_start))
        for n in NAMES:
            assert_mirrors(self, self.m, self.emu, n, n)
        before = {n: snapshot(self.m, n) for n in NAMES}
        accounts = {n: self.m.account(n) for n in NAMES}

        for n in NAMES:
            self.change_truth(n)
        for n in TOKEN_CASES:
            self.emu.expire_tokens(n)
        rules = []
        for n, (rs, _) in FAIL.items():
            rules += [dict(r, user=n) for r in rs]
        for n, rs in ABSORB.items():
            rules += [dict(r, user=n) for r in rs]
        self.emu.faults(*rules)

        # Connection refused and a connect timeout, on copies, meanwhile.
        hole = BlackHole()
        self.addCleanup(hole.close)
        bad_urls = ["https://127.0.0.1:%d" % closed_port(),
                    "https://127.0.0.1:%d" % hole.port]
        refused, stalled = [self.copy_mirror(u) for u in bad_urls]
        seq0 = self.emu.log()[-1]["seq"] if self.emu.log() else 0
        t0 = time.monotonic()
        procs = [popen_sync(refused, "s500", env=ENV),
                 popen_sync(stalled, "s500", env=ENV),
                 popen_sync(self.m, env=ENV)]
        results = [finish(q) for q in procs]
        took = time.monotonic() - t0
        rc, _, err = results[2]
        self.assertEqual(rc, 1, err)
        log = self.emu.log(seq0)
        if report:
            print("faulted sync: %.1fs" % took)
            for n in sorted(FAIL) + sorted(ABSORB):
                a = self.m.account(n)
                print("%-24s %-6s %s" % (n, a["state"], a["last_error"]))
            for c, (rc2, _, _) in zip((refused, stalled), results):
                a = c.account("s500")
                print("%-24s %-6s %s" % (
                    "refused" if c is refused else "stalled", a["state"],
                    a["last_error"]))

        for n, (rs, words) in sorted(FAIL.items()):
            with self.subTest(fault=n):
                a = self.m.account(n)
                self.assertEqual(a["state"], "error")
                for w in words:
                    self.assertIn(w.lower(), a["last_error"].lower())
                self.assertEqual(a["last_success_at"],
                                 accounts[n]["last_success_at"])
                self.assertEqual(snapshot(self.m, n), before[n])
                # The failure is reported on stderr too, naming the account.
                self.assertIn("%s: " % n, err)
        for n in sorted(ABSORB):
            with self.subTest(absorbed=n):
                a = self.m.account(n)
                self.assertEqual(a["state"], "ok", a["last_error"])
                self.assertIsNone(a["last_error"])
                assert_mirrors(self, self.m, self.emu, n, n)
                gone = [r for r in snapshot(self.m, n)
                        if r["deleted_at"] is not None]
                self.assertEqual(len(gone), 1)

        # Retried faults took exactly 4 attempts (the daemon says so in
        # last_error, checked above), backing off: full jitter in
        # [bound/2, bound] for bounds 1, 2, 4 s. The emulator logs an
        # attempt when it reads it; on a loaded machine one may time out
        # in its TLS handshake (TIMEOUT_MS) and never be read, so the log
        # may hold fewer than 4, never more, and the gaps are checked when
        # all 4 arrived.
        def attempts(user, path, n=4):
            t = [e["mono"] for e in log
                 if e["user"] == user and e["path"] == path]
            self.assertGreaterEqual(len(t), 1, (user, path))
            self.assertLessEqual(len(t), n, (user, path))
            return t if len(t) == n else []
        for g, bound in zip(gaps(attempts("s500", USER)), (1.0, 2.0, 4.0)):
            self.assertGreaterEqual(g, bound / 2 - 0.05)
            # Not runaway either (a delay in the wrong unit, the hour cap):
            # generous, since a busy machine stretches every wall-clock gap.
            self.assertLessEqual(g, bound * 2 + 10)
        # Retry-After: 2 is a floor for every wait.
        for g in gaps(attempts("s429ra", LIST)):
            self.assertGreaterEqual(g, 2.0 - 0.05)
        # A persistent timeout is tried 4 times too, each within the limit.
        attempts("hang", LIST)
        # cursor_stuck is not retried: it is an error of the listing.
        attempts("cursor", LIST, 2)
        # Transient token failures never cost the authorization. (A
        # dropped connection may cost more requests than attempts: curl
        # retries a request on a reused connection that died, up to 5
        # times, before reporting error 55.)
        attempts("tok503", TOKEN)
        self.assertGreaterEqual(len([e for e in log if e["user"] == "tokdrop"
                                     and e["path"] == TOKEN]), 1)
        # The whole matrix is one run's worth of retries (4 attempts of a
        # hang and 1+2+4 s of backoff), with room for a loaded machine.
        self.assertLess(took, 3 * (4 * TIMEOUT_MS / 1000 + 7))

        # Refused and stalled connections: the same promise.
        for c, (rc, _, err), words in (
                (refused, results[0], ["user/info", "connect"]),
                (stalled, results[1], ["user/info", "timed out",
                                       "after 4 attempts"])):
            with self.subTest(api_url=c.dir):
                self.assertEqual(rc, 1, err)
                a = c.account("s500")
                self.assertEqual(a["state"], "error")
                for w in words:
                    self.assertIn(w.lower(), a["last_error"].lower())
                self.assertEqual(snapshot(c, "s500"), before["s500"])

        # The faults clear: everything converges to the exact truth.
        self.emu.clear_faults()
        hole.close()
        t_conv = time.monotonic()
        for c, u in zip((refused, stalled), bad_urls):
            with open(c.config) as f:
                text = f.read()
            with open(c.config, "w") as f:
                f.write(text.replace(u, self.emu.https_url))
        procs = [popen_sync(c, "s500", env=ENV) for c in (refused, stalled)]
        p = self.m.run("sync", env=ENV)
        self.assertEqual(p.returncode, 0, p.stderr)
        for c, q in zip((refused, stalled), procs):
            rc, _, err = finish(q)
            self.assertEqual(rc, 0, err)
            self.assertEqual(c.account("s500")["state"], "ok")
            assert_mirrors(self, c, self.emu, "s500", "s500")
        if report:
            print("converging syncs: %.1fs" % (time.monotonic() - t_conv))
        for n in NAMES:
            with self.subTest(converged=n):
                a = self.m.account(n)
                self.assertEqual(a["state"], "ok", a["last_error"])
                assert_mirrors(self, self.m, self.emu, n, n)
                rows = snapshot(self.m, n)
                gone = [r for r in rows if r["deleted_at"] is not None]
                self.assertEqual(len(gone), 1)
                self.assertIsNone(gone[0]["position"])
                old = [r for r in before[n] if r["id"] == gone[0]["id"]][0]
                for k in ("title", "description", "total_views", "cover"):
                    self.assertEqual(gone[0][k], old[k])
                # Tokens were refreshed, never lost.
                self.assertGreater(a["token_expires_at"], time.time())


class UnusableListingTest(unittest.TestCase):
    """A listing whose only item cannot be used (wrong_shape id_number:
    a numeric id, a string create_time, has_more false) while video/query
    still answers: the item is skipped, but an all-unusable page is a
    wrong-shape response, not an empty account. It must fail like the
    other shapes (state 'error', rows as they were), not take every video
    out of the listing (position NULL) with state 'ok'."""

    @classmethod
    def setUpClass(cls):
        cls.emu = Emulator().start()
        cls.m = Mirror(cls.emu, https=True)
        cls.emu.add_user("u")
        cls.emu.generate("u", 6, newest=1760000000, seed=9)
        cls.m.write_config([{"name": "u", "quantity": "all"}])
        auth_all(cls.m, ["u"])

    @classmethod
    def tearDownClass(cls):
        cls.m.cleanup()
        cls.emu.stop()

    def test_unusable_listing(self):
        self.m.run("sync", check=0, env=ENV)
        before = snapshot(self.m, "u")
        self.emu.fault(LIST, "wrong_shape", variant="id_number",
                       times=FOREVER)
        try:
            p = self.m.run("sync", env=ENV)
            self.assertEqual(snapshot(self.m, "u"), before)
            self.assertEqual(self.m.account("u")["state"], "error")
            self.assertEqual(p.returncode, 1)
        finally:
            self.emu.clear_faults()
        self.m.run("sync", check=0, env=ENV)
        assert_mirrors(self, self.m, self.emu, "u", "u")


class LongRefreshTest(unittest.TestCase):
    """A refresh that outlives its access token more than once renews it
    each time: a token rejected after its own lifetime ran out is expiry,
    not a bad grant (issue 16: under the soak's compressed time on a busy
    machine, the big account's refresh outlived two tokens and failed,
    again and again). A token rejected before its time is still refreshed
    only once (FaultTest's cases)."""

    def setUp(self):
        self.emu = Emulator().start()
        self.m = Mirror(self.emu, https=False)

    def tearDown(self):
        self.m.cleanup()
        self.emu.stop()

    def test_refresh_outlives_two_tokens(self):
        self.emu.add_user("slow")
        self.emu.generate("slow", 120, newest=1760000000, seed=4)
        self.m.write_config([{"name": "slow", "quantity": "all"}])
        # Access tokens live 100 s, and from here on one real millisecond
        # is one second for TikTok and the daemon alike; every list page
        # takes at least 60 ms (60 s): of the 6 pages the third is sent
        # after the first token expired at the latest, and each renewed
        # token expires before the second page after it, whatever the
        # machine's speed.
        self.emu.config(access_ttl=100)
        auth_all(self.m, ["slow"])
        real0 = int(time.time() * 1000)
        clock = "%d:%d:1000" % (real0, real0)
        self.emu.set_clock(clock)
        self.emu.fault(LIST, "delay", ms=60, times=FOREVER)
        self.emu.reset_counters()
        p = self.m.run("sync", env={"TIKTOK_MIRROR_TEST_CLOCK": clock})
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.m.account("slow")["state"], "ok")
        self.assertEqual(self.m.sql("SELECT count(*) AS n FROM videos")[0]
                         ["n"], 120)
        c = self.emu.counters()
        self.assertGreaterEqual(c["oauth"]["refresh_token"], 2, c["oauth"])
        self.assertGreaterEqual(c["status"].get("401", 0), 2, c["status"])


if __name__ == "__main__":
    harness.main()
