// The coalition page: the guarantee's pledges against the plan's requirements (a bar chart), the
// reassurance force's planned and reported positions on the map with the basing area and the
// minimum distance from the line, the posture breaches, the force plan and ratification. Read
// from /v1/dashboard/coalition; the situation (warning level, cease-fire, ratified only) lives in
// the query string: ?level=3&ceasefire=false&ratified_only=true.

/* global L */
import { ApiError, api, clear, fmtIso, getToken, h, showMessage, toLogin, whoAmI } from "./api.js";
import { drawGeography } from "./basemap.js";
import { drawGapChart, drawLineChart, fmtQty } from "./charts.js";

const KNOWN = ["level", "ceasefire", "ratified_only"];
const BREACH = "#c62828";
let map;
let unitLayer;
let situation = { level: 1, ceasefire: true, ratified_only: false };

function show(value) {
  const s = String(value);
  return JSON.stringify(s.length > 40 ? s.slice(0, 40) + "…" : s);
}

/** The situation from the address; a bad parameter is named, ignored, and the rest apply. */
function readQuery() {
  const params = new URLSearchParams(location.search);
  for (const key of params.keys()) {
    if (!KNOWN.includes(key)) showMessage(`Unknown parameter ${show(key)} ignored; this page takes ${KNOWN.join(", ")}.`);
  }
  const level = params.get("level");
  if (level !== null) {
    if (/^[1-5]$/.test(level)) situation.level = Number(level);
    else showMessage(`level=${show(level)} is not a warning level; expected 1 to 5. Showing level 1.`);
  }
  for (const key of ["ceasefire", "ratified_only"]) {
    const v = params.get(key);
    if (v === null) continue;
    if (v === "true" || v === "false") situation[key] = v === "true";
    else showMessage(`${key}=${show(v)} is not true or false; ignored.`);
  }
}

function query() {
  const params = new URLSearchParams();
  if (situation.level !== 1) params.set("level", String(situation.level));
  if (!situation.ceasefire) params.set("ceasefire", "false");
  if (situation.ratified_only) params.set("ratified_only", "true");
  const q = params.toString();
  return q ? `?${q}` : "";
}

function table(headers, rows, attrs = {}) {
  return h("table", { class: "list", ...attrs }, h("thead", {}, h("tr", {}, headers.map((x) => h("th", {}, x)))), h("tbody", {}, rows));
}

function renderHead(doc) {
  const c = doc.coalition;
  document.title = `Truceline — ${c.title}`;
  document.getElementById("title").textContent = c.title;
  clear(document.getElementById("coalition-note")).append(
    `${c.participants.length} participants with pledges · status of ${c.as_of} · agreement ${c.agreement.id} (${c.agreement.version}) · file ${c.source}. `,
    c.note || "");
  const counted = doc.pledges.filter((p) => p.counted).length;
  document.getElementById("summary").textContent = `${doc.situation.description}: ${counted} of ${doc.pledges.length} pledges count; ${doc.breaches.length} posture breach${doc.breaches.length === 1 ? "" : "es"}`;
}

function renderGaps(doc) {
  drawGapChart(document.getElementById("gap-chart"), doc.gaps);
  const rows = doc.gaps.map((g) => h("tr", { "data-capability": g.capability, class: g.status === "short" ? "short" : "" },
    h("td", {}, g.category), h("td", { title: g.capability }, g.name), h("td", {}, fmtQty(g.required)), h("td", {}, fmtQty(g.pledged)),
    h("td", {}, fmtQty(g.conditional)), h("td", {}, fmtQty(g.gap)), h("td", {}, g.unit), h("td", {}, g.status),
    h("td", {}, g.pledgers.map((p) => `${p.participant} ${fmtQty(p.quantity)}`).join(", "))));
  clear(document.getElementById("gaps")).append(
    table(["Category", "Capability", "Required", "Pledged", "Conditional", "Gap", "Unit", "Status", "Pledged by"], rows, { id: "gap-table" }));
}

