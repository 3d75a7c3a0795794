// The context panel: which messages the model sees in full, which the running summary stands for, which are
// excluded, with exclude / include / pin per message and "Summarise now" (GET /api/conversations/{id}/context).

import * as api from "./api.js";

const STATE_LABELS = {
  in_context: "in context",
  summarised: "summarised",
  excluded: "excluded",
  out_of_window: "out of window",
  not_sent: "not sent",
};

export class ContextPanel {
  constructor({ panel, toggle, showBanner }) {
    Object.assign(this, { panel, toggle, showBanner, conversationId: null });
    this.list = panel.querySelector(".context-list");
    this.summary = panel.querySelector(".context-summary");
    this.totals = panel.querySelector(".context-totals");
    toggle.addEventListener("click", () => this.setOpen(panel.hidden));
    panel.querySelector(".context-close").addEventListener("click", () => this.setOpen(false));
    panel.querySelector(".context-summarize").addEventListener("click", () => this.summarize());
    this.list.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-action]");
      if (button) this.change(button.dataset.id, button.dataset.action);
    });
  }

  setOpen(open) {
    this.panel.hidden = !open;
    this.toggle.setAttribute("aria-expanded", String(open));
    if (open) this.refresh().catch((error) => this.showBanner(error.message));
  }

  /** Shows `conversationId`'s context when the panel is open. */
  async show(conversationId) {
    this.conversationId = conversationId;
    this.toggle.hidden = !conversationId;
    if (!this.panel.hidden) await this.refresh();
  }

  async refresh() {
    if (!this.conversationId) return;
    this.render(await api.getContext(this.conversationId));
  }

  async change(messageId, action) {
    try {
      await api.setContextMode(messageId, action);
      await this.refresh();
    } catch (error) {
      this.showBanner(error.message);
    }
  }

  /** Summarises all but the last `keep` messages of conversation `id` (the budget limit's "Summarise this
   * conversation"), then shows what the model sees. */
  async summarizeOlder(id, keep) {
    this.showBanner("Summarising the older messages…");
    await api.summarizeContext(id, keep);
    this.showBanner("");
    await this.show(id);
  }

  async summarize() {
    const button = this.panel.querySelector(".context-summarize");
    button.disabled = true;
    button.textContent = "Summarising…";
    try {
      this.render(await api.summarizeContext(this.conversationId));
    } catch (error) {
      this.showBanner(error.message);
    } finally {
      button.disabled = false;
      button.textContent = "Summarise now";
    }
  }

  render(view) {
    const { totals } = view;
    const tokens = view.input_tokens == null ? "" : ` · ${view.input_tokens} of ${view.input_budget} input tokens`;
    this.totals.textContent = `${totals.in_context} in context · ${totals.summarised} summarised · ${totals.excluded} excluded`
      + (totals.out_of_window ? ` · ${totals.out_of_window} out of window` : "") + tokens;
    if (view.summary) {
      const heading = document.createElement("strong");
      heading.textContent = `Summary of ${view.summary.messages} messages${view.summary.included ? "" : " (too large to send)"}: `;
      const text = document.createElement("span");
      text.textContent = view.summary.text;  // model output: text only, never HTML
      this.summary.replaceChildren(heading, text);
    } else {
      this.summary.textContent = "No summary yet: older messages are summarised when they no longer fit.";
    }
    this.list.replaceChildren(...view.messages.map((message) => this.row(message)));
  }

  row(message) {
    const item = document.createElement("li");
    item.className = `context-item ${message.state}`;
    item.dataset.id = message.id;
    const state = document.createElement("span");
    state.className = "context-state";
    state.textContent = STATE_LABELS[message.state] ?? message.state;
    const text = document.createElement("span");
    text.className = "context-preview";
    text.textContent = `${message.role === "user" ? "You" : "Assistant"}: ${message.preview}`;
    const tokens = document.createElement("span");
    tokens.className = "context-tokens";
    tokens.textContent = message.tokens == null ? "" : `${message.tokens} tokens`;
    item.append(state, text, tokens);
    if (message.state !== "not_sent") {
      const actions = message.mode === "excluded" ? [["include", "Include"]]
        : message.mode === "pinned" ? [["include", "Unpin"], ["exclude", "Exclude"]]
          : [["pin", "Pin"], ["exclude", "Exclude"]];
      for (const [action, label] of actions) {
        const button = Object.assign(document.createElement("button"), { type: "button", textContent: label });
        button.dataset.action = action;
        button.dataset.id = message.id;
        button.setAttribute("aria-label", `${label}: ${message.preview.slice(0, 40)}`);
        item.append(button);
      }
    }
    return item;
  }
}
