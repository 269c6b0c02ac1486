// The map page's state lives in its query string, so that a view can be bookmarked and shared.
// A malformed address must give a clear sentence in the page, never a stack trace: every
// parameter is checked here, a bad one is reported and ignored, and the rest still apply.

export const KINDS = ["fire", "incursion", "air", "sea", "staging", "other"];
export const STATUSES = ["preliminary", "reviewed", "final", "rejected"];
export const SIDES = ["UKR", "RUS", "none"];
const KNOWN = ["day", "from", "to", "sector", "kind", "status", "side"];
const MAX_LENGTH = 100;

function show(value) {
  const s = String(value);
  return JSON.stringify(s.length > 40 ? s.slice(0, 40) + "…" : s);
}

function validDay(value) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const d = new Date(value + "T00:00:00Z");
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value;
}

function parseHour(value, allow24) {
  const m = /^(\d{1,2})(?::00)?$/.exec(value);
  if (!m) return null;
  const hour = Number(m[1]);
  if (hour > (allow24 ? 24 : 23)) return null;
  return hour;
}

/**
 * Read the filters from a query string.
 * Returns {state, problems}: state holds only valid values; problems are sentences for the page.
 */
export function parseQuery(search) {
  const state = { day: null, from: 0, to: 24, sector: null, kind: null, status: null, side: null };
  const problems = [];
  let params;
  try {
    params = new URLSearchParams(search);
  } catch (_) {
    return { state, problems: ["The address's query string could not be read; showing the default view."] };
  }
  const seen = new Set();
  for (const [rawKey, value] of params) {
    const key = rawKey.trim();
    if (!KNOWN.includes(key)) {
      problems.push(`Unknown parameter ${show(key)} ignored; the map understands ${KNOWN.join(", ")}.`);
      continue;
    }
    if (seen.has(key)) {
      problems.push(`Parameter ${show(key)} is given more than once; the first value is used.`);
      continue;
    }
    seen.add(key);
    if (value.length > MAX_LENGTH) {
      problems.push(`Parameter ${show(key)} is too long (more than ${MAX_LENGTH} characters) and was ignored.`);
      continue;
    }
    if (value === "") continue;
    switch (key) {
      case "day":
        if (validDay(value)) state.day = value;
        else problems.push(`day=${show(value)} is not a date; expected YYYY-MM-DD, e.g. 2026-09-02. Showing the latest day.`);
        break;
      case "from":
      case "to": {
        const hour = parseHour(value, key === "to");
        if (hour === null) problems.push(`${key}=${show(value)} is not an hour of the day; expected 0–${key === "to" ? 24 : 23} or HH:00.`);
        else state[key] = hour;
        break;
      }
      case "sector":
        if (/^[A-Za-z0-9_-]{1,40}$/.test(value)) state.sector = value;
        else problems.push(`sector=${show(value)} is not a sector id (such as CL-07).`);
        break;
      case "kind":
        if (KINDS.includes(value)) state.kind = value;
        else problems.push(`kind=${show(value)} is not an incident kind; expected one of ${KINDS.join(", ")}.`);
        break;
      case "status":
        if (STATUSES.includes(value)) state.status = value;
        else problems.push(`status=${show(value)} is not a review status; expected one of ${STATUSES.join(", ")}.`);
        break;
      case "side":
        if (SIDES.includes(value)) state.side = value;
        else problems.push(`side=${show(value)} is not a side; expected one of ${SIDES.join(", ")}.`);
        break;
    }
  }
  if (state.from >= state.to) {
    problems.push(`The hours from=${state.from} to=${state.to} leave no time; showing the whole day.`);
    state.from = 0;
    state.to = 24;
  }
  return { state, problems };
}

/** The query string for a state (defaults left out). */
export function formatQuery(state) {
  const params = new URLSearchParams();
  if (state.day) params.set("day", state.day);
  if (state.from !== 0) params.set("from", String(state.from));
  if (state.to !== 24) params.set("to", String(state.to));
  for (const key of ["sector", "kind", "status", "side"]) if (state[key]) params.set(key, state[key]);
  const s = params.toString();
  return s ? "?" + s : "";
}
