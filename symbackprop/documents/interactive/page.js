// The page: its controls, the state in the URL fragment, and every number shown recomputed by engine.js.
// Nothing from the file is read as code or markup: names arrive as JSON strings and reach the page as text.
"use strict";
(() => {
  const M = JSON.parse(document.getElementById("symbackprop-model").textContent);
  const PLOTS = JSON.parse(document.getElementById("symbackprop-plots").textContent);
  M.shown = new Set(M.shown);
  const MATHML = "http://www.w3.org/1998/Math/MathML", SVG = "http://www.w3.org/2000/svg";
  const MAX_STEPS = 100000;
  const $ = sel => document.querySelector(sel);
  const controls = [...document.querySelectorAll("input[data-control]")];
  const byName = new Map();
  for (const el of controls) {
    if (!byName.has(el.dataset.control)) byName.set(el.dataset.control, []);
    byName.get(el.dataset.control).push(el);
  }
  const defaults = new Map([...byName].map(([name, els]) => [name, Number(els[0].dataset.default)]));
  let n = 0;
  const timing = { engine: 0, dom: 0, plots: 0 };

  // -- numbers as the documents write them (core/decimals: Python's .10g), a Unicode minus --
  function fmt(x, digits) {
    if (!Number.isFinite(x)) return String(x);
    if (x === 0) return "0";  // −0 too, as String(−0) (data-v) and the exact documents write it
    const [, e] = x.toExponential(digits - 1).split("e");
    const X = Number(e);
    const strip = s => (s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s);
    if (X >= -4 && X < digits) return strip(x.toFixed(Math.max(0, digits - 1 - X)));
    const m = strip(x.toExponential(digits - 1).split("e")[0]);
    return `${m}e${X < 0 ? "-" : "+"}${String(Math.abs(X)).padStart(2, "0")}`;
  }
  const mml = (tag, text, ...kids) => {
    const el = document.createElementNS(MATHML, tag);
    if (text !== null) el.textContent = text;
    kids.forEach(k => el.appendChild(k));
    return el;
  };
  // what mml would build, as its shape (the elements, and which hold a text) and its texts in document order
  const parts = (tag, text, ...kids) => ({ shape: `${tag}${text ? "'" : ""}(${kids.map(k => k.shape).join(",")})`,
    texts: [...(text ? [text] : []), ...kids.flatMap(k => k.texts)] });
  function mathNumber(text, make = mml) {  // formulas/mathml._decimal; make: mml, or parts for its plan
    if (text.startsWith("-")) return make("mrow", null, make("mo", "−"), mathNumber(text.slice(1), make));
    if (text.includes("e")) {
      const [m, e] = text.split("e");
      return make("mrow", null, make("mn", m), make("mo", "·"), make("msup", null, make("mn", "10"), mathNumber(String(Number(e)), make)));
    }
    return make("mn", text);
  }
  const built = new WeakMap();  // a number show() built: {shape, nodes: its text nodes in document order}
  function texts(el) {
    const walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT), out = [];
    while (walk.nextNode()) out.push(walk.currentNode);
    return out;
  }
  function rewrite(el, shape, strings) {  // true when el holds a number of that shape: its texts are now strings
    const had = built.get(el);
    if (!had || had.shape !== shape) return false;
    had.nodes.forEach((node, i) => { if (node.data !== strings[i]) node.data = strings[i]; });
    return true;
  }
  const starts = new Set(M.parameters.map(p => `${p}@1`));  // the starting values: settings until a step is trained
  const settingNames = new Set(["lr", ...M.constants.map(([c]) => `c:${c}`),
    ...M.examples.flatMap((_, k) => [...M.inputs.map(x => `x:${x}[${k + 1}]`), ...M.outputs.map(o => `y:${o}[${k + 1}]`)])]);
  const original = new Map();  // each number's exact text, as the document wrote it
  // refresh() calls show(el, x) again only when x, floating or n changed: show() reads nothing else that changes
  function show(el, x) {
    el.dataset.v = String(x);
    if (!floating) {
      if (el.dataset.f) { el.replaceChildren(...original.get(el).map(c => c.cloneNode(true))); delete el.dataset.f; built.delete(el); }
      return;
    }
    el.dataset.f = "1";
    const digits = Number(el.dataset.digits || 10), text = fmt(x, digits);
    const [mantissa, exponent] = text.split("e");
    if (el.namespaceURI === MATHML) {
      const fenced = el.dataset.b === "1" && text.startsWith("-");
      const kidsOf = make => (fenced ? [make("mo", "("), mathNumber(text, make), make("mo", ")")] : [mathNumber(text, make)]);
      const plan = kidsOf(parts), shape = plan.map(k => k.shape).join(";"), strings = plan.flatMap(k => k.texts);
      if (rewrite(el, shape, strings)) return;
      const kids = kidsOf(mml);
      kids.filter(k => k.tagName === "mo").forEach(k => k.setAttribute("stretchy", "false"));
      el.replaceChildren(...kids);
      built.set(el, { shape, nodes: texts(el) });
    } else if (el.namespaceURI === SVG) {
      el.textContent = mantissa.replace("-", "−") + (exponent ? `·10^${Number(exponent)}`.replace("-", "−") : "");
    } else {
      const approx = settingNames.has(el.dataset.q) || (n === 0 && starts.has(el.dataset.q)) ? "" : "≈ ";  // a setting is as typed
      const strings = [approx + mantissa.replace("-", "−") + (exponent ? " · 10" : ""), ...(exponent ? [String(Number(exponent)).replace("-", "−")] : [])];
      if (rewrite(el, exponent ? "text,sup" : "text", strings)) return;
      el.replaceChildren(document.createTextNode(strings[0]));
      if (exponent) { const sup = document.createElement("sup"); sup.textContent = strings[1]; el.appendChild(sup); }
      built.set(el, { shape: exponent ? "text,sup" : "text", nodes: texts(el) });
    }
  }

  // -- the setting: the controls, the steps trained, the fragment --
  const fields = new Map([...byName].map(([name, els]) => [name, els.find(el => el.type === "number")]));
  const value = name => Number(fields.get(name).value);  // the field, not the slider's snapped value
  function setting() {
    return {
      x: M.examples.map((_, k) => M.inputs.map(x => value(`x:${x}[${k + 1}]`))),
      y: M.examples.map((_, k) => M.outputs.map(o => value(`y:${o}[${k + 1}]`))),
      start: M.parameters.map(p => value(`${p}@1`)), lr: value("lr"), n,
    };
  }
  const moved = () => n !== 0 || [...defaults].some(([name, v]) => value(name) !== v);
  function fragment() {
    const q = new URLSearchParams();
    for (const [name, v] of defaults) if (value(name) !== v) q.set(name, String(value(name)));
    if (n) q.set("n", String(n));
    const text = q.toString();
    history.replaceState(null, "", text ? `#${text}` : location.pathname + location.search);
  }
  function read() {  // the fragment's setting: unknown keys and non-numbers are ignored
    if (!location.hash.includes("=")) return;
    const q = new URLSearchParams(location.hash.slice(1));
    for (const [name, text] of q) {
      const v = Number(text);
      if (name === "n" && Number.isInteger(v) && v >= 0 && v <= MAX_STEPS) n = v;
      else if (byName.has(name) && text.trim() !== "" && Number.isFinite(v)) byName.get(name).forEach(el => { el.value = String(v); });
    }
  }

  // -- the numbers on the page, per section: a closed section is brought up to date when it opens --
  const sections = new Map();
  for (const el of document.querySelectorAll("[data-q]")) {
    original.set(el, [...el.childNodes].map(c => c.cloneNode(true)));
    const home = el.closest("body > details") || document.body;
    if (!sections.has(home)) sections.set(home, []);
    sections.get(home).push({ el, q: el.dataset.q, x: undefined, floating: null, n: null });  // what it shows, as of its last show()
  }
  for (const el of document.querySelectorAll(".exact")) {
    const rel = el.previousElementSibling;
    if (rel && rel.classList.contains("rel")) rel.classList.add("exact");
  }
  for (const el of document.querySelectorAll(".rel")) el.dataset.exact = el.textContent;
  const rels = [...document.querySelectorAll(".rel")].filter(el => !el.classList.contains("exact"));
  const iterationNumbers = [...document.querySelectorAll("[data-t]")];
  let relsFloating = null, numbersFor = null;  // what they were last written for
  let values = new Map(), floating = false, stale = new Set();
  const whens = [...document.querySelectorAll("[data-when]")];
  function refresh(home) {
    for (const shown of sections.get(home) || []) {
      const x = values.get(shown.q);
      if (x === undefined) throw new Error(`no value for ${shown.q}`);
      // show(el, x) reads x, floating and n (and the element's own attributes): the same three write the same DOM
      if (Object.is(shown.x, x) && shown.floating === floating && shown.n === n) continue;
      show(shown.el, x);
      Object.assign(shown, { x, floating, n });
    }
    stale.delete(home);
  }
  function refreshAll() { for (const home of sections.keys()) refresh(home); }
  for (const home of sections.keys()) if (home.tagName === "DETAILS") home.addEventListener("toggle", () => { if (home.open && stale.has(home)) refresh(home); });

  function recompute() {
    const t0 = performance.now();
    const result = trace(M, P, setting());
    const t1 = performance.now();
    values = result.values;
    floating = moved();
    document.body.classList.toggle("float64", floating);
    $("#mode").textContent = floating
      ? "Float64 values computed in your browser, to 10 significant digits: not exact."
      : "Exact values, as the derivation gives them (the file's setting).";
    if (relsFloating !== floating) {
      for (const el of rels) el.textContent = floating ? el.dataset.exact.replace("=", "≈") : el.dataset.exact;
      relsFloating = floating;
    }
    if (numbersFor !== n) {
      for (const el of iterationNumbers) el.textContent = String(Number(el.dataset.t) + n);
      numbersFor = n;
    }
    for (const el of whens) el.hidden = (el.dataset.when === "first") === (n > 0);  // a first update's form, or the general one
    $("#trained").textContent = n ? `Iteration shown: ${n + 1}, after ${n} training step${n === 1 ? "" : "s"} from the starting values.`
      : "Iteration shown: 1, from the starting values.";
    for (const home of sections.keys()) {
      if (home.tagName !== "DETAILS" || home.open) refresh(home); else stale.add(home);
    }
    const t2 = performance.now();
    plots(result);
    const t3 = performance.now();
    Object.assign(timing, { engine: t1 - t0, dom: t2 - t1, plots: t3 - t2 });
    fragmentSoon();
  }
  // the fragment after the frame: history.replaceState takes milliseconds on a large page (7 ms on 4-16-16-1), and
  // nothing on the page reads it; several moves in a row write it once
  let fragmentPending = false;
  function fragmentSoon() {
    if (fragmentPending) return;
    fragmentPending = true;
    setTimeout(() => { fragmentPending = false; fragment(); }, 0);
  }

  // -- the plots, drawn again from the numbers --
  function svgEl(tag, attrs, text) {
    const el = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
    if (text !== undefined) el.textContent = text;
    return el;
  }
  const drawn = {};
  const figures = new Map([...document.querySelectorAll("figure[data-plot]")].map(f => [f.dataset.plot, f]));
  const SUPERSCRIPT = { "-": "⁻", 0: "⁰", 1: "¹", 2: "²", 3: "³", 4: "⁴", 5: "⁵", 6: "⁶", 7: "⁷", 8: "⁸", 9: "⁹" };
  function label(x, digits) {  // a number in a plot: U+2212 for minus, 1.5·10⁻⁵ for 1.5e-05
    const [m, e] = fmt(x, digits).split("e");
    return m.replace("-", "−") + (e ? "·10" + [...String(Number(e))].map(c => SUPERSCRIPT[c]).join("") : "");
  }
  function ticks(lo, hi, whole) {  // round steps (1, 2, 5 times a power of ten) from lo to hi; whole numbers on an iteration axis
    const raw = (hi - lo) / 4, power = Math.pow(10, Math.floor(Math.log10(raw)));
    let step = [1, 2, 5, 10].map(k => k * power).find(s => s >= raw) || raw;
    if (whole) step = Math.max(1, Math.round(step));
    const out = [];
    for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9 && out.length < 12; t += step) out.push(Math.abs(t) < step * 1e-9 ? 0 : t);
    return out;
  }
  // the text column's width, read once and on resize: reading a figure's width during a recompute forces a layout of
  // the whole page (seconds on a page of 10,000 numbers with every section open)
  const columnWidth = () => Math.max(320, Math.min(640, (document.querySelector("nav") || document.body).clientWidth || 640));
  let plotWidth = columnWidth();
  addEventListener("resize", () => { const w = columnWidth(); if (w !== plotWidth) { plotWidth = w; recompute(); } });
  function draw(name, title, curves, points, xlabel, whole = false) {
    const figure = figures.get(name);
    if (!figure) return;
    drawn[name] = { curves, points };
    const W = plotWidth, H = Math.round(W * 0.5625);  // type stays its size on a phone
    const L = 58, R = 14, T = 28, B = 42;
    const xs = curves.flatMap(c => c.xs).concat(points.map(p => p.x)), ys = curves.flatMap(c => c.ys).concat(points.map(p => p.y));
    const finite = a => a.filter(Number.isFinite);
    let [x0, x1] = [Math.min(...finite(xs)), Math.max(...finite(xs))], [y0, y1] = [Math.min(...finite(ys)), Math.max(...finite(ys))];
    if (!(x1 > x0)) { x0 -= 1; x1 += 1; }
    if (!(y1 > y0)) { y0 -= 1; y1 += 1; }
    const pad = (y1 - y0) * 0.05;
    y0 = y0 >= 0 ? Math.max(0, y0 - pad) : y0 - pad;  // a loss never drawn below 0
    y1 += pad;
    const X = x => L + (x - x0) / (x1 - x0) * (W - L - R), Y = y => H - B - (y - y0) / (y1 - y0) * (H - T - B);
    const svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img", "aria-label": title, class: "plot" });
    svg.appendChild(svgEl("text", { x: W / 2, y: 18, "text-anchor": "middle", "font-size": 14 }, title));
    svg.appendChild(svgEl("path", { d: `M${L},${T} V${H - B} H${W - R}`, stroke: "#444", fill: "none" }));
    for (const xv of ticks(x0, x1, whole)) {
      svg.appendChild(svgEl("text", { x: X(xv), y: H - B + 15, "text-anchor": "middle", "font-size": 11 }, label(xv, 4)));
    }
    for (const yv of ticks(y0, y1, false)) {
      svg.appendChild(svgEl("text", { x: L - 5, y: Y(yv) + 4, "text-anchor": "end", "font-size": 11 }, label(yv, 3)));
    }
    svg.appendChild(svgEl("text", { x: (L + W - R) / 2, y: H - 8, "text-anchor": "middle", "font-size": 12 }, xlabel));
    const colours = ["#1f77b4", "#d62728", "#2ca02c"];
    curves.forEach((c, i) => {
      const pts = c.xs.map((x, j) => [x, c.ys[j]]).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
      svg.appendChild(svgEl("polyline", { points: pts.map(([x, y]) => `${X(x).toFixed(2)},${Y(y).toFixed(2)}`).join(" "), fill: "none",
        stroke: colours[i % 3], "stroke-width": 2, "stroke-dasharray": c.dashed ? "6 4" : "none", "data-curve": c.label }));
    });
    const placed = [];  // label boxes: a label goes where it overlaps none, or is left out (the tables hold every value)
    for (const p of points) {
      if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) continue;
      svg.appendChild(svgEl("circle", { cx: X(p.x), cy: Y(p.y), r: 4, fill: "#000" }));
      if (!p.label) continue;
      const width = p.label.length * 6.6, right = X(p.x) + 7 + width < W;  // reads away from the right edge
      const left = right ? X(p.x) + 7 : X(p.x) - 7 - width;
      const spot = [-7, -21, 18, -35, 32, -49].map(dy => Y(p.y) + dy).find(y => y - 12 > 0 && y < H - B &&
        !placed.some(b => left < b[1] && left + width > b[0] && y - 12 < b[3] && y > b[2]));
      if (spot === undefined) continue;
      placed.push([left, left + width, spot - 12, spot]);
      svg.appendChild(svgEl("text", { x: left, y: spot, "font-size": 12 }, p.label));
    }
    figure.querySelector("svg").replaceWith(svg);
  }
  const step = (count, cap) => Math.max(1, Math.ceil(count / cap));
  function plots(result) {
    const v = result.values;
    const every = step(result.losses.length, 1000), its = [], es = [];
    result.losses.forEach((e, i) => { if (i % every === 0 || i === result.losses.length - 1) { its.push(i + 1); es.push(e); } });
    draw("loss", "Loss over the iterations", [{ label: "E", xs: its, ys: es }],
      [{ x: n + 1, y: result.losses[n], label: `E ≈ ${label(result.losses[n], 4)}` }], "iteration", true);
    for (const a of PLOTS.activations) {
      const points = a.neurons.map(([neuron, name]) => {
        const z = v.get(`z_${neuron}[1]@1`), y = v.get(`a_${neuron}[1]@1`);
        return { x: z, y, label: `${name} ≈ ${label(z, 4)}` };
      });
      draw(a.plot, a.title, [{ label: a.title, xs: a.xs, ys: a.ys }], points, "z");
    }
    if (PLOTS.weight !== null) {
      const j = M.parameters.indexOf(PLOTS.weight), params = M.parameters.map(p => v.get(`${p}@1`));
      const w0 = params[j], ws = Array.from({ length: 101 }, (_, i) => w0 - 1 + 2 * i / 100);
      const slope = v.get(`dE/d${PLOTS.weight}@1`) ?? 0, e0 = v.get("E@1"), near = [w0 - 0.4, w0, w0 + 0.4];
      draw(`loss_vs_${PLOTS.weight}`, "The loss as one parameter varies, with its tangent",
        [{ label: "E", xs: ws, ys: lossAlong(M, P, setting(), params, j, ws) },
         { label: "tangent", xs: near, ys: near.map(w => e0 + slope * (w - w0)), dashed: true }],
        [{ x: w0, y: e0, label: `slope ≈ ${label(slope, 4)}` }], PLOTS.weightLabel);
    }
  }

  // -- the controls --
  let timer = null;
  const soon = () => { clearTimeout(timer); timer = setTimeout(recompute, 0); };
  for (const el of controls) {
    el.addEventListener("input", () => {
      if (el.value.trim() === "" || !Number.isFinite(Number(el.value))) return;
      byName.get(el.dataset.control).forEach(other => { if (other !== el) other.value = el.value; });
      if (M.probabilities) keepProbabilities(el.dataset.control);
      soon();
    });
  }
  function keepProbabilities(name) {  // an example's targets stay a probability vector: the others share 1 − y
    const m = /^y:(.*)\[(\d+)\]$/.exec(name);
    if (!m) return;
    const names = M.outputs.map(o => `y:${o}[${m[2]}]`), others = names.filter(q => q !== name);
    const y = Math.min(1, Math.max(0, value(name))), rest = others.reduce((s, q) => s + Math.max(0, value(q)), 0);
    const put = (q, v) => byName.get(q).forEach(e => { e.value = String(v); });
    put(name, y);
    others.forEach(q => put(q, rest > 0 ? Math.max(0, value(q)) * (1 - y) / rest : (1 - y) / others.length));
  }
  const train = count => { n = Math.min(MAX_STEPS, n + count); recompute(); };
  $("#train-one").addEventListener("click", () => train(1));
  $("#train-many").addEventListener("click", () => {
    const count = Number($("#steps").value);
    if (Number.isInteger(count) && count >= 1) train(count);
  });
  $("#reset").addEventListener("click", () => {
    n = 0;
    for (const [name, v] of defaults) byName.get(name).forEach(el => { el.value = String(v); });
    recompute();
  });
  // a link within the page scrolls to its target and keeps the setting in the fragment
  document.addEventListener("click", e => {
    const a = e.target.closest && e.target.closest('a[href^="#"]');
    if (!a) return;
    const target = document.getElementById(decodeURIComponent(a.getAttribute("href").slice(1)));
    if (!target) return;
    e.preventDefault();
    for (let d = target.closest("details"); d; d = d.parentElement.closest("details")) d.open = true;
    target.scrollIntoView();
  });
  addEventListener("hashchange", () => { if (location.hash.includes("=")) { read(); recompute(); } });

  read();
  recompute();
  window.symbackprop = {
    values: () => Object.fromEntries(values), setting, timing, refreshAll, drawn, fmt, recompute,
    train, set: (name, v) => { byName.get(name).forEach(el => { el.value = String(v); }); recompute(); },
    trained: () => n,
  };
})();
