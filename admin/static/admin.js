// plughost admin: progressive enhancement only (every page works without this file).
// Elements with data-sse="URL" receive Server-Sent Events; the page's handler updates the DOM.
"use strict";

function liveStatus(on) {
  document.querySelectorAll("[data-live-status]").forEach(function (el) {
    el.textContent = on ? "live" : "reconnecting…";
    el.classList.toggle("on", on);
  });
}

function text(tag, value, cls) {
  var el = document.createElement(tag);
  el.textContent = value; // never innerHTML: everything shown is data
  if (cls) el.className = cls;
  return el;
}

function eventsTable(table) {
  var topic = table.dataset.topic || "";
  var source = new EventSource(table.dataset.sse);
  source.onopen = function () { liveStatus(true); };
  source.onerror = function () { liveStatus(false); };
  source.addEventListener("bus", function (msg) {
    var e = JSON.parse(msg.data);
    if (topic && e.topic.indexOf(topic) < 0) return;
    var body = table.tBodies[0];
    var empty = body.querySelector("tr.empty");
    if (empty) empty.remove();
    var row = document.createElement("tr");
    row.appendChild(text("td", String(e.id)));
    row.appendChild(text("td", e.at));
    var t = document.createElement("td"); t.appendChild(text("code", e.topic)); row.appendChild(t);
    var p = document.createElement("td"); p.appendChild(text("code", e.payload)); row.appendChild(p);
    row.appendChild(text("td", e.tenant));
    row.appendChild(text("td", e.request_id, "muted"));
    body.insertBefore(row, body.firstChild);
    while (body.rows.length > 200) body.deleteRow(body.rows.length - 1);
  });
}

function chartPoints(svg, rates) {
  var w = Number(svg.getAttribute("width")), h = Number(svg.getAttribute("height"));
  var max = Math.max.apply(null, rates.concat([1]));
  var n = Math.max(rates.length - 1, 1);
  return rates.map(function (r, i) {
    return (i * (w - 10) / n + 5).toFixed(1) + "," + (h - 15 - r / max * (h - 25)).toFixed(1);
  }).join(" ");
}

function jobLive(root) {
  var source = new EventSource(root.dataset.sse);
  var svg0 = root.querySelector("svg.chart");
  var rates = svg0 && svg0.dataset.rates ? JSON.parse(svg0.dataset.rates) : [];
  source.onopen = function () { liveStatus(true); };
  source.onerror = function () { liveStatus(false); };
  source.addEventListener("job", function (msg) {
    var j = JSON.parse(msg.data);
    root.querySelectorAll("[data-field]").forEach(function (el) {
      var v = j[el.dataset.field];
      if (v === undefined || v === null) return;
      if (el.tagName === "PROGRESS") { el.value = v; el.textContent = v + "%"; }
      else el.textContent = String(v);
    });
    root.querySelectorAll("[data-state-badge]").forEach(function (el) {
      el.textContent = j.state; el.className = "badge " + j.state;
    });
    root.querySelectorAll("[data-when-state]").forEach(function (el) {
      var states = el.dataset.whenState.split(" ");
      el.hidden = states.indexOf(j.state) < 0;
    });
    var svg = root.querySelector("svg.chart");
    if (svg && typeof j.rate === "number") {
      rates.push(j.rate);
      if (rates.length > 60) rates.shift();
      var line = svg.querySelector("polyline");
      if (line) line.setAttribute("points", chartPoints(svg, rates.length > 1 ? rates : rates.concat(rates)));
      var label = svg.querySelector("text.max");
      if (label) label.textContent = "peak " + Math.max.apply(null, rates).toFixed(1) + " items/s";
      var below = svg.querySelector("text.label");
      if (below) below.textContent = "items/s, then live samples every 0.5 s";
    }
    if (j.final) { source.close(); liveStatus(false); root.querySelectorAll("[data-live-status]").forEach(function (el) { el.textContent = "finished"; }); }
  });
}

function jobsTable(table) {
  var source = new EventSource(table.dataset.sse);
  source.onopen = function () { liveStatus(true); };
  source.onerror = function () { liveStatus(false); };
  source.addEventListener("jobs", function (msg) {
    JSON.parse(msg.data).forEach(function (j) {
      var row = table.querySelector('tr[data-job="' + String(j.id).replace(/[^0-9A-Za-z_-]/g, "") + '"]');
      if (!row) {
        var notice = document.getElementById("jobs-new");
        if (notice) notice.hidden = false;
        return;
      }
      row.querySelectorAll("[data-field]").forEach(function (el) {
        var v = j[el.dataset.field];
        if (v === undefined || v === null) return;
        if (el.tagName === "PROGRESS") el.value = v; else el.textContent = String(v);
      });
      var badge = row.querySelector("[data-state-badge]");
      if (badge) { badge.textContent = j.state; badge.className = "badge " + j.state; }
    });
  });
}

document.addEventListener("DOMContentLoaded", function () {
  if (!window.EventSource) return;
  var events = document.querySelector("table#events[data-sse]");
  if (events) eventsTable(events);
  var job = document.querySelector("[data-job-live][data-sse]");
  if (job) jobLive(job);
  var jobs = document.querySelector("table#jobs[data-sse]");
  if (jobs) jobsTable(jobs);
});
