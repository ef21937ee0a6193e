// The per-minute chart of a campaign's page: uPlot over the JSON the page embeds
// (<script type="application/json" id="timeline-data">). Redrawn when htmx swaps in fresh
// numbers. Without JavaScript the page shows the same minutes as a table.
(function () {
  "use strict";
  var COLORS = {
    sent: "#0b5cad", delivered: "#1c6b34", opened: "#7a3fb0",
    clicked: "#c06a00", bounced: "#a11d1d", complained: "#3b3b3b"
  };
  var plot = null;

  function draw() {
    var holder = document.getElementById("chart");
    var source = document.getElementById("timeline-data");
    if (!holder || !source || typeof uPlot === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    if (plot) { plot.destroy(); plot = null; }
    if (!data.minutes.length) { return; }
    holder.textContent = "";
    var names = Object.keys(data.series);
    var series = [{}].concat(names.map(function (name) {
      return { label: name, stroke: COLORS[name] || "#000", width: 2, points: { show: false } };
    }));
    var columns = [data.minutes].concat(names.map(function (name) { return data.series[name]; }));
    var width = Math.max(300, holder.clientWidth);
    plot = new uPlot({
      width: width, height: width < 600 ? 240 : 320,
      series: series,
      axes: [{}, { label: "emails per minute" }],
      scales: { x: { time: true } }
    }, columns, holder);
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", draw);
  window.addEventListener("resize", function () {
    if (plot) {
      var holder = document.getElementById("chart");
      plot.setSize({ width: Math.max(300, holder.clientWidth), height: plot.height });
    }
  });
})();
