// Webhooks: the endpoints kefu signs and POSTs events to (Standard Webhooks). Create,
// edit, enable or disable, delete; the signing secret is shown once, when it is made
// or rotated, with a copy button; a test event on request; each endpoint's recent
// deliveries with their outcome, and any of them delivered again.

import { h, fill } from "../shared/dom.js";
import { t } from "../shared/i18n.js";
import { checkbox, confirm, copyable, field, formDialog, heading, infoDialog, input, run, table, toast, value, when } from "./ui.js";

/** The event types an endpoint may ask for (the API's list; `*` is all of them). */
const TYPES = [
  "session.started", "session.queued", "session.offered", "session.accepted", "session.transfer_failed",
  "session.transferred", "session.ended", "message.user", "message.bot", "message.agent",
  "survey.rated", "agent.status_changed", "webhook.test",
];
/** Deliveries shown per endpoint. */
const RECENT = 20;

export async function render(root, ctx, [openId]) {
  const list = h("div", { class: "list-area", "aria-live": "polite" });
  const detail = h("div", { class: "detail", id: "webhook-detail" });

  async function load() {
    const endpoints = await ctx.api.get("/webhooks");
    fill(list, table(
      [
        [t("webhooks.url"), (e) => h("div", {}, h("button", { type: "button", class: "link strong mono", dataset: { act: "open" }, onclick: () => run(() => show(e.id)) }, e.url),
          e.description ? h("div", { class: "muted" }, e.description) : null)],
        [t("webhooks.events"), (e) => typesText(e.event_types)],
        [t("webhooks.state"), (e) => stateText(e)],
      ],
      endpoints,
      t("webhooks.none"),
    ));
    return endpoints;
  }

  async function show(id) {
    if (!id) return fill(detail);
    const [e, deliveries] = await Promise.all([
      ctx.api.get(`/webhooks/${id}`),
      ctx.api.get(`/webhooks/${id}/deliveries?limit=${RECENT}`),
    ]);
    const act = (name, text, f, cls) => h("button", { type: "button", class: cls || "", dataset: { act: name }, onclick: () => run(f) }, text);
    fill(
      detail,
      h("div", { class: "page-head" }, h("h2", { class: "mono" }, e.url),
        h("div", { class: "page-actions" },
          act("edit", t("form.edit"), () => edit(ctx, e, async (saved) => {
            await load();
            await show(saved.id);
          })),
          act("test", t("webhooks.test"), async () => {
            await ctx.api.post(`/webhooks/${e.id}/test`);
            toast(t("webhooks.tested"));
            await show(e.id);
          }),
          act("rotate", t("webhooks.rotate"), () => rotate(ctx, e, () => show(e.id))),
          act("delete", t("form.delete"), () => confirm(t("webhooks.deleteTitle"), t("webhooks.deleteText", { url: e.url }), t("form.delete"), async () => {
            await ctx.api.del(`/webhooks/${e.id}`);
            toast(t("webhooks.deleted"));
            fill(detail);
            await load();
          }), "danger"),
        )),
      h("dl", { class: "facts" },
        h("dt", {}, t("webhooks.description")), h("dd", {}, e.description || "—"),
        h("dt", {}, t("webhooks.events")), h("dd", {}, typesText(e.event_types)),
        h("dt", {}, t("webhooks.state")), h("dd", {}, stateText(e)),
        h("dt", {}, t("webhooks.secret")), h("dd", { class: "mono" }, e.secret),
        e.previous_secret_expires_at ? [h("dt", {}, t("webhooks.previous")), h("dd", {}, when(e.previous_secret_expires_at))] : null,
      ),
      h("div", { class: "page-head" }, h("h3", {}, t("webhooks.deliveries")),
        act("refresh", t("webhooks.refresh"), () => show(e.id), "link")),
      table(
        [
          [t("webhooks.event"), (d) => h("div", {}, h("strong", {}, d.event_type), h("div", { class: "muted mono" }, d.event_id))],
          [t("webhooks.created.at"), (d) => when(d.created_at)],
          [t("webhooks.status"), (d) => h("span", { class: "delivery", dataset: { status: d.status } }, t("webhooks.delivery." + d.status))],
          [t("webhooks.attempts"), (d) => String(d.attempts)],
          [t("webhooks.response"), (d) => responseText(d)],
          ["", (d) => act("redeliver", t("webhooks.redeliver"), async () => {
            await ctx.api.post(`/webhooks/${e.id}/deliveries/${d.event_id}/redeliver`);
            toast(t("webhooks.redelivered"));
            await show(e.id);
          }, "link")],
        ],
        deliveries,
        t("webhooks.noDeliveries"),
      ),
    );
  }

  root.append(
    heading(t("nav.webhooks"), h("button", { type: "button", class: "primary", id: "webhook-new", onclick: () => edit(ctx, null, async (saved) => {
      await load();
      await show(saved.id);
    }) }, t("webhooks.new"))),
    h("p", { class: "muted" }, t("webhooks.intro")),
    h("div", { class: "split" }, list, detail),
  );
  const endpoints = await load();
  if (openId && endpoints.some((e) => e.id === openId)) await show(openId);
}

