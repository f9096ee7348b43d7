#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""The archive rotation (README, "Rate budget"): once an account's whole
listing has been read, a refresh re-reads the 10 newest pages and then a
10-page window of the deeper archive that moves on each refresh, so every
refresh costs at most 20 list calls however big the account is. New
videos and changes at the top appear at once; deeper changes and
deletions when the window passes; positions stay exact throughout."""
import unittest

import harness
from harness import Emulator, Mirror

N = 600  # 30 pages: head 10 pages + window 10 pages + 10 more


class RotationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emu = Emulator().start()
        cls.m = Mirror(cls.emu, https=False)
        cls.emu.add_user("big", "Big")
        cls.emu.generate("big", N, newest=1760000000, step=3600, seed=3)
        cls.m.write_config([{"name": "big", "quantity": "all"}])
        p = cls.m.auth_code("big", "big")
        assert p.returncode == 0, p.stderr

    @classmethod
    def tearDownClass(cls):
        cls.m.cleanup()
        cls.emu.stop()

    def sync(self):
        self.emu.reset_counters()
        self.m.run("sync", check=0)
        return self.emu.counters()["paths"].get("/v2/video/list/", 0)

    def check_positions(self):
        truth = [v["id"] for v in self.emu.videos("big")]
        rows = self.m.sql("SELECT id, position FROM videos WHERE account ="
                          " 'big' AND deleted_at IS NULL ORDER BY position")
        self.assertEqual([r["id"] for r in rows], truth)
        self.assertEqual([r["position"] for r in rows],
                         list(range(1, len(truth) + 1)))

    def test_rotation(self):
        # The first sync reads everything.
        self.assertEqual(self.sync(), N // 20)
        self.check_positions()
        before = self.m.sql("SELECT id, updated_at, position FROM videos")
        # Later ones: head and one window, writing nothing when nothing
        # changed.
        self.assertEqual(self.sync(), 20)
        self.assertEqual(self.m.sql("SELECT id, updated_at, position "
                                    "FROM videos"), before)
        # A new video at the top: position 1, every other one shifts.
        self.emu.add_videos("big", [{"create_time": 1760000000 + 60,
                                     "title": "new on top"}])
        self.assertEqual(self.sync(), 20)
        self.check_positions()
        # A change deep in the archive and a deletion there appear once
        # the window passes over them: within (N - 200) / 200 + 1 syncs.
        deep = self.emu.videos("big")[520]
        gone = self.emu.videos("big")[480]
        self.emu.update_video("big", deep["id"], view_count=123456789)
        self.emu.delete_videos("big", [gone["id"]])
        for _ in range(3):
            self.assertLessEqual(self.sync(), 20)
            row = self.m.sql("SELECT total_views FROM videos WHERE id = ?",
                             deep["id"])[0]
            dead = self.m.sql("SELECT deleted_at FROM videos WHERE id = ?",
                              gone["id"])[0]
            if row["total_views"] == 123456789 and dead["deleted_at"]:
                break
        self.assertEqual(row["total_views"], 123456789)
        self.assertIsNotNone(dead["deleted_at"])
        self.check_positions()
        a = self.m.account("big")
        self.assertEqual(a["state"], "ok", a["last_error"])


if __name__ == "__main__":
    harness.main()
