// Modules: the installed flow modules with what describe() told (exits, config
// schema), their limits and this node's metrics; enable, disable and delete; upload
// a .wasm by drag and drop (every refusal explained in a sentence); and a dry run of
// one step of a module with a configuration and a trigger.

import { h, fill } from "../shared/dom.js";
import { t } from "../shared/i18n.js";
import { confirm, errorText, field, heading, run, select, table, toast } from "./ui.js";

export async function render(root, ctx, [openId]) {
  const list = h("div", { class: "list-area" });
  const detail = h("section", { class: "detail", "aria-live": "polite" });
  const status = h("p", { class: "upload-status", role: "status", id: "upload-status" });
  const file = h("input", { type: "file", accept: ".wasm,application/wasm", id: "upload-file", class: "visually-hidden" });
  const drop = h("div", { class: "drop", id: "upload-drop", tabindex: "0", role: "button", "aria-describedby": "upload-status" },
    h("strong", {}, t("modules.drop")), h("span", { class: "muted" }, t("modules.dropHint")));
  drop.addEventListener("click", () => file.click());
  drop.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      file.click();
    }
  });
  drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    const f = e.dataTransfer.files[0];
    if (f) upload(f);
  });
  file.addEventListener("change", () => {
    if (file.files[0]) upload(file.files[0]);
    file.value = "";
  });

  async function upload(f) {
    status.dataset.kind = "busy";
    status.textContent = t("modules.uploading", { name: f.name });
    try {
      const made = await ctx.api.upload("/plugins", f, "application/wasm");
      status.dataset.kind = "ok";
      status.textContent = t("modules.installed", { name: made.name, version: made.version });
      await load();
      await open(made.id);
    } catch (err) {
      status.dataset.kind = "error";
      status.textContent = refusal(err);
    }
  }

  async function load() {
    const items = await ctx.api.get("/plugins");
    items.sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version));
    fill(list, table(
      [
        [t("modules.name"), (m) => h("button", { type: "button", class: "link strong", dataset: { open: m.id }, onclick: () => run(() => open(m.id)) }, m.name)],
        [t("modules.version"), (m) => m.version],
        [t("modules.kind"), (m) => (m.builtin ? t("modules.builtin") : t("modules.own"))],
        [t("modules.state"), (m) => (m.enabled ? t("modules.enabled") : t("modules.disabled"))],
      ],
      items,
      t("modules.none"),
    ));
    return items;
  }

  async function open(id) {
    const m = await ctx.api.get(`/plugins/${id}`);
    const toggle = h("button", { type: "button", id: "module-toggle", onclick: () => run(async () => {
      await ctx.api.patch(`/plugins/${id}`, { enabled: !m.enabled });
      toast(t(m.enabled ? "modules.disabledDone" : "modules.enabledDone", { name: m.name }));
      await load();
      await open(id);
    }) }, m.enabled ? t("modules.disable") : t("modules.enable"));
    fill(detail,
      h("div", { class: "page-head" }, h("h2", {}, `${m.name} ${m.version}`),
        h("div", { class: "page-actions" }, m.builtin ? null : toggle,
          m.builtin ? null : h("button", { type: "button", class: "danger", id: "module-delete", onclick: () => confirm(t("modules.deleteTitle", { name: m.name }), t("modules.deleteText"), t("form.delete"), async () => {
            await ctx.api.del(`/plugins/${id}`);
            detail.replaceChildren();
            await load();
          }) }, t("form.delete")))),
      h("p", {}, m.description),
      h("h3", {}, t("modules.exits")),
      h("ul", { class: "exits" }, m.exits.map((x) => h("li", {}, h("code", {}, x.name), " — ", x.description))),
      h("p", { class: "hint" }, t("modules.exitsHint")),
      h("h3", {}, t("modules.metrics")),
      metrics(m.metrics),
      h("h3", {}, t("modules.limits")),
      h("dl", { class: "facts", id: "module-limits" }, Object.entries(m.limits).map(([k, v]) => [h("dt", {}, t("limit." + k)), h("dd", {}, String(v))])),
      h("details", {}, h("summary", {}, t("modules.schema")), h("pre", { class: "code" }, JSON.stringify(m.config_schema, null, 2))),
      h("p", { class: "muted" }, t("modules.digest", { sha: m.sha256.slice(0, 16), size: m.size ?? "—" })),
      dryRun(ctx, m),
    );
  }

  root.append(heading(t("nav.modules")), h("div", { class: "upload" }, drop, file, status), h("div", { class: "split" }, list, detail));
  const items = await load();
  const first = openId || items[0]?.id;
  if (first) await open(first);
}

