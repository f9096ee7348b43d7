// SPDX-License-Identifier: ISC
//
// The privacy-first player: each video is a button over its local cover,
// and nothing is loaded from TikTok until a visitor clicks one. The click
// replaces that button with TikTok's Embed Player for the video
// (https://www.tiktok.com/player/v1/ID, which TikTok recommends over the
// deprecated blockquote and embed.js of embed_html). The URL is built from
// the video id alone, checked to be digits, never from text the export
// carries (embed_link, embed_html and share_url are untrusted).
"use strict";
document.addEventListener("click", function (e) {
  var button = e.target.closest && e.target.closest(".player button[data-id]");
  if (!button) return;
  var id = button.getAttribute("data-id");
  if (!/^[0-9]{1,20}$/.test(id)) return;
  var frame = document.createElement("iframe");
  frame.src = "https://www.tiktok.com/player/v1/" + id +
    "?autoplay=1&rel=0&description=1";
  frame.title = button.getAttribute("aria-label") || "TikTok video";
  frame.allow = "autoplay; encrypted-media; fullscreen; picture-in-picture";
  frame.referrerPolicy = "strict-origin-when-cross-origin";
  frame.setAttribute("data-id", id);
  button.replaceWith(frame);
  frame.focus();
});
