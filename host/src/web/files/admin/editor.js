// The flow editor: a palette of the installed modules, the canvas, and the selected
// node's inspector (label, start, its form generated from the module's schema or its
// raw JSON, its problems). The draft is checked as it changes (each node's exits by
// its module's validate-config, the whole draft by /flows/validate) and every
// problem is pinned to its node and field; publish stays disabled while any remain.
// Save, publish with a note, revisions (view read-only, roll back), undo/redo and an
// automatic layout; positions are saved with the draft.

import { h, fill } from "../shared/dom.js";
import { t } from "../shared/i18n.js";
import { Canvas, autoLayout } from "./canvas.js";
import { pinProblems, schemaForm } from "./schema-form.js";
import { field, formDialog, input, run, toast, when } from "./ui.js";
import { revisionsDialog } from "./revisions.js";
import { tryPanel } from "./try.js";

const CHECK_DELAY_MS = 350;
const HISTORY = 100;

export async function openEditor(root, ctx, flowId) {
  const [flow, plugins] = await Promise.all([ctx.api.get(`/flows/${flowId}`), ctx.api.get("/plugins")]);
  const ed = new Editor(root, ctx, flow, plugins);
  await ed.start();
}

class Editor {
  constructor(root, ctx, flow, plugins) {
    this.root = root;
    this.ctx = ctx;
    this.flow = flow;
    this.modules = newestByName(plugins.filter((p) => p.enabled));
    this.graph = structuredClone(flow.draft);
    this.readOnly = null;
    this.exits = new Map();
    this.problems = [];
    this.saved = JSON.stringify(this.graph);
    this.past = [];
    this.future = [];
    this.selected = null;
    this.timer = 0;
    this.checking = 0;
    this.canvas = new Canvas({
      select: (id) => this.select(id),
      moved: (id, pos) => this.change(() => (this.node(id).position = pos), { redraw: false }),
      connect: (from, exit, to) => this.connect(from, exit, to),
      removeEdge: (e) => this.change(() => (this.graph.edges = this.graph.edges.filter((x) => x !== e))),
    });
  }

  async start() {
    if (this.graph.nodes.some((n) => !n.position)) autoLayout(this.graph);
    this.build();
    this.draw();
    this.canvas.fit();
    await this.check();
  }

  node(id) {
    return this.graph.nodes.find((n) => n.id === id);
  }

  build() {
    const b = (id, text, onclick, extra = {}) => h("button", { type: "button", id, onclick, ...extra }, text);
    this.status = h("span", { class: "ed-status", id: "ed-status", role: "status" });
    this.publishBtn = b("ed-publish", t("flows.publish"), () => this.publish(), { class: "primary" });
    this.undoBtn = b("ed-undo", t("flows.undo"), () => this.undo(), { "aria-keyshortcuts": "Control+Z" });
    this.redoBtn = b("ed-redo", t("flows.redo"), () => this.redo(), { "aria-keyshortcuts": "Control+Shift+Z" });
    this.saveBtn = b("ed-save", t("flows.save"), () => run(() => this.save()), { "aria-keyshortcuts": "Control+S" });
    this.banner = h("div", { class: "ed-banner", id: "ed-banner", hidden: true });
    this.search = h("input", { type: "search", id: "palette-search", placeholder: t("flows.searchModules"), "aria-label": t("flows.searchModules") });
    this.paletteList = h("ul", { class: "palette-list", id: "palette" });
    this.search.addEventListener("input", () => this.drawPalette());
    this.inspector = h("aside", { class: "inspector", id: "inspector", "aria-label": t("flows.inspector") });
    this.general = h("ul", { class: "general-problems", id: "general-problems" });
    this.tryBox = h("div", { class: "try-box", id: "try-box", hidden: true });
    fill(this.root,
      h("div", { class: "ed-head" },
        h("a", { href: "#/flows", class: "back" }, "‹ " + t("nav.flows")),
        h("h1", {}, this.flow.name),
        h("span", { class: "muted" }, this.flow.live_revision ? t("flows.liveN", { n: this.flow.live_revision }) : t("flows.notLive")),
        this.status),
      h("div", { class: "ed-toolbar", role: "toolbar", "aria-label": t("flows.toolbar") },
        this.undoBtn, this.redoBtn,
        b("ed-layout", t("flows.layout"), () => this.change(() => autoLayout(this.graph), { fit: true })),
        b("ed-zoom-out", "−", () => this.canvas.zoomBy(1 / 1.2), { "aria-label": t("flows.zoomOut") }),
        b("ed-zoom-in", "+", () => this.canvas.zoomBy(1.2), { "aria-label": t("flows.zoomIn") }),
        b("ed-fit", t("flows.fit"), () => this.canvas.fit()),
        h("span", { class: "spacer" }),
        b("ed-try", t("flows.try"), () => this.toggleTry()),
        b("ed-revisions", t("flows.revisions"), () => run(() => revisionsDialog(this))),
        this.saveBtn, this.publishBtn),
      this.banner,
      h("div", { class: "ed-body" },
        h("nav", { class: "palette", "aria-label": t("flows.palette") }, this.search, this.paletteList),
        h("div", { class: "ed-center" }, this.canvas.el, this.general),
        this.inspector, this.tryBox));
    this.drawPalette();
    this.root.addEventListener("keydown", (e) => {
      if (!(e.ctrlKey || e.metaKey) || e.target.closest("input, textarea, select")) return;
      if (e.key === "z" && !e.shiftKey) this.undo();
      else if (e.key === "y" || (e.key === "Z" && e.shiftKey) || (e.key === "z" && e.shiftKey)) this.redo();
      else if (e.key === "s") run(() => this.save());
      else return;
      e.preventDefault();
    });
  }

