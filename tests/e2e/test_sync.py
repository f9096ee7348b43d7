#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""End to end: authorize two accounts against the emulator (one through
the loopback redirect, one with --code), sync them with different
before/start/quantity settings over HTTPS, and check every column of every
row and every cover's bytes against the emulator's truth. A second sync
with nothing changed fetches no cover and changes no updated_at."""
import json
import os
import re
import time
import unittest

import harness
from harness import Emulator, Mirror, EXT, expected_rows

# Awkward text, as TikTok sends it: emulator JSON is ASCII-only, so
# emoji arrive as surrogate-pair escapes.
SPECIAL = [
    {"title": "Smile \U0001F600 and \U0001F469\u200d\U0001F4BB",
     "video_description": "emoji \U0001F389 party"},
    {"title": "\u4e2d\u6587\u6807\u9898 \u65e5\u672c\u8a9e",
     "video_description": "CJK \ud55c\uad6d\uc5b4"},
    {"title": 'quotes "double" and \'single\' and \\ backslash',
     "video_description": "line one\nline two\r\n\ttabbed"},
    {"title": "x" * 140 + "0123456789",
     "video_description": "\u00e9" * 150},
    {"title": "big numbers", "view_count": 5000000000,
     "like_count": 2147483647, "comment_count": 7, "share_count": 3},
]
BEFORE = "2025-06-01"
BEFORE_MS = 1748736000 * 1000


class SyncTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emu = Emulator().start()
        cls.m = Mirror(cls.emu, https=True)
        emu = cls.emu
        emu.add_user("alice", "Alice \U0001F3B5")
        emu.add_user("bob", "Bob")
        # alice: 45 videos, several pages, mixed cover formats.
        emu.generate("alice", 40, newest=1760000000, step=86400, seed=1,
                     formats=["jpeg", "png", "webp"])
        emu.add_videos("alice", [dict(v, create_time=1760100000 + i * 60)
                                 for i, v in enumerate(SPECIAL)])
        # bob: 30 videos around the "before" date.
        emu.generate("bob", 30, newest=BEFORE_MS // 1000 + 5 * 86400,
                     step=86400, seed=2)
        cls.m.write_config([
            {"name": "alice", "quantity": "all", "cache": 3600},
            {"name": "bob", "before": BEFORE, "start": 3, "quantity": 7},
        ])

    @classmethod
    def tearDownClass(cls):
        cls.m.cleanup()
        cls.emu.stop()

    def check_account(self, name, user, rows, truth):
        self.assertEqual([r["id"] for r in rows], [v["id"] for v in truth])
        for pos, (r, v) in enumerate(zip(rows, truth), 1):
            self.assertEqual(r["account"], name)
            self.assertEqual(r["position"], pos)
            self.assertEqual(r["title"], v["title"])
            self.assertEqual(r["description"], v["video_description"])
            self.assertEqual(r["duration"], v["duration"])
            self.assertEqual(r["width"], v["width"])
            self.assertEqual(r["height"], v["height"])
            self.assertEqual(r["embed_link"], v["embed_link"])
            self.assertEqual(r["embed_html"], v["embed_html"])
            self.assertEqual(r["share_url"], v["share_url"])
            self.assertEqual(r["created_at"], v["create_time"])
            self.assertEqual(r["total_shares"], v["share_count"])
            self.assertEqual(r["total_likes"], v["like_count"])
            self.assertEqual(r["total_comments"], v["comment_count"])
            self.assertEqual(r["total_views"], v["view_count"])
            self.assertIsNone(r["deleted_at"])
            self.assertEqual(r["cover"], "%s/%s.%s" % (
                name, v["id"], EXT[v["cover_format"]]))
            self.assertEqual(self.m.cover_sha(r["cover"]),
                             v["cover_sha256"])
            self.assertEqual(r["first_seen_at"], r["updated_at"])

    def test_1_auth(self):
        rc, out, err = self.m.auth_loopback("alice", "alice")
        self.assertEqual(rc, 0, err)
        p = self.m.auth_code("bob", "bob")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("bob: authorized", p.stdout)
        secrets = os.path.join(self.m.dir, "secrets.db")
        self.assertEqual(os.stat(secrets).st_mode & 0o777, 0o600)
        # Exactly two codes were exchanged: the forged redirect was not.
        c = self.emu.counters()
        self.assertEqual(c["oauth"]["authorization_code"], 2)

    def test_2_sync(self):
        t0 = int(time.time())
        p = self.m.run("sync", check=0)
        t1 = int(time.time())
        state = self.emu.state()
        alice = state["users"]["alice"]
        bob = state["users"]["bob"]
        self.assertEqual(len(alice["videos"]), 45)
        self.check_account("alice", "alice", self.m.videos("alice"),
                           expected_rows(alice["videos"], quantity="all"))
        self.check_account("bob", "bob", self.m.videos("bob"),
                           expected_rows(bob["videos"], BEFORE_MS, 3, 7))
        for name, user in (("alice", alice), ("bob", bob)):
            a = self.m.account(name)
            self.assertEqual(a["state"], "ok", a["last_error"])
            self.assertEqual(a["open_id"], user["open_id"])
            self.assertEqual(a["display_name"], user["display_name"])
            self.assertIsNone(a["last_error"])
            self.assertTrue(t0 <= a["last_success_at"] <= t1)
            self.assertEqual(a["next_sync_at"],
                             a["last_success_at"] + 3600)
            self.assertGreater(a["token_expires_at"], t0)
            self.assertGreater(a["refresh_expires_at"],
                               a["token_expires_at"])
        # The listing paged: 45 videos need 3 pages.
        c = self.emu.counters()
        self.assertGreaterEqual(c["by_user"]["alice"]["/v2/video/list/"], 3)
        self.assertEqual(c["cdn"], 45 + 7 + 2)  # covers and two avatars
        # No token, secret or signature reached the mirror or the log.
        with open(self.m.db, "rb") as f:
            blob = f.read()
        for needle in (b"act.", b"rft.", b"x-signature",
                       b"test-client-secret"):
            self.assertNotIn(needle, blob)
            self.assertNotIn(needle.decode(), p.stderr)

    def test_3_resync_unchanged(self):
        before = self.m.sql("SELECT * FROM videos ORDER BY account, id")
        files = {}
        for root, _, names in os.walk(self.m.covers):
            for n in names:
                st = os.stat(os.path.join(root, n))
                files[os.path.join(root, n)] = (st.st_ino, st.st_mtime_ns)
        self.emu.reset_counters()
        time.sleep(1.1)
        self.m.run("sync", check=0)
        self.assertEqual(self.emu.counters()["cdn"], 0)
        after = self.m.sql("SELECT * FROM videos ORDER BY account, id")
        self.assertEqual(before, after)
        files2 = {}
        for root, _, names in os.walk(self.m.covers):
            for n in names:
                st = os.stat(os.path.join(root, n))
                files2[os.path.join(root, n)] = (st.st_ino, st.st_mtime_ns)
        self.assertEqual(files, files2)

    def test_4_change(self):
        vid = self.emu.videos("alice")[0]
        self.emu.update_video("alice", vid["id"], like_count=999,
                              new_cover=True)
        other = self.emu.videos("alice")[1]
        self.emu.reset_counters()
        time.sleep(1.1)
        self.m.run("sync", "alice", check=0)
        self.assertEqual(self.emu.counters()["cdn"], 1)
        row = self.m.sql("SELECT * FROM videos WHERE id = ?", vid["id"])[0]
        self.assertEqual(row["total_likes"], 999)
        self.assertGreater(row["updated_at"], row["first_seen_at"])
        self.assertEqual(self.m.cover_sha(row["cover"]),
                         self.emu.videos("alice")[0]["cover_sha256"])
        row2 = self.m.sql("SELECT * FROM videos WHERE id = ?", other["id"])
        self.assertEqual(row2[0]["updated_at"], row2[0]["first_seen_at"])

    def test_5_readers(self):
        p = self.m.run("videos", "bob", "--json", check=0)
        got = json.loads(p.stdout)
        rows = self.m.sql("SELECT * FROM videos WHERE account = 'bob' AND "
                          "position IS NOT NULL ORDER BY position")
        self.assertEqual([g["id"] for g in got], [r["id"] for r in rows])
        for g, r in zip(got, rows):
            for k, v in r.items():
                self.assertEqual(g[k], v, k)
            self.assertEqual(g["created_at_iso"], time.strftime(
                "%Y-%m-%dT%H:%M:%SZ", time.gmtime(r["created_at"])))
        p = self.m.run("videos", "alice", "--tsv", "--start", "2",
                       "--quantity", "3", check=0)
        lines = p.stdout.rstrip("\n").split("\n")
        self.assertEqual(lines[0].split("\t")[:3],
                         ["account", "id", "position"])
        self.assertEqual(len(lines), 4)
        want = [v["id"] for v in self.emu.videos("alice")[1:4]]
        self.assertEqual([ln.split("\t")[1] for ln in lines[1:]], want)
        p = self.m.run("status", "--json", check=0)
        st = json.loads(p.stdout)
        self.assertEqual([a["name"] for a in st["accounts"]],
                         ["alice", "bob"])
        self.assertEqual(st["accounts"][0]["videos"], 45)
        self.assertEqual(st["accounts"][1]["videos"], 7)
        p = self.m.run("videos", "nobody", check=2)
        self.assertIn("nobody", p.stderr)
        p = self.m.run("sync", "nobody", check=2)
        p = self.m.run("check", check=0)
        self.assertIn("configuration OK", p.stdout)


    def test_6_steps(self):
        """-v logs each step of a refresh as it is entered, in order; a
        token refresh in the middle of the listing goes back to it."""
        self.emu.fault("/v2/video/list/", "status", status=401,
                       code="access_token_invalid", after=1, user="alice")
        try:
            p = self.m.run("-v", "sync", "alice", check=0)
        finally:
            self.emu.clear_faults()
        steps = re.findall(r"alice: (\w+) -> (\w+)", p.stderr)
        self.assertEqual(steps, [("start", "user"), ("user", "list"),
                                 ("list", "token"), ("token", "list"),
                                 ("list", "covers"), ("covers", "apply")],
                         p.stderr)
        self.assertEqual(self.m.sql("SELECT state FROM accounts WHERE"
                                    " name = 'alice'")[0]["state"], "ok")


if __name__ == "__main__":
    harness.main()
