// The workbench page: sign-in, then the desk — sessions list, conversation, user
// panel — with the status menu, notifications, keyboard shortcuts and languages.

import { Api, showErrors } from "../shared/api.js";
import { h, icon } from "../shared/dom.js";
import { mountLogin } from "../shared/login.js";
import { apply, has, lang, languages, onLang, setLang, t } from "../shared/i18n.js";
import { Desk } from "./desk.js";
import { historyDialog, helpDialog, quickRepliesDialog, transferDialog } from "./dialogs.js";
import { reasonText, statusText } from "./format.js";
import { Notifier } from "./notify.js";
import "./session-list.js";
import "./conversation.js";
import "./user-panel.js";

const $ = (id) => document.getElementById(id);
const api = new Api();
const notifier = new Notifier();
let desk = null;

/** The sentence shown for an API error: the page's own text for its code. */
function errorText(err) {
  if (!err) return "";
  if (err.code === "too_many_attempts") return t("error.too_many_attempts", { n: err.retryAfter ?? 30 });
  return has("error." + err.code) ? t("error." + err.code) : err.message || t("error.unknown");
}

let toastTimer = 0;
function toast(text, kind = "info") {
  const el = $("toast");
  el.textContent = text;
  el.dataset.kind = kind;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.hidden = true), 6000);
}

const actions = {
  open: (id) => openSession(id),
  accept: (id) => run(async () => {
    try {
      await desk.accept(id);
    } catch (err) {
      // The offer is gone for good: it leaves the list with the reason on screen.
      if (err.code === "offer_gone") desk.forget(id);
      throw err;
    }
    openSession(id);
  }),
  decline: (id) => run(() => desk.decline(id)),
  transfer: (id) => run(() => transferDialog(desk, actions, id)),
  end: (id) => run(async () => {
    await desk.end(id);
    toast(t("action.ended"));
  }),
  survey: (id) => run(async () => {
    await desk.survey(id);
    toast(t("action.surveyed"));
  }),
  sent: (id, m) => {
    if (desk.openId === id) $("conversation").addMessage(m);
  },
  noted: (n) => $("conversation").note(n),
  history: (s) => historyDialog(desk, actions, s),
  panel: (show) => {
    const panes = $("panes");
    panes.dataset.panel = show === false ? "" : panes.dataset.panel === "open" ? "" : "open";
  },
  problem: (err) => toast(errorText(err), "error"),
  errorText,
  toast,
  formErrors: (form, err) => showErrors(form, err, errorText),
};

async function run(f) {
  try {
    await f();
  } catch (err) {
    actions.problem(err);
  }
}

function openSession(id) {
  desk.open(id);
  $("panes").dataset.view = id ? "conversation" : "list";
  $("back").hidden = !id;
}

// ---- sign-in ------------------------------------------------------------------

const login = mountLogin(api, {
  titleKey: "login.title",
  errorText,
  // The click that signs in is the gesture that lets the page play its ringtone.
  onSubmit: () => notifier.unlock(),
  enter: () => enter(),
});

function showLogin(message) {
  if (desk) desk.stop();
  desk = null;
  $("app").hidden = true;
  login.show(message);
  notifier.title(0);
}

api.onSignedOut = () => showLogin(t("error.signedOut"));

async function enter() {
  login.hide();
  $("app").hidden = false;
  desk = new Desk(api);
  desk.addEventListener("change", (e) => changed(e.detail));
  $("list").connect(desk, actions);
  $("conversation").connect(desk, actions);
  $("panel").connect(desk, actions);
  try {
    await desk.start();
  } catch (err) {
    if (api.signedIn) toast(errorText(err), "error");
    return;
  }
  document.body.dataset.ready = "1";
  // When the list became usable, for anyone measuring the page (User Timing).
  performance.mark("kefu:interactive");
  if (notifier.shouldAsk()) showBanner(t("notify.ask"), [
    [t("notify.enable"), async () => {
      const result = await notifier.ask();
      toast(t("notify.result." + result));
    }],
    [t("notify.later"), () => notifier.later()],
  ]);
}

function showBanner(text, buttons) {
  const b = $("banner");
  b.replaceChildren(
    h("span", {}, text),
    ...buttons.map(([label, f]) =>
      h("button", { type: "button", onclick: async () => {
        b.hidden = true;
        await f();
      } }, label),
    ),
  );
  b.hidden = false;
}

// ---- what the desk tells -------------------------------------------------------

function changed(d) {
  switch (d.what) {
    case "status":
      renderStatus();
      break;
    case "me":
      $("me-name").textContent = desk.me.nickname || desk.me.name;
      // An admin is also an agent: the console is one click away, in the same tab.
      $("to-console").hidden = desk.me.role !== "admin";
      renderReasons();
      break;
    case "conn":
      $("conn").textContent = desk.conn === "live" ? "" : t("conn." + desk.conn);
      $("conn").dataset.state = desk.conn;
      break;
    case "offer": {
      const e = desk.sessions.get(d.id);
      notifier.alert("offer", t("notify.offerTitle"), e ? e.session.user_nickname || e.session.user_id : "", d.id);
      break;
    }
    case "message":
      if (!d.repeat && d.message.sender === "user") {
        const e = desk.sessions.get(d.id);
        if (desk.openId !== d.id || notifier.away()) {
          notifier.alert("message", t("notify.messageTitle", { name: e ? e.session.user_nickname || e.session.user_id : "" }), d.message.text, d.id);
        }
      }
      break;
    case "withdrawn":
      if (d.reason !== "declined") toast(t("withdrawn." + d.reason));
      if (!desk.openId) openSession(null);
      break;
  }
  if (["list", "message", "offer"].includes(d.what)) notifier.title(desk.attention());
}

