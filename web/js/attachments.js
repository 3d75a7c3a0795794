// The files waiting to go with the next message: the 📎 button (or a drop on the composer) reads text files in
// the browser, shows each as a chip with its size and a × to take it back, and hands them to the send.

import { fileSize } from "./messages.js";

/** As the server allows: ten files, 400 000 characters together (docs/api.md, "Text files"). */
const MAX_FILES = 10;
const MAX_CHARACTERS = 400_000;

export class AttachmentTray {
  /** `onChange()` runs whenever the files change (to estimate the message again). */
  constructor({ list, button, fileInput, dropTarget, showBanner, onChange }) {
    this.onChange = onChange;
    this.list = list;
    this.showBanner = showBanner;
    this.files = [];
    button.addEventListener("click", () => fileInput.click());
    fileInput.addEventListener("change", () => {
      this.add([...fileInput.files]).finally(() => { fileInput.value = ""; });
    });
    dropTarget.addEventListener("dragover", (event) => {
      if (event.dataTransfer?.types.includes("Files")) event.preventDefault();
    });
    dropTarget.addEventListener("drop", (event) => {
      if (!event.dataTransfer?.files.length) return;
      event.preventDefault();
      this.add([...event.dataTransfer.files]);
    });
  }

  /** Reads `files` as text; a file that is not text, or one too many, is refused with a sentence saying why. */
  async add(files) {
    for (const file of files) {
      if (this.accept(file.name, await file.text()) === "full") break;
    }
    this.render();
  }

  /** Adds text as a file named `name` (a long paste); false when it cannot be added (the banner says why). */
  addText(name, text) {
    const outcome = this.accept(name, text);
    this.render();
    return outcome === "added";
  }

  /** A paste's file name not yet taken: pasted-1.txt, pasted-2.txt, … */
  nextPasteName() {
    let number = 1;
    while (this.files.some((file) => file.name === `pasted-${number}.txt`)) number += 1;
    return `pasted-${number}.txt`;
  }

  /** "added", "refused" (not text, or too much text: the banner says which) or "full" (no room for another file). */
  accept(name, text) {
    if (this.files.length >= MAX_FILES) {
      this.showBanner(`A message can carry ${MAX_FILES} files at most; ${name} was not added.`);
      return "full";
    }
    if (text.includes("\u0000")) {
      this.showBanner(`${name} is not a text file. Attach text files only: notes, code, logs, CSV, JSON.`);
      return "refused";
    }
    const total = this.files.reduce((sum, each) => sum + each.text.length, 0) + text.length;
    if (total > MAX_CHARACTERS) {
      this.showBanner(`${name} would bring the files to ${total.toLocaleString()} characters; the most is ${MAX_CHARACTERS.toLocaleString()}.`);
      return "refused";
    }
    this.files.push({ name, text });
    return "added";
  }

  /** The files for the message being sent; the tray is emptied (`restore` puts them back after a refusal). */
  take() {
    const files = this.files;
    this.files = [];
    this.render();
    return files;
  }

  restore(files) {
    this.files = files;
    this.render();
  }

  render() {
    this.list.replaceChildren(...this.files.map((file, index) => {
      const item = document.createElement("li");
      item.textContent = `📎 ${file.name} · ${fileSize(file.text)}`;
      const remove = Object.assign(document.createElement("button"), { type: "button", textContent: "×" });
      remove.setAttribute("aria-label", `Remove ${file.name}`);
      remove.addEventListener("click", () => {
        this.files.splice(index, 1);
        this.render();
      });
      item.append(remove);
      return item;
    }));
    this.list.hidden = this.files.length === 0;
    this.onChange?.();
  }
}
