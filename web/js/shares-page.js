// The "Shared links" page (ChatGPT's Settings → Shared links): every conversation the user shared, under its name now,
// with when its copy was made, the link to open or copy, and Stop sharing.

import * as api from "./api.js";
import { copyText } from "./markdown.js";

export class SharesPage {
  /** `onChanged(conversationId)` runs after a link is stopped (the open conversation's Share menu says so again). */
  constructor({ section, button, showBanner, onChanged }) {
    Object.assign(this, { section, button, showBanner, onChanged });
    this.list = section.querySelector(".shares-list");
    this.empty = section.querySelector(".shares-empty");
    button.addEventListener("click", () => this.setOpen(section.hidden));
    section.querySelector(".shares-close").addEventListener("click", () => this.setOpen(false));
  }

  setOpen(open) {
    this.section.hidden = !open;
    this.button.setAttribute("aria-expanded", String(open));
    if (open) this.load().catch((error) => this.showBanner(error.message));
  }

  async load() {
    const { shares } = await api.listShares();
    this.empty.hidden = shares.length > 0;
    this.list.replaceChildren(...shares.map((share) => this.row(share)));
  }

  row(share) {
    const item = document.createElement("li");
    item.dataset.conversationId = share.conversation_id;
    const url = new URL(share.url, location.origin).href;
    const link = Object.assign(document.createElement("a"), {
      href: url, target: "_blank", rel: "noopener noreferrer", textContent: share.title, className: "shares-title" });
    const when = Object.assign(document.createElement("span"), {
      className: "shares-when", textContent: `shared ${new Date(share.shared_at).toLocaleString()}` });
    const copy = Object.assign(document.createElement("button"), { type: "button", className: "shares-copy", textContent: "Copy link" });
    copy.addEventListener("click", () => copyText(url, copy));
    const stop = Object.assign(document.createElement("button"), { type: "button", className: "shares-stop", textContent: "Stop sharing" });
    stop.addEventListener("click", async () => {
      try {
        await api.unshareConversation(share.conversation_id);
      } catch (error) {
        if (error.code !== "not_shared") { this.showBanner(error.message); return; }
      }
      await this.load().catch((error) => this.showBanner(error.message));
      this.onChanged?.(share.conversation_id);
    });
    item.append(link, " ", when, " ", copy, " ", stop);
    return item;
  }
}
