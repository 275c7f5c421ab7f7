// The flow editor's canvas: nodes as boxes with one port per exit, edges as SVG
// curves, panned by dragging the background, zoomed with the wheel or the buttons.
// Nodes move by dragging their heads; an edge is drawn by dragging from an exit's
// port onto another node. The canvas only draws and reports: the editor owns the
// graph and decides what a gesture changes.

import { h } from "../shared/dom.js";
import { t } from "../shared/i18n.js";

const SVG = "http://www.w3.org/2000/svg";
const MIN_ZOOM = 0.2;
const MAX_ZOOM = 2.5;

export class Canvas {
  /**
   * `on`: select(id | null), moved(id, {x, y}), connect(from, exit, to),
   * removeEdge(edge), drop(module, {x, y}).
   */
  constructor(on) {
    this.on = on;
    this.view = { x: 40, y: 40, zoom: 1 };
    this.readOnly = false;
    this.nodes = new Map();
    this.edges = [];
    this.selected = null;
    this.el = h("div", { class: "canvas", id: "canvas", tabindex: "0", "aria-label": t("flows.canvas") });
    this.world = h("div", { class: "world" });
    this.svg = document.createElementNS(SVG, "svg");
    this.svg.setAttribute("class", "wires");
    this.defs();
    this.world.append(this.svg);
    this.el.append(this.world);
    this.listen();
    this.apply();
  }

  defs() {
    const defs = document.createElementNS(SVG, "defs");
    const marker = document.createElementNS(SVG, "marker");
    for (const [k, v] of [["id", "arrow"], ["viewBox", "0 0 10 10"], ["refX", "9"], ["refY", "5"], ["markerWidth", "7"], ["markerHeight", "7"], ["orient", "auto"]]) marker.setAttribute(k, v);
    const tip = document.createElementNS(SVG, "path");
    tip.setAttribute("d", "M0 0 L10 5 L0 10 z");
    tip.setAttribute("class", "arrow");
    marker.append(tip);
    defs.append(marker);
    this.svg.append(defs);
  }

  apply() {
    const { x, y, zoom } = this.view;
    this.world.style.transform = `translate(${x}px, ${y}px) scale(${zoom})`;
    this.el.dataset.zoom = zoom.toFixed(2);
  }

  /** The canvas point (world units) under a client position. */
  toWorld(cx, cy) {
    const r = this.el.getBoundingClientRect();
    return { x: (cx - r.left - this.view.x) / this.view.zoom, y: (cy - r.top - this.view.y) / this.view.zoom };
  }

