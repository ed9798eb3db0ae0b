// fuel-code console: the only script of the pages (no inline script: the CSP forbids it).
// Draws the overview chart with uPlot and wires the "select all" box of the dead-letter list.
(function () {
  'use strict';

  function drawChart() {
    var holder = document.getElementById('events-chart');
    var source = document.getElementById('events-per-minute');
    if (!holder || !source || typeof window.uPlot !== 'function') return;
    var data = JSON.parse(source.textContent || '{"x":[],"y":[]}');
    var width = Math.max(320, Math.min(holder.clientWidth || 900, 1100));
    var opts = {
      width: width,
      height: 220,
      scales: { x: { time: true } },
      axes: [{}, { label: 'events / min' }],
      series: [{}, { label: 'stored', stroke: '#1f5fa8', fill: 'rgba(31,95,168,0.15)', width: 2 }],
      legend: { live: true },
    };
    holder.textContent = '';
    new window.uPlot(opts, [data.x, data.y], holder);
    holder.setAttribute('data-drawn', 'true');
  }

  function wireSelectAll() {
    var all = document.querySelector('[data-select-all]');
    if (!all) return;
    all.addEventListener('change', function () {
      var boxes = document.querySelectorAll('input[type=checkbox][name=ids]');
      for (var i = 0; i < boxes.length; i++) boxes[i].checked = all.checked;
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    drawChart();
    wireSelectAll();
  });
})();
