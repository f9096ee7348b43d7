#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""End to end: an account's hide, include and exclude against the
emulator (design.md, "Moderation").

- The listing is newest first, filtered, then start/quantity: "the 6
  newest #recipe or pasta videos, never #ad, never one hidden video" is 6
  videos even though they are spread over five pages; positions are
  1..6; `videos NAME`, `videos NAME --quantity all` (a query of the
  mirror) and `export` show exactly those.
- A video that was kept and is then filtered out keeps its row with
  position NULL; lifting the filter brings it back at the next sync.
- `sync --dry-run` lists each video the filters leave out, and why.
- A long archive under the rotation: changing the filters reads the whole
  listing again, so lifting `exclude` brings back videos deep in it.
- `run` takes new filters on SIGHUP.
- Bad values are configuration errors at FILE:LINE:COLUMN, exit 2.
"""
import json
import os
import re
import signal
import subprocess
import tempfile
import unittest

import harness
from harness import Emulator, Mirror
from daemon_util import wait_until

NEWEST = 1760000000
DAY = 86400


def kitchen_videos():
    """100 videos, newest first; every 8th a #recipe, a few pasta ones,
    some ads among them, one #adventure."""
    out = []
    for i in range(100):
        title, desc = "day %d" % i, "just a day"
        if i % 8 == 3:
            title = "Soup no. %d #Recipe" % i
        if i in (10, 50):
            desc = "Fresh PASTA, no hashtag"
        if i in (19, 59):                      # recipes that are ads
            title = "Sponsored soup #recipe #AD"
        if i == 27:                            # a recipe, with #adventure
            title = "Camp stew #recipe #adventure"
        out.append({"create_time": NEWEST - i * DAY, "title": title,
                    "video_description": desc})
    return out


def kept(truth, hide=(), include=(), exclude=()):
    """The filter in Python, as design.md says it (for the test data's
    ASCII text)."""
    def has(v, term):
        for text in (v["title"], v["video_description"]):
            t = text.lower()
            if not term.startswith("#"):
                if term.lower() in t:
                    return True
                continue
            for m in re.finditer(re.escape(term.lower()), t):
                end = m.end()
                if end == len(t) or not (t[end].isalnum() or t[end] == "_"):
                    return True
        return False
    return [v for v in truth if v["id"] not in hide
            and (not include or any(has(v, x) for x in include))
            and not any(has(v, x) for x in exclude)]


def yaml_list(items):
    return "[" + ", ".join(json.dumps(x) for x in items) + "]"


