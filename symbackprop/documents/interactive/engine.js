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
  // the batch's value at index i of the records: one example's as it is, else their sum in order, times the scale
  const combine = (records, i) => {
    if (records.length === 1) return records[0][i];
    let sum = records[0][i];
    for (let k = 1; k < records.length; k++) sum += records[k][i];
    return sum * scale;
  };
  // each example's arguments, built once: the parameters (rewritten after each update), constants, inputs, targets
  const args = setting.x.map((x, k) => [...params, ...M.constantValues, ...x, ...setting.y[k]]);
  const count = params.length, S = M.update.states.length, gradients = new Array(count);
  // per update program: where its results hold Delta and each state's new value (-1: a state it leaves as it was)
  const plan = first => {
    const heads = first ? M.update.headsFirst : M.update.heads;
    return { update: first ? P.updateFirst : P.update, heads, delta: heads.indexOf("Delta"), from: M.update.states.map(s => heads.indexOf(s)) };
  };
  const plans = [plan(true), plan(false)];
  for (let t = 1; t <= total + 1; t++) {
    const rel = t - n, shown = rel >= 1 && M.shown.has(rel), backward = t <= total;
    const run = backward ? P.full : P.forward;
    const records = args.map(a => run(...a));
    const E = combine(records, M.lossIndex);
    losses.push(E);
    if (rel >= 1) values.set(`E@${rel}`, E);
    if (shown || (rel >= 2 && M.shown.has(rel - 1))) M.parameters.forEach((p, j) => values.set(`${p}@${rel}`, params[j]));
    if (shown) {
      const names = backward ? M.steps : M.steps.slice(0, M.forwardCount);
      records.forEach((r, k) => names.forEach((name, i) => values.set(`${name}[${k + 1}]@${rel}`, r[i])));
    }
    if (!backward) break;
    for (let j = 0; j < count; j++) gradients[j] = combine(records, M.gradientIndex[j]);
    const lr = rate(M, setting.lr, t), { update, heads, delta: at, from } = plans[t === 1 ? 0 : 1];
    const next = params.slice();
    if (shown) { values.set(`lr@${rel}`, lr); values.set(`t@${rel}`, t); }
    for (let j = 0; j < count; j++) {
      const p = M.parameters[j];
      let delta = 0;
      if (M.trained[j]) {
        const old = state[j], q = S === 0 ? update(params[j], gradients[j], lr, t) : update(params[j], gradients[j], lr, t, ...old);
        delta = q[at];
        if (S !== 0) {
          const kept = new Array(S);
          for (let i = 0; i < S; i++) kept[i] = from[i] >= 0 ? q[from[i]] : old[i];
          state[j] = kept;
        }
        if (shown) heads.forEach((h, i) => { if (h !== "Delta") values.set(`${h}_${p}@${rel}`, q[i]); });
        if (rel === 0) M.update.states.forEach((s, i) => values.set(`${s}_${p}@0`, state[j][i]));
        next[j] = params[j] + delta;
      }
      if (shown) { values.set(`dE/d${p}@${rel}`, gradients[j]); values.set(`Delta_${p}@${rel}`, delta); }
    }
    params = next;
    for (const a of args) for (let j = 0; j < count; j++) a[j] = params[j];
  }
  return { values, losses };
}

// E over the batch as one parameter varies, every other at its value in `params` (the loss-vs-weight plot).
function lossAlong(M, P, setting, params, j, ws) {
  const K = M.examples.length, scale = M.batchMean ? 1 / K : 1;
  const args = setting.x.map((x, k) => [...params, ...M.constantValues, ...x, ...setting.y[k]]);  // built once; only p[j] moves
  return ws.map(w => {
    let E = 0;
    for (const a of args) { a[j] = w; E += P.forward(...a)[M.lossIndex]; }
    return K === 1 ? E : E * scale;
  });
}
