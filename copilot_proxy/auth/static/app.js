// The login page: plain DOM, no framework, no build step. Every value from the
// server goes through textContent (never innerHTML). The GitHub token never
// reaches this page; the admin session lives in an HttpOnly cookie.
"use strict";

const state = {
  session: { authenticated: false, scope: null, csrfToken: null, adminPasswordConfigured: false },
  store: null,  // "kubernetes" (the operator's Secrets) or "directory" (copilot-proxy run)
  proxies: [],
  logins: {},   // proxy id -> login view of the sign-in shown in its card
  notes: {},    // proxy id -> {text, kind} shown under its card after an action
  busy: {},     // proxy id -> true while a request for it is running
};
const POLL_MS = 1000;
const REFRESH_MS = 30000;
const polling = {};

function $(id) { return document.getElementById(id); }

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function api(method, path, body) {
  const headers = { "Accept": "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && state.session.csrfToken) headers["X-CSRF-Token"] = state.session.csrfToken;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch (err) {
    throw new Error("The login service did not answer. Is the port-forward still running?");
  }
  let data = {};
  try { data = await response.json(); } catch (err) { data = {}; }
  if (!response.ok) {
    const error = new Error(data.message || `HTTP ${response.status}`);
    error.status = response.status;
    error.code = data.error;
    throw error;
  }
  return data;
}

function proxyPath(proxy) {
  return `/api/proxies/${encodeURIComponent(proxy.namespace)}/${encodeURIComponent(proxy.name)}`;
}

function canChange(proxy) {
  const scope = state.session.scope;
  return state.session.authenticated && (scope === "all" || (Array.isArray(scope) && scope.includes(proxy.id)));
}

