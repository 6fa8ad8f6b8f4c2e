/* Tap (or click) a figure to see it full screen at its full resolution; tap again, or press
   Escape, to close. On a phone the enlarged figure can be pinch-zoomed and scrolled. A figure
   that Sphinx wrapped in a link to its own file (an "image-reference") opens that file in the
   view instead of leaving the page; a figure inside any other link is left alone.
   (Issue 27: figures tap-to-zoom.) */
document.addEventListener("DOMContentLoaded", function () {
  var overlay = document.createElement("div");
  overlay.className = "figure-zoom-overlay";
  overlay.setAttribute("role", "dialog");
  overlay.setAttribute("aria-label", "Enlarged figure; tap or press Escape to close");
  var big = document.createElement("img");
  overlay.appendChild(big);
  document.body.appendChild(overlay);
  function close() { overlay.classList.remove("open"); big.removeAttribute("src"); }
  overlay.addEventListener("click", close);
  document.addEventListener("keydown", function (e) { if (e.key === "Escape") { close(); } });
  document.querySelectorAll("article.bd-article img").forEach(function (img) {
    var link = img.closest("a");
    if (link && !link.classList.contains("image-reference")) { return; }
    img.classList.add("figure-zoomable");
    img.setAttribute("title", "Tap to enlarge");
    if (!link) { img.setAttribute("tabindex", "0"); }
    function open(e) {
      if (e) { e.preventDefault(); }
      big.src = link ? link.href : (img.currentSrc || img.src);
      big.alt = img.alt;
      overlay.classList.add("open");
    }
    (link || img).addEventListener("click", open);
    img.addEventListener("keydown", function (e) { if (e.key === "Enter") { open(e); } });
  });
});
