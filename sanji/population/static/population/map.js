// The population map (人口分布图): ECharts over the platform's own vector layers, no tile server.
// Loaded as a file (the CSP forbids inline scripts); the data comes from the page's JSON block.
(function () {
  "use strict";

  function start() {
    var el = document.getElementById("pop-map");
    var source = document.getElementById("pop-map-data");
    if (!el || !source || !window.echarts) {
      return;
    }
    var data = JSON.parse(source.textContent);
    var enc = window.echarts.format.encodeHTML;
    var byCode = {};
    data.areas.forEach(function (a) {
      byCode[a.name] = a;
    });
    window.echarts.registerMap("sanji-layer", data.geojson);
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    var max = 1;
    data.areas.forEach(function (a) {
      max = Math.max(max, a.value);
    });
    var labels = el.dataset;
    chart.setOption({
      animation: false,
      tooltip: {
        trigger: "item",
        formatter: function (p) {
          if (p.seriesType === "scatter") {
            return enc(p.data.label) + "<br>" + enc(labels.residents) + ": " + p.data.value[2];
          }
          var a = byCode[p.name];
          if (!a) {
            return "";
          }
          return (
            enc(a.label) + "<br>" + enc(labels.residents) + ": " + a.residents +
            "<br>" + enc(labels.density) + ": " + Math.round(a.value)
          );
        },
      },
      visualMap: {
        type: "continuous",
        min: 0,
        max: max,
        seriesIndex: 0,
        calculable: true,
        left: 10,
        bottom: 10,
        text: [labels.high, labels.low],
        inRange: { color: ["#eef5fb", "#9ecae1", "#4292c6", "#08519c", "#08306b"] },
      },
      geo: {
        map: "sanji-layer",
        roam: true,
        selectedMode: false,
        itemStyle: { borderColor: "#5a6b7b", borderWidth: 0.6 },
        emphasis: { label: { show: false }, itemStyle: { areaColor: "#fdd49e" } },
        regions: data.selected ? [{ name: data.selected, itemStyle: { borderColor: "#d94801", borderWidth: 2 } }] : [],
      },
      series: [
        {
          type: "map",
          geoIndex: 0,
          data: data.areas.map(function (a) {
            return { name: a.name, value: a.value };
          }),
        },
        {
          type: "scatter",
          coordinateSystem: "geo",
          symbolSize: function (v) {
            return Math.min(14, 4 + Math.sqrt(v[2]));
          },
          itemStyle: { color: "#d94801" },
          data: data.points.map(function (p) {
            return { id: p.id, label: p.label, value: p.value };
          }),
        },
      ],
    });

    function load(url) {
      if (window.htmx) {
        window.htmx.ajax("GET", url, { target: "#pop-panel", swap: "innerHTML" });
      } else {
        window.location.assign(url);
      }
    }

    chart.on("click", function (p) {
      if (p.seriesType === "scatter" && p.data) {
        var panel = document.getElementById("pop-residents") ? "#pop-residents" : "#pop-panel";
        var url = data.urls.building.replace("/0/", "/" + p.data.id + "/");
        if (window.htmx) {
          window.htmx.ajax("GET", url, { target: panel, swap: "innerHTML" });
        } else {
          window.location.assign(url);
        }
        return;
      }
      var a = byCode[p.name];
      if (!a) {
        return;
      }
      if (a.kind === "grid") {
        load(data.urls.grid.replace("/0/", "/" + a.grid + "/"));
      } else {
        window.location.assign(data.urls.region + encodeURIComponent(a.name));
      }
    });
    window.addEventListener("resize", function () {
      chart.resize();
    });
    el.classList.add("pop-ready");
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
