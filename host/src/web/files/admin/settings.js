// Routing settings of the whole tenant (rest reasons, wrap-up seconds, rest after a
// missed offer) and the tenant's shared quick replies.

import { h, fill } from "../shared/dom.js";
import { t } from "../shared/i18n.js";
import { showErrors } from "../shared/api.js";
import { checkbox, confirm, errorText, field, formDialog, heading, input, run, table, toast, value } from "./ui.js";

export async function render(root, ctx) {
  const settings = await ctx.api.get("/routing/settings");
  const reasons = h("ul", { class: "reasons", id: "reasons" });
  const addReason = (text) => {
    const box = input({ value: text, "aria-label": t("settings.reason"), class: "reason", maxlength: 64 });
    const li = h("li", {}, box, h("button", { type: "button", class: "link danger", "aria-label": t("settings.removeReason"), onclick: () => li.remove() }, "×"));
    reasons.append(li);
    return box;
  };
  settings.rest_reasons.forEach(addReason);

  const form = h("form", { class: "card", id: "routing-form", novalidate: true },
    h("h2", {}, t("settings.routing")),
    h("fieldset", {}, h("legend", {}, t("settings.reasons")),
      h("p", { class: "hint" }, t("settings.reasons.explain")),
      reasons,
      h("div", { class: "error", "data-error-for": "rest_reasons" }),
      h("button", { type: "button", id: "reason-add", onclick: () => addReason("").focus() }, t("settings.addReason"))),
    field("after_call_work_secs", t("settings.acw"), input({ type: "number", min: 0, max: 3600, value: settings.after_call_work_secs }), t("settings.acw.explain")),
    checkbox("rest_on_missed_offer", t("settings.restOnMissed"), settings.rest_on_missed_offer),
    h("p", { class: "hint" }, t("settings.restOnMissed.explain")),
    h("div", { class: "error", role: "alert", "data-error-for": "form" }),
    h("button", { type: "submit", class: "primary" }, t("form.save")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const body = {
        rest_reasons: [...reasons.querySelectorAll("input")].map((i) => i.value.trim()).filter(Boolean),
        after_call_work_secs: Number(value(form, "after_call_work_secs")),
        rest_on_missed_offer: form.elements.namedItem("rest_on_missed_offer").checked,
      };
      await ctx.api.put("/routing/settings", body);
      showErrors(form, null, errorText);
      toast(t("settings.saved"));
    } catch (err) {
      // A reason's error is keyed by its place in the list: show it beside the list.
      const fields = {};
      const marked = [];
      for (const [k, v] of Object.entries(err.fields || {})) {
        const at = /^rest_reasons\[(\d+)\]/.exec(k);
        if (at) marked.push(Number(at[1]));
        fields[k.startsWith("rest_reasons") ? "rest_reasons" : k] = v;
      }
      err.fields = fields;
      showErrors(form, err, errorText);
      const boxes = [...reasons.querySelectorAll("input")].filter((i) => i.value.trim());
      for (const i of marked) boxes[i]?.setAttribute("aria-invalid", "true");
    }
  });

  const quick = h("div", { class: "list-area", id: "quick-list" });
  async function loadQuick() {
    const answer = await ctx.api.get("/quick-replies?scope=tenant");
    fill(quick, table(
      [
        [t("quick.shortcut"), (q) => h("code", {}, "/" + q.shortcut)],
        [t("quick.text"), (q) => h("span", { class: "pre" }, q.text)],
        [t("agents.actions"), (q) => h("div", { class: "row-actions" },
          h("button", { type: "button", class: "link", dataset: { act: "edit" }, onclick: () => editQuick(ctx, q, loadQuick) }, t("form.edit")),
          h("button", { type: "button", class: "link danger", dataset: { act: "delete" }, onclick: () => confirm(t("settings.deleteQuick", { s: q.shortcut }), q.text, t("form.delete"), async () => {
            await ctx.api.del(`/quick-replies/${q.id}`);
            await loadQuick();
          }) }, t("form.delete")))],
      ],
      answer.items,
      t("quick.none"),
    ));
  }

  root.append(
    heading(t("nav.settings")),
    form,
    h("section", { class: "card" },
      h("div", { class: "page-head" }, h("h2", {}, t("settings.quick")),
        h("button", { type: "button", class: "primary", id: "quick-new", onclick: () => editQuick(ctx, null, loadQuick) }, t("settings.newQuick"))),
      h("p", { class: "hint" }, t("settings.quick.explain")),
      quick),
  );
  await run(loadQuick);
}

function editQuick(ctx, q, reload) {
  formDialog({
    title: q ? t("settings.editQuick", { s: q.shortcut }) : t("settings.newQuick"),
    build: () => [
      field("shortcut", t("quick.shortcut"), input({ value: q?.shortcut ?? "", maxlength: 32 })),
      field("text", t("quick.text"), h("textarea", { rows: 4 }, q?.text ?? ""), t("quick.variables")),
    ],
    submit: async (form) => {
      const body = { shortcut: value(form, "shortcut"), text: value(form, "text") };
      if (q) await ctx.api.patch(`/quick-replies/${q.id}`, body);
      else await ctx.api.post("/quick-replies", { scope: "tenant", ...body });
      toast(t("settings.quickSaved", { s: body.shortcut }));
      await reload();
    },
  });
}
