// The conversation's instructions (its system prompt) and its advanced settings (its sampling parameters, as Open
// WebUI's chat controls have them): shown, edited and saved from a small panel under the header.

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
    this.text = form.querySelector("#instructions-text");
    this.status = form.querySelector(".instructions-status");
    this.advanced = form.querySelector(".advanced-settings");
    this.saved = "";
    this.savedParameters = null;
    toggle.addEventListener("click", () => this.setOpen(form.hidden));
    bindInstructionsForm(form, {
      save: () => this.save(),
      revert: () => { this.text.value = this.saved; this.fill(this.savedParameters); },
      close: () => this.setOpen(false),
    });
  }

  /** Shows the open conversation's instructions and settings (none for a new one). */
  show(conversation) {
    this.saved = conversation?.system_prompt ?? "";
    this.savedParameters = conversation?.parameters ?? null;
    this.text.value = this.saved;
    this.fill(this.savedParameters);
    // Settings in force are shown open: they change every answer.
    this.advanced.open = Boolean(this.savedParameters);
    this.status.textContent = "";
    this.toggle.textContent = this.saved || this.savedParameters ? "Instructions (set)" : "Instructions";
  }

  /** Puts `parameters` (`{temperature, top_p, …}`, or null) in the advanced settings' fields. */
  fill(parameters) {
    for (const field of this.advanced.querySelectorAll("[name]")) {
      const value = parameters?.[field.name];
      field.value = value == null ? "" : field.name === "stop" ? value.join("\n") : String(value);
    }
  }

  /** The advanced settings' fields as `parameters`: the ones filled in, or null when none is. */
  parameters() {
    const parameters = {};
    for (const field of this.advanced.querySelectorAll("[name]")) {
      if (field.name === "stop") {
        const stop = field.value.split("\n").filter((line) => line !== "");
        if (stop.length) parameters.stop = stop;
      } else if (field.value.trim() !== "") {
        parameters[field.name] = Number(field.value);
      }
    }
    return Object.keys(parameters).length ? parameters : null;
  }

  setOpen(open) {
    this.form.hidden = !open;
    this.toggle.setAttribute("aria-expanded", String(open));
    if (open) this.text.focus();
  }

  async save() {
    // Read first: making a conversation opens it, which shows its (empty) instructions.
    const systemPrompt = this.text.value;
    const parameters = this.parameters();
    try {
      const id = await this.conversationId();
      const updated = await api.updateConversation(id, { system_prompt: systemPrompt, parameters });
      this.show(updated);
      const kept = [updated.system_prompt && "these instructions", updated.parameters && "these settings"].filter(Boolean);
      this.status.textContent = kept.length
        ? `Saved: the model gets ${kept.join(" and ")} with every message from now on.`
        : "Removed: the model gets no instructions.";
    } catch (error) {
      this.showBanner(error.message);
    }
  }
}
