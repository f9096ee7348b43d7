#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Readable output and search where consumers look (issue 14): `videos --table` aligns its columns by
display width with emoji and CJK titles; `--date-format` gets a column of
its own in TSV (created_at_formatted, as in JSON) while created_at_iso
stays ISO 8601; the per-refresh log line says "N listed"; a pipe closed
early (`| head -1`) ends the command quietly; `sqlite-utils search
mirror.db videos WORD` (the Debian package) finds videos through the
videos_fts table whose content= is videos, exact through inserts, updates
and deletes, and a schema version 1 mirror is migrated to it at start.
"""
import json
import os
import shutil
import sqlite3
import subprocess
import time
import unicodedata
import unittest

import harness
from harness import Emulator, Mirror, command
from checks import auth_all

TITLES = ["plain quokka title", "🎬 behind the scenes 🎬🎬",
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

    def test_table_wide_date_format(self):
        # A --date-format wider than any fixed run of spaces (100 columns):
        # the header's CREATED is padded with spaces only, and every row's
        # date fills its column, so the columns after it still line up.
        fmt = "%Y-%m-%d " + "x" * 89
        p = self.m.run("videos", "alice", "--table", "--date-format", fmt,
                       check=0)
        lines = p.stdout.splitlines()
        self.assertEqual(len(lines), 1 + len(TITLES), p.stdout)
        head = lines[0]
        start = head.index("CREATED")
        views = head.index("VIEWS")
        self.assertRegex(head[start:views], r"^CREATED {93} +$", head)
        for ln in lines[1:]:
            self.assertRegex(ln[start:start + 100],
                             r"^\d{4}-\d\d-\d\d x{89}$", ln)
            self.assertEqual(ln[start + 100:start + 102], "  ", ln)

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
                if harness.VALGRIND:
                    # Killed by SIGPIPE mid-work, as cat is: memcheck's
                    # report of what was still allocated then is no leak.
                    err = b"".join(x for x in err.splitlines(True)
                                   if not x.startswith(b"=="))
                self.assertEqual(err, b"")
                self.assertIn(rc, (0, -13))  # -13: SIGPIPE, as cat


    def search(self, word, db=None):
        p = subprocess.run([SQLITE_UTILS, "search", db or self.m.db,
                            "videos", word, "-c", "account", "-c", "title"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def fts_ok(self, db=None):
        con = sqlite3.connect(db or self.m.db)
        try:
            con.execute("INSERT INTO videos_fts (videos_fts, rank) "
                        "VALUES ('integrity-check', 1)")
            names = [r[0] for r in con.execute(
                "SELECT name FROM sqlite_master WHERE name LIKE '%fts%' "
                "AND type = 'table' AND name NOT LIKE 'videos_fts_%'")]
            self.assertEqual(names, ["videos_fts"])
            self.assertEqual(con.execute("PRAGMA user_version")
                             .fetchone()[0], 2)
        finally:
            con.rollback()
            con.close()

    @unittest.skipIf(shutil.which("sqlite-utils") is None,
                     "sqlite-utils is not installed (make test installs it)")
    def test_zz_sqlite_utils_search(self):
        """Last: it edits and forgets alice."""
        rows = self.search("ramen")
        self.assertEqual([r["title"] for r in rows], [TITLES[-1]])
        self.assertEqual(rows[0]["account"], "alice")
        self.assertEqual(len(self.search("crème")), 1)
        self.fts_ok()
        # An edited title: the old word is gone, the new one found.
        vid = self.m.sql("SELECT id FROM videos WHERE title = ?",
                         TITLES[0])[0]["id"]
        self.emu.update_video("alice", vid, title="zucchini fritters")
        self.m.run("sync", "alice", check=0)
        self.assertEqual([r["title"] for r in self.search("zucchini")],
                         ["zucchini fritters"])
        self.assertEqual(self.search("quokka"), [])
        self.fts_ok()
        # Rows deleted from the mirror (forget) leave the index too.
        before = len(self.search("ramen"))
        self.m.write_config([{"name": "bulk", "quantity": "all"}],
                            rate_limit=1000000)
        self.m.run("forget", "alice", "--yes", check=0)
        self.assertEqual(self.search("ramen"), [])
        self.assertEqual(before, 1)
        self.fts_ok()

    @unittest.skipIf(shutil.which("sqlite-utils") is None,
                     "sqlite-utils is not installed (make test installs it)")
    def test_migrates_version_1(self):
        """A mirror of schema version 1 (video_keys and a videos_fts of
        its own) is migrated at the first writable open, in one go."""
        m = Mirror(self.emu)
        self.addCleanup(m.cleanup)
        m.write_config([{"name": "alice"}])
        auth_all(m, ["alice"])
        m.run("sync", check=0)
        con = sqlite3.connect(m.db)
        con.executescript(V1_FTS)
        con.close()
        # A reader reads version 1 as it is.
        p = m.run("videos", "alice", "--json", check=0)
        self.assertEqual(len(json.loads(p.stdout)), len(TITLES))
        # The next writer migrates: one index, content=videos.
        m.run("sync", check=0)
        con = sqlite3.connect(m.db)
        tables = {r[0] for r in con.execute(
            "SELECT name FROM sqlite_master")}
        con.close()
        self.assertNotIn("video_keys", tables)
        self.assertNotIn("videos_fts_insert", tables)
        self.fts_ok(m.db)
        self.assertEqual(len(self.search("ramen", m.db)), 1)


SQLITE_UTILS = shutil.which("sqlite-utils") or "sqlite-utils"

# Version 1's search objects, as lib/store.c made them.
V1_FTS = """
DROP TRIGGER videos_ai; DROP TRIGGER videos_ad; DROP TRIGGER videos_au;
DROP TABLE videos_fts;
CREATE TABLE video_keys (key INTEGER PRIMARY KEY, account TEXT NOT NULL,
  id TEXT NOT NULL, UNIQUE (account, id));
CREATE VIRTUAL TABLE videos_fts USING fts5(title, description,
  tokenize = 'unicode61 remove_diacritics 2');
CREATE TRIGGER videos_fts_insert AFTER INSERT ON videos BEGIN
  INSERT OR IGNORE INTO video_keys (account, id) VALUES (new.account, new.id);
  INSERT INTO videos_fts (rowid, title, description)
   SELECT key, new.title, new.description FROM video_keys
   WHERE account = new.account AND id = new.id;
END;
CREATE TRIGGER videos_fts_delete AFTER DELETE ON videos BEGIN
  DELETE FROM videos_fts WHERE rowid = (SELECT key FROM video_keys
   WHERE account = old.account AND id = old.id);
  DELETE FROM video_keys WHERE account = old.account AND id = old.id;
END;
INSERT INTO video_keys (account, id) SELECT account, id FROM videos;
INSERT INTO videos_fts (rowid, title, description)
  SELECT k.key, v.title, v.description FROM videos v
  JOIN video_keys k ON k.account = v.account AND k.id = v.id;
PRAGMA user_version = 1;
"""


if __name__ == "__main__":
    harness.main()