class FilterTest(unittest.TestCase):
    def setUp(self):
        self.emu = Emulator().start()
        self.addCleanup(self.emu.stop)
        self.m = Mirror(self.emu, https=False)
        self.addCleanup(self.m.cleanup)

    def configure(self, name, **keys):
        acct = {"name": name}
        for k, v in keys.items():
            acct[k] = yaml_list(v) if isinstance(v, (list, tuple)) else v
        self.m.write_config([acct])

    def listing(self, name):
        return self.m.sql("SELECT id, position FROM videos WHERE account = ?"
                          " AND position IS NOT NULL ORDER BY position",
                          name)

    def test_filtered_listing(self):
        emu, m = self.emu, self.m
        emu.add_user("kitchen", "Kitchen")
        emu.add_videos("kitchen", kitchen_videos())
        truth = emu.videos("kitchen")
        self.assertEqual(len(truth), 100)
        hidden = truth[3]["id"]                # the newest recipe
        rules = dict(hide=[hidden], include=["#recipe", "pasta"],
                     exclude=["#ad"])
        want = kept(truth, **rules)[:6]
        # Spread over pages of 20: the sixth is on the third page.
        self.assertGreater(truth.index(want[-1]), 40)
        self.configure("kitchen", quantity=6, **rules)
        self.assertEqual(m.auth_code("kitchen", "kitchen").returncode, 0)
        p = m.run("sync", check=0)

        rows = self.listing("kitchen")
        self.assertEqual([r["id"] for r in rows], [v["id"] for v in want])
        self.assertEqual([r["position"] for r in rows], list(range(1, 7)))
        for v in want:                          # what made them pass
            self.assertTrue("#recipe" in v["title"].lower() or
                            "pasta" in v["video_description"].lower(), v)
        ids = {v["id"] for v in want}
        self.assertNotIn(hidden, ids)
        self.assertIn(truth[27]["id"], ids)     # #adventure is not #ad
        self.assertNotIn(truth[19]["id"], ids)  # a #recipe with #AD
        self.assertIn(truth[10]["id"], ids)     # "PASTA" in the text
        # Filtered-out videos were not stored.
        stored = {r["id"] for r in m.videos("kitchen")}
        self.assertEqual(stored, ids)
        # my_videos, videos NAME (listing and query), export.
        self.assertEqual([r["id"] for r in m.sql(
            "SELECT id FROM my_videos WHERE account = 'kitchen'")],
            [v["id"] for v in want])
        out = json.loads(m.run("videos", "kitchen", "--json",
                               check=0).stdout)
        self.assertEqual([v["id"] for v in out], [v["id"] for v in want])
        out = json.loads(m.run("videos", "kitchen", "--quantity", "all",
                               "--json", check=0).stdout)
        self.assertEqual([v["id"] for v in out], [v["id"] for v in want])
        exp = os.path.join(m.dir, "export")
        m.run("export", "--out", exp, "--format", "json,csv", check=0)
        with open(os.path.join(exp, "kitchen.json")) as f:
            self.assertEqual([v["id"] for v in json.load(f)],
                             [v["id"] for v in want])
        with open(os.path.join(exp, "kitchen.csv")) as f:
            csv = f.read()
        self.assertNotIn(hidden, csv)
        self.assertEqual(sorted(os.listdir(os.path.join(exp, "covers",
                                                        "kitchen"))),
                         sorted([r["cover"].split("/")[1]
                                 for r in m.videos("kitchen")] +
                                ["avatar.jpg"]))

        # A dry run with a new exclude lists what it would leave out.
        newest_recipe = [v for v in want if "Soup" in v["title"]][0]
        rules2 = dict(rules, exclude=["#ad", "soup"])
        self.configure("kitchen", quantity=6, **rules2)
        p = m.run("sync", "--dry-run", check=0)
        self.assertIn('hidden %s (excluded by "soup")' % newest_recipe["id"],
                      p.stdout)
        self.assertIn("hidden %s (hidden by id)" % hidden, p.stdout)
        self.assertIn('hidden %s (excluded by "#ad")' % truth[19]["id"],
                      p.stdout)
        self.assertIn("hidden %s (no include term)" % truth[0]["id"],
                      p.stdout)
        self.assertRegex(p.stdout, r"kitchen: hide, include and exclude "
                                   r"leave out \d+ listed videos")
        self.assertEqual([r["id"] for r in self.listing("kitchen")],
                         [v["id"] for v in want], "a dry run wrote")

        # The real sync: a once kept video keeps its row, position NULL.
        m.run("sync", check=0)
        want2 = kept(truth, **rules2)[:6]
        self.assertEqual([r["id"] for r in self.listing("kitchen")],
                         [v["id"] for v in want2])
        row = m.sql("SELECT position, deleted_at FROM videos"
                    " WHERE account = 'kitchen' AND id = ?",
                    newest_recipe["id"])
        self.assertEqual(row, [{"position": None, "deleted_at": None}])

        # Lifting the filters brings the videos back.
        self.configure("kitchen", quantity=6)
        m.run("sync", check=0)
        self.assertEqual([r["id"] for r in self.listing("kitchen")],
                         [v["id"] for v in truth[:6]])
        self.assertEqual([r["position"] for r in self.listing("kitchen")],
                         list(range(1, 7)))

    def test_rotation_filter_change(self):
        """Over 200 videos and quantity all: later refreshes rotate through
        the archive (the 10 newest pages and a 10-page window of the 35).
        A changed filter reads everything again, so videos deep in the
        archive come back at once when exclude is lifted."""
        emu, m = self.emu, self.m
        emu.add_user("big", "Big")
        vids = [{"create_time": NEWEST - i * 3600,
                 "title": "clip %d%s" % (i, " #ad" if i % 7 == 0 else "")}
                for i in range(700)]
        emu.add_videos("big", vids)
        truth = emu.videos("big")
        self.configure("big", quantity="all", exclude=["#ad"])
        self.assertEqual(m.auth_code("big", "big").returncode, 0)
        m.run("sync", check=0)
        want = kept(truth, exclude=["#ad"])
        self.assertEqual([r["id"] for r in self.listing("big")],
                         [v["id"] for v in want])
        # The second refresh rotates (head and one window): same result.
        m.run("sync", check=0)
        self.assertEqual([r["id"] for r in self.listing("big")],
                         [v["id"] for v in want])
        # Lift the filter: every video, ranked 1..700, after one sync.
        self.configure("big", quantity="all")
        m.run("sync", check=0)
        rows = self.listing("big")
        self.assertEqual([r["id"] for r in rows], [v["id"] for v in truth])
        self.assertEqual(rows[-1]["position"], 700)
        # Exclude again: the #ad rows are mirrored now and keep position
        # NULL under the rotation too, deep in the archive included.
        self.configure("big", quantity="all", exclude=["#ad"])
        for _ in range(2):
            m.run("sync", check=0)
            rows = self.listing("big")
            self.assertEqual([r["id"] for r in rows],
                             [v["id"] for v in want])
            self.assertEqual([r["position"] for r in rows],
                             list(range(1, len(want) + 1)))
        self.assertEqual(len(m.videos("big")), 700)

    def test_sighup_applies_new_filters(self):
        emu, m = self.emu, self.m
        emu.add_user("kitchen", "Kitchen")
        emu.add_videos("kitchen", kitchen_videos())
        truth = emu.videos("kitchen")
        self.configure("kitchen", quantity=5, cache=3600)
        self.assertEqual(m.auth_code("kitchen", "kitchen").returncode, 0)
        log = open(os.path.join(m.dir, "run.log"), "w+")
        self.addCleanup(log.close)
        p = subprocess.Popen(harness.command("-c", m.config, "run"),
                             stdout=log, stderr=log,
                             stdin=subprocess.DEVNULL)

        def stop():
            if p.poll() is None:
                p.kill()
            p.wait(10)
        self.addCleanup(stop)

        def listed():
            try:
                return [r["id"] for r in self.listing("kitchen")]
            except Exception:           # no mirror yet
                return None
        wait_until(lambda: listed() == [v["id"] for v in truth[:5]], 30,
                   what="the first refresh")
        self.configure("kitchen", quantity=5, cache=3600,
                       include=["#recipe"], exclude=["#ad"])
        p.send_signal(signal.SIGHUP)
        want = [v["id"] for v in kept(truth, include=["#recipe"],
                                      exclude=["#ad"])[:5]]
        wait_until(lambda: listed() == want, 30,
                   what="the refresh with the new filters")
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(10), 0)
        log.seek(0)
        self.assertIn("kitchen: settings changed", log.read())

    def test_bad_values(self):
        m = self.m
        cases = [
            ('hide: ["7301234567890123456", "73x"]', 7, 35,
             "hide: an entry must be a video id"),
            ('include: ["#recipe", ""]', 7, 26,
             "include: a term must not be empty"),
            ('exclude: ["#ad", {a: 1}]', 7, 22,
             "exclude: every entry must be a term"),
            ('exclude: "#ad"', 7, 14, "exclude must be a list"),
        ]
        for line, ln, col, msg in cases:
            self.configure("kitchen")
            with open(m.config) as f:
                text = f.read()
            text = text.replace("  - name: kitchen\n",
                                "  - name: kitchen\n    %s\n" % line)
            with open(m.config, "w") as f:
                f.write(text)
            want_line = text.splitlines().index("    " + line) + 1
            p = m.run("check")
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertIn("%s:%d:%d: %s" % (m.config, want_line, col, msg),
                          p.stderr)
            self.assertFalse(os.path.exists(m.db))


if __name__ == "__main__":
    harness.main()
