// A Leaflet layer that draws many points on one canvas, clustered on a screen grid when zoomed out.
//
// Ten thousand incidents as Leaflet vector layers would be ten thousand objects to create, project
// and hit-test on every pan; here positions are projected once per data load (spherical Mercator,
// as Leaflet's EPSG:3857), binned into square cells of the screen at each redraw, and drawn in one
// pass. Each item keeps its error ellipse in metres; it is drawn to scale once it is bigger than a dot.

/* global L */

const EARTH_R = 6378137; // EPSG:3857 sphere, so that our projection equals Leaflet's
const DPR = Math.min(window.devicePixelRatio || 1, 2);

function mercator(lat, lon) {
  const s = Math.sin((Math.max(-85.05, Math.min(85.05, lat)) * Math.PI) / 180);
  return [(lon + 180) / 360, 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)];
}

export const PointLayer = L.Layer.extend({
  options: {
    pane: "overlayPane",
    cellPx: 46,
    clusterBelowZoom: 11, // from this zoom on, every item is drawn on its own
    draw: null, // (ctx, item, x, y, pxPerMetre) → radius used for hit-testing
    colourOf: null, // item → css colour (cluster pie slices)
    onClick: null, // (item, latlng) → void
    tooltip: null, // item → string shown on hover
  },

  initialize(options) {
    L.setOptions(this, options);
    this._items = [];
    this._mx = new Float64Array(0);
    this._my = new Float64Array(0);
    this._marks = [];
  },

  /** Replace the items; each needs lat and lon (items without a position are not drawn). */
  setItems(items) {
    this._items = items.filter((it) => it.lat !== null && it.lat !== undefined && it.lon !== null);
    const n = this._items.length;
    this._mx = new Float64Array(n);
    this._my = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const [x, y] = mercator(this._items[i].lat, this._items[i].lon);
      this._mx[i] = x;
      this._my[i] = y;
    }
    if (this._map) this._redraw();
    return this;
  },

  count() {
    return this._items.length;
  },

  onAdd(map) {
    this._canvas = L.DomUtil.create("canvas", "tl-point-canvas leaflet-zoom-hide");
    this.getPane().appendChild(this._canvas);
    map.on("moveend resize viewreset", this._reset, this);
    map.on("click", this._onClick, this);
    map.on("mousemove", this._onMove, this);
    this._reset();
  },

  onRemove(map) {
    L.DomUtil.remove(this._canvas);
    map.off("moveend resize viewreset", this._reset, this);
    map.off("click", this._onClick, this);
    map.off("mousemove", this._onMove, this);
    this._marks = [];
    if (this._hoverTip) map.closeTooltip(this._hoverTip);
  },

  _reset() {
    const map = this._map;
    const size = map.getSize();
    L.DomUtil.setPosition(this._canvas, map.containerPointToLayerPoint([0, 0]));
    this._canvas.width = size.x * DPR;
    this._canvas.height = size.y * DPR;
    this._canvas.style.width = size.x + "px";
    this._canvas.style.height = size.y + "px";
    this._redraw();
  },

  _redraw() {
    const map = this._map;
    const ctx = this._canvas.getContext("2d");
    ctx.setTransform(DPR, 0, 0, DPR, 0, 0);
    const size = map.getSize();
    ctx.clearRect(0, 0, size.x, size.y);
    this._marks = [];
    const zoom = map.getZoom();
    const scale = 256 * Math.pow(2, zoom);
    const origin = map.getPixelBounds().min; // container (0, 0) in absolute pixels at this zoom
    const pad = 40;
    const cell = this.options.cellPx;
    const cluster = zoom < this.options.clusterBelowZoom;
    const cells = new Map();
    const singles = [];
    for (let i = 0; i < this._items.length; i++) {
      const ax = this._mx[i] * scale;
      const ay = this._my[i] * scale;
      const x = ax - origin.x;
      const y = ay - origin.y;
      if (x < -pad || y < -pad || x > size.x + pad || y > size.y + pad) continue;
      if (!cluster) {
        singles.push([i, x, y]);
        continue;
      }
      const key = Math.floor(ax / cell) * 1e7 + Math.floor(ay / cell);
      let c = cells.get(key);
      if (!c) cells.set(key, (c = { members: [], sx: 0, sy: 0 }));
      c.members.push(i);
      c.sx += x;
      c.sy += y;
    }
    for (const c of cells.values()) {
      if (c.members.length === 1) singles.push([c.members[0], c.sx, c.sy]);
      else this._drawCluster(ctx, c);
    }
    for (const [i, x, y] of singles) {
      const item = this._items[i];
      const pxPerMetre = scale / (2 * Math.PI * EARTH_R * Math.cos((item.lat * Math.PI) / 180));
      const r = this.options.draw(ctx, item, x, y, pxPerMetre);
      this._marks.push({ x, y, r: Math.max(r, 5), item });
    }
  },

  _drawCluster(ctx, c) {
    const n = c.members.length;
    const x = c.sx / n;
    const y = c.sy / n;
    // Below half a cell across, so that neighbouring clusters do not cover each other.
    const r = Math.min(21, 9 + 4 * Math.log10(n));
    // A pie of the members' colours: at a glance, whose fire dominates this stretch of the line.
    const counts = new Map();
    for (const i of c.members) {
      const colour = this.options.colourOf(this._items[i]);
      counts.set(colour, (counts.get(colour) || 0) + 1);
    }
    let angle = -Math.PI / 2;
    for (const [colour, k] of counts) {
      const sweep = (2 * Math.PI * k) / n;
      ctx.beginPath();
      ctx.moveTo(x, y);
      ctx.arc(x, y, r, angle, angle + sweep);
      ctx.closePath();
      ctx.fillStyle = colour;
      ctx.globalAlpha = 0.85;
      ctx.fill();
      angle += sweep;
    }
    ctx.globalAlpha = 1;
    ctx.beginPath();
    ctx.arc(x, y, r, 0, 2 * Math.PI);
    ctx.lineWidth = 1.5;
    ctx.strokeStyle = "#fff";
    ctx.stroke();
    ctx.font = "bold 11px system-ui, sans-serif";
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.lineWidth = 3;
    ctx.strokeStyle = "rgba(0,0,0,0.55)";
    const label = n >= 10000 ? Math.round(n / 1000) + "k" : String(n);
    ctx.strokeText(label, x, y);
    ctx.fillStyle = "#fff";
    ctx.fillText(label, x, y);
    this._marks.push({ x, y, r, members: c.members });
  },

  _hit(containerPoint) {
    let best = null;
    let bestD = Infinity;
    for (const m of this._marks) {
      const d = Math.hypot(m.x - containerPoint.x, m.y - containerPoint.y);
      if (d <= m.r + 3 && d < bestD) {
        best = m;
        bestD = d;
      }
    }
    return best;
  },

  _onClick(e) {
    const hit = this._hit(e.containerPoint);
    if (!hit) return;
    if (hit.members) {
      const bounds = L.latLngBounds(hit.members.map((i) => [this._items[i].lat, this._items[i].lon]));
      this._map.fitBounds(bounds.pad(0.2), { maxZoom: this.options.clusterBelowZoom });
    } else if (this.options.onClick) {
      this.options.onClick(hit.item, e.latlng);
    }
  },

  _onMove(e) {
    const hit = this._hit(e.containerPoint);
    this._map.getContainer().classList.toggle("tl-pointer", Boolean(hit));
    if (!this.options.tooltip) return;
    if (!hit) {
      if (this._hoverTip) this._map.closeTooltip(this._hoverTip);
      return;
    }
    const text = hit.members ? `${hit.members.length} — click to zoom in` : this.options.tooltip(hit.item);
    const at = this._map.containerPointToLatLng([hit.x, hit.y]);
    if (!this._hoverTip) this._hoverTip = L.tooltip({ direction: "top", offset: [0, -8] });
    this._hoverTip.setLatLng(at).setContent(text);
    this._map.openTooltip(this._hoverTip);
  },
});

/** Draw an item's 95 % error ellipse to scale (or a dot when smaller), coloured and shaded. */
export function drawEllipse(ctx, item, x, y, pxPerMetre, colour, alpha) {
  const a = (item.a || 0) * pxPerMetre;
  const b = (item.b || 0) * pxPerMetre;
  ctx.globalAlpha = alpha;
  ctx.fillStyle = colour;
  ctx.strokeStyle = colour;
  if (a >= 4) {
    ctx.beginPath();
    // Azimuth is clockwise from north; canvas angles are clockwise from east (y points down).
    ctx.ellipse(x, y, a, Math.max(b, 1), ((item.az || 0) - 90) * (Math.PI / 180), 0, 2 * Math.PI);
    ctx.fill();
    ctx.globalAlpha = Math.min(1, alpha + 0.3);
    ctx.lineWidth = 1;
    ctx.stroke();
  }
  ctx.globalAlpha = Math.min(1, alpha + 0.25);
  ctx.beginPath();
  ctx.arc(x, y, 3.5, 0, 2 * Math.PI);
  ctx.fill();
  ctx.globalAlpha = 1;
  ctx.lineWidth = 0.8;
  ctx.strokeStyle = "#fff";
  ctx.stroke();
  return Math.max(a, 4);
}
