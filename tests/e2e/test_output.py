#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Readable output (issue 14): `videos --table` aligns its columns by
display width with emoji and CJK titles; `--date-format` gets a column of
its own in TSV (created_at_formatted, as in JSON) while created_at_iso
stays ISO 8601; the per-refresh log line says "N listed"; a pipe closed
early (`| head -1`) ends the command quietly.
"""
import json
import os
import subprocess
import time
import unicodedata
import unittest

import harness
from harness import Emulator, Mirror, command
from checks import auth_all

TITLES = ["plain ascii title", "🎬 behind the scenes 🎬🎬",
          "你好世界，今天做饭", "café crème brûlée", "ｆｕｌｌｗｉｄｔｈ",
          "mixed 日本語 and 🍜 ramen " * 4]


def width(s):
    """Terminal columns, for the characters used above."""
    w = 0
    for ch in s:
        if unicodedata.combining(ch) or unicodedata.category(ch) == "Cf":
            continue
        w += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
    return w


class OutputTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emu = Emulator().start()
        cls.emu.config(rate_limit=0)
        cls.emu.add_user("alice")
        now = int(time.time())
        cls.emu.add_videos("alice", [
            {"title": t, "create_time": now - 3600 * (i + 1)}
            for i, t in enumerate(TITLES)])
        cls.emu.add_user("bulk")
        cls.emu.generate("bulk", 300, seed=3)
        cls.m = Mirror(cls.emu)
        cls.m.write_config([{"name": "alice"},
                            {"name": "bulk", "quantity": "all"}],
                           rate_limit=1000000)
        auth_all(cls.m, ["alice", "bulk"])
        cls.sync = cls.m.run("sync", check=0)

    @classmethod
    def tearDownClass(cls):
        cls.m.cleanup()
        cls.emu.stop()

    def test_table_aligned_by_display_width(self):
        p = self.m.run("videos", "alice", "--table", check=0)
        lines = p.stdout.splitlines()
        self.assertEqual(len(lines), 1 + len(TITLES), p.stdout)
        head = lines[0]
        self.assertRegex(head, r"^ POS  ID +CREATED +VIEWS  TITLE +COVER$")
        cover_col = width(head[:head.index("COVER")])
        for ln in lines[1:]:
            cover = ln.split()[-1]
            self.assertTrue(cover.startswith("alice/"), ln)
            self.assertEqual(width(ln[:ln.rindex(cover)]), cover_col,
                             "misaligned:\n%s\n%s" % (head, ln))
        # The long title is cut at 48 columns, never inside a character.
        long = [ln for ln in lines if "mixed" in ln][0]
        title = long[width(head[:head.index("TITLE")]):].rsplit("  ", 1)[0]
        self.assertLessEqual(width(title.rstrip()), 48)
        self.assertTrue(TITLES[-1].startswith(title.rstrip()), title)

    def test_date_format_column(self):
        p = self.m.run("videos", "alice", "--tsv", "--date-format",
                       "%d %b %Y", check=0)
        rows = [ln.split("\t") for ln in p.stdout.splitlines()]
        head = rows[0]
        self.assertEqual(head[-1], "created_at_formatted")
        iso = head.index("created_at_iso")
        for r in rows[1:]:
            self.assertEqual(len(r), len(head))
            self.assertRegex(r[iso], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
            self.assertRegex(r[-1], r"^\d\d [A-Z][a-z]{2} \d{4}$")
        # Without --date-format the columns are as before.
        p = self.m.run("videos", "alice", "--tsv", check=0)
        self.assertNotIn("created_at_formatted", p.stdout)
        # JSON names it the same way.
        p = self.m.run("videos", "alice", "--json", "--date-format", "%Y",
                       check=0)
        first = json.loads(p.stdout)[0]
        self.assertEqual(first["created_at_formatted"],
                         first["created_at_iso"][:4])

    def test_log_says_listed(self):
        self.assertRegex(self.sync.stderr,
                         r"info: alice: %d listed \(%d new, 0 updated, "
                         r"0 deleted\)" % (len(TITLES), len(TITLES)))
        self.assertRegex(self.sync.stderr, r"info: bulk: 300 listed \(")

    def test_pipe_closed_early(self):
        for args in (["videos", "bulk", "--tsv"],
                     ["videos", "bulk", "--json"],
                     ["videos", "bulk", "--table"]):
            with self.subTest(args=args):
                p = subprocess.Popen(command("-c", self.m.config, *args),
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL)
                first = p.stdout.readline()
                self.assertTrue(first)
                p.stdout.close()  # as `| head -1` does
                err = p.stderr.read()
                p.stderr.close()
                rc = p.wait(30)
                self.assertEqual(err, b"")
                self.assertIn(rc, (0, -13))  # -13: SIGPIPE, as cat


if __name__ == "__main__":
    harness.main()
