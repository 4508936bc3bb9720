// Findings review: on a wide screen a finding opens in the side pane (htmx); on a phone, as a page.
(function () {
  "use strict";
  var wide = window.matchMedia("(min-width: 1200px)");
  // The filters stay behind their "Filters" disclosure on a phone; a desktop has room to show them.
  var more = document.getElementById("filters-more");
  if (more && window.matchMedia("(min-width: 720px)").matches) more.open = true;
  document.addEventListener("click", function (e) {
    var link = e.target.closest && e.target.closest("a.finding-link");
    if (!link || !wide.matches || e.ctrlKey || e.metaKey || e.shiftKey || !window.htmx) return;
    e.preventDefault();
    window.htmx.ajax("GET", link.getAttribute("href"), { target: "#detail-pane", swap: "innerHTML" });
    document.querySelectorAll("a.finding-link[aria-current]").forEach(function (a) { a.removeAttribute("aria-current"); });
    link.setAttribute("aria-current", "true");
  });
  document.addEventListener("change", function (e) {
    if (e.target.id !== "select-all") return;
    document.querySelectorAll('input[name="ids"][form="bulk-form"]').forEach(function (box) { box.checked = e.target.checked; });
  });
})();
