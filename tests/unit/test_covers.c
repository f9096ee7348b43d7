/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for lib/covers.c: images are recognised by their magic bytes
 * only, temporary files become <id>.<ext> or disappear, nothing is ever
 * written outside <covers>/<account>/ even with symlinks planted there,
 * and the sweep removes exactly what no row claims.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "covers.h"
#include "util.h"
#include "unit.h"

static const unsigned char JPG[] = {0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J',
    'F', 'I', 'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0xff, 0xd9};
static const unsigned char PNG[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a,
    '\n', 0x00, 0x00, 0x00, 0x0d, 'I', 'H', 'D', 'R'};
static const unsigned char WEBP[] = {'R', 'I', 'F', 'F', 0x24, 0x00, 0x00,
    0x00, 'W', 'E', 'B', 'P', 'V', 'P', '8', ' '};
static const char HTML[] = "<!DOCTYPE html><html><body>Access Denied"
			   "</body></html>";

struct fx {
	char *dir;   /* scratch folder */
	char *root;  /* <dir>/covers */
	char *acct;  /* <root>/brand */
	char *outer; /* <dir>/outside: must stay untouched */
};

static int
setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));

	f->dir = tmp_dir("covers");
	f->root = path_join(f->dir, "covers");
	f->acct = path_join(f->root, "brand");
	f->outer = path_join(f->dir, "outside");
	assert_int_equal(mkdir(f->outer, 0700), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	free(f->root);
	free(f->acct);
	free(f->outer);
	rm_rf(f->dir);
	free(f);
	return 0;
}

static void
test_sniff(void **state)
{
	static const unsigned char riff_wav[] = {'R', 'I', 'F', 'F', 0, 0, 0,
	    0, 'W', 'A', 'V', 'E'};
	static const unsigned char gif[] = "GIF89a";

	(void)state;
	assert_string_equal(covers_sniff(JPG, sizeof(JPG)), "jpg");
	assert_string_equal(covers_sniff(JPG, 3), "jpg");
	assert_string_equal(covers_sniff(PNG, sizeof(PNG)), "png");
	assert_string_equal(covers_sniff(PNG, 8), "png");
	assert_string_equal(covers_sniff(WEBP, sizeof(WEBP)), "webp");
	assert_string_equal(covers_sniff(WEBP, 12), "webp");
	/* Not images, or too short to tell. */
	assert_null(covers_sniff((const unsigned char *)HTML, strlen(HTML)));
	assert_null(covers_sniff((const unsigned char *)"{\"error\":1}", 11));
	assert_null(covers_sniff(riff_wav, sizeof(riff_wav)));
	assert_null(covers_sniff(gif, 6));
	assert_null(covers_sniff(JPG, 2));
	assert_null(covers_sniff(PNG, 7));
	assert_null(covers_sniff(WEBP, 11));
	assert_null(covers_sniff(JPG, 0));
}

static void
test_tmp_open_refuses_bad_ids(void **state)
{
	static const char *const bad[] = {"", "../1", "12a", "1/2", "..",
	    "123456789012345678901", "1.jpg", "-1"};
	struct fx *f = *state;
	char err[ERRLEN], *tmp;
	size_t i;
	int dfd;

	/* No folder is made unless asked. */
	assert_int_equal(covers_dir(f->root, "brand", 0, err, sizeof(err)),
	    -1);
	assert_int_equal(access(f->root, F_OK), -1);
	dfd = covers_dir(f->root, "brand", 1, err, sizeof(err));
	assert_true(dfd >= 0);
	for (i = 0; i < nitems(bad); i++) {
		tmp = (char *)1;
		err[0] = '\0';
		if (covers_tmp_open(dfd, bad[i], &tmp, err, sizeof(err)) != -1)
			fail_msg("accepted id \"%s\"", bad[i]);
		assert_null(tmp);
		assert_true(err[0] != '\0');
	}
	/* Nothing was created for them. */
	assert_int_equal(count_entries(f->acct), 0);
	assert_int_equal(count_entries(f->outer), 0);
	close(dfd);
}

