// The one socket client of kefu's pages: connects to a numbered event stream, keeps
// the number of the last event it handled, and on reconnecting asks for what came
// after it (`after=<seq>`), so that a dropped connection loses nothing. A `resync`
// frame (the events were no longer kept) is handed to the page, which reloads its
// state. The connection is kept alive with pings and reopened with a growing pause;
// when the browser says it went offline the socket is closed at once (rather than
// when pings stop), and it reopens the moment the browser is back online. Before
// reopening, `check` (when given) may find that the sign-in itself has ended.

const PING_MS = 20_000;
const MAX_PAUSE_MS = 15_000;

export class FeedSocket {
  /**
   * @param {string} path e.g. "/api/v1/agent/ws"
   * @param {() => Promise<string>} token a fresh access token for each connection
   * @param {{onFrame: (f: object) => void, onResync: () => void, onState: (s: string) => void}} handlers
   */
  constructor(path, token, handlers) {
    this.path = path;
    this.token = token;
    this.h = handlers;
    this.seq = null;
    this.ws = null;
    this.pause = 500;
    this.stopped = true;
    this.timer = 0;
    this.pinger = 0;
    this.offline = false;
    this.attempts = 0;
    this.wentOffline = () => {
      this.offline = true;
      this.drop();
    };
    this.cameOnline = () => {
      this.offline = false;
      this.pause = 500;
      if (!this.ws && !this.stopped) this.open();
    };
  }

  /** The number of the last event handled (null before the first `ready`). */
  get lastSeq() {
    return this.seq;
  }

  start(after = null) {
    this.stopped = false;
    if (after !== null) this.seq = after;
    window.addEventListener("offline", this.wentOffline);
    window.addEventListener("online", this.cameOnline);
    this.open();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener("offline", this.wentOffline);
    window.removeEventListener("online", this.cameOnline);
    clearTimeout(this.timer);
    clearInterval(this.pinger);
    if (this.ws) this.ws.close(1000);
    this.ws = null;
  }

  /** Closes the connection as a network failure would; it reopens by itself. */
  drop() {
    if (this.ws) this.ws.close(4000, "dropped");
  }

  async open() {
    clearTimeout(this.timer);
    if (this.stopped || this.ws) return;
    if (this.attempts++ > 0 && this.h.check) {
      try {
        await this.h.check();
      } catch {
        // Unreachable, or signed out: the page has been told; try again later.
      }
      if (this.stopped || this.ws) return;
    }
    let token;
    try {
      token = await this.token();
    } catch {
      this.h.onState("signed-out");
      return;
    }
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const q = new URLSearchParams({ token });
    if (this.seq !== null) q.set("after", String(this.seq));
    const ws = new WebSocket(`${scheme}//${location.host}${this.path}?${q}`);
    this.ws = ws;
    this.h.onState("connecting");
    ws.onmessage = (m) => this.receive(m.data);
    ws.onclose = () => {
      if (this.ws !== ws) return;
      clearInterval(this.pinger);
      this.ws = null;
      if (this.stopped) return;
      this.h.onState(this.offline ? "offline" : "reconnecting");
      if (this.offline) return;
      this.timer = setTimeout(() => this.open(), this.pause);
      this.pause = Math.min(this.pause * 2, MAX_PAUSE_MS);
    };
    ws.onopen = () => {
      clearInterval(this.pinger);
      this.pinger = setInterval(() => {
        if (ws.readyState === WebSocket.OPEN) ws.send('{"type":"ping"}');
      }, PING_MS);
    };
  }

  receive(text) {
    let f;
    try {
      f = JSON.parse(text);
    } catch {
      return;
    }
    switch (f.type) {
      case "ready":
        this.pause = 500;
        // A first connection starts from now; a reconnection's missed events follow.
        if (this.seq === null) this.seq = f.seq;
        this.h.onState("live");
        this.h.onFrame(f);
        break;
      case "event":
        if (this.seq !== null && f.seq <= this.seq) return;
        this.seq = f.seq;
        this.h.onFrame(f);
        break;
      case "resync":
        this.seq = f.seq;
        this.h.onResync();
        break;
      default:
        this.h.onFrame(f);
    }
  }
}
