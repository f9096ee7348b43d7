# SPDX-License-Identifier: ISC
"""Checks shared by the "nothing lost" end-to-end tests (test_faults,
test_hostile, test_deletions, test_secrets, test_crash): what the mirror
holds against the emulator's truth, snapshots of an account's rows, and
every file under a folder."""
import os
import subprocess
import time

from harness import BIN, EXT

# Every wait in these tests is bounded by this many seconds.
SYNC_TIMEOUT = 120

# Under the sanitizer build a report must not pass for "sync failed": the
# sanitizers exit 1 by default, which these tests often expect.
for _var in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
    _opts = os.environ.get(_var, "")
    if "exitcode=" not in _opts:
        os.environ[_var] = (_opts + ":" if _opts else "") + "exitcode=86"


def live_truth(emu, user):
    """The videos video/list returns for user (hidden ones left out),
    newest first."""
    return [v for v in emu.videos(user) if not v["hidden"]]


def snapshot(m, name):
    """Every column of every video row of account name, by id."""
    return m.sql("SELECT * FROM videos WHERE account = ? ORDER BY id", name)


def listing(m, name):
    """The account's configured listing: live rows in position order."""
    return m.sql("SELECT * FROM videos WHERE account = ? AND deleted_at IS"
                 " NULL AND position IS NOT NULL ORDER BY position", name)


def assert_mirrors(tc, m, emu, name, user, quantity="all", start=1,
                   covers=True):
    """The listing of account name is exactly the truth of user: ids in
    order, positions, every value and every cover's bytes."""
    truth = live_truth(emu, user)[start - 1:]
    if quantity != "all":
        truth = truth[:quantity]
    rows = listing(m, name)
    tc.assertEqual([r["id"] for r in rows], [v["id"] for v in truth], name)
    for pos, (r, v) in enumerate(zip(rows, truth), 1):
        tc.assertEqual(r["position"], pos)
        tc.assertEqual(r["title"], v["title"], v["id"])
        tc.assertEqual(r["description"], v["video_description"], v["id"])
        tc.assertEqual(r["created_at"], v["create_time"])
        tc.assertEqual(r["duration"], v["duration"])
        tc.assertEqual(r["width"], v["width"])
        tc.assertEqual(r["height"], v["height"])
        tc.assertEqual(r["total_likes"], v["like_count"])
        tc.assertEqual(r["total_comments"], v["comment_count"])
        tc.assertEqual(r["total_shares"], v["share_count"])
        tc.assertEqual(r["total_views"], v["view_count"])
        tc.assertEqual(r["share_url"], v["share_url"])
        if covers:
            tc.assertEqual(r["cover"], "%s/%s.%s" % (
                name, v["id"], EXT[v["cover_format"]]), v["id"])
            tc.assertEqual(m.cover_sha(r["cover"]), v["cover_sha256"])


def files_under(top):
    """{relative path: kind} for everything under top (symlinks not
    followed); kind is 'dir', 'link' or 'file'."""
    out = {}
    for root, dirs, names in os.walk(top):
        for n in dirs + names:
            p = os.path.join(root, n)
            rel = os.path.relpath(p, top)
            if os.path.islink(p):
                out[rel] = "link"
            elif os.path.isdir(p):
                out[rel] = "dir"
            else:
                out[rel] = "file"
    return out


def temp_files(covers):
    """Temporary cover files (".tmp-*") anywhere under the covers folder."""
    return sorted(p for p in files_under(covers)
                  if os.path.basename(p).startswith(".tmp-"))


def auth_all(m, names):
    """Authorize each account name as the emulator user of the same name."""
    for n in names:
        p = m.auth_code(n, n)
        if p.returncode != 0:
            raise AssertionError("auth %s: %s" % (n, p.stderr))


def popen_sync(m, *args, env=None):
    """Start `sync ARGS` on mirror m in the background (text pipes)."""
    e = dict(os.environ)
    e.pop("JOURNAL_STREAM", None)
    if env:
        e.update(env)
    return subprocess.Popen([BIN, "-c", m.config, "sync"] + list(args),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True, env=e)


def finish(p, timeout=SYNC_TIMEOUT):
    """Wait for a popen_sync() process; returns (returncode, stdout,
    stderr). A process that overstays is killed."""
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        raise AssertionError("sync did not finish in %ds:\n%s" % (timeout,
                                                                 err))
    return p.returncode, out, err


def gaps(times):
    return [b - a for a, b in zip(times, times[1:])]


def wait_for(pred, timeout=10.0, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()
