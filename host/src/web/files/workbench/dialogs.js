// The workbench's dialogs: transfer (to a colleague, showing who is free, or to a
// skill group, with a note), an earlier session read-only, the agent's own quick
// replies, and the keyboard shortcuts.

import { fill, h } from "../shared/dom.js";
import { t } from "../shared/i18n.js";
import { clock, element, endText, senderText } from "./format.js";

function head(id, title, dialog) {
  return h(
    "div",
    { class: "dialog-head" },
    h("h2", { id }, title),
    h("button", { type: "button", class: "icon", "aria-label": t("dialog.close"), onclick: () => dialog.close() }, "×"),
  );
}

/** Asks where to transfer `id`; resolves when done or cancelled. */
export async function transferDialog(desk, actions, id) {
  const d = document.getElementById("transfer-dialog");
  const [people, groups] = await Promise.all([desk.api.get("/agent/colleagues"), desk.api.get("/skill-groups?page_size=100")]);
  const error = h("p", { class: "error", role: "alert", "data-error-for": "form" });
  const note = h("textarea", { id: "transfer-note", name: "note", rows: "2", maxlength: "500" });
  const option = (value, label, extra, status) =>
    h(
      "li",
      {},
      h("input", { type: "radio", name: "target", id: `target-${value}`, value }),
      h("label", { for: `target-${value}`, class: "target" }, status ? h("span", { class: "dot", dataset: { status } }) : null, " ", label, " ", h("span", { class: "muted" }, extra)),
    );
  const form = h(
    "form",
    { method: "dialog", class: "transfer-form" },
    head("transfer-title", t("transfer.title"), d),
    h("h3", {}, t("transfer.toAgent")),
    h(
      "ul",
      { class: "targets", "aria-label": t("transfer.toAgent") },
      people.items.length
        ? people.items.map((c) =>
            option(
              "agent:" + c.agent_id,
              c.nickname && c.nickname !== c.name ? `${c.name} (${c.nickname})` : c.name,
              `${t("status." + c.status)} · ${c.active_sessions}/${c.max_concurrent_sessions}`,
              c.status,
            ),
          )
        : h("li", { class: "muted" }, t("transfer.nobody")),
    ),
    h("h3", {}, t("transfer.toGroup")),
    h(
      "ul",
      { class: "targets", "aria-label": t("transfer.toGroup") },
      groups.items.map((g) => option("group:" + g.id, g.name, "")),
    ),
    h("label", { for: "transfer-note" }, t("transfer.note")),
    note,
    h("div", { class: "error", "data-error-for": "note" }),
    error,
    h(
      "div",
      { class: "dialog-actions" },
      h("button", { type: "button", onclick: () => d.close() }, t("dialog.cancel")),
      h("button", { type: "submit", class: "primary", id: "transfer-submit" }, t("transfer.submit")),
    ),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const picked = form.querySelector("input[name=target]:checked");
    if (!picked) {
      error.textContent = t("transfer.pick");
      return;
    }
    const [kind, target] = picked.value.split(":");
    const body = kind === "agent" ? { agent_id: target } : { skill_group_id: target };
    try {
      await desk.transfer(id, body, note.value.trim());
      d.close();
      actions.toast(t("transfer.done"));
    } catch (err) {
      error.textContent = actions.errorText(err);
    }
  });
  fill(d, form);
  d.showModal();
  form.querySelector("input[name=target]")?.focus();
}

/** An earlier session of the user, read-only. */
export async function historyDialog(desk, actions, session) {
  const d = document.getElementById("history-dialog");
  const log = h("div", { class: "transcript readonly", role: "log", tabindex: "0" });
  fill(
    d,
    head("history-title", `${t("history.title")} · ${clock(session.created_at)}`, d),
    h("p", { class: "muted" }, session.end_status != null ? endText(session.end_status) : ""),
    log,
  );
  d.showModal();
  try {
    const page = await desk.api.get(`/agent/sessions/${session.id}/messages?Limit=100&Order=asc`);
    fill(
      log,
      page.length
        ? page.map((m) =>
            h(
              "article",
              { class: "msg", dataset: { sender: m.sender } },
              h("header", { class: "msg-head muted" }, senderText(m), " ", clock(m.at)),
              h("div", { class: "bubble" }, m.elements.map(element)),
            ),
          )
        : h("p", { class: "muted" }, t("history.empty")),
    );
  } catch (err) {
    actions.problem(err);
  }
}

/** The agent's own quick replies: add and delete. */
export async function quickRepliesDialog(desk, actions) {
  const d = document.getElementById("help-dialog");
  const list = h("ul", { class: "my-quick" });
  const refresh = async () => {
    const mine = (await desk.api.get("/quick-replies?scope=personal")).items;
    fill(
      list,
      mine.length
        ? mine.map((r) =>
            h(
              "li",
              {},
              h("span", { class: "quick-key" }, "/" + r.shortcut),
              " ",
              h("span", { class: "quick-text" }, r.text),
              " ",
              h(
                "button",
                {
                  type: "button",
                  class: "link danger",
                  "aria-label": t("quick.delete", { s: r.shortcut }),
                  onclick: async () => {
                    await desk.api.del(`/quick-replies/${r.id}`).catch((err) => actions.problem(err));
                    refresh();
                  },
                },
                t("quick.deleteShort"),
              ),
            ),
          )
        : h("li", { class: "muted" }, t("quick.none")),
    );
  };
  const form = h(
    "form",
    { class: "quick-form", novalidate: true },
    h("div", { class: "field" }, h("label", { for: "quick-shortcut" }, t("quick.shortcut")), h("input", { id: "quick-shortcut", name: "shortcut", maxlength: "32" }), h("div", { class: "error", "data-error-for": "shortcut" })),
    h("div", { class: "field" }, h("label", { for: "quick-text" }, t("quick.text")), h("textarea", { id: "quick-text", name: "text", rows: "3" }), h("p", { class: "muted" }, t("quick.variables")), h("div", { class: "error", "data-error-for": "text" })),
    h("div", { class: "error", role: "alert", "data-error-for": "form" }),
    h("button", { type: "submit", class: "primary" }, t("quick.add")),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const data = new FormData(form);
    try {
      await desk.api.post("/quick-replies", { scope: "personal", shortcut: String(data.get("shortcut")), text: String(data.get("text")) });
      form.reset();
      actions.formErrors(form, null);
      refresh();
    } catch (err) {
      actions.formErrors(form, err);
    }
  });
  fill(d, head("help-title", t("quick.mine"), d), list, form);
  d.showModal();
  await refresh();
}

export const SHORTCUTS = [
  ["Alt + ↓", "keys.next"],
  ["Alt + ↑", "keys.previous"],
  ["Alt + A", "keys.accept"],
  ["Alt + M", "keys.composer"],
  ["Enter", "keys.send"],
  ["Shift + Enter", "keys.newline"],
  ["/", "keys.quick"],
  ["Esc", "keys.close"],
];

export function helpDialog() {
  const d = document.getElementById("help-dialog");
  fill(
    d,
    head("help-title", t("keys.title"), d),
    h(
      "dl",
      { class: "keys" },
      SHORTCUTS.flatMap(([k, id]) => [h("dt", {}, h("kbd", {}, k)), h("dd", {}, t(id))]),
    ),
  );
  d.showModal();
}
