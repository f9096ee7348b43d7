#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""End to end: kill -9 in the middle of syncs (issue 5, item 4).

Seeded: TM_CRASH_SEED picks the moments (default 5). Before every killed
sync the truth changes (counts, new covers, a new video, a deleted one) and
the cover CDN is slowed a little, so the kills land in every phase: token,
listing, covers, the apply transaction. After each kill:

- `PRAGMA integrity_check` is ok for the mirror and the secrets file;
- the account's rows are exactly as before the killed sync, or exactly as
  after it (one transaction: a reader never sees half a refresh);
- the next sync succeeds and converges to the exact truth, covers
  included, and leaves no temporary file in the covers folder;
- the account is still authorized.

Some rounds first expire the access token at the emulator (strict refresh
token rotation is on), and kill the sync right after the rotation: when
the emulator sees the first request made with the new token, which the
daemon may only send once the new pair is durably in the secrets file.
"""
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import time
import unittest

import harness
from harness import Emulator, Mirror
from checks import (assert_mirrors, auth_all, finish, popen_sync, snapshot,
                    temp_files, wait_for)

SEED = int(os.environ.get("TM_CRASH_SEED", "5"))
ROUNDS = 25
ROTATIONS = 6
NAME = "crash"
T0 = 1760000000


def integrity(path):
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=10)
    try:
        return con.execute("PRAGMA integrity_check").fetchall()
    finally:
        con.close()


class CrashTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emu = Emulator().start()
        cls.emu.config(rate_limit=0)
        cls.m = Mirror(cls.emu, https=True)
        cls.emu.add_user(NAME)
        cls.emu.generate(NAME, 45, newest=T0, step=3600, seed=SEED,
                         formats=["jpeg", "png", "webp"])
        cls.m.write_config([{"name": NAME, "quantity": "all"}],
                           concurrency=4, rate_limit=1000000)
        auth_all(cls.m, [NAME])
        p = cls.m.run("sync")
        if p.returncode != 0:
            raise AssertionError(p.stderr)

    @classmethod
    def tearDownClass(cls):
        cls.m.cleanup()
        cls.emu.stop()

    def change_truth(self, rng, i):
        emu = self.emu
        vids = emu.videos(NAME)
        for v in rng.sample(vids, 8):
            emu.update_video(NAME, v["id"], like_count=rng.randrange(10 ** 6),
                             new_cover=rng.random() < 0.7)
        emu.add_videos(NAME, [{"create_time": T0 + 600 * (i + 1),
                               "title": "round %d" % i}])
        if len(vids) > 40:
            emu.delete_videos(NAME, [rng.choice(vids[5:])["id"]])

    def check_after_kill(self, before):
        self.assertEqual(integrity(self.m.db), [("ok",)])
        self.assertEqual(integrity(os.path.join(self.m.dir, "secrets.db")),
                         [("ok",)])
        during = snapshot(self.m, NAME)
        p = self.m.run("sync")
        self.assertEqual(p.returncode, 0, p.stderr)
        after = snapshot(self.m, NAME)
        # All or nothing: the killed refresh committed whole, or not at all.
        self.assertIn(during, (before, after))
        a = self.m.account(NAME)
        self.assertEqual(a["state"], "ok", a["last_error"])
        assert_mirrors(self, self.m, self.emu, NAME, NAME)
        self.assertEqual(temp_files(self.m.covers), [])
        return during == after

    def test_kill_during_sync(self):
        rng = random.Random(SEED)
        self.emu.fault("/cdn/", "delay", ms=15, jitter_ms=10, times=-1)
        committed = 0
        for i in range(ROUNDS):
            with self.subTest(round=i):
                self.change_truth(rng, i)
                before = snapshot(self.m, NAME)
                q = popen_sync(self.m)
                time.sleep(rng.uniform(0.0, 0.5))
                q.send_signal(signal.SIGKILL)
                rc, _, _ = finish(q)
                committed += self.check_after_kill(before)
        # The moments spread over the whole refresh.
        if os.environ.get("TM_REPORT"):
            print("\n%d of %d killed syncs had committed" % (committed,
                                                            ROUNDS))
        self.assertLess(committed, ROUNDS)

    def test_kill_right_after_token_rotation(self):
        rng = random.Random(SEED + 1)
        for i in range(ROTATIONS):
            with self.subTest(round=i):
                self.change_truth(rng, 100 + i)
                self.emu.expire_tokens(NAME)
                refreshes = self.emu.counters()["oauth"]["refresh_token"]
                seq = self.emu.log()[-1]["seq"]
                # Hold user/info (the call that meets the expired token and
                # is sent again after the refresh), so the kill lands while
                # the first request with the new token is in flight.
                self.emu.fault("/v2/user/info/", "delay", ms=1500, times=-1)
                before = snapshot(self.m, NAME)
                q = popen_sync(self.m)

                def rotated_and_used():
                    tok = [e for e in self.emu.log(seq)
                           if e["path"] == "/v2/oauth/token/"]
                    if not tok:
                        return False
                    return any(e["seq"] > tok[0]["seq"] and
                               e["path"].startswith("/v2/") and
                               e["status"] == 200 and
                               e["path"] != "/v2/oauth/token/"
                               for e in self.emu.log(seq))
                ok = wait_for(rotated_and_used, timeout=20)
                q.send_signal(signal.SIGKILL)
                finish(q)
                self.emu.clear_faults()
                self.assertTrue(ok, "no request after the rotation")
                self.assertEqual(
                    self.emu.counters()["oauth"]["refresh_token"],
                    refreshes + 1)
                self.check_after_kill(before)


def can_mount():
    return os.geteuid() == 0 and shutil.which("mount") is not None


class DiskFullTest(unittest.TestCase):
    """Disk full (a small tmpfs holds the mirror, the secrets and the
    covers) and I/O errors injected into the database writes (strace):
    a clear error, the account's transaction rolled back, the previous
    data intact, and the next sync converges once the fault is gone."""

    @classmethod
    def setUpClass(cls):
        cls.emu = Emulator().start()
        cls.emu.config(rate_limit=0)
        cls.emu.add_user(NAME)
        cls.emu.generate(NAME, 20, newest=T0, step=3600, seed=SEED,
                         formats=["jpeg", "png"])

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()

    def new_mirror(self):
        m = Mirror(self.emu, https=True)
        self.addCleanup(m.cleanup)
        m.write_config([{"name": NAME, "quantity": "all"}],
                       rate_limit=1000000)
        auth_all(m, [NAME])
        p = m.run("sync")
        self.assertEqual(p.returncode, 0, p.stderr)
        return m

    def grow_truth(self, n, i):
        # Long text, so the apply transaction needs room in the WAL.
        self.emu.add_videos(NAME, [{"create_time": T0 + 3600 * (i + 1) + k,
                                    "title": "grow %d %d" % (i, k),
                                    "video_description": "d" * 3000,
                                    "cover_format": "png"}
                                   for k in range(n)])
        for v in self.emu.videos(NAME)[n:n + 5]:
            self.emu.update_video(NAME, v["id"], new_cover=True,
                                  like_count=i)

    def test_disk_full(self):
        if not can_mount():
            self.skipTest("mounting a tmpfs needs root")
        m = Mirror(self.emu, https=True)
        self.addCleanup(m.cleanup)
        mnt = m.dir
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700",
                            "tiktok-mirror-e2e", mnt], capture_output=True,
                           text=True, timeout=30)
        if p.returncode != 0:
            self.skipTest("cannot mount a tmpfs: %s" % p.stderr.strip())
        self.addCleanup(subprocess.run, ["umount", "-l", mnt], timeout=30)
        # The tmpfs hides what Mirror() wrote: write it again.
        with open(os.path.join(mnt, "client_secret"), "w") as f:
            f.write(self.emu.config_now()["client_secret"] + "\n")
        os.chmod(os.path.join(mnt, "client_secret"), 0o600)
        m.write_config([{"name": NAME, "quantity": "all"}],
                       rate_limit=1000000)
        auth_all(m, [NAME])
        self.assertEqual(m.run("sync").returncode, 0)
        filler = os.path.join(mnt, "filler")
        # Leave less and less room: the sync fails wherever it runs out.
        for i, room in enumerate((0, 16 << 10, 96 << 10, 160 << 10)):
            with self.subTest(room=room):
                self.grow_truth(30, i)
                before = snapshot(m, NAME)
                st = os.statvfs(mnt)
                free = st.f_bavail * st.f_frsize
                with open(filler, "wb") as f:
                    try:
                        f.write(b"\0" * max(0, free - room))
                    except OSError:
                        pass
                p = m.run("sync")
                self.assertEqual(p.returncode, 1, p.stderr)
                self.assertRegex(p.stderr, r"(?i)(full|no space)")
                if os.environ.get("TM_REPORT"):
                    print("\nroom %d: %s" % (room, p.stderr.strip()))
                self.assertEqual(integrity(m.db), [("ok",)])
                self.assertEqual(snapshot(m, NAME), before)
                os.unlink(filler)
                p = m.run("sync")
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertEqual(m.account(NAME)["state"], "ok")
                assert_mirrors(self, m, self.emu, NAME, NAME)
                self.assertEqual(temp_files(m.covers), [])

    @staticmethod
    def strace_env():
        # LeakSanitizer cannot run under ptrace: leaks are checked by the
        # other tests of the sanitizer build.
        e = dict(os.environ)
        e.pop("JOURNAL_STREAM", None)
        opts = e.get("ASAN_OPTIONS", "")
        e["ASAN_OPTIONS"] = (opts + ":" if opts else "") + "detect_leaks=0"
        return e

    def count_calls(self, m, syscall):
        out = os.path.join(m.dir, "strace.out")
        p = subprocess.run(["strace", "-f", "-qq", "-o", out, "-e",
                            "trace=" + syscall, harness.BIN, "-c", m.config,
                            "sync"], capture_output=True, text=True,
                           timeout=120, env=self.strace_env())
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(out) as f:
            n = sum(1 for line in f if syscall + "(" in line)
        os.unlink(out)
        return n

    def test_io_errors(self):
        if shutil.which("strace") is None:
            self.skipTest("strace is not installed")
        m = self.new_mirror()
        rng = random.Random(SEED + 2)
        # How many database writes a sync makes, growing the same way.
        self.grow_truth(3, 50)
        n = self.count_calls(m, "pwrite64")
        self.assertGreater(n, 5)
        cases = [(k, plus) for k in sorted(rng.sample(range(1, n + 1),
                                                      min(n, 6)))
                 for plus in ("", "+")]
        failed = 0
        for i, (k, plus) in enumerate(cases):
            with self.subTest(when="%d%s" % (k, plus)):
                self.grow_truth(3, 60 + i)
                before = snapshot(m, NAME)
                p = subprocess.run(
                    ["strace", "-f", "-qq", "-o", "/dev/null", "-e",
                     "trace=pwrite64", "-e",
                     "inject=pwrite64:error=EIO:when=%d%s" % (k, plus),
                     harness.BIN, "-c", m.config, "sync"],
                    capture_output=True, text=True, timeout=120,
                    env=self.strace_env())
                self.assertIn(p.returncode, (0, 1), p.stderr)
                self.assertEqual(integrity(m.db), [("ok",)])
                during = snapshot(m, NAME)
                if p.returncode == 1:
                    failed += 1
                    self.assertRegex(p.stderr, r"(?i)(I/O|disk)")
                if os.environ.get("TM_REPORT"):
                    print("\nEIO at pwrite64 %d%s of %d: exit %d %s" % (
                        k, plus, n, p.returncode, p.stderr.strip()[-300:]))
                p = m.run("sync")
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertIn(during, (before, snapshot(m, NAME)))
                assert_mirrors(self, m, self.emu, NAME, NAME)
                self.assertEqual(temp_files(m.covers), [])
        self.assertGreater(failed, 0)


if __name__ == "__main__":
    harness.main()
