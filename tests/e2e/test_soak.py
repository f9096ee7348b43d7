#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""The 30-day version of the time-compressed soak (tests/soak/soak.py,
`make soak` runs the 365-day one): the real daemon against the emulator
for 30 simulated days in under two minutes, the same scenario and checks.
The table goes to stdout and build/soak/soak-30.txt."""
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOAK = os.path.join(os.path.dirname(HERE), "soak", "soak.py")


class SoakTest(unittest.TestCase):
    @unittest.skipIf(os.environ.get("TM_VALGRIND") == "1",
                     "a time-compressed run cannot go at memcheck's pace")
    def test_30_days(self):
        p = subprocess.Popen([sys.executable, SOAK, "--days", "30"],
                             stdin=subprocess.DEVNULL)
        try:
            rc = p.wait(600)
        except subprocess.TimeoutExpired:
            p.terminate()           # the soak cleans up on SIGTERM
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            self.fail("the 30-day soak took more than 10 minutes")
        self.assertEqual(rc, 0, "the 30-day soak failed (table above; "
                         "state kept under build/soak/)")


if __name__ == "__main__":
    unittest.main(verbosity=2)
