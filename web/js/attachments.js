// The files waiting to go with the next message: the paperclip button (or a drop on the composer, or a paste of a picture)
// reads text files and images in the browser, shows each as a chip with its size (an image with its thumbnail) and a
// × to take it back, and hands them to the send. Images go to the model as data URLs, for a model that sees images.

import { fileSize, byteSize, isImageDataURL } from "./messages.js";
import { icon, withIcon } from "./icons.js";

/** As the server allows: ten files, 400 000 characters together (docs/api.md, "Text files"). */
const MAX_FILES = 10;
const MAX_CHARACTERS = 400_000;
/** As the server allows: ten images, each PNG, JPEG, GIF or WebP of at most 20 MB (docs/api.md, "Images"). */
const MAX_IMAGES = 10;
const MAX_IMAGE_BYTES = 20 * 1024 * 1024;
const IMAGE_TYPES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp"]);

export class AttachmentTray {
  /** `onChange()` runs whenever the files change (to estimate the message again). */
  /** `seesImages()`: whether the picked model sees images (false: an added image comes with a warning). */
  constructor({ list, button, fileInput, dropTarget, showBanner, onChange, seesImages = () => null }) {
    this.onChange = onChange;
    this.seesImages = seesImages;
    this.list = list;
    this.showBanner = showBanner;
    this.files = [];
    /** `{name, url, size}`: `url` a data URL the browser read from the user's own file. */
    this.images = [];
    button.replaceChildren(icon("paperclip"));
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

  /** Reads `files` — images as data URLs, the rest as text; a file that is neither, or one too many, is refused with a
   * sentence saying why. */
  async add(files) {
    for (const file of files) {
      if (file.type.startsWith("image/")) {
        this.acceptImage(file.name, file.type, file.size, () => readAsDataURL(file));
        continue;
      }
      if (this.accept(file.name, await file.text()) === "full") break;
    }
    // An image the browser could not read is dropped, with a sentence.
    const unread = (await Promise.allSettled(this.images.map((image) => image.ready)))
      .map((outcome, index) => (outcome.status === "rejected" ? this.images[index] : null)).filter(Boolean);
    if (unread.length) {
      this.images = this.images.filter((image) => !unread.includes(image));
      this.showBanner(`${unread.map((image) => image.name).join(", ")} could not be read; attach ${unread.length > 1 ? "them" : "it"} again.`);
    }
    this.render();
  }

  /** An image, unless it is not one a model takes or there is no room (the banner says why); its data URL is read
   * by `read()`. */
  acceptImage(name, type, size, read) {
    if (!IMAGE_TYPES.has(type)) {
      this.showBanner(`${name} is a ${type.replace("image/", "").toUpperCase()} image; attach PNG, JPEG, GIF or WebP images.`);
      return false;
    }
    if (size > MAX_IMAGE_BYTES) {
      this.showBanner(`${name} is over 20 MB; attach a smaller image.`);
      return false;
    }
    if (this.images.length >= MAX_IMAGES) {
      this.showBanner(`A message can show ${MAX_IMAGES} images at most; ${name} was not added.`);
      return false;
    }
    if (this.seesImages() === false) {
      this.showBanner(`The model picked does not see images: pick one that does before sending ${name}.`);
    }
    const image = { name, size, url: "" };
    image.ready = read().then((url) => { image.url = url; });
    this.images.push(image);
    return true;
  }

  /**
   * Pastes into `input` that belong here: a picture (a screenshot) goes with the message as an image, and text longer
   * than a message may be (`maxCharacters()`) becomes a file of the message, as ChatGPT does with a long paste: the
   * words keep their limit, and the text still goes to the model.
   */
  takePastes(input, maxCharacters) {
    input.addEventListener("paste", (event) => {
      // (The files are taken now: the clipboard's data is gone once the event is over.)
      const pictures = [...(event.clipboardData?.files ?? [])].filter((file) => file.type.startsWith("image/"));
      if (pictures.length) {
        event.preventDefault();
        this.addPasted(pictures);
        return;
      }
      const text = event.clipboardData?.getData("text/plain") ?? "";
      const limit = maxCharacters();
      if (!limit || text.length <= limit) return;
      event.preventDefault();
      const name = this.nextPasteName();
      if (this.addText(name, text)) {
        this.showBanner(`The pasted text has ${text.length.toLocaleString()} characters, more than a message may (${limit.toLocaleString()}): it is attached as ${name}.`);
      }
    });
  }

  /** Images pasted into the composer (a screenshot), named when the clipboard gave them no name. */
  addPasted(pictures) {
    return this.add(pictures.map((file, index) => new File([file], file.name || `pasted-image-${index + 1}`, { type: file.type })));
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

  /** The images for the message being sent (those read by now: one still being read stays); the tray lets them go. */
  takeImages() {
    const images = this.images.filter((image) => image.url);
    this.images = this.images.filter((image) => !image.url);
    this.render();
    return images;
  }

  restore(files, images = []) {
    this.files = files;
    this.images = images;
    this.render();
  }

  render() {
    const chip = (label, list, index, thumbnail) => {
      const item = document.createElement("li");
      if (thumbnail) item.append(thumbnail);
      item.append(...[label].flat());
      const remove = Object.assign(document.createElement("button"), { type: "button", textContent: "×" });
      remove.setAttribute("aria-label", `Remove ${list[index].name}`);
      remove.addEventListener("click", () => {
        list.splice(index, 1);
        this.render();
      });
      item.append(remove);
      return item;
    };
    this.list.replaceChildren(
      ...this.files.map((file, index) => chip(withIcon("paperclip", `${file.name} · ${fileSize(file.text)}`), this.files, index)),
      ...this.images.map((image, index) => {
        const thumbnail = Object.assign(document.createElement("img"), { className: "thumb", alt: "" });
        if (isImageDataURL(image.url)) thumbnail.src = image.url;
        return chip(`${image.name} · ${byteSize(image.size)}`, this.images, index, thumbnail);
      }),
    );
    this.list.hidden = this.files.length === 0 && this.images.length === 0;
    this.onChange?.();
  }
}

function readAsDataURL(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}
