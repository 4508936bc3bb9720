// Charts from tables: every chart's numbers are a real <table> (accessible, copyable, printable), and
// this script draws the chart from that table with the vendored Chart.js. Markup:
//   <figure class="chart" data-chart="bar|stacked|line|doughnut|hbar">
//     <figcaption>Title</figcaption>
//     <div class="chart-canvas"><canvas role="img" aria-label="Title"></canvas></div>
//     <table class="chart-data">
//       <thead><tr><th scope="col">Department</th><th scope="col" data-series>Findings</th>…</tr></thead>
//       <tbody><tr><th scope="row"><a href="/findings/?department_id=…">客户服务部</a></th><td data-value="12">12</td>…</tr></tbody>
//     </table>
//   </figure>
// Clicking a bar/point/slice follows the link of its row (the drill-down to the filtered list);
// a cell's own <a> overrides the row link for that series. Empty data-value = no value (gap).
(function () {
  "use strict";
  var PALETTE = ["#1f5f8b", "#e07b39", "#3a9d5d", "#c0392b", "#8e6bb5", "#b8860b", "#2c9fb0", "#7f8c8d"];
  var SEVERITY = { low: "#7fb77e", medium: "#e0b339", high: "#e07b39", critical: "#c0392b" };

  function num(cell) {
    var raw = cell.getAttribute("data-value");
    if (raw === null) raw = cell.textContent;
    raw = String(raw).trim().replace(/%$/, "");
    return raw === "" || isNaN(Number(raw)) ? null : Number(raw);
  }

  function read(table) {
    var series = Array.prototype.map.call(table.querySelectorAll("thead th[data-series]"), function (th) {
      return { label: th.textContent.trim(), key: th.getAttribute("data-key") || "", data: [], links: [] };
    });
    var labels = [], rowLinks = [], keys = [];
    table.querySelectorAll("tbody tr").forEach(function (tr) {
      var head = tr.querySelector("th");
      if (!head || tr.hasAttribute("data-no-chart")) return;
      labels.push(head.textContent.trim());
      keys.push(tr.getAttribute("data-key") || "");
      var a = head.querySelector("a");
      rowLinks.push(a ? a.href : null);
      var cells = tr.querySelectorAll("td[data-value]");
      series.forEach(function (s, i) {
        var cell = cells[i];
        s.data.push(cell ? num(cell) : null);
        var own = cell && cell.querySelector("a");
        s.links.push(own ? own.href : null);
      });
    });
    return { labels: labels, keys: keys, series: series, rowLinks: rowLinks };
  }

  function color(i, key) { return SEVERITY[key] || PALETTE[i % PALETTE.length]; }

  function draw(figure) {
    var canvas = figure.querySelector("canvas");
    var table = figure.querySelector("table.chart-data");
    if (!canvas || !table || !window.Chart || canvas.dataset.drawn) return;
    canvas.dataset.drawn = "1";
    var kind = figure.getAttribute("data-chart") || "bar";
    var percent = figure.hasAttribute("data-percent");
    var d = read(table);
    var type = { stacked: "bar", hbar: "bar", line: "line", doughnut: "doughnut" }[kind] || "bar";
    var datasets = d.series.map(function (s, i) {
      var c = color(i, s.key);
      var ds = { label: s.label, data: s.data, backgroundColor: c, borderColor: c, spanGaps: true };
      if (type === "doughnut") ds.backgroundColor = d.keys.map(function (k, j) { return color(j, k); });
      if (type === "line") { ds.fill = false; ds.tension = 0.2; ds.pointRadius = 4; ds.pointHoverRadius = 6; }
      return ds;
    });
    var scales = {};
    if (type !== "doughnut") {
      var value = { beginAtZero: true, stacked: kind === "stacked", ticks: { precision: 0 } };
      if (percent) { value.max = 100; value.ticks = { callback: function (v) { return v + "%"; } }; }
      var category = { stacked: kind === "stacked", ticks: { autoSkip: false, maxRotation: 45 } };
      scales = kind === "hbar" ? { x: value, y: category } : { x: category, y: value };
    }
    new window.Chart(canvas, {
      type: type,
      data: { labels: d.labels, datasets: datasets },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        indexAxis: kind === "hbar" ? "y" : "x",
        scales: scales,
        plugins: { legend: { display: datasets.length > 1 || type === "doughnut", position: "bottom" } },
        onHover: function (evt, els) { evt.native.target.style.cursor = els.length ? "pointer" : "default"; },
        onClick: function (evt, els) {
          if (!els.length) return;
          var el = els[0];
          var href = d.series[el.datasetIndex].links[el.index] || d.rowLinks[el.index];
          if (href) window.location.href = href;
        }
      }
    });
  }

  function drawAll(root) { (root || document).querySelectorAll("figure.chart").forEach(draw); }
  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.addEventListener("htmx:afterSettle", function (e) { drawAll(e.target); });
})();
