// What every console page builds with: form fields with their error slots, a dialog
// holding a form, tables, a pager, copy buttons and the toast. Pages receive `ctx`
// (the API client and these) from app.js and draw into the element they are given.

import { showErrors } from "../shared/api.js";
import { h } from "../shared/dom.js";
import { has, t } from "../shared/i18n.js";

/** The sentence shown for an API error: the page's own text for its code. */
export function errorText(err) {
  if (!err) return "";
  if (err.code === "too_many_attempts") return t("error.too_many_attempts", { n: err.retryAfter ?? 30 });
  return has("error." + err.code) ? t("error." + err.code, { detail: err.message }) : err.message || t("error.unknown");
}

let toastTimer = 0;
export function toast(text, kind = "info") {
  const el = document.getElementById("toast");
  el.textContent = text;
  el.dataset.kind = kind;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.hidden = true), 6000);
}

/** Refusals that concern one field, though the server names none: shown beside it. */
const CODE_FIELD = {
  email_taken: "email",
  staff_no_taken: "staff_no",
  skill_group_name_taken: "name",
  channel_name_taken: "name",
  channel_account_taken: "account",
  im_app_taken: "sdkappid",
  flow_name_taken: "name",
  shortcut_taken: "shortcut",
};

/** Shows an ApiError on a form, a conflict beside the field it concerns. */
export function formErrors(form, err) {
  const f = err && CODE_FIELD[err.code];
  if (f && !Object.keys(err.fields || {}).length && form.querySelector(`[data-error-for="${f}"]`)) {
    err.fields = { [f]: errorText(err) };
  }
  showErrors(form, err, errorText);
}

/** Runs `f`, showing a failure as a toast. */
export async function run(f) {
  try {
    return await f();
  } catch (err) {
    toast(errorText(err), "error");
    return undefined;
  }
}

/** A labelled field: `control` gets the id and name; errors for `name` go below it. */
export function field(name, label, control, hint) {
  const id = "f-" + name.replace(/[^\w-]/g, "-");
  control.id ||= id;
  if (!control.name && "name" in control) control.name = name;
  return h(
    "div",
    { class: "field" },
    h("label", { for: control.id }, label),
    control,
    hint ? h("div", { class: "hint" }, hint) : null,
    h("div", { class: "error", "data-error-for": name }),
  );
}

export function input(attrs = {}) {
  return h("input", attrs);
}

/** A select of `[value, text]` pairs. */
export function select(options, value, attrs = {}) {
  const el = h("select", attrs, options.map(([v, text]) => h("option", { value: v }, text)));
  el.value = value ?? "";
  return el;
}

export function checkbox(name, label, checked) {
  const box = h("input", { type: "checkbox", name, id: "f-" + name });
  box.checked = !!checked;
  return h("div", { class: "field check" }, box, h("label", { for: box.id }, label), h("div", { class: "error", "data-error-for": name }));
}

/**
 * Opens the console's dialog with a form. `build(form)` returns the fields; `submit()`
 * does the work and may throw an ApiError, shown beside its fields; the dialog closes
 * when it resolves (unless it returns `"keep"`).
 */
export function formDialog({ title, build, submit, submitText, danger }) {
  const dialog = document.getElementById("dialog");
  const form = h("form", { class: "dialog-form", novalidate: true });
  const go = h("button", { type: "submit", class: danger ? "danger" : "primary" }, submitText || t("form.save"));
  form.append(
    h("div", { class: "dialog-head" }, h("h2", { id: "dialog-title" }, title),
      h("button", { type: "button", class: "icon", "aria-label": t("dialog.close"), onclick: () => dialog.close() }, "×")),
    ...[build(form)].flat(),
    h("div", { class: "error", role: "alert", "data-error-for": "form" }),
    h("div", { class: "dialog-actions" },
      h("button", { type: "button", onclick: () => dialog.close() }, t("dialog.cancel")), go),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    go.disabled = true;
    try {
      const kept = await submit(form);
      if (kept !== "keep") dialog.close();
    } catch (err) {
      formErrors(form, err);
    } finally {
      go.disabled = false;
    }
  });
  dialog.className = "";
  dialog.setAttribute("aria-labelledby", "dialog-title");
  dialog.replaceChildren(form);
  if (!dialog.open) dialog.showModal();
  form.querySelector("input:not([type=hidden]), select, textarea")?.focus();
  return form;
}

