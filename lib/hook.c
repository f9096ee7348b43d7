/* SPDX-License-Identifier: ISC */
/*
 * The on_change hook, on the loop: uv_spawn of /bin/sh -c COMMAND with its
 * stdout and stderr read line by line into the log. Accounts that change
 * while it runs are collected and passed to the next run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hook.h"
#include "log.h"
#include "util.h"

#define HOOK_LINE_MAX 1024

struct hook {
	uv_loop_t *loop;
	char *command;
	/* What the next run reports. */
	struct buf accounts;
	struct buf run_ids; /* sync_runs ids, space-separated */
	int64_t new, updated, deleted;
	int pending;
	/* The run in progress. */
	uv_process_t proc;
	uv_pipe_t out;
	int running;  /* process not yet exited */
	int reading;  /* pipe open */
	char line[HOOK_LINE_MAX];
	size_t linelen;
	int freed;
};

static void hook_start(struct hook *);

struct hook *
hook_new(uv_loop_t *loop, const char *command)
{
	struct hook *h;

	h = xcalloc(1, sizeof(*h));
	h->loop = loop;
	h->command = command ? xstrdup(command) : NULL;
	buf_init(&h->accounts, 64 * 1024);
	buf_init(&h->run_ids, 64 * 1024);
	return h;
}

void
hook_set_command(struct hook *h, const char *command)
{
	free(h->command);
	h->command = command ? xstrdup(command) : NULL;
}

/*
 * Once the process and its pipe are both closed: start the pending run, or
 * release the hook when it was freed.
 */
static void
maybe_next(struct hook *h)
{
	if (h->running || h->reading)
		return;
	if (h->freed) {
		buf_free(&h->accounts);
		buf_free(&h->run_ids);
		free(h->command);
		free(h);
	} else if (h->pending) {
		hook_start(h);
	}
}

static void
flush_line(struct hook *h)
{
	char esc[HOOK_LINE_MAX + 64];

	if (h->linelen == 0)
		return;
	log_info("on_change: %s", log_escape(h->line, h->linelen, esc,
					  sizeof(esc)));
	h->linelen = 0;
}

static void
on_alloc(uv_handle_t *handle, size_t hint, uv_buf_t *b)
{
	static char chunk[4096];

	(void)handle;
	(void)hint;
	*b = uv_buf_init(chunk, sizeof(chunk));
}

static void
on_pipe_close(uv_handle_t *handle)
{
	struct hook *h = container_of((uv_pipe_t *)handle, struct hook, out);

	h->reading = 0;
	maybe_next(h);
}

static void
on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct hook *h = container_of((uv_pipe_t *)s, struct hook, out);
	ssize_t i;

	if (n < 0) {
		flush_line(h);
		uv_close((uv_handle_t *)&h->out, on_pipe_close);
		return;
	}
	for (i = 0; i < n; i++) {
		if (b->base[i] == '\n' || h->linelen == sizeof(h->line)) {
			flush_line(h);
			if (b->base[i] == '\n')
				continue;
		}
		h->line[h->linelen++] = b->base[i];
	}
}

static void
on_proc_close(uv_handle_t *handle)
{
	struct hook *h = container_of((uv_process_t *)handle, struct hook,
	    proc);

	h->running = 0;
	maybe_next(h);
}

static void
on_hook_exit(uv_process_t *p, int64_t status, int signo)
{
	struct hook *h = container_of(p, struct hook, proc);

	if (signo != 0)
		log_warnx("on_change: killed by signal %d", signo);
	else if (status != 0)
		log_warnx("on_change: exited with status %lld",
		    (long long)status);
	else
		log_debug("on_change: done");
	uv_close((uv_handle_t *)&h->proc, on_proc_close);
}

