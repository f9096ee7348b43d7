#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""End to end: TikTok's one-minute rate window (issue 12, item 7).

TikTok counts calls per endpoint in a sliding one-minute window and answers
429 without Retry-After. A refresh that meets such a 429 waits the window
out and completes; the wait shows in the log, in `status` and on the
progress line; every account's calls to that endpoint wait with it; after
three windows the refresh fails with a message that says why.

Time is compressed 60 times (TIKTOK_MIRROR_TEST_CLOCK for the daemon, the
same spec for the emulator), so a one-minute window costs a second.
"""
import json
import os
import pty
import select
import subprocess
import time
import unittest

import harness
from harness import Emulator, Mirror, command

SCALE = 60
LIST = "/v2/video/list/"
T0 = 1760000000


class RateWindowTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        now = int(time.time() * 1000)
        cls.spec = "%d:%d:%d" % (now, now, SCALE)
        cls.env = {"TIKTOK_MIRROR_TEST_CLOCK": cls.spec}
        cls.emu = Emulator(clock=cls.spec).start()
        cls.emu.config(rate_limit=0)
        cls.m = Mirror(cls.emu, https=False)
        cls.sizes = {"one": 100, "two": 60, "three": 5}
        for i, (n, count) in enumerate(sorted(cls.sizes.items())):
            cls.emu.add_user(n)
            cls.emu.generate(n, count, newest=T0, step=3600, seed=70 + i)
        # The daemon's own limiter out of the way: TikTok's 429s decide.
        cls.m.write_config([{"name": n, "quantity": "all"}
                            for n in sorted(cls.sizes)], rate_limit=1000000)
        for n in sorted(cls.sizes):
            p = cls.m.auth_code(n, n)
            if p.returncode != 0:
                raise AssertionError(p.stderr)
        p = cls.m.run("sync", "three", env=cls.env)
        if p.returncode != 0:
            raise AssertionError(p.stderr)

    @classmethod
    def tearDownClass(cls):
        cls.m.cleanup()
        cls.emu.stop()

    def setUp(self):
        self.emu.clear_faults()
        self.emu.config(rate_limit=0)

    def start_sync(self, *names):
        """`sync NAMES` with stderr on a terminal (the progress line)."""
        master, slave = pty.openpty()
        e = dict(os.environ)
        e.pop("JOURNAL_STREAM", None)
        e.update(self.env)
        p = subprocess.Popen(command("-c", self.m.config, "sync", *names),
                             stdout=subprocess.PIPE, stderr=slave,
                             stdin=subprocess.DEVNULL, env=e)
        os.close(slave)
        return p, master

    def status_activity(self):
        p = self.m.run("status", "--json", env=self.env)
        return [a["activity"] for a in json.loads(p.stdout)["accounts"]
                if a.get("activity")]

    def finish(self, p, master):
        """Wait for the sync; meanwhile read its terminal and poll
        `status`. Returns (exit status, terminal text, activities)."""
        out, seen = b"", []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            r, _, _ = select.select([master], [], [], 0.05)
            chunk = b""
            if r:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the terminal's last user is gone
                    chunk = b""
                out += chunk
            if not chunk and p.poll() is not None:
                break
            if not seen:
                seen = self.status_activity()
        else:
            p.kill()
            raise AssertionError("sync did not finish")
        p.wait()
        p.stdout.close()
        os.close(master)
        return p.returncode, out.decode("utf-8", "replace"), seen

    def test_window_waited_out(self):
        # Three video/list calls per window for the whole app.
        self.emu.config(rate_limit=3)
        seq0 = self.emu.log()[-1]["seq"] if self.emu.log() else 0
        p, master = self.start_sync("one", "two")
        rc, text, seen = self.finish(p, master)
        self.assertEqual(rc, 0, text)
        for n in ("one", "two"):
            self.assertEqual(len(self.m.videos(n)), self.sizes[n])
            self.assertEqual(self.m.account(n)["state"], "ok")
        # The wait: in the log, on the progress line, in status.
        self.assertIn("video/list rate limited by TikTok (HTTP 429): "
                      "waiting until", text)
        self.assertIn("for its one-minute window (1 of 3)", text)
        self.assertIn("rate limited by TikTok, waiting", text)
        self.assertTrue(seen, "status never showed the wait")
        self.assertIn("waiting until", seen[0])
        # Nothing left over in status once done.
        self.assertEqual(self.status_activity(), [])
        # After each 429, no account called video/list until the window
        # had passed (calls already on the way aside: 5 s grace).
        log = [e for e in self.emu.log(seq0) if e["path"] == LIST]
        limited = [e["t"] for e in log if e["status"] == 429]
        self.assertTrue(limited)
        for t in limited:
            early = [e for e in log if t + 5 < e["t"] < t + 59]
            self.assertEqual(early, [], "called within the window")
        users = {e["user"] for e in log if e["status"] == 200}
        self.assertEqual(users, {"one", "two"})

    def test_bounded(self):
        # Another tool spends the quota: 429 for good.
        self.emu.fault(LIST, "status", status=429, user="three", times=-1)
        seq0 = self.emu.log()[-1]["seq"] if self.emu.log() else 0
        before = self.m.videos("three")
        p, master = self.start_sync("three")
        rc, text, _ = self.finish(p, master)
        self.assertEqual(rc, 1, text)
        a = self.m.account("three")
        self.assertEqual(a["state"], "error")
        self.assertIn("still rate limited after waiting out 3 of TikTok's "
                      "one-minute windows", a["last_error"])
        self.assertIn("same client key", a["last_error"])
        self.assertEqual(self.m.videos("three"), before)
        times = [e["t"] for e in self.emu.log(seq0)
                 if e["path"] == LIST and e["user"] == "three"]
        self.assertEqual(len(times), 4)
        for a_, b_ in zip(times, times[1:]):
            self.assertGreaterEqual(b_ - a_, 59)


if __name__ == "__main__":
    harness.main()