function conditions(p) {
  const parts = [];
  if (p.after_ceasefire) parts.push("after a cease-fire");
  if (p.warning_level) parts.push(`from warning level ${p.warning_level}`);
  if (p.after_ratification) parts.push("once ratified");
  return parts.join(", ") || "none";
}

function renderPledges(doc) {
  const rows = doc.pledges.map((p) => h("tr", { "data-id": p.id, class: p.counted ? "" : "not-counted" },
    h("td", {}, p.id), h("td", {}, p.participant), h("td", { title: p.capability }, p.name), h("td", {}, `${fmtQty(p.quantity)} ${p.unit}`),
    h("td", {}, p.base ? `${p.based.replaceAll("_", " ")}: ${p.base}` : p.based.replaceAll("_", " ")), h("td", {}, conditions(p)),
    h("td", {}, p.deliveries.length ? p.deliveries.map((d) => `${d.month} ${fmtQty(d.quantity)}`).join(", ") : "–"),
    h("td", {}, p.status === "withdrawn" ? "withdrawn" : p.counted ? "counts" : "not yet"), h("td", {}, `${p.as_of}${p.versions > 1 ? ` (v${p.versions})` : ""}`)));
  clear(document.getElementById("pledges")).append(
    table(["Pledge", "By", "Capability", "Quantity", "Based", "Conditions", "Deliveries", "Now", "As of"], rows, { id: "pledge-table" }));
}

function renderRatification(doc) {
  const rows = doc.ratification.map((r) => h("tr", { class: r.in_force ? "" : "not-counted" },
    h("td", {}, r.participant), h("td", {}, r.name), h("td", {}, r.procedure), h("td", {}, `${r.done} of ${r.total}`),
    h("td", {}, r.current ? `${r.current.replaceAll("_", " ")}${r.since ? ` (${r.since})` : ""}` : "not signed"),
    h("td", {}, r.in_force ? "in force" : (r.next_step || "–").replaceAll("_", " "))));
  clear(document.getElementById("ratification")).append(table(["", "Guarantor", "Procedure", "Steps", "Where", "Next"], rows, { id: "ratification-table" }));
}

function unitTooltip(u) {
  const where = `${u.place || `${u.lat.toFixed(3)}, ${u.lon.toFixed(3)}`}${u.reported ? ` (reported ${u.reported})` : ""}`;
  const distance = u.distance_km === null ? "" : `, ${Math.round(u.distance_km)} km from the line`;
  return `${u.unit} ${u.name ? `— ${u.name} ` : ""}(${u.participant}, ${u.which}): ${where}${distance}; ${u.status}`;
}

function renderMap(doc) {
  unitLayer.clearLayers();
  const rf = doc.reassurance_force;
  unitLayer.addLayer(L.geoJSON(rf.min_distance_line, { style: { color: BREACH, weight: 2, dashArray: "6 5", opacity: 0.9 }, interactive: true })
    .bindTooltip(`${rf.min_distance_km} km from the contact line: no reassurance-force unit closer`, { sticky: true }));
  const planned = new Map();
  for (const u of doc.units) if (u.which === "planned") planned.set(u.unit, u);
  const bounds = [];
  for (const u of doc.units) {
    const bad = u.breaches.length > 0;
    const colour = bad ? BREACH : "#263238";
    if (u.which === "actual") {
      const p = planned.get(u.unit);
      if (p && (p.lat !== u.lat || p.lon !== u.lon)) {
        unitLayer.addLayer(L.polyline([[p.lat, p.lon], [u.lat, u.lon]], { color: colour, weight: 1, dashArray: "2 3", interactive: false }));
      }
      unitLayer.addLayer(L.circleMarker([u.lat, u.lon], { radius: 5.5, color: colour, weight: 1.5, fillColor: colour, fillOpacity: 0.9, className: `unit-marker unit-actual${bad ? " unit-breach" : ""}` })
        .bindTooltip(unitTooltip(u)));
    } else {
      // A planned position: a hollow square of fixed size on screen (styled by class, not inline).
      const icon = L.divIcon({ className: `unit-marker unit-planned${bad ? " unit-breach" : ""}`, iconSize: [10, 10], html: "" });
      unitLayer.addLayer(L.marker([u.lat, u.lon], { icon, keyboard: false }).bindTooltip(unitTooltip(u)));
    }
    bounds.push([u.lat, u.lon]);
  }
  if (bounds.length) map.fitBounds(L.latLngBounds(bounds).pad(0.15));
  document.body.dataset.units = String(doc.units.length);
}

