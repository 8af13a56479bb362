// nbw web UI: the live parts only. Every page works without this file; with it, the page of
// a running execution shows its cells as they run, from the execution's event stream
// (/executions/{id}/events, the API's server-sent events, authenticated by the session
// cookie). EventSource reconnects by itself and sends Last-Event-ID, so the stream resumes
// where it stopped. Notebook output is untrusted: text goes in with textContent, images only
// as data: URIs of the image types, HTML only inside a sandboxed srcdoc frame.
(function () {
  "use strict";
  var root = document.getElementById("execution");
  if (!root || root.getAttribute("data-live") !== "1" || !window.EventSource) { return; }
  var box = document.getElementById("live-cells");
  var status = document.getElementById("live-status");
  var cells = {};
  var IMAGES = { "image/png": 1, "image/jpeg": 1, "image/gif": 1 };

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function joined(value) { return Array.isArray(value) ? value.join("") : String(value || ""); }

  // ANSI colour codes are dropped from tracebacks: the rendered notebook shows them in colour.
  function plain(text) { return text.replace(/\u001b\[[0-9;]*[A-Za-z]/g, ""); }

  function cell(index) {
    var c = cells[index];
    if (c) { return c; }
    c = el("section", "live-cell nb-cell");
    c.setAttribute("data-cell", index);
    c.setAttribute("data-state", "running");
    var head = el("div", "small muted", "Cell " + (index + 1) + " ");
    c.meta = el("span", "nb-duration", "running…");
    head.appendChild(c.meta);
    c.out = el("div", "live-out");
    c.appendChild(head);
    c.appendChild(c.out);
    box.appendChild(c);
    cells[index] = c;
    return c;
  }

  function stream(c, name, text) {
    var last = c.out.lastChild;
    if (!last || last.getAttribute("data-stream") !== name) {
      last = el("pre", name === "stderr" ? "err" : "");
      last.setAttribute("data-stream", name);
      c.out.appendChild(last);
    }
    last.textContent += text;
  }

  function rich(c, data) {
    var type;
    for (type in IMAGES) {
      if (data[type]) {
        var img = el("img", "nb-image");
        img.src = "data:" + type + ";base64," + joined(data[type]).replace(/\s/g, "");
        c.out.appendChild(img);
        return;
      }
    }
    if (data["image/svg+xml"]) {
      var svg = el("img", "nb-image");
      svg.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(joined(data["image/svg+xml"]));
      c.out.appendChild(svg);
    } else if (data["text/html"]) {
      var frame = el("iframe", "nb-output nb-html nb-frame-m");
      frame.setAttribute("sandbox", "");
      frame.setAttribute("referrerpolicy", "no-referrer");
      frame.srcdoc = joined(data["text/html"]);
      c.out.appendChild(frame);
    } else {
      var text = data["text/markdown"] || data["text/plain"] || data["application/json"];
      c.out.appendChild(el("pre", "", typeof text === "object" && !Array.isArray(text) ? JSON.stringify(text, null, 2) : joined(text)));
    }
  }

  function output(c, o) {
    if (o.output_type === "stream") { stream(c, o.name, joined(o.text)); }
    else if (o.output_type === "error") { c.out.appendChild(el("pre", "err", plain(joined(o.traceback) || o.ename + ": " + o.evalue))); }
    else if (o.data) { rich(c, o.data); }
  }

  function on(kind, handle) {
    events.addEventListener(kind, function (message) {
      var event;
      try { event = JSON.parse(message.data); } catch (e) { return; }
      handle(event.payload || event);
    });
  }

  var events = new EventSource(root.getAttribute("data-events"));
  on("run_start", function (p) { status.textContent = "Running " + p.code_cells + " code cells…"; });
  on("cell_start", function (p) { cell(p.cell); });
  on("output", function (p) { output(cell(p.cell), p.output || {}); });
  on("clear_output", function (p) { cell(p.cell).out.textContent = ""; });
  on("cell_end", function (p) {
    var c = cell(p.cell);
    c.setAttribute("data-state", p.status === "ok" ? "ok" : "error");
    c.meta.textContent = p.status + " in " + (p.duration_ms / 1000).toFixed(2) + " s";
  });
  events.addEventListener("end", function (message) {
    events.close();
    var state = "";
    try { state = JSON.parse(message.data).state; } catch (e) { state = "over"; }
    root.setAttribute("data-state", state);
    status.textContent = "Finished: " + state + ". Loading the output notebook…";
    setTimeout(function () { window.location.reload(); }, 700);
  });
}());
