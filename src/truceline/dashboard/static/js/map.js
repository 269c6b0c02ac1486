// The map page: one day's incidents, findings and warnings on the agreement's map, the timeline
// around that day, and the live feed. Everything shown comes from /v1/dashboard/*, which returns
// only what the logged-in participant may see; filters work on the data already loaded.

/* global L */
import {
  ApiError, LEVEL_COLOURS, api, clear, clearMessages, fmtIso, fmtMetres, fmtP, fmtTime, getToken, h, showMessage,
  sideColour, tlpBadge, toLogin, whoAmI,
} from "./api.js";
import { drawGeography, drawWarningBand } from "./basemap.js";
import { drawEscalation } from "./escalation.js";
import { forceLayer } from "./force.js";
import { PointLayer, drawEllipse } from "./pointlayer.js";
import { KINDS, STATUSES, formatQuery, parseQuery } from "./query.js";
import { drawTimeline } from "./timeline.js";

const LIST_LIMIT = 200;
const FEED_POLL_MS = 20000;
const STALE_RETRY_MS = 3000;
const STALE_RETRIES = 20;

let state;
let geo;
let base;
let map;
let data = null; // the day's response
let items = []; // the day's incidents as objects
let findingItems = []; // the day's findings as objects
let incidentLayer;
let findingLayer;
let ceasefireLayer;
const CEASEFIRE = "ceasefire";
let sensorLayer;
let coverageLayer;
let layersControl;
let force = null; // {layer, legend} once the force's posture is loaded
let staleRetries = 0;
let noDataSaid = false;
let feedSeen = new Set();
let firstFeed = true;
let feedSignature = null;
const acknowledged = new Map(); // directive task id → the version this page stored

function alphaOf(p) {
  // Shaded by probability: a sure attribution is solid, a coin toss barely tinted.
  return p === null || p === undefined ? 0.35 : 0.2 + 0.65 * Math.max(0, (p - 0.5) / 0.5);
}

function incidentTooltip(it) {
  return `${fmtTime(it.t)} ${it.sector || "no sector"} ${it.kind}: ${it.side ? `${it.side} ${fmtP(it.p)}` : "unattributed"}, ${it.status}`;
}

function incidentHref(id) {
  return `incident.html?${new URLSearchParams({ id, back: formatQuery(state) })}`;
}

function popupFor(it) {
  return h("div", { class: "popup" },
    h("strong", {}, it.id), h("br"),
    `${fmtTime(it.t)} · ${it.sector || "no sector"} · ${it.kind}${it.weapon ? " (" + it.weapon.replaceAll("_", " ") + ")" : ""}`, h("br"),
    it.side ? `attributed to ${it.side} with ${fmtP(it.p)}` : "not attributed", h("br"),
    `95 % ellipse ${fmtMetres(it.a)} × ${fmtMetres(it.b)} · ${it.n} report${it.n === 1 ? "" : "s"} · ${it.origins} origin${it.origins === 1 ? "" : "s"} · ${it.status} `,
    tlpBadge(it.tlp), h("br"),
    h("a", { href: incidentHref(it.id) }, "Open the incident page →"));
}

