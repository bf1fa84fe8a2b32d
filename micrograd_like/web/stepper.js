(function (root, globalKeys) {
  var data = JSON.parse(root.querySelector(".mgl-data").textContent);
  // scripts run here: the controls (kept out of the HTML, so a viewer without scripts shows
  // no dead buttons) replace the static first step
  root.querySelector(".mgl-bar-slot").outerHTML = data.controls;
  root.querySelector(".mgl-zoom-slot").outerHTML = data.zoom;
  var mode = data.start, index = 0, timer = null, view = mglView(root);
  root.querySelectorAll("[hidden]").forEach(function (e) { e.hidden = false; });
  root.querySelectorAll(".mgl-static, .mgl-nojs").forEach(function (e) { e.remove(); });
  root.querySelector(".mgl-keys").textContent = data.keys;
  if (data.overview === null) {
    root.querySelector(".mgl-overview").hidden = true;
  } else {
    root.querySelector(".mgl-overview-head").textContent = data.overviewHead;
    root.querySelector(".mgl-ov").innerHTML = data.overview;
  }
  function el(cls) { return root.querySelector("." + cls); }
  var eq = el("mgl-equation"), title = el("mgl-title"), overview = el("mgl-ov");
  var counter = el("mgl-counter"), slider = el("mgl-slider");
  function btn(sel) { return root.querySelector("button[" + sel + "]"); }
  function steps() { return data.passes[mode]; }
  function mark(id) {  // fill the current node's box in the overview
    overview.querySelectorAll("g.mgl-here").forEach(function (g) { g.classList.remove("mgl-here"); });
    overview.querySelectorAll("g.node > title").forEach(function (t) {
      if (t.textContent === id) { t.parentNode.classList.add("mgl-here"); }
    });
  }
  function show() {
    var f = steps()[index], last = steps().length - 1;
    title.textContent = f.title;
    eq.textContent = f.equation;
    if (f.svg === null) {
      var p = document.createElement("p");
      p.textContent = data.missing;
      view.show("", null);
      root.querySelector(".mgl-view").appendChild(p);
    } else {
      view.show(data.svgs[f.svg], f.focus);
    }
    if (data.overview !== null) { mark(f.over); }
    slider.max = last;
    slider.value = index;
    counter.textContent = "step " + (index + 1) + " of " + (last + 1);
    root.dataset.mode = mode;
    root.dataset.index = index;
    root.dataset.node = f.node;
    root.dataset.focus = f.focus || "";
    btn('data-pass="forward"').setAttribute("aria-pressed", mode === "forward");
    btn('data-pass="backward"').setAttribute("aria-pressed", mode === "backward");
    btn('data-go="first"').disabled = btn('data-go="prev"').disabled = index === 0;
    btn('data-go="last"').disabled = btn('data-go="next"').disabled = index === last;
    btn('data-go="play"').textContent = timer ? "❚❚ Pause" : "▶ Play";
  }
  function go(i) { index = Math.max(0, Math.min(steps().length - 1, i)); show(); }
  function stop() { clearInterval(timer); timer = null; show(); }
  function play() {
    if (timer) { stop(); return; }
    if (index === steps().length - 1) { index = 0; }
    timer = setInterval(function () {
      if (index >= steps().length - 1) { stop(); } else { go(index + 1); }
    }, data.interval);
    show();
  }
  function pass(m) { if (timer) { stop(); } mode = m; go(0); }
  function zoom(z) { var b = btn('data-zoom="' + z + '"'); if (b) { b.click(); } }
  var actions = {
    first: function () { go(0); }, prev: function () { go(index - 1); },
    next: function () { go(index + 1); }, last: function () { go(steps().length - 1); },
    play: play
  };
  root.addEventListener("click", function (e) {
    var b = e.target.closest("button");
    if (!b || !root.contains(b)) { return; }
    if (b.dataset.pass) { pass(b.dataset.pass); }
    if (b.dataset.go) { actions[b.dataset.go](); }
    // after a mouse click the keys belong to the stepper again (space plays, it does not
    // press the clicked button a second time); a button reached by Tab keeps the focus
    if (e.detail > 0) { root.focus({ preventScroll: true }); }
  });
  slider.addEventListener("input", function () { go(Number(slider.value)); });
  var keys = {
    arrowright: actions.next, arrowdown: actions.next, arrowleft: actions.prev,
    arrowup: actions.prev, home: actions.first, end: actions.last, " ": play,
    f: function () { pass("forward"); }, b: function () { pass("backward"); },
    "+": function () { zoom("in"); }, "=": function () { zoom("in"); },
    "-": function () { zoom("out"); }
  };
  (globalKeys ? document : root).addEventListener("keydown", function (e) {
    var t = e.target, key = keys[e.key.length === 1 ? e.key.toLowerCase() : e.key.toLowerCase()];
    if (!key || e.altKey || e.ctrlKey || e.metaKey || t === slider) { return; }
    if (t.tagName === "BUTTON" && (e.key === " " || e.key === "Enter")) { return; }
    if (t.tagName === "INPUT" || t.tagName === "TEXTAREA") { return; }
    e.preventDefault();
    e.stopPropagation();  // JupyterLab's own shortcuts (b inserts a cell) stay out of it
    key();
  });
  show();
})