function age(seconds) {
  if (seconds === null || seconds === undefined) return "unknown";
  if (seconds < 90) return "just now";
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `${minutes} minutes ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 36) return `${hours} hours ago`;
  return `${Math.round(hours / 24)} days ago`;
}

const QUOTA_NAMES = {
  premium_interactions: "Premium requests",
  chat: "Chat",
  completions: "Code completions",
};
// What a monthly plan's allowance counts since June 2026, or an annual plan's.
const UNIT_NAMES = { ai_credits: "AI credits", premium_requests: "Premium requests" };

// AI credits and premium requests first: they run out; chat and completions are usually unlimited.
function quotaOrder(a, b) {
  const rank = (q) => (q.unit ? 0 : q.unlimited ? 2 : 1);
  return rank(a) - rank(b) || a.kind.localeCompare(b.kind);
}

function quotaRow(q) {
  const name = UNIT_NAMES[q.unit] || QUOTA_NAMES[q.kind] || q.kind.replace(/_/g, " ");
  if (q.unlimited) return el("div", { class: "quota" }, el("label", { text: `${name}: unlimited` }));
  if (q.remaining === null || q.entitlement === null) return null;
  const pct = q.percentRemaining ?? (q.entitlement ? (100 * q.remaining) / q.entitlement : 0);
  const level = pct <= 0 ? "empty" : pct < 20 ? "low" : "";
  const label = `${name}: ${Math.round(q.remaining)} of ${Math.round(q.entitlement)} left`;
  const fill = el("span");
  // CSSOM, not a style attribute: the page's CSP allows no inline styles.
  fill.style.width = `${Math.max(0, Math.min(100, pct))}%`;
  return el("div", { class: "quota" },
    el("label", { text: label }),
    el("div", { class: `bar ${level}`, role: "meter", "aria-label": label, "aria-valuemin": 0,
                "aria-valuemax": 100, "aria-valuenow": Math.round(pct) }, fill));
}

// A GitHub App provides the token (the operator, or copilot-proxy run, mints and renews it).
function appOf(proxy) {
  return proxy.credential && proxy.credential.kind === "GitHubApp" ? proxy.credential : null;
}

// HH:MM in the reader's time zone.
function clockTime(iso) {
  const when = iso ? new Date(iso) : null;
  if (!when || isNaN(when.getTime())) return null;
  return when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
}

// "GitHub App · acme · token renews at 14:05", or what stops it.
function appLine(app, proxy) {
  const who = app.account || `installation ${app.installationId}`;
  let what;
  if (app.ready === false) what = app.reason || "no token";
  else if (proxy.token.state !== "present") what = "waiting for the first token";
  else what = clockTime(app.renewAt) ? `token renews at ${clockTime(app.renewAt)}` : "token minted";
  return `GitHub App · ${who} · ${what}`;
}

function minter() {
  return state.store === "directory" ? "copilot-proxy run" : "the operator";
}

function badge(proxy) {
  const app = appOf(proxy);
  if (app) {
    if (app.ready === false) return el("span", { class: "badge bad", text: "Credential problem" });
    if (proxy.token.state !== "present") return el("span", { class: "badge warn", text: "Waiting for token" });
    if (proxy.ready === false) return el("span", { class: "badge warn", text: "Proxy not ready" });
    return el("span", { class: "badge ok", text: "Connected" });
  }
  const login = state.logins[proxy.id];
  if (login && !isFinished(login)) return el("span", { class: "badge warn", text: "Signing in…" });
  if (proxy.token.state === "present") {
    if (proxy.copilot && proxy.copilot.error) return el("span", { class: "badge bad", text: "Token problem" });
    // Signed in, but the proxy does not serve (starting, crashing): the card says why.
    if (proxy.ready === false) return el("span", { class: "badge warn", text: "Proxy not ready" });
    return el("span", { class: "badge ok", text: "Connected" });
  }
  return el("span", { class: "badge bad", text: "No token" });
}

function isFinished(login) {
  return ["connected", "failed", "cancelled"].includes(login.phase);
}

function facts(proxy) {
  const rows = [];
  const add = (term, ...value) => rows.push(el("dt", { text: term }), el("dd", {}, ...value));
  const app = appOf(proxy);
  if (app) {
    add("Credential", appLine(app, proxy));
    add("Installation", `App ${app.issuer}, installation ${app.installationId}`);
    if (app.account) add("Billed to", `${app.account} (the organisation's AI credits)`);
    if (app.expiresAt && proxy.token.state === "present") add("Token expires", clockTime(app.expiresAt) || app.expiresAt);
  } else if (proxy.token.state === "present") {
    add("Account", proxy.token.login ? `@${proxy.token.login}` : "unknown");
    const copilot = proxy.copilot || {};
    if (copilot.plan) add("Copilot plan", copilot.plan);
    add("Token saved", age(proxy.token.ageSeconds));
    if (copilot.quotaResetDate) add("Quota resets", copilot.quotaResetDate);
  } else {
    add("Account", "none: sign in to connect one");
  }
  if (proxy.ready !== null) add("Proxy", proxy.ready ? "ready" : (proxy.statusMessage || "not ready"));
  add("Stored in", el("code", { text: proxy.tokenLocation }));
  return el("dl", { class: "facts" }, rows);
}

function loginPanel(proxy, login) {
  if (login.phase === "waiting") {
    const code = el("output", { class: "code", "aria-label": "Your one-time code", text: login.userCode });
    const copied = el("span", { class: "muted", role: "status" });
    return el("div", { class: "login", role: "group", "aria-label": `Sign-in for ${proxy.name}` },
      el("ol", {},
        el("li", {}, el("span", { class: "step", text: "Copy your one-time code" }),
          el("div", { class: "row" }, code,
            el("button", { type: "button", class: "copy", onclick: () => copyCode(login.userCode, copied) }, "Copy code"),
            copied)),
        el("li", {}, el("span", { class: "step", text: "Paste it on GitHub and approve" }),
          el("div", { class: "row" },
            el("a", { class: "button primary", href: login.verificationUri, target: "_blank",
                      rel: "noopener noreferrer", onclick: () => copyCode(login.userCode, copied) },
               "Open GitHub ↗")))),
      el("p", { class: "progress", role: "status" }, el("span", { class: "spinner", "aria-hidden": "true" }),
         el("span", { text: `${login.message} Code valid for ${Math.ceil((login.expiresIn || 0) / 60)} min.` })),
      el("div", {}, el("button", { type: "button", onclick: () => cancelLogin(proxy) }, "Cancel")));
  }
  return el("div", { class: "login" },
    el("p", { class: "progress", role: "status" }, el("span", { class: "spinner", "aria-hidden": "true" }),
       el("span", { text: login.message })));
}

