#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""End to end: engagement history, sync runs and the change log, the
on_change hook's run ids, the Prometheus metrics file, `status`, sync
progress and --dry-run, links without utm_* parameters, the cached
avatar, `revoke`, `forget`, and the man pages, against the emulator.

Three accounts: alice (25 videos, every change), bob (a grant that
expires in 6 days, a failing refresh, then revoked), carol (synced, then
removed from the config and forgotten)."""
import fcntl
import json
import os
import pty
import re
import select
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse

import harness
from harness import Emulator, Mirror, BIN, ROOT

DAY = 86400
METRIC_RX = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?'
                       r' ([^ ]+)(?: (-?\d+))?$')
LABEL_RX = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\.)*)"'
                      r'\s*(,|$)')


def parse_prometheus(text):
    """A small parser of the text exposition format 0.0.4: returns
    {(name, frozenset(labels.items())): value}; raises on anything that is
    not HELP, TYPE, a comment, a blank line or a well-formed sample whose
    metric family was declared."""
    types, helps, samples = {}, set(), {}
    for n, line in enumerate(text.split("\n"), 1):
        if line == "":
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 3 and parts[1] == "HELP":
                if parts[2] in helps:
                    raise ValueError("line %d: HELP again" % n)
                helps.add(parts[2])
            elif len(parts) >= 3 and parts[1] == "TYPE":
                if len(parts) != 4 or parts[3] not in (
                        "counter", "gauge", "histogram", "summary",
                        "untyped"):
                    raise ValueError("line %d: bad TYPE" % n)
                if parts[2] in types:
                    raise ValueError("line %d: TYPE again" % n)
                types[parts[2]] = parts[3]
            continue
        m = METRIC_RX.match(line)
        if m is None:
            raise ValueError("line %d: not a sample: %r" % (n, line))
        name, labels, value = m.group(1), m.group(2), m.group(3)
        if name not in types:
            raise ValueError("line %d: %s has no TYPE before it" % (n, name))
        lab = {}
        rest = labels or ""
        while rest.strip():
            lm = LABEL_RX.match(rest)
            if lm is None:
                raise ValueError("line %d: bad labels %r" % (n, labels))
            if lm.group(1) in lab:
                raise ValueError("line %d: label twice" % n)
            lab[lm.group(1)] = lm.group(2)
            rest = rest[lm.end():]
        key = (name, frozenset(lab.items()))
        if key in samples:
            raise ValueError("line %d: sample twice" % n)
        samples[key] = float(value)
    return samples


def sample(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())))


def strip_utm(url):
    """What the videos_clean view should give, computed independently."""
    u = urllib.parse.urlsplit(url)
    q = [p for p in u.query.split("&")
         if p and not p.lower().startswith("utm_")]
    return urllib.parse.urlunsplit((u.scheme, u.netloc, u.path,
                                    "&".join(q), u.fragment))


class HealthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emu = Emulator().start()
        cls.m = Mirror(cls.emu, https=False)
        emu, m = cls.emu, cls.m
        for name in ("alice", "bob", "carol"):
            emu.add_user(name, name.title())
        emu.generate("alice", 25, newest=1760000000, step=DAY, seed=7)
        emu.generate("bob", 3, newest=1760000000, step=DAY, seed=8)
        emu.generate("carol", 2, newest=1760000000, step=DAY, seed=9)
        cls.hook_log = os.path.join(m.dir, "hook.log")
        cls.metrics = os.path.join(m.dir, "metrics.prom")
        cls.accounts = [{"name": "alice", "quantity": "all"},
                        {"name": "bob", "quantity": 20},
                        {"name": "carol"}]
        cls.write(cls.accounts)
        for name in ("alice", "carol"):
            p = m.auth_code(name, name)
            assert p.returncode == 0, p.stderr
        # bob's grant expires in 6 days: status and metrics warn.
        emu.config(refresh_ttl=6 * DAY)
        p = m.auth_code("bob", "bob")
        assert p.returncode == 0, p.stderr
        emu.config(refresh_ttl=31536000)

    @classmethod
    def tearDownClass(cls):
        cls.m.cleanup()
        cls.emu.stop()

    @classmethod
    def write(cls, accounts):
        cls.m.write_config(accounts)
        with open(cls.m.config, "a") as f:
            f.write("on_change: 'echo \"$TIKTOK_MIRROR_RUN_IDS|"
                    "$TIKTOK_MIRROR_ACCOUNTS|$TIKTOK_MIRROR_NEW|"
                    "$TIKTOK_MIRROR_UPDATED|$TIKTOK_MIRROR_DELETED\" >> "
                    "%s'\nmetrics: %s\n" % (cls.hook_log, cls.metrics))

    def hooks(self):
        if not os.path.exists(self.hook_log):
            return []
        with open(self.hook_log) as f:
            return [ln.split("|") for ln in f.read().splitlines()]

    def max_run(self):
        return self.m.sql("SELECT coalesce(max(id), 0) AS n FROM "
                          "sync_runs")[0]["n"]

    def changes(self, run):
        return sorted((r["id"], r["kind"], r["fields"]) for r in self.m.sql(
            "SELECT id, kind, fields FROM changes WHERE run_id = ?", run))

    def stats_count(self):
        return self.m.sql("SELECT count(*) AS n FROM video_stats")[0]["n"]

    def read_metrics(self):
        with open(self.metrics) as f:
            return parse_prometheus(f.read())

    def snapshot(self):
        """Every row of every table, the schema and user_version, the
        covers folder (names, bytes, mtimes) and the metrics file."""
        con = sqlite3.connect("file:%s?mode=ro" % self.m.db, uri=True)
        try:
            schema = con.execute("SELECT type, name, sql FROM sqlite_master"
                                 " ORDER BY name").fetchall()
            data = {"user_version": con.execute(
                "PRAGMA user_version").fetchone()}
            for (t,) in con.execute("SELECT name FROM sqlite_master WHERE "
                                    "type = 'table'"):
                data[t] = sorted(map(repr, con.execute(
                    'SELECT * FROM "%s"' % t)))
        finally:
            con.close()
        files = {}
        for root, dirs, names in os.walk(self.m.covers):
            for d in dirs:
                files[os.path.join(root, d)] = "dir"
            for n in names:
                path = os.path.join(root, n)
                st = os.stat(path)
                with open(path, "rb") as f:
                    files[path] = (f.read(), st.st_mtime_ns, st.st_ino)
        with open(self.metrics) as f:
            metrics = f.read()
        return schema, data, files, metrics

    # ---- tests ---------------------------------------------------------

    def test_1_first_sync(self):
        """Runs, change log, history, hook run ids, avatar, clean links."""
        p = self.m.run("sync", check=0)
        self.assertNotIn("listing", p.stderr)  # no progress off a terminal
        runs = self.m.sql("SELECT * FROM sync_runs ORDER BY id")
        self.assertEqual(sorted(r["account"] for r in runs),
                         ["alice", "bob", "carol"])
        for r in runs:
            self.assertEqual(r["outcome"], "ok")
            self.assertIsNotNone(r["finished_at"])
            self.assertGreater(r["requests"], 0)
            truth = self.emu.videos(r["account"])
            self.assertEqual(r["new"], len(truth))
            self.assertEqual(self.changes(r["id"]),
                             sorted((v["id"], "new", None) for v in truth))
        # One history point per video.
        self.assertEqual(self.stats_count(), 25 + 3 + 2)
        # The hook saw every run id, once, in one run.
        hooks = self.hooks()
        self.assertEqual(len(hooks), 1, hooks)
        ids, accounts, new, upd, dele = hooks[0]
        self.assertEqual(sorted(map(int, ids.split())),
                         [r["id"] for r in runs])
        self.assertEqual(sorted(accounts.split()), ["alice", "bob", "carol"])
        self.assertEqual((new, upd, dele), ("30", "0", "0"))
        # The avatar, cached like a cover and kept by the sweep.
        for name in ("alice", "bob", "carol"):
            a = self.m.account(name)
            self.assertEqual(a["avatar"], "%s/avatar.jpg" % name)
            with open(os.path.join(self.m.covers, a["avatar"]), "rb") as f:
                self.assertEqual(f.read(3), b"\xff\xd8\xff")
        # Links without utm_* parameters, for plain sqlite3 readers.
        rows = self.m.sql("SELECT * FROM videos_clean WHERE account = "
                          "'alice'")
        self.assertEqual(len(rows), 25)
        for r in rows:
            self.assertIn("utm_", r["share_url"])
            self.assertNotIn("utm_", r["share_url_clean"])
            self.assertEqual(r["share_url_clean"], strip_utm(r["share_url"]))
            self.assertEqual(r["embed_link_clean"],
                             strip_utm(r["embed_link"]))
            self.assertIn("hide_author=1", r["embed_link_clean"])
        con = sqlite3.connect(":memory:")
        con.execute("CREATE TABLE videos (share_url, embed_link)")
        view = self.m.sql("SELECT sql FROM sqlite_master WHERE name = "
                          "'videos_clean'")[0]["sql"]
        con.execute(view)
        for url in ("https://x/p?a=1&utm_source=s&b=2#frag?utm_x",
                    "https://x/p?UTM_Campaign=1", "https://x/p", "",
                    "https://x/p?a=1&&b", None, "https://x/p#f?utm_a=1"):
            con.execute("DELETE FROM videos")
            con.execute("INSERT INTO videos VALUES (?, ?)", (url, url))
            got = con.execute("SELECT share_url_clean, embed_link_clean "
                              "FROM videos_clean").fetchone()
            want = None if url is None else (
                url if "?" not in url.split("#")[0] else strip_utm(url))
            self.assertEqual(got, (want, want), url)
        con.close()

    def test_2_history_and_changes(self):
        """History rows only on change; the change log matches what the
        emulator changed; on_change gets the run id."""
        before = self.stats_count()
        hooks = len(self.hooks())
        run0 = self.max_run()
        time.sleep(1.1)
        self.m.run("sync", check=0)
        self.assertEqual(self.stats_count(), before)
        for r in self.m.sql("SELECT * FROM sync_runs WHERE id > ?", run0):
            self.assertEqual((r["outcome"], r["new"], r["updated"],
                              r["deleted"]), ("ok", 0, 0, 0))
            self.assertEqual(self.changes(r["id"]), [])
        self.assertEqual(len(self.hooks()), hooks)  # nothing changed
        # A count, a title, a deletion.
        vids = self.emu.videos("alice")
        liked, titled, gone = vids[0], vids[1], vids[2]
        self.emu.update_video("alice", liked["id"],
                              like_count=liked["like_count"] + 5)
        new = self.emu.update_video("alice", titled["id"],
                                    title="a new title")
        # The emulator's embed_html quotes the title.
        tfields = "title,embed_html" if new["embed_html"] != \
            titled["embed_html"] else "title"
        self.emu.delete_videos("alice", [gone["id"]])
        time.sleep(1.1)
        run0 = self.max_run()
        self.m.run("sync", "alice", check=0)
        run = self.max_run()
        self.assertEqual(run, run0 + 1)
        self.assertEqual(self.changes(run), sorted([
            (liked["id"], "updated", "total_likes"),
            (titled["id"], "updated", tfields),
            (gone["id"], "deleted", None)]))
        r = self.m.sql("SELECT * FROM sync_runs WHERE id = ?", run)[0]
        self.assertEqual((r["new"], r["updated"], r["deleted"]), (0, 2, 1))
        self.assertEqual(self.stats_count(), before + 1)
        pts = self.m.sql("SELECT * FROM video_stats WHERE id = ? ORDER BY "
                         "observed_at", liked["id"])
        self.assertEqual(len(pts), 2)
        self.assertEqual(pts[1]["total_likes"], liked["like_count"] + 5)
        self.assertEqual(self.hooks()[-1][:5],
                         [str(run), "alice", "0", "2", "1"])
        # It comes back: restored.
        self.emu.add_videos("alice", [{
            k: gone[k] for k in ("id", "create_time", "title",
                                 "video_description", "duration", "width",
                                 "height", "like_count", "comment_count",
                                 "share_count", "view_count")}])
        time.sleep(1.1)
        self.m.run("sync", "alice", check=0)
        run = self.max_run()
        self.assertEqual([c[:2] for c in self.changes(run)],
                         [(gone["id"], "restored")])
        self.assertEqual(self.hooks()[-1][:2], [str(run), "alice"])
        # videos NAME --history ID, as JSON and TSV.
        p = self.m.run("videos", "alice", "--history", liked["id"],
                       "--json", check=0)
        got = json.loads(p.stdout)
        self.assertEqual([g["total_likes"] for g in got],
                         [x["total_likes"] for x in pts])
        self.assertEqual(got[0]["observed_at_iso"], time.strftime(
            "%Y-%m-%dT%H:%M:%SZ", time.gmtime(pts[0]["observed_at"])))
        self.assertEqual(set(got[0]), {
            "account", "id", "observed_at", "observed_at_iso",
            "total_views", "total_likes", "total_comments", "total_shares"})
        p = self.m.run("videos", "alice", "--history", liked["id"], check=0)
        lines = p.stdout.splitlines()
        self.assertEqual(lines[0].split("\t")[:3],
                         ["account", "id", "observed_at"])
        self.assertEqual(len(lines), 3)
        p = self.m.run("videos", "alice", "--history", "123", check=1)
        self.assertIn("no video 123", p.stderr)
        self.m.run("videos", "alice", "--history", "x/../y", check=2)

    def test_3_dry_run(self):
        """--dry-run reports and writes nothing: same rows, covers,
        metrics; no download; then a real sync does what it said."""
        vids = self.emu.videos("alice")
        self.emu.add_videos("alice", [
            {"create_time": 1770000000 + i, "title": "dry %d" % i}
            for i in range(2)])
        self.emu.update_video("alice", vids[3]["id"], view_count=10 ** 9)
        self.emu.update_video("alice", vids[4]["id"], new_cover=True)
        self.emu.delete_videos("alice", [vids[5]["id"]])
        # The access token is refused: the dry run must refresh it.
        self.emu.expire_tokens("alice")
        secrets = os.path.join(self.m.dir, "secrets.db")
        with open(secrets, "rb") as f:
            secrets_before = f.read()
        before = self.snapshot()
        hooks = len(self.hooks())
        self.emu.reset_counters()
        time.sleep(1.1)
        p = self.m.run("sync", "--dry-run", "alice", check=0)
        self.assertEqual(self.emu.counters()["cdn"], 0)
        self.assertEqual(self.snapshot(), before)
        self.assertEqual(len(self.hooks()), hooks)
        self.assertIn("nothing is written", p.stdout)
        self.assertIn("alice: would add 2, update 1, restore 0 and mark 1 "
                      "deleted", p.stdout)
        self.assertIn("would download 3 covers", p.stdout)
        self.assertIn("updated %s total_views" % vids[3]["id"], p.stdout)
        self.assertIn("deleted %s" % vids[5]["id"], p.stdout)
        self.assertIn("the access token was refreshed", p.stdout)
        with open(secrets, "rb") as f:
            self.assertNotEqual(f.read(), secrets_before)
        # The real sync does what the dry run said.
        self.emu.reset_counters()
        run0 = self.max_run()
        self.m.run("sync", "alice", check=0)
        self.assertEqual(self.emu.counters()["cdn"], 3)
        r = self.m.sql("SELECT * FROM sync_runs WHERE id > ?", run0)[0]
        self.assertEqual((r["new"], r["updated"], r["deleted"]), (2, 1, 1))

    def test_4_failure_metrics(self):
        """A failing account: metrics parse and show it; status exits 1."""
        self.emu.fault("/v2/video/list/", "cursor_stuck", user="bob",
                       times=-1)
        try:
            p = self.m.run("sync", "bob", check=1)
            self.assertIn("cursor", p.stderr)
            p = self.m.run("sync", "bob", check=1)
        finally:
            self.emu.clear_faults()
        s = self.read_metrics()
        self.assertEqual(sample(s, "tiktok_mirror_consecutive_failures",
                                account="bob"), 2)
        self.assertEqual(sample(s, "tiktok_mirror_account_state",
                                account="bob", state="error"), 1)
        self.assertEqual(sample(s, "tiktok_mirror_account_state",
                                account="bob", state="ok"), 0)
        self.assertEqual(sample(s, "tiktok_mirror_consecutive_failures",
                                account="alice"), 0)
        self.assertEqual(sample(s, "tiktok_mirror_account_state",
                                account="alice", state="ok"), 1)
        self.assertEqual(sample(s, "tiktok_mirror_videos", account="alice"),
                         len(self.emu.videos("alice")))
        p = self.m.run("status", "--json", check=1)
        bob = json.loads(p.stdout)["accounts"][1]
        self.assertEqual((bob["name"], bob["state"], bob["failures"]),
                         ("bob", "error", 2))
        self.assertIn("cursor", bob["last_error"])
        r = self.m.sql("SELECT * FROM sync_runs WHERE account = 'bob' "
                       "ORDER BY id DESC LIMIT 1")[0]
        self.assertEqual(r["outcome"], "error")
        self.assertIn("cursor", r["error"])

    def test_5_status_warning(self):
        """Within 30 days of the refresh token's expiry: status --json,
        the table and the metric warn; healthy accounts exit 0."""
        self.m.run("sync", "bob", check=0)
        p = self.m.run("status", "--json", check=0)
        st = {a["name"]: a for a in json.loads(p.stdout)["accounts"]}
        self.assertEqual(st["bob"]["failures"], 0)
        self.assertIsNone(st["alice"]["warning"])
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(
            st["bob"]["refresh_expires_at"]))
        self.assertEqual(st["bob"]["warning"],
                         "authorization expires in 6 days (%s); run: "
                         "tiktok-mirror auth bob" % when)
        for k in ("name", "open_id", "display_name", "state",
                  "last_attempt_at", "last_success_at", "next_sync_at",
                  "last_error", "token_expires_at", "refresh_expires_at",
                  "avatar", "videos"):
            self.assertIn(k, st["alice"])
        self.assertEqual(st["alice"]["avatar"], "alice/avatar.jpg")
        p = self.m.run("status", check=0)
        self.assertIn("warning: authorization expires in 6 days", p.stdout)
        self.assertRegex(p.stdout, r"(?m)^alice +ok +%d " % len(
            self.emu.videos("alice")))
        s = self.read_metrics()
        self.assertEqual(sample(s, "tiktok_mirror_refresh_token_warning",
                                account="bob"), 1)
        self.assertEqual(sample(s, "tiktok_mirror_refresh_token_warning",
                                account="alice"), 0)

    def test_6_progress_on_a_terminal(self):
        """stderr a terminal: progress lines; the exit status as usual."""
        self.emu.fault("/cdn/", "delay", ms=300, user="carol", times=-1)
        self.emu.update_video("carol", self.emu.videos("carol")[0]["id"],
                              new_cover=True)
        master, slave = pty.openpty()
        out = []

        def reader():
            while True:
                try:
                    r, _, _ = select.select([master], [], [], 30)
                    data = os.read(master, 4096) if r else b""
                except OSError:
                    data = b""
                if not data:
                    return
                out.append(data)

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        try:
            p = subprocess.run(harness.command("-c", self.m.config, "sync",
                                               "carol"),
                               stdout=subprocess.PIPE, stderr=slave,
                               stdin=subprocess.DEVNULL, timeout=60)
        finally:
            os.close(slave)
            t.join(10)
            os.close(master)
            self.emu.clear_faults()
        self.assertEqual(p.returncode, 0)
        text = b"".join(out).decode("utf-8", "replace")
        self.assertIn("carol: listing, page 1", text)
        self.assertIn("carol: 2 videos, covers:", text)
        self.assertIn("\r\x1b[K", text)

    def test_7_revoke(self):
        """revoke refreshes an expired access token first, revokes the
        grant at TikTok, deletes the local tokens, marks needs_auth; it
        refuses while another process holds the lock."""
        # bob's next access token lives 30 s: revoke must refresh it.
        self.emu.config(access_ttl=30)
        self.emu.expire_tokens("bob")
        try:
            self.m.run("sync", "bob", check=0)
        finally:
            self.emu.config(access_ttl=86400)
        lock = os.path.join(self.m.dir, "mirror.db.lock")
        with open(lock, "w") as f:
            f.write("%d run\n" % os.getpid())
            f.flush()
            fcntl.flock(f, fcntl.LOCK_EX)
            p = self.m.run("revoke", "bob", check=1)
            self.assertIn("pid %d" % os.getpid(), p.stderr)
            self.assertIn("stop the daemon", p.stderr)
            fcntl.flock(f, fcntl.LOCK_UN)
        self.emu.reset_counters()
        p = self.m.run("revoke", "bob", check=0)
        self.assertIn("revoked at TikTok", p.stdout)
        c = self.emu.counters()["oauth"]
        self.assertEqual((c["refresh_token"], c["revoke"]), (1, 1))
        grants = [g for g in self.emu.state(videos=False)["grants"]
                  if g["user"] == "bob"]
        self.assertTrue(all(g["revoked"] for g in grants))
        a = self.m.account("bob")
        self.assertEqual(a["state"], "needs_auth")
        self.assertEqual(a["last_error"], "revoked; run: tiktok-mirror "
                         "auth bob")
        self.assertIsNone(a["token_expires_at"])
        self.assertIsNone(a["refresh_expires_at"])
        self.assertEqual(len(self.m.videos("bob")), 3)  # the rows stay
        con = sqlite3.connect(os.path.join(self.m.dir, "secrets.db"))
        try:
            n = con.execute("SELECT count(*) FROM tokens WHERE account = "
                            "'bob'").fetchone()[0]
        finally:
            con.close()
        self.assertEqual(n, 0)
        p = self.m.run("revoke", "bob", check=0)
        self.assertIn("no tokens", p.stdout)
        self.m.run("revoke", "nobody", check=2)
        p = self.m.run("status", "--json", check=1)
        self.assertEqual(json.loads(p.stdout)["accounts"][1]["state"],
                         "needs_auth")

    def test_8_forget(self):
        """forget refuses a configured account and a missing --yes (exit
        2, saying what to do), then removes every trace of carol."""
        p = self.m.run("forget", "carol", "--yes", check=2)
        self.assertIn("still configured", p.stderr)
        self.write([a for a in self.accounts if a["name"] != "carol"])
        p = self.m.run("forget", "carol", check=2)
        self.assertIn("tiktok-mirror forget carol --yes", p.stderr)
        self.assertTrue(self.m.videos("carol"))
        alice = self.m.sql("SELECT * FROM videos WHERE account = 'alice' "
                           "ORDER BY id")
        p = self.m.run("forget", "carol", "--yes", check=0)
        self.assertIn("carol: forgotten", p.stdout)
        for table, col in (("accounts", "name"), ("videos", "account"),
                           ("video_stats", "account"),
                           ("sync_runs", "account"), ("changes", "account"),
                           ("cover_sources", "account")):
            self.assertEqual(self.m.sql("SELECT count(*) AS n FROM %s "
                                        "WHERE %s = 'carol'" % (table, col))
                             [0]["n"], 0, table)
        self.assertFalse(os.path.exists(os.path.join(self.m.covers,
                                                     "carol")))
        self.assertTrue(os.path.exists(os.path.join(self.m.covers, "alice",
                                                    "avatar.jpg")))
        self.assertEqual(self.m.sql("SELECT * FROM videos WHERE account = "
                                    "'alice' ORDER BY id"), alice)
        p = self.m.run("forget", "carol", "--yes", check=2)
        self.assertIn("no account named", p.stderr)
        self.m.run("forget", "../alice", "--yes", check=2)

    def test_9_man_pages(self):
        """Both man pages are clean for mandoc -T lint (and man --warnings
        when man-db is there) and `make install` installs them."""
        pages = [os.path.join(ROOT, "daemon", "tiktok-mirror.1"),
                 os.path.join(ROOT, "etc", "tiktok-mirror.yaml.5")]
        if shutil.which("mandoc") is None and os.geteuid() == 0:
            subprocess.run(["apt-get", "install", "-y", "-qq",
                            "--no-install-recommends", "mandoc"],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL,
                           env=dict(os.environ,
                                    DEBIAN_FRONTEND="noninteractive"))
        checked = 0
        if shutil.which("mandoc"):
            p = subprocess.run(["mandoc", "-T", "lint", "-W", "warning"]
                               + pages, capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            checked += 1
        if shutil.which("man") and shutil.which("groff"):
            for page in pages:
                p = subprocess.run(["man", "--warnings", "-l", page],
                                   capture_output=True, text=True,
                                   env=dict(os.environ, MANPAGER="cat",
                                            PAGER="cat", MANWIDTH="80"))
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertEqual(p.stderr, "", page)
            checked += 1
        if not checked:
            self.skipTest("neither mandoc nor man-db with groff")
        dest = tempfile.mkdtemp(prefix="tiktok-mirror-install-")
        try:
            # -o: install the binary under test as it is, never rebuild.
            p = subprocess.run(["make", "-s", "-C", ROOT, "-o", BIN,
                                "install", "DESTDIR=" + dest, "PREFIX=/usr",
                                "SYSCONFDIR=/etc", "PROG=" + BIN],
                               capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            for rel in ("usr/share/man/man1/tiktok-mirror.1",
                        "usr/share/man/man5/tiktok-mirror.yaml.5"):
                self.assertTrue(os.path.isfile(os.path.join(dest, rel)),
                                rel)
        finally:
            shutil.rmtree(dest, ignore_errors=True)


if __name__ == "__main__":
    harness.main()
