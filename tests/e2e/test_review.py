#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""End to end: what a hostile review found (issue 13), one class per item.

ExportSafetyTest (items 1, 2, 3): export refuses a target whose covers
folder is, or is inside, the mirror's covers folder (dev/ino, whatever the
names) and the mirror's covers survive; a cover file removed or emptied
comes back at the next refresh; a `covers` or `<account>` symlink in the
export, and a symlinked covers root of the mirror, are refused and their
targets untouched; sweeps remove only the program's own names; `forget`
refuses a name in neither the mirror nor the secrets file.

OutputTest (item 5): CSV cells that a spreadsheet would run as formulas
get a leading ' (exact with --csv-raw); TSV and --table escape every
control, C1 and bidi override; the Atom feed links only https: URLs.

AuthListenerTest (item 6): an ?error= redirect without the pending state
(another web page) is answered 400 and cancels nothing; an idle connection
is closed by the listener; a seventeenth connection ends the oldest; with
idle connections open, `auth` exits as soon as the grant is stored.

FilesTest (item 7): a FIFO as the config, client_secret_file or ca_file is
refused at once (exit 2, "not a regular file"); a group- or
world-writable config with on_change is refused; a database with a newer
schema is refused with its bytes and journal mode untouched; the mirror,
its covers folders and files and the metrics file are readable by the
same users, as the umask says.

