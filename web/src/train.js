// The live training page: settings, Play / Pause / Step / Reset, the loss curve, the decision
// boundary, one neuron's graph and the table of weights and gradients, updated every step.
// The training itself runs in the Python worker (client.js, mgl_site.training).
"use strict";

(function () {
  const $ = (sel) => document.querySelector(sel);
  const body = document.body;
  const RESOLUTION = 32; // decision boundary grid (drawn smoothed)
  // While playing, the boundary is redrawn at most every 250 ms, and never takes more than a
  // quarter of the time: its grid costs about as much as a few training steps.
  const BOUNDARY_EVERY_MS = 250;
  const CLASS_RGB = [[230, 119, 0], [29, 78, 216], [26, 127, 55]]; // orange, blue, green

  let run = null; // what train_reset described: X, y, classes, bounds, ...
  let history = []; // [step, loss, accuracy]
  let playing = false;
  let looping = null; // the promise of the running play loop
  let lastBoundary = 0;
  let boundaryCost = 0; // ms the last grid added to its step
  let plainStep = 0; // ms of the last step without a grid
  let point = null;
  let rows = []; // the weights table's cells

  function setStatus(text, kind) {
    const s = $("#status");
    s.textContent = text;
    s.className = "status" + (kind ? " " + kind : "");
  }

  function showError(text) {
    const box = $("#train-error");
    box.hidden = !text;
    box.textContent = text || "";
  }

  const worker = new PythonWorker((kind, detail) => {
    if (kind === "ready") {
      setStatus(`Python ready in ${detail.seconds.toFixed(1)} s`, "ok");
      body.dataset.bootSeconds = detail.seconds.toFixed(2);
    } else if (kind === "failed") {
      setStatus("Python failed to start", "error");
      showError(`Python could not start: ${detail.error}`);
    } else if (kind === "loading") {
      setStatus("Starting Python…");
    } else if (kind === "restarting") {
      // Python crashed: start over with a fresh one and the same settings
      showError(`Python crashed and was restarted: ${detail.error}`);
      playing = false;
      run = null;
      buttons();
      worker.ready.then(() => reset(true), () => {});
    }
  });

  // ------------------------------------------------------------------ talking to Python

  function options() {
    const form = new FormData($("#options"));
    const o = Object.fromEntries(form.entries());
    return {
      dataset: o.dataset, points: o.points, noise: o.noise, hidden: o.hidden,
      optimizer: o.optimizer, lr: o.lr, decay_steps: o.decay_steps, seed: o.seed,
    };
  }

  function target() {
    return Math.max(1, Number($("#steps").value) || 100);
  }

  function buttons() {
    const ready = run !== null;
    $("#reset").disabled = playing;
    $("#play").disabled = !ready;
    $("#step").disabled = !ready || playing;
    $("#play").textContent = playing ? "❚❚ Pause" : "▶ Play";
    body.dataset.state = playing ? "playing" : ready ? "paused" : "loading";
  }

  async function reset(keepError) {
    await pause();
    setStatus("Setting up…");
    await worker.ready.catch(() => {});
    const answer = await worker.call("train_reset", { options: options(), boundary: RESOLUTION });
    if (answer.error) {
      showError(answer.error);
      setStatus("Check the settings", "error");
      buttons();
      return;
    }
    if (keepError !== true) showError("");
    run = answer.run;
    history = [];
    point = answer.state.neuron.point;
    $("#model").textContent =
      `${run.model}, ${run.loss} loss${run.loss === "hinge" ? " + L2" : " + L2"}, ` +
      `${run.optimizer}, ${run.X.length} points`;
    const select = $("#neuron");
    select.textContent = "";
    for (let k = 0; k < run.width; k++) {
      select.add(new Option(`layers.0.neurons.${k}`, String(k)));
    }
    select.value = String(run.neuron);
    buildTable(run.names);
    show(answer.state);
    setStatus("Ready: press Play", "ok");
    buttons();
  }

  async function stepOnce(boundary) {
    const answer = await worker.call("train_step", {
      steps: 1, boundary: boundary ? RESOLUTION : 0, graph: true,
    });
    if (answer.error) {
      showError(answer.error);
      playing = false;
      return false;
    }
    show(answer);
    return true;
  }

  async function loop() {
    const started = performance.now();
    const from = Number(body.dataset.step);
    while (playing && Number(body.dataset.step) < target()) {
      const now = performance.now();
      const boundary = now - lastBoundary >= Math.max(BOUNDARY_EVERY_MS, 3 * boundaryCost);
      if (!(await stepOnce(boundary))) break;
    }
    const done = Number(body.dataset.step);
    if (done > from) {
      const seconds = (performance.now() - started) / 1000;
      body.dataset.playSeconds = seconds.toFixed(2);
      setStatus(`${done - from} steps in ${seconds.toFixed(1)} s`, "ok");
    }
    if (!body.dataset.boundaryStep || Number(body.dataset.boundaryStep) !== done) {
      // the last step's boundary, if the throttle skipped it
      const answer = await worker.call("train_step", { steps: 0, boundary: RESOLUTION, graph: false });
      if (!answer.error) show(answer);
    }
    playing = false;
    buttons();
  }

  function play() {
    if (playing) {
      pause();
      return;
    }
    if (Number(body.dataset.step) >= target()) {
      setStatus(`Step ${target()} reached: raise Steps or Reset`, "");
      return;
    }
    playing = true;
    setStatus("Training…");
    buttons();
    looping = loop();
  }

  async function pause() {
    playing = false;
    if (looping) await looping;
    looping = null;
    buttons();
  }

  // ------------------------------------------------------------------ showing a state

  const timings = []; // per step: [python ms, render ms], for the page's own measurements
  window.mglTimings = timings;

  function show(state) {
    if (state.timing) {
      timings.push([state.timing.python, state.timing.render, !!state.boundary]);
      if (state.boundary) boundaryCost = Math.max(0, state.timing.python - plainStep);
      else plainStep = state.timing.python;
    }
    body.dataset.step = state.step;
    body.dataset.accuracy = state.accuracy;
    $("#r-step").textContent = state.step;
    $("#r-loss").textContent = formatNumber(state.loss);
    $("#r-acc").textContent = typeof state.accuracy === "number"
      ? `${(100 * state.accuracy).toFixed(0)}%` : "—";
    $("#r-lr").textContent = formatNumber(state.lr);
    if (!history.length || history[history.length - 1][0] !== state.step) {
      history = history.filter((h) => h[0] < state.step);
      history.push([state.step, state.loss, state.accuracy]);
    }
    drawCurve();
    if (state.boundary) {
      lastBoundary = performance.now();
      body.dataset.boundaryStep = state.step;
      drawBoundary(state.boundary);
    }
    if (state.neuron) showNeuron(state.neuron);
    updateTable(state.weights);
  }

  function showNeuron(n) {
    showSvg($("#neuron-graph"), n, "No diagram");
    $("#neuron-graph").dataset.step = body.dataset.step;
    const [x, y] = n.point.map((c) => formatNumber(c, 3));
    const cls = run.classes === 3 ? `class ${n.predicted}` : `${n.predicted > 0 ? "+1" : "-1"}`;
    $("#neuron-info").textContent =
      `at (${x}, ${y}): a = ${formatNumber(n.activation)}, score ${formatNumber(n.score)} → ${cls}`;
  }

  function buildTable(names) {
    const tbody = $("#weights tbody");
    tbody.textContent = "";
    rows = names.map((name) => {
      const tr = tbody.insertRow();
      const cells = [tr.insertCell(), tr.insertCell(), tr.insertCell()];
      cells[0].textContent = name;
      cells[1].className = cells[2].className = "num";
      return { tr, name, data: cells[1], grad: cells[2] };
    });
    markNeuron();
  }

  function updateTable(weights) {
    if (!weights) return;
    weights.forEach(([data, grad], i) => {
      rows[i].data.textContent = formatNumber(data);
      rows[i].grad.textContent = formatNumber(grad);
    });
  }

  function markNeuron() {
    const prefix = `layers.0.neurons.${$("#neuron").value}.`;
    for (const r of rows) r.tr.classList.toggle("chosen", r.name.startsWith(prefix));
  }

  // ------------------------------------------------------------------ drawing

  function drawCurve() {
    const canvas = $("#curve");
    const ctx = canvas.getContext("2d");
    const W = canvas.width, H = canvas.height, L = 44, R = 34, T = 10, B = 24;
    ctx.clearRect(0, 0, W, H);
    const last = Math.max(target(), history.length ? history[history.length - 1][0] : 1);
    const losses = history.map((h) => h[1]).filter((v) => typeof v === "number");
    const top = Math.max(1e-9, ...losses) * 1.05;
    const x = (s) => L + ((W - L - R) * s) / last;
    ctx.strokeStyle = "#d0d7de";
    ctx.fillStyle = "#57606a";
    ctx.font = "11px system-ui, sans-serif";
    ctx.strokeRect(L, T, W - L - R, H - T - B);
    ctx.textAlign = "right";
    ctx.fillText(formatNumber(top, 2), L - 4, T + 9);
    ctx.fillText("0", L - 4, H - B);
    ctx.textAlign = "left";
    ctx.fillText("1", W - R + 4, T + 9);
    ctx.fillText("0", W - R + 4, H - B);
    ctx.textAlign = "center";
    ctx.fillText(`step ${last}`, W - R - 20, H - 8);
    ctx.fillText("0", L, H - 8);
    const line = (index, scale, colour) => {
      ctx.beginPath();
      ctx.strokeStyle = colour;
      ctx.lineWidth = 2;
      let started = false;
      for (const h of history) {
        const v = h[index];
        if (typeof v !== "number") continue;
        const y = H - B - ((H - T - B) * v) / scale;
        if (started) ctx.lineTo(x(h[0]), y); else ctx.moveTo(x(h[0]), y);
        started = true;
      }
      ctx.stroke();
    };
    line(1, top, "#7c3aed");
    line(2, 1, "#1a7f37");
  }

  function toCanvas(canvas, px, py) {
    const [[x0, x1], [y0, y1]] = run.bounds;
    return [((px - x0) / (x1 - x0)) * canvas.width, ((y1 - py) / (y1 - y0)) * canvas.height];
  }

  let lastGrid = null;

  function drawBoundary(grid) {
    lastGrid = grid || lastGrid;
    const canvas = $("#boundary");
    const ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    if (lastGrid) {
      const n = lastGrid.resolution;
      const small = new OffscreenCanvas(n, n);
      const sctx = small.getContext("2d");
      const image = sctx.createImageData(n, n);
      for (let j = 0; j < n; j++) {
        for (let i = 0; i < n; i++) {
          const cell = lastGrid.cells[j * n + i];
          let rgb, strength;
          if (run.classes === 3) {
            rgb = CLASS_RGB[cell[0]];
            strength = Math.min(1, Math.abs(cell[1]));
          } else {
            const s = typeof cell === "number" ? cell : 0;
            rgb = CLASS_RGB[s > 0 ? 1 : 0];
            strength = Math.min(1, Math.abs(Math.tanh(s)));
          }
          const a = 0.18 + 0.5 * strength; // mix with white
          const k = ((n - 1 - j) * n + i) * 4; // rows run bottom to top
          image.data[k] = Math.round(255 + (rgb[0] - 255) * a);
          image.data[k + 1] = Math.round(255 + (rgb[1] - 255) * a);
          image.data[k + 2] = Math.round(255 + (rgb[2] - 255) * a);
          image.data[k + 3] = 255;
        }
      }
      sctx.putImageData(image, 0, 0);
      ctx.imageSmoothingEnabled = true;
      ctx.imageSmoothingQuality = "high";
      ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
    }
    run.X.forEach((p, i) => {
      const [cx, cy] = toCanvas(canvas, p[0], p[1]);
      const label = run.y[i];
      const rgb = CLASS_RGB[run.classes === 3 ? label : label > 0 ? 1 : 0];
      ctx.beginPath();
      ctx.arc(cx, cy, 4.5, 0, 2 * Math.PI);
      ctx.fillStyle = `rgb(${rgb.join(",")})`;
      ctx.fill();
      ctx.lineWidth = 1;
      ctx.strokeStyle = "#1f2328";
      ctx.stroke();
    });
    if (point) {
      const [cx, cy] = toCanvas(canvas, point[0], point[1]);
      ctx.beginPath();
      ctx.arc(cx, cy, 9, 0, 2 * Math.PI);
      ctx.lineWidth = 3;
      ctx.strokeStyle = "#7c3aed";
      ctx.stroke();
    }
  }

  // ------------------------------------------------------------------ events

  $("#boundary").addEventListener("click", async (e) => {
    if (!run) return;
    const canvas = e.currentTarget;
    const box = canvas.getBoundingClientRect();
    const fx = (e.clientX - box.left) / box.width;
    const fy = (e.clientY - box.top) / box.height;
    const [[x0, x1], [y0, y1]] = run.bounds;
    point = [x0 + fx * (x1 - x0), y1 - fy * (y1 - y0)];
    drawBoundary(null);
    const answer = await worker.call("train_select", { point });
    if (answer.error) showError(answer.error); else showNeuron(answer.neuron);
  });

  $("#neuron").addEventListener("change", async (e) => {
    markNeuron();
    const answer = await worker.call("train_select", { neuron: Number(e.target.value) });
    if (answer.error) showError(answer.error); else showNeuron(answer.neuron);
  });

  $("#optimizer").addEventListener("change", (e) => {
    // each optimizer's usual rate for this demo
    $("#lr").value = { sgd: "1.0", momentum: "0.1", adam: "0.05" }[e.target.value];
  });
  $("#options").addEventListener("submit", (e) => { e.preventDefault(); reset(); });
  $("#reset").addEventListener("click", reset);
  $("#play").addEventListener("click", play);
  $("#step").addEventListener("click", async () => {
    $("#step").disabled = true;
    await stepOnce(true);
    buttons();
  });

  reset();
})();
