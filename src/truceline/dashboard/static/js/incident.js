// The incident page: everything behind one incident that the participant may see, and, for a
// reviewer, the review form. Reached as incident.html?id=<incident id>&back=<the map's query>.

/* global L */
import {
  ApiError, api, clear, ellipseLatLngs, fmtIso, fmtMetres, fmtP, getToken, h, showMessage, sideColour, tlpBadge,
  toLogin, whoAmI,
} from "./api.js";
import { drawGeography } from "./basemap.js";

const TERMINAL = ["final", "rejected"];
let view;
let miniMap;
let overlay;

function readParams() {
  const params = new URLSearchParams(location.search);
  const id = params.get("id");
  const back = params.get("back") || "";
  if (/^(\?[^#]{0,500})?$/.test(back)) document.getElementById("back").href = "./" + back;
  for (const key of params.keys()) {
    if (key !== "id" && key !== "back") showMessage(`Unknown parameter ${JSON.stringify(key.slice(0, 40))} ignored.`, "info");
  }
  if (!id) return { error: "No incident given: the address needs ?id=<incident id>, as the map's links make it." };
  if (id.length > 200 || /[\u0000-\u001f\u007f]/.test(id)) return { error: "The incident id in the address is malformed (at most 200 printable characters)." };
  return { id };
}

function table(headers, rows, attrs = {}) {
  return h("table", { class: "list", ...attrs }, h("thead", {}, h("tr", {}, headers.map((x) => h("th", {}, x)))), h("tbody", {}, rows));
}

function ellipseText(loc) {
  const e = loc.error || {};
  return `${fmtMetres(e.semi_major_m)} × ${fmtMetres(e.semi_minor_m)} at ${Math.round(e.orientation_deg || 0)}°`;
}

function renderSummary(inc) {
  document.title = `Truceline — ${inc.id}`;
  document.getElementById("title").textContent = `Incident ${inc.id}`;
  const preferred = (inc.attributions || []).find((a) => a.id === inc.preferred_attribution_id) || (inc.attributions || []).slice(-1)[0];
  const best = preferred ? Object.entries(preferred.probabilities).sort((a, b) => b[1] - a[1])[0] : null;
  clear(document.getElementById("summary")).append(
    h("span", { class: `status-pill status-${inc.evaluation_status}`, id: "incident-status" }, inc.evaluation_status), " ",
    tlpBadge(inc.markings && inc.markings.tlp), " ",
    `${inc.kind}${inc.weapon_class ? " (" + inc.weapon_class.replaceAll("_", " ") + ")" : ""} · sector ${inc.sector || "–"} · ${fmtIso(inc.start)} – ${fmtIso(inc.end)} · `,
    best ? h("span", {}, h("span", { class: "swatch", style: `background:${sideColour(best[0])}` }), ` ${best[0]} ${fmtP(best[1])}`) : "not attributed",
    ` · originator ${inc.markings ? inc.markings.originator : "–"} · ${(inc.observations || []).length} report references`);
}

function renderMap(inc) {
  overlay.clearLayers();
  const bounds = [];
  for (const o of inc.origins || []) {
    const l = o.location;
    const e = l.error || {};
    const pts = ellipseLatLngs(l.lat, l.lon, Math.max(e.semi_major_m || 0, 15), Math.max(e.semi_minor_m || 0, 15), e.orientation_deg || 0);
    const preferred = o.id === inc.preferred_origin_id;
    overlay.addLayer(L.polygon(pts, { color: preferred ? "#000" : "#555", weight: preferred ? 2 : 1, dashArray: preferred ? null : "4 3", fillOpacity: preferred ? 0.25 : 0.08 })
      .bindTooltip(`${preferred ? "preferred " : ""}origin ${o.id} (${o.method})`));
    overlay.addLayer(L.circleMarker([l.lat, l.lon], { radius: 3, color: "#000", fillOpacity: 1 }));
    bounds.push(...pts);
  }
  for (const imp of inc.impacts || []) {
    overlay.addLayer(L.circleMarker([imp.lat, imp.lon], { radius: 5, color: "#b71c1c", fillColor: "#fff", fillOpacity: 1, weight: 2 }).bindTooltip("impact"));
    bounds.push([imp.lat, imp.lon]);
  }
  for (const r of view.reports) {
    if (!r.location) continue;
    overlay.addLayer(L.circleMarker([r.location.lat, r.location.lon], { radius: 4, color: "#455a64", fillColor: "#90a4ae", fillOpacity: 1, weight: 1 })
      .bindTooltip(`${r.kind} ${r.participant}/${r.source}`));
    bounds.push([r.location.lat, r.location.lon]);
  }
  if (bounds.length) miniMap.fitBounds(L.latLngBounds(bounds).pad(0.3), { maxZoom: 14 });
}

function renderOrigins(inc) {
  const rows = (inc.origins || []).map((o) => h("tr", { class: o.id === inc.preferred_origin_id ? "preferred" : "" },
    h("td", {}, o.id === inc.preferred_origin_id ? "★ " : "", o.id), h("td", {}, o.method), h("td", {}, `${fmtIso(o.time)} ± ${o.time_error_s.toFixed(2)} s`),
    h("td", {}, `${o.location.lat.toFixed(5)}, ${o.location.lon.toFixed(5)}`), h("td", {}, ellipseText(o.location)),
    h("td", {}, String(o.n_observations)), h("td", {}, o.rms_residual === null || o.rms_residual === undefined ? "–" : o.rms_residual.toFixed(3)),
    h("td", {}, o.evaluation_status), h("td", {}, o.creation_info ? `${o.creation_info.agent}${o.creation_info.note ? " — " + o.creation_info.note : ""}` : "")));
  clear(document.getElementById("origins")).append(rows.length
    ? table(["Origin", "Method", "Time", "Lat, lon", "95 % ellipse", "Reports", "RMS (s)", "Status", "Made by"], rows, { id: "origin-table" })
    : h("p", { class: "hint" }, "No located origin."));
}

function renderAttribution(inc) {
  const box = clear(document.getElementById("attribution"));
  if (!(inc.attributions || []).length) box.append(h("p", { class: "hint" }, "Not attributed."));
  for (const a of inc.attributions || []) {
    const preferred = a.id === inc.preferred_attribution_id;
    box.append(h("h3", {}, `${preferred ? "★ preferred: " : ""}${a.id} (${a.evaluation_status})`),
      h("div", { class: "bars" }, Object.entries(a.probabilities).sort((x, y) => y[1] - x[1]).map(([side, p]) =>
        h("div", { class: "bar-row" }, h("span", { class: "bar-label" }, side),
          h("span", { class: "bar", style: `width:${Math.round(p * 100)}%;background:${sideColour(side)}` }), ` ${fmtP(p)}`))),
      table(["Evidence", "Weight (log LR)", "What it says", "Reports"], (a.evidence || []).map((e) => h("tr", {},
        h("td", {}, e.kind), h("td", {}, e.weight === null || e.weight === undefined ? "–" : e.weight.toFixed(2)), h("td", {}, e.description), h("td", {}, String((e.refs || []).length))))));
  }
}

function renderClaims() {
  const box = clear(document.getElementById("claims"));
  if (!view.claims.length) box.append(h("p", { class: "hint" }, "No claim you may see was checked against this incident."));
  for (const f of view.claims) {
    const verdict = (f.evidence || []).find((e) => e.kind === "verdict");
    box.append(h("div", { class: "claim" },
      h("strong", {}, `Staging suspicion ${fmtP(f.confidence)}`), " ", tlpBadge(f.markings && f.markings.tlp), ` (${f.status}, claimant ${f.side || "–"})`,
      verdict ? h("p", {}, verdict.description) : null,
      h("ul", {}, (f.evidence || []).filter((e) => e.kind !== "verdict").map((e) => h("li", {}, `${e.kind}: ${e.description}${e.weight !== null && e.weight !== undefined ? ` (${e.weight >= 0 ? "+" : ""}${e.weight.toFixed(2)})` : ""}`)))));
  }
}

function renderFindings() {
  const rows = view.findings.map((f) => h("tr", {}, h("td", {}, f.clause), h("td", {}, f.side || "–"), h("td", {}, fmtP(f.confidence)), h("td", {}, f.status), h("td", {}, tlpBadge(f.tlp)), h("td", {}, (f.text || "").slice(0, 200))));
  clear(document.getElementById("findings")).append(rows.length ? table(["Clause", "Side", "Confidence", "Status", "", "Clause text"], rows) : h("p", { class: "hint" }, "No finding you may see cites this incident."));
}

function renderReports(inc) {
  const byKey = new Map(view.reports.map((r) => [`${r.participant}|${r.source}|${r.key}`, r]));
  const refs = (inc.observations || []).slice(0, view.reports_listed);
  let unavailable = 0;
  const rows = refs.map((ref) => {
    const r = byKey.get(`${ref.participant}|${ref.source}|${ref.key}`);
    if (!r) {
      unavailable++;
      return h("tr", { class: "unavailable" }, h("td", {}, ref.participant), h("td", {}, ref.source), h("td", {}, ref.key), h("td", { colspan: 5 }, "not available to you (hidden or missing)"));
    }
    return h("tr", {}, h("td", {}, r.participant), h("td", {}, r.source), h("td", {}, r.key), h("td", {}, r.kind), h("td", {}, fmtIso(r.time)),
      h("td", {}, r.location ? `${r.location.lat.toFixed(4)}, ${r.location.lon.toFixed(4)}` : "–"), h("td", {}, `${r.reliability}${r.credibility}`), h("td", {}, tlpBadge(r.markings && r.markings.tlp)));
  });
  const box = clear(document.getElementById("reports"));
  const more = (inc.observations || []).length - refs.length;
  box.append(h("p", { class: "hint" }, `${refs.length - unavailable} of ${refs.length} listed reports are available to you.${more > 0 ? ` ${more} more are not listed.` : ""}`),
    table(["Participant", "Source", "Key", "Kind", "Time", "Position", "Admiralty", ""], rows, { id: "report-table" }));
}

function renderHistory() {
  const rows = view.history.map((v) => h("tr", {}, h("td", {}, String(v.version)), h("td", {}, fmtIso(v.stored)), h("td", {}, v.status),
    h("td", {}, v.creation_info.agent), h("td", {}, v.creation_info.mode), h("td", {}, v.creation_info.participant || "–"), h("td", {}, v.creation_info.note || "")));
  clear(document.getElementById("history")).append(table(["Version", "Stored", "Status", "By", "Mode", "Participant", "Note"], rows, { id: "history-table" }));
}

function renderReview(inc) {
  const box = document.getElementById("review");
  clear(box);
  box.hidden = false;
  box.append(h("h2", {}, "Review"));
  if (!view.may_review) {
    box.append(h("p", { class: "hint" }, "Reviewing needs a token with the reviewer role."));
    return;
  }
  if (TERMINAL.includes(inc.evaluation_status)) {
    box.append(h("p", { class: "hint" }, `This incident is ${inc.evaluation_status}; it takes no further review.`));
    return;
  }
  const status = h("select", { id: "review-status", name: "status" }, ["reviewed", "final", "rejected"].map((s) => h("option", { value: s }, s)));
  const origin = h("select", { id: "review-origin", name: "origin" }, (inc.origins || []).map((o) => h("option", { value: o.id, selected: o.id === inc.preferred_origin_id ? true : null }, `${o.method}: ${o.id}`)));
  const attribution = h("select", { id: "review-attribution", name: "attribution" }, (inc.attributions || []).map((a) => h("option", { value: a.id, selected: a.id === inc.preferred_attribution_id ? true : null }, a.id)));
  const note = h("textarea", { id: "review-note", name: "note", rows: 3, maxlength: 2000, placeholder: "why (kept with the new version)" });
  const form = h("form", { id: "review-form" },
    h("label", {}, "Decision ", status),
    (inc.origins || []).length > 1 ? h("label", {}, "Preferred origin ", origin) : null,
    (inc.attributions || []).length > 1 ? h("label", {}, "Preferred attribution ", attribution) : null,
    h("label", {}, "Note ", note),
    h("button", { type: "submit", id: "review-submit" }, "Record the review"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { status: status.value, version: view.version, note: note.value };
    if ((inc.origins || []).length > 1) body.preferred_origin_id = origin.value;
    if ((inc.attributions || []).length > 1) body.preferred_attribution_id = attribution.value;
    try {
      const result = await api(`/v1/dashboard/incidents/${encodeURIComponent(inc.id)}/review`, { method: "POST", body });
      showMessage(`Review recorded: the incident is now ${result.incident.evaluation_status} (version ${result.version}).`, "info");
      await load(inc.id);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) showMessage(`The review was not recorded: ${err.message}`);
    }
  });
  box.append(form);
}

async function load(id) {
  view = await api(`/v1/dashboard/incidents/${encodeURIComponent(id)}`);
  const inc = view.incident;
  renderSummary(inc);
  renderMap(inc);
  renderOrigins(inc);
  renderAttribution(inc);
  renderClaims();
  renderFindings();
  renderReports(inc);
  renderHistory();
  renderReview(inc);
  document.body.dataset.ready = "true";
}

async function main() {
  if (!getToken()) return toLogin();
  const { id, error } = readParams();
  await whoAmI();
  if (error) {
    showMessage(error);
    return;
  }
  miniMap = L.map("mini-map", { preferCanvas: true, minZoom: 5, maxZoom: 17 });
  miniMap.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
  overlay = L.layerGroup().addTo(miniMap);
  miniMap.setView([48.5, 36.5], 6);
  const geo = await api("/v1/dashboard/geography");
  drawGeography(miniMap, geo, { interactive: false });
  try {
    await load(id);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) showMessage(`Incident ${JSON.stringify(id)} was not found, or is not visible to you.`);
    else throw err;
  }
}

window.addEventListener("error", (e) => showMessage(`Something went wrong in the page: ${e.message}`));
main().catch((err) => {
  if (!(err instanceof ApiError && err.status === 401)) showMessage(`The incident could not be loaded: ${err.message}`);
});
