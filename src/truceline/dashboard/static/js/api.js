// Shared by every page: the token, requests to the API, and safe DOM building.
//
// The token lives in sessionStorage: it is gone when the tab closes and is never put in a URL.
// Every element is built with textContent, never innerHTML, so no record text can run as script.
// Styles are set through the CSSOM (element.style), never as a style attribute: the pages' CSP
// allows no inline style.

const TOKEN_KEY = "truceline.token";
const MAX_RETRY_AFTER_S = 10;
export const TOKEN_PATTERN = /^tl_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/;

export const SIDE_COLOURS = { UKR: "#1f5fbf", RUS: "#c0392b", "": "#6b6b6b" };
export const LEVEL_COLOURS = { 1: "#2e7d32", 2: "#9e9d24", 3: "#f9a825", 4: "#ef6c00", 5: "#b71c1c" };
export const TLP_COLOURS = { clear: "#ffffff", green: "#33ff00", amber: "#ffc000", "amber+strict": "#ffc000", red: "#ff2b2b" };

export function sideColour(side) {
  return SIDE_COLOURS[side] || "#7b4fa0"; // a third party (e.g. a claim against a guarantor) gets its own hue
}

export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function logout() {
  sessionStorage.removeItem(TOKEN_KEY);
  location.assign("login.html");
}

/** Send the visitor to the login page, coming back here afterwards. */
export function toLogin(reason) {
  const next = location.pathname + location.search;
  const params = new URLSearchParams({ next });
  if (reason) params.set("reason", reason);
  location.assign("login.html?" + params.toString());
}

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

function detailOf(body, status) {
  if (body && typeof body.detail === "string") return body.detail;
  if (body && Array.isArray(body.detail)) {
    // FastAPI's validation errors: name each field and what was wrong with it.
    return body.detail.map((e) => `${(e.loc || []).slice(1).join(".") || "request"}: ${e.msg}`).join("; ");
  }
  return `the server answered ${status}`;
}

/** GET or POST JSON with the bearer token; 401 sends the visitor to the login page. */
export async function api(path, { method = "GET", body, retries = 5 } = {}) {
  const token = getToken();
  if (!token) {
    toLogin();
    throw new ApiError(401, "not logged in");
  }
  const headers = { Authorization: `Bearer ${token}`, Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  for (let attempt = 0; ; attempt++) {
    let response;
    try {
      response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (err) {
      throw new ApiError(0, `the server could not be reached (${err.message})`);
    }
    // 503: the server is still reading the store; wait a little (bounded) and ask again.
    if (response.status === 503 && attempt < retries) {
      await new Promise((r) => setTimeout(r, 1000 * (attempt + 1)));
      continue;
    }
    // 429: a rate limit; wait as told when that is short, else say so (below).
    const retryAfter = Number(response.headers.get("Retry-After"));
    if (response.status === 429 && attempt < 2 && retryAfter > 0 && retryAfter <= MAX_RETRY_AFTER_S) {
      await new Promise((r) => setTimeout(r, 1000 * retryAfter));
      continue;
    }
    let parsed = null;
    try {
      parsed = await response.json();
    } catch (_) {
      parsed = null;
    }
    if (response.status === 401) {
      toLogin("Your token was refused (missing, invalid, expired or revoked). Paste a valid one.");
      throw new ApiError(401, detailOf(parsed, 401));
    }
    if (!response.ok) throw new ApiError(response.status, detailOf(parsed, response.status));
    return parsed;
  }
}

/** h("a", {href: "x", class: "y"}, "text", child, …): an element with attributes and children. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "style") el.style.cssText = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

/** A problem shown in the page's message area (never a stack trace). */
export function showMessage(text, kind = "error") {
  const box = document.getElementById("messages");
  if (!box) return;
  const item = h("div", { class: `message message-${kind}`, role: kind === "error" ? "alert" : "status" }, text);
  const close = h("button", { class: "message-close", type: "button", "aria-label": "dismiss" }, "×");
  close.addEventListener("click", () => item.remove());
  item.append(close);
  box.append(item);
}

export function clearMessages() {
  const box = document.getElementById("messages");
  if (box) clear(box);
}

export function tlpBadge(tlp) {
  const label = `TLP:${String(tlp || "?").toUpperCase()}`;
  return h("span", { class: `tlp tlp-${String(tlp || "unknown").replace("+", "-")}`, title: "Traffic Light Protocol 2.0" }, label);
}

export function fmtTime(epochSeconds) {
  const d = new Date(epochSeconds * 1000);
  return d.toISOString().slice(0, 19).replace("T", " ") + "Z";
}

export function fmtIso(iso) {
  if (!iso) return "";
  return String(iso).replace("T", " ").replace(/\.\d+/, "").replace("+00:00", "Z");
}

export function fmtMetres(m) {
  if (m === null || m === undefined) return "–";
  return m >= 1000 ? `${(m / 1000).toFixed(1)} km` : `${Math.round(m)} m`;
}

export function fmtP(p) {
  return p === null || p === undefined ? "–" : `${Math.round(p * 100)} %`;
}

/** The header's who-am-I line and logout button, from /v1/me. */
export async function whoAmI() {
  const me = await api("/v1/me");
  const who = document.getElementById("who");
  if (who) {
    const parts = [
      h("span", { class: "who-participant", id: "who-participant" }, me.participant),
      h("span", { class: "who-roles" }, me.roles.length ? me.roles.join(", ") : "read only"),
      me.groups.length ? h("span", { class: "who-groups" }, "groups: " + me.groups.map((g) => g.id).join(", ")) : null,
      h("button", { type: "button", class: "logout", onclick: logout }, "Log out"),
    ];
    clear(who).append(...parts.filter(Boolean));
  }
  return me;
}

/** A 95 % error ellipse as lat/lon points (for Leaflet polygons on the incident page). */
export function ellipseLatLngs(lat, lon, a, b, azDeg, n = 48) {
  const R = 6371008.8;
  const theta = (azDeg * Math.PI) / 180;
  const pts = [];
  for (let k = 0; k < n; k++) {
    const t = (2 * Math.PI * k) / n;
    const u = a * Math.cos(t);
    const v = b * Math.sin(t);
    // Major axis along the azimuth (clockwise from north): east = u sinθ + v cosθ, north = u cosθ − v sinθ.
    const east = u * Math.sin(theta) + v * Math.cos(theta);
    const north = u * Math.cos(theta) - v * Math.sin(theta);
    pts.push([lat + (north / R) * (180 / Math.PI), lon + (east / (R * Math.cos((lat * Math.PI) / 180))) * (180 / Math.PI)]);
  }
  return pts;
}
