// Memory, under Personalize (ChatGPT's saved memories, Open WebUI's Memory): what the user asked Sluice to remember
// across conversations — listed newest first, added, rewritten in place, forgotten one by one or all at once — and
// whether their conversations use it (`memory` in `/api/me/settings`). A message that begins "Remember that …" saves
// one too, and "Forget that …" forgets those it names; `memoryNote` shows that above the answer.

import * as api from "./api.js";

export class MemoryPanel {
  constructor({ box, status, showBanner }) {
    Object.assign(this, { box, status, showBanner });
    this.list = box.querySelector(".memory-list");
    this.empty = box.querySelector(".memory-empty");
    this.enabled = box.querySelector(".memory-enabled input");
    this.input = box.querySelector(".memory-new");
    this.deleteAllButton = box.querySelector(".memory-delete-all");
    this.enabled.addEventListener("change", () => this.saveEnabled());
    box.querySelector(".memory-add-button").addEventListener("click", () => this.add());
    // Enter in the box remembers it rather than submitting the Personalize form around it.
    this.input.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      event.preventDefault();
      this.add();
    });
    this.deleteAllButton.addEventListener("click", () => this.deleteAll());
  }

  async load() {
    try {
      const { enabled, memories } = await api.listMemories();
      this.enabled.checked = enabled;
      this.render(memories);
    } catch (error) {
      this.showBanner(`Your memories could not be loaded (${error.message}).`);
    }
  }

  render(memories) {
    this.list.replaceChildren(...memories.map((memory) => this.row(memory)));
    this.empty.hidden = memories.length > 0;
    this.deleteAllButton.hidden = memories.length === 0;
  }

  row(memory) {
    const item = document.createElement("li");
    item.dataset.id = memory.id;
    const text = document.createElement("span");
    text.className = "memory-text";
    text.textContent = memory.content;
    const edit = button("Edit", "memory-edit", `Edit the memory: ${memory.content}`, () => this.edit(item, memory));
    const remove = button("Delete", "memory-delete", `Forget: ${memory.content}`, () => this.remove(memory));
    item.append(text, edit, remove);
    return item;
  }

  /** Puts a field in place of the memory's text: Enter or Save keeps it, Escape puts the text back. */
  edit(item, memory) {
    const field = document.createElement("input");
    field.type = "text";
    field.maxLength = 1000;
    field.value = memory.content;
    field.setAttribute("aria-label", "The memory");
    const save = async () => {
      try {
        const changed = await api.updateMemory(memory.id, field.value);
        item.replaceWith(this.row(changed));
        this.status.textContent = "Saved: the memory is rewritten.";
      } catch (error) {
        this.showBanner(error.message);
      }
    };
    const cancel = () => item.replaceWith(this.row(memory));
    field.addEventListener("keydown", (event) => {
      if (event.key === "Enter") { event.preventDefault(); save(); }
      if (event.key === "Escape") { event.preventDefault(); event.stopPropagation(); cancel(); }
    });
    item.replaceChildren(field, button("Save", "memory-save", "Save the memory", save), button("Cancel", "memory-cancel", "Keep it as it was", cancel));
    field.focus();
  }

  async add() {
    const content = this.input.value.trim();
    if (!content) { this.input.focus(); return; }
    try {
      await api.createMemory(content);
      this.input.value = "";
      this.status.textContent = "Remembered: your conversations go with it from the next message on.";
      await this.load();
    } catch (error) {
      this.showBanner(error.message);
    }
  }

  async remove(memory) {
    try {
      await api.deleteMemory(memory.id);
      this.status.textContent = "Forgotten.";
      await this.load();
    } catch (error) {
      this.showBanner(error.message);
    }
  }

  async deleteAll() {
    if (!confirm("Forget everything Sluice remembers for you? This cannot be undone. (Your conversations and instructions stay.)")) return;
    try {
      const { deleted } = await api.deleteAllMemories();
      this.status.textContent = `Forgotten: ${deleted} ${deleted === 1 ? "memory" : "memories"}.`;
      await this.load();
    } catch (error) {
      this.showBanner(error.message);
    }
  }

  async saveEnabled() {
    const wanted = this.enabled.checked;
    try {
      const { memory: on } = await api.updateMySettings({ memory: wanted });
      this.enabled.checked = on;
      this.status.textContent = on
        ? "Saved: your conversations go with your memories."
        : "Saved: your conversations go without your memories, and messages save none; they are kept until you delete them.";
    } catch (error) {
      this.enabled.checked = !wanted;
      this.showBanner(error.message);
    }
  }
}

function button(label, className, description, action) {
  const element = document.createElement("button");
  element.type = "button";
  element.className = className;
  element.textContent = label;
  element.setAttribute("aria-label", description);
  element.addEventListener("click", action);
  return element;
}

const quoted = (text) => `“${text}”`;

/** What `meta.memory` says, in words: what a "Remember that …" or "Forget that …" question did. */
export function memoryNoteText(memory) {
  switch (memory.action) {
    case "saved": return `Memory updated: ${quoted(memory.content)}`;
    case "full": return `Memory full: ${quoted(memory.content)} was not remembered. Delete some memories to make room.`;
    case "forgotten": return `Memory updated: forgot ${(memory.forgotten ?? []).map(quoted).join(", ")}`;
    default: return `Nothing in your memory matched ${quoted(memory.content)}; nothing was forgotten.`;
  }
}

/** Asks the page to open Personalize at the memories (app.js listens). */
export const MANAGE_MEMORY_EVENT = "sluice:manage-memory";

/**
 * The line above an answer whose question saved or forgot a memory (`meta.memory`, the answer's `memory`); its button
 * opens Personalize, where memories are listed.
 */
export function memoryNote(memory) {
  const note = document.createElement("div");
  note.className = "memory-note";
  note.setAttribute("role", "note");
  note.append(`${memoryNoteText(memory)} `);
  const open = document.createElement("button");
  open.type = "button";
  open.className = "memory-manage";
  open.textContent = "Manage memories";
  open.addEventListener("click", () => document.dispatchEvent(new CustomEvent(MANAGE_MEMORY_EVENT)));
  note.append(open);
  return note;
}
