// A temporary chat (ChatGPT's "Temporary chat"): a conversation that never shows in the list or in search, and is
// deleted when the user leaves it — another conversation, a new one, a reload or closing the tab — or, if the page
// could not say so, by the server an hour after the page last said it was still open (every few minutes, and when its
// tab is shown again: `POST /api/conversations/{id}/keep-alive`).

import * as api from "./api.js";

/** How often an open temporary chat tells the server it is still open (the server lets it lapse after an hour). */
const KEEP_ALIVE_MS = 10 * 60 * 1000;

export class TemporaryChat {
  /** `toggle`: the header's button; `notice`: what the open temporary chat says about itself. */
  constructor({ toggle, notice }) {
    this.toggle = toggle;
    this.notice = notice;
    /** The open temporary chat's id, or null. */
    this.id = null;
    // Closing the tab or reloading is leaving too: the request outlives the page (`keepalive`).
    addEventListener("pagehide", () => this.leave());
    this.keepAliveTimer = null;
    // A background tab's timers may be held back: coming back to it says so at once.
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.keepAlive();
    });
  }

  /** Tells the server that the open temporary chat is still open. */
  keepAlive() {
    if (this.id !== null) api.keepTemporaryChat(this.id).catch(() => {});
  }

  /** Whether conversation `id` is the temporary chat. */
  is(id) { return this.id !== null && id === this.id; }

  /** Conversation `id` was just made temporary and is about to open. */
  started(id) {
    this.leave();
    this.id = id;
    this.keepAliveTimer = setInterval(() => this.keepAlive(), KEEP_ALIVE_MS);
  }

  /** Shows whether the conversation being opened is the temporary chat; leaves the temporary chat for another one. */
  show(id) {
    if (this.id !== null && id !== this.id) this.leave();
    const on = this.is(id);
    this.toggle.setAttribute("aria-pressed", String(on));
    this.notice.hidden = !on;
    document.body.classList.toggle("temporary", on);
  }

  /** Deletes the temporary chat, if one is open. */
  leave() {
    if (this.id === null) return;
    api.deleteOnLeaving(this.id);
    this.id = null;
    clearInterval(this.keepAliveTimer);
    this.keepAliveTimer = null;
    this.toggle.setAttribute("aria-pressed", "false");
    this.notice.hidden = true;
    document.body.classList.remove("temporary");
  }
}