static void
hook_start(struct hook *h)
{
	char sh[] = "sh", dash_c[] = "-c";
	char *args[] = {sh, dash_c, h->command, NULL};
	char *ours[5], **env;
	uv_process_options_t o;
	uv_stdio_container_t io[3];
	extern char **environ;
	uv_file fds[2];
	size_t n = 0, i;
	int r;

	if (h->command == NULL) {
		h->pending = 0;
		return;
	}
	ours[0] = xasprintf("TIKTOK_MIRROR_ACCOUNTS=%s",
	    h->accounts.data ? h->accounts.data : "");
	ours[1] = xasprintf("TIKTOK_MIRROR_NEW=%lld", (long long)h->new);
	ours[2] = xasprintf("TIKTOK_MIRROR_UPDATED=%lld",
	    (long long)h->updated);
	ours[3] = xasprintf("TIKTOK_MIRROR_DELETED=%lld",
	    (long long)h->deleted);
	ours[4] = xasprintf("TIKTOK_MIRROR_RUN_IDS=%s",
	    h->run_ids.data ? h->run_ids.data : "");
	while (environ[n] != NULL)
		n++;
	env = xcalloc(n + nitems(ours) + 1, sizeof(*env));
	for (i = 0, n = 0; environ[i] != NULL; i++)
		if (strncmp(environ[i], "TIKTOK_MIRROR_", 14) != 0 &&
		    strncmp(environ[i], "NOTIFY_SOCKET=", 14) != 0 &&
		    strncmp(environ[i], "WATCHDOG_", 9) != 0)
			env[n++] = environ[i];
	for (i = 0; i < nitems(ours); i++)
		env[n++] = ours[i];
	env[n] = NULL;
	h->pending = 0;
	buf_reset(&h->accounts);
	buf_reset(&h->run_ids);
	h->new = h->updated = h->deleted = 0;

	UV_OK(uv_pipe_init(h->loop, &h->out, 0));
	h->reading = 1;
	/*
	 * One pipe for the command's stdout and stderr, made here: libuv
	 * cannot hand the child, as UV_INHERIT_STREAM, a pipe it creates for
	 * another slot of the same spawn (the stream has no fd yet: EINVAL).
	 */
	r = uv_pipe(fds, 0, 0);
	if (r != 0) {
		log_warnx("on_change: cannot make a pipe: %s", uv_strerror(r));
		uv_close((uv_handle_t *)&h->out, on_pipe_close);
		goto out;
	}
	memset(&o, 0, sizeof(o));
	memset(io, 0, sizeof(io));
	io[0].flags = UV_IGNORE;
	io[1].flags = io[2].flags = UV_INHERIT_FD;
	io[1].data.fd = io[2].data.fd = fds[1];
	o.file = "/bin/sh";
	o.args = args;
	o.env = env;
	o.stdio = io;
	o.stdio_count = 3;
	o.exit_cb = on_hook_exit;
	r = uv_spawn(h->loop, &h->proc, &o);
	h->running = 1;
	close(fds[1]);
	if (r != 0) {
		log_warnx("on_change: cannot run /bin/sh: %s", uv_strerror(r));
		close(fds[0]);
		uv_close((uv_handle_t *)&h->proc, on_proc_close);
		uv_close((uv_handle_t *)&h->out, on_pipe_close);
		goto out;
	}
	/* Once uv_pipe_open() took fds[0], closing the pipe closes it. */
	if ((r = uv_pipe_open(&h->out, fds[0])) != 0)
		close(fds[0]);
	else
		r = uv_read_start((uv_stream_t *)&h->out, on_alloc, on_read);
	if (r != 0) {
		log_warnx("on_change: cannot read its output: %s",
		    uv_strerror(r));
		uv_close((uv_handle_t *)&h->out, on_pipe_close);
	}
out:
	free(env);
	for (i = 0; i < nitems(ours); i++)
		free(ours[i]);
}

/* True when 'name' is one of the space-separated words of 'list'. */
static int
listed(const char *list, const char *name)
{
	size_t n = strlen(name), w;

	while (list != NULL && *list != '\0') {
		w = strcspn(list, " ");
		if (w == n && strncmp(list, name, n) == 0)
			return 1;
		list += w;
		list += *list == ' ';
	}
	return 0;
}

void
hook_note(struct hook *h, const char *account, int64_t run_id, int64_t new,
    int64_t updated, int64_t deleted)
{
	if (h == NULL || h->command == NULL)
		return;
	if (!listed(h->accounts.data, account) &&
	    buf_printf(&h->accounts, "%s%s", h->accounts.len ? " " : "",
		account) == -1)
		log_warnx("on_change: too many accounts to name them all");
	if (run_id > 0 &&
	    buf_printf(&h->run_ids, "%s%lld", h->run_ids.len ? " " : "",
		(long long)run_id) == -1)
		log_warnx("on_change: too many runs to name them all");
	h->new += new;
	h->updated += updated;
	h->deleted += deleted;
	h->pending = 1;
}

void
hook_kick(struct hook *h)
{
	if (h != NULL && h->pending && !h->running && !h->reading)
		hook_start(h);
}

void
hook_free(struct hook *h)
{
	if (h == NULL)
		return;
	h->freed = 1;
	h->pending = 0;
	/* A command still running goes on by itself; we stop watching it. */
	if (h->running && !uv_is_closing((uv_handle_t *)&h->proc))
		uv_close((uv_handle_t *)&h->proc, on_proc_close);
	if (h->reading && !uv_is_closing((uv_handle_t *)&h->out))
		uv_close((uv_handle_t *)&h->out, on_pipe_close);
	maybe_next(h);
}
