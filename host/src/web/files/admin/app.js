// The admin console: the workbench's sign-in, then a page per part of the contact
// center, chosen from the navigation (the address's hash, so reloads and the back
// button work). Only admins use it; anyone else is told so and pointed to the
// workbench. An admin who is also an agent switches to the workbench in the same tab,
// which keeps the sign-in (sessionStorage is per tab, not per page).

import { Api, showErrors } from "../shared/api.js";
import { h } from "../shared/dom.js";
import { apply, extend, lang, languages, onLang, setLang, t } from "../shared/i18n.js";
import { en } from "./texts-en.js";
import { zh } from "./texts-zh.js";
import { errorText, run, toast } from "./ui.js";

extend({ en, "zh-CN": zh });

const $ = (id) => document.getElementById(id);
const api = new Api();
const ctx = { api, me: null, groups: [], refresh: () => show() };

/** Each page's module, loaded when first opened so the first load stays light. */
const PAGES = {
  agents: () => import("./agents.js"),
  groups: () => import("./groups.js"),
  settings: () => import("./settings.js"),
  channels: () => import("./channels.js"),
  modules: () => import("./modules.js"),
  flows: () => import("./flows.js"),
};

function showLogin(message) {
  ctx.me = null;
  $("app").hidden = true;
  $("denied").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message || "";
  $("login-tenant").value ||= localStorage.getItem("kefu.tenant") || "";
  ($("login-tenant").value ? $("login-email") : $("login-tenant")).focus();
}

$("login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = e.currentTarget;
  const data = new FormData(form);
  const btn = $("login-submit");
  btn.disabled = true;
  try {
    const tenant = String(data.get("tenant")).trim();
    await api.login(tenant, String(data.get("email")).trim(), String(data.get("password")));
    localStorage.setItem("kefu.tenant", tenant);
    form.reset();
    showErrors(form, null, errorText);
    await enter();
  } catch (err) {
    showErrors(form, err, errorText);
  } finally {
    btn.disabled = false;
  }
});

api.onSignedOut = () => showLogin(t("error.signedOut"));

async function signOut() {
  await api.logout().catch(() => {});
  showLogin(t("login.signedOut"));
}
$("sign-out").addEventListener("click", signOut);
$("denied-sign-out").addEventListener("click", signOut);

async function enter() {
  $("login").hidden = true;
  let me;
  try {
    me = await api.get("/me");
  } catch (err) {
    if (api.signedIn) showLogin(errorText(err));
    return;
  }
  ctx.me = me;
  if (me.role !== "admin") {
    $("denied-text").textContent = t("admin.denied", { role: t("role." + me.role) });
    $("denied").hidden = false;
    document.body.dataset.ready = "denied";
    return;
  }
  $("me-name").textContent = me.nickname || me.name;
  $("app").hidden = false;
  await show();
  document.body.dataset.ready = "1";
  performance.mark("kefu:interactive");
}

/** Draws the page the address names. */
async function show() {
  if (!ctx.me) return;
  const [name, ...rest] = location.hash.replace(/^#\/?/, "").split("/");
  const page = PAGES[name] ? name : "agents";
  for (const a of $("nav").querySelectorAll("a")) {
    if (a.dataset.page === page) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  $("nav").classList.remove("open");
  $("nav-toggle").setAttribute("aria-expanded", "false");
  const root = $("page");
  root.dataset.page = page;
  const mod = await run(PAGES[page]);
  if (!mod || root.dataset.page !== page) return;
  root.replaceChildren();
  await run(() => mod.render(root, ctx, rest.map(decodeURIComponent)));
  document.title = `${t("nav." + page)} · kefu`;
}

window.addEventListener("hashchange", () => show());
$("nav-toggle").addEventListener("click", () => {
  const open = $("nav").classList.toggle("open");
  $("nav-toggle").setAttribute("aria-expanded", String(open));
});

for (const sel of document.querySelectorAll(".lang-select")) {
  for (const l of languages()) sel.append(h("option", { value: l }, t("lang." + l)));
  sel.value = lang();
  sel.addEventListener("change", () => setLang(sel.value));
}
onLang((l) => {
  for (const sel of document.querySelectorAll(".lang-select")) sel.value = l;
  if (ctx.me && ctx.me.role === "admin") show();
  else if (ctx.me) $("denied-text").textContent = t("admin.denied", { role: t("role." + ctx.me.role) });
});

ctx.toast = toast;
apply(document);
if (api.signedIn) enter();
else showLogin();