  zoomBy(factor, cx, cy) {
    const r = this.el.getBoundingClientRect();
    const px = cx ?? r.left + r.width / 2;
    const py = cy ?? r.top + r.height / 2;
    const before = this.toWorld(px, py);
    this.view.zoom = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, this.view.zoom * factor));
    this.view.x = px - r.left - before.x * this.view.zoom;
    this.view.y = py - r.top - before.y * this.view.zoom;
    this.apply();
  }

  /** Zooms and pans so that every node shows. */
  fit() {
    if (!this.nodes.size) return;
    let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
    for (const n of this.nodes.values()) {
      x0 = Math.min(x0, n.pos.x);
      y0 = Math.min(y0, n.pos.y);
      x1 = Math.max(x1, n.pos.x + n.el.offsetWidth);
      y1 = Math.max(y1, n.pos.y + n.el.offsetHeight);
    }
    const r = this.el.getBoundingClientRect();
    const zoom = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, Math.min((r.width - 60) / (x1 - x0 || 1), (r.height - 60) / (y1 - y0 || 1), 1.2)));
    this.view = { zoom, x: 30 - x0 * zoom + (r.width - 60 - (x1 - x0) * zoom) / 2, y: 30 - y0 * zoom };
    this.apply();
  }

  /**
   * Draws the graph. `info(node)` answers `{exits: [{name, description}], title,
   * problems: n, start}` for a node.
   */
  draw(graph, info) {
    const seen = new Set();
    for (const node of graph.nodes) {
      seen.add(node.id);
      const i = info(node);
      let n = this.nodes.get(node.id);
      const key = JSON.stringify([i.title, node.module, i.exits.map((e) => e.name), i.problems, i.start, this.readOnly]);
      if (!n || n.key !== key) {
        const el = this.nodeElement(node, i);
        if (n) n.el.replaceWith(el);
        else this.world.append(el);
        n = { el, key, pos: { ...node.position } };
        this.nodes.set(node.id, n);
      }
      n.pos = { ...node.position };
      n.el.style.transform = `translate(${n.pos.x}px, ${n.pos.y}px)`;
      n.el.classList.toggle("selected", node.id === this.selected);
    }
    for (const [id, n] of this.nodes) {
      if (!seen.has(id)) {
        n.el.remove();
        this.nodes.delete(id);
      }
    }
    this.edges = graph.edges;
    this.wires();
  }

  nodeElement(node, i) {
    const ports = i.exits.map((e) => h("li", { class: "port-row", dataset: { exit: e.name } },
      h("span", { class: "exit-name", title: e.description || "" }, e.name),
      h("span", { class: "port", role: "button", tabindex: "-1", dataset: { node: node.id, exit: e.name }, "aria-label": t("flows.portOf", { exit: e.name }) })));
    ports.push(h("li", { class: "port-row error-exit", dataset: { exit: "error" } },
      h("span", { class: "exit-name", title: t("flows.errorExit") }, t("flows.errorShort")),
      h("span", { class: "port", role: "button", tabindex: "-1", dataset: { node: node.id, exit: "error" }, "aria-label": t("flows.portOf", { exit: "error" }) })));
    return h("div", { class: "node", dataset: { id: node.id, module: node.module, problems: i.problems || "" } },
      h("div", { class: "node-head" },
        i.start ? h("span", { class: "start-mark", title: t("flows.start") }, "▶") : null,
        h("span", { class: "node-title" }, i.title),
        i.problems ? h("span", { class: "badge", title: t("flows.problemsN", { n: i.problems }) }, String(i.problems)) : null),
      h("div", { class: "node-module muted" }, node.module),
      h("span", { class: "in-port", "aria-hidden": "true" }),
      h("ul", { class: "ports" }, ports));
  }

  /** The world position of an exit's port, or of a node's input. */
  portAt(id, exit) {
    const n = this.nodes.get(id);
    if (!n) return null;
    if (exit === undefined) return { x: n.pos.x, y: n.pos.y + 22 };
    const row = n.el.querySelector(`.port-row[data-exit="${CSS.escape(exit)}"]`);
    if (!row) return { x: n.pos.x + n.el.offsetWidth, y: n.pos.y + n.el.offsetHeight - 10, missing: true };
    return { x: n.pos.x + n.el.offsetWidth, y: n.pos.y + row.offsetTop + row.offsetHeight / 2 };
  }

  wires(only) {
    for (const old of this.svg.querySelectorAll(only ? "path.wire[data-touch~=\"" + CSS.escape(only) + "\"]" : "path.wire")) old.remove();
    for (const e of this.edges) {
      if (only && e.from !== only && e.to !== only) continue;
      const a = this.portAt(e.from, e.exit);
      const b = this.portAt(e.to);
      if (!a || !b) continue;
      const p = document.createElementNS(SVG, "path");
      p.setAttribute("d", curve(a, b));
      p.setAttribute("class", "wire" + (e.exit === "error" ? " error-wire" : "") + (a.missing ? " broken" : ""));
      p.setAttribute("marker-end", "url(#arrow)");
      p.dataset.touch = `${e.from} ${e.to}`;
      p.dataset.edge = `${e.from}:${e.exit}`;
      const title = document.createElementNS(SVG, "title");
      title.textContent = t("flows.edgeTitle", { from: e.from, exit: e.exit, to: e.to });
      p.append(title);
      p.addEventListener("click", () => !this.readOnly && this.on.removeEdge(e));
      this.svg.append(p);
    }
  }

  listen() {
    let gesture = null;
    this.el.addEventListener("pointerdown", (ev) => {
      if (ev.button !== 0) return;
      const port = ev.target.closest(".port");
      const head = ev.target.closest(".node");
      if (port && !this.readOnly) {
        const from = this.portAt(port.dataset.node, port.dataset.exit);
        const temp = document.createElementNS(SVG, "path");
        temp.setAttribute("class", "wire drawing");
        this.svg.append(temp);
        gesture = { kind: "wire", node: port.dataset.node, exit: port.dataset.exit, from, temp };
      } else if (head) {
        const n = this.nodes.get(head.dataset.id);
        this.on.select(head.dataset.id);
        if (this.readOnly || ev.target.closest("button")) return;
        const at = this.toWorld(ev.clientX, ev.clientY);
        gesture = { kind: "node", id: head.dataset.id, dx: at.x - n.pos.x, dy: at.y - n.pos.y, moved: false };
      } else {
        gesture = { kind: "pan", x: ev.clientX - this.view.x, y: ev.clientY - this.view.y, moved: false };
      }
      this.el.setPointerCapture(ev.pointerId);
      ev.preventDefault();
    });
    this.el.addEventListener("pointermove", (ev) => {
      if (!gesture) return;
      if (gesture.kind === "pan") {
        this.view.x = ev.clientX - gesture.x;
        this.view.y = ev.clientY - gesture.y;
        gesture.moved = true;
        this.apply();
      } else if (gesture.kind === "node") {
        const at = this.toWorld(ev.clientX, ev.clientY);
        const n = this.nodes.get(gesture.id);
        n.pos = { x: Math.round(at.x - gesture.dx), y: Math.round(at.y - gesture.dy) };
        n.el.style.transform = `translate(${n.pos.x}px, ${n.pos.y}px)`;
        gesture.moved = true;
        this.wires(gesture.id);
      } else if (gesture.kind === "wire") {
        gesture.temp.setAttribute("d", curve(gesture.from, this.toWorld(ev.clientX, ev.clientY)));
      }
    });
    const end = (ev) => {
      if (!gesture) return;
      const g = gesture;
      gesture = null;
      if (g.kind === "node" && g.moved) this.on.moved(g.id, this.nodes.get(g.id).pos);
      else if (g.kind === "pan" && !g.moved) this.on.select(null);
      else if (g.kind === "wire") {
        g.temp.remove();
        const target = document.elementFromPoint(ev.clientX, ev.clientY)?.closest(".node");
        if (target) this.on.connect(g.node, g.exit, target.dataset.id);
      }
    };
    this.el.addEventListener("pointerup", end);
    this.el.addEventListener("pointercancel", end);
    this.el.addEventListener("wheel", (ev) => {
      ev.preventDefault();
      this.zoomBy(Math.exp(-ev.deltaY * 0.0015), ev.clientX, ev.clientY);
    }, { passive: false });
  }
}

