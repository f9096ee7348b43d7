#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""`make demo` leaves something to play with (issue 14): it says the
avatar is among the cover files, and leaves a mirror on which the reading
commands work, while the network commands say clearly that the demo's
emulator has stopped and how to get a new one. Runs tests/demo.py into a
scratch folder (TM_DEMO_DIR), not build/demo.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import harness


class DemoTest(unittest.TestCase):
    def test_demo(self):
        d = tempfile.mkdtemp(prefix="tiktok-mirror-demo-")
        self.addCleanup(shutil.rmtree, d, True)
        demo = os.path.join(d, "demo")
        env = dict(os.environ, TM_DEMO_DIR=demo, TM_BIN=harness.BIN)
        env.pop("JOURNAL_STREAM", None)
        p = subprocess.run([sys.executable, os.path.join(harness.ROOT,
                                                         "tests", "demo.py")],
                           capture_output=True, text=True, timeout=300,
                           env=env, stdin=subprocess.DEVNULL)
        self.assertEqual(p.returncode, 0, p.stdout[-3000:] + p.stderr)
        self.assertRegex(p.stdout, r"brand/: 46 files: 45 covers and the "
                         r"avatar \(avatar\.(jpg|png|webp)\)")
        self.assertIn("the emulator stops now", p.stdout)
        tm = os.path.join(demo, "tiktok-mirror")
        # The emulator is gone now: reading commands still work ...
        for args in (["videos", "brand", "--tsv"], ["status"],
                     ["export", "--out", os.path.join(d, "out")]):
            with self.subTest(args=args):
                r = subprocess.run([tm] + args, capture_output=True,
                                   text=True, timeout=60, env=env)
                self.assertEqual(r.returncode, 0, r.stderr)
        r = subprocess.run([tm, "videos", "brand", "--tsv"],
                           capture_output=True, text=True, env=env)
        self.assertEqual(len(r.stdout.splitlines()), 1 + 45)
        # ... and the network ones say what happened and what to do.
        for cmd in ("sync", "auth", "run"):
            with self.subTest(cmd=cmd):
                r = subprocess.run([tm, cmd] + (["brand"] if cmd == "auth"
                                                else []),
                                   capture_output=True, text=True,
                                   timeout=60, env=env)
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertIn("the demo's TikTok API emulator", r.stderr)
                self.assertIn("stopped when make demo ended", r.stderr)
                self.assertIn("run make demo again", r.stderr)


if __name__ == "__main__":
    harness.main()
