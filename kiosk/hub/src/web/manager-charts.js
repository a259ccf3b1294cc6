//! The report page's two charts, drawn as inline SVG: waiting time by hour of issue (mean and
//! 90th percentile against the target) and load by service (tickets issued and served).

const NS = "http://www.w3.org/2000/svg";

function el(tag, attrs = {}, text) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** A round upper bound for an axis: 1, 2, 5 × 10ⁿ steps. */
function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const f of [1, 2, 2.5, 5, 10]) if (f * p >= v) return f * p;
  return 10 * p;
}

function legend(svg, x, y, items) {
  let cx = x;
  for (const [color, label] of items) {
    svg.append(el("rect", { x: cx, y: y - 9, width: 12, height: 10, fill: color, rx: 2 }));
    const t = el("text", { x: cx + 16, y, class: "ch-legend" }, label);
    svg.append(t);
    cx += 28 + label.length * 13;
  }
}

/**
 * Waiting time by hour: `rows` are the report's `by_hour` rows (`key` "09", `wait`).
 * Bars are the mean, ticks the 90th percentile, a dashed line the target.
 */
export function drawHourChart(rows, { target, labels }) {
  const W = 600, H = 250, L = 44, R = 12, T = 26, B = 30;
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, class: "ch", role: "img", "aria-label": labels.mean });
  const data = rows.map((r) => {
    const wait = (r.stats ?? r).wait;
    return { hour: r.key, mean: (wait.mean_s ?? 0) / 60, p90: (wait.p90_s ?? 0) / 60, n: wait.count };
  });
  if (!data.length) {
    svg.append(el("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "ch-empty" }, labels.empty));
    return svg;
  }
  const max = niceMax(Math.max(target * 1.2, ...data.map((d) => d.p90)));
  const y = (v) => T + (H - T - B) * (1 - v / max);
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    svg.append(el("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "ch-grid" }));
    svg.append(el("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end", class: "ch-axis" }, Number.isInteger(v) ? v : v.toFixed(1)));
  }
  svg.append(el("text", { x: 4, y: 14, class: "ch-axis" }, labels.minutes));
  const slot = (W - L - R) / data.length;
  const bw = Math.min(36, slot * 0.6);
  data.forEach((d, i) => {
    const cx = L + slot * (i + 0.5);
    const bar = el("rect", { x: cx - bw / 2, y: y(d.mean), width: bw, height: Math.max(0, y(0) - y(d.mean)), class: "ch-bar ch-mean", rx: 2 });
    bar.dataset.hour = d.hour;
    bar.append(el("title", {}, `${d.hour}:00 · ${labels.mean} ${d.mean.toFixed(1)} · ${labels.p90} ${d.p90.toFixed(1)} (${d.n})`));
    svg.append(bar);
    svg.append(el("line", { x1: cx - bw / 2 - 3, x2: cx + bw / 2 + 3, y1: y(d.p90), y2: y(d.p90), class: "ch-p90" }));
    svg.append(el("line", { x1: cx, x2: cx, y1: y(d.mean), y2: y(d.p90), class: "ch-p90-stem" }));
    svg.append(el("text", { x: cx, y: H - B + 16, "text-anchor": "middle", class: "ch-axis" }, `${d.hour}:00`));
  });
  svg.append(el("line", { x1: L, x2: W - R, y1: y(target), y2: y(target), class: "ch-target" }));
  legend(svg, L + 8, 16, [["#5b8fd6", labels.mean], ["#c62828", labels.p90], ["#1a7f37", labels.target]]);
  return svg;
}

/** Horizontal bars, one row per item: `value` (issued) and the lighter `value2` (served) below. */
export function drawBarChart(items, { labels }) {
  // As tall as the hour chart beside it; taller only when there are many services.
  const L = 130, R = 44, T = 30, W = 600;
  const rowH = Math.max(26, Math.min(48, (250 - T - 8) / Math.max(1, items.length)));
  const H = Math.max(250, T + items.length * rowH + 8);
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, class: "ch", role: "img", "aria-label": labels.a });
  if (!items.length) {
    svg.append(el("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "ch-empty" }, labels.empty));
    return svg;
  }
  const max = niceMax(Math.max(...items.map((d) => d.value)));
  const x = (v) => L + (W - L - R) * (v / max);
  const a = rowH * 0.42, b = rowH * 0.26;
  items.forEach((d, i) => {
    const top = T + i * rowH + (rowH - a - b - 3) / 2;
    svg.append(el("text", { x: L - 8, y: top + a + 4, "text-anchor": "end", class: "ch-label" }, d.label));
    const bar = el("rect", { x: L, y: top, width: Math.max(0, x(d.value) - L), height: a, class: "ch-bar ch-issued", rx: 2 });
    bar.dataset.value = d.value;
    svg.append(bar);
    svg.append(el("rect", { x: L, y: top + a + 3, width: Math.max(0, x(d.value2) - L), height: b, class: "ch-bar ch-served", rx: 2 }));
    svg.append(el("text", { x: x(d.value) + 5, y: top + a - 2, class: "ch-value" }, d.value));
  });
  svg.append(el("line", { x1: L, x2: L, y1: T - 4, y2: H - 6, class: "ch-grid" }));
  legend(svg, L, 16, [["#5b8fd6", labels.a], ["#9cc7a4", labels.b]]);
  return svg;
}
