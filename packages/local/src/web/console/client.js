// The execution view's script (served as /console/console.js). The page works without it;
// with it, the graph and the history follow the execution live (server-sent events from
// <path>/events, see live.ts), a state's details open in place, and the graph zooms.
// Everything inserted as HTML comes from the server's escaping renderers; everything else is
// set as text or attributes.

const root = document.getElementById("execution");
if (root) start(root);

/** @param {HTMLElement} root */
function start(root) {
  const path = root.dataset.path ?? "";
  const graph = /** @type {HTMLElement} */ (document.getElementById("graph"));
  const statePanel = /** @type {HTMLElement} */ (document.getElementById("state"));
  const historyBox = /** @type {HTMLElement} */ (document.getElementById("history"));
  const historyRows = /** @type {HTMLElement} */ (document.getElementById("history-rows"));
  const note = document.querySelector("[data-live-note]");
  let selected =
    document.querySelector("[data-selected-state]")?.getAttribute("data-selected-state") ?? "";

  setUpZoom(graph);
  historyBox.scrollTop = historyBox.scrollHeight;
  centre(graph, graph.querySelector('.node[aria-current="true"]') ?? graph.querySelector(".node"));

  // ---- a state's details, in place ------------------------------------------------------
  /** @param {string} name @param {boolean} focus */
  async function select(name, focus) {
    selected = name;
    for (const node of graph.querySelectorAll(".node")) {
      if (node.getAttribute("data-state") === name) node.setAttribute("aria-current", "true");
      else node.removeAttribute("aria-current");
    }
    for (const row of historyRows.querySelectorAll("tr")) {
      if (row.getAttribute("data-row-state") === name) row.setAttribute("aria-current", "true");
      else row.removeAttribute("aria-current");
    }
    const url = new URL(location.href);
    url.searchParams.set("state", name);
    url.hash = "";
    history.replaceState(null, "", url);
    await refreshState();
    if (focus) {
      statePanel.focus({ preventScroll: true });
      const narrow = window.matchMedia("(max-width: 64rem)").matches;
      statePanel.scrollIntoView({ block: narrow ? "start" : "nearest" });
    }
  }

  async function refreshState() {
    if (!selected) return;
    const response = await fetch(`${path}/states/${encodeURIComponent(selected)}`, {
      headers: { accept: "text/html" },
    });
    if (response.ok) statePanel.innerHTML = await response.text();
  }

  document.addEventListener("click", (event) => {
    if (
      event.defaultPrevented ||
      event.button !== 0 ||
      event.metaKey ||
      event.ctrlKey ||
      event.shiftKey
    )
      return;
    const target = /** @type {Element} */ (event.target);
    const link = target.closest("a.node, a[data-select-state]");
    if (!link) return;
    const name = link.getAttribute("data-state") ?? link.getAttribute("data-select-state");
    if (!name) return;
    event.preventDefault();
    void select(name, true);
  });

  // ---- live updates ------------------------------------------------------------------------
  if (root.dataset.status !== "RUNNING" || typeof EventSource === "undefined") return;
  const after = root.dataset.lastEventId ?? "0";
  const source = new EventSource(`${path}/events?after=${encodeURIComponent(after)}`);
  if (note) note.textContent = "· live";
  let refreshTimer = 0;

  source.addEventListener("rows", (event) => {
    const data = JSON.parse(/** @type {MessageEvent} */ (event).data);
    const atBottom = historyBox.scrollTop + historyBox.clientHeight >= historyBox.scrollHeight - 24;
    historyRows.insertAdjacentHTML("beforeend", data.html);
    for (const row of historyRows.querySelectorAll(`tr[data-row-state]`)) {
      if (row.getAttribute("data-row-state") === selected) row.setAttribute("aria-current", "true");
    }
    const count = document.querySelector("[data-history-count]");
    if (count) count.textContent = `(${historyRows.rows.length} events, oldest first)`;
    if (atBottom) historyBox.scrollTop = historyBox.scrollHeight;
    root.dataset.lastEventId = String(data.count);
  });

  source.addEventListener("status", (event) => {
    const data = JSON.parse(/** @type {MessageEvent} */ (event).data);
    for (const [name, view] of Object.entries(data.nodes)) {
      const node = graph.querySelector(`.node[data-state="${CSS.escape(name)}"]`);
      if (!node) continue;
      node.setAttribute("data-status", view.status);
      node.setAttribute("aria-label", view.label);
      const glyph = node.querySelector(".node-glyph");
      const words = node.querySelector(".node-words");
      const title = node.querySelector("title");
      if (glyph) glyph.textContent = view.glyph;
      if (words) words.textContent = view.caption;
      if (title) title.textContent = view.label;
      if (name === selected) scheduleRefresh();
    }
    const taken = new Set(data.taken);
    for (const edge of graph.querySelectorAll(".edge")) {
      const id = edge.getAttribute("data-edge-id") ?? "";
      if (!taken.has(id) || edge.getAttribute("data-taken") === "true") continue;
      edge.setAttribute("data-taken", "true");
      edge.querySelector("path")?.setAttribute("marker-end", "url(#arrow-taken)");
    }
    replace("summary", data.summary);
    const analysis = document.querySelector('[data-panel="analysis"]');
    if (analysis && typeof data.analysis === "string") analysis.innerHTML = data.analysis;
    root.dataset.status = data.status;
  });

  source.addEventListener("world", (event) => {
    const data = JSON.parse(/** @type {MessageEvent} */ (event).data);
    for (const key of ["traffic", "alarms", "approval"]) {
      const panel = document.querySelector(`[data-panel="${key}"]`);
      if (panel && typeof data[key] === "string") panel.innerHTML = data[key];
    }
    replace("summary", data.summary);
  });

  source.addEventListener("end", () => {
    source.close();
    if (note) note.textContent = "· finished";
    scheduleRefresh();
  });

  source.addEventListener("error", () => {
    if (note)
      note.textContent =
        source.readyState === EventSource.CLOSED ? "· disconnected" : "· reconnecting…";
  });
  source.addEventListener("open", () => {
    if (note) note.textContent = "· live";
  });

  function scheduleRefresh() {
    clearTimeout(refreshTimer);
    refreshTimer = window.setTimeout(() => void refreshState(), 150);
  }

  /** @param {string} id @param {unknown} markup */
  function replace(id, markup) {
    const element = document.getElementById(id);
    if (element && typeof markup === "string") element.innerHTML = markup;
  }
}

