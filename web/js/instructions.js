// The conversation's instructions (its system prompt): shown, edited and saved from a small panel under the header.

import * as api from "./api.js";

/** Wires an instructions form: Save submits (`save()`), Cancel puts back what was saved (`revert()`) and closes,
 * Escape closes (`close()`). Shared by the conversation's instructions and the user's for all conversations. */
export function bindInstructionsForm(form, { save, revert, close }) {
  form.querySelector(".instructions-cancel").addEventListener("click", () => {
    revert();
    close();
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    save();
  });
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") { event.stopPropagation(); close(); }
  });
}

export class InstructionsPanel {
  /** `conversationId()` gives the open conversation's id, making one first when none is open. */
  constructor({ toggle, form, showBanner, conversationId }) {
    Object.assign(this, { toggle, form, showBanner, conversationId });
    this.text = form.querySelector("textarea");
    this.status = form.querySelector(".instructions-status");
    this.saved = "";
    toggle.addEventListener("click", () => this.setOpen(form.hidden));
    bindInstructionsForm(form, {
      save: () => this.save(), revert: () => { this.text.value = this.saved; }, close: () => this.setOpen(false),
    });
  }

  /** Shows the open conversation's instructions (none for a new one). */
  show(conversation) {
    this.saved = conversation?.system_prompt ?? "";
    this.text.value = this.saved;
    this.status.textContent = "";
    this.toggle.textContent = this.saved ? "Instructions (set)" : "Instructions";
  }

  setOpen(open) {
    this.form.hidden = !open;
    this.toggle.setAttribute("aria-expanded", String(open));
    if (open) this.text.focus();
  }

  async save() {
    // Read first: making a conversation opens it, which shows its (empty) instructions.
    const systemPrompt = this.text.value;
    try {
      const id = await this.conversationId();
      const updated = await api.updateConversation(id, { system_prompt: systemPrompt });
      this.show(updated);
      this.status.textContent = updated.system_prompt
        ? "Saved: the model gets these instructions with every message from now on."
        : "Removed: the model gets no instructions.";
    } catch (error) {
      this.showBanner(error.message);
    }
  }
}
