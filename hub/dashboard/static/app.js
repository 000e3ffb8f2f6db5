// Argosy dashboard: one small vanilla module, no build step.
//
// Why no front-end toolchain: the page is a few tables fed by JSON and one event stream. A
// node build would add npm to `pip install` (or a generated bundle to keep in step) for no
// gain; plain ES modules run in every current browser as they are, and the hub ships them as
// package data (hub/dashboard/static).
//
// Live without polling: an EventSource on /events. Each `status` event carries the health
// counts, the changed bundles (whole) and the changed cluster names; the page applies the
// health and bundle rows at once and re-fetches only the visible page of a list the change
// touches. Lists are always fetched a page at a time (never 10,000 rows in the DOM).

const PAGE = 50;
const STATES = ["ErrApplied", "Offline", "WaitApplied", "Modified", "OutOfSync", "Pending",
  "NotReady", "WaitCheckIn", "Ready"];

const state = {
  role: "",
  q: "",
  filter: "",
  offsets: { attention: 0, bundles: 0, clusters: 0, deployments: 0 },
  totals: { attention: 0, bundles: 0, clusters: 0, deployments: 0 },
  visible: { bundles: new Set(), clusters: new Set() },
  bundleRows: new Map(),
  health: null,
  skew: 0, // server clock minus ours, seconds
  bundle: "", // the bundle page open, or ""
  pending: new Set(),
  timer: 0,
};

const $ = (id) => document.getElementById(id);

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") el.className = v;
    else if (k.startsWith("data-")) el.setAttribute(k, v);
    else el[k] = v;
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

const stateCell = (s) => h("td", { class: `state s-${s}` }, s);

function query(list) {
  const p = new URLSearchParams({ offset: state.offsets[list], limit: PAGE });
  if (state.q) p.set("q", state.q);
  if (state.filter) p.set("state", state.filter);
  return p.toString();
}

async function getJSON(url) {
  const r = await fetch(url, { credentials: "same-origin", cache: "no-store" });
  if (r.status === 401) {
    location.href = "/login";
    throw new Error("logged out");
  }
  if (!r.ok) throw new Error(`${url}: ${r.status} ${await r.text()}`);
  return r.json();
}

// --- rendering -----------------------------------------------------------------------------

function renderHealth(health) {
  state.health = health;
  const el = $("health");
  el.replaceChildren();
  el.append(h("span", { class: "total" },
    `${health.bundles} bundles · ${health.connected}/${health.clusters} clusters connected`));
  for (const [s, n] of Object.entries(health.deployments)) {
    el.append(h("span", { class: `chip s-${s}`, "data-state": s }, `${s} ${n}`));
  }
  const offline = health.cluster_states.Offline || 0;
  if (offline) el.append(h("span", { class: "chip s-Offline" }, `clusters offline ${offline}`));
  const bad = Object.keys(health.deployments).some((s) => s !== "Ready") || offline;
  el.className = `health ${bad ? "bad" : "good"}`;
}

function renderPager(list, total) {
  state.totals[list] = total;
  const nav = document.querySelector(`nav.pager[data-list="${list}"]`);
  const off = state.offsets[list];
  const shown = total ? `${off + 1}–${Math.min(off + PAGE, total)} of ${total}` : "none";
  const prev = h("button", { type: "button", disabled: off === 0 }, "‹ prev");
  const next = h("button", { type: "button", disabled: off + PAGE >= total }, "next ›");
  prev.onclick = () => { state.offsets[list] = Math.max(0, off - PAGE); refresh(list); };
  next.onclick = () => { state.offsets[list] = off + PAGE; refresh(list); };
  nav.replaceChildren(prev, h("span", {}, shown), next);
  const count = $(`${list}-count`);
  if (count) count.textContent = `(${total})`;
}

function rolloutText(b) {
  const r = b.rollout;
  if (!r.state) return "";
  return r.reason ? `${r.state}: ${r.reason}` : r.state;
}

function partitionsCell(b) {
  const td = h("td", { class: "partitions" });
  for (const p of b.rollout.partitions) {
    const text = `${p.name} ${p.count - p.unavailable}/${p.count} ${p.state}`;
    td.append(h("div", { class: `part s-${p.state}` }, text,
      p.waits_on ? h("span", { class: "waits" }, ` waits on ${p.waits_on}`) : null));
  }
  return td;
}

function bundleRow(b) {
  return h("tr", { "data-name": b.name },
    h("td", {}, h("a", { href: `#/bundle/${encodeURIComponent(b.name)}` }, b.name)),
    h("td", { class: "num" }, `${b.ready}/${b.desired}`),
    stateCell(b.paused ? `${b.state} (paused)` : b.state),
    h("td", {}, rolloutText(b)),
    partitionsCell(b),
    h("td", { class: "summary" }, b.summary));
}

