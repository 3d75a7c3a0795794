// The model picker: which model answers the next message, as ChatGPT's and Open WebUI's pickers do. It lists the
// models the user may use (GET /api/models) with each one's context window and price, shows the open
// conversation's model, and remembers the last one picked for new conversations.

import * as api from "./api.js";

const CHOICE_KEY = "sluice.model";
const EFFORT_KEY = "sluice.effort";
const numberFormat = new Intl.NumberFormat();

/** "128,000-token window · $0.15 in ($0.075 cached) / $0.6 out per million tokens", or what is known of it. */
export function modelFacts(model) {
  if (!model) return "";
  const parts = [];
  if (model.context_window != null) parts.push(`${numberFormat.format(model.context_window)}-token window`);
  const input = model.input_usd_per_million;
  const output = model.output_usd_per_million;
  if (input === "0" && output === "0") parts.push("free");
  // Exact decimal strings from the server, shown as they are.
  else if (input != null && output != null) {
    const cached = model.cached_input_usd_per_million != null ? ` ($${model.cached_input_usd_per_million} cached)` : "";
    parts.push(`$${input} in${cached} / $${output} out per million tokens`);
  }
  else parts.push("no price known");
  if (model.sees_images === true) parts.push("sees images");
  if (model.sees_images === false) parts.push("text only");
  if (model.reasons === true) parts.push("reasons");
  // Emails, phone and card numbers, IBANs and SSNs reach it as placeholders (--mask-personal-data).
  if (model.masks_personal_data === true) parts.push("personal data masked");
  return parts.join(" · ");
}

export class ModelPicker {
  /** `onChange(model)` runs when the user picks another model. `effort` (a select of reasoning efforts, in its
   * `label`) is offered for a model that may reason: one the server says reasons, or says nothing of. */
  constructor({ select, facts, effort, effortLabel, onChange }) {
    this.select = select;
    this.facts = facts;
    this.effortSelect = effort;
    this.effortLabel = effortLabel;
    this.models = [];
    this.defaultModel = null;
    select.addEventListener("change", () => {
      localStorage.setItem(CHOICE_KEY, select.value);
      this.describe();
      onChange?.(select.value);
    });
    if (effort) {
      effort.value = localStorage.getItem(EFFORT_KEY) ?? "";
      if (effort.selectedIndex < 0) effort.value = "";
      effort.addEventListener("change", () => localStorage.setItem(EFFORT_KEY, effort.value));
    }
  }

  /** The model the next message goes to. */
  get value() { return this.select.value || null; }

  /** The reasoning effort asked of the next answer (`low`, `medium`, `high`), or null for the model's default. */
  get effort() {
    if (!this.effortSelect || this.effortLabel?.hidden) return null;
    return this.effortSelect.value || null;
  }

  /** Hides the effort with the picker (signed out). */
  hide() {
    if (this.effortLabel) this.effortLabel.hidden = true;
  }

  /** Whether the picked model sees images: true, false, or null when the server does not know. */
  get seesImages() { return this.models.find((model) => model.id === this.select.value)?.sees_images ?? null; }

  /** Loads the user's models; shows the remembered choice (or the default) until a conversation is opened. */
  async load() {
    const list = await api.listModels();
    this.models = list.models;
    this.defaultModel = list.default;
    /** The longest message that may be typed (the prompt guard's limit); `null` when there is none. */
    this.maxMessageCharacters = list.max_message_characters ?? null;
    /** Whether the server names conversations with a model (`POST /api/conversations/{id}/title`). */
    this.writesTitles = list.titles === true;
    this.render();
    this.show(this.preferred());
  }

  /** What a new conversation starts with: the last model picked, while the user may still use it. */
  preferred() {
    const remembered = localStorage.getItem(CHOICE_KEY);
    return this.models.some((model) => model.id === remembered) ? remembered : this.defaultModel;
  }

  /** Shows `id` as the current model (the open conversation's), listed even when it is no longer offered. */
  show(id) {
    if (!id) return;
    for (const option of this.select.querySelectorAll("option[data-unlisted]")) if (option.value !== id) option.remove();
    if (![...this.select.options].some((option) => option.value === id)) {
      const option = new Option(`${id} (not offered now)`, id);
      option.dataset.unlisted = "true";
      this.select.append(option);
    }
    this.select.value = id;
    this.describe();
  }

  render() {
    this.select.replaceChildren(...this.models.map((model) => new Option(model.id, model.id)));
  }

  describe() {
    const model = this.models.find((candidate) => candidate.id === this.select.value);
    const text = model ? modelFacts(model) : "not offered by this server now: pick another to send";
    this.facts.textContent = text;
    this.select.title = text;
    // SmolLM2 and other models known not to reason get no effort to pick.
    if (this.effortLabel) this.effortLabel.hidden = !model || model.reasons === false;
  }
}
