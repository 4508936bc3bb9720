// Photo viewer: a thumbnail in a photo gallery (.gallery) opens its photo in a dialog over the page
// instead of leaving the app for the bare image. Zoom (buttons, double click, + and -), previous and
// next (buttons, arrow keys, swipe), Esc or the close button to return. Without this script the
// thumbnail stays a plain link to the photo. No inline script or style: zoom levels are classes.
(function () {
  "use strict";
  var dialog, img, caption, counter, items = [], index = 0, zoom = 1, touchX = null, touchY = null;
  var ZOOMS = [1, 2, 3];

  function label(el, name) {
    return (el && el.getAttribute(name)) || "";
  }

  function button(cls, text, aria, onClick) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = cls;
    b.textContent = text;
    b.setAttribute("aria-label", aria);
    b.addEventListener("click", onClick);
    return b;
  }

  function build(gallery) {
    var t = gallery.closest("[data-pv-close]") || gallery;
    dialog = document.createElement("dialog");
    dialog.className = "pv";
    dialog.setAttribute("aria-label", label(t, "data-pv-title"));
    var top = document.createElement("div");
    top.className = "pv-bar pv-top";
    caption = document.createElement("span");
    caption.className = "pv-caption";
    caption.setAttribute("aria-live", "polite");
    top.appendChild(caption);
    top.appendChild(button("pv-close", "×", label(t, "data-pv-close"), close));
    var stage = document.createElement("div");
    stage.className = "pv-stage";
    img = document.createElement("img");
    img.alt = "";
    img.addEventListener("dblclick", function () { setZoom(zoom === 1 ? 2 : 1); });
    stage.appendChild(img);
    var bottom = document.createElement("div");
    bottom.className = "pv-bar pv-bottom";
    bottom.appendChild(button("pv-prev", "‹", label(t, "data-pv-prev"), function () { go(-1); }));
    bottom.appendChild(button("pv-zoom-out", "−", label(t, "data-pv-zoom-out"), function () { setZoom(zoom - 1); }));
    counter = document.createElement("span");
    counter.className = "pv-counter";
    bottom.appendChild(counter);
    bottom.appendChild(button("pv-zoom-in", "+", label(t, "data-pv-zoom-in"), function () { setZoom(zoom + 1); }));
    bottom.appendChild(button("pv-next", "›", label(t, "data-pv-next"), function () { go(1); }));
    dialog.appendChild(top);
    dialog.appendChild(stage);
    dialog.appendChild(bottom);
    dialog.addEventListener("keydown", function (e) {
      if (e.key === "ArrowRight") { go(1); e.preventDefault(); }
      else if (e.key === "ArrowLeft") { go(-1); e.preventDefault(); }
      else if (e.key === "+" || e.key === "=") { setZoom(zoom + 1); }
      else if (e.key === "-") { setZoom(zoom - 1); }
    });
    dialog.addEventListener("close", function () { if (dialog.returnFocus) dialog.returnFocus.focus(); });
    stage.addEventListener("touchstart", function (e) {
      if (e.touches.length !== 1 || zoom !== 1) { touchX = null; return; }
      touchX = e.touches[0].clientX; touchY = e.touches[0].clientY;
    }, { passive: true });
    stage.addEventListener("touchend", function (e) {
      if (touchX === null) return;
      var dx = e.changedTouches[0].clientX - touchX, dy = e.changedTouches[0].clientY - touchY;
      touchX = null;
      if (Math.abs(dx) > 50 && Math.abs(dx) > 1.5 * Math.abs(dy)) go(dx < 0 ? 1 : -1);
    });
    document.body.appendChild(dialog);
  }

  function setZoom(z) {
    zoom = Math.max(1, Math.min(ZOOMS[ZOOMS.length - 1], z));
    ZOOMS.forEach(function (n) { dialog.classList.toggle("z" + n, n === zoom); });
    dialog.classList.toggle("zoomed", zoom > 1);
  }

  function show(i) {
    index = (i + items.length) % items.length;
    var link = items[index], thumb = link.querySelector("img");
    img.src = link.getAttribute("href");
    img.alt = thumb ? thumb.alt : "";
    caption.textContent = img.alt;
    counter.textContent = (index + 1) + " / " + items.length;
    dialog.querySelector(".pv-prev").hidden = items.length < 2;
    dialog.querySelector(".pv-next").hidden = items.length < 2;
    setZoom(1);
  }

  function go(step) {
    if (items.length > 1) show(index + step);
  }

  function close() {
    dialog.close();
  }

  document.addEventListener("click", function (e) {
    var link = e.target.closest && e.target.closest(".gallery a.pv-open");
    if (!link || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
    var gallery = link.closest(".gallery");
    if (typeof HTMLDialogElement !== "function") return;  // an old browser follows the link
    e.preventDefault();
    if (dialog && !document.body.contains(dialog)) dialog = null;
    if (!dialog) build(gallery);
    items = Array.prototype.slice.call(gallery.querySelectorAll("a.pv-open"));
    dialog.returnFocus = link;
    show(items.indexOf(link));
    if (!dialog.open) dialog.showModal();
  });
})();
