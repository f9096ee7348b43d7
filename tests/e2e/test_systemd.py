#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""The systemd files in systemd/: both units pass `systemd-analyze verify`
(ExecStart rewritten to the built binary in a temporary copy, since verify
wants an executable), the system unit's offline exposure is 1.5 or lower
with its critical settings on, the sysusers.d entry creates the static
user the unit runs as, and the daemon run as that unit runs it
($STATE_DIRECTORY, UMask=0027, a notify socket) keeps its files in the
state directory, group-readable except the secrets.

Needs systemd-analyze (Debian package `systemd`); skipped without it.
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
from daemon_util import NotifyListener, command, wait_until

SYSTEMD = os.path.join(harness.ROOT, "systemd")
UNIT = os.path.join(SYSTEMD, "tiktok-mirror.service")
USER_UNIT = os.path.join(SYSTEMD, "tiktok-mirror-user.service")
SYSUSERS = os.path.join(SYSTEMD, "tiktok-mirror.sysusers")
INSTALLED_BIN = "/usr/local/bin/tiktok-mirror"
ANALYZE = shutil.which("systemd-analyze")
MAX_EXPOSURE = 1.5


def unit_settings(path):
    """[(section, key, value)] of a unit file, in order (keys repeat)."""
    out, section = [], None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            m = re.match(r"^\[(.+)\]$", line)
            if m:
                section = m.group(1)
                continue
            k, _, v = line.partition("=")
            out.append((section, k.strip(), v.strip()))
    return out


def values(settings, key, section="Service"):
    return [v for s, k, v in settings if s == section and k == key]


@unittest.skipIf(ANALYZE is None, "systemd-analyze is not installed "
                 "(Debian package: systemd)")
class SystemdTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="tiktok-mirror-systemd-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def local_copy(self, src):
        """The unit with ExecStart pointing at the built binary."""
        with open(src) as f:
            text = f.read()
        self.assertIn(INSTALLED_BIN, text)
        dst = os.path.join(self.dir, os.path.basename(src))
        with open(dst, "w") as f:
            f.write(text.replace(INSTALLED_BIN, os.path.abspath(harness.BIN)))
        return dst

    def analyze(self, *args, env=None):
        e = dict(os.environ)
        e.update(env or {})
        return subprocess.run([ANALYZE] + list(args), capture_output=True,
                              text=True, timeout=60, env=e,
                              stdin=subprocess.DEVNULL)

    def test_system_unit_settings(self):
        s = unit_settings(UNIT)
        want = {
            "Type": "notify",
            "ExecStart": INSTALLED_BIN + " -c "
                         "/etc/tiktok-mirror/tiktok-mirror.yaml run",
            "ExecReload": "/bin/kill -HUP $MAINPID",
            "Restart": "on-failure",
            "RestartPreventExitStatus": "2 3",
            "StateDirectory": "tiktok-mirror",
            "StateDirectoryMode": "0750",
            "ConfigurationDirectory": "tiktok-mirror",
            "User": "tiktok-mirror",
            "Group": "tiktok-mirror",
            "UMask": "0027",
            "NoNewPrivileges": "yes",
            "ProtectSystem": "strict",
            "ProtectHome": "yes",
            "PrivateTmp": "yes",
            "PrivateDevices": "yes",
            "MemoryDenyWriteExecute": "yes",
            "CapabilityBoundingSet": "",
            "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
        }
        for k, v in want.items():
            self.assertEqual(values(s, k), [v], k)
        self.assertIn("@system-service", values(s, "SystemCallFilter"))
        self.assertEqual(values(s, "DynamicUser"), [])
        self.assertTrue(values(s, "WatchdogSec"))
        self.assertTrue(values(s, "TimeoutStopSec"))

    def test_user_unit_settings(self):
        s = unit_settings(USER_UNIT)
        self.assertEqual(values(s, "Type"), ["notify"])
        self.assertEqual(values(s, "User"), [])
        self.assertEqual(values(s, "DynamicUser"), [])
        self.assertEqual(values(s, "StateDirectory"), ["tiktok-mirror"])
        self.assertEqual(values(s, "RestartPreventExitStatus"), ["2 3"])
        self.assertEqual(values(s, "ExecReload"),
                         ["/bin/kill -HUP $MAINPID"])
        self.assertEqual(values(s, "WantedBy", "Install"),
                         ["default.target"])
        self.assertRegex(values(s, "ExecStart")[0], r" run$")

    def test_verify_system_unit(self):
        p = self.analyze("verify", "--man=no", "--recursive-errors=no",
                         self.local_copy(UNIT))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertNotRegex(p.stdout + p.stderr, r"(?i)unknown|ignoring")

    def test_verify_user_unit(self):
        rt = os.path.join(self.dir, "runtime")
        os.mkdir(rt, 0o700)
        p = self.analyze("--user", "verify", "--man=no",
                         "--recursive-errors=no", self.local_copy(USER_UNIT),
                         env={"XDG_RUNTIME_DIR": rt, "HOME": self.dir})
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertNotRegex(p.stdout + p.stderr, r"(?i)unknown|ignoring")

    def test_verify_catches_a_typo(self):
        """The negative control: verify fails on an unknown key."""
        bad = self.local_copy(UNIT)
        with open(bad) as f:
            text = f.read()
        with open(bad, "w") as f:
            f.write(text.replace("ProtectSystem=", "ProtectSytem="))
        p = self.analyze("verify", "--man=no", "--recursive-errors=no", bad)
        self.assertNotEqual(p.returncode, 0)

    def test_security_exposure(self):
        unit = self.local_copy(UNIT)
        p = self.analyze("security", "--offline=true", "--threshold=15",
                         unit)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        m = re.search(r"Overall exposure level for \S+: (\d+\.\d+) (\w+)",
                      p.stdout + p.stderr)
        self.assertIsNotNone(m, p.stdout + p.stderr)
        exposure = float(m.group(1))
        self.assertLessEqual(exposure, MAX_EXPOSURE)
        print("\n    exposure: %s %s" % (m.group(1), m.group(2)), end=" ")
        p = self.analyze("security", "--offline=true", "--json=short", unit)
        self.assertEqual(p.returncode, 0, p.stderr)
        checks = {c["name"]: c["set"] for c in json.loads(p.stdout)}
        for name in ("User=/DynamicUser=", "NoNewPrivileges=",
                     "ProtectSystem=", "SystemCallFilter=~@privileged",
                     "CapabilityBoundingSet=~CAP_SYS_ADMIN",
                     "MemoryDenyWriteExecute=", "PrivateDevices=",
                     "ProtectHome=", "PrivateTmp=",
                     "RestrictAddressFamilies=~AF_PACKET"):
            self.assertTrue(checks.get(name), name)
        # The negative control: the same binary with no hardening fails.
        bare = os.path.join(self.dir, "bare.service")
        with open(bare, "w") as f:
            f.write("[Service]\nExecStart=%s run\n"
                    % os.path.abspath(harness.BIN))
        p = self.analyze("security", "--offline=true", "--threshold=15",
                         bare)
        self.assertNotEqual(p.returncode, 0)

    def test_sysusers(self):
        tool = shutil.which("systemd-sysusers")
        if tool is None:
            self.skipTest("systemd-sysusers is not installed")
        root = os.path.join(self.dir, "root")
        os.makedirs(os.path.join(root, "etc"))
        p = subprocess.run([tool, "--root=" + root, SYSUSERS],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(root, "etc", "passwd")) as f:
            users = {ln.split(":")[0]: ln.strip().split(":") for ln in f}
        with open(os.path.join(root, "etc", "group")) as f:
            groups = {ln.split(":")[0]: ln.strip().split(":") for ln in f}
        s = unit_settings(UNIT)
        user, group = values(s, "User")[0], values(s, "Group")[0]
        self.assertIn(user, users)
        self.assertIn(group, groups)
        u = users[user]
        self.assertEqual(u[3], groups[group][2])        # primary group
        self.assertLess(int(u[2]), 1000)                # a system user
        self.assertRegex(u[6], r"nologin$")

    def test_state_directory(self):
        """Run as the unit runs it: $STATE_DIRECTORY holds the mirror,
        secrets and covers (none set in the config), UMask=0027 leaves the
        mirror group-readable and the secrets private."""
        conf = os.path.join(self.dir, "etc")
        state = os.path.join(self.dir, "state")
        os.mkdir(conf)
        os.mkdir(state, 0o750)
        with open(os.path.join(conf, "client_secret"), "w") as f:
            f.write("not-a-real-secret\n")
        os.chmod(os.path.join(conf, "client_secret"), 0o640)
        cfg = os.path.join(conf, "tiktok-mirror.yaml")
        with open(cfg, "w") as f:
            f.write("app:\n"
                    "  client_key: \"awtestclientkey0\"\n"
                    "  client_secret_file: client_secret\n"
                    "  redirect_uri: \"http://127.0.0.1:9/callback/\"\n"
                    "  api_url: http://127.0.0.1:9\n"
                    "accounts:\n"
                    "  - name: brand\n")
        n = NotifyListener(self.dir)
        self.addCleanup(n.close)
        env = dict(os.environ)
        for k in ("JOURNAL_STREAM", "WATCHDOG_USEC", "WATCHDOG_PID"):
            env.pop(k, None)
        env.update(STATE_DIRECTORY=state, NOTIFY_SOCKET=n.path)
        proc = subprocess.Popen(command("-c", cfg, "run"), env=env,
                                stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE,
                                preexec_fn=lambda: os.umask(0o027))

        def end():
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)
            proc.stderr.close()
        self.addCleanup(end)
        n.wait("READY", "1", timeout=10)
        # A never-authorized account waits for `auth` (said in the log).
        wait_until(lambda: any("1 need auth" in v
                               for v in n.values("STATUS")), 10,
                   what="STATUS with 1 need auth")
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(5), 0)
        err = proc.stderr.read().decode()
        self.assertEqual(sorted(os.listdir(conf)),
                         ["client_secret", "tiktok-mirror.yaml"])
        files = os.listdir(state)
        for f in ("mirror.db", "secrets.db", "covers"):
            self.assertIn(f, files, err)
        mode = lambda f: os.stat(os.path.join(state, f)).st_mode & 0o777
        self.assertEqual(mode("secrets.db"), 0o600)
        self.assertEqual(mode("mirror.db") & 0o047, 0o040)
        for f in files:                     # -wal/-shm as the mirror
            if f.startswith("mirror.db-"):
                self.assertEqual(mode(f) & 0o047, 0o040, f)
        self.assertEqual(mode("covers") & 0o057, 0o050)
        self.assertIn("tiktok-mirror auth brand", err)


if __name__ == "__main__":
    harness.main()
