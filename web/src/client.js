// The pages' side of the Python worker: start it, send requests, stop runaway code.
//
// Stop first tries Pyodide's interrupt (a KeyboardInterrupt raised inside the running code),
// which needs a SharedArrayBuffer and so a cross-origin isolated page (`make serve` sends the
// two headers for that). Where the page is not isolated (any other static server), or the
// code does not react within a second, Stop ends the worker and starts a fresh one.
"use strict";

class PythonWorker {
  // onEvent(kind, detail): "loading", "ready" {seconds, versions, phases}, "failed" {error},
  // "stdout" {text}, "restarting" {why: "stopped" or "crashed", error}
  constructor(onEvent) {
    this.onEvent = onEvent;
    this.nextId = 1;
    this.pending = new Map(); // id -> {resolve, reject}
    this.interrupt = null;
    this.start();
  }

  start() {
    this.onEvent("loading", {});
    this.worker = new Worker("worker.js");
    if (self.crossOriginIsolated && typeof SharedArrayBuffer === "function") {
      this.interrupt = new Int32Array(new SharedArrayBuffer(4));
      this.worker.postMessage({ interrupt: this.interrupt });
    }
    this.ready = new Promise((resolve, reject) => {
      this.worker.onmessage = (event) => {
        const msg = event.data;
        if (msg.type === "ready") {
          this.onEvent("ready", msg);
          resolve(msg);
        } else if (msg.type === "failed") {
          this.onEvent("failed", msg);
          reject(new Error(msg.error));
        } else if (msg.type === "stdout") {
          this.onEvent("stdout", msg);
        } else if (msg.type === "reply") {
          const call = this.pending.get(msg.id);
          this.pending.delete(msg.id);
          if (msg.answer.fatal) this.restart("crashed", msg.answer.error);
          if (call) call.resolve(msg.answer);
        }
      };
      this.worker.onerror = (event) => {
        const error = event.message || "the Python worker failed to start";
        this.onEvent("failed", { error });
        reject(new Error(error));
        this.failAll(error);
      };
    });
    this.ready.catch(() => {});
  }

  get busy() {
    return this.pending.size > 0;
  }

  // Send a request; resolves with the handler's answer (an object; {error} on failure).
  call(name, args) {
    const id = this.nextId++;
    let resolve;
    const answer = new Promise((r) => { resolve = r; });
    this.pending.set(id, { resolve, answer });
    if (this.interrupt) Atomics.store(this.interrupt, 0, 0);
    this.worker.postMessage({ id, name, args });
    return answer;
  }

  failAll(error) {
    for (const call of this.pending.values()) call.resolve({ error, stopped: true });
    this.pending.clear();
  }

  // Stop the running request. Resolves with "interrupted" (Python raised KeyboardInterrupt
  // and the worker lives on) or "restarted" (the worker was replaced by a fresh one).
  async stop() {
    if (!this.busy) return "idle";
    if (this.interrupt) {
      Atomics.store(this.interrupt, 0, 2); // SIGINT: KeyboardInterrupt in the running code
      const answers = [...this.pending.values()].map((c) => c.answer);
      const ended = await Promise.race([
        Promise.all(answers).then(() => true),
        new Promise((r) => setTimeout(() => r(false), 1000)),
      ]);
      if (ended) return "interrupted";
    }
    this.restart("stopped", "KeyboardInterrupt: stopped by the Stop button (Python was restarted)");
    return "restarted";
  }

  // Replace the worker by a fresh one; requests still waiting get {error, stopped: true}.
  restart(why, error) {
    this.worker.terminate();
    this.failAll(error);
    this.onEvent("restarting", { why, error });
    this.start();
  }
}

// Numbers as the pages show them: 4 significant digits, nan/inf spelled out, a dash for none.
function formatNumber(x, digits = 4) {
  if (x === null || x === undefined) return "—";
  if (typeof x === "string") return x; // "nan", "inf", "-inf" from Python
  if (x === 0) return "0";
  const a = Math.abs(x);
  if (a >= 1e-3 && a < 1e5) return String(Number(x.toPrecision(digits)));
  return x.toExponential(digits - 1);
}

// Put an <svg> rendered by viz.js into a container (or a message where there is none).
function showSvg(container, answer, emptyText) {
  container.textContent = "";
  if (answer && answer.svg) {
    container.innerHTML = answer.svg;
    const svg = container.querySelector("svg");
    if (svg) svg.removeAttribute("height");
  } else {
    const p = document.createElement("p");
    p.className = "muted";
    p.textContent = (answer && (answer.svgError || answer.error)) || emptyText;
    container.appendChild(p);
  }
}
