// A diagram's view box: fit to the width (never below 75%, so 11-point text stays 11 px),
// zoom (buttons, ctrl + wheel), pan (drag), a 100% toggle, and centring a node in view.
// Used by every figure and stepper this package writes; `mglView(root)` returns {show}.
function mglView(root) {
  var view = root.querySelector(".mgl-view"), zoom = null, focus = null, drag = null;
  var MIN_FIT = 0.75, STEP = 1.25;
  function svg() { return view.querySelector("svg"); }
  function natural(s) {
    if (!s.dataset.w) {  // dot writes sizes in points; 1 pt = 4/3 px
      s.dataset.w = parseFloat(s.getAttribute("width")) * 4 / 3;
      s.dataset.h = parseFloat(s.getAttribute("height")) * 4 / 3;
    }
    return [Number(s.dataset.w), Number(s.dataset.h)];
  }
  function node(id) {
    var found = null;
    view.querySelectorAll("g.node > title").forEach(function (t) {
      if (t.textContent === id) { found = t.parentNode; }
    });
    return found;
  }
  function centre() {
    var g = focus && node(focus);
    if (!g) { return; }
    var r = g.getBoundingClientRect(), v = view.getBoundingClientRect();
    view.scrollLeft += r.left + r.width / 2 - (v.left + view.clientWidth / 2);
    view.scrollTop += r.top + r.height / 2 - (v.top + view.clientHeight / 2);
  }
  function layout() {
    var s = svg();
    if (!s) { return; }
    var n = natural(s), width = view.clientWidth - 4;
    var fit = Math.max(MIN_FIT, Math.min(1, width / n[0]));
    var scale = zoom === null ? fit : zoom;
    s.style.maxWidth = "none";
    s.style.minWidth = "0";
    s.style.width = (n[0] * scale).toFixed(1) + "px";
    s.style.height = (n[1] * scale).toFixed(1) + "px";
    root.dataset.scale = scale.toFixed(3);
    var label = root.querySelector("[data-zoom=label]");
    if (label) { label.textContent = Math.round(scale * 100) + "%"; }
    centre();
  }
  root.addEventListener("click", function (e) {
    var b = e.target.closest("button[data-zoom]");
    if (!b || !root.contains(b)) { return; }
    var current = Number(root.dataset.scale || 1), z = b.dataset.zoom;
    zoom = z === "fit" ? null : z === "100" ? 1 : z === "in" ? current * STEP : current / STEP;
    layout();
  });
  view.addEventListener("wheel", function (e) {
    if (!e.ctrlKey) { return; }
    e.preventDefault();
    zoom = Number(root.dataset.scale || 1) * (e.deltaY < 0 ? STEP : 1 / STEP);
    layout();
  }, { passive: false });
  view.addEventListener("pointerdown", function (e) {
    if (e.button !== 0) { return; }
    drag = [e.clientX, e.clientY, view.scrollLeft, view.scrollTop];
    view.classList.add("mgl-dragging");
  });
  window.addEventListener("pointermove", function (e) {
    if (!drag) { return; }
    view.scrollLeft = drag[2] - (e.clientX - drag[0]);
    view.scrollTop = drag[3] - (e.clientY - drag[1]);
  });
  window.addEventListener("pointerup", function () {
    drag = null;
    view.classList.remove("mgl-dragging");
  });
  if (window.ResizeObserver) { new ResizeObserver(function () { layout(); }).observe(view); }
  return {
    show: function (html, id) {
      if (html !== undefined) { view.innerHTML = html; }
      focus = id || null;
      layout();
    }
  };
}