  drawPalette() {
    const q = this.search.value.trim().toLowerCase();
    const shown = [...this.modules.values()].filter((m) => !q || m.name.includes(q) || m.description.toLowerCase().includes(q));
    fill(this.paletteList, shown.map((m) => {
      const item = h("li", { class: "palette-item", dataset: { module: m.name }, tabindex: "0", role: "button", title: m.description },
        h("strong", {}, m.name), h("span", { class: "muted" }, m.description));
      item.addEventListener("keydown", (e) => {
        if (e.key === "Enter") this.add(m.name, null);
      });
      item.addEventListener("pointerdown", (e) => this.dragFromPalette(e, m.name));
      return item;
    }), shown.length ? null : h("li", { class: "muted" }, t("flows.noModules")));
  }

  /** A module dragged from the palette becomes a node where it is dropped. */
  dragFromPalette(e, name) {
    if (this.readOnly || e.button !== 0) return;
    e.preventDefault();
    const ghost = h("div", { class: "ghost" }, name);
    document.body.append(ghost);
    const move = (ev) => (ghost.style.transform = `translate(${ev.clientX + 6}px, ${ev.clientY + 6}px)`);
    move(e);
    const up = (ev) => {
      document.removeEventListener("pointermove", move);
      document.removeEventListener("pointerup", up);
      ghost.remove();
      const r = this.canvas.el.getBoundingClientRect();
      const inside = ev.clientX >= r.left && ev.clientX <= r.right && ev.clientY >= r.top && ev.clientY <= r.bottom;
      const moved = Math.abs(ev.clientX - e.clientX) + Math.abs(ev.clientY - e.clientY) > 4;
      if (inside) this.add(name, this.canvas.toWorld(ev.clientX, ev.clientY));
      else if (!moved) this.add(name, null);
    };
    document.addEventListener("pointermove", move);
    document.addEventListener("pointerup", up);
  }

  add(name, at) {
    if (this.readOnly) return;
    const m = this.modules.get(name);
    let n = 1;
    while (this.node(`${name}-${n}`)) n++;
    const id = `${name}-${n}`;
    const r = this.canvas.el.getBoundingClientRect();
    const pos = at || this.canvas.toWorld(r.left + r.width / 2 - 90, r.top + r.height / 2 - 40);
    this.change(() => {
      this.graph.nodes.push({ id, module: name, version: `^${m.version.split(".")[0]}`, label: "", config: {}, position: { x: Math.round(pos.x), y: Math.round(pos.y) } });
      if (!this.graph.start || !this.node(this.graph.start)) this.graph.start = id;
    });
    this.select(id);
  }

  connect(from, exit, to) {
    if (from === to && exit !== "error") return;
    this.change(() => {
      this.graph.edges = this.graph.edges.filter((e) => !(e.from === from && e.exit === exit));
      this.graph.edges.push({ from, exit, to });
    });
  }

  /** Applies `f` to the graph as one undoable step, then redraws and checks. */
  change(f, { redraw = true, fit = false, coalesce = null } = {}) {
    if (this.readOnly) return;
    const before = JSON.stringify(this.graph);
    f();
    if (JSON.stringify(this.graph) === before) return;
    if (!(coalesce && this.lastCoalesce === coalesce)) {
      this.past.push(before);
      if (this.past.length > HISTORY) this.past.shift();
    }
    this.lastCoalesce = coalesce;
    this.future = [];
    if (redraw) this.draw();
    else this.drawButtons();
    if (fit) this.canvas.fit();
    this.schedule();
  }