VisibilityTest (item 8): `status` flags a mirror whose last attempt is
older than twice its cache; a failure the database cannot record (ENOSPC
injected into its WAL writes) still shows in the metrics file; `run` exits
3 (which the units' RestartPreventExitStatus= stops) on a newer schema or
a damaged database, saying what to do; the lock message for a running
`sync` does not advise kill -USR1.

Every wait is bounded by what the program does (an exit, a closed socket,
a message); every process a test starts is ended in its cleanup.
"""
import configparser
import csv
import hashlib
import json
import os
import re
import socket
import sqlite3
import stat
import subprocess
import threading
import time
import unittest
import urllib.parse
import xml.etree.ElementTree as ET

import harness
from harness import Emulator, Mirror, command

DAY = 86400
NOW = 1760000000
EMU = None


def setUpModule():
    global EMU
    EMU = Emulator().start()


def tearDownModule():
    if EMU is not None:
        EMU.stop()


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


class AuthListenerTest(unittest.TestCase):
    """Item 6: the loopback listener of `auth`."""

    def setUp(self):
        self.m = Mirror(EMU, https=False)
        self.addCleanup(self.m.cleanup)
        EMU.add_user("rv_ann", "Ann")
        EMU.generate("rv_ann", 2, newest=NOW, step=DAY, seed=31)
        self.m.write_config([{"name": "ann"}])
        self.socks = []
        self.addCleanup(self.close_socks)

    def close_socks(self):
        for s in self.socks:
            s.close()

    def start_auth(self):
        """`auth ann` listening; returns (process, the browser's redirect
        location with the right state and code)."""
        EMU.login("rv_ann")
        p = subprocess.Popen(command("-c", self.m.config, "auth", "ann"),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, stdin=subprocess.DEVNULL)

        def end():
            if p.poll() is None:
                p.kill()
                p.wait()
            p.stdout.close()
            p.stderr.close()
        self.addCleanup(end)
        url = self.m._read_url(p)
        r = EMU.http("GET", url)
        self.assertEqual(r.status, 302)
        return p, r.header("Location")

    @staticmethod
    def closed(s):
        """True once the listener closed 's' (an end of file, or a reset
        when it closed with bytes of ours unread)."""
        s.settimeout(30)
        try:
            return s.recv(100) == b""
        except ConnectionResetError:
            return True

    def connect(self):
        s = socket.create_connection(("127.0.0.1", self.m.port), timeout=60)
        self.socks.append(s)
        return s

    def get(self, target):
        """A whole GET on the listener, as a browser; returns the status."""
        return self.m._browser_get("http://127.0.0.1:%d%s"
                                   % (self.m.port, target))[0]

    def test_error_without_state_cancels_nothing(self):
        p, loc = self.start_auth()
        u = urllib.parse.urlsplit(loc)
        state = urllib.parse.parse_qs(u.query)["state"][0]
        # What any web page can make the browser ask for.
        for q in ("error=access_denied",
                  "error=access_denied&state=" + "0" * 32,
                  "error=access_denied&state=" + state[:-1]):
            self.assertEqual(self.get(u.path + "?" + q), 400, q)
        self.assertIsNone(p.poll())
        # The real redirect still completes the flow.
        self.assertEqual(self.get(u.path + "?" + u.query), 200)
        rc = p.wait(60)
        err = p.stderr.read()
        self.assertEqual(rc, 0, err)
        self.assertIn("ignored an error redirect without the pending state",
                      err)
        self.assertEqual(self.m.run("sync", check=0).returncode, 0)

    def test_error_with_state_ends_flow(self):
        p, loc = self.start_auth()
        u = urllib.parse.urlsplit(loc)
        state = urllib.parse.parse_qs(u.query)["state"][0]
        self.assertEqual(self.get(u.path + "?error=access_denied&"
                                  "error_description=no&state=" + state),
                         400)
        self.assertEqual(p.wait(60), 1)
        self.assertIn("access_denied", p.stderr.read())

    def test_idle_connection_closed(self):
        p, loc = self.start_auth()
        s = self.connect()
        s.sendall(b"GET /callback/?code=x")     # and nothing more
        # The listener closes it (after its idle timeout), not the test.
        self.assertTrue(self.closed(s))
        self.assertIsNone(p.poll())

    def test_connection_cap_and_exit(self):
        p, loc = self.start_auth()
        first = self.connect()
        rest = [self.connect() for _ in range(16)]
        # The seventeenth ended the oldest at once.
        self.assertTrue(self.closed(first))
        for s in rest:
            s.sendall(b"G")
        # With 16 idle connections open, the grant is stored and the
        # command exits: nothing a browser leaves open keeps it alive.
        u = urllib.parse.urlsplit(loc)
        self.assertEqual(self.get(u.path + "?" + u.query), 200)
        self.assertEqual(p.wait(30), 0)
        for s in rest:
            self.assertTrue(self.closed(s))


class FilesTest(unittest.TestCase):
    """Item 7: files that are not what they seem."""

    def setUp(self):
        self.m = Mirror(EMU, https=True)
        self.addCleanup(self.m.cleanup)
        self.m.write_config([{"name": "bea"}])

    def check(self, config=None):
        return subprocess.run(command("-c", config or self.m.config,
                                      "check"),
                              capture_output=True, text=True, timeout=30,
                              stdin=subprocess.DEVNULL)

    def edit(self, old, new):
        with open(self.m.config) as f:
            text = f.read()
        self.assertIn(old, text)
        with open(self.m.config, "w") as f:
            f.write(text.replace(old, new))

    def test_fifo_config(self):
        fifo = os.path.join(self.m.dir, "fifo.yaml")
        os.mkfifo(fifo)
        p = self.check(fifo)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("not a regular file", p.stderr)

    def test_fifo_secret_and_ca(self):
        fifo = os.path.join(self.m.dir, "fifo")
        os.mkfifo(fifo)
        for key, value in (("client_secret_file: client_secret",
                            "client_secret_file: fifo"),
                           ("ca_file: ca.pem", "ca_file: fifo")):
            with self.subTest(key=key):
                self.edit(key, value)
                p = self.check()
                self.edit(value, key)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertIn("not a regular file", p.stderr)
                self.assertIn("fifo", p.stderr)

    def test_writable_config_with_on_change(self):
        with open(self.m.config, "a") as f:
            f.write("on_change: /bin/true\n")
        for m, who in ((0o664, "its group"), (0o646, "others")):
            with self.subTest(mode=oct(m)):
                os.chmod(self.m.config, m)
                p = self.check()
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertIn("on_change", p.stderr)
                self.assertIn("writable by " + who, p.stderr)
                self.assertIn("chmod go-w", p.stderr)
        os.chmod(self.m.config, 0o644)
        self.assertEqual(self.check().returncode, 0)

    def test_newer_schema_untouched(self):
        con = sqlite3.connect(self.m.db)
        con.execute("CREATE TABLE future (x)")
        con.execute("PRAGMA user_version = 7")
        con.commit()
        con.close()
        before = sha(self.m.db)
        p = self.m.run("sync")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("newer than this tiktok-mirror", p.stderr)
        self.assertEqual(sha(self.m.db), before)
        self.assertFalse(os.path.exists(self.m.db + "-wal"))
        con = sqlite3.connect(self.m.db)
        self.assertEqual(con.execute("PRAGMA journal_mode").fetchone()[0],
                         "delete")
        con.close()

    def synced(self, umask, name):
        """A mirror synced under 'umask'; returns its files' modes."""
        m = Mirror(EMU, https=False)
        self.addCleanup(m.cleanup)
        EMU.add_user(name, name)
        EMU.generate(name, 3, newest=NOW, step=DAY, seed=32,
                     formats=["jpeg", "png"])
        metrics = os.path.join(m.dir, "metrics.prom")
        m.write_config([{"name": name}])
        with open(m.config, "a") as f:
            f.write("metrics: %s\n" % metrics)
        self.assertEqual(m.auth_code(name, name).returncode, 0)
        old = os.umask(umask)
        try:
            m.run("sync", check=0)
        finally:
            os.umask(old)
        acct = os.path.join(m.covers, name)
        files = [os.path.join(acct, f) for f in os.listdir(acct)]
        self.assertGreaterEqual(len(files), 3)
        return {"db": mode(m.db), "covers": mode(m.covers),
                "account": mode(acct), "metrics": mode(metrics),
                "files": {mode(f) for f in files}}

    def test_modes_follow_umask(self):
        private = self.synced(0o077, "rv_umask_private")
        self.assertEqual(private, {"db": 0o600, "covers": 0o700,
                                   "account": 0o700, "metrics": 0o600,
                                   "files": {0o600}})
        group = self.synced(0o027, "rv_umask_group")
        self.assertEqual(group, {"db": 0o640, "covers": 0o750,
                                 "account": 0o750, "metrics": 0o640,
                                 "files": {0o640}})
        # A permissive umask widens reading, never writing.
        wide = self.synced(0o000, "rv_umask_wide")
        self.assertEqual(wide, {"db": 0o644, "covers": 0o755,
                                "account": 0o755, "metrics": 0o644,
                                "files": {0o644}})


class VisibilityTest(unittest.TestCase):
    """Item 8: failures that monitors can see."""

    @classmethod
    def setUpClass(cls):
        cls.m = m = Mirror(EMU, https=False)
        EMU.add_user("rv_cid", "Cid")
        EMU.generate("rv_cid", 4, newest=NOW, step=DAY, seed=33)
        cls.metrics = os.path.join(m.dir, "metrics.prom")
        m.write_config([{"name": "cid", "cache": 600}])
        with open(m.config, "a") as f:
            f.write("metrics: %s\n" % cls.metrics)
        assert m.auth_code("cid", "rv_cid").returncode == 0
        m.run("sync", check=0)

    @classmethod
    def tearDownClass(cls):
        cls.m.cleanup()

    def set_attempt(self, t):
        con = sqlite3.connect(self.m.db)
        con.execute("UPDATE accounts SET last_attempt_at = ? "
                    "WHERE name = 'cid'", (t,))
        con.commit()
        con.close()

    def test_status_stale(self):
        self.addCleanup(self.set_attempt, int(time.time()))
        self.set_attempt(int(time.time()) - 1300)     # > 2 x 600 s
        p = self.m.run("status", "--json")
        self.assertEqual(p.returncode, 1, p.stderr)
        a = json.loads(p.stdout)["accounts"][0]
        self.assertEqual(a["state"], "ok")
        self.assertIs(a["stale"], True)
        self.assertIn("stale", a["warning"])
        self.assertIn("is the daemon running", a["warning"])
        p = self.m.run("status")
        self.assertEqual(p.returncode, 1)
        self.assertIn("warning: stale", p.stdout)
        # Within twice the cache: healthy.
        self.set_attempt(int(time.time()) - 1100)
        p = self.m.run("status", "--json")
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertIs(json.loads(p.stdout)["accounts"][0]["stale"], False)

    def metric(self, name, **labels):
        with open(self.metrics) as f:
            text = f.read()
        want = ",".join('%s="%s"' % kv for kv in sorted(labels.items()))
        for line in text.splitlines():
            k, _, v = line.rpartition(" ")
            if k == "%s{%s}" % (name, want):
                return int(v)
        raise AssertionError("no %s{%s} in:\n%s" % (name, want, text))

    def test_unrecorded_failure_in_metrics(self):
        self.assertEqual(self.metric("tiktok_mirror_account_state",
                                     account="cid", state="ok"), 1)
        # The refresh fails, and so does every write of the database's
        # WAL (a full disk): the row still says ok.
        EMU.fault("/v2/video/list/", "status", status=500, times=-1)
        self.addCleanup(EMU.clear_faults)
        e = dict(os.environ)
        e.pop("JOURNAL_STREAM", None)
        opts = e.get("ASAN_OPTIONS", "")
        e["ASAN_OPTIONS"] = (opts + ":" if opts else "") + "detect_leaks=0"
        p = subprocess.run(
            ["strace", "-f", "-qq", "-o", "/dev/null",
             "-P", self.m.db + "-wal", "-e", "trace=pwrite64",
             "-e", "inject=pwrite64:error=ENOSPC",
             harness.BIN, "-c", self.m.config, "sync"],
            capture_output=True, text=True, timeout=300, env=e,
            stdin=subprocess.DEVNULL)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("cannot record the failure", p.stderr)
        self.assertEqual(self.m.account("cid")["state"], "ok")
        self.assertEqual(self.metric("tiktok_mirror_account_state",
                                     account="cid", state="ok"), 0)
        self.assertEqual(self.metric("tiktok_mirror_account_state",
                                     account="cid", state="error"), 1)
        self.assertEqual(self.metric("tiktok_mirror_consecutive_failures",
                                     account="cid"), 1)
        EMU.clear_faults()
        self.assertEqual(self.m.run("sync").returncode, 0)
        self.assertEqual(self.metric("tiktok_mirror_account_state",
                                     account="cid", state="ok"), 1)

    def run_daemon(self, m):
        """`run` that must exit by itself; returns (status, stderr)."""
        e = dict(os.environ)
        e.pop("JOURNAL_STREAM", None)
        e.pop("NOTIFY_SOCKET", None)
        p = subprocess.run(command("-c", m.config, "run"),
                           capture_output=True, text=True, timeout=60,
                           env=e, stdin=subprocess.DEVNULL)
        return p.returncode, p.stderr

    def test_run_permanent_errors(self):
        m = Mirror(EMU, https=False)
        self.addCleanup(m.cleanup)
        m.write_config([{"name": "dee"}])
        # A newer schema.
        con = sqlite3.connect(m.db)
        con.execute("PRAGMA user_version = 9")
        con.commit()
        con.close()
        rc, err = self.run_daemon(m)
        self.assertEqual(rc, 3, err)
        self.assertIn("install a newer tiktok-mirror", err)
        # Somebody else's database.
        os.unlink(m.db)
        con = sqlite3.connect(m.db)
        con.execute("CREATE TABLE notes (x)")
        con.commit()
        con.close()
        rc, err = self.run_daemon(m)
        self.assertEqual(rc, 3, err)
        self.assertIn("not a tiktok-mirror database", err)
        # Both units stop restarting on 3 (and on 2, a bad config).
        for unit in ("tiktok-mirror.service", "tiktok-mirror-user.service"):
            cp = configparser.ConfigParser(strict=False, interpolation=None)
            cp.read(os.path.join(harness.ROOT, "systemd", unit))
            self.assertEqual(
                sorted(cp["Service"]["RestartPreventExitStatus"].split()),
                ["2", "3"], unit)

    def test_damaged_quick_check(self):
        """A file SQLite still opens but whose pages are damaged: `run`
        checks it at start and says what to do."""
        m = Mirror(EMU, https=False)
        self.addCleanup(m.cleanup)
        m.write_config([{"name": "dee"}])
        for ext in ("", "-wal"):
            if os.path.exists(self.m.db + ext):
                shutil_copy(self.m.db + ext, m.db + ext)
        con = sqlite3.connect(m.db)
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        n = con.execute("PRAGMA page_count").fetchone()[0]
        size = con.execute("PRAGMA page_size").fetchone()[0]
        root = con.execute("SELECT rootpage FROM sqlite_master "
                           "WHERE name = 'videos'").fetchone()[0]
        con.close()
        self.assertGreater(n, root)
        with open(m.db, "r+b") as f:
            f.seek((root - 1) * size)
            f.write(b"\x0d" + b"\xee" * (size - 1))
        rc, err = self.run_daemon(m)
        self.assertEqual(rc, 3, err)
        self.assertRegex(err, r"damaged|malformed")
        self.assertIn("recover", err + "")

    def test_lock_held_by_sync(self):
        # A sync that waits (the listing hangs) holds the lock.
        EMU.fault("/v2/video/list/", "hang", times=1)
        self.addCleanup(EMU.clear_faults)
        first = subprocess.Popen(command("-c", self.m.config, "sync"),
                                 stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL,
                                 stdin=subprocess.DEVNULL)

        def end():
            if first.poll() is None:
                first.terminate()
                first.wait(30)
        self.addCleanup(end)
        lock = self.m.db + ".lock"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if os.path.exists(lock):
                with open(lock) as f:
                    if f.read().startswith("%d" % first.pid):
                        break
            time.sleep(0.05)
        p = self.m.run("sync")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("pid %d" % first.pid, p.stderr)
        self.assertIn("tiktok-mirror sync", p.stderr)
        self.assertIn("wait for it to finish", p.stderr)
        self.assertNotIn("USR1", p.stderr)


def tree(top):
    """{relative path: bytes} of every file under 'top' (no symlinks)."""
    out = {}
    for d, _, files in os.walk(top):
        for f in files:
            p = os.path.join(d, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, top)] = fh.read()
    return out


