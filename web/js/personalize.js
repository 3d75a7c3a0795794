// The user's instructions for all their conversations (ChatGPT's custom instructions): who they are and how they like
// answers, sent before each conversation's own instructions. Read when the panel opens, saved with PUT.

import * as api from "./api.js";
import { bindInstructionsForm } from "./instructions.js";

export class PersonalInstructions {
  constructor({ button, form, showBanner }) {
    Object.assign(this, { button, form, showBanner });
    this.text = form.querySelector("textarea");
    this.status = form.querySelector(".instructions-status");
    this.saved = "";
    button.addEventListener("click", () => this.setOpen(form.hidden));
    bindInstructionsForm(form, {
      save: () => this.save(), revert: () => { this.text.value = this.saved; }, close: () => this.setOpen(false),
    });
  }

  async setOpen(open) {
    this.form.hidden = !open;
    this.button.setAttribute("aria-expanded", String(open));
    if (!open) return;
    this.status.textContent = "";
    try {
      this.show((await api.getMyInstructions()).instructions);
    } catch (error) {
      this.showBanner(`Your instructions could not be loaded (${error.message}).`);
    }
    this.text.focus();
  }

  show(instructions) {
    this.saved = instructions ?? "";
    this.text.value = this.saved;
    this.button.textContent = this.saved ? "Personalize (set)" : "Personalize";
  }

  async save() {
    try {
      const { instructions } = await api.setMyInstructions(this.text.value);
      this.show(instructions);
      this.status.textContent = instructions
        ? "Saved: every conversation's messages go with these from now on, before its own instructions."
        : "Removed: your conversations go without them.";
    } catch (error) {
      this.showBanner(error.message);
    }
  }
}