function makeLayers() {
  map.createPane("force").style.zIndex = 415;
  map.createPane("sensors").style.zIndex = 420;
  map.createPane("findings").style.zIndex = 430;
  map.createPane("incidents").style.zIndex = 440;
  incidentLayer = new PointLayer({
    pane: "incidents",
    colourOf: (it) => sideColour(it.side),
    draw: (ctx, it, x, y, ppm) => drawEllipse(ctx, it, x, y, ppm, sideColour(it.side), alphaOf(it.p)),
    tooltip: incidentTooltip,
    onClick: (it, latlng) => L.popup().setLatLng(latlng).setContent(popupFor(it)).openOn(map),
  }).addTo(map);
  const findingOptions = {
    pane: "findings",
    colourOf: (f) => sideColour(f.side),
    draw: (ctx, f, x, y) => {
      ctx.globalAlpha = 0.4 + 0.6 * f.confidence;
      ctx.fillStyle = sideColour(f.side);
      ctx.strokeStyle = f.status === "confirmed" ? "#000" : "#fff";
      ctx.lineWidth = 1.2;
      ctx.beginPath();
      ctx.moveTo(x, y - 7); ctx.lineTo(x + 6, y); ctx.lineTo(x, y + 7); ctx.lineTo(x - 6, y); ctx.closePath();
      ctx.fill(); ctx.stroke(); ctx.globalAlpha = 1;
      return 7;
    },
    tooltip: (f) => `Finding ${f.clause} (${f.status}): ${f.side || "no side"}, confidence ${fmtP(f.confidence)}`,
    onClick: (f, latlng) => L.popup().setLatLng(latlng).setContent(findingPopup(f)).openOn(map),
  };
  findingLayer = new PointLayer(findingOptions).addTo(map);
  // The verify stage makes one cease-fire finding per fire incident: drawn by default they would
  // hide the rarer findings (withdrawal, storage, staging) under a second copy of every incident.
  ceasefireLayer = new PointLayer({ ...findingOptions, pane: "findings" });
  sensorLayer = new PointLayer({
    pane: "sensors",
    clusterBelowZoom: 8,
    colourOf: () => "#455a64",
    draw: (ctx, s, x, y) => {
      ctx.fillStyle = s.kind === "radar" ? "#00838f" : "#455a64";
      ctx.beginPath(); ctx.moveTo(x, y - 5); ctx.lineTo(x + 4.5, y + 3.5); ctx.lineTo(x - 4.5, y + 3.5); ctx.closePath(); ctx.fill();
      return 5;
    },
    tooltip: (s) => `${s.kind} sensor ${s.id}: ${s.reports} report(s) sampled, heard in ${s.hours.length} of 24 hours`,
  });
  coverageLayer = new PointLayer({
    pane: "sensors",
    clusterBelowZoom: 0,
    colourOf: () => "#455a64",
    draw: (ctx, s, x, y, ppm) => {
      if (!s.range_m) return 0;
      ctx.globalAlpha = 0.07; ctx.fillStyle = "#455a64";
      ctx.beginPath(); ctx.arc(x, y, s.range_m * ppm, 0, 2 * Math.PI); ctx.fill(); ctx.globalAlpha = 1;
      return 0;
    },
  });
}

function findingPopup(f) {
  return h("div", { class: "popup" },
    h("strong", {}, `Finding: ${f.clause}`), " ", tlpBadge(f.tlp), h("br"),
    h("em", {}, (data.clauses[f.clause] || "").slice(0, 300)), h("br"),
    `side ${f.side || "–"} · confidence ${fmtP(f.confidence)} · ${f.status} · ${f.sector || "no sector"}`, h("br"),
    `${fmtTime(f.first)} – ${fmtTime(f.last)}`, h("br"),
    f.incident ? h("a", { href: incidentHref(f.incident) }, `incident ${f.incident}`) : null,
    f.n_incidents > 1 ? ` and ${f.n_incidents - 1} more` : null);
}

function dayWindow() {
  const start = Date.parse(data.day + "T00:00:00Z") / 1000;
  return [start + state.from * 3600, start + state.to * 3600];
}

function passes(it, lo, hi) {
  return it.t >= lo && it.t < hi && (!state.sector || it.sector === state.sector) && (!state.kind || it.kind === state.kind)
    && (!state.status || it.status === state.status) && (!state.side || it.side === (state.side === "none" ? "" : state.side));
}

/** Apply the filters to the loaded day and redraw everything that depends on them. */
function render() {
  const [lo, hi] = dayWindow();
  const shown = items.filter((it) => passes(it, lo, hi));
  incidentLayer.setItems(shown);
  const findings = findingItems.filter((f) => f.first < hi && f.last >= lo && (!state.sector || f.sector === state.sector));
  findingLayer.setItems(findings.filter((f) => f.clause !== CEASEFIRE));
  ceasefireLayer.setItems(findings.filter((f) => f.clause === CEASEFIRE));
  const ofDay = data.assessments.filter((a) => a.day === data.day);
  drawWarningBand(base.band, base.sectors, ofDay, (sector) => pick(undefined, sector));
  renderList(shown);
  renderFindings(findings);
  renderWarnings(ofDay);
  const order = geo.sectors.map((f) => f.properties.id);
  const names = Object.fromEntries(geo.sectors.map((f) => [f.properties.id, f.properties.name]));
  drawTimeline(document.getElementById("timeline"), data.timeline, { ...state, day: data.day }, data.assessments, order, names, pick);
  drawEscalation(document.getElementById("escalation"), document.getElementById("escalation-head"), data.timeline.days, data.assessments, { ...state, day: data.day }, names, pick);
  const summary = document.getElementById("summary");
  summary.textContent = `${data.incidents.id.length} incidents on ${data.day}; ${shown.length} shown; ${findings.length} findings`;
  document.body.dataset.incidentsTotal = String(data.incidents.id.length);
  document.body.dataset.incidentsShown = String(shown.length);
}

