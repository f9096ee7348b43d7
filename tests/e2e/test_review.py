#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""End to end: what a hostile review found (issue 13), one class per item.

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
        self.assertEqual(s.recv(100), b"")
        self.assertIsNone(p.poll())

    def test_connection_cap_and_exit(self):
        p, loc = self.start_auth()
        first = self.connect()
        rest = [self.connect() for _ in range(16)]
        # The seventeenth ended the oldest at once.
        first.settimeout(30)
        self.assertEqual(first.recv(100), b"")
        for s in rest:
            s.sendall(b"G")
        # With 16 idle connections open, the grant is stored and the
        # command exits: nothing a browser leaves open keeps it alive.
        u = urllib.parse.urlsplit(loc)
        self.assertEqual(self.get(u.path + "?" + u.query), 200)
        self.assertEqual(p.wait(30), 0)
        for s in rest:
            s.settimeout(30)
            self.assertEqual(s.recv(100), b"")


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


def shutil_copy(src, dst):
    with open(src, "rb") as f, open(dst, "wb") as g:
        g.write(f.read())


if __name__ == "__main__":
    harness.main()