class ExportSafetyTest(unittest.TestCase):
    """Items 1, 2 and 3: the export never touches the mirror, follows no
    symlink, and deletes only what it wrote."""

    def setUp(self):
        self.m = m = Mirror(EMU, https=False)
        self.addCleanup(m.cleanup)
        self.user = "rv_eve_%d" % id(self)
        EMU.add_user(self.user, "Eve")
        EMU.generate(self.user, 6, newest=NOW, step=DAY, seed=34,
                     formats=["jpeg", "png"])
        m.write_config([{"name": "eve", "quantity": 4}])
        self.assertEqual(m.auth_code("eve", self.user).returncode, 0)
        m.run("sync", check=0)
        # One video deleted at TikTok: its row and cover stay, and the
        # export leaves it out (TikTok serves that cover no more).
        gone = [v for v in m.videos("eve") if v["position"] == 1][0]
        EMU.delete_videos(self.user, [gone["id"]])
        m.run("sync", check=0)
        self.gone = m.videos("eve")
        self.assertTrue(any(v["deleted_at"] for v in self.gone))
        self.acct = os.path.join(m.covers, "eve")

    def test_export_into_mirror_refused(self):
        before = tree(self.m.covers)
        self.assertTrue(any(v["deleted_at"] and v["cover"]
                            for v in self.gone))
        # The state folder itself: DIR/covers is the mirror's covers.
        # Then a folder inside the mirror's covers, and a name that gets
        # there through a symlink higher up.
        link = os.path.join(self.m.dir, "alias")
        os.symlink(self.m.dir, link)
        for out in (self.m.dir, os.path.join(self.acct, "site"),
                    self.m.covers, os.path.join(link, ".")):
            with self.subTest(out=out):
                p = self.m.run("export", "--out", out)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertIn("mirror's covers folder", p.stderr)
                self.assertIn("choose another --out", p.stderr)
                self.assertEqual({k: v for k, v in
                                  tree(self.m.covers).items()
                                  if "site/" not in k}, before)

    def test_mirror_repairs_covers(self):
        # Two newer videos push two rows out of the kept slice (live,
        # position NULL): TikTok still serves them through video/query.
        EMU.add_videos(self.user, [{"create_time": NOW + DAY * k}
                                   for k in (1, 2)])
        self.m.run("sync", check=0)
        rows = [v for v in self.m.videos("eve")
                if v["cover"] and not v["deleted_at"]]
        listed = [v for v in rows if v["position"] is not None]
        out = [v for v in rows if v["position"] is None]
        self.assertGreaterEqual(len(out), 2)
        broken = [listed[0], listed[1], out[0], out[1]]
        want = {v["id"]: self.m.cover_sha(v["cover"]) for v in broken}
        for k, v in enumerate(broken):
            path = os.path.join(self.m.covers, v["cover"])
            if k % 2:
                open(path, "w").close()     # emptied
            else:
                os.unlink(path)             # gone
        p = self.m.run("sync", check=0)
        self.assertIn("fetching 2 missing covers", p.stderr)
        got = {v["id"]: v for v in self.m.videos("eve")}
        for v in broken:
            self.assertEqual(self.m.cover_sha(got[v["id"]]["cover"]),
                             want[v["id"]], v)
        # Once whole, nothing more is fetched.
        p = self.m.run("sync", check=0)
        self.assertNotIn("missing covers", p.stderr)

    def test_export_symlinks_refused(self):
        victim = os.path.join(self.m.dir, "victim")
        os.makedirs(os.path.join(victim, "eve"))
        with open(os.path.join(victim, "eve", "1.jpg"), "w") as f:
            f.write("a user's file")
        before = tree(victim)
        # DIR/covers a symlink.
        out = os.path.join(self.m.dir, "site1")
        os.makedirs(out)
        os.symlink(victim, os.path.join(out, "covers"))
        p = self.m.run("export", "--out", out)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("symbolic link", p.stderr)
        self.assertEqual(tree(victim), before)
        # DIR/covers/<account> a symlink.
        out = os.path.join(self.m.dir, "site2")
        os.makedirs(os.path.join(out, "covers"))
        os.symlink(os.path.join(victim, "eve"),
                   os.path.join(out, "covers", "eve"))
        p = self.m.run("export", "--out", out)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("symbolic link", p.stderr)
        self.assertEqual(tree(victim), before)
        self.assertEqual(os.listdir(os.path.join(victim, "eve")), ["1.jpg"])

    def test_mirror_covers_root_symlink_refused(self):
        m = Mirror(EMU, https=False)
        self.addCleanup(m.cleanup)
        m.write_config([{"name": "eve", "quantity": 4}])
        self.assertEqual(m.auth_code("eve", self.user).returncode, 0)
        victim = os.path.join(m.dir, "elsewhere")
        os.makedirs(victim)
        os.symlink(victim, m.covers)
        p = m.run("sync")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("symbolic link", p.stderr)
        self.assertEqual(os.listdir(victim), [])

    def test_sweeps_delete_only_ours(self):
        users = {".gitkeep": b"", "README": b"mine", "notes.jpg": b"x",
                 "12.jpg.orig": b"y", "avatar.txt": b"z", "7a.png": b"w"}
        # In the export.
        out = os.path.join(self.m.dir, "site")
        self.m.run("export", "--out", out, check=0)
        edir = os.path.join(out, "covers", "eve")
        for name, data in users.items():
            for d in (edir, self.acct):
                with open(os.path.join(d, name), "wb") as f:
                    f.write(data)
        # An old cover of ours that nothing names: swept on both sides.
        stale = os.path.join(edir, "123.jpg")
        with open(stale, "wb") as f:
            f.write(b"\xff\xd8\xff old")
        os.link(stale, os.path.join(self.acct, "123.jpg"))
        self.m.run("export", "--out", out, check=0)
        self.assertFalse(os.path.exists(stale))
        for name, data in users.items():
            with open(os.path.join(edir, name), "rb") as f:
                self.assertEqual(f.read(), data, name)
        # In the mirror: a refresh that removes covers (a new process's
        # first sweep) leaves the user's files.
        EMU.update_video(self.user, self.m.videos("eve")[-1]["id"],
                         new_cover=True)
        self.m.run("sync", check=0)
        self.assertFalse(os.path.exists(os.path.join(self.acct, "123.jpg")))
        for name, data in users.items():
            with open(os.path.join(self.acct, name), "rb") as f:
                self.assertEqual(f.read(), data, name)

    def test_forget_unknown_name(self):
        photos = os.path.join(self.m.covers, "photos")
        os.makedirs(photos)
        for name in ("1.jpg", "2.png", "notes.txt"):
            with open(os.path.join(photos, name), "w") as f:
                f.write("a user's " + name)
        before = tree(photos)
        p = self.m.run("forget", "photos", "--yes")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("no account named 'photos'", p.stderr)
        self.assertEqual(tree(photos), before)


