#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Run the test programs given on the command line and print a summary.

Arguments are cmocka test binaries, or folders of end-to-end tests
(test_*.py, each run with python3). Every program runs with a timeout and
counts as one test; the last line is "tests: N passed, N failed".
With TM_VALGRIND=1 the unit binaries run under valgrind memcheck.
With TM_ONLY=substring only matching programs run.
"""
import os
import subprocess
import sys
import time

UNIT_TIMEOUT = 300
E2E_TIMEOUT = 900


def programs(args):
    for a in args:
        if os.path.isdir(a):
            for f in sorted(os.listdir(a)):
                if f.startswith("test_") and f.endswith(".py"):
                    yield "e2e", os.path.join(a, f)
        else:
            yield "unit", a


def main():
    only = os.environ.get("TM_ONLY", "")
    passed, failed, names = 0, 0, []
    for kind, prog in programs(sys.argv[1:]):
        if only and only not in prog:
            continue
        if kind == "unit":
            cmd = [prog]
            if os.environ.get("TM_VALGRIND") == "1":
                cmd = ["valgrind", "-q", "--leak-check=full",
                       "--errors-for-leak-kinds=definite,indirect",
                       "--error-exitcode=99"] + cmd
            timeout = UNIT_TIMEOUT
        else:
            cmd = [sys.executable, prog]
            timeout = E2E_TIMEOUT
        t0 = time.monotonic()
        print(f"=== {prog}", flush=True)
        try:
            rc = subprocess.run(cmd, timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            print(f"TIMEOUT after {timeout}s: {prog}", flush=True)
            rc = -1
        dt = time.monotonic() - t0
        if rc == 0:
            passed += 1
            print(f"PASS {prog} ({dt:.1f}s)", flush=True)
        else:
            failed += 1
            names.append(prog)
            print(f"FAIL {prog} (exit {rc}, {dt:.1f}s)", flush=True)
    for n in names:
        print(f"failed: {n}")
    print(f"tests: {passed} passed, {failed} failed")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
