#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""End to end: the same video twice in one listing (issue 12, item 2).

TikTok's web lists put pinned videos first and repeat them at their place,
and a cursor may be inclusive (the emulator plays both: /_emu/videos/pin
and cursor_inclusive). Each video is mirrored once, its first occurrence
decides its position, positions stay 1..N without gaps, `quantity: 20`
keeps 20 distinct videos, and an old pinned video on the first page
widens neither the range in which deletions are judged (no video/query
call, nothing judged deleted outside the listed range) nor the listing.
"""
import unittest

import harness
from harness import Emulator, Mirror

T0 = 1760000000
QUERY = "/v2/video/query/"


class ListingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emu = Emulator().start()
        cls.emu.config(rate_limit=0)
        cls.m = Mirror(cls.emu, https=False)
        cls.accounts = {"pin": 30, "wide": 30, "incl": 45}
        for i, (n, count) in enumerate(sorted(cls.accounts.items())):
            cls.emu.add_user(n)
            cls.emu.generate(n, count, newest=T0, step=3600, seed=40 + i)
        cls.write({"pin": 20, "wide": "all", "incl": 30})
        for n in sorted(cls.accounts):
            p = cls.m.auth_code(n, n)
            if p.returncode != 0:
                raise AssertionError(p.stderr)

    @classmethod
    def write(cls, quantities):
        cls.m.write_config([{"name": n, "quantity": q}
                            for n, q in sorted(quantities.items())])

    @classmethod
    def tearDownClass(cls):
        cls.m.cleanup()
        cls.emu.stop()

    def sync(self, name):
        self.emu.reset_counters()
        p = self.m.run("sync", name)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p

    def kept(self, name):
        """The account's listing: ids in position order, and positions."""
        rows = self.m.sql("SELECT id, position FROM videos WHERE account = ?"
                          " AND position IS NOT NULL AND deleted_at IS NULL"
                          " ORDER BY position", name)
        return [r["id"] for r in rows], [r["position"] for r in rows]

    def queries(self, name):
        return self.emu.counters()["by_user"].get(name, {}).get(QUERY, 0)

    def test_pinned_repeated_within_the_slice(self):
        truth = [v["id"] for v in self.emu.videos("pin")]
        self.emu.pin_videos("pin", [truth[5]])
        self.sync("pin")
        ids, pos = self.kept("pin")
        # First occurrence decides: the pinned video first, then the
        # listing without it; 20 distinct videos at 1..20.
        self.assertEqual(pos, list(range(1, 21)))
        self.assertEqual(ids, [truth[5]] + truth[:5] + truth[6:20])
        self.assertEqual(len(set(ids)), 20)
        self.assertEqual(len(self.m.videos("pin")), 20)

    def test_old_pinned_does_not_widen_deletions(self):
        truth = [v["id"] for v in self.emu.videos("wide")]
        self.sync("wide")
        self.assertEqual(len(self.m.videos("wide")), 30)
        # Now only 20 are kept; an old video is pinned, and one below the
        # listed range is deleted at TikTok.
        self.write({"pin": 20, "wide": 20, "incl": 30})
        self.addCleanup(self.write, {"pin": 20, "wide": "all", "incl": 30})
        self.emu.pin_videos("wide", [truth[28]])
        self.emu.delete_videos("wide", [truth[24]])
        p = self.sync("wide")
        ids, pos = self.kept("wide")
        self.assertEqual(pos, list(range(1, 21)))
        self.assertEqual(ids, [truth[28]] + truth[:19])
        # The listed range ends at truth[18]: nothing below it is judged.
        self.assertEqual(self.queries("wide"), 0)
        rows = {r["id"]: r for r in self.m.videos("wide")}
        self.assertIsNone(rows[truth[24]]["deleted_at"])
        self.assertEqual(sum(1 for r in rows.values()
                             if r["deleted_at"] is not None), 0)
        self.assertNotIn("deleted", p.stderr.replace("0 deleted", ""))

    def test_inclusive_cursor(self):
        truth = [v["id"] for v in self.emu.videos("incl")]
        self.emu.config(cursor_inclusive=True)
        self.addCleanup(self.emu.config, cursor_inclusive=False)
        self.sync("incl")
        ids, pos = self.kept("incl")
        self.assertEqual(pos, list(range(1, 31)))
        self.assertEqual(ids, truth[:30])


if __name__ == "__main__":
    harness.main()