/**
 * Scrolls the graph's box (when the graph is wider than it, as on a phone) to show a node.
 * @param {HTMLElement} graph
 * @param {Element | null} node
 */
function centre(graph, node) {
  if (!node || graph.scrollWidth <= graph.clientWidth) return;
  const box = graph.getBoundingClientRect();
  const at = node.getBoundingClientRect();
  graph.scrollLeft += at.left + at.width / 2 - (box.left + box.width / 2);
  graph.scrollTop += at.top - box.top - graph.clientHeight / 3;
}

/**
 * Zoom: fit to the width (the default on wide screens), or a chosen scale that scrolls.
 * @param {HTMLElement} graph
 */
function setUpZoom(graph) {
  const svg = graph.querySelector("svg");
  const tools = document.querySelector(".graph-tools");
  if (!svg || !tools) return;
  tools.removeAttribute("hidden");
  const natural = Number(svg.getAttribute("data-natural-width")) || svg.viewBox.baseVal.width;
  /** @type {number | undefined} */
  let scale;
  const apply = () => {
    if (scale === undefined) {
      graph.classList.remove("zoomed");
      svg.style.width = "";
    } else {
      graph.classList.add("zoomed");
      svg.style.width = `${Math.round(natural * scale)}px`;
    }
  };
  const current = () => svg.getBoundingClientRect().width / natural;
  tools.addEventListener("click", (event) => {
    const button = /** @type {Element} */ (event.target).closest("button[data-zoom]");
    if (!button) return;
    const action = button.getAttribute("data-zoom");
    if (action === "fit") scale = Math.min(1, (graph.clientWidth - 2) / natural);
    else scale = Math.min(2, Math.max(0.3, current() * (action === "in" ? 1.25 : 0.8)));
    apply();
  });
}