  undo() {
    if (!this.past.length || this.readOnly) return;
    this.future.push(JSON.stringify(this.graph));
    this.graph = JSON.parse(this.past.pop());
    this.lastCoalesce = null;
    this.afterJump();
  }

  redo() {
    if (!this.future.length || this.readOnly) return;
    this.past.push(JSON.stringify(this.graph));
    this.graph = JSON.parse(this.future.pop());
    this.lastCoalesce = null;
    this.afterJump();
  }

  afterJump() {
    if (this.selected && !this.node(this.selected)) this.selected = null;
    this.draw();
    this.drawInspector();
    this.schedule();
  }

  select(id) {
    if (this.selected === id) return;
    this.selected = id;
    this.lastCoalesce = null;
    this.canvas.selected = id;
    this.draw();
    this.drawInspector();
  }

  shown() {
    return this.readOnly ? this.readOnly.graph : this.graph;
  }

  info(node) {
    const graph = this.shown();
    const i = graph.nodes.indexOf(node);
    const m = this.modules.get(node.module);
    const exits = this.exits.get(exitKey(node))?.exits ?? m?.exits ?? [];
    return {
      title: node.label || node.id,
      exits: exits.filter((e) => e.name !== "error"),
      start: graph.start === node.id,
      problems: this.readOnly ? 0 : this.problems.filter((p) => p.node === i).length,
    };
  }

  draw() {
    this.canvas.readOnly = !!this.readOnly;
    this.canvas.draw(this.shown(), (n) => this.info(n));
    this.drawButtons();
  }

  drawButtons() {
    const dirty = JSON.stringify(this.graph) !== this.saved;
    this.undoBtn.disabled = !this.past.length || !!this.readOnly;
    this.redoBtn.disabled = !this.future.length || !!this.readOnly;
    this.saveBtn.disabled = !dirty || !!this.readOnly;
    this.publishBtn.disabled = !!this.readOnly || this.checking > 0 || this.problems.length > 0 || this.pending;
    this.status.textContent = this.readOnly ? t("flows.viewingN", { n: this.readOnly.number })
      : this.checking || this.pending ? t("flows.checking")
        : this.problems.length ? t("flows.problemsN", { n: this.problems.length })
          : dirty ? t("flows.unsaved") : t("flows.savedState");
    this.status.dataset.state = this.problems.length ? "problems" : "ok";
  }

  schedule() {
    this.pending = true;
    this.drawButtons();
    clearTimeout(this.timer);
    this.timer = setTimeout(() => run(() => this.check()), CHECK_DELAY_MS);
  }

  /** Asks each changed node's module for its exits, then the server for the draft's problems. */
  async check() {
    this.pending = false;
    this.checking++;
    this.drawButtons();
    const graph = structuredClone(this.graph);
    try {
      await Promise.all(graph.nodes.map((n) => this.exitsOf(n)));
      const verdict = await this.ctx.api.post("/flows/validate", graph);
      if (JSON.stringify(graph) !== JSON.stringify(this.graph)) return;
      this.problems = verdict.problems.map((p) => locate(graph, p));
    } finally {
      this.checking--;
    }
    this.draw();
    this.pinInspector();
    fill(this.general, this.problems.filter((p) => p.node === null).map((p) => h("li", { class: "error" }, `${p.path || "/"}: ${p.message}`)));
  }

  async exitsOf(node) {
    const key = exitKey(node);
    if (this.exits.has(key)) return;
    const m = this.modules.get(node.module);
    if (!m) return;
    try {
      const v = await this.ctx.api.post(`/plugins/${m.id}/validate-config`, { config: node.config ?? {} });
      this.exits.set(key, { exits: v.valid ? v.exits : m.exits, valid: v.valid });
    } catch {
      // Exits stay those describe() gave; the draft's check reports the problem.
    }
  }

