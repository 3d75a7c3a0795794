// The "Prompts" page (Open WebUI's and LibreChat's prompt library): the prompts the user keeps, each under a /command
// of their own, with a form that keeps a new one or changes one, and per prompt Edit and Delete. Typing / in the
// message box offers them (slash-prompts.js).

import * as api from "./api.js";

export class PromptsPage {
  /** `onChanged()` runs after a prompt is kept, changed or deleted (the message box's list learns it). */
  constructor({ section, button, showBanner, onChanged }) {
    Object.assign(this, { section, button, showBanner, onChanged });
    this.form = section.querySelector(".prompts-form");
    this.command = section.querySelector(".prompts-command");
    this.title = section.querySelector(".prompts-title");
    this.content = section.querySelector(".prompts-content");
    this.cancel = section.querySelector(".prompts-cancel");
    this.list = section.querySelector(".prompts-list");
    this.editing = null;
    button.addEventListener("click", () => this.setOpen(section.hidden));
    section.querySelector(".prompts-close").addEventListener("click", () => this.setOpen(false));
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.save().catch((error) => this.showBanner(error.message));
    });
    this.cancel.addEventListener("click", () => this.edit(null));
  }

  setOpen(open) {
    this.section.hidden = !open;
    this.button.setAttribute("aria-expanded", String(open));
    if (!open) this.edit(null);
    if (open) this.load().catch((error) => this.showBanner(error.message));
  }

  async load() {
    const { prompts } = await api.listPrompts();
    this.section.querySelector(".prompts-empty").hidden = prompts.length > 0;
    this.list.replaceChildren(...prompts.map((prompt) => this.row(prompt)));
  }

  row(prompt) {
    const item = document.createElement("li");
    item.dataset.id = prompt.id;
    const name = Object.assign(document.createElement("div"), { className: "prompts-name" });
    name.append(Object.assign(document.createElement("code"), { textContent: `/${prompt.command}` }), ` ${prompt.title}`);
    const text = Object.assign(document.createElement("div"), { className: "prompts-text", textContent: prompt.content });
    const edit = Object.assign(document.createElement("button"), { type: "button", className: "prompts-edit", textContent: "Edit" });
    edit.setAttribute("aria-label", `Edit /${prompt.command}`);
    edit.addEventListener("click", () => this.edit(prompt));
    const remove = Object.assign(document.createElement("button"), { type: "button", className: "prompts-delete", textContent: "Delete" });
    remove.setAttribute("aria-label", `Delete /${prompt.command}`);
    remove.addEventListener("click", () => this.remove(prompt).catch((error) => this.showBanner(error.message)));
    item.append(name, text, edit, remove);
    return item;
  }

  /** Fills the form with `prompt` to change it; `null` empties it for a new one. */
  edit(prompt) {
    this.editing = prompt;
    this.command.value = prompt?.command ?? "";
    this.title.value = prompt?.title ?? "";
    this.content.value = prompt?.content ?? "";
    this.cancel.hidden = !prompt;
    this.form.querySelector(".prompts-submit").textContent = prompt ? "Save changes" : "Keep prompt";
    if (prompt) this.command.focus();
  }

  async save() {
    const fields = { command: this.command.value, title: this.title.value, content: this.content.value };
    if (this.editing) await api.updatePrompt(this.editing.id, fields);
    else await api.createPrompt(fields);
    this.edit(null);
    await this.load();
    this.onChanged();
  }

  async remove(prompt) {
    if (!confirm(`Delete the prompt /${prompt.command} (“${prompt.title}”)?`)) return;
    await api.deletePrompt(prompt.id);
    if (this.editing?.id === prompt.id) this.edit(null);
    await this.load();
    this.onChanged();
  }
}
