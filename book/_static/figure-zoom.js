/* Tap (or click) a figure to see it full screen at its full resolution; the close button, a tap
   on the background, or Escape closes it. On a phone the enlarged figure can be pinch-zoomed and
   panned (a tap on the figure itself does not close it). A figure that Sphinx wrapped in a link
   to its own file (an "image-reference") opens that file in the view instead of leaving the
   page; a figure inside any other link is left alone. (Issue 27: figures tap-to-zoom.) */
document.addEventListener("DOMContentLoaded", function () {
  var overlay = document.createElement("div");
  overlay.className = "figure-zoom-overlay";
  overlay.setAttribute("role", "dialog");
  overlay.setAttribute("aria-modal", "true");
  overlay.setAttribute("aria-label", "Enlarged figure");
  overlay.tabIndex = -1;
  var closer = document.createElement("button");
  closer.type = "button";
  closer.className = "figure-zoom-close";
  closer.setAttribute("aria-label", "Close the enlarged figure");
  closer.textContent = "\u00d7";
  var big = document.createElement("img");
  overlay.appendChild(closer);
  overlay.appendChild(big);
  document.body.appendChild(overlay);
  var opener = null;
  function close() {
    if (!overlay.classList.contains("open")) { return; }
    overlay.classList.remove("open");
    document.body.classList.remove("figure-zoom-open");
    big.removeAttribute("src");
    if (opener) { opener.focus(); }
  }
  closer.addEventListener("click", close);
  overlay.addEventListener("click", function (e) { if (e.target === overlay) { close(); } });
  document.addEventListener("keydown", function (e) { if (e.key === "Escape") { close(); } });
  document.querySelectorAll("article.bd-article img").forEach(function (img) {
    var link = img.closest("a");
    if (link && !link.classList.contains("image-reference")) { return; }
    img.classList.add("figure-zoomable");
    img.setAttribute("title", "Tap to enlarge");
    if (!link) { img.setAttribute("tabindex", "0"); }
    function open(e) {
      if (e) { e.preventDefault(); }
      opener = link || img;
      big.src = link ? link.href : (img.currentSrc || img.src);
      big.alt = img.alt;
      overlay.classList.add("open");
      document.body.classList.add("figure-zoom-open");
      closer.focus();
    }
    (link || img).addEventListener("click", open);
    img.addEventListener("keydown", function (e) { if (e.key === "Enter") { open(e); } });
  });
});