function renderBreaches(doc) {
  const box = clear(document.getElementById("breaches"));
  if (!doc.breaches.length) {
    box.append(h("p", { class: "hint" }, "No unit position breaches the agreement."));
    return;
  }
  box.append(table(["Unit", "By", "Position", "Place", "Clause", "Breach"], doc.breaches.map((b) => h("tr", { class: "breach" },
    h("td", {}, b.unit), h("td", {}, b.participant), h("td", {}, b.which), h("td", {}, b.place || "–"), h("td", { title: b.text }, b.clause), h("td", {}, b.reason))),
  { id: "breach-table" }));
  document.body.dataset.breaches = String(doc.breaches.length);
}

function renderUnits(doc) {
  const rows = doc.units.map((u) => h("tr", { class: u.breaches.length ? "breach" : "" },
    h("td", {}, u.unit), h("td", {}, u.name), h("td", {}, u.participant), h("td", {}, u.capability), h("td", {}, u.basing.replaceAll("_", " ")),
    h("td", {}, u.which), h("td", {}, u.place || `${u.lat.toFixed(3)}, ${u.lon.toFixed(3)}`), h("td", {}, u.reported || "–"),
    h("td", {}, u.distance_km === null ? "–" : `${Math.round(u.distance_km)} km`), h("td", {}, u.status)));
  clear(document.getElementById("units")).append(
    table(["Unit", "Name", "By", "Capability", "Basing", "Position", "Place", "Reported", "From the line", "Status"], rows, { id: "unit-table" }));
}

function renderForcePlan(doc) {
  const fp = doc.force_plan;
  const box = clear(document.getElementById("shortfalls"));
  if (!fp) {
    clear(document.getElementById("personnel-chart"));
    clear(document.getElementById("equipment-chart"));
    box.append(h("p", { class: "hint" }, "This coalition file has no force plan."));
    return;
  }
  const rules = [{ value: fp.personnel.target, label: `target ${fmtQty(fp.personnel.target)}`, colour: "#000" }];
  if (fp.personnel.ceiling) rules.push({ value: fp.personnel.ceiling, label: `ceiling ${fmtQty(fp.personnel.ceiling)}`, colour: BREACH, dash: "6 3" });
  drawLineChart(document.getElementById("personnel-chart"), fp.months, [
    { name: "strength (active and in training)", values: fp.personnel.strength, colour: "#1565c0" },
    { name: "active (trained)", values: fp.personnel.active, colour: "#1565c0", dash: "2 3" },
  ], { rules, mark: fp.target_by });
  const withTarget = fp.equipment.filter((e) => e.target);
  drawLineChart(document.getElementById("equipment-chart"), fp.months,
    withTarget.map((e) => ({ name: e.name, values: e.stock.map((v) => (100 * v) / e.target) })),
    { rules: [{ value: 100, label: "target", colour: "#000" }], mark: fp.target_by, unit: " %" });
  const rows = fp.shortfalls.map((s) => h("tr", { class: s.shortfall > 0 ? "short" : "" },
    h("td", {}, s.name), h("td", {}, fmtQty(s.target)), h("td", {}, s.by), h("td", {}, fmtQty(Math.round(s.projected))), h("td", {}, s.shortfall > 0 ? fmtQty(Math.round(s.shortfall)) : "met"),
    h("td", {}, s.met_from || "–"),
    h("td", {}, s.contributors.slice(0, 4).map((c) => `${c.pledge} +${fmtQty(Math.round(c.amount))}`).join(", ") || "–"),
    h("td", {}, s.shortfall > 0 ? (s.closers.map((c) => `${c.pledge} +${fmtQty(Math.round(c.amount))}${c.note ? ` (${c.note})` : ""}`).join(", ") || "nothing pledged would close it") : "")));
  box.append(table(["Target", "Of", "By", "Projected", "Shortfall", "Met from", "Counted pledges add", "Would close it"], rows, { id: "shortfall-table" }));
  if (fp.above_ceiling.length) box.append(h("p", { class: "hint" }, `Above the ceiling in ${fp.above_ceiling.length} month(s), from ${fp.above_ceiling[0]}.`));
}