function renderBundles(rows) {
  const body = document.querySelector("#bundles tbody");
  state.visible.bundles = new Set(rows.map((b) => b.name));
  for (const b of rows) state.bundleRows.set(b.name, b);
  body.replaceChildren(...rows.map(bundleRow));
}

function age(lastSeen) {
  if (!lastSeen) return "never";
  const s = Math.max(0, Math.round(Date.now() / 1000 + state.skew - lastSeen));
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.round(s / 60)}m ago`;
  return `${Math.round(s / 3600)}h ago`;
}

function renderClusters(rows) {
  const body = document.querySelector("#clusters tbody");
  state.visible.clusters = new Set(rows.map((c) => c.name));
  body.replaceChildren(...rows.map((c) => h("tr", { "data-name": c.name },
    h("td", {}, c.name),
    h("td", { class: "labels" }, Object.entries(c.labels).map(([k, v]) => `${k}=${v}`).join(" ")),
    stateCell(c.state),
    h("td", { class: "num" }, `${c.ready}/${c.desired}`),
    h("td", {}, c.offline ? "offline" : c.connected ? "connected" : "disconnected"),
    h("td", { class: "age", "data-seen": c.last_seen }, age(c.last_seen)))));
}

function renderAttention(rows) {
  const body = document.querySelector("#attention tbody");
  body.replaceChildren(...rows.map((r) => h("tr", { "data-cluster": r.cluster },
    h("td", {}, h("a", { href: `#/bundle/${encodeURIComponent(r.bundle)}` }, r.bundle)),
    h("td", {}, r.cluster),
    stateCell(r.state),
    h("td", {}, r.resource),
    h("td", { class: "message" }, r.message))));
}

function renderBundlePage(data) {
  const b = data.bundle;
  state.bundleRows.set(b.name, b);
  $("bundle-title").textContent = `bundle/${b.name}`;
  $("bundle-facts").textContent = `${b.ready}/${b.desired} clusters ready · ${b.state}` +
    (b.paused ? " · paused" : "") + ` · revision ${b.revision.slice(0, 12)}` +
    ` · ${data.resource_count} resources` + (b.summary ? ` · ${b.summary}` : "");
  const admin = state.role === "admin";
  for (const id of ["pause", "unpause", "resume-rollout"]) {
    $(id).disabled = !admin;
    $(id).title = admin ? "" : "viewers may not change bundles";
  }
  $("pause").hidden = b.paused;
  $("unpause").hidden = !b.paused;
  $("resume-rollout").hidden = b.rollout.state !== "Halted";
  const parts = document.querySelector("#partitions tbody");
  parts.replaceChildren(...b.rollout.partitions.map((p) => h("tr", {},
    h("td", {}, p.name), h("td", { class: "num" }, p.count),
    h("td", { class: "num" }, p.unavailable), h("td", { class: "num" }, p.max_unavailable),
    stateCell(p.state), h("td", {}, p.waits_on))));
  const hist = document.querySelector("#history tbody");
  hist.replaceChildren(...data.history.map((r) => h("tr", {},
    h("td", { class: "mono" }, r.revision),
    h("td", {}, new Date(r.time * 1000).toLocaleString()),
    h("td", {}, r.current ? "current" : ""))));
}

function renderDeployments(rows) {
  const body = document.querySelector("#deployments tbody");
  body.replaceChildren(...rows.map((d) => h("tr", { "data-name": d.cluster },
    h("td", {}, d.cluster),
    stateCell(d.stale ? `${d.state} (stale)` : d.state),
    h("td", { class: "mono" }, `${d.revision.slice(0, 12)} (${d.applied_revision.slice(0, 12) || "none"})`),
    h("td", {}, d.resources.map((r) => h("div", {},
      `${r.resource}: ${r.missing ? "missing" : r.modified ? "modified" : "not ready"}` +
      (r.message ? ` ${r.message}` : "")))),
    h("td", { class: "message" }, d.held || d.message))));
}

// --- fetching ------------------------------------------------------------------------------

async function refresh(list) {
  try {
    if (list === "bundles") {
      const r = await getJSON(`/api/bundles?${query("bundles")}`);
      renderBundles(r.items);
      renderPager("bundles", r.total);
    } else if (list === "clusters") {
      const r = await getJSON(`/api/clusters?${query("clusters")}`);
      state.skew = r.now - Date.now() / 1000;
      renderClusters(r.items);
      renderPager("clusters", r.total);
    } else if (list === "attention") {
      const r = await getJSON(`/api/attention?${query("attention")}`);
      renderAttention(r.items);
      renderPager("attention", r.total);
    } else if (list === "bundle" && state.bundle) {
      renderBundlePage(await getJSON(`/api/bundles/${encodeURIComponent(state.bundle)}`));
    } else if (list === "deployments" && state.bundle) {
      const name = encodeURIComponent(state.bundle);
      const r = await getJSON(`/api/bundles/${name}/clusters?${query("deployments")}`);
      renderDeployments(r.items);
      renderPager("deployments", r.total);
    }
    // For bench/dashboard.py: when each list first rendered, on the page's own clock.
    performance.mark(`argosy:${list}`);
  } catch (e) {
    console.error(e);
  }
}