class OutputTest(unittest.TestCase):
    """Item 5: output that is safe where it lands."""

    TITLES = ["=HYPERLINK(\"http://x.invalid\",\"click\")", "+1+1", "-2",
              "@SUM(A1)", "\tTab first", "\rCR first", "plain, title",
              "-minus, with \"quote\""]
    HOSTILE = ("\x1b]0;pwned\x07\x1b[2J title \u009b31m c1 "
               "\u202eevil\u202c \u2066iso\u2069 \x7f del \x08 bs")

    @classmethod
    def setUpClass(cls):
        cls.m = m = Mirror(EMU, https=False)
        EMU.add_user("rv_fay", "Fay")
        vids = [{"create_time": NOW - i * 60, "title": t}
                for i, t in enumerate(cls.TITLES)]
        vids.append({"create_time": NOW - 3600, "title": cls.HOSTILE,
                     "share_url": "javascript:alert(1)"})
        vids.append({"create_time": NOW - 7200, "title": "data link",
                     "share_url": "data:text/html,<script>x</script>"})
        EMU.add_videos("rv_fay", vids)
        m.write_config([{"name": "fay", "quantity": "all"}])
        assert m.auth_code("fay", "rv_fay").returncode == 0
        m.run("sync", check=0)

    @classmethod
    def tearDownClass(cls):
        cls.m.cleanup()

    def csv_titles(self, *args):
        out = os.path.join(self.m.dir, "csv%d" % len(args))
        self.m.run("export", "--out", out, "--format", "csv", *args,
                   check=0)
        with open(os.path.join(out, "fay.csv"), newline="",
                  encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        return {r["id"]: r for r in rows}

    def test_csv_neutralised(self):
        got = self.csv_titles()
        raw = self.csv_titles("--csv-raw")
        by_title = {v["title"]: v["id"] for v in self.m.videos("fay")}
        for t in self.TITLES:
            i = by_title[t]
            self.assertEqual(raw[i]["title"], t)
            if t[0] in "=+-@\t\r":
                self.assertEqual(got[i]["title"], "'" + t)
            else:
                self.assertEqual(got[i]["title"], t)

    def assert_inert(self, text):
        for ch in text:
            o = ord(ch)
            self.assertFalse(o < 0x20 and ch not in "\t\n", repr(ch))
            self.assertFalse(0x7f <= o <= 0x9f, repr(ch))
            self.assertFalse(o in (0x61c, 0x200e, 0x200f) or
                             0x202a <= o <= 0x202e or 0x2066 <= o <= 0x2069,
                             repr(ch))

    def test_tsv_and_table_escaped(self):
        p = self.m.run("videos", "fay", "--tsv", check=0)
        line = [ln for ln in p.stdout.split("\n") if "pwned" in ln][0]
        self.assert_inert(line)
        self.assertIn("\\x1b]0;pwned\\x07", line)
        self.assertIn("\\xc2\\x9b31m", line)
        self.assertIn("\\xe2\\x80\\xaeevil", line)
        p = self.m.run("videos", "fay", "--table", check=0)
        line = [ln for ln in p.stdout.split("\n") if "pwned" in ln][0]
        self.assert_inert(line)

    def test_atom_https_only(self):
        out = os.path.join(self.m.dir, "atom")
        self.m.run("export", "--out", out, "--format", "atom", check=0)
        feed = ET.parse(os.path.join(out, "fay.atom")).getroot()
        A = "{http://www.w3.org/2005/Atom}"
        hrefs = [ln.get("href") for e in feed.findall(A + "entry")
                 for ln in e.findall(A + "link")
                 if ln.get("rel") == "alternate"]
        self.assertEqual(len(hrefs), len(self.TITLES))
        for h in hrefs:
            self.assertTrue(h.startswith("https://"), h)


def shutil_copy(src, dst):
    with open(src, "rb") as f, open(dst, "wb") as g:
        g.write(f.read())


if __name__ == "__main__":
    harness.main()