function renderList(shown) {
  const tab = clear(document.getElementById("tab-incidents"));
  const sorted = [...shown].sort((a, b) => b.t - a.t).slice(0, LIST_LIMIT);
  tab.append(h("p", { class: "hint" }, shown.length > LIST_LIMIT ? `The latest ${LIST_LIMIT} of ${shown.length}; narrow the filters to see others.` : `${shown.length} incident${shown.length === 1 ? "" : "s"}.`));
  const rows = sorted.map((it) => h("tr", { "data-id": it.id },
    h("td", {}, fmtTime(it.t).slice(11, 19)),
    h("td", {}, it.sector),
    h("td", {}, it.kind),
    h("td", {}, h("span", { class: "swatch", style: `background:${sideColour(it.side)}` }), it.side ? ` ${it.side} ${fmtP(it.p)}` : " –"),
    h("td", {}, it.status),
    h("td", {}, h("a", { href: incidentHref(it.id), class: "incident-link" }, "open"))));
  tab.append(h("table", { class: "list", id: "incident-list" },
    h("thead", {}, h("tr", {}, ["UTC", "Sector", "Kind", "Side", "Status", ""].map((x) => h("th", {}, x)))), h("tbody", {}, rows)));
}

function renderFindings(findings) {
  const tab = clear(document.getElementById("tab-findings"));
  const byClause = new Map();
  for (const f of findings) byClause.set(f.clause, (byClause.get(f.clause) || 0) + 1);
  tab.append(h("p", { class: "hint" }, `${findings.length} finding${findings.length === 1 ? "" : "s"} in the window: ` + [...byClause].map(([c, n]) => `${c} ${n}`).join(", ")));
  const sorted = [...findings].sort((a, b) => b.confidence - a.confidence).slice(0, LIST_LIMIT);
  tab.append(h("table", { class: "list", id: "finding-list" },
    h("thead", {}, h("tr", {}, ["Clause", "Side", "Conf.", "Status", "Sector", ""].map((x) => h("th", {}, x)))),
    h("tbody", {}, sorted.map((f) => h("tr", {},
      h("td", { title: data.clauses[f.clause] || "" }, f.clause), h("td", {}, f.side || "–"), h("td", {}, fmtP(f.confidence)),
      h("td", {}, f.status), h("td", {}, f.sector),
      h("td", {}, f.incident ? h("a", { href: incidentHref(f.incident) }, "incident") : ""))))));
}

function renderWarnings(ofDay) {
  const tab = clear(document.getElementById("tab-warnings"));
  if (!ofDay.length) {
    tab.append(h("p", { class: "hint" }, `No warning assessment you may see for ${data.day}.`));
    return;
  }
  const sorted = [...ofDay].sort((a, b) => b.level - a.level || b.p7 - a.p7);
  for (const a of sorted) {
    tab.append(h("div", { class: "warning-card", style: `border-left-color:${LEVEL_COLOURS[a.level]}` },
      h("strong", {}, `${a.sector}: level ${a.level}`), " ", tlpBadge(a.tlp),
      h("div", {}, `P(offensive) 7 d ${fmtP(a.p7)}, 14 d ${fmtP(a.p14)}${a.branching !== null ? `, branching ratio ${a.branching}` : ""}`),
      h("ul", { class: "drivers" }, a.drivers.slice(0, 4).map((d) => h("li", {}, `${d.description}: ${d.value} (${d.contribution >= 0 ? "+" : ""}${d.contribution})`)))));
  }
}

function acknowledgedLine(task) {
  return h("div", { class: "feed-ack" },
    `acknowledged by ${task.acknowledged_by} at ${fmtIso(task.acknowledged_at).slice(0, 16)}${task.note ? ` — ${task.note}` : ""}`);
}

