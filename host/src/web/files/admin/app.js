// The admin console: the sign-in the workbench uses too (shared/login.js), then a
// page per part of the contact center, chosen from the navigation (the address's
// hash, so reloads and the back button work). Only admins use it; anyone else is
// told so and pointed to the workbench. An admin who is also an agent switches to
// the workbench in the same tab, which keeps the sign-in (sessionStorage is per tab,
// not per page).

import { Api } from "../shared/api.js";
import { h } from "../shared/dom.js";
import { mountLogin } from "../shared/login.js";
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
  records: () => import("./records.js"),
  analytics: () => import("./analytics.js"),
  live: () => import("./live.js"),
  webhooks: () => import("./webhooks.js"),
};

const login = mountLogin(api, { titleKey: "admin.title", errorText, enter: () => enter() });

function showLogin(message) {
  ctx.me = null;
  $("app").hidden = true;
  $("denied").hidden = true;
  login.show(message);
}

api.onSignedOut = () => showLogin(t("error.signedOut"));

async function signOut() {
  await api.logout().catch(() => {});
  showLogin(t("login.signedOut"));
}
$("sign-out").addEventListener("click", signOut);
$("denied-sign-out").addEventListener("click", signOut);

async function enter() {
  login.hide();
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