  drawInspector() {
    const node = this.selected && this.shown().nodes.find((n) => n.id === this.selected);
    if (!node) {
      fill(this.inspector, h("p", { class: "muted" }, this.readOnly ? t("flows.readOnlyHint") : t("flows.pickNode")),
        h("p", { class: "hint" }, t("flows.gestures")));
      return;
    }
    const m = this.modules.get(node.module);
    const ro = !!this.readOnly;
    const label = input({ value: node.label || "", id: "node-label", maxlength: 100, disabled: ro });
    label.addEventListener("input", () => this.change(() => (node.label = label.value), { coalesce: "label:" + node.id }));
    const mode = { json: false };
    const formBox = h("div", { class: "node-form", id: "node-form" });
    const drawForm = () => {
      if (mode.json) {
        const area = h("textarea", { rows: 16, class: "mono", id: "node-json", spellcheck: "false", disabled: ro });
        area.value = JSON.stringify(node.config ?? {}, null, 2);
        const err = h("div", { class: "error", id: "node-json-error" });
        area.addEventListener("input", () => {
          try {
            const v = JSON.parse(area.value);
            err.textContent = "";
            this.change(() => (node.config = v), { redraw: true, coalesce: "json:" + node.id });
          } catch (e) {
            err.textContent = t("json.invalid", { detail: e.message });
          }
        });
        fill(formBox, area, err);
      } else {
        const working = structuredClone(node.config ?? {});
        const form = schemaForm(m?.config_schema, working, () => {
          const v = structuredClone(form.value());
          this.change(() => (node.config = v), { redraw: true, coalesce: "form:" + node.id });
        });
        if (ro) for (const c of form.querySelectorAll("input, select, textarea, button")) c.disabled = true;
        fill(formBox, form);
      }
      this.pinInspector();
    };
    const tabs = h("div", { class: "tabs", role: "group", "aria-label": t("flows.configView") },
      h("button", { type: "button", class: "tab", id: "tab-form", "aria-pressed": "true", onclick: (e) => setMode(false, e) }, t("flows.formView")),
      h("button", { type: "button", class: "tab", id: "tab-json", "aria-pressed": "false", onclick: (e) => setMode(true, e) }, t("flows.jsonView")));
    const setMode = (json, e) => {
      mode.json = json;
      for (const b of tabs.children) b.setAttribute("aria-pressed", String(b === e.currentTarget));
      drawForm();
    };
    // Each exit's target as a list too, so that edges can be made without a mouse.
    const others = this.shown().nodes.filter((n) => n.id !== node.id);
    const exitRows = [...this.info(node).exits.map((e) => e.name), "error"].map((exit) => {
      const edge = this.shown().edges.find((e) => e.from === node.id && e.exit === exit);
      const sel = h("select", { id: `exit-${exit}`, dataset: { exit }, disabled: ro },
        h("option", { value: "" }, exit === "error" ? t("flows.errorUnconnected") : t("flows.unconnected")),
        others.map((n) => h("option", { value: n.id }, n.label || n.id)));
      sel.value = edge ? edge.to : "";
      sel.addEventListener("change", () => {
        if (sel.value) this.connect(node.id, exit, sel.value);
        else this.change(() => (this.graph.edges = this.graph.edges.filter((e) => !(e.from === node.id && e.exit === exit))));
      });
      return h("div", { class: "exit-row" }, h("label", { for: sel.id }, exit === "error" ? t("flows.errorShort") : exit), sel);
    });
    fill(this.inspector,
      h("div", { class: "page-head" }, h("h2", {}, node.label || node.id), h("span", { class: "muted" }, `${node.module} ${node.version || ""}`)),
      m ? null : h("p", { class: "error" }, t("flows.noSuchModule", { module: node.module })),
      h("ul", { class: "node-problems error", id: "node-problems" }),
      field("node-label", t("flows.label"), label),
      h("p", { class: "muted" }, t("flows.nodeId", { id: node.id })),
      ro ? null : h("div", { class: "row-actions" },
        h("button", { type: "button", id: "node-start", disabled: this.graph.start === node.id, onclick: () => this.change(() => (this.graph.start = node.id)) }, t("flows.makeStart")),
        h("button", { type: "button", class: "danger", id: "node-delete", onclick: () => this.removeNode(node.id) }, t("flows.deleteNode"))),
      h("h3", {}, t("flows.exits")),
      h("div", { class: "node-edges" }, exitRows),
      h("h3", {}, t("flows.config")), tabs, formBox);
    drawForm();
  }

  /** Shows the selected node's problems in its form and above it. */
  pinInspector() {
    const i = this.graph.nodes.findIndex((n) => n.id === this.selected);
    const list = this.inspector.querySelector("#node-problems");
    if (!list || this.readOnly) return;
    const mine = this.problems.filter((p) => p.node === i);
    const form = this.inspector.querySelector(".schema-form");
    const loose = form ? pinProblems(form, mine.filter((p) => p.pointer !== null)) : mine;
    fill(list, [...loose, ...mine.filter((p) => p.pointer === null && !loose.includes(p))].map((p) => h("li", {}, p.message)));
  }

