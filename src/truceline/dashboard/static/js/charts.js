// Small SVG charts drawn in the page (no chart library, no CDN): the coalition's pledges against
// requirements as bars, and the force plan's projections as lines. Every text goes in through
// textContent; colours are SVG attributes, not inline styles (the pages' CSP allows none).

const NS = "http://www.w3.org/2000/svg";

export function svg(tag, attrs = {}, text) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== null && v !== undefined) e.setAttribute(k, String(v));
  }
  if (text !== undefined) e.textContent = String(text);
  return e;
}

export function fmtQty(x) {
  if (x === null || x === undefined) return "–";
  const a = Math.abs(x);
  if (a >= 1e9) return `${(x / 1e9).toFixed(1)} bn`;
  if (a >= 1e6) return `${(x / 1e6).toFixed(1)} m`;
  if (a >= 1e4) return `${Math.round(x / 1e3)}k`;
  return Number.isInteger(x) ? x.toLocaleString("en") : x.toLocaleString("en", { maximumFractionDigits: 1 });
}

const STATUS_COLOURS = { met: "#2e7d32", short: "#c62828", "not required": "#78909c" };

function statusColour(status) {
  return STATUS_COLOURS[status] || "#ef6c00"; // "short, conditional pledges would close it"
}

/**
 * Pledged (counted now, and conditional) against required, one row per capability, grouped by
 * category. The scale is the share of the requirement, up to 200 %; a capability nobody requires
 * shows its pledges only.
 */
export function drawGapChart(container, gaps) {
  const LABEL_W = 230;
  const TEXT_W = 190;
  const ROW_H = 18;
  const HEAD_H = 20;
  const MAX_SHARE = 2;
  const width = Math.max(container.clientWidth || 700, 560);
  const barW = width - LABEL_W - TEXT_W;
  const x = (share) => LABEL_W + (barW * Math.min(share, MAX_SHARE)) / MAX_SHARE;
  const categories = [...new Set(gaps.map((g) => g.category))];
  const height = HEAD_H + (gaps.length + categories.length) * ROW_H + 4;
  const chart = svg("svg", { width, height, class: "gap-svg", role: "img", "aria-label": "pledges against requirements" });
  for (const share of [0, 0.5, 1, 1.5, 2]) {
    chart.append(svg("line", { x1: x(share), x2: x(share), y1: HEAD_H - 4, y2: height, stroke: share === 1 ? "#222" : "#e0e0e0", "stroke-width": share === 1 ? 1.2 : 1 }));
    chart.append(svg("text", { x: x(share), y: 12, "text-anchor": "middle", class: "axis" }, `${share * 100} %`));
  }
  let y = HEAD_H;
  for (const category of categories) {
    chart.append(svg("text", { x: 2, y: y + ROW_H - 5, class: "category" }, category));
    y += ROW_H;
    for (const g of gaps.filter((row) => row.category === category)) {
      const row = svg("g", { class: "gap-row", "data-capability": g.capability, "data-status": g.status });
      row.append(svg("text", { x: 10, y: y + ROW_H - 5, class: "label" }, g.name.length > 34 ? g.name.slice(0, 33) + "…" : g.name));
      const colour = statusColour(g.status);
      if (g.required > 0) {
        const pledged = g.pledged / g.required;
        const conditional = (g.pledged + g.conditional) / g.required;
        row.append(svg("rect", { x: LABEL_W, y: y + 3, width: x(conditional) - LABEL_W, height: ROW_H - 6, fill: colour, "fill-opacity": 0.25, class: "bar-conditional" }));
        row.append(svg("rect", { x: LABEL_W, y: y + 3, width: Math.max(x(pledged) - LABEL_W, pledged > 0 ? 1 : 0), height: ROW_H - 6, fill: colour, class: "bar-pledged" }));
        if (conditional > MAX_SHARE) row.append(svg("text", { x: x(MAX_SHARE) + 2, y: y + ROW_H - 5, class: "axis" }, "»"));
      } else {
        row.append(svg("rect", { x: LABEL_W, y: y + 3, width: 6, height: ROW_H - 6, fill: colour, class: "bar-pledged" }));
      }
      const figures = g.required > 0 ? `${fmtQty(g.pledged)} / ${fmtQty(g.required)} ${g.unit}` : `${fmtQty(g.pledged)} ${g.unit}, not required`;
      row.append(svg("text", { x: LABEL_W + barW + 6, y: y + ROW_H - 5, class: "figures" }, figures));
      const pledgers = g.pledgers.map((p) => `${p.participant} ${fmtQty(p.quantity)}`).join(", ");
      row.append(svg("title", {}, `${g.name} (${g.capability}): required ${fmtQty(g.required)}, pledged ${fmtQty(g.pledged)}, conditional ${fmtQty(g.conditional)}, gap ${fmtQty(g.gap)} ${g.unit} — ${g.status}${pledgers ? `; pledged by ${pledgers}` : ""}`));
      chart.append(row);
      y += ROW_H;
    }
  }
  container.replaceChildren(chart);
}