/* Download 'len' bytes as the cover of 'id'; returns commit()'s result. */
static int
store_cover(struct fx *f, const char *id, const void *data, size_t len,
    char **rel, char *err, size_t errlen)
{
	char *tmp = NULL;
	int dfd, fd;

	dfd = covers_dir(f->root, "brand", 1, err, errlen);
	if (dfd == -1)
		fail_msg("covers_dir: %s", err);
	fd = covers_tmp_open(dfd, id, &tmp, err, errlen);
	if (fd == -1)
		fail_msg("tmp_open %s: %s", id, err);
	assert_non_null(tmp);
	assert_true(strncmp(tmp, COVERS_TMP_PREFIX,
			strlen(COVERS_TMP_PREFIX)) == 0);
	assert_null(strchr(tmp, '/'));
	if (len > 0)
		assert_int_equal(write(fd, data, len), (ssize_t)len);
	fd = covers_commit(dfd, fd, "brand", id, tmp, data, len, rel, err,
	    errlen);
	free(tmp);
	close(dfd);
	return fd;
}

/* The permission bits of 'name' in the account folder. */
static mode_t
lstat_mode(struct fx *f, const char *name)
{
	struct stat st;
	char *path = path_join(f->acct, name);

	assert_int_equal(lstat(path, &st), 0);
	free(path);
	return st.st_mode & 07777;
}

static void
check_file(struct fx *f, const char *name, const void *data, size_t len)
{
	char *path, *got;
	size_t n;

	path = path_join(f->acct, name);
	got = slurp(path, &n);
	if (got == NULL)
		fail_msg("%s missing", path);
	assert_int_equal(n, len);
	assert_memory_equal(got, data, len);
	free(got);
	free(path);
}