/** The owner's acknowledgement of a directive: a note and a button; the answer replaces them. */
function acknowledgeForm(it, li) {
  const note = h("input", { type: "text", class: "ack-note", maxlength: 2000, placeholder: "note (optional)", "aria-label": "note with the acknowledgement" });
  const button = h("button", { type: "button", class: "ack-button" }, "Acknowledge");
  const form = h("div", { class: "ack-form" }, note, " ", button);
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const result = await api(`/v1/dashboard/directives/${encodeURIComponent(it.id)}/acknowledge`, { method: "POST", body: { note: note.value } });
      acknowledged.set(it.id, result.task);
      li.replaceWith(feedItem(it, false)); // drawn again with the acknowledged version
      showMessage(`Directive acknowledged: "${it.title}" (version ${result.version}).`, "info");
    } catch (err) {
      button.disabled = false;
      if (!(err instanceof ApiError && err.status === 401)) showMessage(`The directive was not acknowledged: ${err.message}`);
    }
  });
  return form;
}

function feedItem(it, isNew) {
  // An acknowledgement made here shows at once, before the server's index has caught up.
  const mine = acknowledged.get(it.id);
  if (mine && it.status !== mine.status) it = { ...it, status: mine.status, what: mine.status, acknowledged_by: mine.acknowledged_by, acknowledged_at: mine.acknowledged_at, note: mine.note, may_acknowledge: false };
  const li = h("li", { class: `feed-${it.type}${isNew ? " feed-new" : ""}`, dataset: { id: it.id, status: it.status || "" } },
    h("span", { class: "feed-time" }, fmtTime(it.t)), " ", h("span", { class: "feed-type" }, it.type), " ",
    tlpBadge(it.tlp), h("div", { class: "feed-title" }, it.title),
    h("div", { class: "feed-meta" }, [it.sector, it.what, it.owner ? `owner ${it.owner}` : null, it.deadline ? `due ${it.deadline.slice(0, 16).replace("T", " ")}` : null, it.text].filter(Boolean).join(" · ")));
  if (it.type === "directive" && it.acknowledged_by) li.append(acknowledgedLine(it));
  else if (it.may_acknowledge) li.append(acknowledgeForm(it, li));
  return li;
}

async function pollFeed() {
  try {
    const feed = await api("/v1/dashboard/feed");
    // Redrawn only when something changed, so that a note being typed is not wiped.
    const signature = JSON.stringify(feed.items.map((it) => [it.id, it.status, it.may_acknowledge]));
    if (signature !== feedSignature) {
      feedSignature = signature;
      const tab = clear(document.getElementById("tab-feed"));
      let fresh = 0;
      const list = h("ul", { class: "feed", id: "feed-list" });
      for (const it of feed.items) {
        const isNew = !firstFeed && !feedSeen.has(it.id);
        if (isNew) fresh++;
        list.append(feedItem(it, isNew));
        feedSeen.add(it.id);
      }
      tab.append(feed.items.length ? list : h("p", { class: "hint" }, "No alert, activation or directive you may see."));
      document.getElementById("feed-count").textContent = fresh ? `+${fresh}` : String(feed.items.length);
    }
    firstFeed = false;
    // New records in the store: refresh the map when it shows the latest day.
    if (data && feed.version !== data.version && !state.day) loadDay(true);
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) document.getElementById("status").textContent = `feed: ${err.message}`;
  }
  setTimeout(pollFeed, FEED_POLL_MS);
}

/** Ask for the day (or the latest one when the asked-for day is refused, saying why). */
async function fetchDay() {
  try {
    return await api(`/v1/dashboard/day${state.day ? "?day=" + encodeURIComponent(state.day) : ""}`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 400 && state.day) {
      showMessage(err.message);
      state.day = null;
      return fetchDay();
    }
    throw err;
  }
}

function objects(columns) {
  // The server sends columns (compact); the layers and lists want one object per record.
  const keys = Object.keys(columns);
  const n = keys.length ? columns[keys[0]].length : 0;
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    const o = {};
    for (const k of keys) o[k] = columns[k][i];
    out[i] = o;
  }
  return out;
}

