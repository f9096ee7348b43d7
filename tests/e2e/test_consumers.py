#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""End to end: what the mirror's consumers rely on (design.md, "Consumers").

HookSyncTest: `sync` with an on_change script that records its
environment runs it once after a sync that changed rows, with the changed
accounts and the counts; not at all after a sync that changed nothing; its
stdout and stderr reach the log; a hook that exits 3 is logged and the sync
still exits 0.

HookDaemonTest: `run` with a slow hook (2 s, then held until the test
lets it go): refreshes with changes while it runs never start a second
one (start/end times never overlap) and together lead to exactly one more
run, with the summed counts; refreshes without changes lead to none.

ExportTest: `export` in every format against `videos --json` and the
mirror (JSON objects equal, ndjson, csv read with the csv module, Atom read
with ElementTree and checked against RFC 4287's rules); accounts.json
with each account's display name and avatar; covers are the export's own
copies (another inode) with equal bytes, every file mode 0644 whatever the
umask, and an edit in the export never reaches the mirror; with --link
they are hard links (same inode), and a later export without it makes
them copies again; a second export with nothing changed touches no file
(inode and mtime_ns); after a count update, a new cover and a deletion,
only the affected files change and the deleted video's cover leaves the
export; copies across file systems (/dev/shm); --base-url makes every
feed link absolute and adds rel="self" and rel="alternate"; the sqlite
snapshot (read-only, journal_mode delete, same rows); usage errors.

ReaderTest: a reader process queries the mirror continuously (read-only
URI, busy timeout 5 s, retry on SQLITE_BUSY as the README recommends)
through a sync of 2,000 videos and one after 500 newer ones appeared (every
position moves): it never fails, and every read sees the account's listing
as it was before or after a refresh, whole (positions exactly 1..N), never
in between.

One emulator serves every class, each with users of its own. Every wait is
bounded and every process a test starts is ended in its cleanup.
"""
import csv
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import xml.etree.ElementTree as ET

import harness
from harness import Emulator, Mirror, command
from daemon_util import Daemon, wait_until

# Short cache intervals are test-only; `auth` and `sync` read the same
# config as `run`, so the whole process sets it.
os.environ["TIKTOK_MIRROR_TEST_MIN_CACHE"] = "1"

EMU = None
ATOM = "{http://www.w3.org/2005/Atom}"
TAG = "tag:tiktok-mirror,2025:"

# The on_change hook of these tests: one tab-separated record per start
# and end. With hook.slow present it takes 2 s and then waits (bounded)
# for hook.gate; hook.exit holds its exit status.
HOOK = r"""#!/bin/sh
d='@DIR@'
printf 'start\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date +%s.%N)" "$$" \
  "$TIKTOK_MIRROR_ACCOUNTS" "$TIKTOK_MIRROR_NEW" \
  "$TIKTOK_MIRROR_UPDATED" "$TIKTOK_MIRROR_DELETED" >> "$d/hook.rec"
echo "hook says: accounts=$TIKTOK_MIRROR_ACCOUNTS"
echo "hook complains on stderr" >&2
if [ -e "$d/hook.slow" ]; then
  sleep 2
  i=0
  while [ ! -e "$d/hook.gate" ] && [ $i -lt 400 ]; do
    sleep 0.05
    i=$((i + 1))
  done
fi
printf 'end\t%s\t%s\n' "$(date +%s.%N)" "$$" >> "$d/hook.rec"
exit "$(cat "$d/hook.exit" 2>/dev/null || echo 0)"
"""

# The reader of ReaderTest, as a process of its own: argv db account
# stop-file result-file. It counts each distinct state of the account's
# listing it sees: "rows/max(position)/sum(position)".
READER = r"""
import json, os, sqlite3, sys, time
db, account, stop, out = sys.argv[1:5]
deadline = time.monotonic() + 600
states, order, errors = {}, [], []
reads = busy = 0
con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
while not os.path.exists(stop) and time.monotonic() < deadline:
    try:
        n, hi, total = con.execute(
            "SELECT count(*), max(position), total(position) FROM videos"
            " WHERE account = ? AND position IS NOT NULL",
            (account,)).fetchone()
    except sqlite3.OperationalError as e:
        if "locked" in str(e) or "busy" in str(e):
            busy += 1
            time.sleep(0.01)
            continue
        errors.append(str(e))
        if len(errors) > 20:
            break
        continue
    reads += 1
    key = "%d/%s/%d" % (n, hi, total)
    if key not in states:
        order.append(key)
    states[key] = states.get(key, 0) + 1
    # Continuous, but leaving the 2 cores to the emulator and the daemon.
    time.sleep(0.005)
con.close()
with open(out, "w") as f:
    json.dump({"reads": reads, "busy": busy, "errors": errors,
               "states": states, "order": order}, f)
"""


def setUpModule():
    global EMU
    EMU = Emulator().start()


def tearDownModule():
    if EMU is not None:
        EMU.stop()


def write_config(m, accounts, on_change=None, **app):
    m.write_config(accounts, **app)
    if on_change:
        with open(m.config) as f:
            text = f.read()
        with open(m.config, "w") as f:
            f.write("on_change: %s\n" % on_change + text)


def install_hook(m):
    path = os.path.join(m.dir, "hook.sh")
    with open(path, "w") as f:
        f.write(HOOK.replace("@DIR@", m.dir))
    return "/bin/sh %s" % path


def hook_runs(m):
    """The hook's runs so far: dicts with start, end (None while running),
    pid, accounts (a set), new, updated, deleted."""
    runs, by_pid = [], {}
    try:
        with open(os.path.join(m.dir, "hook.rec")) as f:
            lines = f.read().split("\n")
    except FileNotFoundError:
        return runs
    for ln in lines:
        f = ln.split("\t")
        if f[0] == "start" and len(f) == 7:
            r = {"start": float(f[1]), "pid": f[2], "end": None,
                 "accounts": set(f[3].split()), "new": int(f[4]),
                 "updated": int(f[5]), "deleted": int(f[6])}
            runs.append(r)
            by_pid[f[2]] = r
        elif f[0] == "end" and len(f) == 3 and f[2] in by_pid:
            by_pid[f[2]]["end"] = float(f[1])
    return runs


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def tree(d):
    """Every file under d: relative path -> (inode, mtime_ns, size)."""
    out = {}
    for root, _, names in os.walk(d):
        for n in names:
            p = os.path.join(root, n)
            st = os.lstat(p)
            out[os.path.relpath(p, d)] = (st.st_ino, st.st_mtime_ns,
                                          st.st_size)
    return out


def atom_problems(feed, feed_url=None):
    """What breaks RFC 4287 in a parsed feed (a list, empty when valid):
    the required elements once each, an author for every entry, an
    alternate link or content in every entry, at most one alternate link
    per type, and with feed_url (a base URL given) absolute http(s) links
    and a rel="self" link that is feed_url."""
    bad = []

    def once(el, name, where):
        n = len(el.findall(ATOM + name))
        if n != 1:
            bad.append("%s: %d atom:%s" % (where, n, name))

    def links(el, where):
        alts = {}
        for ln in el.findall(ATOM + "link"):
            href = ln.get("href")
            if not href:
                bad.append("%s: a link without href" % where)
                continue
            u = urllib.parse.urlsplit(href)
            if feed_url is not None and (u.scheme not in ("http", "https")
                                         or not u.netloc):
                bad.append("%s: relative link %s" % (where, href))
            if ln.get("rel", "alternate") == "alternate":
                t = ln.get("type")
                if t in alts:
                    bad.append("%s: two alternate links of type %s"
                               % (where, t))
                alts[t] = href
        return alts

    if feed.tag != ATOM + "feed":
        return ["not an Atom feed: %s" % feed.tag]
    for name in ("id", "title", "updated"):
        once(feed, name, "feed")
    links(feed, "feed")
    selfs = [ln.get("href") for ln in feed.findall(ATOM + "link")
             if ln.get("rel") == "self"]
    if feed_url is not None and selfs != [feed_url]:
        bad.append("feed: rel=self %s, not %s" % (selfs, feed_url))
    authored = feed.find(ATOM + "author/" + ATOM + "name") is not None
    for i, e in enumerate(feed.findall(ATOM + "entry")):
        where = "entry %d" % i
        for name in ("id", "title", "updated"):
            once(e, name, where)
        alts = links(e, where)
        if not alts and e.find(ATOM + "content") is None:
            bad.append("%s: neither an alternate link nor content" % where)
        if not authored and e.find(ATOM + "author") is None:
            bad.append("%s: no author" % where)
    return bad


def xml_clean(s):
    """What an XML 1.0 document can carry of s: the rest as U+FFFD."""
    def ok(c):
        o = ord(c)
        return (c in "\t\n\r" or 0x20 <= o <= 0xD7FF or
                0xE000 <= o <= 0xFFFD or o >= 0x10000)
    return "".join(c if ok(c) else "\ufffd" for c in s)


def read(path):
    with open(path, "rb") as f:
        return f.read()


class HookSyncTest(unittest.TestCase):
    """on_change after `sync`."""

    @classmethod
    def setUpClass(cls):
        cls.m = Mirror(EMU, https=False)
        EMU.add_user("hs_alice", "Alice")
        EMU.add_user("hs_bob", "Bob")
        EMU.generate("hs_alice", 4, newest=1750000000, step=3600, seed=11)
        EMU.generate("hs_bob", 5, newest=1750000000, step=3600, seed=12)
        write_config(cls.m, [{"name": "alice"}, {"name": "bob"}],
                     on_change=install_hook(cls.m))
        for name in ("alice", "bob"):
            p = cls.m.auth_code(name, "hs_" + name)
            assert p.returncode == 0, p.stderr

    @classmethod
    def tearDownClass(cls):
        cls.m.cleanup()

    def test_1_first_sync_runs_it_once(self):
        p = self.m.run("sync", check=0)
        runs = hook_runs(self.m)
        self.assertEqual(len(runs), 1, p.stderr)
        r = runs[0]
        self.assertEqual(r["accounts"], {"alice", "bob"})
        self.assertEqual((r["new"], r["updated"], r["deleted"]), (9, 0, 0))
        # `sync` waits for the hook before it exits.
        self.assertIsNotNone(r["end"])
        self.assertRegex(p.stderr, r"on_change: hook says: accounts=\w+ \w+")
        self.assertIn("on_change: hook complains on stderr", p.stderr)

    def test_2_no_change_no_run(self):
        p = self.m.run("sync", check=0)
        self.assertEqual(len(hook_runs(self.m)), 1)
        self.assertNotIn("on_change", p.stderr)

    def test_3_failing_hook_is_logged_not_fatal(self):
        with open(os.path.join(self.m.dir, "hook.exit"), "w") as f:
            f.write("3\n")
        alice = EMU.videos("hs_alice")
        bob = EMU.videos("hs_bob")
        EMU.update_video("hs_alice", alice[1]["id"], like_count=123456)
        EMU.add_videos("hs_alice", [{"create_time": 1750100000,
                                     "title": "newest"}])
        EMU.delete_videos("hs_bob", [bob[2]["id"]])
        p = self.m.run("sync", check=0)
        runs = hook_runs(self.m)
        self.assertEqual(len(runs), 2, p.stderr)
        r = runs[1]
        self.assertEqual(r["accounts"], {"alice", "bob"})
        self.assertEqual((r["new"], r["updated"], r["deleted"]), (1, 1, 1))
        self.assertIn("on_change: exited with status 3", p.stderr)
        # The sync itself went through.
        row = self.m.sql("SELECT deleted_at FROM videos WHERE id = ?",
                         bob[2]["id"])[0]
        self.assertIsNotNone(row["deleted_at"])

    def test_4_only_the_synced_account(self):
        os.unlink(os.path.join(self.m.dir, "hook.exit"))
        bob = EMU.videos("hs_bob")
        EMU.update_video("hs_bob", bob[0]["id"], view_count=424242)
        EMU.update_video("hs_alice", EMU.videos("hs_alice")[0]["id"],
                         view_count=99)
        p = self.m.run("sync", "bob", check=0)
        runs = hook_runs(self.m)
        self.assertEqual(len(runs), 3, p.stderr)
        self.assertEqual(runs[2]["accounts"], {"bob"})
        self.assertEqual((runs[2]["new"], runs[2]["updated"],
                          runs[2]["deleted"]), (0, 1, 0))
        self.assertNotIn("exited with status", p.stderr)


class HookDaemonTest(unittest.TestCase):
    """on_change under `run`: one at a time, changes coalesce."""

    def setUp(self):
        self.m = Mirror(EMU, https=False)
        self.addCleanup(self.m.cleanup)
        EMU.add_user("hd_dave", "Dave")
        EMU.generate("hd_dave", 5, newest=1750000000, step=3600, seed=13)
        write_config(self.m, [{"name": "dave", "cache": 1}],
                     on_change=install_hook(self.m))
        p = self.m.auth_code("dave", "hd_dave")
        self.assertEqual(p.returncode, 0, p.stderr)
        open(os.path.join(self.m.dir, "hook.slow"), "w").close()

    def test_slow_hook_coalesces(self):
        m = self.m
        d = Daemon(m, min_cache=1)
        self.addCleanup(d.kill)
        updated = r"\bdave: \d+ listed \(0 new, 1 updated, 0 deleted\)"
        # The first refresh adds 5 videos: run 1 starts and stays.
        wait_until(lambda: hook_runs(m), 15, what="the first hook run")
        vids = EMU.videos("hd_dave")
        EMU.update_video("hd_dave", vids[0]["id"], like_count=1001)
        d.wait_log(updated, timeout=10, count=1)
        EMU.update_video("hd_dave", vids[3]["id"], like_count=1002)
        d.wait_log(updated, timeout=10, count=2)
        runs = hook_runs(m)
        self.assertEqual(len(runs), 1, d.log())
        self.assertIsNone(runs[0]["end"], "run 1 ended too early")
        # Let it go: the two changes make exactly one more run.
        open(os.path.join(m.dir, "hook.gate"), "w").close()
        wait_until(lambda: len(hook_runs(m)) >= 2 and
                   hook_runs(m)[1]["end"] is not None, 15,
                   what="the second hook run to end")
        # Two more refreshes, without changes: no third run.
        rx = r"\bdave: \d+ listed \("
        n = len([ln for ln in d.lines() if re.search(rx, ln)])
        d.wait_log(rx, timeout=10, count=n + 2)
        runs = hook_runs(m)
        self.assertEqual(len(runs), 2, d.log())
        self.assertEqual(runs[0]["accounts"], {"dave"})
        self.assertEqual((runs[0]["new"], runs[0]["updated"]), (5, 0))
        self.assertEqual(runs[1]["accounts"], {"dave"})
        self.assertEqual((runs[1]["new"], runs[1]["updated"],
                          runs[1]["deleted"]), (0, 2, 0))
        self.assertGreaterEqual(runs[0]["end"] - runs[0]["start"], 2.0)
        for a, b in zip(runs, runs[1:]):
            self.assertLessEqual(a["end"], b["start"], "hook runs overlap")
        self.assertIn("on_change: hook says: accounts=dave", d.log())
        rc, _ = d.stop(timeout=10)
        self.assertEqual(rc, 0, d.log())


# Text that needs escaping in every format.
SPECIAL = [
    {"title": 'commas, "quotes" & <angles>',
     "video_description": "line one\nline two\r\nthree, with \"quotes\""},
    {"title": "Smile \U0001F600 \u4e2d\u6587",
     "video_description": "control \x01 and \x1f bytes, tab\there"},
    {"title": "", "video_description": "No title: the first line\nsecond"},
    {"title": "", "video_description": ""},
    # No https link to TikTok: the Atom entry carries content instead.
    {"title": "Plain http", "video_description": "",
     "share_url": "http://www.tiktok.com/@erin/video/1"},
]


class ExportTest(unittest.TestCase):
    """`export` in every format, and what it leaves alone."""

    @classmethod
    def setUpClass(cls):
        cls.m = m = Mirror(EMU, https=False)
        EMU.add_user("ex_erin", "Erin & <Co> \"quoted\"")
        EMU.add_user("ex_frank", "Frank")
        EMU.add_user("ex_gina", "Gina")
        EMU.generate("ex_erin", 8, newest=1750000000, step=86400, seed=21,
                     formats=["jpeg", "png", "webp"])
        EMU.add_videos("ex_erin", [dict(v, create_time=1750100000 + i * 60)
                                   for i, v in enumerate(SPECIAL)])
        EMU.generate("ex_frank", 9, newest=1750000000, step=86400, seed=22)
        EMU.generate("ex_gina", 3, newest=1750000000, step=86400, seed=23,
                     formats=["png"])
        m.write_config([{"name": "erin", "quantity": "all"},
                        {"name": "frank", "start": 2, "quantity": 5},
                        {"name": "gina"}])
        for name in ("erin", "frank", "gina"):
            p = m.auth_code(name, "ex_" + name)
            assert p.returncode == 0, p.stderr
        m.run("sync", check=0)
        cls.out = os.path.join(m.dir, "site")

    @classmethod
    def tearDownClass(cls):
        cls.m.cleanup()

    def export(self, *args, check=0):
        return self.m.run("export", *args, check=check)

    def expected(self, name):
        """`videos NAME --json` with cover relative to the export."""
        objs = json.loads(self.m.run("videos", name, "--json",
                                     check=0).stdout)
        for o in objs:
            if o["cover"] is not None:
                o["cover"] = "covers/" + o["cover"]
        return objs

    def check_json(self, d, name, objs):
        with open(os.path.join(d, name + ".json"), encoding="utf-8") as f:
            got = json.load(f)
        self.assertEqual(got, objs)
        for g, o in zip(got, objs):
            self.assertEqual(list(g), list(o))

    def check_ndjson(self, d, name, objs):
        with open(os.path.join(d, name + ".ndjson"), encoding="utf-8") as f:
            text = f.read()
        lines = text.split("\n")
        self.assertEqual(lines[-1], "")
        self.assertEqual([json.loads(ln) for ln in lines[:-1]], objs)

    def check_csv(self, d, name, objs):
        path = os.path.join(d, name + ".csv")
        raw = read(path)
        self.assertTrue(raw.endswith(b"\r\n"))
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        self.assertEqual(rows[0], list(objs[0]))
        self.assertEqual(len(rows) - 1, len(objs))
        for r, o in zip(rows[1:], objs):
            self.assertEqual(r, ["" if v is None else str(v)
                                 for v in o.values()])

    def check_atom(self, d, name, objs, base=None):
        feed = ET.parse(os.path.join(d, name + ".atom")).getroot()
        self.assertEqual(feed.tag, ATOM + "feed")
        self.assertEqual(atom_problems(
            feed, base and "%s/%s.atom" % (base, name)), [])
        top = {ln.get("rel"): ln.get("href")
               for ln in feed.findall(ATOM + "link")}
        self.assertEqual(top, {"self": "%s/%s.atom" % (base, name),
                               "alternate": base + "/"} if base else {})
        acct = self.m.account(name)
        display = acct["display_name"] or name
        self.assertEqual(feed.findtext(ATOM + "id"), TAG + name)
        self.assertEqual(feed.findtext(ATOM + "title"), xml_clean(display))
        self.assertEqual(feed.findtext(ATOM + "author/" + ATOM + "name"),
                         xml_clean(display))
        newest = max([o["updated_at"] for o in objs] or [0])
        self.assertEqual(feed.findtext(ATOM + "updated"), iso(newest))
        entries = feed.findall(ATOM + "entry")
        self.assertEqual(len(entries), len(objs))
        for e, o in zip(entries, objs):
            self.assertEqual(e.findtext(ATOM + "id"),
                             TAG + name + "/" + o["id"])
            title = o["title"]
            if title == "":
                first = o["description"].replace("\r", "\n").split("\n")[0]
                title = first[:100] if first else "Video " + o["id"]
            self.assertEqual(e.findtext(ATOM + "title"), xml_clean(title))
            self.assertEqual(e.findtext(ATOM + "updated"),
                             iso(o["updated_at"]))
            self.assertEqual(e.findtext(ATOM + "published"),
                             o["created_at_iso"])
            links = {ln.get("rel"): ln for ln in e.findall(ATOM + "link")}
            if o["share_url"].startswith("https://"):
                self.assertEqual(links["alternate"].get("href"),
                                 o["share_url"])
                self.assertIsNone(e.find(ATOM + "content"))
            else:
                self.assertNotIn("alternate", links)
                self.assertEqual(e.findtext(ATOM + "content"),
                                 xml_clean(title))
            enc = links["enclosure"]
            self.assertEqual(enc.get("href"),
                             base + "/" + o["cover"] if base else o["cover"])
            self.assertEqual(int(enc.get("length")),
                             os.path.getsize(os.path.join(d, o["cover"])))
            ext = o["cover"].rsplit(".", 1)[1]
            self.assertEqual(enc.get("type"), {"jpg": "image/jpeg",
                                               "png": "image/png",
                                               "webp": "image/webp"}[ext])
            if o["description"]:
                self.assertEqual(e.findtext(ATOM + "summary"),
                                 xml_clean(o["description"]))
            else:
                self.assertIsNone(e.find(ATOM + "summary"))

    def check_covers(self, d, name, objs, how="copy"):
        """how: "copy" (the export's own file, mode 0644), "link" (the
        mirror's file) or "xdev" (a copy on another file system)."""
        named = set()
        acct = self.m.account(name)
        self.assertIsNotNone(acct["avatar"])
        rels = [o["cover"] for o in objs] + ["covers/" + acct["avatar"]]
        for rel in rels:
            self.assertIsNotNone(rel)
            got = os.path.join(d, rel)
            src = os.path.join(self.m.covers, rel[len("covers/"):])
            self.assertEqual(read(got), read(src))
            if how == "link":
                self.assertEqual(os.stat(got).st_ino, os.stat(src).st_ino)
            else:
                self.assertNotEqual(os.stat(got).st_ino, os.stat(src).st_ino)
                self.assertEqual(os.stat(got).st_mode & 0o7777, 0o644, got)
            if how == "xdev":
                self.assertNotEqual(os.stat(got).st_dev, os.stat(src).st_dev)
            named.add(os.path.basename(got))
        folder = os.path.join(d, "covers", name)
        have = set(os.listdir(folder)) if os.path.isdir(folder) else set()
        self.assertEqual(have, named)

    def check_accounts(self, d, names):
        with open(os.path.join(d, "accounts.json"), encoding="utf-8") as f:
            got = json.load(f)
        want = []
        for name in names:
            a = self.m.account(name)
            want.append({"name": name, "display_name": a["display_name"],
                         "avatar": "covers/" + a["avatar"],
                         "videos": len(self.expected(name))})
        self.assertEqual(got, want)
        self.assertEqual(os.stat(os.path.join(d, "accounts.json")).st_mode
                         & 0o7777, 0o644)

    def check_all(self, d, names=("erin", "frank", "gina"), how="copy",
                  formats=("json", "ndjson", "csv", "atom"), base=None):
        for name in names:
            objs = self.expected(name)
            self.assertGreater(len(objs), 0)
            for fmt in formats:
                if fmt == "atom":
                    self.check_atom(d, name, objs, base)
                else:
                    getattr(self, "check_" + fmt)(d, name, objs)
                self.assertEqual(os.stat(os.path.join(
                    d, "%s.%s" % (name, fmt))).st_mode & 0o7777, 0o644)
            self.check_covers(d, name, objs, how)
        self.check_accounts(d, names)
        files = set(os.listdir(d))
        self.assertEqual(files, {"covers", "accounts.json"} | {
            n + "." + f for n in names for f in formats})

    def test_1_every_format(self):
        p = self.export("--out", self.out, "--format", "json,ndjson,csv,atom")
        self.assertIn("13 files written", p.stderr)
        self.assertRegex(p.stderr, r"0 covers linked, [1-9]\d* copied")
        self.check_all(self.out)
        # The awkward texts made it through every format.
        erin = self.expected("erin")
        self.assertEqual(len(erin), 13)
        self.assertIn('commas, "quotes" & <angles>',
                      [o["title"] for o in erin])

    def test_2_second_export_touches_nothing(self):
        before = tree(self.out)
        mirror = tree(self.m.covers)
        time.sleep(0.05)
        p = self.export("--out", self.out, "--format", "json,ndjson,csv,atom")
        self.assertIn("0 files written", p.stderr)
        self.assertEqual(tree(self.out), before)
        # Nor after a sync that changed nothing.
        self.m.run("sync", check=0)
        self.export("--out", self.out, "--format", "json,ndjson,csv,atom")
        self.assertEqual(tree(self.out), before)
        self.assertEqual(tree(self.m.covers), mirror)

    def test_3_only_what_changed(self):
        before = tree(self.out)
        erin = EMU.videos("ex_erin")
        frank = EMU.videos("ex_frank")
        counted, recovered = erin[4], erin[5]
        EMU.update_video("ex_erin", counted["id"], like_count=777777)
        EMU.update_video("ex_erin", recovered["id"], new_cover=True)
        # frank keeps videos 2..6 of its listing: drop its 3rd kept one.
        gone = frank[3]
        EMU.delete_videos("ex_frank", [gone["id"]])
        # A second later, so updated_at (and the Atom feed) moves too.
        time.sleep(1.1)
        self.m.run("sync", check=0)
        self.export("--out", self.out, "--format", "json,ndjson,csv,atom")
        after = tree(self.out)
        self.check_all(self.out)
        changed = {k for k in set(before) | set(after)
                   if before.get(k) != after.get(k)}
        rel = {v["id"]: r["cover"] for v in (recovered, gone)
               for r in self.m.sql("SELECT cover FROM videos WHERE id = ?",
                                   v["id"])}
        newcomer = self.m.sql("SELECT cover FROM videos WHERE account ="
                              " 'frank' AND position = 5")[0]["cover"]
        want = {n + "." + f for n in ("erin", "frank")
                for f in ("json", "ndjson", "csv", "atom")}
        want |= {"covers/" + rel[recovered["id"]],
                 "covers/" + rel[gone["id"]], "covers/" + newcomer}
        self.assertEqual(changed, want)
        self.assertNotIn("covers/" + rel[gone["id"]], after)
        self.assertIn("covers/" + newcomer, after)
        # The new cover is a copy of the mirror's new file.
        self.assertEqual(read(os.path.join(self.out, "covers",
                                           rel[recovered["id"]])),
                         read(os.path.join(self.m.covers,
                                           rel[recovered["id"]])))

    def test_4_names_and_default_format(self):
        d = os.path.join(self.m.dir, "only-frank")
        self.export("--out", d, "frank")
        self.check_all(d, names=("frank",), formats=("json",))
        d = os.path.join(self.m.dir, "gina-feeds")
        self.export("--out", d, "--format", "csv", "--format", "atom", "gina")
        self.check_all(d, names=("gina",), formats=("csv", "atom"))

    def test_5_usage_errors(self):
        d = os.path.join(self.m.dir, "never")
        for args in (["--out", d, "nobody"], ["--out", d, "--format", "xml"],
                     ["--format", "json"], ["--out", d, "--format",
                                            "sqlite", "erin"],
                     ["--out", d, "--format", "sqlite,json"]):
            p = self.export(*args, check=2)
            self.assertRegex(p.stderr, r"nobody|xml|--out|sqlite", args)
        self.assertFalse(os.path.exists(d))
        p = self.export("--format", "sqlite", "--out", self.m.dir, check=2)
        self.assertIn("folder", p.stderr)

    def test_6_copies_across_file_systems(self):
        base = "/dev/shm"
        if not os.path.isdir(base) or not os.access(base, os.W_OK) or \
                os.stat(base).st_dev == os.stat(self.m.covers).st_dev:
            self.skipTest("no second writable file system at /dev/shm")
        d = tempfile.mkdtemp(prefix="tiktok-mirror-export-", dir=base)
        self.addCleanup(shutil.rmtree, d, True)
        # --link falls back to copies where links cannot be.
        p = self.export("--out", d, "--format", "json,atom", "--link")
        self.assertRegex(p.stderr, r"0 covers linked, [1-9]\d* copied")
        self.check_all(d, how="xdev", formats=("json", "atom"))
        before = tree(d)
        time.sleep(0.05)
        self.export("--out", d, "--format", "json,atom", "--link")
        self.assertEqual(tree(d), before)

    def test_8_link_then_copies(self):
        """--link: the covers are the mirror's files; the next export
        without it makes them the export's own again, once."""
        d = os.path.join(self.m.dir, "linked")
        p = self.export("--out", d, "--format", "json", "--link")
        self.assertRegex(p.stderr, r"[1-9]\d* covers linked, 0 copied")
        self.check_all(d, how="link", formats=("json",))
        p = self.export("--out", d, "--format", "json")
        self.assertRegex(p.stderr, r"0 files written, \d+ unchanged, "
                                   r"0 covers linked, [1-9]\d* copied")
        self.check_all(d, how="copy", formats=("json",))
        before = tree(d)
        time.sleep(0.05)
        self.export("--out", d, "--format", "json")
        self.assertEqual(tree(d), before)
        # And back: --link over copies of the same bytes links them, once.
        p = self.export("--out", d, "--format", "json", "--link")
        self.assertRegex(p.stderr, r"0 files written, \d+ unchanged, "
                                   r"[1-9]\d* covers linked, 0 copied")
        self.check_all(d, how="link", formats=("json",))
        before = tree(d)
        time.sleep(0.05)
        p = self.export("--out", d, "--format", "json", "--link")
        self.assertRegex(p.stderr, r"0 covers linked, 0 copied")
        self.assertEqual(tree(d), before)

    def test_9_publishable_whatever_the_umask(self):
        """Every file 0644 and every folder 0755 under umask 077 (the
        covers are 0640 in the mirror), and a site that edits its copy of
        a cover leaves the mirror's alone."""
        d = os.path.join(self.m.dir, "public")
        p = subprocess.run(command("-c", self.m.config, "export", "--out", d,
                                   "--format", "json,csv"),
                           capture_output=True, text=True, timeout=60,
                           stdin=subprocess.DEVNULL,
                           preexec_fn=lambda: os.umask(0o077))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.check_all(d, formats=("json", "csv"))
        for root, dirs, _ in os.walk(d):
            for n in dirs:
                self.assertEqual(os.stat(os.path.join(root, n)).st_mode
                                 & 0o777, 0o755, n)
        o = self.expected("gina")[0]
        src = os.path.join(self.m.covers, o["cover"][len("covers/"):])
        keep = read(src)
        with open(os.path.join(d, o["cover"]), "r+b") as f:
            f.write(b"edited by the site")
        self.assertEqual(read(src), keep)

    def test_10_base_url(self):
        d = os.path.join(self.m.dir, "feeds")
        base = "https://example.com/our/tiktok"
        self.export("--out", d, "--format", "atom", "--base-url", base + "/")
        self.check_all(d, formats=("atom",), base=base)
        # Without it: valid too, relative links, no self link.
        d = os.path.join(self.m.dir, "feeds-relative")
        self.export("--out", d, "--format", "atom")
        self.check_all(d, formats=("atom",))
        for bad in ("ftp://example.com/", "example.com", "https://",
                    "https://example.com/?q=1", "https://u@example.com/",
                    "https://example.com/a b"):
            p = self.export("--out", d, "--base-url", bad, check=2)
            self.assertIn("--base-url", p.stderr)

    def test_7_sqlite_snapshot(self):
        d = os.path.join(self.m.dir, "snap")
        os.makedirs(d)
        out = os.path.join(d, "mirror-copy.db")
        self.export("--format", "sqlite", "--out", out)
        self.export("--format", "sqlite", "--out", out)  # replaces it
        self.assertEqual(os.listdir(d), ["mirror-copy.db"])
        con = sqlite3.connect("file:%s?mode=ro" % out, uri=True)
        try:
            self.assertEqual(con.execute("PRAGMA journal_mode").fetchone()[0],
                             "delete")
            self.assertEqual(con.execute("PRAGMA integrity_check")
                             .fetchone()[0], "ok")
            con.row_factory = sqlite3.Row
            for q in ("SELECT * FROM videos ORDER BY account, id",
                      "SELECT * FROM accounts ORDER BY name"):
                self.assertEqual([dict(r) for r in con.execute(q)],
                                 self.m.sql(q))
        finally:
            con.close()
        self.assertEqual(os.listdir(d), ["mirror-copy.db"])


class LinkedLibcurlTest(unittest.TestCase):
    """libcurl is linked, not opened at run time: the program names it
    among its needed libraries, which is what packaging tools
    (dpkg-shlibdeps) read, and readers work with it present."""

    def test_libcurl_is_a_needed_library(self):
        p = subprocess.run(["readelf", "-d", harness.BIN],
                           capture_output=True, text=True, check=True)
        needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]",
                            p.stdout)
        self.assertIn("libcurl.so.4", needed)
        self.assertIn("libsqlite3.so.0", needed)


