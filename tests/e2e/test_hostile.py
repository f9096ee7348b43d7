#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""End to end: hostile input (issue 5, item 2).

Five accounts refresh together, each facing one kind of hostility:

  covers  covers that are HTML, not an image, empty, over 10 MiB with and
          without Content-Length, endless: the row is written with cover
          NULL, or keeps its previous cover file, and the cover is fetched
          again on the next refresh;
  ids     video ids with '/', '..', NUL, non-digits, 21 digits: skipped and
          logged, never a file name, the valid videos around them mirrored;
  text    titles with \\u0000, lone surrogates, invalid UTF-8, duplicate
          keys (the last wins), numbers out of range, a title over the
          64 KiB cap, nesting in unknown fields: stored as design.md says;
          then the same hostility on rows already mirrored: nothing lost;
  big     a response over the 4 MiB HTTP cap: refused with a clear error,
          the rows as they were;
  deep    nesting deeper than the JSON limit: that page fails (retried),
          the process never crashes, the rows as they were.

After every run nothing was written outside the covers folder (every file
under the scratch folder is accounted for) and no temporary file is left.
A last test runs `check` and `sync` on every broken configuration of
tests/fixtures/config: FILE:LINE:COLUMN, exit 2, nothing created.
"""
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import harness
from harness import BIN, ROOT, Emulator, Mirror
from checks import (assert_mirrors, auth_all, files_under, listing,
                    snapshot, temp_files)

ACCOUNTS = ("covers", "ids", "text", "big", "deep")
T0 = 1760000000
MIB = 1024 * 1024

# Ids TikTok must never get to name a file with.
BAD_IDS = ["12/34", "..", ".", "../../escaped", "1\x00", "1\x002", "abc",
           "1" * 21, "-1", "+1", " 1", "1\n", "\u0661\u0662\u0663",
           "0x1F", "1e5", "%2e%2e", "1.5", "\x00"]

# Hostile covers: fault rule (on the video's CDN path) and a word of the
# warning it must log.
COVER_FAULTS = [
    ({"kind": "cover_html"}, "not a JPEG, PNG or WebP image"),
    ({"kind": "cover_badmagic"}, "not a JPEG, PNG or WebP image"),
    ({"kind": "cover_empty"}, "empty response"),
    ({"kind": "cover_huge", "bytes": 11 * MIB}, "10485760"),
    ({"kind": "cover_huge", "bytes": 11 * MIB, "chunked": True}, "10485760"),
    ({"kind": "cover_huge", "bytes": 1 << 34, "chunked": True}, "10485760"),
]

# Text videos: fields to add with, and what the mirror must hold. Raw JSON
# literals use U+DC80..U+DCFF for raw bytes (the emulator sends them as
# single bytes 0x80..0xFF).
NEST = {"a": [{"b": [1, {"c": None}]}]}
for _ in range(18):
    NEST = {"n": [NEST]}
TEXT = [
    ("nul", {"title": "a\x00b", "video_description": "\x00"},
     {"title": "ab", "description": ""}),
    ("lone_high", {"raw_title_json": '"x \\ud800 y"'},
     {"title": "x \ufffd y"}),
    ("lone_low", {"raw_title_json": '"\\udc00z"'}, {"title": "\ufffdz"}),
    ("reversed", {"raw_title_json": '"\\udc00\\ud800"'},
     {"title": "\ufffd\ufffd"}),
    ("pair", {"raw_title_json": '"\\ud83d\\ude00 ok"'},
     {"title": "\U0001F600 ok"}),
    ("bad_bytes", {"raw_title_json": '"bad \udcff\udcfe end"'},
     {"title": "bad \ufffd\ufffd end"}),
    ("overlong", {"raw_title_json": '"\udcc0\udcaf/"'},
     {"title": "\ufffd\ufffd/"}),
    ("cut_seq", {"raw_title_json": '"\udce2\udc82 x"'},
     {"title": "\ufffd x"}),
    ("utf8_surrogate", {"raw_title_json": '"\udced\udca0\udc80"'},
     {"title": "\ufffd\ufffd\ufffd"}),
    ("escapes", {"raw_title_json": '"\\u00e9\\/\\b\\f\\n\\r\\t\\"\\\\"'},
     {"title": "\u00e9/\b\f\n\r\t\"\\"}),
    ("dup_keys", {"title": "first", "like_count": 1,
                  "raw_members_json": '"title":"second","like_count":77'},
     {"title": "second", "total_likes": 77}),
    ("too_long", {"title": "y" * 70000, "like_count": 5},
     {"title": "", "total_likes": 5}),
    ("huge_count", {"like_count": 10 ** 30, "view_count": 9},
     {"total_likes": None, "total_views": 9}),
    ("negative", {"view_count": -5, "like_count": 3},
     {"total_views": None, "total_likes": 3}),
    ("fraction", {"duration": 7, "raw_members_json": '"duration":1.5'},
     {"duration": None}),
    ("int64_max", {"view_count": 2 ** 63 - 1},
     {"total_views": 2 ** 63 - 1}),
    ("nested", {"title": "nested unknown field", "extra": {"deep": NEST}},
     {"title": "nested unknown field"}),
]
COVER_NAME = re.compile(r"^(\d{1,20}|avatar)\.(jpg|png|webp)$")
MIRROR_FILES = re.compile(r"^(mirror|secrets)\.db(-wal|-shm|-journal|\.lock)?$")


def deep_value(depth):
    v = 1
    for _ in range(depth):
        v = {"x": [v]}
    return v


class HostileTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emu = Emulator().start()
        cls.emu.config(rate_limit=0)
        cls.m = Mirror(cls.emu, https=True)
        emu = cls.emu
        cls.keys = {}
        for i, n in enumerate(ACCOUNTS):
            u = emu.add_user(n)
            cls.keys[n] = hashlib.sha256(
                u["open_id"].encode()).hexdigest()[:16]
            emu.generate(n, 6, newest=T0, step=3600, seed=200 + i,
                         formats=["jpeg", "png"])
        # covers: six hostile ones between good ones.
        cls.hostile_covers = []
        for i, (rule, _) in enumerate(COVER_FAULTS):
            v = emu.add_videos("covers", [{"create_time": T0 + 100 + i,
                                           "title": rule["kind"]}])[0]
            cls.hostile_covers.append(v["id"])
        # ids: one bad id after each good one.
        for i, bad in enumerate(BAD_IDS):
            emu.add_videos("ids", [{"id": bad, "create_time": T0 - 1800 -
                                    i * 60, "title": "bad %d" % i}])
        # text: one video per case.
        cls.text_ids = {}
        for i, (name, fields, _) in enumerate(TEXT):
            v = emu.add_videos("text", [dict(fields, create_time=T0 + 100 +
                                             i)])[0]
            cls.text_ids[name] = v["id"]
        cls.m.write_config([{"name": n, "quantity": "all"} for n in ACCOUNTS],
                           concurrency=8, rate_limit=1000000)
        auth_all(cls.m, ACCOUNTS)
        cls.files = files_under(cls.m.dir)

    @classmethod
    def tearDownClass(cls):
        cls.m.cleanup()
        cls.emu.stop()

    def sync(self, want):
        p = self.m.run("-v", "sync")
        self.assertEqual(p.returncode, want, p.stderr)
        self.assertTrue(p.returncode >= 0, "killed by a signal")
        self.check_files()
        return p

    def check_files(self):
        """Nothing but the mirror, the secrets and cover files by valid
        names appeared; nothing existing vanished; no temporary file."""
        now = files_under(self.m.dir)
        for rel, kind in now.items():
            if rel in self.files:
                continue
            parts = rel.split(os.sep)
            if parts[0] == "covers" and len(parts) == 1 and kind == "dir":
                continue
            if parts[0] == "covers" and len(parts) == 2 and kind == "dir":
                self.assertIn(parts[1], ACCOUNTS)
                continue
            if parts[0] == "covers" and len(parts) == 3 and kind == "file":
                self.assertIn(parts[1], ACCOUNTS)
                self.assertRegex(parts[2], COVER_NAME)
                continue
            if len(parts) == 1 and kind == "file":
                self.assertRegex(parts[0], MIRROR_FILES)
                continue
            self.fail("unexpected %s %s" % (kind, rel))
        for rel in self.files:
            if not rel.startswith("covers"):
                self.assertIn(rel, now)
        self.assertEqual(temp_files(self.m.covers), [])
        parent = os.path.dirname(self.m.dir)
        self.assertFalse(os.path.exists(os.path.join(parent, "escaped")))
        self.files = now

    def cover_rule(self, account, vid, rule):
        path = "/cdn/%s/%s/" % (self.keys[account], vid)
        return dict(rule, path=path, times=-1)

    def row(self, account, vid):
        rows = self.m.sql("SELECT * FROM videos WHERE account = ? AND id = ?",
                          account, vid)
        return rows[0] if rows else None

    def test_1_hostile(self):
        emu = self.emu
        emu.faults(*[self.cover_rule("covers", vid, rule) for vid, (rule, _)
                     in zip(self.hostile_covers, COVER_FAULTS)])
        p = self.sync(0)
        err = p.stderr

        # covers: hostile ones NULL, the rest mirrored.
        for vid, (rule, word) in zip(self.hostile_covers, COVER_FAULTS):
            with self.subTest(cover=rule):
                r = self.row("covers", vid)
                self.assertIsNotNone(r)
                self.assertIsNone(r["cover"])
                self.assertIsNone(r["deleted_at"])
                self.assertRegex(err, r"cover %s: [^\n]*%s" % (vid, word))
        truth = [v for v in emu.videos("covers")
                 if v["id"] not in self.hostile_covers]
        for r in listing(self.m, "covers"):
            if r["id"] in self.hostile_covers:
                continue
            v = [t for t in truth if t["id"] == r["id"]][0]
            self.assertEqual(self.m.cover_sha(r["cover"]), v["cover_sha256"])
        self.assertEqual(self.m.account("covers")["state"], "ok")

        # ids: skipped and logged; the valid ones mirrored in order.
        good = [v for v in emu.videos("ids") if re.fullmatch(r"[0-9]{1,20}",
                                                            v["id"])]
        self.assertEqual(len(good), 6)
        rows = listing(self.m, "ids")
        self.assertEqual([r["id"] for r in rows], [v["id"] for v in good])
        self.assertEqual([r["position"] for r in rows], list(range(1, 7)))
        self.assertEqual(self.m.sql("SELECT count(*) AS n FROM videos WHERE"
                                    " account = 'ids'")[0]["n"], 6)
        self.assertGreaterEqual(err.count("is not 1-20 digits"),
                                len(BAD_IDS))
        cdn = [e["path"] for e in emu.log() if e["path"].startswith(
            "/cdn/%s/" % self.keys["ids"]) and "/avatar/" not in e["path"]]
        self.assertEqual(len(cdn), 6)
        for path in cdn:
            self.assertRegex(path, r"^/cdn/[0-9a-f]{16}/[0-9]{1,20}/")

        # text: as design.md stores it.
        for name, _, want in TEXT:
            with self.subTest(text=name):
                r = self.row("text", self.text_ids[name])
                self.assertIsNotNone(r, name)
                self.assertIsNone(r["deleted_at"])
                self.assertIsNotNone(r["position"])
                for k, v in want.items():
                    self.assertEqual(r[k], v)
        self.assertIn("ignoring title: string longer than 65536", err)
        self.assertIn("ignoring like_count", err)
        # Every stored text reads back as valid UTF-8, and the JSON output
        # of every hostile row parses.
        out = self.m.run("videos", "text", "--json", check=0).stdout
        self.assertEqual(len(json.loads(out)), 6 + len(TEXT))
        for n in ACCOUNTS:
            self.assertEqual(self.m.account(n)["state"], "ok")

    def test_2_hostile_on_mirrored_rows(self):
        emu = self.emu
        emu.clear_faults()
        before = {n: snapshot(self.m, n) for n in ACCOUNTS}
        # covers: a new cover whose download is hostile keeps the old file.
        keep = [r for r in listing(self.m, "covers")
                if r["id"] not in self.hostile_covers][0]
        type(self).keep_id = keep["id"]
        self.assertTrue(keep["cover"].endswith(".jpg"))
        emu.update_video("covers", keep["id"], new_cover=True,
                         cover_format="webp")
        emu.faults(self.cover_rule("covers", keep["id"],
                                   {"kind": "cover_html"}))
        # text: hostile values on rows already mirrored lose nothing.
        ids = self.text_ids
        emu.update_video("text", ids["pair"], title="z" * 70000)
        emu.update_video("text", ids["nul"], like_count=10 ** 30)
        emu.update_video("text", ids["escapes"], view_count=-1,
                         raw_members_json='"duration":"long"')
        # big: one page over the 4 MiB cap.
        first = emu.videos("big")[0]["id"]
        emu.update_video("big", first, extra={"pad": "x" * (4 * MIB + 1000)})
        # deep: nesting past the JSON limit in an unknown field.
        emu.update_video("deep", emu.videos("deep")[0]["id"],
                         extra={"deep": deep_value(80)})
        p = self.sync(1)

        r = self.row("covers", keep["id"])
        self.assertEqual(r, [x for x in before["covers"]
                             if x["id"] == keep["id"]][0])
        self.assertTrue(os.path.isfile(os.path.join(self.m.covers,
                                                    r["cover"])))
        self.assertEqual(snapshot(self.m, "text"), before["text"])
        self.assertEqual(self.m.account("text")["state"], "ok")
        self.assertIn("ignoring title: string longer than 65536", p.stderr)
        for n, words in (("big", ["video/list", "4194304-byte limit",
                                  "after 4 attempts"]),
                         ("deep", ["video/list", "nesting deeper than 64",
                                   "after 4 attempts"])):
            with self.subTest(account=n):
                a = self.m.account(n)
                self.assertEqual(a["state"], "error")
                for w in words:
                    self.assertIn(w, a["last_error"])
                self.assertEqual(snapshot(self.m, n), before[n])

    def test_3_converge(self):
        emu = self.emu
        emu.clear_faults()
        emu.update_video("big", emu.videos("big")[0]["id"], extra={})
        emu.update_video("deep", emu.videos("deep")[0]["id"], extra={})
        old = self.row("covers", self.keep_id)
        self.assertTrue(old["cover"].endswith(".jpg"))
        self.sync(0)
        for n in ("covers", "big", "deep"):
            a = self.m.account(n)
            self.assertEqual(a["state"], "ok", a["last_error"])
            assert_mirrors(self, self.m, emu, n, n)
        # The hostile covers were fetched again; the replaced one is gone.
        self.assertFalse(os.path.exists(os.path.join(self.m.covers,
                                                     old["cover"])))
        names = sorted(os.listdir(os.path.join(self.m.covers, "covers")))
        rows = sorted(os.path.basename(r["cover"])
                      for r in listing(self.m, "covers"))
        self.assertEqual([x for x in names if not x.startswith("avatar")],
                         rows)
        # The hostile text values are still refused, the rest converges.
        r = self.row("text", self.text_ids["pair"])
        self.assertEqual(r["title"], "\U0001F600 ok")

    def test_4_bad_create_time_on_a_mirrored_row(self):
        """A mirrored video TikTok still returns, but with a create_time
        that cannot be used, is skipped by the listing; video/query returns
        it too, so it must not be marked deleted."""
        emu = self.emu
        emu.clear_faults()
        self.sync(0)
        vid = listing(self.m, "text")[1]["id"]
        before = self.row("text", vid)
        emu.update_video("text", vid, raw_members_json='"create_time":"soon"')
        try:
            p = self.sync(0)
            r = self.row("text", vid)
            self.assertIn("no valid create_time", p.stderr)
            for k in ("title", "total_views", "cover", "created_at"):
                self.assertEqual(r[k], before[k])
            self.assertIsNone(r["deleted_at"])
        finally:
            emu.update_video("text", vid, raw_members_json='"x":1')

    def test_6_planted_symlinks(self):
        """A symlink planted at a cover's name, or in place of an account's
        covers folder, never gets anything written through it."""
        emu = self.emu
        emu.clear_faults()
        self.sync(0)
        outside = os.path.join(self.m.dir, "outside")
        os.mkdir(outside)
        victim = os.path.join(outside, "victim.txt")
        with open(victim, "w") as f:
            f.write("keep me\n")
        # A cover file replaced by a symlink: fetched again, the link
        # replaced by a real file, the target untouched.
        r = [x for x in listing(self.m, "covers")
             if x["id"] not in self.hostile_covers][1]
        path = os.path.join(self.m.covers, r["cover"])
        os.unlink(path)
        os.symlink(victim, path)
        # An account's covers folder replaced by a symlink: that account
        # fails with a clear error, the others go on.
        folder = os.path.join(self.m.covers, "deep")
        shutil.move(folder, folder + ".moved")
        os.symlink(outside, folder)
        emu.update_video("deep", emu.videos("deep")[0]["id"], new_cover=True)
        self.files = files_under(self.m.dir)
        p = self.m.run("sync")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual(temp_files(self.m.covers), [])
        with open(victim) as f:
            self.assertEqual(f.read(), "keep me\n")
        self.assertEqual(sorted(os.listdir(outside)), ["victim.txt"])
        self.assertFalse(os.path.islink(path))
        self.assertEqual(self.m.cover_sha(r["cover"]), [
            v for v in emu.videos("covers") if v["id"] == r["id"]][0][
                "cover_sha256"])
        a = self.m.account("deep")
        self.assertEqual(a["state"], "error")
        self.assertIn("cannot write covers", a["last_error"])
        self.assertEqual(self.m.account("covers")["state"], "ok")
        os.unlink(folder)
        shutil.move(folder + ".moved", folder)
        self.sync(0)
        assert_mirrors(self, self.m, emu, "deep", "deep")

    def test_5_config_errors(self):
        """Every broken fixture: check and sync exit 2 with
        FILE:LINE:COLUMN (or FILE: when there is no position) and the
        fixture's exact message, and create nothing."""
        src = os.path.join(ROOT, "tests", "fixtures", "config")
        top = tempfile.mkdtemp(prefix="tiktok-mirror-config-")
        self.addCleanup(shutil.rmtree, top, True)
        work = os.path.join(top, "fixtures")
        shutil.copytree(src, work)
        for f in os.listdir(work):
            os.chmod(os.path.join(work, f), 0o600)
        listing_before = files_under(top)
        cases = 0
        for f in sorted(os.listdir(src)):
            if not f.endswith(".expected"):
                continue
            name = f[:-len(".expected")]
            with open(os.path.join(src, f)) as fh:
                want = fh.read().rstrip("\n")
            if not want.startswith("@DIR@/"):
                continue  # a valid configuration
            yaml, mode = name, 0o600
            m = re.fullmatch(r"(.*)-(0[0-7]{3})", name)
            if m:
                yaml, mode = m.group(1), int(m.group(2), 8)
            path = os.path.join(work, yaml + ".yaml")
            if not os.path.exists(path):
                continue
            os.chmod(path, mode)
            want = want.replace("@DIR@", work)
            for cmd in ("check", "sync"):
                with self.subTest(fixture=name, cmd=cmd):
                    p = subprocess.run([BIN, "-c", path, cmd],
                                       capture_output=True, text=True,
                                       timeout=30, stdin=subprocess.DEVNULL,
                                       env=dict(os.environ,
                                                STATE_DIRECTORY=top))
                    self.assertEqual(p.returncode, 2, p.stderr)
                    self.assertIn(want.split("\n")[0], p.stderr)
                    self.assertRegex(p.stderr, r"^(\S+ \S+: )?%s(:\d+:\d+)?: "
                                     % re.escape(path))
                    self.assertEqual(files_under(top), listing_before)
            os.chmod(path, 0o600)
            cases += 1
        self.assertGreater(cases, 60)


if __name__ == "__main__":
    harness.main()
