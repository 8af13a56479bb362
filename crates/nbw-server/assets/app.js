// nbw web UI: the live parts only. Every page works without this file; with it, the page of
// a running execution shows its cells as they run, from the execution's event stream
// (/executions/{id}/events, the API's server-sent events, authenticated by the session
// cookie), and the page of a running pipeline run recolours its steps from the run's step
// stream (/pipeline-runs/{id}/events). EventSource reconnects by itself and sends
// Last-Event-ID, so a stream resumes where it stopped. Notebook output is untrusted: text goes
// in with textContent, images only as data: URIs of the image types, HTML only inside a
// sandboxed srcdoc frame.

// Notebook HTML output frames fit their content: each frame's own script (frame.js, the only
// one it may run) posts its height. Only a message from one of those frames' windows, from an
// opaque origin, sizes that frame; a taller one scrolls.
(function () {
  "use strict";
  var MAX = 2400;
  window.addEventListener("message", function (event) {
    var height = event.data && event.data.nbwFrameHeight;
    if (event.origin !== "null" || typeof height !== "number" || !(height >= 0)) { return; }
    var frames = document.querySelectorAll("iframe.nb-html");
    for (var i = 0; i < frames.length; i++) {
      if (frames[i].contentWindow === event.source) {
        frames[i].style.height = Math.min(Math.max(height, 24), MAX) + "px";
        frames[i].setAttribute("data-fitted", "1");
        return;
      }
    }
  });
}());

// A pipeline run: each `step` event is a step as the API shows it; its box in the graph and
// its row in the table take its state and, once it has one, a link to its execution.
(function () {
  "use strict";
  var root = document.getElementById("pipeline-run");
  if (!root || root.getAttribute("data-live") !== "1" || !window.EventSource) { return; }
  var badge = document.getElementById("run-state");

  function find(selector, name) {
    var all = document.querySelectorAll(selector);
    for (var i = 0; i < all.length; i++) {
      if (all[i].getAttribute("data-step") === name) { return all[i]; }
    }
    return null;
  }

  function show(step) {
    // A step that has started means the run has too (the page may have loaded while queued).
    var started = { running: 1, succeeded: 1, failed: 1 };
    if (badge.textContent === "queued" && started[step.state]) {
      badge.className = "badge state-running";
      badge.textContent = "running";
    }
    var box = find("#run-dag g.step", step.name);
    if (box) {
      box.setAttribute("data-state", step.state);
      var detail = box.querySelector("text.detail");
      if (detail) { detail.textContent = step.state; }
      if (step.execution_id) { box.querySelector("a").setAttribute("href", "/executions/" + step.execution_id); }
    }
    var row = find("#step-runs tr.step-run", step.name);
    if (row) {
      row.setAttribute("data-state", step.state);
      var cellBadge = row.querySelector(".badge");
      cellBadge.className = "badge state-" + step.state;
      cellBadge.textContent = step.state;
      if (step.execution_id) {
        var link = document.createElement("a");
        link.href = "/executions/" + step.execution_id;
        link.textContent = step.execution_id;
        var cell = row.querySelector("td.execution");
        cell.textContent = "";
        cell.appendChild(link);
      }
      if (step.started_at && step.finished_at) {
        var ms = Date.parse(step.finished_at) - Date.parse(step.started_at);
        row.querySelector("td.duration").textContent = ms < 1000 ? ms + " ms" : (ms / 1000).toFixed(1) + " s";
      }
    }
  }

  var events = new EventSource(root.getAttribute("data-events"));
  events.addEventListener("step", function (message) {
    try { show(JSON.parse(message.data)); } catch (e) { /* a malformed event changes nothing */ }
  });
  events.addEventListener("run_end", function (message) {
    events.close();
    var run = {};
    try { run = JSON.parse(message.data); } catch (e) { run = { state: "over", steps: [] }; }
    (run.steps || []).forEach(show);
    root.setAttribute("data-state", run.state);
    badge.className = "badge state-" + run.state;
    badge.textContent = run.state;
    // The page's buttons depend on the end state (re-run appears): load it once more.
    setTimeout(function () { window.location.reload(); }, 1500);
  });
}());

// A running execution: its cells as they run.
(function () {
  "use strict";
  var root = document.getElementById("execution");
  if (!root || root.getAttribute("data-live") !== "1" || !window.EventSource) { return; }
  var box = document.getElementById("live-cells");
  var status = document.getElementById("live-status");
  var cells = {};
  var IMAGES = { "image/png": 1, "image/jpeg": 1, "image/gif": 1 };
  var FRAME_JS = root.getAttribute("data-frame-js");

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function joined(value) { return Array.isArray(value) ? value.join("") : String(value || ""); }

  // ANSI colour codes are dropped from tracebacks: the rendered notebook shows them in colour.
  function plain(text) { return text.replace(/\u001b\[[0-9;]*[A-Za-z]/g, ""); }

  // Numbered as the finished notebook numbers them: In [n], n counting the code cells sent to
  // the kernel, the injected parameters cell included (the event's ordinal).
  function cell(index, ordinal) {
    var c = cells[index];
    if (c) { return c; }
    c = el("section", "live-cell nb-cell");
    c.setAttribute("data-cell", index);
    c.setAttribute("data-state", "running");
    var head = el("div", "small muted");
    c.prompt = el("span", "nb-prompt-live", "In [" + (ordinal || " ") + "]: ");
    head.appendChild(c.prompt);
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
      // As in the finished notebook: scripts run only under the page's CSP, so the one that
      // runs is nbw's frame.js, which reports the height.
      frame.setAttribute("sandbox", "allow-scripts");
      frame.setAttribute("referrerpolicy", "no-referrer");
      frame.srcdoc = (FRAME_JS ? "<script src=\"" + FRAME_JS + "\"></script>" : "") + joined(data["text/html"]);
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
  on("cell_start", function (p) {
    var c = cell(p.cell, p.ordinal);
    if (p.ordinal) { c.prompt.textContent = "In [" + p.ordinal + "]: "; }
  });
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
