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
// Each `events` event carries the newest events the hub's event log wrote (one message per
// written batch); the recent-events panels merge them by number, so a fetch and the stream
// overlapping shows nothing twice.

const PAGE = 50;
const RECENT = 20;
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
  events: { overview: [], bundle: [] },
  pinned: 0, // the pin the history shown was fetched with
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
  // Flattened: a child may be a list of elements (a cell of several lines).
  for (const c of children.flat()) {
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
    stateCell(b.state + (b.paused ? " (paused)" : "") + (b.pinned ? ` (pinned rev ${b.pinned})` : "")),
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

const ACTIONS = ["pause", "unpause", "resume-rollout", "rollback", "unpin"];

function forAdmins(button) {
  const admin = state.role === "admin";
  button.disabled = !admin;
  button.title = admin ? button.title : "viewers may not change bundles";
  return button;
}

function historyNote(r) {
  const notes = [];
  if (r.current) notes.push("current");
  if (r.rollback_of) notes.push(`rollback to rev ${r.rollback_of}`);
  if (r.pinned) notes.push("pinned");
  return notes.join(" · ");
}

function renderBundlePage(data) {
  const b = data.bundle;
  state.bundleRows.set(b.name, b);
  $("bundle-title").textContent = `bundle/${b.name}`;
  $("bundle-facts").textContent = `${b.ready}/${b.desired} clusters ready · ${b.state}` +
    (b.paused ? " · paused" : "") + (data.pinned ? ` · Pinned (rev ${data.pinned})` : "") +
    ` · revision ${b.revision.slice(0, 12)}` +
    ` · ${data.resource_count} resources` + (b.summary ? ` · ${b.summary}` : "");
  for (const id of ACTIONS) forAdmins($(id));
  $("pause").hidden = b.paused;
  $("unpause").hidden = !b.paused;
  $("resume-rollout").hidden = b.rollout.state !== "Halted";
  $("unpin").hidden = !data.pinned;
  // Pinned or unpinned (here or by `argosy rollback`): the history's marks change.
  if (data.pinned !== state.pinned) later("history");
  const parts = document.querySelector("#partitions tbody");
  parts.replaceChildren(...b.rollout.partitions.map((p) => h("tr", {},
    h("td", {}, p.name), h("td", { class: "num" }, p.count),
    h("td", { class: "num" }, p.unavailable), h("td", { class: "num" }, p.max_unavailable),
    stateCell(p.state), h("td", {}, p.waits_on))));
}

function renderHistory(data) {
  state.pinned = data.pinned;
  // Rolling back needs an earlier revision.
  $("rollback").hidden = data.items.length < 2;
  const hist = document.querySelector("#history tbody");
  hist.replaceChildren(...data.items.map((r) => {
    let action = null;
    if (!r.current) {
      action = forAdmins(h("button", { type: "button", class: "to-rev", title: `roll back to rev ${r.rev}` },
        `Roll back to rev ${r.rev}`));
      action.onclick = () => act("rollback", `?to=${r.rev}`);
    }
    return h("tr", { "data-rev": r.rev },
      h("td", { class: "num" }, r.rev),
      h("td", {}, new Date(r.time * 1000).toLocaleString()),
      h("td", {}, r.actor),
      h("td", { class: "summary" }, r.summary),
      h("td", { class: "mono" }, r.revision.slice(0, 12)),
      h("td", { class: "note" }, historyNote(r)),
      h("td", {}, action));
  }));
}

function eventRow(e) {
  return h("tr", { "data-seq": e.seq, "data-kind": e.kind },
    h("td", { class: "time" }, new Date(e.time * 1000).toLocaleTimeString()),
    h("td", {}, e.kind),
    h("td", {}, e.bundle ? h("a", { href: `#/bundle/${encodeURIComponent(e.bundle)}` }, e.bundle) : ""),
    h("td", {}, e.cluster),
    h("td", {}, e.actor),
    h("td", { class: "message" }, e.message));
}

// Merge events into a panel's list by number, newest first, at most RECENT of them.
function mergeEvents(panel, rows) {
  const bySeq = new Map(state.events[panel].map((e) => [e.seq, e]));
  for (const e of rows) bySeq.set(e.seq, e);
  state.events[panel] = [...bySeq.values()].sort((a, b) => b.seq - a.seq).slice(0, RECENT);
  const table = panel === "overview" ? "#events tbody" : "#bundle-events tbody";
  document.querySelector(table).replaceChildren(...state.events[panel].map(eventRow));
}

function applyEvents(d) {
  if (d.reset) {
    later("events");
    return;
  }
  if (!state.bundle) {
    mergeEvents("overview", d.events);
    return;
  }
  const mine = d.events.filter((e) => e.bundle === state.bundle);
  mergeEvents("bundle", mine);
  // Cut from a big batch: this bundle's may be among the cut, so ask for them.
  if (d.omitted) later("events");
  // A new revision (applied, rolled back) belongs in the history at once.
  if (mine.some((e) => e.kind === "BundleApplied")) later("history");
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
    } else if (list === "history" && state.bundle) {
      renderHistory(await getJSON(`/api/bundles/${encodeURIComponent(state.bundle)}/history`));
    } else if (list === "events") {
      const q = state.bundle ? `&bundle=${encodeURIComponent(state.bundle)}` : "";
      const r = await getJSON(`/api/events?limit=${RECENT}${q}`);
      // Merged, not replaced: live events that came while this was fetched stay.
      mergeEvents(state.bundle ? "bundle" : "overview", r.items);
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
  return state.bundle ? ["bundle", "deployments", "history", "events"] : ["attention", "bundles", "clusters", "events"];
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
  events.addEventListener("events", (e) => applyEvents(JSON.parse(e.data)));
  events.onerror = () => {
    live.textContent = "reconnecting…";
    live.className = "live off";
  };
}

async function act(action, params = "") {
  const out = $("action-result");
  const r = await fetch(`/api/bundles/${encodeURIComponent(state.bundle)}/${action}${params}`,
    { method: "POST", credentials: "same-origin" });
  if (!r.ok) out.textContent = `${action}: ${r.status} ${await r.text()}`;
  else if (action === "rollback") {
    const d = await r.json();
    out.textContent = `rolled back to rev ${d.rolled_back_to}; pinned at rev ${d.pinned}`;
  } else out.textContent = `${action}: done`;
  refresh("bundle");
  refresh("history");
}

function route() {
  const m = location.hash.match(/^#\/bundle\/(.+)$/);
  state.bundle = m ? decodeURIComponent(m[1]) : "";
  state.offsets.deployments = 0;
  state.events.bundle = []; // another bundle's (or none): its own are fetched below
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
  for (const id of ACTIONS) $(id).onclick = () => act(id);
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