static void
test_commit_by_magic(void **state)
{
	struct fx *f = *state;
	char err[ERRLEN], *rel;
	struct stat st;
	int fd;

	assert_int_equal(store_cover(f, "7080213458555737986", JPG,
			     sizeof(JPG), &rel, err, sizeof(err)),
	    0);
	assert_string_equal(rel, "brand/7080213458555737986.jpg");
	check_file(f, "7080213458555737986.jpg", JPG, sizeof(JPG));
	assert_true(covers_exists(f->root, rel));
	free(rel);
	assert_int_equal(store_cover(f, "2", PNG, sizeof(PNG), &rel, err,
			     sizeof(err)),
	    0);
	assert_string_equal(rel, "brand/2.png");
	check_file(f, "2.png", PNG, sizeof(PNG));
	free(rel);
	assert_int_equal(store_cover(f, "3", WEBP, sizeof(WEBP), &rel, err,
			     sizeof(err)),
	    0);
	assert_string_equal(rel, "brand/3.webp");
	check_file(f, "3.webp", WEBP, sizeof(WEBP));
	free(rel);
	/* No temporary file is left, only the three covers. */
	assert_int_equal(count_entries(f->acct), 3);
	/* The account folder and the files: as the umask says. */
	assert_int_equal(stat(f->acct, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, umask_mode(0755));
	assert_int_equal(lstat_mode(f, "3.webp"), umask_mode(0644));
	/* Replacing a cover replaces the bytes. */
	assert_int_equal(store_cover(f, "2", PNG, 8, &rel, err, sizeof(err)),
	    0);
	check_file(f, "2.png", PNG, 8);
	free(rel);
	assert_true(covers_exists(f->root, "brand/2.png"));
	assert_false(covers_exists(f->root, "brand/4.png"));
	assert_false(covers_exists(f->root, "brand/../brand/2.png"));
	fd = covers_dir(f->root, "brand", 0, err, sizeof(err));
	assert_true(fd >= 0);
	assert_int_equal(covers_sync(fd), 0);
	close(fd);
}

/* covers_exists_at(): a non-empty file of the open account folder only. */
static void
test_exists_at(void **state)
{
	struct fx *f = *state;
	char err[ERRLEN], *rel, *path;
	int dfd;

	assert_int_equal(store_cover(f, "2", PNG, sizeof(PNG), &rel, err,
			     sizeof(err)),
	    0);
	free(rel);
	dfd = covers_dir(f->root, "brand", 0, err, sizeof(err));
	assert_true(dfd >= 0);
	assert_true(covers_exists_at(dfd, "brand", "brand/2.png"));
	assert_false(covers_exists_at(dfd, "brand", "brand/4.png"));
	/* Another account's name, a path below or above: never looked up. */
	assert_false(covers_exists_at(dfd, "bran", "brand/2.png"));
	assert_false(covers_exists_at(dfd, "brand", "brand2.png"));
	assert_false(covers_exists_at(dfd, "brand", "brand/x/2.png"));
	assert_false(covers_exists_at(dfd, "brand", "brand/.."));
	assert_false(covers_exists_at(dfd, "brand", "brand/."));
	assert_false(covers_exists_at(dfd, "brand", "brand/"));
	/* An empty file, a folder and a symlink to a cover are not covers. */
	path = path_join(f->acct, "5.jpg");
	spew(path, "", 0, 0644);
	free(path);
	assert_false(covers_exists_at(dfd, "brand", "brand/5.jpg"));
	path = path_join(f->acct, "6.jpg");
	assert_int_equal(mkdir(path, 0700), 0);
	free(path);
	assert_false(covers_exists_at(dfd, "brand", "brand/6.jpg"));
	path = path_join(f->acct, "7.png");
	assert_int_equal(symlink("2.png", path), 0);
	free(path);
	assert_false(covers_exists_at(dfd, "brand", "brand/7.png"));
	close(dfd);
}

static void
test_commit_rejects(void **state)
{
	struct fx *f = *state;
	char err[ERRLEN], *rel, *big;
	size_t n;

	/* An HTML error page is not a cover. */
	rel = (char *)1;
	assert_int_equal(store_cover(f, "1", HTML, strlen(HTML), &rel, err,
			     sizeof(err)),
	    -1);
	assert_null(rel);
	assert_non_null(strstr(err, "not a JPEG, PNG or WebP"));
	assert_int_equal(count_entries(f->acct), 0);
	/* Neither is an empty body. */
	assert_int_equal(store_cover(f, "1", "", 0, &rel, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "empty"));
	assert_int_equal(count_entries(f->acct), 0);
	/* Nor a body a byte over 10 MiB, even with the right magic. */
	n = COVERS_MAX_BYTES + 1;
	big = xcalloc(1, n);
	memcpy(big, JPG, sizeof(JPG));
	assert_int_equal(store_cover(f, "1", big, n, &rel, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "larger"));
	assert_int_equal(count_entries(f->acct), 0);
	/* Exactly 10 MiB is fine. */
	assert_int_equal(store_cover(f, "1", big, n - 1, &rel, err,
			     sizeof(err)),
	    0);
	assert_string_equal(rel, "brand/1.jpg");
	free(rel);
	free(big);
	assert_int_equal(count_entries(f->acct), 1);
	/* A rejected new download leaves the previous cover alone. */
	assert_int_equal(store_cover(f, "1", HTML, strlen(HTML), &rel, err,
			     sizeof(err)),
	    -1);
	assert_int_equal(count_entries(f->acct), 1);
}

static void
test_discard(void **state)
{
	struct fx *f = *state;
	char err[ERRLEN], *tmp;
	int dfd, fd;

	dfd = covers_dir(f->root, "brand", 1, err, sizeof(err));
	assert_true(dfd >= 0);
	fd = covers_tmp_open(dfd, "5", &tmp, err, sizeof(err));
	assert_true(fd >= 0);
	assert_int_equal(write(fd, JPG, sizeof(JPG)), (ssize_t)sizeof(JPG));
	assert_int_equal(count_entries(f->acct), 1);
	covers_discard(dfd, fd, tmp);
	assert_int_equal(count_entries(f->acct), 0);
	free(tmp);
	close(dfd);
}

/* A temporary file a crash left at the next name is stepped over. */
static void
test_tmp_name_taken(void **state)
{
	struct fx *f = *state;
	char err[ERRLEN], *tmp, *next, *path;
	unsigned int k;
	int dfd, fd, fd2;

	dfd = covers_dir(f->root, "brand", 1, err, sizeof(err));
	assert_true(dfd >= 0);
	/*
	 * Whoever can write the folder cannot guess the next name: a
	 * serial number (what this used to be) is taken in advance here,
	 * and the name is random hex that differs each time.
	 */
	for (k = 0; k < 200; k++) {
		next = xasprintf(COVERS_TMP_PREFIX "8-%u", k);
		path = path_join(f->acct, next);
		spew(path, "left", 4, 0640);
		free(path);
		free(next);
	}
	fd = covers_tmp_open(dfd, "8", &tmp, err, sizeof(err));
	if (fd == -1)
		fail_msg("tmp_open: %s", err);
	assert_int_equal(strlen(tmp), strlen(COVERS_TMP_PREFIX "8-") + 16);
	assert_int_equal(strspn(tmp + strlen(COVERS_TMP_PREFIX "8-"),
			     "0123456789abcdef"),
	    16);
	fd2 = covers_tmp_open(dfd, "8", &next, err, sizeof(err));
	assert_true(fd2 >= 0);
	assert_string_not_equal(tmp, next);
	covers_discard(dfd, fd2, next);
	free(next);
	assert_int_equal(count_entries(f->acct), 201);
	covers_discard(dfd, fd, tmp);
	free(tmp);
	/* The leftovers are not names we make: nobody's to remove. */
	assert_int_equal(count_entries(f->acct), 200);
	close(dfd);
}

static void
test_symlink_final_name(void **state)
{
	struct fx *f = *state;
	char err[ERRLEN], *rel, *victim, *link;
	struct stat st;

	/* A file elsewhere, and a link to it planted at the final name. */
	victim = path_join(f->outer, "victim");
	spew(victim, "precious", 8, 0644);
	assert_int_equal(mkdir(f->root, 0750), 0);
	assert_int_equal(mkdir(f->acct, 0750), 0);
	link = path_join(f->acct, "9.jpg");
	assert_int_equal(symlink(victim, link), 0);

	assert_int_equal(store_cover(f, "9", JPG, sizeof(JPG), &rel, err,
			     sizeof(err)),
	    0);
	assert_string_equal(rel, "brand/9.jpg");
	free(rel);
	/* The link was replaced by a regular file, never followed. */
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	check_file(f, "9.jpg", JPG, sizeof(JPG));
	check_file(f, "../../outside/victim", "precious", 8);
	assert_int_equal(count_entries(f->outer), 1);
	/* A dangling link to a would-be file is not created through. */
	free(victim);
	victim = path_join(f->outer, "new");
	free(link);
	link = path_join(f->acct, "10.png");
	assert_int_equal(symlink(victim, link), 0);
	assert_int_equal(store_cover(f, "10", PNG, sizeof(PNG), &rel, err,
			     sizeof(err)),
	    0);
	free(rel);
	assert_int_equal(access(victim, F_OK), -1);
	assert_int_equal(count_entries(f->outer), 1);
	/* A link does not count as an existing cover. */
	assert_int_equal(unlink(link), 0);
	assert_int_equal(symlink(victim, link), 0);
	assert_false(covers_exists(f->root, "brand/10.png"));
	free(victim);
	free(link);
}

static void
test_symlinked_account_folder(void **state)
{
	struct fx *f = *state;
	char err[ERRLEN];

	/* The account folder itself replaced by a link to elsewhere. */
	assert_int_equal(mkdir(f->root, 0750), 0);
	assert_int_equal(symlink(f->outer, f->acct), 0);
	err[0] = '\0';
	assert_int_equal(covers_dir(f->root, "brand", 1, err, sizeof(err)),
	    -1);
	assert_true(err[0] != '\0');
	assert_int_equal(count_entries(f->outer), 0);
}

static int
keep_listed(const char *rel, void *arg)
{
	const char **keep = arg;

	for (; *keep != NULL; keep++)
		if (strcmp(rel, *keep) == 0)
			return 1;
	return 0;
}

static void
test_sweep(void **state)
{
	static const char *keep[] = {"brand/1.jpg", "brand/3.webp", NULL};
	static const char *users[] = {".gitkeep", "README", "notes.jpg",
	    "12a.jpg", "4.jpeg", "avatar.txt", ".tmp-3-x", "5.jpg.orig"};
	struct fx *f = *state;
	char err[ERRLEN], *rel, *path, *tmp, *other;
	size_t i;
	int dfd, fd;

	/* Nothing to sweep before the folder exists. */
	assert_int_equal(covers_sweep(f->root, "brand", keep_listed,
			     keep, err, sizeof(err)),
	    0);
	assert_int_equal(store_cover(f, "1", JPG, sizeof(JPG), &rel, err,
			     sizeof(err)),
	    0);
	free(rel);
	assert_int_equal(store_cover(f, "2", PNG, sizeof(PNG), &rel, err,
			     sizeof(err)),
	    0);
	free(rel);
	assert_int_equal(store_cover(f, "3", WEBP, sizeof(WEBP), &rel, err,
			     sizeof(err)),
	    0);
	free(rel);
	/* A temporary file a crash left behind, claimed or not. */
	dfd = covers_dir(f->root, "brand", 0, err, sizeof(err));
	assert_true(dfd >= 0);
	fd = covers_tmp_open(dfd, "1", &tmp, err, sizeof(err));
	assert_true(fd >= 0);
	close(fd);
	close(dfd);
	free(tmp);
	path = path_join(f->acct, ".tmp-3-00000000deadbeef");
	spew(path, "x", 1, 0640);
	free(path);
	/* What we never wrote stays, whatever 'keep' says of it. */
	for (i = 0; i < nitems(users); i++) {
		path = path_join(f->acct, users[i]);
		spew(path, "mine", 4, 0640);
		free(path);
	}
	/* Another account's files are not this sweep's business. */
	other = path_join(f->root, "other");
	assert_int_equal(mkdir(other, 0750), 0);
	path = path_join(other, "7.jpg");
	spew(path, JPG, sizeof(JPG), 0640);
	free(path);
	assert_int_equal(count_entries(f->acct), 5 + nitems(users));

	assert_int_equal(covers_sweep(f->root, "brand", keep_listed,
			     keep, err, sizeof(err)),
	    3);
	assert_int_equal(count_entries(f->acct), 2 + nitems(users));
	check_file(f, "1.jpg", JPG, sizeof(JPG));
	check_file(f, "3.webp", WEBP, sizeof(WEBP));
	assert_int_equal(count_entries(other), 1);
	/* Sweeping again removes nothing. */
	assert_int_equal(covers_sweep(f->root, "brand", keep_listed,
			     keep, err, sizeof(err)),
	    0);
	free(other);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sniff),
	    cmocka_unit_test_setup_teardown(test_tmp_open_refuses_bad_ids,
		setup, teardown),
	    cmocka_unit_test_setup_teardown(test_commit_by_magic, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_exists_at, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_commit_rejects, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_discard, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tmp_name_taken, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_symlink_final_name, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_symlinked_account_folder,
		setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sweep, setup, teardown),
	};

	return cmocka_run_group_tests_name("covers", tests, NULL, NULL) == 0
	    ? 0
	    : 1;
}
