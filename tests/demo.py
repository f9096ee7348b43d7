#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""`make demo`: run the real daemon against the bundled TikTok API
emulator and show the mirror it builds.

1. start the emulator (HTTPS with its own throw-away CA) with two accounts;
2. authorize both with `tiktok-mirror auth` (one through the loopback
   redirect, one with --code), as a browser would; a third, curated
   account lists three chosen videos and needs no authorization (oEmbed);
3. run `tiktok-mirror run` until all three accounts are mirrored, then stop
   it with SIGTERM, as systemd would;
4. print `status`, `videos` and the cover files, and say where they are.

Everything is left in build/demo/ for you to open (TM_DEMO_DIR elsewhere),
with build/demo/tiktok-mirror: the program with the demo's config. Its
reading commands work after the demo; the emulator stops with the demo,
so the network commands (sync, run, auth, revoke) say so and how to get
a new one (`make demo` again) instead of failing to connect.
"""
import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "e2e"))

from harness import BIN, ROOT, Emulator, Mirror  # noqa: E402

DEMO = os.path.abspath(os.environ.get("TM_DEMO_DIR") or
                       os.path.join(ROOT, "build", "demo"))

# build/demo/tiktok-mirror: the program with the demo's config. The
# emulator lives only as long as `make demo`, so the commands that talk to
# TikTok check that it still answers and say what to do when it does not.
WRAPPER = """#!/bin/sh
# Written by make demo: tiktok-mirror with the demo's configuration.
case "$1" in
sync | run | auth | revoke)
	if ! python3 -c 'import socket, sys
socket.create_connection(("127.0.0.1", %(port)d), 2).close()' 2>/dev/null
	then
		echo "tiktok-mirror: the demo's TikTok API emulator" \
		    "(%(url)s) stopped when make demo ended, so $1" \
		    "has nothing to talk to; run make demo again for a new" \
		    "emulator and a fresh mirror. The reading commands" \
		    "(status, videos, export) work on this one as it is." >&2
		exit 1
	fi
	;;
esac
exec %(bin)s -c %(config)s "$@"
"""


def step(text):
    print("\n\033[1m== %s\033[0m" % text if sys.stdout.isatty()
          else "\n== %s" % text, flush=True)


def show(m, *args):
    print("$ tiktok-mirror -c %s %s" % (os.path.relpath(m.config),
                                        " ".join(args)), flush=True)
    p = m.run(*args)
    sys.stdout.write(p.stdout)
    sys.stdout.flush()


def main():
    with Emulator() as emu:
        step("TikTok API emulator on %s" % emu.https_url)
        emu.add_user("brand", "Brand \U0001F3AC")
        emu.add_user("studio", "Studio")
        emu.generate("brand", 45, newest=int(time.time()) - 3600,
                     step=86400, seed=7, formats=["jpeg", "png", "webp"])
        emu.generate("studio", 12, newest=int(time.time()) - 7200,
                     step=3 * 86400, seed=8)
        print("accounts: brand (45 videos), studio (12 videos)")

        m = Mirror(emu, https=True, folder=DEMO)
        # A curated account: chosen videos of both, read through oEmbed.
        picks = [emu.video_url("studio", emu.videos("studio")[4]["id"]),
                 emu.video_url("brand", emu.videos("brand")[0]["id"]) +
                 "?is_from_webapp=1",
                 emu.video_url("brand", emu.videos("brand")[9]["id"])]
        m.write_config([
            {"name": "brand", "quantity": "all", "cache": 3600},
            {"name": "studio", "start": 2, "quantity": 5, "cache": 3600},
            {"name": "picks", "cache": 86400,
             "videos": "[%s]" % ", ".join(json.dumps(u) for u in picks)},
        ], oembed_url=emu.https_url + "/oembed")
        step("configuration: %s" % os.path.relpath(m.config))
        with open(m.config) as f:
            sys.stdout.write(f.read())

        step("authorize brand (browser redirect to the loopback listener)")
        rc, _, err = m.auth_loopback("brand", "brand")
        if rc != 0:
            sys.exit("auth brand failed:\n" + err)
        print("brand: authorized")
        step("authorize studio (--code, from another process)")
        p = m.auth_code("studio", "studio")
        if p.returncode != 0:
            sys.exit("auth studio failed:\n" + p.stderr)
        sys.stdout.write(p.stdout)

        step("auth picks (a curated account: nothing to authorize)")
        show(m, "auth", "picks")

        step("tiktok-mirror run (the daemon), until all are mirrored")
        env = dict(os.environ)
        env.pop("JOURNAL_STREAM", None)
        d = subprocess.Popen([BIN, "-c", m.config, "run"], env=env,
                             stdin=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                time.sleep(0.3)
                if d.poll() is not None:
                    sys.exit("the daemon exited with %d" % d.returncode)
                if os.path.exists(m.db):
                    try:
                        rows = m.sql("SELECT count(*) AS n FROM accounts "
                                     "WHERE last_success_at IS NOT NULL")
                    except Exception:
                        continue
                    if rows[0]["n"] == 3:
                        break
            else:
                sys.exit("the daemon did not mirror the accounts in 60 s")
        finally:
            d.send_signal(signal.SIGTERM)
            try:
                d.wait(10)
            except subprocess.TimeoutExpired:
                d.kill()
                d.wait()
        print("daemon stopped with SIGTERM, exit status %d" % d.returncode)

        step("status")
        show(m, "status")
        step("videos studio (its My Videos listing: start 2, quantity 5)")
        show(m, "videos", "studio", "--table")
        step("videos picks (curated: the list's order, no counts)")
        show(m, "videos", "picks", "--table")
        step("videos brand --quantity 3 --json (first object)")
        p = m.run("videos", "brand", "--quantity", "3", "--json")
        print(p.stdout.split("},")[0] + "}, ...")
        step("cover files (and each account's avatar)")
        for acct in ("brand", "studio"):
            files = sorted(os.listdir(os.path.join(m.covers, acct)))
            avatars = [f for f in files if f.startswith("avatar.")]
            covers = [f for f in files if f not in avatars]
            print("%s/%s/: %d files: %d covers%s, e.g. %s" % (
                os.path.relpath(m.covers), acct, len(files), len(covers),
                " and the avatar (%s)" % avatars[0] if avatars else "",
                ", ".join(covers[:2])))
        wrapper = os.path.join(DEMO, "tiktok-mirror")
        with open(wrapper, "w") as f:
            f.write(WRAPPER % {"port": emu.https_port, "url": emu.https_url,
                               "bin": BIN, "config": m.config})
        os.chmod(wrapper, 0o755)
        step("the mirror is yours to open")
        print("database: %s" % m.db)
        print("covers:   %s" % m.covers)
        print("try:      sqlite3 'file:%s?mode=ro' \"SELECT position, id, "
              "title FROM videos WHERE account = 'studio' AND position IS "
              "NOT NULL ORDER BY position\"" % os.path.relpath(m.db))
        print("          %s videos brand" % os.path.relpath(wrapper))
        print("the emulator stops now, with the demo: the reading commands "
              "(status, videos, export) keep working on this mirror; the "
              "network ones (sync, run, auth) need `make demo` again.")
        if d.returncode != 0:
            sys.exit(1)


if __name__ == "__main__":
    main()
