#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""End to end: deletions and cover expiry (issue 5, item 3).

- A video TikTok stops returning inside the listed range, and that
  video/query confirms missing, gets deleted_at and position NULL and
  keeps every value and its cover file; it comes back to life (deleted_at
  NULL, a position again) when TikTok returns it.
- A hidden (private) video that video/query still returns is not deleted.
- The over-half guard: marking more than half of at least 4 live videos
  deleted (an empty listing included) is refused, reported with the
  command to run, and changes no video row; `sync --force NAME` applies it.
  Exactly half, or fewer than 4 live videos, is applied.
- A cover whose signed URL expired (403) is fetched again with a fresh URL
  from video/query: injected, and for real (a short cover TTL and a slow
  listing). A changed cover is downloaded again and the old file removed.
  Cover files no row names (and temporary files) are removed.
"""
import hashlib
import os
import time
import unittest

import harness
from harness import Emulator, Mirror, EXT
from checks import (assert_mirrors, auth_all, listing, snapshot,
                    temp_files)

T0 = 1760000000
QUERY = "/v2/video/query/"
SIZES = {"del": 10, "guard": 6, "empty": 5, "half": 4, "small": 3,
         "expiry": 4, "ttl": 3, "newcover": 3, "orphans": 3}


class DeletionTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emu = Emulator().start()
        cls.emu.config(rate_limit=0)
        cls.m = Mirror(cls.emu, https=True)
        cls.keys = {}
        for i, (n, count) in enumerate(sorted(SIZES.items())):
            u = cls.emu.add_user(n)
            cls.keys[n] = hashlib.sha256(
                u["open_id"].encode()).hexdigest()[:16]
            cls.emu.generate(n, count, newest=T0, step=3600, seed=300 + i,
                             formats=["jpeg", "png", "webp"])
        cls.m.write_config([{"name": n, "quantity": "all"}
                            for n in sorted(SIZES)], rate_limit=1000000)
        auth_all(cls.m, sorted(SIZES))
        p = cls.m.run("sync")
        if p.returncode != 0:
            raise AssertionError(p.stderr)

    @classmethod
    def tearDownClass(cls):
        cls.m.cleanup()
        cls.emu.stop()

    def sync(self, name, want=0, *opts):
        self.emu.reset_counters()
        p = self.m.run("sync", *(list(opts) + [name]))
        self.assertEqual(p.returncode, want, p.stderr)
        return p

    def row(self, name, vid):
        return self.m.sql("SELECT * FROM videos WHERE account = ? AND id = ?",
                          name, vid)[0]

    def queries(self, name):
        return self.emu.counters()["by_user"].get(name, {}).get(QUERY, 0)

    def test_deleted_hidden_restored(self):
        n = "del"
        assert_mirrors(self, self.m, self.emu, n, n)
        truth = self.emu.videos(n)
        gone, hidden = truth[3], truth[5]
        before = self.row(n, gone["id"])
        self.emu.delete_videos(n, [gone["id"]])
        self.emu.hide_videos(n, [hidden["id"]])
        t0 = int(time.time())
        p = self.sync(n)
        self.assertIn("1 deleted", p.stderr)
        # Confirmed missing through video/query (the hidden one too).
        self.assertGreaterEqual(self.queries(n), 1)
        log = [e for e in self.emu.log() if e["path"] == QUERY and
               e["user"] == n]
        asked = sum((e["body"]["filters"]["video_ids"] for e in log), [])
        self.assertIn(gone["id"], asked)
        self.assertIn(hidden["id"], asked)
        r = self.row(n, gone["id"])
        self.assertIsNone(r["position"])
        self.assertGreaterEqual(r["deleted_at"], t0)
        for k, v in before.items():
            if k not in ("position", "deleted_at"):
                self.assertEqual(r[k], v, k)
        self.assertTrue(os.path.isfile(os.path.join(self.m.covers,
                                                    r["cover"])))
        # Private, but video/query still returns it: not deleted.
        h = self.row(n, hidden["id"])
        self.assertIsNone(h["deleted_at"])
        self.assertIsNone(h["position"])
        assert_mirrors(self, self.m, self.emu, n, n)
        self.assertEqual(self.m.account(n)["state"], "ok")

        # Both come back.
        self.emu.unhide_videos(n, [hidden["id"]])
        self.emu.add_videos(n, [{"id": gone["id"],
                                 "create_time": gone["create_time"],
                                 "ms": gone["ts"] % 1000,
                                 "title": gone["title"],
                                 "video_description":
                                     gone["video_description"],
                                 "duration": gone["duration"],
                                 "width": gone["width"],
                                 "height": gone["height"],
                                 "like_count": gone["like_count"],
                                 "comment_count": gone["comment_count"],
                                 "share_count": gone["share_count"],
                                 "view_count": gone["view_count"],
                                 "cover_format": gone["cover_format"]}])
        self.sync(n)
        r = self.row(n, gone["id"])
        self.assertIsNone(r["deleted_at"])
        self.assertEqual(r["position"], 4)
        self.assertIsNone(self.row(n, hidden["id"])["deleted_at"])
        assert_mirrors(self, self.m, self.emu, n, n)
        self.assertEqual(len(snapshot(self.m, n)), SIZES[n])

    def refused(self, n, ndel):
        truth = self.emu.videos(n)
        self.emu.delete_videos(n, [v["id"] for v in truth[:ndel]])
        before = snapshot(self.m, n)
        success = self.m.account(n)["last_success_at"]
        p = self.sync(n, 1)
        a = self.m.account(n)
        self.assertEqual(a["state"], "error")
        self.assertIn("refusing to mark %d of %d live videos deleted" % (
            ndel, SIZES[n]), a["last_error"])
        self.assertIn("run: tiktok-mirror sync --force %s" % n,
                      a["last_error"])
        self.assertIn("sync --force %s" % n, p.stderr)
        self.assertEqual(a["last_success_at"], success)
        self.assertEqual(snapshot(self.m, n), before)
        # Refused again: nothing changes by itself.
        self.sync(n, 1)
        self.assertEqual(snapshot(self.m, n), before)
        # The user checked: --force applies it.
        self.sync(n, 0, "--force")
        rows = snapshot(self.m, n)
        dead = {r["id"] for r in rows if r["deleted_at"] is not None}
        self.assertEqual(dead, {v["id"] for v in truth[:ndel]})
        for r in rows:
            if r["id"] in dead:
                self.assertIsNone(r["position"])
                old = [b for b in before if b["id"] == r["id"]][0]
                self.assertEqual(r["title"], old["title"])
                self.assertEqual(r["cover"], old["cover"])
        self.assertEqual(self.m.account(n)["state"], "ok")
        if ndel < SIZES[n]:
            assert_mirrors(self, self.m, self.emu, n, n)

    def test_guard_more_than_half(self):
        self.refused("guard", 4)

    def test_guard_empty_listing(self):
        self.refused("empty", SIZES["empty"])

    def test_guard_limits(self):
        # Exactly half of 4 is not more than half; 3 live is under 4.
        for n, ndel in (("half", 2), ("small", 3)):
            with self.subTest(account=n):
                truth = self.emu.videos(n)
                self.emu.delete_videos(n, [v["id"] for v in truth[:ndel]])
                self.sync(n)
                dead = [r for r in snapshot(self.m, n)
                        if r["deleted_at"] is not None]
                self.assertEqual(len(dead), ndel)

    def cdn_requests(self, n, vid):
        return [e for e in self.emu.log() if e["path"].startswith(
            "/cdn/%s/%s/" % (self.keys[n], vid))]

    def test_expired_cover_url(self):
        n = "expiry"
        v = self.emu.videos(n)[1]
        self.emu.update_video(n, v["id"], new_cover=True)
        seq = self.emu.log()[-1]["seq"]
        self.emu.fault("/cdn/%s/%s/" % (self.keys[n], v["id"]), "expired",
                       times=1)
        self.sync(n)
        self.assertEqual(self.queries(n), 1)
        cdn = [e for e in self.cdn_requests(n, v["id"]) if e["seq"] > seq]
        self.assertEqual([e["status"] for e in cdn], [403, 200])
        assert_mirrors(self, self.m, self.emu, n, n)
        self.assertEqual(temp_files(self.m.covers), [])

    def test_expired_for_real(self):
        """Cover URLs live 2 s and the listing takes 3 s to arrive: every
        download gets 403, and one video/query call renews them all."""
        n = "ttl"
        for v in self.emu.videos(n):
            self.emu.update_video(n, v["id"], new_cover=True)
        self.emu.config(cover_ttl=2)
        self.addCleanup(self.emu.config, cover_ttl=21600)
        self.emu.fault("/v2/video/list/", "delay", ms=3000, user=n)
        seq = self.emu.log()[-1]["seq"]
        self.sync(n)
        self.assertEqual(self.queries(n), 1)
        cdn = [e for e in self.emu.log() if e["seq"] > seq and
               e["path"].startswith("/cdn/%s/" % self.keys[n]) and
               "/avatar/" not in e["path"]]
        self.assertEqual(sorted(e["status"] for e in cdn),
                         [200] * SIZES[n] + [403] * SIZES[n])
        assert_mirrors(self, self.m, self.emu, n, n)

    def test_new_cover_replaces_the_old_file(self):
        n = "newcover"
        v = self.emu.videos(n)[0]
        old = self.row(n, v["id"])["cover"]
        fmt = "png" if v["cover_format"] != "png" else "webp"
        self.emu.update_video(n, v["id"], new_cover=True, cover_format=fmt)
        self.sync(n)
        self.assertEqual(self.emu.counters()["cdn"], 1)
        r = self.row(n, v["id"])
        self.assertEqual(r["cover"], "%s/%s.%s" % (n, v["id"], EXT[fmt]))
        self.assertFalse(os.path.exists(os.path.join(self.m.covers, old)))
        assert_mirrors(self, self.m, self.emu, n, n)

    def test_orphan_cover_files_removed(self):
        n = "orphans"
        folder = os.path.join(self.m.covers, n)
        keep = sorted(os.listdir(folder))
        planted = ["1234.jpg", "99999999999999999.png", ".tmp-1234-00000000",
                   "notes.txt"]
        for f in planted:
            with open(os.path.join(folder, f), "wb") as fh:
                fh.write(b"\xff\xd8\xff planted")
        self.sync(n)
        # Ours go (names we write, a crash's temporary file); a file we
        # never write stays (issue 13).
        self.assertEqual(sorted(os.listdir(folder)),
                         sorted(keep + ["notes.txt"]))
        os.unlink(os.path.join(folder, "notes.txt"))
        assert_mirrors(self, self.m, self.emu, n, n)
        # A deleted video's cover stays: its row still names it.
        gone = self.emu.videos(n)[0]
        self.emu.delete_videos(n, [gone["id"]])
        self.sync(n)
        r = self.row(n, gone["id"])
        self.assertIsNotNone(r["deleted_at"])
        self.assertTrue(os.path.isfile(os.path.join(self.m.covers,
                                                    r["cover"])))


if __name__ == "__main__":
    harness.main()
