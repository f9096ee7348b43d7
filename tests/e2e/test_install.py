#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""`make install` as the README tells it (issue 14):

- into a DESTDIR with PREFIX=/usr: the program, man pages, units naming the
  real places (ExecStart=, and the paths in their comments), the sysusers.d
  and tmpfiles.d entries, bash completion, and README, NEWS, LICENSE and
  the example config under share/doc/tiktok-mirror;
- the README's steps, in order, in a private mount namespace (the host's
  /etc, /var/lib and /usr/local are untouched): systemd-sysusers,
  systemd-tmpfiles --create, the config's group and mode, then `runuser -u
  tiktok-mirror -- tiktok-mirror auth` works before the service ever
  started, and `status` run that way reads /var/lib/tiktok-mirror;
- the bash completion completes commands, options and account names;
- `make deb`: build/tiktok-mirror_VERSION_ARCH.deb with Depends from
  dpkg-shlibdeps (libcurl among them), the config a conffile; installed
  with dpkg into a throw-away root its scripts create the user, the state
  folder (0750, the user's) and enable the unit; remove keeps the config,
  purge removes it and the unit's links, never the mirror; lintian reports
  no error.
"""
import glob
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import harness

ROOT = harness.ROOT
MAKE = shutil.which("make")
NEED = ["unshare", "runuser", "systemd-sysusers", "systemd-tmpfiles"]


def make(*args, timeout=300):
    """`make ARGS` at the top of the tree with the binary under test."""
    # B: the binary's own build folder (build/asan under make asan), so
    # make finds it up to date and installs it as built.
    return subprocess.run([MAKE, "--no-print-directory", "-C", ROOT,
                           "B=%s" % os.path.dirname(harness.BIN)]
                          + list(args),
                          capture_output=True, text=True, timeout=timeout)


class InstallTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.top = tempfile.mkdtemp(prefix="tiktok-mirror-install-")
        os.chmod(cls.top, 0o755)
        cls.dest = os.path.join(cls.top, "dest")
        p = make("install", "DESTDIR=%s" % cls.dest, "PREFIX=/usr")
        if p.returncode != 0:
            raise AssertionError(p.stdout + p.stderr)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.top, True)

    def path(self, rel):
        return os.path.join(self.dest, rel.lstrip("/"))

    def read(self, rel):
        with open(self.path(rel)) as f:
            return f.read()

    def test_files(self):
        want = {
            "usr/bin/tiktok-mirror": 0o755,
            "usr/share/man/man1/tiktok-mirror.1": 0o644,
            "usr/share/man/man5/tiktok-mirror.yaml.5": 0o644,
            "usr/lib/systemd/system/tiktok-mirror.service": 0o644,
            "usr/lib/systemd/system/tiktok-mirror-site.service": 0o644,
            "usr/lib/systemd/system/tiktok-mirror-site.path": 0o644,
            "usr/lib/systemd/user/tiktok-mirror.service": 0o644,
            "usr/lib/sysusers.d/tiktok-mirror.conf": 0o644,
            "usr/lib/tmpfiles.d/tiktok-mirror.conf": 0o644,
            "usr/share/bash-completion/completions/tiktok-mirror": 0o644,
            "usr/share/doc/tiktok-mirror/README.md": 0o644,
            "usr/share/doc/tiktok-mirror/NEWS": 0o644,
            "usr/share/doc/tiktok-mirror/LICENSE": 0o644,
            "usr/share/doc/tiktok-mirror/tiktok-mirror.yaml": 0o644,
            "etc/tiktok-mirror/tiktok-mirror.yaml": 0o640,
        }
        got = set()
        for d, _, files in os.walk(self.dest):
            for f in files:
                got.add(os.path.relpath(os.path.join(d, f), self.dest))
        self.assertEqual(got, set(want))
        for rel, mode in want.items():
            self.assertEqual(os.stat(self.path(rel)).st_mode & 0o777, mode,
                             rel)
        self.assertEqual(self.read("usr/lib/tmpfiles.d/tiktok-mirror.conf")
                         .splitlines()[-1].split(),
                         ["d", "/var/lib/tiktok-mirror", "0750",
                          "tiktok-mirror", "tiktok-mirror", "-"])
        with open(os.path.join(ROOT, "daemon", "NEWS")) as f:
            self.assertEqual(self.read("usr/share/doc/tiktok-mirror/NEWS"),
                             f.read())

    def test_units_name_the_real_places(self):
        """With PREFIX=/usr nothing installed still says /usr/local, and
        every path a comment names exists in the install tree (or is the
        config or the state the user makes)."""
        for rel in ("usr/lib/systemd/system/tiktok-mirror.service",
                    "usr/lib/systemd/system/tiktok-mirror-site.service",
                    "usr/lib/systemd/user/tiktok-mirror.service",
                    "usr/lib/sysusers.d/tiktok-mirror.conf",
                    "usr/lib/tmpfiles.d/tiktok-mirror.conf"):
            with self.subTest(rel=rel):
                text = self.read(rel)
                self.assertNotIn("/usr/local", text)
                for p in re.findall(r"(/usr/[\w./-]*\w)", text):
                    if "tiktok-mirror" in p:
                        self.assertTrue(os.path.exists(self.path(p)),
                                        "%s names %s" % (rel, p))
        unit = self.read("usr/lib/systemd/system/tiktok-mirror.service")
        self.assertIn("ExecStart=/usr/bin/tiktok-mirror -c "
                      "/etc/tiktok-mirror/tiktok-mirror.yaml run", unit)
        self.assertIn("/usr/lib/tmpfiles.d/tiktok-mirror.conf", unit)
        user = self.read("usr/lib/systemd/user/tiktok-mirror.service")
        self.assertIn("cp /usr/share/doc/tiktok-mirror/tiktok-mirror.yaml",
                      user)

    @unittest.skipIf(os.geteuid() != 0 or
                     any(shutil.which(t) is None for t in NEED),
                     "needs root and %s" % ", ".join(NEED))
    def test_readme_order(self):
        """The README's steps, as written, before the first start."""
        dest = os.path.join(self.top, "local")
        p = make("install", "DESTDIR=%s" % dest, "PREFIX=/usr/local")
        self.assertEqual(p.returncode, 0, p.stderr)
        os.makedirs(os.path.join(self.top, "upper"))
        os.makedirs(os.path.join(self.top, "work"))
        script = r"""
set -e
mount -t overlay overlay -o lowerdir=/etc,upperdir=%(t)s/upper,workdir=%(t)s/work /etc
mount -t tmpfs tmpfs /var/lib
mount --bind %(d)s/usr/local /usr/local
cp -a %(d)s/etc/tiktok-mirror /etc/
export PATH=/usr/local/bin:$PATH
# The README, "Running under systemd":
systemd-sysusers
systemd-tmpfiles --create tiktok-mirror.conf
printf 'example-secret\n' | install -m 0640 -g tiktok-mirror /dev/stdin /etc/tiktok-mirror/client_secret
chgrp tiktok-mirror /etc/tiktok-mirror/tiktok-mirror.yaml
chmod 0640 /etc/tiktok-mirror/tiktok-mirror.yaml
stat -c '%%U %%G %%a' /var/lib/tiktok-mirror
runuser -u tiktok-mirror -- tiktok-mirror auth brand --code bogus 2>&1 || echo "auth exit $?"
stat -c '%%U %%a %%n' /var/lib/tiktok-mirror/secrets.db
runuser -u tiktok-mirror -- tiktok-mirror status || echo "status exit $?"
""" % {"t": self.top, "d": dest}
        p = subprocess.run(["unshare", "-m", "--propagation", "private",
                            "sh", "-c", script], capture_output=True,
                           text=True, timeout=120)
        if p.returncode != 0 and "mount" in p.stderr:
            self.skipTest("cannot mount here: %s" % p.stderr.strip())
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        out = p.stdout
        self.assertIn("tiktok-mirror tiktok-mirror 750\n", out)
        # auth reached the secrets file: it is the pending flow that is
        # missing, not the folder or the permission to write it.
        self.assertRegex(out, r"brand: no pending authorization[^\n]*"
                         r"start with: tiktok-mirror auth brand")
        self.assertIn("auth exit 1", out)
        self.assertIn("tiktok-mirror 600 /var/lib/tiktok-mirror/secrets.db",
                      out)
        self.assertIn("mirror: /var/lib/tiktok-mirror/mirror.db", out)
        self.assertIn("config: /etc/tiktok-mirror/tiktok-mirror.yaml", out)
        # Nothing reached the host.
        self.assertFalse(os.path.exists("/usr/local/bin/tiktok-mirror") and
                         os.path.samefile("/usr/local/bin/tiktok-mirror",
                                          os.path.join(dest,
                                                       "usr/local/bin/"
                                                       "tiktok-mirror")))

    def test_bash_completion(self):
        bash = shutil.which("bash")
        if bash is None:
            self.skipTest("no bash")
        cfg = os.path.join(self.top, "c.yaml")
        with open(cfg, "w") as f:
            f.write("app:\n  client_key: k\n  client_secret: s\n"
                    "  redirect_uri: http://127.0.0.1:1/cb/\n"
                    "accounts:\n  - name: brand\n  - name: bravo\n"
                    "  - name: other\n")
        os.chmod(cfg, 0o600)
        comp = self.path("usr/share/bash-completion/completions/"
                         "tiktok-mirror")
        script = r"""
source %(comp)s
t() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]}-1)); COMPREPLY=()
      _tiktok_mirror; echo "${COMPREPLY[*]}"; }
t %(bin)s ""
t %(bin)s st
t %(bin)s status --
t %(bin)s videos brand --js
t %(bin)s -c %(cfg)s videos br
t %(bin)s sync --config %(cfg)s ""
t %(bin)s export --format ""
t %(bin)s help v
""" % {"comp": comp, "bin": harness.BIN, "cfg": cfg}
        p = subprocess.run([bash, "-c", script], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.splitlines(), [
            "auth check export forget help revoke run status sync videos",
            "status",
            "--config --help --json --quiet --verbose",
            "--json",
            "brand bravo",
            "brand bravo other",
            "json ndjson csv atom sqlite",
            "videos"])

    @unittest.skipIf(shutil.which("dpkg-shlibdeps") is None or
                     shutil.which("dpkg-deb") is None,
                     "needs dpkg-dev (make test installs it)")
    def test_deb(self):
        out = os.path.dirname(harness.BIN)
        for old in glob.glob(os.path.join(out, "tiktok-mirror_*.deb")):
            os.unlink(old)
        p = make("deb")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        arch = subprocess.run(["dpkg", "--print-architecture"],
                              capture_output=True, text=True).stdout.strip()
        with open(os.path.join(ROOT, "Makefile")) as f:
            version = re.search(r"^VERSION\s*=\s*(\S+)", f.read(),
                                re.M).group(1)
        deb = os.path.join(out, "tiktok-mirror_%s_%s.deb" % (version, arch))
        self.assertTrue(os.path.isfile(deb), p.stdout)
        self.assertEqual(os.path.abspath(os.path.join(
            ROOT, p.stdout.strip().splitlines()[-1])), deb)
        info = subprocess.run(["dpkg-deb", "-f", deb], capture_output=True,
                              text=True, check=True).stdout
        depends = re.search(r"^Depends: (.*)$", info, re.M).group(1)
        for lib in ("libc6", "libcurl4", "libuv1", "libsqlite3-0",
                    "libyaml-0-2", "init-system-helpers"):
            self.assertRegex(depends, r"(^|, )%s\b" % lib, depends)
        self.assertIn("Version: %s\nArchitecture: %s" % (version, arch), info)
        ctrl = os.path.join(self.top, "control")
        subprocess.run(["dpkg-deb", "-e", deb, ctrl], check=True)
        with open(os.path.join(ctrl, "conffiles")) as f:
            self.assertEqual(f.read(), "/etc/tiktok-mirror/tiktok-mirror.yaml\n")

        # Installed into a throw-away root, scripts run without chroot
        # ($DPKG_ROOT), dependencies taken as given.
        root = os.path.join(self.top, "root")
        for d in ("var/lib/dpkg/info", "var/lib/dpkg/updates", "etc"):
            os.makedirs(os.path.join(root, d))
        open(os.path.join(root, "var/lib/dpkg/status"), "w").close()

        def dpkg(*args):
            return subprocess.run(["dpkg", "--root=%s" % root,
                                   "--force-script-chrootless",
                                   "--force-depends", "--log=/dev/null"]
                                  + list(args), capture_output=True,
                                  text=True, timeout=120)
        p = dpkg("-i", deb)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        for rel in ("usr/bin/tiktok-mirror",
                    "usr/lib/systemd/system/tiktok-mirror.service",
                    "usr/lib/sysusers.d/tiktok-mirror.conf",
                    "usr/lib/tmpfiles.d/tiktok-mirror.conf",
                    "usr/share/doc/tiktok-mirror/copyright",
                    "usr/share/doc/tiktok-mirror/changelog.gz",
                    "usr/share/man/man1/tiktok-mirror.1.gz",
                    "usr/share/bash-completion/completions/tiktok-mirror",
                    "etc/tiktok-mirror/tiktok-mirror.yaml"):
            self.assertTrue(os.path.exists(os.path.join(root, rel)), rel)
        with open(os.path.join(root, "etc/passwd")) as f:
            user = [ln.split(":") for ln in f
                    if ln.startswith("tiktok-mirror:")]
        self.assertEqual(len(user), 1)
        uid, gid = int(user[0][2]), int(user[0][3])
        self.assertEqual(user[0][5], "/var/lib/tiktok-mirror")
        st = os.stat(os.path.join(root, "var/lib/tiktok-mirror"))
        self.assertEqual((st.st_mode & 0o7777, st.st_uid, st.st_gid),
                         (0o750, uid, gid))
        wants = os.path.join(root, "etc/systemd/system/multi-user.target."
                             "wants/tiktok-mirror.service")
        self.assertTrue(os.readlink(wants).endswith(
            "/lib/systemd/system/tiktok-mirror.service"), os.readlink(wants))
        with open(os.path.join(root, "var/lib/dpkg/status")) as f:
            status = f.read()
        self.assertIn("Status: install ok installed", status)
        self.assertRegex(status, r"Conffiles:\n /etc/tiktok-mirror/"
                         r"tiktok-mirror.yaml [0-9a-f]{32}\n")
        # Remove keeps the conffile; purge takes it and the unit's links,
        # never the mirror's folder.
        p = dpkg("-r", "tiktok-mirror")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertFalse(os.path.exists(os.path.join(root,
                                                     "usr/bin/tiktok-mirror")))
        self.assertTrue(os.path.exists(os.path.join(
            root, "etc/tiktok-mirror/tiktok-mirror.yaml")))
        p = dpkg("-P", "tiktok-mirror")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertFalse(os.path.exists(os.path.join(
            root, "etc/tiktok-mirror/tiktok-mirror.yaml")))
        self.assertFalse(os.path.lexists(wants))
        self.assertTrue(os.path.isdir(os.path.join(root,
                                                   "var/lib/tiktok-mirror")))

        lintian = shutil.which("lintian")
        if lintian is None:
            self.skipTest("lintian is not installed (make test installs it)")
        p = subprocess.run([lintian, "--no-tag-display-limit", deb],
                           capture_output=True, text=True, timeout=300)
        errors = [ln for ln in p.stdout.splitlines() if ln.startswith("E:")]
        self.assertEqual(errors, [], p.stdout + p.stderr)


if __name__ == "__main__":
    harness.main()
