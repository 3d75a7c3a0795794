// The "Prompts" page (Open WebUI's and LibreChat's prompt library): the prompts the user keeps, each under a /command
// of their own, with a form that keeps a new one or changes one, and per prompt Edit and Delete. Typing / in the
// message box offers them (slash-prompts.js). Export saves them all as a JSON file and Import reads one back — the
// same shape as Open WebUI's prompt export (`[{command: "/…", title, content}]`), so prompts move between the two, to
// another account or another Sluice.

import * as api from "./api.js";
import { download } from "./export.js";

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
    section.querySelector(".prompts-export").addEventListener("click", () => this.exportAll().catch((error) => this.showBanner(error.message)));
    const file = section.querySelector(".prompts-import-file");
    section.querySelector(".prompts-import").addEventListener("click", () => file.click());
    file.addEventListener("change", () => {
      const [chosen] = file.files;
      file.value = "";
      if (chosen) this.importFile(chosen).catch((error) => this.showBanner(error.message));
    });
  }

  /** Downloads every prompt as `sluice-prompts-<date>.json`. */
  async exportAll() {
    const { prompts } = await api.listPrompts();
    const kept = prompts.map((prompt) => ({ command: `/${prompt.command}`, title: prompt.title, content: prompt.content }));
    download(`sluice-prompts-${new Date().toISOString().slice(0, 10)}.json`, "application/json", JSON.stringify(kept, null, 2));
    this.showBanner(`${kept.length} prompt${kept.length === 1 ? "" : "s"} exported.`);
  }

  /**
   * Keeps each prompt of a JSON file (a list of `{command, title, content}`, as Export and Open WebUI write it, or
   * `{prompts: [...]}` as the API lists them), one by one: a command the user has already is left as it is, and one
   * the server refuses (a blank title, a command with other characters) is named with its reason.
   */
  async importFile(file) {
    let items = null;
    try {
      const parsed = JSON.parse(await file.text());
      items = Array.isArray(parsed) ? parsed : parsed?.prompts;
    } catch {
      items = null;
    }
    if (!Array.isArray(items) || items.length === 0) {
      this.showBanner(`${file.name} holds no prompts: Import reads a JSON list of prompts, each with a command, a title and a text (as Export writes it, or Open WebUI's prompt export).`);
      return;
    }
    let kept = 0;
    const taken = [], refused = [];
    for (const item of items) {
      const fields = { command: String(item?.command ?? ""), title: String(item?.title ?? ""), content: String(item?.content ?? "") };
      const name = `/${fields.command.trim().replace(/^\//, "")}`;
      try {
        await api.createPrompt(fields);
        kept += 1;
      } catch (error) {
        if (error.code === "command_taken") taken.push(name);
        else if (error.status === 400) refused.push(`${name} (${error.message})`);
        else throw error;
      }
    }
    await this.load();
    if (kept) this.onChanged();
    const parts = [`${kept} prompt${kept === 1 ? "" : "s"} imported.`];
    if (taken.length) parts.push(`Kept as you had ${taken.length === 1 ? "it" : "them"}: ${taken.join(", ")} (you have a prompt with that command already).`);
    if (refused.length) parts.push(`Not imported: ${refused.join("; ")}.`);
    this.showBanner(parts.join(" "));
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