function renderStatus() {
  const st = desk.status;
  if (!st) return;
  $("status-dot").dataset.status = st.status;
  $("status-text").textContent = statusText(st, desk.skew);
  $("avatar").setAttribute("aria-label", `${$("me-name").textContent}: ${statusText(st, desk.skew)} — ${t("menu.open")}`);
  for (const b of $("status-menu").querySelectorAll("[data-set]")) {
    const on = st.chosen === b.dataset.set && (b.dataset.set !== "rest" || st.reason === b.dataset.reason);
    b.setAttribute("aria-checked", String(on));
  }
}

function renderReasons() {
  const box = $("rest-reasons");
  box.replaceChildren(
    ...desk.restReasons.map((r) =>
      h("button", { role: "menuitemradio", type: "button", dataset: { set: "rest", reason: r } }, reasonText(r)),
    ),
  );
  renderStatus();
}

// ---- header, menu, keyboard -----------------------------------------------------

function toggleMenu(open) {
  const menu = $("status-menu");
  const show = open ?? menu.hidden;
  menu.hidden = !show;
  $("avatar").setAttribute("aria-expanded", String(show));
  if (show) menu.querySelector("button")?.focus();
}

$("avatar").addEventListener("click", () => toggleMenu());
$("status-menu").addEventListener("click", (e) => {
  const b = e.target.closest("[data-set]");
  if (!b) return;
  toggleMenu(false);
  run(() => desk.setStatus(b.dataset.set, b.dataset.reason));
});
$("status-menu").addEventListener("keydown", (e) => {
  const items = [...$("status-menu").querySelectorAll("button")];
  const i = items.indexOf(document.activeElement);
  if (e.key === "ArrowDown" || e.key === "ArrowUp") {
    e.preventDefault();
    items[(i + (e.key === "ArrowDown" ? 1 : items.length - 1)) % items.length].focus();
  } else if (e.key === "Escape") {
    toggleMenu(false);
    $("avatar").focus();
  }
});
document.addEventListener("click", (e) => {
  if (!e.target.closest(".status-menu")) toggleMenu(false);
  notifier.unlock();
});
$("sign-out").addEventListener("click", async () => {
  toggleMenu(false);
  await api.logout().catch(() => {});
  showLogin(t("login.signedOut"));
});
$("my-quick")?.addEventListener("click", () => run(() => quickRepliesDialog(desk, actions)));
$("back").addEventListener("click", () => openSession(null));
$("help").addEventListener("click", helpDialog);
$("mute").addEventListener("click", () => {
  notifier.setMuted(!notifier.muted);
  renderMute();
});

function renderMute() {
  const b = $("mute");
  b.setAttribute("aria-pressed", String(notifier.muted));
  b.replaceChildren(icon(notifier.muted ? "bellOff" : "bell"));
  const label = t(notifier.muted ? "notify.unmute" : "notify.mute");
  b.setAttribute("aria-label", label);
  b.title = label;
}

document.addEventListener("keydown", (e) => {
  if (!desk || !e.altKey || e.ctrlKey || e.metaKey) return;
  const list = desk.ordered();
  const at = list.findIndex((x) => x.session.id === desk.openId);
  if (e.key === "ArrowDown" || e.key === "ArrowUp") {
    e.preventDefault();
    if (!list.length) return;
    const next = e.key === "ArrowDown" ? Math.min(at + 1, list.length - 1) : Math.max(at - 1, 0);
    openSession(list[next].session.id);
    document.querySelector(`.session[data-id="${list[next].session.id}"] .session-open`)?.focus();
  } else if (e.code === "KeyA") {
    e.preventDefault();
    const offer = list.find((x) => x.kind === "offer");
    if (offer) actions.accept(offer.session.id);
  } else if (e.code === "KeyM") {
    e.preventDefault();
    $("conversation").composer.focus();
  }
});

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && desk && desk.openId) desk.read(desk.openId);
});

// ---- languages --------------------------------------------------------------------

for (const sel of document.querySelectorAll(".lang-select")) {
  for (const l of languages()) sel.append(h("option", { value: l }, t("lang." + l)));
  sel.value = lang();
  sel.addEventListener("change", () => setLang(sel.value));
}

onLang((l) => {
  for (const sel of document.querySelectorAll(".lang-select")) sel.value = l;
  renderMute();
  if (!desk) return;
  renderStatus();
  renderReasons();
  desk.emit("lang");
  notifier.title(desk.attention());
});

// Ticks the wrap-up countdown in the status.
setInterval(() => {
  if (desk && desk.status && desk.status.status === "afterCallWork") renderStatus();
}, 1000);

apply(document);
renderMute();
if (api.signedIn) enter();
else showLogin();