  removeNode(id) {
    this.change(() => {
      this.graph.nodes = this.graph.nodes.filter((n) => n.id !== id);
      this.graph.edges = this.graph.edges.filter((e) => e.from !== id && e.to !== id);
      if (this.graph.start === id) this.graph.start = this.graph.nodes[0]?.id ?? "";
    });
    this.selected = null;
    this.drawInspector();
  }

  async save() {
    const draft = structuredClone(this.graph);
    const saved = await this.ctx.api.patch(`/flows/${this.flow.id}`, { draft });
    this.flow = saved;
    this.saved = JSON.stringify(draft);
    this.drawButtons();
    toast(t("flows.draftSaved"));
  }

  publish() {
    formDialog({
      title: t("flows.publishTitle", { name: this.flow.name }),
      build: () => [field("note", t("flows.note"), h("textarea", { rows: 3, maxlength: 500 }), t("flows.noteHint"))],
      submitText: t("flows.publish"),
      submit: async (form) => {
        if (JSON.stringify(this.graph) !== this.saved) await this.save();
        const rev = await this.ctx.api.post(`/flows/${this.flow.id}/publish`, { note: form.elements.namedItem("note").value.trim() });
        this.flow.live_revision = rev.number;
        toast(t("flows.published", { n: rev.number }));
        this.root.querySelector(".ed-head .muted").textContent = t("flows.liveN", { n: rev.number });
      },
    });
  }

  /** Shows a published revision read-only, or (null) the draft again. */
  view(revision) {
    this.readOnly = revision;
    if (revision && revision.graph.nodes.some((n) => !n.position)) autoLayout(revision.graph);
    this.selected = null;
    this.canvas.selected = null;
    this.banner.hidden = !revision;
    if (revision) {
      fill(this.banner, h("span", {}, t("flows.viewing", { n: revision.number, when: when(revision.published_at), note: revision.note || "—" })),
        h("button", { type: "button", id: "ed-rollback", onclick: () => this.rollback(revision) }, t("flows.rollbackTo", { n: revision.number })),
        h("button", { type: "button", id: "ed-back-draft", onclick: () => this.view(null) }, t("flows.backToDraft")));
    }
    this.draw();
    this.canvas.fit();
    this.drawInspector();
  }

  rollback(revision) {
    formDialog({
      title: t("flows.rollbackTitle", { n: revision.number }),
      build: () => [h("p", {}, t("flows.rollbackText")), field("note", t("flows.note"), h("textarea", { rows: 2, maxlength: 500 }))],
      submitText: t("flows.rollback"),
      submit: async (form) => {
        const rev = await this.ctx.api.post(`/flows/${this.flow.id}/rollback`, { revision: revision.number, note: form.elements.namedItem("note").value.trim() });
        this.flow.live_revision = rev.number;
        toast(t("flows.rolledBack", { n: revision.number, m: rev.number }));
        this.root.querySelector(".ed-head .muted").textContent = t("flows.liveN", { n: rev.number });
        this.view(null);
      },
    });
  }

  toggleTry() {
    this.tryBox.hidden = !this.tryBox.hidden;
    this.root.querySelector(".ed-body").classList.toggle("trying", !this.tryBox.hidden);
    if (!this.tryBox.hidden) tryPanel(this, this.tryBox);
  }
}

/** The newest version of each module name. */
function newestByName(plugins) {
  const out = new Map();
  for (const p of plugins) {
    const have = out.get(p.name);
    if (!have || compareVersions(p.version, have.version) > 0) out.set(p.name, p);
  }
  return new Map([...out.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

function compareVersions(a, b) {
  const pa = a.split(/[.+-]/).map(Number);
  const pb = b.split(/[.+-]/).map(Number);
  for (let i = 0; i < 3; i++) if ((pa[i] || 0) !== (pb[i] || 0)) return (pa[i] || 0) - (pb[i] || 0);
  return 0;
}

const exitKey = (n) => `${n.module}\u0000${JSON.stringify(n.config ?? {})}`;

/** Which node (index) and which config field (pointer) a problem's path names. */
function locate(graph, p) {
  const node = /^\/nodes\/(\d+)(\/config(\/.*)?)?/.exec(p.path);
  if (node) return { ...p, node: Number(node[1]), pointer: node[2] ? node[3] || "" : null };
  const edge = /^\/edges\/(\d+)/.exec(p.path);
  if (edge) {
    const e = graph.edges[Number(edge[1])];
    const i = e ? graph.nodes.findIndex((n) => n.id === e.from) : -1;
    return { ...p, node: i >= 0 ? i : null, pointer: null };
  }
  return { ...p, node: null, pointer: null };
}