function card(proxy) {
  const login = state.logins[proxy.id];
  const active = login && !isFinished(login);
  const allowed = canChange(proxy);
  const busy = !!state.busy[proxy.id];
  const note = state.notes[proxy.id];
  const quotas = [...((proxy.copilot && proxy.copilot.quotas) || [])].sort(quotaOrder);
  const app = appOf(proxy);
  const hint = app
    ? el("p", { class: "muted", text: `Nothing to sign in: ${minter()} mints and renews this token.` })
    : allowed ? null : el("p", { class: "muted", text: "Unlock the page to sign in or out." });
  const connected = proxy.token.state === "present";
  return el("article", { class: "card", "data-proxy": proxy.id, "aria-labelledby": `title-${proxy.id}` },
    el("header", {},
      el("div", {}, el("h3", { id: `title-${proxy.id}`, text: proxy.name }),
         el("span", { class: "ns", text: `namespace ${proxy.namespace}` })),
      badge(proxy)),
    facts(proxy),
    quotas.map(quotaRow),
    proxy.copilot && proxy.copilot.error ? el("p", { class: "message bad", text: proxy.copilot.error }) : null,
    app && app.ready === false && app.message ? el("p", { class: "message bad", role: "alert", text: app.message }) : null,
    active ? loginPanel(proxy, login) : null,
    note ? el("p", { class: `message ${note.kind}`, role: note.kind === "bad" ? "alert" : "status", text: note.text }) : null,
    active || app ? null : el("div", { class: "actions" },
      el("button", { type: "button", class: "primary", "data-action": `signin:${proxy.id}`,
                     disabled: !allowed || busy, onclick: () => startLogin(proxy) },
         note && note.retry ? "Try again" : connected ? "Replace token" : "Sign in with GitHub"),
      connected ? el("button", { type: "button", class: "danger", "data-action": `signout:${proxy.id}`,
                                 disabled: !allowed || busy, onclick: () => signOut(proxy) }, "Sign out") : null),
    hint);
}

// Where the master key is, for the proxies this page serves: a file with
// `copilot-proxy run`, the operator's Secret <name>-master-key in Kubernetes.
function keyHelp() {
  const shown = state.proxies.slice(0, 3);
  const parts = [];
  if (state.store === "directory") {
    parts.push(el("p", { text: "copilot-proxy run printed it when it made it, and keeps it in a file next to the token:" }));
    for (const p of shown) {
      const file = p.tokenLocation.replace(/[^/\\]*$/, "master-key");
      parts.push(el("pre", {}, el("code", { text: `cat ${file}` })));
    }
  } else if (shown.length) {
    parts.push(el("p", { text: "The operator keeps it in the Secret <proxy>-master-key of the proxy's namespace:" }));
    for (const p of shown) {
      parts.push(el("pre", {}, el("code", {
        text: `kubectl -n ${p.namespace} get secret ${p.name}-master-key -o jsonpath='{.data.master-key}' | base64 -d`,
      })));
    }
  }
  if (state.session.adminPasswordConfigured) {
    parts.push(el("p", { text: "The admin password set for this login service unlocks every proxy." }));
  }
  if (parts.length) $("key-where").replaceChildren(...parts);
}

function render() {
  const s = state.session;
  $("locked").hidden = s.authenticated;
  $("unlocked").hidden = !s.authenticated;
  for (const node of document.querySelectorAll(".admin-only, #admin-hint")) node.hidden = !s.adminPasswordConfigured;
  $("scope").textContent = s.scope === "all" ? "all proxies" : (s.scope || []).join(", ");
  keyHelp();

  // Keep keyboard focus on the same button across re-renders.
  const focused = document.activeElement && document.activeElement.getAttribute("data-action");
  const list = $("proxies");
  list.replaceChildren(...(state.proxies.length
    ? state.proxies.map(card)
    : [el("p", { class: "muted", text: "No CopilotProxy found. Create one (kubectl apply -f examples/copilotproxy.yaml), then refresh." })]));
  list.setAttribute("aria-busy", "false");
  if (focused) {
    const again = list.querySelector(`[data-action="${CSS.escape(focused)}"]`);
    if (again && !again.disabled) again.focus();
  }
}