function metrics(m) {
  if (!m) return h("p", { class: "muted" }, t("modules.noMetrics"));
  const failures = Object.entries(m.failures || {});
  return h("dl", { class: "facts", id: "module-metrics" },
    h("dt", {}, t("modules.steps")), h("dd", {}, String(m.steps)),
    h("dt", {}, t("modules.failures")), h("dd", {}, failures.length ? failures.map(([k, n]) => `${t("failure." + k)}: ${n}`).join(", ") : "0"),
    h("dt", {}, "p50 / p99"), h("dd", {}, `${us(m.latency_p50_us)} / ${us(m.latency_p99_us)}`),
    h("dt", {}, t("modules.fuel")), h("dd", {}, Number(m.fuel_used).toLocaleString()));
}

const us = (v) => (v == null ? "—" : v >= 1000 ? `${(v / 1000).toFixed(1)} ms` : `${v} µs`);

/** The sentence for a refused upload; the server's own words are kept as detail. */
export function refusal(err) {
  if (err.code === "unsupported_import") {
    const name = /imports (.+?), which/.exec(err.message)?.[1] || err.message;
    return t("refusal.unsupported_import", { name });
  }
  const id = "refusal." + err.code;
  return t(id) !== id ? t(id, { detail: err.message }) : errorText(err);
}

function dryRun(ctx, m) {
  const config = h("textarea", { rows: 6, class: "mono", id: "dry-config", spellcheck: "false" }, "{}");
  const trigger = select([["entered", t("dry.entered")], ["user_message", t("dry.userMessage")], ["wait_timed_out", t("dry.timedOut")]], "entered", { id: "dry-trigger" });
  const text = h("input", { id: "dry-text", placeholder: t("dry.textPlaceholder") });
  const out = h("div", { class: "dry-out", id: "dry-out", "aria-live": "polite" });
  const form = h("form", { class: "card", id: "dry-form", novalidate: true },
    h("h3", {}, t("dry.title")),
    h("p", { class: "hint" }, t("dry.explain")),
    field("dry-config", t("dry.config"), config),
    field("dry-trigger", t("dry.trigger"), trigger),
    field("dry-text", t("dry.text"), text),
    h("button", { type: "submit", class: "primary" }, t("dry.run")),
    out);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    let cfg;
    try {
      cfg = JSON.parse(config.value || "{}");
    } catch (err) {
      fill(out, h("p", { class: "error" }, t("json.invalid", { detail: err.message })));
      return;
    }
    const trig = trigger.value === "user_message" ? { type: "user_message", text: text.value } : { type: trigger.value };
    try {
      const r = await ctx.api.post(`/plugins/${m.id}/dry-run`, { config: cfg, trigger: trig, user_nickname: "Tester" });
      fill(out, stepView(r));
    } catch (err) {
      fill(out, h("p", { class: "error" }, errorText(err)),
        Object.entries(err.fields || {}).map(([k, v]) => h("p", { class: "error" }, `${k}: ${v}`)));
    }
  });
  return form;
}

/** One step's output: its actions in order and what comes next. */
export function stepView(r) {
  const next = r.next.type === "exit" ? t("dry.nextExit", { exit: r.next.exit })
    : r.next.type === "wait" ? t("dry.nextWait", { s: Math.round(r.next.timeout_ms / 1000) }) : t("dry.nextSuspend");
  return h("div", {},
    h("ol", { class: "actions" }, r.actions.map((a) => h("li", {}, actionText(a)))),
    h("p", { class: "next" }, next));
}

export function actionText(a) {
  switch (a.action) {
    case "send": {
      const msg = a.message;
      const body = msg.type === "text" ? msg.text
        : msg.type === "menu" ? [msg.title, ...msg.choices.map((c, i) => `${i + 1}. ${c.label}`)].join("\n")
          : JSON.stringify(msg);
      return h("span", { class: "pre" }, h("strong", {}, t("action.send")), " ", body);
    }
    case "set_variable":
      // The value is JSON text: shown as JSON, not as a string holding JSON.
      return h("span", {}, h("strong", {}, t("action.set")), ` ${a.name} = ${a.value}`);
    case "transfer":
      return h("span", {}, h("strong", {}, t("action.transfer")), " ", JSON.stringify({ ...a, action: undefined }));
    case "survey":
      return h("span", {}, h("strong", {}, t("action.survey")));
    case "end_session":
      return h("span", {}, h("strong", {}, t("action.end")), ` (${a.end_status})`);
    default:
      return h("span", {}, h("strong", {}, a.action), " ", JSON.stringify({ ...a, action: undefined }));
  }
}