function curve(a, b) {
  const dx = Math.max(40, Math.abs(b.x - a.x) / 2);
  return `M${a.x} ${a.y} C${a.x + dx} ${a.y} ${b.x - dx} ${b.y} ${b.x} ${b.y}`;
}

/**
 * Positions for a graph that came without them: layers by distance from the start
 * (breadth first), each layer a column, in the order their parents were placed.
 */
export function autoLayout(graph) {
  const out = new Map(graph.edges.map((e) => [e.from, []]));
  for (const e of graph.edges) out.get(e.from).push(e.to);
  const layer = new Map();
  const order = [];
  const queue = graph.nodes.some((n) => n.id === graph.start) ? [graph.start] : [];
  if (queue.length) layer.set(graph.start, 0);
  while (queue.length) {
    const id = queue.shift();
    order.push(id);
    for (const to of out.get(id) || []) {
      if (!layer.has(to)) {
        layer.set(to, layer.get(id) + 1);
        queue.push(to);
      }
    }
  }
  const last = Math.max(-1, ...layer.values()) + 1;
  for (const n of graph.nodes) {
    if (!layer.has(n.id)) {
      layer.set(n.id, last);
      order.push(n.id);
    }
  }
  const rows = new Map();
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  for (const id of order) {
    const l = layer.get(id);
    const row = rows.get(l) || 0;
    rows.set(l, row + 1);
    byId.get(id).position = { x: l * 300, y: row * 190 };
  }
}
