// The sign-in form of the workbench and the console: one form, one way of saying why
// a sign-in is refused (wrong password, throttled with the wait the server gives,
// deactivated account), the instance (tenant) remembered for the next visit. A page
// mounts it once, tells it what to do once signed in, and shows it whenever its
// sign-in ends.

import { showErrors } from "./api.js";
import { h } from "./dom.js";

/** Where the instance last signed in to is kept (per browser, not per tab). */
const TENANT_KEY = "kefu.tenant";

/**
 * Puts the (hidden) sign-in form first in the page. `titleKey` is the i18n id of the
 * page's name beside "kefu"; `errorText(err)` the sentence for an API error;
 * `onSubmit()` runs as the form is sent (a user gesture: a page may unlock sound);
 * `enter()` runs once signed in. Answers `show(message)`, which hides nothing else:
 * the page hides its own parts first.
 */
export function mountLogin(api, { titleKey, errorText, enter, onSubmit }) {
  const fieldOf = (name, label, attrs) =>
    h(
      "div",
      { class: "field" },
      h("label", { for: "login-" + name, "data-i18n": label }),
      h("input", { id: "login-" + name, name, required: true, ...attrs }),
      h("div", { class: "error", "data-error-for": name }),
    );
  const tenant = fieldOf("tenant", "login.tenant", { autocomplete: "organization" });
  const email = fieldOf("email", "login.email", { type: "email", autocomplete: "username" });
  const password = fieldOf("password", "login.password", { type: "password", autocomplete: "current-password" });
  const error = h("div", { class: "error", role: "alert", id: "login-error", "data-error-for": "form" });
  const submit = h("button", { class: "primary", type: "submit", id: "login-submit", "data-i18n": "login.submit" });
  const form = h(
    "form",
    { id: "login-form", class: "login-card", novalidate: true },
    h("h1", {}, h("span", { "aria-hidden": "true" }, "客服"), " kefu ", h("span", { "data-i18n": titleKey })),
    tenant,
    email,
    password,
    error,
    submit,
    h(
      "div",
      { class: "login-lang" },
      h("label", { for: "login-lang", class: "visually-hidden", "data-i18n": "lang.label" }),
      h("select", { id: "login-lang", class: "lang-select" }),
    ),
  );
  const root = h("main", { id: "login", class: "login", hidden: true }, form);
  document.body.prepend(root);
  const input = (name) => form.elements.namedItem(name);

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const data = new FormData(form);
    submit.disabled = true;
    if (onSubmit) onSubmit();
    try {
      const slug = String(data.get("tenant")).trim();
      await api.login(slug, String(data.get("email")).trim(), String(data.get("password")));
      localStorage.setItem(TENANT_KEY, slug);
      form.reset();
      showErrors(form, null, errorText);
      root.hidden = true;
      await enter();
    } catch (err) {
      showErrors(form, err, errorText);
    } finally {
      submit.disabled = false;
    }
  });

  return {
    /** Shows the form with `message` (why the sign-in ended), focused where typing starts. */
    show(message) {
      root.hidden = false;
      error.textContent = message || "";
      input("tenant").value ||= localStorage.getItem(TENANT_KEY) || "";
      (input("tenant").value ? input("email") : input("tenant")).focus();
    },
    hide() {
      root.hidden = true;
    },
  };
}
