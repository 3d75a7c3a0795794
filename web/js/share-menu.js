// The header's Share menu (ChatGPT's, Open WebUI's): makes a link anyone can read — a copy of the conversation as it
// is now — shows it to copy, updates its copy, or stops sharing. Not offered for a temporary chat.

import * as api from "./api.js";
import { copyText } from "./markdown.js";

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export class ShareMenu {
  /** `menu`: the <details> whose panel this fills; `showBanner(text)` shows what went wrong. */
  constructor({ menu, showBanner }) {
    Object.assign(this, { menu, showBanner });
    this.panel = menu.querySelector(".share-panel");
    this.conversation = null;
    menu.addEventListener("toggle", () => { if (menu.open) this.draw(); });
  }

  /** The open conversation (`null`: none): its link, if it is shared. */
  show(conversation) {
    this.conversation = conversation;
    this.menu.hidden = !conversation || Boolean(conversation.temporary);
    this.menu.open = false;
    this.menu.querySelector("summary").textContent = conversation?.shared ? "Shared" : "Share";
  }

  draw() {
    const shared = this.conversation?.shared;
    const note = document.createElement("p");
    note.className = "share-note";
    if (!shared) {
      note.textContent = "Make a link that anyone who has it can read without signing in: this conversation as it is now, without its instructions, thinking or files.";
      this.panel.replaceChildren(note, this.button("share-create", "Create link", () => this.share()));
      return;
    }
    note.textContent = `Anyone with the link can read the copy made ${dateFormat.format(new Date(shared.shared_at))}. `
      + "Messages sent later are not in it until you update it.";
    const link = Object.assign(document.createElement("input"), {
      type: "text", readOnly: true, className: "share-link", value: new URL(shared.url, location.origin).href,
    });
    link.setAttribute("aria-label", "The shared link");
    link.addEventListener("focus", () => link.select());
    const copy = this.button("share-copy", "Copy link", () => copyText(link.value, copy));
    this.panel.replaceChildren(
      note, link, copy, this.button("share-update", "Update link", () => this.share()),
      this.button("share-stop", "Stop sharing", () => this.stop()));
  }

  button(className, label, run) {
    const button = Object.assign(document.createElement("button"), { type: "button", className, textContent: label });
    button.addEventListener("click", run);
    return button;
  }

  async share() {
    const conversation = this.conversation;
    try {
      const link = await api.shareConversation(conversation.id);
      conversation.shared = { url: link.url, shared_at: link.shared_at };
    } catch (error) {
      this.showBanner(error.message);
      return;
    }
    if (this.conversation !== conversation) return;
    this.show(conversation);
    this.menu.open = true;
    this.draw();
  }

  async stop() {
    const conversation = this.conversation;
    try {
      await api.unshareConversation(conversation.id);
    } catch (error) {
      if (error.code !== "not_shared") { this.showBanner(error.message); return; }
    }
    delete conversation.shared;
    if (this.conversation !== conversation) return;
    this.show(conversation);
    this.menu.open = true;
    this.draw();
  }
}
