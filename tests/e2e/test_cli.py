#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Where a user meets the command line (issue 14):

- one mirror for the shell and the daemon: the user's own config is found
  by itself under $XDG_CONFIG_HOME, its state lives in $XDG_STATE_HOME (what
  the user unit passes as $STATE_DIRECTORY), the system config's in
  /var/lib/tiktok-mirror (checked in a mount namespace, so nothing on the
  machine is touched); `status` names the mirror, the daemon's pid and the
  accounts no longer configured;
- $CREDENTIALS_DIRECTORY in client_secret_file (systemd's LoadCredential=);
- help: `--help`, `COMMAND --help` and `help COMMAND` on stdout, exit 0;
  --config beside -c; global options after the command; contradictory
  flags refused;
- config errors start with FILE:LINE:COLUMN: on a terminal or in a file,
  and journald's <N> prefix appears only when $JOURNAL_STREAM is stderr.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import unittest

import harness
from checks import auth_all
from daemon_util import Daemon, NotifyListener
from harness import BIN, Emulator, Mirror, command

COMMANDS = ["run", "sync", "auth", "revoke", "forget", "status", "videos",
            "export", "check"]


def clean_env(**extra):
    e = dict(os.environ)
    for k in ("JOURNAL_STREAM", "STATE_DIRECTORY", "CREDENTIALS_DIRECTORY",
              "TIKTOK_MIRROR_CONFIG", "NOTIFY_SOCKET"):
        e.pop(k, None)
    e.update(extra)
    return e


def run(*args, env=None, **kw):
    return subprocess.run(command(*args), capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL,
                          env=env if env is not None else clean_env(), **kw)


class HelpTest(unittest.TestCase):
    def test_help_everywhere(self):
        top = run("--help")
        self.assertEqual(top.returncode, 0, top.stderr)
        self.assertEqual(top.stderr, "")
        self.assertTrue(top.stdout.startswith("usage: tiktok-mirror"))
        self.assertEqual(run("help").stdout, top.stdout)
        self.assertEqual(run("-h").stdout, top.stdout)
        for cmd in COMMANDS:
            with self.subTest(cmd=cmd):
                self.assertRegex(top.stdout, r"\n  %s\b" % cmd)
                a = run(cmd, "--help")
                b = run("help", cmd)
                c = run(cmd, "-h")
                for p in (a, b, c):
                    self.assertEqual(p.returncode, 0, p.stderr)
                    self.assertEqual(p.stderr, "")
                self.assertEqual(a.stdout, b.stdout)
                self.assertEqual(a.stdout, c.stdout)
                self.assertRegex(a.stdout, r"^usage:\n  tiktok-mirror "
                                 r"\[-c FILE\] \[-v \| -q\] %s\b" % cmd)
                self.assertIn("-c, --config FILE", a.stdout)
                self.assertNotEqual(a.stdout, top.stdout)
        # --help wins over everything else, even without a config.
        p = run("-c", "/nonexistent.yaml", "videos", "x", "--json", "--help")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("--date-format FMT", p.stdout)
        p = run("help", "nope")
        self.assertEqual(p.returncode, 2)
        self.assertIn("unknown command 'nope'", p.stderr)
        # A wrong option prints the command's usage on stderr, exit 2.
        p = run("status", "--bogus")
        self.assertEqual(p.returncode, 2)
        self.assertEqual(p.stdout, "")
        self.assertIn("tiktok-mirror status [--json]", p.stderr)

    def test_contradictions(self):
        for args, what in ((["-v", "-q", "check"], "-v and -q"),
                           (["check", "-q", "-v"], "-v and -q"),
                           (["-v", "check", "--quiet"], "-v and -q"),
                           (["videos", "x", "--json", "--tsv"], "--json, "),
                           (["videos", "x", "--table", "--json"], "--json, "),
                           (["auth", "x", "--code", "c", "--redirect-url",
                             "u"], "--redirect-url and --code")):
            with self.subTest(args=args):
                p = run(*args)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertIn(what, p.stderr)
                self.assertIn("contradict", p.stderr)


class ConfigErrorTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="tiktok-mirror-cli-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.cfg = os.path.join(self.dir, "bad.yaml")
        with open(self.cfg, "w") as f:
            f.write("app:\n  client_key: k\n  client_secret: s\n"
                    "  redirect_uri: http://127.0.0.1:1/cb/\n"
                    "accounts:\n  - name: brand\n    quantity: lots\n")
        os.chmod(self.cfg, 0o600)
        self.want = "%s:7:15: quantity must be" % self.cfg

    def stderr_file(self, env, *args):
        """Run with stderr a plain file; returns (status, its text)."""
        path = os.path.join(self.dir, "stderr")
        with open(path, "w") as f:
            st = os.fstat(f.fileno())
            env = dict(env)
            for k, v in env.items():
                if v == "STDERR":
                    env[k] = "%d:%d" % (st.st_dev, st.st_ino)
            p = subprocess.run(command(*args), stdout=subprocess.DEVNULL,
                               stderr=f, env=env, timeout=60,
                               stdin=subprocess.DEVNULL)
        with open(path) as f:
            return p.returncode, f.read()

    def test_file_line_column_first(self):
        for cmd in ("check", "status", "sync", "run"):
            with self.subTest(cmd=cmd):
                # A pipe, then a plain file: the line starts with the place.
                p = run("-c", self.cfg, cmd)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertTrue(p.stderr.startswith(self.want), p.stderr)
                rc, err = self.stderr_file(clean_env(), "--config",
                                           self.cfg, cmd)
                self.assertEqual(rc, 2, err)
                self.assertTrue(err.startswith(self.want), err)

    def test_journal_stream_must_be_stderr(self):
        # Inherited from a unit, but stderr is now a file: no prefix.
        rc, err = self.stderr_file(clean_env(JOURNAL_STREAM="8:12345"),
                                   "-c", self.cfg, "check")
        self.assertEqual(rc, 2)
        self.assertTrue(err.startswith(self.want), err)
        rc, err = self.stderr_file(clean_env(JOURNAL_STREAM="junk"),
                                   "-c", self.cfg, "check")
        self.assertTrue(err.startswith(self.want), err)
        # stderr is the stream $JOURNAL_STREAM names: journald's prefix.
        rc, err = self.stderr_file(clean_env(JOURNAL_STREAM="STDERR"),
                                   "-c", self.cfg, "check")
        self.assertEqual(rc, 2)
        self.assertTrue(err.startswith("<3>" + self.want), err)


class OneMirrorTest(unittest.TestCase):
    """A user's own config, found by itself; the shell and the user unit
    use the same state folder."""

    @classmethod
    def setUpClass(cls):
        cls.top = tempfile.mkdtemp(prefix="tiktok-mirror-xdg-")
        cls.emu = Emulator().start()
        cls.emu.config(rate_limit=0)
        for u in ("alice", "bob"):
            cls.emu.add_user(u)
            cls.emu.generate(u, 3, seed=len(u))
        cls.xdg_config = os.path.join(cls.top, "config")
        cls.state = os.path.join(cls.top, "state", "tiktok-mirror")
        cls.env = clean_env(XDG_CONFIG_HOME=cls.xdg_config,
                            XDG_STATE_HOME=os.path.join(cls.top, "state"),
                            HOME=os.path.join(cls.top, "home"))
        cls.saved = dict(os.environ)
        # The harness's commands inherit this environment.
        os.environ.update(cls.env)
        cls.m = Mirror(cls.emu, folder=os.path.join(cls.xdg_config,
                                                    "tiktok-mirror"))
        cls.m.db = os.path.join(cls.state, "mirror.db")
        cls.m.write_config([{"name": "alice"}, {"name": "bob"}])

    @classmethod
    def tearDownClass(cls):
        os.environ.clear()
        os.environ.update(cls.saved)
        cls.emu.stop()
        shutil.rmtree(cls.top, True)

    def test_shell_and_unit_agree(self):
        db = os.path.join(self.state, "mirror.db")
        # Before anything: status names where the mirror will be.
        p = run("status", env=self.env)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("mirror: %s (not created yet" % db, p.stdout)
        self.assertIn("config: %s" % self.m.config, p.stdout)
        self.assertIn("daemon: not running", p.stdout)
        self.assertFalse(os.path.exists(self.state))

        # auth from a shell writes the state folder, made 0700.
        auth_all(self.m, ["alice", "bob"])
        self.assertEqual(os.stat(self.state).st_mode & 0o777, 0o700)
        self.assertTrue(os.path.exists(os.path.join(self.state,
                                                    "secrets.db")))
        self.assertFalse(os.path.exists(os.path.join(self.m.dir,
                                                     "secrets.db")))
        # A sync without -c: the same config, the same mirror.
        p = run("sync", env=self.env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(self.m.videos("alice")), 3)
        self.assertFalse(os.path.exists(os.path.join(self.m.dir,
                                                     "mirror.db")))

        # The daemon as the user unit runs it.
        n = NotifyListener(self.top)
        self.addCleanup(n.close)
        d = Daemon(self.m, notify=n, env={
            "STATE_DIRECTORY": self.state,
            "XDG_CONFIG_HOME": self.xdg_config,
            "XDG_STATE_HOME": self.env["XDG_STATE_HOME"]})
        self.addCleanup(d.kill)
        n.wait("READY", "1", timeout=30)
        self.assertIn("mirror %s" % db, d.log())
        p = run("status", env=self.env)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("mirror: %s\n" % db, p.stdout)
        self.assertIn("daemon: running, pid %d\n" % d.pid, p.stdout)
        self.assertRegex(p.stdout, r"\nalice +ok +3 ")
        self.assertNotIn("never synced", p.stdout)
        p = run("status", "--json", env=self.env)
        j = json.loads(p.stdout)
        self.assertEqual(j["mirror"], db)
        self.assertEqual(j["daemon_pid"], d.pid)
        self.assertEqual(j["unconfigured"], [])
        self.assertEqual([a["name"] for a in j["accounts"]],
                         ["alice", "bob"])
        d.signal(signal.SIGTERM)
        self.assertEqual(d.wait(10), 0, d.log())

        # bob leaves the config: status still lists him, as unconfigured.
        self.m.write_config([{"name": "alice"}])
        p = run("status", env=self.env)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("daemon: not running", p.stdout)
        self.assertIn("in the mirror but not configured", p.stdout)
        self.assertIn("tiktok-mirror forget NAME --yes", p.stdout)
        self.assertRegex(p.stdout, r"\n  bob\n")
        j = json.loads(run("status", "--json", env=self.env).stdout)
        self.assertEqual(j["unconfigured"], ["bob"])
        self.assertIsNone(j["daemon_pid"])

        # Options after the command; --config beside -c.
        for args in (["status", "--config", self.m.config],
                     ["status", "-c", self.m.config, "--json"],
                     ["--config=%s" % self.m.config, "status"],
                     ["videos", "alice", "--tsv", "-c", self.m.config]):
            with self.subTest(args=args):
                p = run(*args, env=clean_env())
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertIn("alice", p.stdout)
        # -q after the command silences the info lines of a sync.
        p = run("sync", env=self.env)
        self.assertIn("info:", p.stderr)
        p = run("sync", "-q", env=self.env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr, "")

    def test_credentials_directory(self):
        """client_secret_file: $CREDENTIALS_DIRECTORY/client_secret, as
        the example config recommends with LoadCredential=."""
        creds = os.path.join(self.top, "creds")
        os.makedirs(creds, exist_ok=True)
        shutil.copy(os.path.join(self.m.dir, "client_secret"), creds)
        os.chmod(os.path.join(creds, "client_secret"), 0o400)
        cfg = os.path.join(self.top, "creds.yaml")
        with open(self.m.config) as f:
            text = f.read()
        with open(cfg, "w") as f:
            f.write(text.replace(
                "client_secret_file: client_secret",
                "client_secret_file: $CREDENTIALS_DIRECTORY/client_secret")
                .replace("ca_file: ca.pem", "ca_file: %s/ca.pem"
                         % self.m.dir))
        p = run("-c", cfg, "check", env=clean_env(
            CREDENTIALS_DIRECTORY=creds))
        self.assertEqual(p.returncode, 0, p.stderr)
        p = run("-c", cfg, "check")
        self.assertEqual(p.returncode, 2)
        self.assertRegex(p.stderr, r"^%s:\d+:\d+: client_secret_file uses "
                         r"\$CREDENTIALS_DIRECTORY, which is not set"
                         % re.escape(cfg))
        # Reading commands never need the secret.
        p = run("-c", cfg, "status", "--json")
        self.assertNotEqual(p.returncode, 2, p.stderr)
        self.assertEqual(len(json.loads(p.stdout)["accounts"]), 2)
        # Readable by others: refused like an inline secret.
        os.chmod(os.path.join(creds, "client_secret"), 0o644)
        p = run("-c", cfg, "check", env=clean_env(
            CREDENTIALS_DIRECTORY=creds))
        self.assertEqual(p.returncode, 2)
        self.assertIn("is readable by others (mode 0644)", p.stderr)


UNSHARE = shutil.which("unshare")


@unittest.skipIf(UNSHARE is None or os.geteuid() != 0,
                 "needs root and unshare(1) for a private mount namespace")
class SystemConfigTest(unittest.TestCase):
    """The system config: its state is /var/lib/tiktok-mirror, as the
    system unit's StateDirectory=. /etc and /var/lib are private overlays
    in a mount namespace of the test's own."""

    def test_system_defaults(self):
        top = tempfile.mkdtemp(prefix="tiktok-mirror-sys-")
        self.addCleanup(shutil.rmtree, top, True)
        for d in ("upper", "work"):
            os.mkdir(os.path.join(top, d))
        script = (
            "set -e\n"
            "mount -t overlay overlay -o lowerdir=/etc,upperdir=%(t)s/upper,"
            "workdir=%(t)s/work /etc\n"
            "mount -t tmpfs tmpfs /var/lib\n"
            "mkdir -p /etc/tiktok-mirror\n"
            "printf 'app:\\n  client_key: k\\n  client_secret: s\\n"
            "  redirect_uri: http://127.0.0.1:1/cb/\\naccounts:\\n"
            "  - name: brand\\n' > /etc/tiktok-mirror/tiktok-mirror.yaml\n"
            "chmod 600 /etc/tiktok-mirror/tiktok-mirror.yaml\n"
            "%(bin)s status --json || true\n"
            "echo ---\n"
            "%(bin)s check\n" % {"t": top, "bin": BIN})
        p = subprocess.run([UNSHARE, "-m", "--propagation", "private", "sh",
                            "-c", script], capture_output=True, text=True,
                           timeout=60, env=clean_env(
                               XDG_CONFIG_HOME=os.path.join(top, "none")))
        if "mount" in p.stderr and p.returncode != 0:
            self.skipTest("cannot mount here: %s" % p.stderr.strip())
        self.assertEqual(p.returncode, 0, p.stderr)
        status, _, check = p.stdout.partition("---\n")
        j = json.loads(status)
        self.assertEqual(j["mirror"], "/var/lib/tiktok-mirror/mirror.db")
        self.assertEqual(j["config"], "/etc/tiktok-mirror/tiktok-mirror.yaml")
        self.assertIn("/etc/tiktok-mirror/tiktok-mirror.yaml: configuration "
                      "OK", check)
        # Nothing escaped the namespace.
        self.assertFalse(os.path.exists("/etc/tiktok-mirror/"
                                        "tiktok-mirror.yaml") and
                         "brand" in open("/etc/tiktok-mirror/"
                                         "tiktok-mirror.yaml").read())


if __name__ == "__main__":
    harness.main()