function showDay(response) {
  data = response;
  items = objects(data.incidents);
  findingItems = objects(data.findings);
  fillDays();
  render();
  const status = document.getElementById("status");
  status.textContent = data.stale ? "new records arriving; updating…" : `as of ${data.as_of.slice(0, 19).replace("T", " ")}Z`;
  if (!data.days.length && !noDataSaid) {
    noDataSaid = true;
    showMessage("There is no incident you may see yet: either the stages have not run, or nothing visible to you was found.", "info");
  }
  if (data.unreadable.length) showMessage(`Some record types could not be read: ${data.unreadable.join(", ")}.`, "info");
  if (data.stale && staleRetries++ < STALE_RETRIES) setTimeout(() => loadDay(true), STALE_RETRY_MS);
  loadSensors();
}

async function loadDay(quiet = false) {
  document.getElementById("status").textContent = quiet ? "updating…" : "loading…";
  showDay(await fetchDay());
}

/** The reassurance force's posture: a layer on by default, with its legend while it is on. */
async function loadForce(pending) {
  try {
    const doc = await pending;
    force = forceLayer(doc, geo.reassurance_force, "force");
    force.layer.addTo(map);
    force.legend.addTo(map);
    layersControl.addOverlay(force.layer, "Reassurance force (posture)");
    map.on("overlayadd", (e) => { if (e.layer === force.layer) force.legend.addTo(map); });
    map.on("overlayremove", (e) => { if (e.layer === force.layer) force.legend.remove(); });
    document.body.dataset.forceUnits = String(doc.units.length);
    document.body.dataset.forceBreaches = String(doc.breaches.length);
  } catch (err) {
    document.body.dataset.forceUnits = "0";
    if (!(err instanceof ApiError && err.status === 401)) showMessage(`The reassurance force is not shown: ${err.message}`, "info");
  }
}

async function loadSensors() {
  try {
    const s = await api(`/v1/dashboard/sensors?day=${data.day}`);
    sensorLayer.setItems(s.sensors);
    coverageLayer.setItems(s.sensors.filter((x) => x.range_m));
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) showMessage(`Sensors could not be loaded: ${err.message}`, "info");
  }
}

function option(value, label, selected) {
  return h("option", { value, selected: selected ? true : null }, label);
}

function fillDays() {
  const select = clear(document.getElementById("f-day"));
  const days = data.days.map((d) => d.day);
  if (!days.includes(data.day)) days.push(data.day);
  days.sort();
  for (const d of days) {
    const n = (data.days.find((x) => x.day === d) || { incidents: 0 }).incidents;
    select.append(option(d, `${d} (${n})`, d === data.day));
  }
}

function fillFilters() {
  const from = document.getElementById("f-from");
  const to = document.getElementById("f-to");
  for (let hr = 0; hr < 24; hr++) from.append(option(String(hr), String(hr).padStart(2, "0") + ":00", hr === state.from));
  for (let hr = 1; hr <= 24; hr++) to.append(option(String(hr), String(hr).padStart(2, "0") + ":00", hr === state.to));
  const sector = document.getElementById("f-sector");
  for (const f of geo.sectors) sector.append(option(f.properties.id, `${f.properties.id} ${f.properties.name}`, f.properties.id === state.sector));
  for (const k of KINDS) document.getElementById("f-kind").append(option(k, k, k === state.kind));
  for (const s of STATUSES) document.getElementById("f-status").append(option(s, s, s === state.status));
  document.getElementById("f-side").value = state.side || "";
}

/** Change day and/or sector (undefined leaves it as it is), from the timeline, band or selects. */
function pick(day, sector) {
  const dayChanged = day !== undefined && day !== data.day;
  if (day !== undefined) state.day = day;
  if (sector !== undefined) {
    state.sector = sector;
    document.getElementById("f-sector").value = sector || "";
    const s = sector && base.sectors.get(sector);
    if (s) map.fitBounds(s.layer.getBounds().pad(0.3));
  }
  history.pushState(null, "", formatQuery(state) || location.pathname);
  if (dayChanged) loadDay().catch(fail);
  else render();
}

