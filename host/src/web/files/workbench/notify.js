// Telling an agent who is looking elsewhere: a ring (drawn with Web Audio, no file to
// load) and a browser notification for an offer or a user's message while the page is
// hidden or not focused, and the count of what waits in the tab title. Browser
// notifications are asked for only when the agent says yes to the page's own prompt.
// The agent can mute both; the choice is kept.

import { t } from "../shared/i18n.js";

const MUTE_KEY = "kefu.muted";
const ASKED_KEY = "kefu.notifications.asked";

export class Notifier {
  constructor() {
    this.muted = localStorage.getItem(MUTE_KEY) === "1";
    this.audio = null;
    this.rings = 0;
    this.shown = 0;
    this.base = document.title;
  }

  /** Whether to offer the prompt for browser notifications. */
  shouldAsk() {
    return "Notification" in window && Notification.permission === "default" && !localStorage.getItem(ASKED_KEY);
  }

  async ask() {
    localStorage.setItem(ASKED_KEY, "1");
    if (!("Notification" in window)) return "unsupported";
    try {
      return await Notification.requestPermission();
    } catch {
      return Notification.permission;
    }
  }

  later() {
    localStorage.setItem(ASKED_KEY, "1");
  }

  setMuted(m) {
    this.muted = m;
    localStorage.setItem(MUTE_KEY, m ? "1" : "0");
  }

  /** Browsers start audio only after a gesture: called on the agent's first click. */
  unlock() {
    if (this.audio) return;
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    this.audio = new Ctx();
    this.audio.resume().catch(() => {});
  }

  away() {
    return document.visibilityState === "hidden" || !document.hasFocus();
  }

  /** An offer (always rings: it expires) or a message (only when away). */
  alert(kind, title, body, tag) {
    if (this.muted) return false;
    if (kind !== "offer" && !this.away()) return false;
    this.ring();
    if (this.away() && "Notification" in window && Notification.permission === "granted") {
      try {
        const n = new Notification(title, { body, tag, renotify: true });
        n.onclick = () => {
          window.focus();
          n.close();
        };
        this.shown += 1;
      } catch {
        // Some browsers allow notifications only from a service worker: the ring stays.
      }
    }
    return true;
  }

  ring() {
    this.rings += 1;
    document.body.dataset.rings = String(this.rings);
    const ctx = this.audio;
    if (!ctx) return;
    const now = ctx.currentTime;
    for (const [at, freq] of [
      [0, 880],
      [0.18, 1175],
    ]) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, now + at);
      gain.gain.exponentialRampToValueAtTime(0.25, now + at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + at + 0.16);
      osc.connect(gain).connect(ctx.destination);
      osc.start(now + at);
      osc.stop(now + at + 0.17);
    }
  }

  title(count) {
    const name = t("app.title");
    document.title = count > 0 ? `(${count}) ${name}` : name;
  }
}
