// How the workbench shows things: times and durations, statuses, message elements of
// every type, and quick replies with their variables filled in.

import { h, linkify, safeUrl } from "../shared/dom.js";
import { has, lang, t } from "../shared/i18n.js";

// Building a date formatter costs far more than using one: keep one per language.
const formats = new Map();
function format(kind) {
  const key = lang() + kind;
  if (!formats.has(key)) {
    const opts = kind === "today" ? { hour: "2-digit", minute: "2-digit" } : { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" };
    formats.set(key, new Intl.DateTimeFormat(lang(), opts));
  }
  return formats.get(key);
}

export function clock(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const today = new Date().toDateString() === d.toDateString();
  return format(today ? "today" : "other").format(d);
}

/** "42 s", "3 min", "2 h 5 min". */
export function duration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return t("time.seconds", { n: s });
  const m = Math.floor(s / 60);
  if (m < 60) return t("time.minutes", { n: m });
  return t("time.hours", { h: Math.floor(m / 60), m: m % 60 });
}

/** The status as shown, with the wrap-up's seconds left and the rest's reason. */
export function statusText(st, skew = 0) {
  if (!st) return "";
  let s = t("status." + st.status);
  if (st.status === "afterCallWork" && st.after_call_work_until) {
    const left = Math.max(0, Math.ceil((Date.parse(st.after_call_work_until) - skew - Date.now()) / 1000));
    s += " " + t("status.acwLeft", { n: left });
  }
  if (st.status === "rest" && st.reason) s += ` · ${reasonText(st.reason)}`;
  return s;
}

export function reasonText(r) {
  return r === "missed" ? t("status.reasonMissed") : r;
}

/** A TCCC end status as words. */
export function endText(code) {
  return has("end." + code) ? t("end." + code) : t("end.other", { code });
}

export function senderText(m) {
  const who = t("sender." + m.sender);
  return m.sender_name ? `${who} · ${m.sender_name}` : who;
}

const OTHER = {
  TIMImageElem: "element.image",
  TIMFileElem: "element.file",
  TIMLocationElem: "element.location",
  TIMSoundElem: "element.sound",
  TIMVideoFileElem: "element.video",
  TIMFaceElem: "element.face",
};

/** One element of a message as DOM, never as markup. */
export function element(el) {
  switch (el.type) {
    case "text":
      return h("p", { class: "el-text" }, linkify(el.text));
    case "menu":
      return h(
        "div",
        { class: "el-menu" },
        h("p", { class: "el-text" }, el.title),
        h("ol", {}, (el.choices || []).map((c) => h("li", {}, c.label))),
      );
    case "custom":
      return custom(el);
    case "other":
      return other(el);
    default:
      return h("p", { class: "el-text muted" }, `[${el.type}]`);
  }
}

function custom(el) {
  let data = el.data;
  try {
    data = JSON.stringify(JSON.parse(el.data), null, 1);
  } catch {
    // Not JSON: shown as it is.
  }
  return h(
    "div",
    { class: "el-card" },
    h("div", { class: "el-card-title" }, el.desc || t("element.custom")),
    h("pre", { class: "el-card-data" }, data.length > 600 ? data.slice(0, 600) + "…" : data),
  );
}

function other(el) {
  const c = el.content && typeof el.content === "object" ? el.content : {};
  const label = t(OTHER[el.msg_type] || "element.other", { type: el.msg_type });
  const facts = [];
  const url = c.Url || c.url || c.VideoUrl || (Array.isArray(c.ImageInfoArray) && c.ImageInfoArray[0] && c.ImageInfoArray[0].URL);
  if (c.FileName) facts.push(c.FileName);
  if (c.Desc) facts.push(c.Desc);
  if (typeof c.Latitude === "number" && typeof c.Longitude === "number") facts.push(`${c.Latitude}, ${c.Longitude}`);
  if (c.Second) facts.push(t("time.seconds", { n: c.Second }));
  if (c.FileSize || c.Size) facts.push(bytes(c.FileSize || c.Size));
  const href = url ? safeUrl(url) : null;
  return h(
    "div",
    { class: "el-placeholder", dataset: { type: el.msg_type } },
    h("span", { class: "el-placeholder-label" }, `[${label}]`),
    facts.length ? h("span", { class: "muted" }, " " + facts.join(" · ")) : null,
    href ? h("a", { href, target: "_blank", rel: "noopener noreferrer" }, " " + t("element.open")) : null,
  );
}

function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * A quick reply's text with `${Name}` variables filled from the session, its user
 * and the agent; an unknown variable stays as written.
 */
export function fillVariables(text, session, me) {
  const values = {
    StaffNickName: me && me.nickname,
    StaffNo: me && me.staff_no,
    SystemClientNickName: session && session.user_nickname,
    SystemClientUserID: session && session.user_id,
    UserNickName: session && session.user_nickname,
  };
  const vars = (session && session.variables) || {};
  return text.replace(/\$\{(\w+)\}/g, (m, name) => {
    const v = name in vars && !(name in values && values[name]) ? vars[name] : values[name];
    if (v === undefined || v === null || v === "") return m;
    return typeof v === "string" ? v : JSON.stringify(v);
  });
}
