// The Web Worker that runs Python: Pyodide with the micrograd_like wheel, and viz.js for the
// diagrams. The pages never run the engine on their own thread, so they never freeze.
//
// Messages in:  {id, name, args}    a request for mgl_site.api.call(name, args)
//               {interrupt: Int32Array over a SharedArrayBuffer}   (optional, see client.js)
// Messages out: {type: "ready", seconds, versions} once Python is up (or {type: "failed"})
//               {type: "stdout", text}   what the running code prints, as it prints it
//               {type: "reply", id, answer}   the handler's answer, with every "dot" field
//                                             rendered to an "svg" field beside it
"use strict";

importScripts("pyodide/pyodide.js", "vendor/viz/lib/viz-standalone.js");

const started = performance.now();
let api = null; // mgl_site.api.call
let viz = null;
let pyodide = null;
let PythonError = null; // kept apart: after a fatal error every use of pyodide.* throws

// What the running code prints goes to the page as it is printed: nothing is held back, so
// the last line printed before a long computation shows while it runs (the page batches its
// updates). Past OUTPUT_LIMIT characters a run's output is cut.
const OUTPUT_LIMIT = 200000;
let printed = 0;

function write(text) {
  if (printed >= OUTPUT_LIMIT) return;
  printed += text.length;
  if (printed >= OUTPUT_LIMIT) {
    text += `\n… output cut at ${OUTPUT_LIMIT.toLocaleString("en")} characters\n`;
  }
  postMessage({ type: "stdout", text });
}

async function fetchOk(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`could not load ${url}: HTTP ${r.status}`);
  return r;
}

const phases = {}; // seconds each part of the start took, for the page to report
function phase(name, since) {
  phases[name] = (performance.now() - since) / 1000;
  return performance.now();
}

async function boot() {
  let t = performance.now();
  const manifest = await (await fetchOk("manifest.json")).json();
  const here = new URL(".", self.location.href).href;
  pyodide = await loadPyodide({ indexURL: here + "pyodide/", fullStdLib: false });
  t = phase("pyodide", t);
  const sitePackages = pyodide.runPython("import sysconfig; sysconfig.get_path('purelib')");
  for (const wheel of [manifest.wheel, ...(manifest.extra_wheels || [])]) {
    const data = await (await fetchOk(wheel)).arrayBuffer();
    pyodide.unpackArchive(data, "wheel", { extractDir: sitePackages });
  }
  // the glue that answers the pages' requests, beside the wheel (not in it)
  for (const rel of manifest.glue) {
    const text = await (await fetchOk("py/" + rel)).text();
    const path = "/home/pyodide/glue/" + rel;
    pyodide.FS.mkdirTree(path.slice(0, path.lastIndexOf("/")));
    pyodide.FS.writeFile(path, text);
  }
  t = phase("files", t);
  pyodide.runPython("import sys; sys.path.insert(0, '/home/pyodide/glue')");
  api = pyodide.pyimport("mgl_site.api").call;
  PythonError = pyodide.ffi.PythonError;
  t = phase("import", t);
  viz = await Viz.instance();
  phase("viz", t);
  return manifest;
}

function render(answer) {
  // every {dot: "..."} object in the answer gets svg (or svgError) beside it
  if (Array.isArray(answer)) {
    answer.forEach(render);
  } else if (answer && typeof answer === "object") {
    if (typeof answer.dot === "string") {
      try {
        answer.svg = viz.renderString(answer.dot, { format: "svg" });
      } catch (err) {
        answer.svgError = "viz.js could not render the diagram: " + err;
      }
    }
    Object.values(answer).forEach(render);
  }
  return answer;
}

let ready = boot().then(
  (manifest) => {
    postMessage({
      type: "ready",
      seconds: (performance.now() - started) / 1000,
      versions: manifest.versions,
      phases,
    });
  },
  (err) => {
    postMessage({ type: "failed", error: String(err && err.stack ? err.stack : err) });
    throw err;
  },
);

self.onmessage = async (event) => {
  const msg = event.data;
  if (msg.interrupt) {
    await ready;
    pyodide.setInterruptBuffer(msg.interrupt);
    return;
  }
  await ready;
  printed = 0;
  let answer;
  const t0 = performance.now();
  try {
    answer = JSON.parse(api(msg.name, JSON.stringify(msg.args || {}), write));
  } catch (err) {
    // A Python error the glue did not catch (Stop during training), or Pyodide itself failing
    // (the browser's stack running out): then this worker is done and the page replaces it.
    const text = String(err && err.message ? err.message : err);
    const python = err instanceof PythonError;
    answer = { error: text, interrupted: /KeyboardInterrupt/.test(text), fatal: !python };
  }
  const t1 = performance.now();
  render(answer);
  // how long the request took, in ms: Python (the handler and JSON), viz.js (the diagrams)
  answer.timing = { python: t1 - t0, render: performance.now() - t1 };
  postMessage({ type: "reply", id: msg.id, answer });
};
