// The reassurance force on the main map: each unit's planned position (square) and reported one
// (dot), joined when they differ, coloured by status (deployed, planned only, in breach of a
// clause), the ranges of the units that declare one, and the line at the agreement's minimum
// distance from the contact line; with a legend that shows while the layer is on. Everything comes
// from /v1/dashboard/force, which passes every position through the policy layer.

/* global L */
import { h } from "./api.js";

export const FORCE_COLOURS = { deployed: "#00695c", planned: "#263238", breach: "#c62828" };
const MIN_LINE = "#8d6e63";

function unitText(u) {
  const where = `${u.place || `${u.lat.toFixed(3)}, ${u.lon.toFixed(3)}`}${u.reported ? ` (reported ${u.reported})` : ""}`;
  const distance = u.distance_km === null ? "" : `, ${Math.round(u.distance_km)} km from the line`;
  const position = u.which === "actual" ? "reported position" : "planned position";
  return `${u.unit}${u.name ? ` — ${u.name}` : ""} (${u.participant}, ${u.capability.replaceAll("_", " ")}): ${position} ${where}${distance}; ${u.status}`;
}

function tip(text) {
  // An element, not a string: Leaflet would insert a string as HTML.
  return h("span", {}, text);
}

/** Draw the force document (and the agreement's `basing` area) into a new layer group in `pane`; returns {layer, legend}. */
export function forceLayer(doc, basing, pane) {
  const layer = L.layerGroup();
  // SVG, not the map's canvas: a few dozen shapes, each an element with its class and tooltip.
  const renderer = L.svg({ pane });
  if (basing) {
    layer.addLayer(L.geoJSON(basing, { pane, renderer, style: { color: FORCE_COLOURS.deployed, weight: 1, fillColor: FORCE_COLOURS.deployed, fillOpacity: 0.06 }, interactive: false }));
  }
  if (doc.min_distance_line && doc.min_distance_line.geometry) {
    layer.addLayer(L.geoJSON(doc.min_distance_line, { pane, renderer, style: { color: MIN_LINE, weight: 2, dashArray: "7 5", opacity: 0.9 } })
      .bindTooltip(tip(`${doc.min_distance_km} km from the contact line: no reassurance-force unit may be closer`), { sticky: true }));
  }
  const planned = new Map();
  for (const u of doc.units) if (u.which === "planned") planned.set(u.unit, u);
  const current = new Map(); // unit → where it is now (reported, else planned): the centre of its range
  for (const u of doc.units) if (u.which === "actual" || !current.has(u.unit)) current.set(u.unit, u);
  for (const u of current.values()) {
    if (!u.range_km) continue;
    layer.addLayer(L.circle([u.lat, u.lon], { pane, renderer, radius: u.range_km * 1000, color: FORCE_COLOURS.deployed, weight: 1, opacity: 0.6, fillOpacity: 0.05, interactive: false }));
  }
  for (const u of doc.units) {
    const bad = u.breaches.length > 0;
    const status = bad ? "breach" : u.unit_status === "breach" ? "deployed" : u.unit_status;
    const colour = FORCE_COLOURS[status];
    if (u.which === "actual") {
      const p = planned.get(u.unit);
      if (p && (p.lat !== u.lat || p.lon !== u.lon)) {
        layer.addLayer(L.polyline([[p.lat, p.lon], [u.lat, u.lon]], { pane, renderer, color: colour, weight: 1.2, dashArray: "2 3", interactive: false }));
      }
      layer.addLayer(L.circleMarker([u.lat, u.lon], { pane, renderer, radius: 6, color: "#fff", weight: 1.5, fillColor: colour, fillOpacity: 0.95, className: `force-unit force-actual force-${status}` })
        .bindTooltip(tip(unitText(u))));
    } else {
      const cls = `unit-marker unit-planned force-unit force-planned force-${status}${bad ? " unit-breach" : u.unit_status === "deployed" ? " unit-deployed" : ""}`;
      const icon = L.divIcon({ className: cls, iconSize: [11, 11], html: "" });
      layer.addLayer(L.marker([u.lat, u.lon], { pane, icon, keyboard: false }).bindTooltip(tip(unitText(u))));
    }
  }
  const s = doc.summary;
  const key = (cls, text, title) => h("span", { class: "force-key-item", title }, h("span", { class: `force-key force-key-${cls}` }), text);
  const legendBox = h("div", { class: "legend force-legend", id: "force-legend" },
    h("strong", {}, "Reassurance force"), " ",
    h("span", { class: "force-summary", id: "force-summary" },
      `${s.units} unit${s.units === 1 ? "" : "s"} you may see: ${s.deployed} deployed, ${s.planned} planned only, ${s.breach} in breach`),
    h("div", { class: "force-keys" },
      key("planned", "planned position", "declared by the contributing nation"),
      key("deployed", "reported position", "as last reported; joined to the planned one when they differ"),
      key("breach", "in breach", "a position that breaks a reassurance-force clause (distance or basing)"),
      key("line", `${doc.min_distance_km} km line`, `no unit may be closer than ${doc.min_distance_km} km to the contact line`),
      key("range", "declared range", "air defence and aircraft that declare one"),
      key("basing", "basing area", `oblasts ${doc.basing_oblasts.join(", ")}`)),
    h("div", { class: "hint" }, `${doc.coalition.title}, as of ${doc.coalition.as_of}`));
  const legend = L.control({ position: "bottomright" });
  legend.onAdd = () => legendBox;
  return { layer, legend };
}