class ReaderTest(unittest.TestCase):
    """A continuous reader through large syncs."""

    def setUp(self):
        self.m = Mirror(EMU, https=False)
        self.addCleanup(self.m.cleanup)
        self.procs = []
        self.addCleanup(self.reap)
        EMU.config(rate_limit=100000)
        EMU.add_user("rd_hank", "Hank")
        EMU.generate("rd_hank", 2000, newest=1750000000, step=600, seed=31)
        self.m.write_config([{"name": "hank", "quantity": "all"}],
                            rate_limit=100000, concurrency=8)
        p = self.m.auth_code("hank", "rd_hank")
        self.assertEqual(p.returncode, 0, p.stderr)

    def reap(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait(5)

    def start(self, *args, **kw):
        p = subprocess.Popen(*args, **kw)
        self.procs.append(p)
        return p

    def test_reader_never_sees_half_a_refresh(self):
        m = self.m
        stop = os.path.join(m.dir, "reader.stop")
        result = os.path.join(m.dir, "reader.json")
        sync = self.start(command("-c", m.config, "sync"),
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT)
        # The reader starts once the mirror has its schema.
        wait_until(lambda: os.path.exists(m.db) and m.sql(
            "SELECT 1 FROM sqlite_master WHERE name = 'videos'"), 10,
            interval=0.01, what="the mirror's schema")
        reader = self.start([sys.executable, "-c", READER, m.db, "hank",
                             stop, result], stdin=subprocess.DEVNULL)
        out, _ = sync.communicate(timeout=300)
        self.assertEqual(sync.returncode, 0, out)
        listing = ("SELECT count(*) AS n FROM videos WHERE account = 'hank'"
                   " AND position IS NOT NULL")
        n1 = m.sql(listing)[0]["n"]
        self.assertEqual(n1, 2000)
        # 500 newer videos: every kept video's position moves.
        EMU.generate("rd_hank", 500, newest=1770000000, step=600, seed=32)
        m.run("sync", check=0, timeout=300)
        n2 = m.sql(listing)[0]["n"]
        self.assertGreater(n2, n1)
        time.sleep(0.2)
        open(stop, "w").close()
        reader.wait(30)
        self.assertEqual(reader.returncode, 0)
        with open(result) as f:
            r = json.load(f)
        self.assertEqual(r["errors"], [])

        def whole(n):
            return "%d/%s/%d" % (n, n if n else None, n * (n + 1) // 2)
        # Only the listing before or after a refresh, each whole
        # (positions 1..N), never one in between.
        self.assertLessEqual(set(r["states"]), {whole(0), whole(n1),
                                                 whole(n2)}, r["states"])
        # It saw both refreshes happen, in order.
        self.assertEqual(r["order"][-2:], [whole(n1), whole(n2)], r)
        self.assertGreater(r["reads"], 100)


if __name__ == "__main__":
    harness.main()
