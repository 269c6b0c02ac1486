// The fixed layers of the map, from /v1/dashboard/geography: no tile server, only shipped data.

/* global L */
import { LEVEL_COLOURS, sideColour } from "./api.js";

const AREA_FILL = { UKR: "#dfe9f7", RUS: "#f6e0dc" };

/** A layer group that builds its content the first time it is shown (the zones are large and mostly hidden). */
function lazy(build) {
  const group = L.layerGroup();
  group.on("add", () => {
    if (!group.getLayers().length) build(group);
  });
  return group;
}

function tip(layer, text) {
  layer.bindTooltip(text, { sticky: true });
  return layer;
}

/** The base map (oblasts, borders, places) and the agreement's layers; returns the layers by name. */
export function drawGeography(map, geo, { interactive = true } = {}) {
  map.createPane("base").style.zIndex = 200;
  map.createPane("zones").style.zIndex = 300;
  map.createPane("band").style.zIndex = 350;
  map.createPane("line").style.zIndex = 380;
  map.attributionControl.addAttribution(geo.attribution);

  L.geoJSON(geo.oblasts, {
    pane: "base",
    interactive: false,
    style: { color: "#b9b3a6", weight: 0.8, fillColor: "#f4f1ea", fillOpacity: 1 },
  }).addTo(map);
  const areas = L.geoJSON(geo.controlled_areas, {
    pane: "base",
    interactive: false,
    style: (f) => ({ stroke: false, fillColor: AREA_FILL[f.properties.party] || "#eee", fillOpacity: 0.75 }),
  }).addTo(map);
  L.geoJSON(geo.borders, { pane: "base", interactive: false, style: { color: "#7d7567", weight: 1.2, dashArray: "4 3" } }).addTo(map);

  const places = L.layerGroup();
  for (const p of geo.settlements) {
    const big = p.population >= 100000;
    const m = L.circleMarker([p.lat, p.lon], {
      pane: "base",
      radius: big ? 3 : 1.8,
      color: "#4a4a4a",
      weight: 0.5,
      fillColor: "#4a4a4a",
      fillOpacity: 0.8,
      interactive: interactive,
    });
    if (p.label) m.bindTooltip(p.name, { permanent: true, direction: "right", className: "place-label", offset: [3, 0] });
    else if (interactive) m.bindTooltip(`${p.name} (${p.population.toLocaleString("en")})`);
    places.addLayer(m);
  }
  places.addTo(map);

  const overlays = { "Controlled areas": areas, Places: places };
  if (!interactive) {
    overlays["Contact line"] = L.geoJSON(geo.contact_line, { pane: "line", interactive: false, style: { color: "#222", weight: 2.5 } }).addTo(map);
    return { overlays };
  }

  for (const wc of Object.keys(geo.weapon_classes)) {
    const features = geo.withdrawal_zones.filter((f) => f.properties.weapon_classes.includes(wc));
    overlays[`Withdrawal zone: ${wc.replaceAll("_", " ")}`] = lazy((group) => L.geoJSON(features, {
      pane: "zones",
      style: (f) => ({ color: sideColour(f.properties.party), weight: 0.8, dashArray: "3 3", fillColor: sideColour(f.properties.party), fillOpacity: 0.06 }),
      onEachFeature: (f, l) =>
        tip(l, `${geo.weapon_classes[wc]}: kept ${f.properties.distance_km} km from the line (${f.properties.party} side); clause ${f.properties.clauses.join(", ")}`),
    }).addTo(group));
  }
  overlays["Disengagement areas"] = L.geoJSON(geo.disengagement_areas, {
    pane: "zones",
    style: { color: "#6a1b9a", weight: 1.5, fillColor: "#6a1b9a", fillOpacity: 0.2 },
    onEachFeature: (f, l) => tip(l, `Disengagement area ${f.properties.name} (clause ${f.properties.clause})`),
  }).addTo(map);
  overlays["Air and sea zones"] = lazy((group) => L.geoJSON(geo.restricted_zones, {
    pane: "zones",
    style: (f) => ({ color: f.properties.kind === "sea" ? "#00838f" : "#5d4037", weight: 1, dashArray: "6 4", fill: f.properties.kind === "sea", fillOpacity: 0.05 }),
    onEachFeature: (f, l) => tip(l, `${f.properties.name || f.properties.id}: closed to ${f.properties.applies_to.join(", ")}`),
  }).addTo(group));
  const sites = L.layerGroup();
  for (const s of geo.storage_sites) {
    const declared = Object.entries(s.declared).map(([k, v]) => `${v} ${k.replaceAll("_", " ")}`).join(", ");
    sites.addLayer(
      tip(
        L.circle([s.lat, s.lon], { pane: "zones", radius: Math.max(s.radius_m, 800), color: sideColour(s.party), weight: 2, fillOpacity: 0.25 }),
        `${s.name} (${s.party}): declared ${declared || "nothing"}`,
      ),
    );
    sites.addLayer(L.circleMarker([s.lat, s.lon], { pane: "zones", radius: 4, color: sideColour(s.party), weight: 2, fillColor: "#fff", fillOpacity: 1, interactive: false }));
  }
  overlays["Storage sites"] = sites.addTo(map);
  const rf = geo.reassurance_force.properties;
  overlays["Reassurance force basing area"] = lazy((group) => L.geoJSON(geo.reassurance_force, {
    pane: "zones",
    style: { color: "#00695c", weight: 1, fillColor: "#00695c", fillOpacity: 0.07 },
    onEachFeature: (f, l) => tip(l, `Reassurance force basing area (${rf.basing_oblasts.join(", ")}), at least ${rf.min_distance_km} km from the line; contributors ${rf.contributors.join(", ")}`),
  }).addTo(group));

  const band = L.layerGroup().addTo(map);
  overlays["Warning levels (band)"] = band;
  const sectors = new Map();
  const sectorOutline = L.geoJSON(geo.sectors, {
    pane: "line",
    style: (f) => ({ color: f.properties.kind === "contact_line" ? "#222" : "#555", weight: f.properties.kind === "contact_line" ? 0 : 1.2, dashArray: f.properties.kind === "contact_line" ? null : "2 4", opacity: 0.9 }),
    onEachFeature: (f, l) => {
      sectors.set(f.properties.id, { feature: f, layer: l });
      tip(l, `${f.properties.id} — ${f.properties.name}`);
    },
  }).addTo(map);
  overlays["Contact line"] = L.geoJSON(geo.contact_line, { pane: "line", interactive: false, style: { color: "#222", weight: 2.2 } }).addTo(map);
  overlays["Sectors"] = sectorOutline;
  return { overlays, sectors, band, bounds: L.geoJSON(geo.contact_line).getBounds() };
}

/** Colour each sector's stretch of the line by its warning level for the day. */
export function drawWarningBand(band, sectors, assessmentsOfDay, onPick) {
  band.clearLayers();
  for (const a of assessmentsOfDay) {
    const s = sectors.get(a.sector);
    if (!s) continue;
    const layer = L.geoJSON(s.feature, {
      pane: "band",
      style: { color: LEVEL_COLOURS[a.level] || "#999", weight: 12, opacity: 0.55, lineCap: "butt" },
    });
    const drivers = a.drivers.slice(0, 3).map((d) => d.description).join("; ");
    layer.bindTooltip(
      `${a.sector}: warning level ${a.level} — P(offensive within 7 d) ${Math.round(a.p7 * 100)} %, 14 d ${Math.round(a.p14 * 100)} %${drivers ? " — " + drivers : ""}`,
      { sticky: true },
    );
    if (onPick) layer.on("click", () => onPick(a.sector));
    band.addLayer(layer);
  }
}