const PALETTE = ["#1565c0", "#c62828", "#2e7d32", "#6a1b9a", "#ef6c00", "#00838f", "#5d4037", "#ad1457", "#455a64"];

/**
 * Lines over months: ``series`` [{name, values, colour?, dash?}], ``rules`` horizontal lines
 * [{value, label, colour, dash?}], ``mark`` a month to draw a vertical line at.
 */
export function drawLineChart(container, months, series, { rules = [], mark = null, unit = "", scale = 1 } = {}) {
  const W = Math.max(container.clientWidth || 520, 420);
  const H = 240;
  const L = 58;
  const R = 12;
  const T = 12;
  const B = 34;
  const LEGEND_H = 16 * Math.ceil((series.length + rules.length) / 3);
  const values = [...series.flatMap((s) => s.values), ...rules.map((r) => r.value)].filter((v) => v !== null && v !== undefined);
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (!(hi > lo)) { lo -= 1; hi += 1; }
  const pad = (hi - lo) * 0.08;
  lo -= pad; hi += pad;
  const n = months.length;
  const x = (i) => L + ((W - L - R) * i) / Math.max(n - 1, 1);
  const y = (v) => T + (H - T - B) * (1 - (v - lo) / (hi - lo));
  const chart = svg("svg", { width: W, height: H + LEGEND_H, class: "line-svg", role: "img" });
  for (let k = 0; k <= 4; k++) {
    const v = lo + ((hi - lo) * k) / 4;
    chart.append(svg("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: "#eceff1" }));
    chart.append(svg("text", { x: L - 4, y: y(v) + 4, "text-anchor": "end", class: "axis" }, `${fmtQty(v / scale)}${unit}`));
  }
  const step = Math.max(1, Math.round(n / 8));
  for (let i = 0; i < n; i += step) chart.append(svg("text", { x: x(i), y: H - B + 16, "text-anchor": "middle", class: "axis" }, months[i]));
  if (mark && months.includes(mark)) {
    const i = months.indexOf(mark);
    chart.append(svg("line", { x1: x(i), x2: x(i), y1: T, y2: H - B, stroke: "#555", "stroke-dasharray": "3 3" }));
    chart.append(svg("text", { x: x(i) + 3, y: T + 10, class: "axis" }, "target month"));
  }
  const legend = [];
  rules.forEach((r) => {
    chart.append(svg("line", { x1: L, x2: W - R, y1: y(r.value), y2: y(r.value), stroke: r.colour || "#000", "stroke-dasharray": r.dash || null, "stroke-width": 1.2, class: "rule" }));
    legend.push([r.label, r.colour || "#000", r.dash]);
  });
  series.forEach((s, k) => {
    const colour = s.colour || PALETTE[k % PALETTE.length];
    const points = s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
    const line = svg("polyline", { points, fill: "none", stroke: colour, "stroke-width": 1.6, "stroke-dasharray": s.dash || null, class: "series", "data-name": s.name });
    line.append(svg("title", {}, `${s.name}: ${fmtQty(s.values[0] / scale)}${unit} → ${fmtQty(s.values[n - 1] / scale)}${unit}`));
    chart.append(line);
    legend.push([s.name, colour, s.dash]);
  });
  legend.forEach(([label, colour, dash], k) => {
    const lx = L + (k % 3) * ((W - L) / 3);
    const ly = H + 4 + 16 * Math.floor(k / 3);
    chart.append(svg("line", { x1: lx, x2: lx + 18, y1: ly + 6, y2: ly + 6, stroke: colour, "stroke-width": 2, "stroke-dasharray": dash || null }));
    chart.append(svg("text", { x: lx + 22, y: ly + 10, class: "legend-text" }, label.length > 34 ? label.slice(0, 33) + "…" : label));
  });
  container.replaceChildren(chart);
}