async function copyCode(code, status) {
  try {
    await navigator.clipboard.writeText(code);
    status.textContent = "Copied.";
  } catch (err) {
    status.textContent = "Select the code and copy it.";
  }
}

async function loadSession() {
  state.session = await api("GET", "/api/session");
}

async function loadProxies() {
  try {
    const data = await api("GET", "/api/proxies");
    state.proxies = data.proxies;
    state.store = data.store;
    $("list-error").textContent = "";
  } catch (err) {
    $("list-error").textContent = err.message;
  }
  render();
}

function note(proxy, text, kind, retry) {
  state.notes[proxy.id] = { text, kind, retry: !!retry };
}

async function whenLocked(err) {
  // The session ended (server restart, expiry): show the unlock form again.
  if (err.status === 401 || err.code === "csrf") await loadSession();
}

async function startLogin(proxy) {
  state.busy[proxy.id] = true;
  delete state.notes[proxy.id];
  render();
  try {
    const login = await api("POST", `${proxyPath(proxy)}/login`);
    state.logins[proxy.id] = login;
    pollLogin(proxy, login.id);
  } catch (err) {
    note(proxy, err.message, "bad", true);
    await whenLocked(err);
  } finally {
    delete state.busy[proxy.id];
    render();
  }
}

function pollLogin(proxy, loginId) {
  clearTimeout(polling[proxy.id]);
  polling[proxy.id] = setTimeout(async () => {
    try {
      const login = await api("GET", `/api/logins/${encodeURIComponent(loginId)}`);
      state.logins[proxy.id] = login;
      if (!isFinished(login)) {
        render();
        pollLogin(proxy, loginId);
        return;
      }
      delete state.logins[proxy.id];
      if (login.phase === "connected") note(proxy, login.message, "ok");
      else if (login.phase === "failed") note(proxy, login.message, "bad", true);
      await loadProxies();
    } catch (err) {
      delete state.logins[proxy.id];
      note(proxy, err.message, "bad", true);
      await whenLocked(err);
      render();
    }
  }, POLL_MS);
}

async function cancelLogin(proxy) {
  const login = state.logins[proxy.id];
  clearTimeout(polling[proxy.id]);
  delete state.logins[proxy.id];
  if (login) {
    try { await api("DELETE", `/api/logins/${encodeURIComponent(login.id)}`); } catch (err) { /* finished anyway */ }
  }
  note(proxy, "Sign-in cancelled.", "");
  render();
}

async function signOut(proxy) {
  if (!window.confirm(`Remove the GitHub token of ${proxy.name}? The proxy stops serving until someone signs in again.`)) return;
  state.busy[proxy.id] = true;
  render();
  try {
    await api("DELETE", `${proxyPath(proxy)}/token`);
    note(proxy, "Signed out: the token was removed.", "");
  } catch (err) {
    note(proxy, err.message, "bad");
    await whenLocked(err);
  } finally {
    delete state.busy[proxy.id];
    await loadProxies();
  }
}

async function unlock(event) {
  event.preventDefault();
  const input = $("credential");
  $("unlock-error").textContent = "";
  try {
    state.session = await api("POST", "/api/session", { credential: input.value });
    input.value = "";
  } catch (err) {
    $("unlock-error").textContent = err.message;
    input.focus();
    return;
  }
  render();
}

async function lock() {
  try { await api("DELETE", "/api/session"); } catch (err) { /* already locked */ }
  await loadSession();
  render();
  $("credential").focus();
}

document.addEventListener("DOMContentLoaded", async () => {
  $("unlock-form").addEventListener("submit", unlock);
  $("lock").addEventListener("click", lock);
  $("refresh").addEventListener("click", loadProxies);
  try { await loadSession(); } catch (err) { $("list-error").textContent = err.message; }
  await loadProxies();
  setInterval(() => { if (!document.hidden) loadProxies(); }, REFRESH_MS);
});
