// The user's instructions for all their conversations (ChatGPT's custom instructions): who they are and how they like
// answers, sent before each conversation's own instructions. Read when the panel opens, saved with PUT. Beside them,
// the user's settings (`/api/me/settings`): whether the model names conversations by itself after their first answer,
// saved as soon as the box is ticked or cleared; and the user's memories (`memory-panel.js`).

import * as api from "./api.js";
import { bindInstructionsForm } from "./instructions.js";
import { MemoryPanel } from "./memory-panel.js";

export class PersonalInstructions {
  constructor({ button, form, showBanner }) {
    Object.assign(this, { button, form, showBanner });
    this.text = form.querySelector("textarea");
    this.status = form.querySelector(".instructions-status");
    this.saved = "";
    this.autoTitles = form.querySelector(".auto-titles input");
    this.autoTitles.addEventListener("change", () => this.saveAutoTitles());
    this.memory = new MemoryPanel({ box: form.querySelector(".memory-box"), status: this.status, showBanner });
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
      const [mine, settings] = await Promise.all([api.getMyInstructions(), api.getMySettings()]);
      this.show(mine.instructions);
      this.autoTitles.checked = settings.auto_titles;
    } catch (error) {
      this.showBanner(`Your instructions could not be loaded (${error.message}).`);
    }
    await this.memory.load();
    this.text.focus();
  }

  /** Opens the panel at its memories (an answer's "Manage memories"). */
  async openMemory() {
    await this.setOpen(true);
    this.memory.box.scrollIntoView({ block: "nearest" });
    this.memory.input.focus();
  }

  show(instructions) {
    this.saved = instructions ?? "";
    this.text.value = this.saved;
    this.button.textContent = this.saved ? "Personalize (set)" : "Personalize";
  }

  /** Offers the automatic-titles box only when the server has a model that writes titles. */
  set titlesAvailable(available) {
    this.form.querySelector(".auto-titles").hidden = !available;
  }

  async saveAutoTitles() {
    const wanted = this.autoTitles.checked;
    try {
      const { auto_titles: on } = await api.updateMySettings({ auto_titles: wanted });
      this.autoTitles.checked = on;
      this.status.textContent = on
        ? "Saved: new conversations are named by the model after their first answer."
        : "Saved: conversations keep their first line as their name; Rename (in a conversation's ⋯ menu) still offers the model's title.";
    } catch (error) {
      this.autoTitles.checked = !wanted;
      this.showBanner(error.message);
    }
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
