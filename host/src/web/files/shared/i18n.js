// Text of kefu's pages in Chinese and English, keyed by stable ids. The language is
// the browser's unless the user chose one (kept in localStorage). Pages mark elements
// with data-i18n (text), data-i18n-label (aria-label and title) and
// data-i18n-placeholder; `apply` fills them in. `{name}` in a text is replaced by the
// parameter of that name.

import { en } from "./i18n-en.js";
import { zh } from "./i18n-zh.js";

const TABLES = { en, "zh-CN": zh };
const KEY = "kefu.lang";
const listeners = new Set();

function pick() {
  const chosen = localStorage.getItem(KEY);
  if (chosen && TABLES[chosen]) return chosen;
  const langs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || "en"];
  for (const l of langs) {
    if (/^zh\b/i.test(l)) return "zh-CN";
    if (/^en\b/i.test(l)) return "en";
  }
  return "en";
}

let current = pick();

export function lang() {
  return current;
}

export function languages() {
  return Object.keys(TABLES);
}

export function setLang(l) {
  if (!TABLES[l]) return;
  current = l;
  localStorage.setItem(KEY, l);
  document.documentElement.lang = l;
  apply(document);
  for (const f of listeners) f(l);
}

/** Calls `f` after every change of language. */
export function onLang(f) {
  listeners.add(f);
}

/** The text of `id`, in the current language, with `{name}` parameters filled in. */
export function t(id, params) {
  const s = TABLES[current][id] ?? TABLES.en[id] ?? id;
  if (!params) return s;
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
}

/**
 * Adds a page's own texts (`{en: {...}, "zh-CN": {...}}`) to the shared tables, so that
 * a page carries only the texts it uses.
 */
export function extend(tables) {
  for (const [l, table] of Object.entries(tables)) if (TABLES[l]) Object.assign(TABLES[l], table);
}

/** Whether a text exists for `id`. */
export function has(id) {
  return id in TABLES.en;
}

export function apply(root) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-label]")) {
    const s = t(el.dataset.i18nLabel);
    el.setAttribute("aria-label", s);
    el.title = s;
  }
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
}

document.documentElement.lang = current;
