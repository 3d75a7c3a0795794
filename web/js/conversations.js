// The conversation list in the sidebar: open one, rename it in place, delete it (after asking).

import * as api from "./api.js";

export class ConversationList {
  /**
   * `onOpen(id)` opens a conversation; `onDeleted(id)` runs after one is deleted; `showBanner(text)` shows what went
   * wrong.
   */
  constructor({ list, onOpen, onDeleted, showBanner }) {
    Object.assign(this, { list, onOpen, onDeleted, showBanner });
    this.current = null;
    this.renaming = false;
  }

  /** Lists the user's conversations, most recently active first; resolves to them. */
  async refresh(current = this.current) {
    this.current = current;
    const conversations = await api.listConversations();
    // Not under a name being typed: the rename draws the list again when it ends.
    if (!this.renaming) this.list.replaceChildren(...conversations.map((conversation) => this.item(conversation)));
    return conversations;
  }

  item(conversation) {
    const item = document.createElement("li");
    item.dataset.id = conversation.id;
    const open = document.createElement("button");
    open.type = "button";
    open.className = "conversation-open";
    open.textContent = conversation.title;
    // A gateway call that named its end user (OpenAI's `user`): whom the conversation is for.
    if (conversation.end_user) {
      const endUser = document.createElement("span");
      endUser.className = "end-user";
      endUser.textContent = `for ${conversation.end_user}`;
      open.append(endUser);
    }
    open.setAttribute("aria-current", String(conversation.id === this.current));
    open.addEventListener("click", () => this.onOpen(conversation.id));
    const rename = this.action("conversation-rename", "✎", `Rename “${conversation.title}”`, () => this.rename(item, conversation));
    const remove = this.action("conversation-delete", "×", `Delete “${conversation.title}”`, () => this.remove(conversation));
    item.append(open, rename, remove);
    return item;
  }

  action(className, symbol, label, run) {
    const button = Object.assign(document.createElement("button"), { type: "button", className, textContent: symbol, title: label });
    button.setAttribute("aria-label", label);
    button.addEventListener("click", (event) => {
      event.stopPropagation();
      run();
    });
    return button;
  }

  /** Turns the title into a text field: Enter or leaving it saves, Escape keeps the old name. */
  rename(item, conversation) {
    const field = Object.assign(document.createElement("input"), { type: "text", value: conversation.title, className: "rename-field", maxLength: 200 });
    field.setAttribute("aria-label", "New name of the conversation");
    item.replaceChildren(field);
    field.focus();
    field.select();
    this.renaming = true;
    let done = false;
    const finish = async (save) => {
      if (done) return;
      done = true;
      this.renaming = false;
      const title = field.value.trim();
      if (save && title && title !== conversation.title) {
        try {
          await api.updateConversation(conversation.id, { title });
        } catch (error) {
          this.showBanner(error.message);
        }
      }
      await this.refresh().catch((error) => this.showBanner(error.message));
    };
    field.addEventListener("keydown", (event) => {
      if (event.key === "Enter") { event.preventDefault(); finish(true); }
      if (event.key === "Escape") { event.preventDefault(); event.stopPropagation(); finish(false); }
    });
    field.addEventListener("blur", () => finish(true));
  }

  async remove(conversation) {
    if (!confirm(`Delete “${conversation.title}” and all its messages? This cannot be undone.`)) return;
    try {
      await api.deleteConversation(conversation.id);
    } catch (error) {
      this.showBanner(error.message);
      return;
    }
    await this.onDeleted(conversation.id);
  }
}
