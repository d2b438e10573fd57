// fundguard web: CSRF header for HTMX requests, and ECharts set-up for the dashboard.
(function () {
  "use strict";

  document.addEventListener("htmx:configRequest", function (e) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) { e.detail.headers["X-CSRF-Token"] = meta.getAttribute("content"); }
  });

  // "select all" on the findings page (the table may be swapped in by HTMX, so listen on the document).
  document.addEventListener("change", function (e) {
    if (e.target && e.target.id === "check-all") {
      document.querySelectorAll('#findings input[name="finding_id"]').forEach(function (c) { c.checked = e.target.checked; });
    }
  });

  var FONT = '"Noto Sans CJK SC", "Noto Sans SC", "Microsoft YaHei", sans-serif';
  var COLORS = ["#1f4e8c", "#c0392b", "#d68910", "#148f77", "#7d3c98"];

  function option(kind, d) {
    var base = { animation: false, color: COLORS, textStyle: { fontFamily: FONT }, tooltip: { trigger: "axis" },
      grid: { left: 10, right: 20, top: 36, bottom: 10, containLabel: true } };
    if (kind === "hbar") {
      base.xAxis = { type: "value" };
      base.yAxis = { type: "category", data: d.y, axisLabel: { width: 160, overflow: "truncate" } };
      base.series = [{ type: "bar", name: d.name, data: d.data }];
      return base;
    }
    base.legend = { top: 0 };
    base.xAxis = { type: "category", data: d.x };
    if (kind === "bar" && d.series.length === 2) {
      base.yAxis = [{ type: "value", name: d.series[0].name }, { type: "value", name: d.series[1].name }];
      base.series = [{ type: "bar", name: d.series[0].name, data: d.series[0].data },
                     { type: "line", name: d.series[1].name, yAxisIndex: 1, data: d.series[1].data }];
    } else {
      base.yAxis = { type: "value" };
      base.series = d.series.map(function (s) { return { type: kind === "bar" ? "bar" : "line", name: s.name, data: s.data }; });
    }
    return base;
  }

  function initCharts() {
    var holder = document.getElementById("chart-data");
    if (!holder || typeof echarts === "undefined") { window.__chartReady = true; return; }
    var data = JSON.parse(holder.textContent);
    var nodes = document.querySelectorAll("[data-chart]");
    var pending = nodes.length;
    if (!pending) { window.__chartReady = true; return; }
    nodes.forEach(function (el) {
      var chart = echarts.init(el, null, { renderer: "canvas" });
      chart.on("finished", function once() {
        chart.off("finished", once);
        pending -= 1;
        if (pending === 0) { window.__chartReady = true; }
      });
      chart.setOption(option(el.dataset.chart, data[el.dataset.key]));
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }

  window.__chartReady = false;
  // Deferred scripts run before DOMContentLoaded, in document order, so echarts is loaded by then.
  document.addEventListener("DOMContentLoaded", initCharts);
})();
