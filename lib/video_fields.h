/* SPDX-License-Identifier: ISC */
/*
 * A video's fields, spelt once (style.md 14, "one fact, one table"). Each
 * line is X(name, key, kind): 'name' is the column of the videos table (in
 * its order) and the member of struct video and struct store_video, 'key'
 * TikTok's JSON key (tiktok-api.md §3), 'kind' what the value is:
 *
 *   kind   value   from TikTok                 when TikTok leaves it out
 *   TEXT   text    up to API_TEXT_MAX bytes    the mirror's, or ''
 *   HTML   text    up to API_TEXT_MAX bytes    the mirror's
 *   URL    text    up to API_URL_MAX bytes     the mirror's
 *   COVER  text    the signed cover URL, in struct video as <name>_url; the
 *                  mirror's column names the cached file the cover pass made
 *   TIME   int     required (seconds)          the video is skipped
 *   INT    int     up to INT32_MAX             the mirror's
 *   COUNT  int     up to INT64_MAX             the mirror's
 *
 * The table expands into the API struct and its parser (api.[ch]), the
 * staging table, its INSERT, the apply's SQL, change detection and the
 * changed-field names (store.c), struct store_video and its reader
 * (store.[ch]), and the renderers' columns (render.c). Adding a field is
 * one line here plus, since the videos table's columns never change in
 * place, a migration in store.c's schema.
 */
#ifndef VIDEO_FIELDS_H
#define VIDEO_FIELDS_H

#define VIDEO_FIELDS(X)                                                        \
	X(title, "title", TEXT)                                               \
	X(description, "video_description", TEXT)                             \
	X(duration, "duration", INT)                                          \
	X(width, "width", INT)                                                \
	X(height, "height", INT)                                              \
	X(cover, "cover_image_url", COVER)                                    \
	X(embed_link, "embed_link", URL)                                      \
	X(embed_html, "embed_html", HTML)                                     \
	X(share_url, "share_url", URL)                                        \
	X(created_at, "create_time", TIME)                                    \
	X(total_shares, "share_count", COUNT)                                 \
	X(total_likes, "like_count", COUNT)                                   \
	X(total_comments, "comment_count", COUNT)                             \
	X(total_views, "view_count", COUNT)

/*
 * Each kind's value class, text (a string or NULL) or int; whether the
 * renderers follow it with <name>_iso, its ISO 8601 form (VF_ALSO: yes);
 * and the suffix of its member's name in struct video.
 */
#define VF_KIND_TEXT text, VF_NOT, /* no suffix */
#define VF_KIND_HTML text, VF_NOT,
#define VF_KIND_URL text, VF_NOT,
#define VF_KIND_COVER text, VF_NOT, _url
#define VF_KIND_TIME int, VF_ALSO,
#define VF_KIND_INT int, VF_NOT,
#define VF_KIND_COUNT int, VF_NOT,
#define VF_NOT(...)
#define VF_ALSO(...) __VA_ARGS__
#define VF_1(a, b, c) a
#define VF_2(a, b, c) b
#define VF_3(a, b, c) c
#define VF_APPLY(m, args) m args

/* VF_BY_TYPE(prefix_, kind): prefix_text or prefix_int, e.g. col_text. */
#define VF_CAT_(a, b) a##b
#define VF_CAT(a, b) VF_CAT_(a, b)
#define VF_BY_TYPE(prefix, kind)                                               \
	VF_CAT(prefix, VF_APPLY(VF_1, (VF_KIND_##kind)))
/* VF_IF_TIME(kind, ...): the rest for a TIME field, else nothing. */
#define VF_IF_TIME(kind, ...)                                                  \
	VF_APPLY(VF_2, (VF_KIND_##kind))(__VA_ARGS__)
/* The member of struct video that holds field 'n': cover_url for cover. */
#define VF_API_NAME(n, kind) VF_CAT(n, VF_APPLY(VF_3, (VF_KIND_##kind)))
/* A macro's expansion as a string literal. */
#define VF_STR_(x) #x
#define VF_STR(x) VF_STR_(x)

#endif
