// Saved prompts in the message box: typing / (and the start of a command) lists the user's prompts whose command or
// title match; ↑ ↓ choose, Enter or Tab (or a click) puts the prompt's text in the box with its first {{placeholder}}
// selected to type over, Escape closes the list. A listbox the box controls, as a combobox's. As in Open WebUI,
// {{CURRENT_DATE}}, {{CURRENT_TIME}} and {{CURRENT_WEEKDAY}} are filled in with this browser's date and time.

import * as api from "./api.js";

export class SlashPrompts {
  constructor({ input, menu }) {
    Object.assign(this, { input, menu });
    this.prompts = null;
    this.matches = [];
    this.active = 0;
    input.setAttribute("aria-controls", menu.id);
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.addEventListener("input", () => this.update().catch(() => this.close()));
    input.addEventListener("blur", () => this.close());
    // Before the box's own Enter (which sends): while the list is open these keys are the list's.
    input.addEventListener("keydown", (event) => this.key(event), true);
  }

  /** Forgets the prompts: the next / fetches them again (after the Prompts page changed them). */
  reload() { this.prompts = null; }

  async update() {
    const typed = /^\/([\w-]*)$/.exec(this.input.value)?.[1];
    if (typed === undefined) { this.close(); return; }
    this.prompts ??= (await api.listPrompts()).prompts;
    const query = typed.toLowerCase();
    this.matches = this.prompts.filter((prompt) => prompt.command.startsWith(query) || prompt.title.toLowerCase().includes(query)).slice(0, 8);
    if (this.matches.length === 0 || /^\/([\w-]*)$/.exec(this.input.value)?.[1] !== typed) { this.close(); return; }
    this.active = Math.min(this.active, this.matches.length - 1);
    this.draw();
  }

  draw() {
    this.menu.replaceChildren(...this.matches.map((prompt, index) => {
      const option = document.createElement("li");
      option.id = `slash-option-${index}`;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", String(index === this.active));
      option.append(Object.assign(document.createElement("code"), { textContent: `/${prompt.command}` }), ` ${prompt.title}`);
      // A press keeps the focus in the box (whose blur would close the list before the click).
      option.addEventListener("mousedown", (event) => event.preventDefault());
      option.addEventListener("click", () => this.apply(prompt));
      return option;
    }));
    this.menu.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
    this.input.setAttribute("aria-activedescendant", `slash-option-${this.active}`);
  }

  close() {
    if (this.menu.hidden) return;
    this.menu.hidden = true;
    this.active = 0;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
  }

  key(event) {
    if (this.menu.hidden || event.isComposing) return;
    const moves = { ArrowDown: 1, ArrowUp: -1 };
    if (event.key in moves) {
      this.active = (this.active + moves[event.key] + this.matches.length) % this.matches.length;
      this.draw();
    } else if ((event.key === "Enter" && !event.shiftKey) || event.key === "Tab") {
      this.apply(this.matches[this.active]);
    } else if (event.key === "Escape") {
      this.close();
    } else {
      return;
    }
    event.preventDefault();
    event.stopImmediatePropagation();
  }

  /** Puts the prompt's text in the box, its first {{placeholder}} selected (else the caret at its end). */
  apply(prompt) {
    this.close();
    const text = fillVariables(prompt.content, new Date());
    this.input.value = text;
    this.input.dispatchEvent(new Event("input", { bubbles: true }));
    this.input.focus();
    const placeholder = /\{\{[^{}]*\}\}/.exec(text);
    if (placeholder) this.input.setSelectionRange(placeholder.index, placeholder.index + placeholder[0].length);
    else this.input.setSelectionRange(text.length, text.length);
  }
}

/** `text` with Open WebUI's date variables filled in for `now`, in this browser's language. */
export function fillVariables(text, now) {
  const values = {
    CURRENT_DATE: now.toLocaleDateString(),
    CURRENT_TIME: now.toLocaleTimeString(),
    CURRENT_WEEKDAY: now.toLocaleDateString(undefined, { weekday: "long" }),
  };
  return text.replace(/\{\{(CURRENT_DATE|CURRENT_TIME|CURRENT_WEEKDAY)\}\}/g, (_, name) => values[name]);
}