function lists() {
  return state.bundle ? ["bundle", "deployments"] : ["attention", "bundles", "clusters"];
}

function refreshAll() {
  for (const list of lists()) refresh(list);
}

// Needs attention and a bundle's clusters cost the hub most to build, and during a rollout
// an event names the bundle every broadcast (50 ms): fetch them at most once a second, the
// first at once and the last change always (a trailing fetch).
const THROTTLED = new Set(["attention", "deployments"]);
const THROTTLE_MS = 1000;
const throttle = { last: new Map(), timers: new Map() };

// Coalesce bursts of events into one fetch per list per animation frame.
function later(list) {
  if (!lists().includes(list)) return;
  if (THROTTLED.has(list)) {
    if (throttle.timers.has(list)) return; // a fetch is due: it will show this change too
    const wait = (throttle.last.get(list) || -THROTTLE_MS) + THROTTLE_MS - performance.now();
    throttle.timers.set(list, setTimeout(() => {
      throttle.timers.delete(list);
      throttle.last.set(list, performance.now());
      if (lists().includes(list)) refresh(list);
    }, Math.max(0, wait)));
    return;
  }
  state.pending.add(list);
  if (state.timer) return;
  state.timer = requestAnimationFrame(() => {
    state.timer = 0;
    const todo = [...state.pending];
    state.pending.clear();
    for (const l of todo) refresh(l);
  });
}

function applyEvent(d) {
  const before = state.health;
  renderHealth(d.health);
  if (d.snapshot) {
    refreshAll();
    return;
  }
  const stateCountsMoved = !before ||
    JSON.stringify(before.cluster_states) !== JSON.stringify(d.health.cluster_states) ||
    JSON.stringify(before.deployments) !== JSON.stringify(d.health.deployments);
  if (d.bundles.length || d.removed_bundles.length) {
    // A bundle's rows change with any of its deployments: what needs attention may too.
    later("attention");
    later("bundles");
    if (state.bundle && (d.bundles.some((b) => b.name === state.bundle) ||
        d.removed_bundles.includes(state.bundle))) {
      later("bundle");
      later("deployments");
    }
  }
  const touched = d.clusters.some((c) => state.visible.clusters.has(c)) ||
    d.removed_clusters.length || (d.clusters.length && (stateCountsMoved || state.q || state.filter)) ||
    (before && before.clusters !== d.health.clusters);
  if (touched) later("clusters");
}

function connect() {
  const live = $("live");
  const events = new EventSource("/events");
  events.addEventListener("hello", (e) => {
    live.textContent = "live";
    live.className = "live on";
    renderHealth(JSON.parse(e.data).health);
    refreshAll(); // (re)connected: whatever happened meanwhile is in the fresh pages
  });
  events.addEventListener("status", (e) => applyEvent(JSON.parse(e.data)));
  events.onerror = () => {
    live.textContent = "reconnecting…";
    live.className = "live off";
  };
}

async function act(action) {
  const out = $("action-result");
  const r = await fetch(`/api/bundles/${encodeURIComponent(state.bundle)}/${action}`,
    { method: "POST", credentials: "same-origin" });
  out.textContent = r.ok ? `${action}: done` : `${action}: ${r.status} ${await r.text()}`;
  refresh("bundle");
}

function route() {
  const m = location.hash.match(/^#\/bundle\/(.+)$/);
  state.bundle = m ? decodeURIComponent(m[1]) : "";
  state.offsets.deployments = 0;
  $("overview").hidden = Boolean(state.bundle);
  $("bundle-view").hidden = !state.bundle;
  refreshAll();
}

async function start() {
  const select = $("state-filter");
  for (const s of STATES) select.append(h("option", { value: s }, s));
  let typing = 0;
  $("search").addEventListener("input", (e) => {
    clearTimeout(typing);
    typing = setTimeout(() => {
      state.q = e.target.value.trim();
      for (const k of Object.keys(state.offsets)) state.offsets[k] = 0;
      refreshAll();
    }, 150);
  });
  select.addEventListener("change", (e) => {
    state.filter = e.target.value;
    for (const k of Object.keys(state.offsets)) state.offsets[k] = 0;
    refreshAll();
  });
  for (const id of ["pause", "unpause", "resume-rollout"]) $(id).onclick = () => act(id);
  const summary = await getJSON("/api/summary");
  state.role = summary.role;
  $("role").textContent = summary.role;
  renderHealth(summary.health);
  window.addEventListener("hashchange", route);
  route();
  connect();
  // Heartbeat ages tick here, from the last fetched times: no request per second.
  setInterval(() => {
    for (const td of document.querySelectorAll("td.age")) td.textContent = age(Number(td.dataset.seen));
  }, 1000);
}

start();
