// The playground page: an editor, Run / Stop / Share, the output, the diagram of the value the
// code ends with, a stepper through its forward and backward passes, and gradient checks.
// Python runs in the worker (client.js); this file only drives the page.
"use strict";

(function () {
  const $ = (sel) => document.querySelector(sel);
  const body = document.body;
  const editor = $("#editor");
  const output = $("#output");
  const runButton = $("#run");
  const stopButton = $("#stop");
  const statusLine = $("#status");
  const diagram = $("#diagram");
  const stepperBox = $("#stepper");
  const opened = performance.now();
  let firstResult = null;
  let runToken = 0;

  // ------------------------------------------------------------------ status and output

  function setStatus(text, kind) {
    statusLine.textContent = text;
    statusLine.className = "status" + (kind ? " " + kind : "");
  }

  function addSpan(text, cls) {
    const span = document.createElement("span");
    if (cls) span.className = cls;
    span.textContent = text;
    output.appendChild(span);
    output.scrollTop = output.scrollHeight;
  }

  // What the code prints arrives as it prints it; the page shows it in batches (one update
  // every 30 ms at most), so a loop that prints a lot cannot flood the page.
  let printedText = "";
  let printTimer = null;
  function flushPrinted() {
    if (printTimer !== null) clearTimeout(printTimer);
    printTimer = null;
    if (printedText) addSpan(printedText);
    printedText = "";
  }
  function printed(text) {
    printedText += text;
    if (printTimer === null) printTimer = setTimeout(flushPrinted, 30);
  }

  function append(text, cls) {
    flushPrinted(); // what the code printed comes first
    addSpan(text, cls);
  }

  const worker = new PythonWorker((kind, detail) => {
    if (kind === "loading") {
      setStatus("Starting Python…");
      runButton.disabled = true;
    } else if (kind === "ready") {
      setStatus(`Python ${detail.versions.pyodide ? "(Pyodide " + detail.versions.pyodide + ")" : ""} ready in ${detail.seconds.toFixed(1)} s`, "ok");
      body.dataset.bootSeconds = detail.seconds.toFixed(2);
      body.dataset.bootPhases = JSON.stringify(detail.phases);
      runButton.disabled = false;
    } else if (kind === "failed") {
      setStatus("Python failed to start", "error");
      append(`Python could not start: ${detail.error}\n`, "err");
      body.dataset.status = "error";
    } else if (kind === "stdout") {
      printed(detail.text);
    } else if (kind === "restarting") {
      setStatus("Restarting Python…");
    }
  });

  // ------------------------------------------------------------------ running code

  async function run() {
    const code = editor.value;
    const token = ++runToken;
    stopPlaying();
    flushPrinted();
    output.textContent = "";
    body.dataset.status = "running";
    runButton.disabled = true;
    stopButton.disabled = false;
    setStatus("Running…");
    await worker.ready.catch(() => {});
    const answer = await worker.call("run", { code });
    if (token !== runToken) return;
    stopButton.disabled = true;
    runButton.disabled = false;
    if (answer.error !== undefined && answer.status === undefined) {
      // stopped, or a failure outside the snippet itself
      if (answer.fatal) {
        append(
          `Python crashed: ${answer.error}.\nIt was restarted; run the code again. (A graph ` +
          "thousands of ops deep can exhaust the browser's stack when it is freed.)\n",
          "err",
        );
      } else {
        append(answer.error + "\n", "err");
      }
      finish("error", answer.stopped ? "Stopped" : answer.fatal ? "Python crashed" : "Error");
      return;
    }
    if (answer.status === "error") {
      append(answer.error + "\n", "err");
      finish("error", "Error (see the traceback)");
      return;
    }
    if (answer.result !== null) append(`Out: ${answer.result}\n`, "out");
    showChecks(answer.checks);
    await showDiagram(answer);
    if (token !== runToken) return;
    await startStepper(answer.stepper);
    if (token !== runToken) return;
    finish("ok", `Done in ${answer.seconds.toFixed(2)} s`);
  }

  function finish(status, text) {
    flushPrinted(); // everything printed is on the page before the status says done
    if (firstResult === null) {
      firstResult = (performance.now() - opened) / 1000;
      body.dataset.firstResult = firstResult.toFixed(2);
    }
    setStatus(text, status);
    body.dataset.status = status;
  }

  async function stop() {
    stopButton.disabled = true;
    setStatus("Stopping…");
    const how = await worker.stop();
    if (how === "restarted") {
      append("(Python was restarted: the code did not react to the interrupt.)\n", "note");
    }
  }

  function showChecks(checks) {
    const box = $("#checks");
    box.textContent = "";
    for (const check of checks) {
      const h = document.createElement("h2");
      h.textContent = `Gradient check: ${check.name}`;
      const div = document.createElement("div");
      div.className = "panel";
      div.innerHTML = check.html; // HTML made by the library, every cell escaped
      box.append(h, div);
    }
  }

  async function showDiagram(answer) {
    const info = $("#diagram-info");
    if (!answer.shown) {
      $("#diagram-title").textContent = "Diagram";
      showSvg(diagram, null, answer.why);
      info.textContent = "";
      return;
    }
    $("#diagram-title").textContent = `Diagram of ${answer.shown.name}`;
    const d = answer.diagram;
    showSvg(diagram, d, "No diagram");
    const n = answer.shown.values.toLocaleString("en");
    info.textContent = d.collapsed
      ? `${n} values: too many to draw one by one, so the graph is collapsed (groups of values by op and depth).`
      : d.error
        ? `${n} values: too large to draw.`
        : `${n} values. Hover a box for its full-precision numbers.`;
  }

  // ------------------------------------------------------------------ the stepper

  const stepper = {
    counts: null, mode: "backward", index: 0, cache: new Map(), timer: null, token: 0,
  };
  const q = (sel) => stepperBox.querySelector(sel);
  const slider = q('input[type="range"]');

  async function startStepper(info) {
    stepper.cache.clear();
    if (!info || info.error) {
      stepperBox.hidden = !info;
      if (info) {
        stepper.counts = null;
        q(".title").textContent = info.error;
        q(".graph").textContent = "";
        q(".equation").textContent = "";
        q(".counter").textContent = "";
        stepperBox.querySelectorAll("button, input").forEach((b) => { b.disabled = true; });
      }
      return;
    }
    stepperBox.querySelectorAll("button, input").forEach((b) => { b.disabled = false; });
    stepper.counts = info;
    stepper.mode = "backward";
    stepper.index = 0;
    stepperBox.hidden = false;
    await showFrame();
  }

  async function frame(mode, index) {
    const key = `${mode}:${index}`;
    if (!stepper.cache.has(key)) {
      stepper.cache.set(key, worker.call("frame", { mode, index }));
    }
    return stepper.cache.get(key);
  }

  async function showFrame() {
    const token = ++stepper.token;
    const { mode, index } = stepper;
    const last = stepper.counts[mode] - 1;
    q(".counter").textContent = `step ${index + 1} of ${last + 1}`;
    slider.max = last;
    slider.value = index;
    q('[data-pass="forward"]').setAttribute("aria-pressed", mode === "forward");
    q('[data-pass="backward"]').setAttribute("aria-pressed", mode === "backward");
    q('[data-go="first"]').disabled = q('[data-go="prev"]').disabled = index === 0;
    q('[data-go="last"]').disabled = q('[data-go="next"]').disabled = index === last;
    q('[data-go="play"]').textContent = stepper.timer ? "❚❚ Pause" : "▶ Play";
    const f = await frame(mode, index);
    if (token !== stepper.token) return;
    if (f.error) {
      q(".title").textContent = f.error;
      return;
    }
    q(".title").textContent = f.title;
    showSvg(q(".graph"), f, "No diagram for this step");
    q(".equation").textContent = f.equation;
    q(".note").textContent = f.note;
    stepperBox.dataset.mode = mode;
    stepperBox.dataset.index = index;
    stepperBox.dataset.node = f.node;
    // keep the next step ready, so stepping on is instant
    if (index < last) frame(mode, index + 1);
  }

  function go(i) {
    if (!stepper.counts) return;
    const last = stepper.counts[stepper.mode] - 1;
    stepper.index = Math.max(0, Math.min(last, i));
    return showFrame();
  }

  function stopPlaying() {
    clearInterval(stepper.timer);
    stepper.timer = null;
  }

  function play() {
    if (stepper.timer) {
      stopPlaying();
      showFrame();
      return;
    }
    if (stepper.index === stepper.counts[stepper.mode] - 1) stepper.index = 0;
    stepper.timer = setInterval(() => {
      if (stepper.index >= stepper.counts[stepper.mode] - 1) {
        stopPlaying();
        showFrame();
      } else {
        go(stepper.index + 1);
      }
    }, 900);
    showFrame();
  }

  function pass(mode) {
    stopPlaying();
    stepper.mode = mode;
    go(0);
  }

  const actions = {
    first: () => go(0),
    prev: () => go(stepper.index - 1),
    next: () => go(stepper.index + 1),
    last: () => go(stepper.counts[stepper.mode] - 1),
    play,
  };
  stepperBox.addEventListener("click", (e) => {
    const b = e.target.closest("button");
    if (!b) return;
    if (b.dataset.pass) pass(b.dataset.pass);
    if (b.dataset.go) {
      if (b.dataset.go !== "play") stopPlaying();
      actions[b.dataset.go]();
    }
  });
  slider.addEventListener("input", () => { stopPlaying(); go(Number(slider.value)); });
  stepperBox.addEventListener("keydown", (e) => {
    if (e.altKey || e.ctrlKey || e.metaKey || e.target === slider) return;
    const keys = {
      ArrowRight: actions.next, ArrowLeft: actions.prev, Home: actions.first,
      End: actions.last, " ": play, f: () => pass("forward"), b: () => pass("backward"),
    };
    const key = keys[e.key.length === 1 ? e.key.toLowerCase() : e.key];
    if (!key || (e.target.tagName === "BUTTON" && (e.key === " " || e.key === "Enter"))) return;
    e.preventDefault();
    if (key !== play) stopPlaying();
    key();
  });

  // ------------------------------------------------------------------ editor, examples, links

  editor.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      if (!runButton.disabled) run();
      return;
    }
    const { selectionStart: a, selectionEnd: b, value } = editor;
    if (e.key === "Tab") {
      e.preventDefault();
      const lineStart = value.lastIndexOf("\n", a - 1) + 1;
      if (a === b && !e.shiftKey) {
        editor.setRangeText("    ", a, b, "end");
        return;
      }
      // indent or dedent every selected line
      const block = value.slice(lineStart, b);
      const lines = block.split("\n");
      const changed = lines.map((l) => (e.shiftKey ? l.replace(/^ {1,4}/, "") : "    " + l));
      editor.setRangeText(changed.join("\n"), lineStart, b, "select");
    } else if (e.key === "Enter" && a === b) {
      // keep the indentation, one level more after a colon
      const lineStart = value.lastIndexOf("\n", a - 1) + 1;
      const line = value.slice(lineStart, a);
      let indent = line.match(/^ */)[0];
      if (/:\s*(#.*)?$/.test(line)) indent += "    ";
      e.preventDefault();
      editor.setRangeText("\n" + indent, a, b, "end");
    }
  });

  runButton.addEventListener("click", run);
  stopButton.addEventListener("click", stop);
  $("#zoom").addEventListener("click", (e) => {
    const full = e.target.getAttribute("aria-pressed") !== "true";
    e.target.setAttribute("aria-pressed", full);
    e.target.textContent = full ? "Fit width" : "100%";
    diagram.classList.toggle("full", full);
    q(".graph").classList.toggle("full", full);
  });

  async function loadExample(name) {
    const r = await fetch(`examples/${name}.py`);
    editor.value = r.ok ? await r.text() : `# could not load the example ${name}: HTTP ${r.status}\n`;
  }

  $("#example").addEventListener("change", async (e) => {
    await loadExample(e.target.value);
    history.replaceState(null, "", location.pathname + location.search);
    await worker.ready.catch(() => {});
    run();
  });

  $("#share").addEventListener("click", async () => {
    const url = location.href.split("#")[0] + "#code=" + encodeURIComponent(editor.value);
    history.replaceState(null, "", url);
    const note = $("#share-note");
    try {
      await navigator.clipboard.writeText(url);
      note.textContent = "Link copied.";
    } catch (err) {
      note.textContent = "The link is in the address bar.";
    }
    setTimeout(() => { note.textContent = ""; }, 4000);
  });

  // #code=<percent-encoded source> opens with that code and runs it
  function codeFromHash() {
    const hash = location.hash;
    if (!hash.startsWith("#code=")) return null;
    try {
      return decodeURIComponent(hash.slice("#code=".length));
    } catch (err) {
      return `# The link's code is not valid percent-encoding (${err.message}).\n`;
    }
  }

  async function openFromHash() {
    const code = codeFromHash();
    if (code === null) return false;
    editor.value = code;
    await worker.ready.catch(() => {});
    run();
    return true;
  }

  window.addEventListener("hashchange", openFromHash);
  (async () => {
    if (!(await openFromHash())) {
      await loadExample($("#example").value);
      await worker.ready.catch(() => {});
      if (!editor.value.startsWith("# could not")) run();
    }
  })();
})();