function fillSituation() {
  const level = document.getElementById("s-level");
  for (let l = 1; l <= 5; l++) level.append(h("option", { value: String(l), selected: l === situation.level ? true : null }, String(l)));
  document.getElementById("s-ceasefire").checked = situation.ceasefire;
  document.getElementById("s-ratified").checked = situation.ratified_only;
  const changed = () => {
    situation = {
      level: Number(level.value),
      ceasefire: document.getElementById("s-ceasefire").checked,
      ratified_only: document.getElementById("s-ratified").checked,
    };
    history.replaceState(null, "", location.pathname + query());
    fetchDoc().then(render).catch(fail);
  };
  document.getElementById("situation").addEventListener("change", changed);
  document.getElementById("situation").addEventListener("submit", (e) => e.preventDefault());
}

function fetchDoc() {
  document.getElementById("status").textContent = "loading…";
  const params = new URLSearchParams({ level: String(situation.level), ceasefire: String(situation.ceasefire), ratified_only: String(situation.ratified_only) });
  return api(`/v1/dashboard/coalition?${params}`);
}

function render(doc) {
  renderHead(doc);
  renderGaps(doc);
  renderMap(doc);
  renderBreaches(doc);
  renderUnits(doc);
  renderForcePlan(doc);
  renderPledges(doc);
  renderRatification(doc);
  document.getElementById("status").textContent = `as of ${fmtIso(doc.coalition.as_of)}`;
  document.body.dataset.level = String(doc.situation.warning_level);
  document.body.dataset.ready = "true";
}

function fail(err) {
  document.getElementById("status").textContent = "";
  if (err instanceof ApiError && err.status === 401) return;
  showMessage(`The coalition could not be loaded: ${err.message}`);
}

async function main() {
  if (!getToken()) return toLogin();
  readQuery();
  fillSituation();
  const docPromise = fetchDoc();
  docPromise.catch(() => {}); // handled below, once the map is ready: not an unhandled rejection
  const [, geo] = await Promise.all([whoAmI(), api("/v1/dashboard/geography")]);
  map = L.map("posture-map", { minZoom: 4, maxZoom: 14 });
  map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
  map.setView([49, 31], 5);
  const base = drawGeography(map, geo, { interactive: false });
  map.removeLayer(base.overlays.Places); // the units' own labels matter here; places stay a layer to switch on
  const rf = geo.reassurance_force;
  base.overlays["Basing area"] = L.geoJSON(rf, { pane: "zones", style: { color: "#00695c", weight: 1, fillColor: "#2e7d32", fillOpacity: 0.15 } })
    .bindTooltip(`Basing area (${rf.properties.basing_oblasts.join(", ")})`, { sticky: true }).addTo(map);
  unitLayer = L.layerGroup().addTo(map);
  base.overlays["Units and the minimum distance"] = unitLayer;
  L.control.layers(null, base.overlays, { collapsed: true }).addTo(map);
  render(await docPromise);
}

window.addEventListener("error", (e) => showMessage(`Something went wrong in the page: ${e.message}`));
main().catch(fail);
