// Saved prompts in the message box: typing / (and the start of a command) lists the user's prompts whose command or
// title match; ↑ ↓ choose, Enter or Tab (or a click) puts the prompt's text in the box with its first {{placeholder}}
// selected to type over — Tab then goes on to the next — and Escape closes the list. A listbox the box controls, as a
// combobox's. As in Open WebUI, the variables (`VARIABLES`) are filled in: the date and time from this browser, the
// user's name, the browser's language, and {{CLIPBOARD}} with the clipboard's text (left to type over when the
// browser does not give it).

import * as api from "./api.js";

/** The variables a prompt may use, as Open WebUI names them ({{USER_LOCATION}} is not offered: it would ask the browser
 * for the user's position). */
export const VARIABLES = [
  "CLIPBOARD", "CURRENT_DATE", "CURRENT_DATETIME", "CURRENT_TIME", "CURRENT_TIMEZONE", "CURRENT_WEEKDAY", "USER_LANGUAGE",
  "USER_NAME",
];

export class SlashPrompts {
  /** `user()`: the signed-in user (`GET /api/me`), or null before it is known; `showBanner(text)` says what could not
   * be filled in. */
  constructor({ input, menu, user = () => null, showBanner = () => {} }) {
    Object.assign(this, { input, menu, user, showBanner });
    // Whether the box holds a prompt just put there, whose placeholders Tab steps through.
    this.filling = false;
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
    if (event.isComposing) return;
    if (this.menu.hidden) {
      if (event.key === "Tab" && !event.shiftKey && this.filling && this.selectPlaceholder(this.input.selectionEnd)) event.preventDefault();
      return;
    }
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
  async apply(prompt) {
    this.close();
    const clipboard = prompt.content.includes("{{CLIPBOARD}}") ? await readClipboard() : null;
    if (prompt.content.includes("{{CLIPBOARD}}") && clipboard == null) {
      this.showBanner("The browser did not let Sluice read the clipboard: paste over {{CLIPBOARD}} in the message box.");
    }
    const text = fillVariables(prompt.content, new Date(), { userName: this.user()?.name, clipboard });
    this.input.value = text;
    this.input.dispatchEvent(new Event("input", { bubbles: true }));
    this.input.focus();
    this.filling = true;
    if (!this.selectPlaceholder(0)) this.input.setSelectionRange(text.length, text.length);
  }

  /** Selects the first {{placeholder}} from `start` on; false (and done filling) when there is none left. */
  selectPlaceholder(start) {
    const pattern = /\{\{[^{}]*\}\}/g;
    pattern.lastIndex = start;
    const placeholder = pattern.exec(this.input.value);
    if (!placeholder) { this.filling = false; return false; }
    this.input.setSelectionRange(placeholder.index, placeholder.index + placeholder[0].length);
    return true;
  }
}

/** The clipboard's text, or null when the browser does not give it (no permission, or no secure context). */
async function readClipboard() {
  try {
    return await navigator.clipboard.readText();
  } catch {
    return null;
  }
}

/** `text` with Open WebUI's variables filled in for `now`, in this browser's language and time zone; the user's name
 * and the clipboard's text when known (a variable without a value stays, to type over). */
export function fillVariables(text, now, { userName = null, clipboard = null } = {}) {
  const values = {
    CLIPBOARD: clipboard,
    CURRENT_DATE: now.toLocaleDateString(),
    CURRENT_DATETIME: now.toLocaleString(),
    CURRENT_TIME: now.toLocaleTimeString(),
    CURRENT_TIMEZONE: Intl.DateTimeFormat().resolvedOptions().timeZone,
    CURRENT_WEEKDAY: now.toLocaleDateString(undefined, { weekday: "long" }),
    USER_LANGUAGE: navigator.language,
    USER_NAME: userName,
  };
  return text.replace(/\{\{([A-Z_]+)\}\}/g, (whole, name) => (Object.hasOwn(values, name) ? values[name] : null) ?? whole);
}
