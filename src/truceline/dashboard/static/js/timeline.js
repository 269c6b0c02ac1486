// The timeline: incidents per sector per side per day over two weeks, tinted by each sector-day's
// warning level. It is linked to the map: a click on a cell shows that day and sector there.
// Counts arrive as sparse cells [day, sector, side, kind, status, n] and are summed here under the
// page's filters, so changing a filter redraws the timeline without asking the server again.

import { LEVEL_COLOURS, sideColour } from "./api.js";

const SVG = "http://www.w3.org/2000/svg";
export const LABEL_W = 150;
const ROW_H = 17;
const HEAD_H = 18;

function el(tag, attrs, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** The day columns the timeline and the escalation plot share: width, column width, left edge and middle. */
export function dayColumns(container, nDays) {
  const width = Math.max(container.clientWidth || 900, 500);
  const w = (width - LABEL_W - 4) / nDays;
  return { width, w, x0: (d) => LABEL_W + d * w, mid: (d) => LABEL_W + (d + 0.5) * w };
}

function fitText(e) {
  if (!e) return "";
  if (!e.fitted) return "; escalation not fitted";
  const ci = e.lo === null ? "" : ` (95 % ${e.lo.toFixed(2)}–${e.hi.toFixed(2)})`;
  return `; branching ratio ${e.ratio.toFixed(2)}${ci}${e.spiral ? ", spiral" : ""}`;
}

/**
 * Draw into `container`.
 * tl: the server's timeline; filters: {kind, status, side, sector, day}; assessments: rows with sector/day/level;
 * order: sector ids in map order; names: id → name; onPick(day | null, sector | null).
 */
export function drawTimeline(container, tl, filters, assessments, order, names, onPick) {
  const kindIx = filters.kind ? tl.kinds.indexOf(filters.kind) : -1;
  const statusIx = filters.status ? tl.statuses.indexOf(filters.status) : -1;
  const sideIx = filters.side ? tl.sides.indexOf(filters.side === "none" ? "" : filters.side) : -1;
  const nDays = tl.days.length;
  const counts = new Map(); // sector id → [day][side] counts
  const total = Array.from({ length: nDays }, () => new Array(tl.sides.length).fill(0));
  for (const [d, s, side, k, st, n] of tl.cells) {
    if ((filters.kind && k !== kindIx) || (filters.status && st !== statusIx) || (filters.side && side !== sideIx)) continue;
    const id = tl.sectors[s];
    if (!counts.has(id)) counts.set(id, Array.from({ length: nDays }, () => new Array(tl.sides.length).fill(0)));
    counts.get(id)[d][side] += n;
    total[d][side] += n;
  }
  const levels = new Map(assessments.map((a) => [`${a.sector}|${a.day}`, a]));
  const withData = new Set([...counts.keys(), ...assessments.map((a) => a.sector)]);
  const rows = [["", "All sectors", total]];
  for (const id of [...order, ...[...withData].filter((x) => !order.includes(x)).sort()]) {
    if (withData.has(id) || id === filters.sector) {
      rows.push([id, `${id} ${names[id] || ""}`.trim(), counts.get(id) || Array.from({ length: nDays }, () => new Array(tl.sides.length).fill(0))]);
    }
  }

  const { width, w: cellW } = dayColumns(container, nDays);
  const height = HEAD_H + rows.length * ROW_H + 2;
  const svg = el("svg", { width, height, class: "timeline-svg", role: "img", "aria-label": "incidents per sector and day" });

  tl.days.forEach((day, d) => {
    const x = LABEL_W + d * cellW;
    const head = el("text", { x: x + cellW / 2, y: 12, class: `tl-day${day === filters.day ? " tl-selected" : ""}`, "text-anchor": "middle" }, day.slice(5));
    head.append(el("title", {}, `${day}: show this day on the map`));
    head.addEventListener("click", () => onPick(day, undefined));
    svg.append(head);
    if (day === filters.day) {
      svg.append(el("rect", { x, y: HEAD_H - 2, width: cellW, height: rows.length * ROW_H + 2, class: "tl-day-band" }));
    }
  });

  rows.forEach(([id, label, perDay], r) => {
    const y = HEAD_H + r * ROW_H;
    const selected = id === (filters.sector || "");
    const text = el("text", { x: 4, y: y + ROW_H - 5, class: `tl-label${selected ? " tl-selected" : ""}` }, label.length > 24 ? label.slice(0, 23) + "…" : label);
    text.append(el("title", {}, id ? `${label}: show this sector on the map` : "all sectors"));
    text.addEventListener("click", () => onPick(undefined, id || null));
    svg.append(text);
    const rowMax = Math.max(1, ...perDay.map((sides) => sides.reduce((a, b) => a + b, 0)));
    perDay.forEach((sides, d) => {
      const x = LABEL_W + d * cellW;
      const day = tl.days[d];
      const a = id ? levels.get(`${id}|${day}`) : null;
      const cell = el("g", { class: "tl-cell", "data-day": day, "data-sector": id });
      cell.append(el("rect", { x: x + 0.5, y: y + 0.5, width: cellW - 1, height: ROW_H - 1, fill: a ? LEVEL_COLOURS[a.level] : "#f3f3f3", "fill-opacity": a ? 0.28 : 1 }));
      const sum = sides.reduce((p, q) => p + q, 0);
      let bx = x + 2;
      const barW = cellW - 4;
      sides.forEach((n, s) => {
        if (!n) return;
        const w = (barW * n) / rowMax;
        cell.append(el("rect", { x: bx, y: y + 4, width: w, height: ROW_H - 8, fill: sideColour(tl.sides[s]) }));
        bx += w;
      });
      const parts = sides.map((n, s) => (n ? `${tl.sides[s] || "unattributed"} ${n}` : null)).filter(Boolean).join(", ");
      const warn = a ? `; warning level ${a.level}, P(offensive 7 d) ${Math.round(a.p7 * 100)} %${fitText(a.escalation)}` : "";
      cell.append(el("title", {}, `${id || "All sectors"} ${day}: ${sum} incident${sum === 1 ? "" : "s"}${parts ? " (" + parts + ")" : ""}${warn}`));
      cell.addEventListener("click", () => onPick(day, id || null));
      svg.append(cell);
    });
  });
  container.replaceChildren(svg);
}
