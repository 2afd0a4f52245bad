// The page's engine: the trace in float64 from the programs printed from the derivation (script.py), in the
// long run's order (core/long_run.py): per iteration each example's full program, the batch combined, then each
// trained parameter's update. Quantities are named as the document's steps name them (nodes.quantity).
"use strict";

const SCHEDULES = {  // torch.optim.lr_scheduler's closed forms, as core/schedulers.py: k scheduler steps taken
  StepLR: (lr0, k, o) => lr0 * Math.pow(o.gamma, Math.floor(k / o.step_size)),
  MultiStepLR: (lr0, k, o) => lr0 * Math.pow(o.gamma, o.milestones.filter(m => m <= k).length),
  ExponentialLR: (lr0, k, o) => lr0 * Math.pow(o.gamma, k),
  CosineAnnealingLR: (lr0, k, o) => o.eta_min + (lr0 - o.eta_min) * (1 + Math.cos(Math.PI * k / o.T_max)) / 2,
  LinearLR: (lr0, k, o) => lr0 * (o.start_factor + (o.end_factor - o.start_factor) * Math.min(k, o.total_iters) / o.total_iters),
};

function rate(M, lr0, t) {  // signed: Delta = -rate * step (model.rate)
  return M.scheduler ? SCHEDULES[M.scheduler.name](lr0, t - 1, M.scheduler.options) : -M.sign * lr0;
}

// setting: {x: [[...] per example], y: [[...]], start: [...], lr, n}; the document's iteration 1 is iteration n + 1.
// Returns {values: Map(name -> number), losses: [E at iterations 1 .. n + T + 1]}.
function trace(M, P, setting) {
  const values = new Map(), losses = [];
  const n = setting.n, total = n + M.iterations;
  const K = M.examples.length, scale = M.batchMean ? 1 / K : 1;
  M.inputs.forEach((x, j) => setting.x.forEach((row, k) => values.set(`x:${x}[${k + 1}]`, row[j])));
  M.outputs.forEach((o, j) => setting.y.forEach((row, k) => values.set(`y:${o}[${k + 1}]`, row[j])));
  M.constants.forEach(([c, v]) => values.set(`c:${c}`, v));
  values.set("lr", setting.lr);
  let params = setting.start.slice();
  let state = M.trained.map(() => M.update.states.map(s => M.update.initial[s] ?? 0));
  if (n === 0) M.parameters.forEach((p, j) => { if (M.trained[j]) M.update.states.forEach((s, i) => values.set(`${s}_${p}@0`, state[j][i])); });
  const combine = list => (list.length === 1 ? list[0] : list.reduce((a, b) => a + b) * scale);
  for (let t = 1; t <= total + 1; t++) {
    const rel = t - n, shown = rel >= 1 && M.shown.has(rel), backward = t <= total;
    const run = backward ? P.full : P.forward;
    const records = setting.x.map((x, k) => run(...params, ...M.constantValues, ...x, ...setting.y[k]));
    const E = combine(records.map(r => r[M.lossIndex]));
    losses.push(E);
    if (rel >= 1) values.set(`E@${rel}`, E);
    if (shown || (rel >= 2 && M.shown.has(rel - 1))) M.parameters.forEach((p, j) => values.set(`${p}@${rel}`, params[j]));
    if (shown) {
      const names = backward ? M.steps : M.steps.slice(0, M.forwardCount);
      records.forEach((r, k) => names.forEach((name, i) => values.set(`${name}[${k + 1}]@${rel}`, r[i])));
    }
    if (!backward) break;
    const gradients = M.gradientIndex.map(i => combine(records.map(r => r[i])));
    const lr = rate(M, setting.lr, t), first = t === 1;
    const update = first ? P.updateFirst : P.update, heads = first ? M.update.headsFirst : M.update.heads;
    const next = params.slice();
    if (shown) values.set(`lr@${rel}`, lr);
    M.parameters.forEach((p, j) => {
      let delta = 0;
      if (M.trained[j]) {
        const q = update(params[j], gradients[j], lr, t, ...state[j]);
        delta = q[heads.indexOf("Delta")];
        state[j] = M.update.states.map((s, i) => (heads.includes(s) ? q[heads.indexOf(s)] : state[j][i]));
        if (shown) heads.forEach((h, i) => { if (h !== "Delta") values.set(`${h}_${p}@${rel}`, q[i]); });
        if (rel === 0) M.update.states.forEach((s, i) => values.set(`${s}_${p}@0`, state[j][i]));
        next[j] = params[j] + delta;
      }
      if (shown) { values.set(`dE/d${p}@${rel}`, gradients[j]); values.set(`Delta_${p}@${rel}`, delta); }
    });
    params = next;
  }
  return { values, losses };
}

// E over the batch as one parameter varies, every other at its value in `params` (the loss-vs-weight plot).
function lossAlong(M, P, setting, params, j, ws) {
  const K = M.examples.length, scale = M.batchMean ? 1 / K : 1;
  return ws.map(w => {
    const p = params.slice();
    p[j] = w;
    let E = 0;
    setting.x.forEach((x, k) => { E += P.forward(...p, ...M.constantValues, ...x, ...setting.y[k])[M.lossIndex]; });
    return K === 1 ? E : E * scale;
  });
}
