// The login page: check a pasted token against /v1/me, keep it in sessionStorage, go back where we came from.

import { TOKEN_PATTERN, setToken, showMessage } from "./api.js";

function safeNext(value) {
  // Only pages of this dashboard: an address from the query string must not send the token's
  // holder to another site.
  return value && /^\/dashboard\/[A-Za-z0-9_.\-/]*(\?[^#]*)?$/.test(value) && !value.includes("//") ? value : "./";
}

const params = new URLSearchParams(location.search);
if (params.get("reason")) showMessage(params.get("reason").slice(0, 300), "info");

document.getElementById("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const token = document.getElementById("token").value.trim();
  if (!TOKEN_PATTERN.test(token)) {
    showMessage("This does not look like a Truceline token: it reads tl_, 12 hex digits, _, then 43 characters.");
    return;
  }
  let response;
  try {
    response = await fetch("/v1/me", { headers: { Authorization: `Bearer ${token}` } });
  } catch (err) {
    showMessage(`The server could not be reached (${err.message}).`);
    return;
  }
  if (response.status === 401) {
    showMessage("The server refused this token: it is unknown, revoked or expired.");
    return;
  }
  if (!response.ok) {
    let detail = "";
    try {
      const body = await response.json();
      if (body && typeof body.detail === "string") detail = `: ${body.detail}`;
    } catch (_) {
      detail = "";
    }
    showMessage(`The server answered ${response.status}${detail}. Try again later.`);
    return;
  }
  setToken(token);
  location.assign(safeNext(params.get("next")));
});
