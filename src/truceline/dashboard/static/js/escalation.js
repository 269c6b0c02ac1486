// The escalation model under the timeline: the assess stage's bivariate Hawkes fit per sector and
// day (branching ratio with its 95 % interval, and the retaliation terms), on the same 14 days and
// columns as the counts above. It follows the map's sector selection and day: with a sector chosen
// it shows that sector's interval and retaliation; with none, every sector's ratio, to pick from.
// The fits come in the day's assessments, so a participant sees only the fits it may read.

import { sideColour } from "./api.js";
import { LABEL_W, dayColumns } from "./timeline.js";

const SVG = "http://www.w3.org/2000/svg";
const RATIO_H = 120;
const RET_H = 84;
const PAD_T = 8;
const PAD_B = 16;
const SPIRAL_RATIO = 0.75; // the assess stage's threshold for the interval's lower bound
const SPIRAL = "#b71c1c";
const LINE = "#37474f";
const SECTOR_LINE = "#90a4ae";

function el(tag, attrs, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

function fmt(x) {
  return x === null || x === undefined ? "–" : Number(x).toFixed(2);
}

/** One sentence for a fit (tooltips and the hint under the plot). */
export function describeFit(sector, day, e) {
  if (!e) return `${sector} ${day}: no fire in the window, no fit`;
  if (!e.fitted) return `${sector} ${day}: not fitted (${e.note})`;
  const ci = e.lo === null ? "interval not available" : `95 % ${fmt(e.lo)}–${fmt(e.hi)}`;
  const n = e.n === null ? "" : ` from ${e.n} fire incidents`;
  const ret = e.ukr_answers_rus === null ? "" : `; retaliation UKR←RUS ${fmt(e.ukr_answers_rus)}, RUS←UKR ${fmt(e.rus_answers_ukr)}`;
  return `${sector} ${day}: branching ratio ${fmt(e.ratio)} (${ci})${n}${ret}${e.spiral ? "; SPIRAL" : ""}${e.note ? ` (${e.note})` : ""}`;
}

function axis(svg, top, height, max, ticks, label, x0, x1) {
  const y = (v) => top + height - (v / max) * height;
  for (const t of ticks) {
    if (t > max) continue;
    svg.append(el("line", { x1: x0, x2: x1, y1: y(t), y2: y(t), class: "esc-grid" }));
    svg.append(el("text", { x: x0 - 4, y: y(t) + 3, class: "esc-tick", "text-anchor": "end" }, t.toFixed(t < 1 && t > 0 ? 2 : 1)));
  }
  svg.append(el("text", { x: 4, y: top + 10, class: "esc-axis-label" }, label));
  return y;
}

function dayBand(svg, cols, days, filters, top, height, onPick) {
  days.forEach((day, d) => {
    const hit = el("rect", { x: cols.x0(d), y: top, width: cols.w, height, class: day === filters.day ? "esc-day esc-day-selected" : "esc-day" });
    hit.append(el("title", {}, `${day}: show this day on the map`));
    hit.addEventListener("click", () => onPick(day, undefined));
    svg.append(hit);
  });
}

/** A polyline through consecutive points only (a gap where a day has no fit). */
function segments(points) {
  const out = [];
  let run = [];
  for (const p of points) {
    if (p === null) {
      if (run.length) out.push(run);
      run = [];
    } else run.push(p);
  }
  if (run.length) out.push(run);
  return out;
}

function polyline(svg, pts, attrs) {
  for (const run of segments(pts)) {
    if (run.length > 1) svg.append(el("polyline", { points: run.map(([x, y]) => `${x},${y}`).join(" "), fill: "none", ...attrs }));
  }
}

/**
 * Draw into `container` (and its caption into `caption`).
 * days: the timeline's 14 days; assessments: the day's assessments (each with .escalation or null);
 * filters: {sector, day}; names: sector id → name; onPick(day | undefined, sector | undefined | null).
 */
export function drawEscalation(container, caption, days, assessments, filters, names, onPick) {
  const bySector = new Map();
  for (const a of assessments) {
    if (!a.escalation) continue;
    if (!bySector.has(a.sector)) bySector.set(a.sector, new Map());
    bySector.get(a.sector).set(a.day, a.escalation);
  }
  const sector = filters.sector || null;
  const cols = dayColumns(container, days.length);
  const width = cols.width;
  const x1 = width - 4;
  container.dataset.sector = sector || "";
  container.dataset.fits = "0";

  if (sector && !bySector.has(sector)) {
    container.replaceChildren(Object.assign(document.createElement("p"), {
      className: "hint esc-none",
      textContent: `No escalation fit you may see for ${sector}${names[sector] ? " " + names[sector] : ""} in these 14 days: the assess stage fitted none there, or its assessments are not released to you.`,
    }));
    caption.textContent = `Escalation model (assess stage, bivariate Hawkes fit) — ${sector}`;
    return;
  }
  if (!bySector.size) {
    container.replaceChildren(Object.assign(document.createElement("p"), {
      className: "hint esc-none",
      textContent: "No escalation fit you may see in these 14 days.",
    }));
    caption.textContent = "Escalation model (assess stage, bivariate Hawkes fit)";
    return;
  }

  const sectors = sector ? [sector] : [...bySector.keys()].sort();
  let max = 1.2;
  for (const s of sectors) for (const e of bySector.get(s).values()) max = Math.max(max, (sector ? e.hi : e.ratio) || 0);
  max = Math.min(Math.ceil(max * 5) / 5, 10);
  const totalH = PAD_T + RATIO_H + PAD_B + (sector ? RET_H + PAD_B : 0);
  const svg = el("svg", { width, height: totalH, class: "escalation-svg", role: "img", "aria-label": sector ? `escalation model of ${sector}` : "escalation model of every sector" });
  const top = PAD_T;
  dayBand(svg, cols, days, filters, top, RATIO_H, onPick);
  const y = axis(svg, top, RATIO_H, max, [0, 0.5, SPIRAL_RATIO, 1, 2, 5].filter((t) => t <= max), "branching ratio", LABEL_W, x1);
  svg.append(el("line", { x1: LABEL_W, x2: x1, y1: y(1), y2: y(1), class: "esc-critical" }));
  svg.append(el("text", { x: x1 - 2, y: y(1) - 3, class: "esc-tick", "text-anchor": "end" }, "1: each shot brings one more"));
  svg.append(el("line", { x1: LABEL_W, x2: x1, y1: y(SPIRAL_RATIO), y2: y(SPIRAL_RATIO), class: "esc-threshold" }));
  let fits = 0;

  if (sector) {
    const fitsOf = bySector.get(sector);
    const ofDay = days.map((day) => fitsOf.get(day) || null);
    // The 95 % interval as a band over consecutive days that have one.
    const band = days.map((_, d) => {
      const e = ofDay[d];
      return e && e.fitted && e.lo !== null ? [cols.mid(d), y(e.lo), y(e.hi)] : null;
    });
    for (const run of segments(band)) {
      const upper = run.map(([x, , hi]) => `${x},${hi}`);
      const lower = run.map(([x, lo]) => `${x},${lo}`).reverse();
      const shape = run.length > 1
        ? el("polygon", { points: [...upper, ...lower].join(" "), class: "esc-ci" })
        : el("rect", { x: run[0][0] - 3, y: run[0][2], width: 6, height: Math.max(run[0][1] - run[0][2], 1), class: "esc-ci" });
      svg.append(shape);
    }
    polyline(svg, days.map((_, d) => (ofDay[d] && ofDay[d].fitted ? [cols.mid(d), y(ofDay[d].ratio)] : null)), { stroke: LINE, "stroke-width": 1.8 });
    days.forEach((day, d) => {
      const e = ofDay[d];
      if (!e) return;
      const x = cols.mid(d);
      const point = e.fitted
        ? el("circle", { cx: x, cy: y(e.ratio), r: 3.6, fill: e.spiral ? SPIRAL : LINE, class: "esc-point", "data-day": day, "data-ratio": e.ratio, "data-lo": e.lo, "data-hi": e.hi })
        : el("circle", { cx: x, cy: y(0), r: 3.2, fill: "#fff", stroke: "#9e9e9e", class: "esc-unfitted", "data-day": day });
      point.append(el("title", {}, describeFit(sector, day, e)));
      point.addEventListener("click", () => onPick(day, undefined));
      svg.append(point);
      if (e.fitted) fits++;
    });

    // Retaliation: how much one side's fire answers the other's (the cross-excitation terms).
    const rTop = top + RATIO_H + PAD_B;
    let rMax = 0.5;
    for (const e of fitsOf.values()) rMax = Math.max(rMax, e.ukr_answers_rus || 0, e.rus_answers_ukr || 0);
    rMax = Math.ceil(rMax * 5) / 5;
    dayBand(svg, cols, days, filters, rTop, RET_H, onPick);
    const ry = axis(svg, rTop, RET_H, rMax, [0, rMax / 2, rMax], "retaliation α", LABEL_W, x1);
    const terms = [["ukr_answers_rus", "UKR", "UKR←RUS: UKR's fire answering RUS's"], ["rus_answers_ukr", "RUS", "RUS←UKR: RUS's fire answering UKR's"]];
    for (const [key, side, label] of terms) {
      polyline(svg, days.map((_, d) => (ofDay[d] && ofDay[d][key] !== null && ofDay[d].fitted ? [cols.mid(d), ry(ofDay[d][key])] : null)), { stroke: sideColour(side), "stroke-width": 1.6 });
      days.forEach((day, d) => {
        const e = ofDay[d];
        if (!e || !e.fitted || e[key] === null) return;
        const dot = el("circle", { cx: cols.mid(d), cy: ry(e[key]), r: 2.8, fill: sideColour(side), class: `esc-ret esc-ret-${side}`, "data-day": day, "data-value": e[key] });
        dot.append(el("title", {}, `${sector} ${day}: ${label} ${fmt(e[key])}`));
        svg.append(dot);
      });
    }
    const key = el("g", { class: "esc-key" });
    let kx = LABEL_W + 6;
    for (const [, side, label] of terms) {
      key.append(el("rect", { x: kx, y: rTop + 2, width: 10, height: 3, fill: sideColour(side) }));
      const t = el("text", { x: kx + 14, y: rTop + 7, class: "esc-tick" }, label);
      key.append(t);
      kx += 250;
    }
    svg.append(key);
    const today = fitsOf.get(filters.day);
    caption.textContent = `Escalation model of ${sector}${names[sector] ? " " + names[sector] : ""} (assess stage, bivariate Hawkes fit of the trailing window; band: 95 % interval; red dot: spiral flagged). ${describeFit(sector, filters.day, today)}.`;
  } else {
    // Every sector's ratio, faint; the busiest on the day shown named. A click picks the sector.
    const onDay = sectors.map((s) => [s, bySector.get(s).get(filters.day)]).filter(([, e]) => e && e.fitted).sort((a, b) => b[1].ratio - a[1].ratio);
    const top3 = new Set(onDay.slice(0, 3).map(([s]) => s));
    for (const s of sectors) {
      const fitsOf = bySector.get(s);
      const pts = days.map((day, d) => {
        const e = fitsOf.get(day);
        return e && e.fitted ? [cols.mid(d), y(e.ratio)] : null;
      });
      const g = el("g", { class: `esc-sector${top3.has(s) ? " esc-sector-top" : ""}`, "data-sector": s });
      const stroke = top3.has(s) ? LINE : SECTOR_LINE;
      for (const run of segments(pts)) {
        if (run.length > 1) g.append(el("polyline", { points: run.map(([x, yy]) => `${x},${yy}`).join(" "), fill: "none", stroke, "stroke-width": top3.has(s) ? 1.8 : 1.1 }));
        for (const [x, yy] of run) g.append(el("circle", { cx: x, cy: yy, r: 2.2, fill: stroke }));
      }
      const last = [...pts].reverse().find((p) => p !== null);
      if (last && top3.has(s)) g.append(el("text", { x: Math.min(last[0] + 5, x1 - 30), y: last[1] - 4, class: "esc-tick" }, s));
      g.append(el("title", {}, `${s}${names[s] ? " " + names[s] : ""}: click for its 95 % interval and retaliation terms`));
      g.addEventListener("click", () => onPick(undefined, s));
      svg.append(g);
      fits += pts.filter(Boolean).length;
    }
    const best = onDay[0];
    caption.textContent = `Escalation model: branching ratio per sector (assess stage, bivariate Hawkes fit). Select a sector for its 95 % interval and retaliation terms.${best ? ` Highest on ${filters.day}: ${describeFit(best[0], filters.day, best[1])}.` : ""}`;
  }
  container.dataset.fits = String(fits);
  container.replaceChildren(svg);
}