function typesText(types) {
  return types.includes("*") ? t("webhooks.allEvents") : types.join(", ");
}

function stateText(e) {
  if (e.enabled) return h("span", { class: "status" }, h("span", { class: "dot", dataset: { status: "free" } }), " ", t("webhooks.enabled"));
  return h("span", { class: "status" }, h("span", { class: "dot", dataset: { status: "offline" } }), " ", t("webhooks.disabled"),
    e.disabled_reason ? h("span", { class: "muted" }, " · " + e.disabled_reason) : null);
}

function responseText(d) {
  const parts = [];
  if (d.response_status) parts.push(`HTTP ${d.response_status}`);
  if (d.latency_ms !== null && d.latency_ms !== undefined) parts.push(`${d.latency_ms} ms`);
  return h("div", {},
    parts.join(" · ") || "—",
    d.last_error ? h("div", { class: "muted pre" }, d.last_error) : null,
    d.next_attempt_at && d.status === "pending" ? h("div", { class: "muted" }, t("webhooks.next", { at: when(d.next_attempt_at) })) : null);
}

/** Shows a secret that will not be shown again. */
function secretShown(title, secret) {
  infoDialog(title,
    h("p", { class: "warning" }, t("webhooks.secretOnce")),
    copyable(t("webhooks.secret"), secret, "webhook-secret"));
}

/** The create / edit dialog; `e` null creates. */
function edit(ctx, e, done) {
  const chosen = new Set(e ? e.event_types : ["*"]);
  formDialog({
    title: e ? t("webhooks.editTitle") : t("webhooks.new"),
    build: () => [
      field("url", t("webhooks.url"), input({ value: e ? e.url : "", type: "url", placeholder: "https://" }), t("webhooks.urlHint")),
      field("description", t("webhooks.description"), input({ value: e ? e.description : "" })),
      h("fieldset", {}, h("legend", {}, t("webhooks.events")),
        checkbox("all-events", t("webhooks.allEvents"), chosen.has("*")),
        h("div", { class: "event-types" }, TYPES.map((type) => {
          const box = checkbox("type-" + type, type, chosen.has(type));
          box.querySelector("input").value = type;
          return box;
        })),
        h("div", { class: "error", "data-error-for": "event_types" })),
      checkbox("enabled", t("webhooks.enabled"), e ? e.enabled : true),
    ],
    submit: async (form) => {
      const all = form.elements.namedItem("all-events").checked;
      const types = all ? ["*"] : TYPES.filter((type) => form.elements.namedItem("type-" + type).checked);
      const body = {
        url: value(form, "url"),
        description: value(form, "description"),
        event_types: types,
        enabled: form.elements.namedItem("enabled").checked,
      };
      if (e) {
        const saved = await ctx.api.patch(`/webhooks/${e.id}`, body);
        toast(t("webhooks.saved"));
        await done(saved);
        return;
      }
      const made = await ctx.api.post("/webhooks", body);
      await done(made);
      secretShown(t("webhooks.created"), made.secret);
      return "keep";
    },
  });
}

function rotate(ctx, e, done) {
  formDialog({
    title: t("webhooks.rotate"),
    build: () => [
      h("p", {}, t("webhooks.rotateText")),
      field("overlap_secs", t("webhooks.overlap"), input({ type: "number", min: 0, max: 86400, value: 86400 }), t("webhooks.overlapHint")),
    ],
    submitText: t("webhooks.rotate"),
    submit: async (form) => {
      const rotated = await ctx.api.post(`/webhooks/${e.id}/rotate-secret`, { overlap_secs: Number(value(form, "overlap_secs")) });
      await done();
      secretShown(t("webhooks.rotated"), rotated.secret);
      return "keep";
    },
  });
}
