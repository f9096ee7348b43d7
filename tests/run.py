#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Run the test programs given on the command line and print a summary.

Arguments are cmocka test binaries, or folders of end-to-end tests
(test_*.py, each run with python3). Every program runs with a timeout and
counts as one test; the last line is "tests: N passed, N failed".
With TM_VALGRIND=1 the unit binaries run under valgrind memcheck.
With TM_ONLY=substring only matching programs run.

TM_JOBS programs run at once (default 2: the end-to-end tests mostly wait
on the daemon and the emulator, so two overlap well on a 2-core machine).
Each program's output is collected and printed whole when it ends, so the
log reads as if they had run one after another. The longest programs
(LONG below) start first so that they overlap with the many short ones.
"""
import concurrent.futures
import os
import subprocess
import sys
import time

UNIT_TIMEOUT = 300
E2E_TIMEOUT = 900
LONG = ("test_soak.py", "test_daemon.py", "test_faults.py", "test_crash.py")


def programs(args):
    for a in args:
        if os.path.isdir(a):
            for f in sorted(os.listdir(a)):
                if f.startswith("test_") and f.endswith(".py"):
                    yield "e2e", os.path.join(a, f)
        else:
            yield "unit", a


def command(kind, prog):
    if kind == "unit":
        cmd = [prog]
        if os.environ.get("TM_VALGRIND") == "1":
            cmd = ["valgrind", "-q", "--leak-check=full",
                   "--errors-for-leak-kinds=definite,indirect",
                   "--error-exitcode=99"] + cmd
        return cmd, UNIT_TIMEOUT
    return [sys.executable, prog], E2E_TIMEOUT


def run_one(kind, prog):
    """Runs one program; returns (prog, exit code, seconds, its output)."""
    cmd, timeout = command(kind, prog)
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, timeout=timeout, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        rc, out = p.returncode, p.stdout
    except subprocess.TimeoutExpired as e:
        rc = -1
        out = (e.stdout or b"") + \
            f"TIMEOUT after {timeout}s: {prog}\n".encode()
    return prog, rc, time.monotonic() - t0, out


def main():
    only = os.environ.get("TM_ONLY", "")
    jobs = max(1, int(os.environ.get("TM_JOBS", "2")))
    todo = [(k, p) for k, p in programs(sys.argv[1:])
            if not only or only in p]
    todo.sort(key=lambda kp: os.path.basename(kp[1]) not in LONG)
    passed, failed, names = 0, 0, []
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        futures = [pool.submit(run_one, k, p) for k, p in todo]
        for f in concurrent.futures.as_completed(futures):
            prog, rc, dt, out = f.result()
            sys.stdout.write(f"=== {prog}\n")
            sys.stdout.flush()
            sys.stdout.buffer.write(out)
            sys.stdout.buffer.flush()
            if rc == 0:
                passed += 1
                print(f"PASS {prog} ({dt:.1f}s)", flush=True)
            else:
                failed += 1
                names.append(prog)
                print(f"FAIL {prog} (exit {rc}, {dt:.1f}s)", flush=True)
    for n in sorted(names):
        print(f"failed: {n}")
    print(f"tests: {passed} passed, {failed} failed")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