/** Asks before something that cannot be undone. */
export function confirm(title, text, doText, action) {
  return formDialog({ title, build: () => h("p", {}, text), submit: action, submitText: doText, danger: true });
}

/** Shows something (such as secrets) in the dialog, with a single close button. */
export function infoDialog(title, ...content) {
  const dialog = document.getElementById("dialog");
  dialog.replaceChildren(
    h("div", { class: "dialog-head" }, h("h2", { id: "dialog-title" }, title)),
    ...content,
    h("div", { class: "dialog-actions" }, h("button", { type: "button", class: "primary", onclick: () => dialog.close() }, t("dialog.done"))),
  );
  dialog.className = "";
  dialog.setAttribute("aria-labelledby", "dialog-title");
  if (!dialog.open) dialog.showModal();
}

/** A table: `columns` are `[heading, (row) => cell]`. */
export function table(columns, rows, empty) {
  if (!rows.length) return h("p", { class: "empty muted" }, empty || t("list.none"));
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      {},
      h("thead", {}, h("tr", {}, columns.map(([head]) => h("th", { scope: "col" }, head)))),
      h("tbody", {}, rows.map((r) => h("tr", { dataset: { id: r.id ?? "" } }, columns.map(([, cell]) => h("td", {}, cell(r)))))),
    ),
  );
}

/** Previous / next over a `Page` answer; `go(page)` loads another page. */
export function pager(answer, go) {
  const pages = Math.max(1, Math.ceil(answer.total / answer.page_size));
  if (pages <= 1) return null;
  return h(
    "div",
    { class: "pager" },
    h("button", { type: "button", disabled: answer.page <= 1, onclick: () => go(answer.page - 1) }, t("page.previous")),
    h("span", { class: "muted" }, t("page.of", { page: answer.page, pages, total: answer.total })),
    h("button", { type: "button", disabled: answer.page >= pages, onclick: () => go(answer.page + 1) }, t("page.next")),
  );
}

/** A read-only value with a button that copies it. */
export function copyable(label, value, name) {
  const box = h("input", { readonly: true, value, class: "mono", id: "copy-" + name, "aria-label": label });
  const btn = h("button", {
    type: "button",
    class: "copy",
    dataset: { copy: name },
    onclick: async () => {
      box.select();
      try {
        await navigator.clipboard.writeText(value);
      } catch {
        document.execCommand("copy");
      }
      toast(t("copy.done", { what: label }));
    },
  }, t("copy.button"));
  return h("div", { class: "field" }, h("label", { for: box.id }, label), h("div", { class: "copy-row" }, box, btn));
}

/** A page's heading with its actions. */
export function heading(title, ...actions) {
  return h("div", { class: "page-head" }, h("h1", {}, title), h("div", { class: "page-actions" }, actions));
}

/** Formats a date-time in the page's language. */
export function when(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString(document.documentElement.lang || undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** Seconds as "1 h 5 min", "5 min", "40 s". */
export function duration(secs) {
  const s = Math.round(secs);
  if (s < 60) return t("time.seconds", { n: s });
  if (s < 3600) return t("time.minutes", { n: Math.floor(s / 60) });
  return t("time.hours", { h: Math.floor(s / 3600), m: Math.floor((s % 3600) / 60) });
}

/** The form's value for `name`, trimmed; "" when absent. */
export function value(form, name) {
  const el = form.elements.namedItem(name);
  return el ? String(el.value).trim() : "";
}
