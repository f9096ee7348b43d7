/* SPDX-License-Identifier: ISC */
/*
 * TikTok's oEmbed endpoint (https://developers.tiktok.com/doc/embed-videos):
 * GET https://www.tiktok.com/oembed?url=VIDEO_URL answers, for a public
 * video and without any token,
 *
 *   {"version": "1.0", "type": "video", "title": "...", "author_name": "...",
 *    "author_url": "...", "html": "<blockquote class=\"tiktok-embed\" ...",
 *    "thumbnail_url": "https://...tiktokcdn...?x-expires=...&x-signature=...",
 *    "thumbnail_width": 720, "embed_product_id": "ID", ...}
 *
 * and an error status for a private, deleted or region-blocked one (its
 * error bodies are not documented). Every value is checked for type and
 * bounds here, because jsmn is no validator; unknown members are ignored.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"
#include "oembed.h"
#include "util.h"

#define EXAMPLE "https://www.tiktok.com/@USER/video/ID"

/* The hosts a video address is copied from (any case). */
static const char *const video_hosts[] = {
	"www.tiktok.com", "tiktok.com", "m.tiktok.com",
};
/* Share links that redirect and do not show the id. */
static const char *const short_hosts[] = {
	"vm.tiktok.com", "vt.tiktok.com",
};

static int
host_in(const char *h, size_t len, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strlen(list[i]) == len && strncasecmp(h, list[i], len) == 0)
			return 1;
	return 0;
}

/* Copy s[0..len) to 'id' when it is 1-20 digits that fit in 64 bits. */
static int
take_id(const char *s, size_t len, char id[21])
{
	if (!valid_id(s, len) ||
	    (len == 20 && memcmp(s, "18446744073709551615", 20) > 0))
		return -1;
	memcpy(id, s, len);
	id[len] = '\0';
	return 0;
}

int
oembed_video_id(const char *url, char id[21], char *err, size_t errlen)
{
	const char *p, *path, *end, *d;
	size_t hlen, n, i, ulen = strlen(url);

	if (valid_id(url, ulen))
		return errf(err, errlen,
		    "a bare video id is not enough: oEmbed needs the video's"
		    " address; write https://www.tiktok.com/@USER/video/%s"
		    " (copy it from the browser or the app's Share > Copy"
		    " link)", url);
	for (i = 0; i < ulen; i++)
		if ((unsigned char)url[i] <= 0x20 || url[i] == 0x7f)
			return errf(err, errlen,
			    "a video URL must not contain spaces or control"
			    " characters; write it as " EXAMPLE);
	if (strncasecmp(url, "https://", 8) == 0)
		p = url + 8;
	else if (strncasecmp(url, "http://", 7) == 0)
		p = url + 7;
	else
		return errf(err, errlen,
		    "not a TikTok video address; write it as " EXAMPLE);
	hlen = strcspn(p, "/?#");
	if (host_in(p, hlen, short_hosts, nitems(short_hosts)) ||
	    (host_in(p, hlen, video_hosts, nitems(video_hosts)) &&
		strncmp(p + hlen, "/t/", 3) == 0))
		return errf(err, errlen,
		    "a short share link does not show the video id; open it"
		    " in a browser and copy the full address, " EXAMPLE);
	if (!host_in(p, hlen, video_hosts, nitems(video_hosts)))
		return errf(err, errlen,
		    "not a TikTok video address (the host must be"
		    " www.tiktok.com); write it as " EXAMPLE);
	path = p + hlen;
	end = path + strcspn(path, "?#");
	/* /@USER/video/ID[/] */
	if (end - path > 2 && path[0] == '/' && path[1] == '@') {
		n = strcspn(path + 2, "/?#");
		d = path + 2 + n;
		if (n > 0 && (size_t)(end - d) > 7 &&
		    strncmp(d, "/video/", 7) == 0) {
			d += 7;
			n = (size_t)(end - d);
			if (n > 0 && d[n - 1] == '/')
				n--;
			if (take_id(d, n, id) == 0)
				return 0;
			return errf(err, errlen,
			    "the video id in this address must be 1 to 20"
			    " digits; copy the address again (" EXAMPLE ")");
		}
	}
	/* The older mobile form /v/ID.html */
	if ((size_t)(end - path) > 8 && strncmp(path, "/v/", 3) == 0 &&
	    strncmp(end - 5, ".html", 5) == 0) {
		d = path + 3;
		n = (size_t)(end - 5 - d);
		if (take_id(d, n, id) == 0)
			return 0;
	}
	return errf(err, errlen,
	    "not the address of one video; write it as " EXAMPLE);
}

int64_t
oembed_id_time(const char *id)
{
	return (int64_t)(strtoull(id, NULL, 10) >> 32);
}

char *
oembed_request_url(const char *base, const char *video_url)
{
	char *bare, *esc, *out;

	bare = xstrndup(video_url, strcspn(video_url, "?#"));
	esc = url_escape(bare);
	out = xasprintf("%s?url=%s", base, esc);
	free(esc);
	free(bare);
	return out;
}

enum oembed_status
oembed_status(long http_status)
{
	if (http_status == 200)
		return OEMBED_OK;
	if (http_status == 429)
		return OEMBED_RATE;
	if (http_status == 408 || http_status >= 500)
		return OEMBED_TRANSIENT;
	if (http_status >= 400 && http_status < 500)
		return OEMBED_REFUSED;
	return OEMBED_BAD;
}

void
oembed_clear(struct oembed *o)
{
	free(o->title);
	free(o->author_name);
	free(o->html);
	free(o->thumbnail_url);
	memset(o, 0, sizeof(*o));
}

int
oembed_parse(const struct api_body *b, const char *id, struct oembed *o,
    char *err, size_t errlen)
{
	const struct json *j = &b->j;
	char *type = NULL, *pid = NULL;
	int rc = -1;

	memset(o, 0, sizeof(*o));
	if (!b->is_json) {
		errf(err, errlen, "the answer is not JSON (%s)", b->jerr);
		goto out;
	}
	if (json_type(j, 0) != JSON_OBJECT) {
		errf(err, errlen, "the answer is not a JSON object");
		goto out;
	}
	if (json_get_string(j, 0, "type", 64, &type, err, errlen) == -1)
		goto out;
	if (type == NULL || strcmp(type, "video") != 0) {
		errf(err, errlen, "the answer is not a video object (type %s)",
		    type == NULL ? "missing" : "is not \"video\"");
		goto out;
	}
	if (json_get_string(j, 0, "embed_product_id", 32, &pid, err,
		errlen) == -1)
		goto out;
	if (pid != NULL && strcmp(pid, id) != 0) {
		errf(err, errlen, "the answer is about another video");
		goto out;
	}
	if (json_get_string(j, 0, "html", API_TEXT_MAX, &o->html, err,
		errlen) == -1 ||
	    json_get_string(j, 0, "title", API_TEXT_MAX, &o->title, err,
		errlen) == -1 ||
	    json_get_string(j, 0, "author_name", API_TEXT_MAX, &o->author_name,
		err, errlen) == -1 ||
	    json_get_string(j, 0, "thumbnail_url", API_URL_MAX,
		&o->thumbnail_url, err, errlen) == -1)
		goto out;
	if (o->html == NULL || o->html[0] == '\0') {
		errf(err, errlen, "the answer has no embed html");
		goto out;
	}
	rc = 0;
out:
	if (rc == -1)
		oembed_clear(o);
	free(type);
	free(pid);
	return rc;
}

char *
oembed_embed_link(const char *id)
{
	return xasprintf("https://www.tiktok.com/player/v1/%s", id);
}