function wireFilters() {
  const form = document.getElementById("filters");
  form.addEventListener("submit", (e) => e.preventDefault());
  document.getElementById("f-day").addEventListener("change", (e) => pick(e.target.value, undefined));
  const step = (delta) => {
    const days = data.days.map((d) => d.day);
    const at = days.indexOf(data.day);
    const next = days[at + delta];
    if (next) pick(next, undefined);
  };
  document.getElementById("prev-day").addEventListener("click", () => step(-1));
  document.getElementById("next-day").addEventListener("click", () => step(1));
  document.getElementById("f-sector").addEventListener("change", (e) => pick(undefined, e.target.value || null));
  for (const key of ["from", "to", "kind", "status", "side"]) {
    document.getElementById(`f-${key}`).addEventListener("change", (e) => {
      const v = e.target.value;
      state[key] = key === "from" || key === "to" ? Number(v) : v || null;
      if (state.from >= state.to) {
        showMessage("The first hour must come before the last; the other end was moved.", "info");
        if (key === "from") state.to = Math.min(24, state.from + 1); else state.from = Math.max(0, state.to - 1);
        document.getElementById("f-from").value = String(state.from);
        document.getElementById("f-to").value = String(state.to);
      }
      history.pushState(null, "", formatQuery(state) || location.pathname);
      render();
    });
  }
  document.getElementById("reset").addEventListener("click", () => {
    location.assign(location.pathname);
  });
  for (const tab of document.querySelectorAll(".tabs button")) {
    tab.addEventListener("click", () => {
      for (const t of document.querySelectorAll(".tabs button, .tab")) t.classList.remove("active");
      tab.classList.add("active");
      document.getElementById(`tab-${tab.dataset.tab}`).classList.add("active");
    });
  }
  window.addEventListener("popstate", () => location.reload());
}

function legend() {
  const control = L.control({ position: "bottomleft" });
  control.onAdd = () => h("div", { class: "legend" },
    h("div", {}, h("span", { class: "swatch", style: `background:${sideColour("UKR")}` }), " UKR  ",
      h("span", { class: "swatch", style: `background:${sideColour("RUS")}` }), " RUS  ",
      h("span", { class: "swatch", style: `background:${sideColour("")}` }), " unattributed"),
    h("div", {}, "Ellipses: 95 % error; darker = more probable side. ◆ findings"),
    h("div", {}, "Warning band: ", ...[1, 2, 3, 4, 5].map((l) => h("span", { class: "swatch", style: `background:${LEVEL_COLOURS[l]}`, title: `level ${l}` }, String(l)))));
  control.addTo(map);
}

function fail(err) {
  document.getElementById("status").textContent = "";
  if (err instanceof ApiError && err.status === 401) return;
  showMessage(`The dashboard could not load: ${err.message}`);
}

async function main() {
  if (!getToken()) return toLogin();
  const parsed = parseQuery(location.search);
  state = parsed.state;
  for (const p of parsed.problems) showMessage(p);
  // Canvas, not SVG: the base map alone would be thousands of DOM nodes.
  map = L.map("map", { preferCanvas: true, zoomControl: true, minZoom: 5, maxZoom: 16, worldCopyJump: false, attributionControl: true });
  map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
  // All three at once: the day's data is the largest answer and must not wait for the base map.
  const dayPromise = fetchDay();
  const forcePromise = api("/v1/dashboard/force");
  forcePromise.catch(() => {}); // handled in loadForce, once the map is ready: not an unhandled rejection
  const [me, geography] = await Promise.all([whoAmI(), api("/v1/dashboard/geography")]);
  geo = geography;
  base = drawGeography(map, geo);
  map.fitBounds(base.bounds);
  if (state.sector && !base.sectors.has(state.sector)) {
    showMessage(`sector=${JSON.stringify(state.sector)} is not a sector of ${geo.agreement.id}; showing all sectors.`);
    state.sector = null;
  }
  makeLayers();
  fillFilters();
  wireFilters();
  legend();
  performance.mark("geography-drawn");
  showDay(await dayPromise);
  if (state.sector) map.fitBounds(base.sectors.get(state.sector).layer.getBounds().pad(0.3));
  layersControl = L.control.layers(null, { Incidents: incidentLayer, Findings: findingLayer, "Findings: cease-fire (one per incident)": ceasefireLayer, Sensors: sensorLayer, "Sensor coverage": coverageLayer, ...base.overlays }, { collapsed: true }).addTo(map);
  document.body.dataset.participant = me.participant;
  document.body.dataset.ready = "true";
  performance.mark("dashboard-ready");
  // Not awaited: the force's first answer may wait for the coalition to load; the map is usable meanwhile.
  loadForce(forcePromise);
  pollFeed();
}

window.addEventListener("error", (e) => showMessage(`Something went wrong in the page: ${e.message}`));
clearMessages();
main().catch(fail);
