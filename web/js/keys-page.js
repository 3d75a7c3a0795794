// The API keys page: the user's labelled keys with what each has spent and when it was last used, a form that
// makes one, optionally expiring, limited to some models, a daily amount and rates of its own (its secret shown
// once, with a copy button) and tagging each of its calls (usage per tag), and per key an edit button (the same form changes its terms in place: its secret stays)
// and a revoke button. The server refuses key
// management to a request made with a key, so this page works for the user's own sign-in.

import * as api from "./api.js";

const numberFormat = new Intl.NumberFormat();

/** Copies a secret shown once from its read-only `field`, and says so on `button`. Without clipboard access (a page
 * not on https or localhost) the secret stays selected for the user to copy. */
export function copySecret(field, button) {
  field.select();
  (navigator.clipboard?.writeText(field.value) ?? Promise.reject(new Error("no clipboard")))
    .then(() => { button.textContent = "Copied"; })
    .catch(() => { button.textContent = "Selected: press Ctrl+C"; });
}
const when = (iso) => (iso ? new Date(iso).toLocaleString() : "never");

export class KeysPage {
  constructor({ section, button, showBanner }) {
    Object.assign(this, { section, button, showBanner });
    this.form = section.querySelector(".keys-form");
    this.label = section.querySelector(".keys-label");
    this.expiry = section.querySelector(".keys-expiry");
    this.models = section.querySelector(".keys-models");
    this.daily = section.querySelector(".keys-daily");
    this.tags = section.querySelector(".keys-tags");
    this.rates = ["rpm", "tpm", "parallel"].map((name) => section.querySelector(`.keys-${name}`));
    this.created = section.querySelector(".keys-new");
    section.querySelector(".keys-base-url").textContent = `${location.origin}/v1`;
    button.addEventListener("click", () => this.setOpen(section.hidden));
    section.querySelector(".keys-close").addEventListener("click", () => this.setOpen(false));
    this.submit = section.querySelector(".keys-submit");
    this.cancel = section.querySelector(".keys-cancel");
    // While a key is edited, its expiry may stay as it is: the first choice then.
    this.keepExpiry = Object.assign(document.createElement("option"), { value: "keep", textContent: "unchanged" });
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      (this.editing ? this.save() : this.create()).catch((error) => showBanner(error.message));
    });
    this.cancel.addEventListener("click", () => this.stopEditing());
    section.querySelector(".keys-copy").addEventListener("click", () => this.copy());
  }

  setOpen(open) {
    this.section.hidden = !open;
    this.button.setAttribute("aria-expanded", String(open));
    // A secret shown once is not shown again when the page is reopened.
    if (!open) this.forgetSecret();
    if (!open) this.stopEditing();
    if (open) this.load().catch((error) => this.showBanner(error.message));
  }

  async load() {
    const [{ keys, current_key: currentKey }, models] = await Promise.all([api.listKeys(), api.listModels()]);
    // Signed in with a key, the page may list keys but not make or revoke them (the server refuses): it says why.
    const note = this.section.querySelector(".keys-signed-in-with-key");
    note.hidden = currentKey == null;
    note.textContent = currentKey == null ? ""
      : `You are signed in with the key “${currentKey}”. Sign in with your own token to make or revoke keys.`;
    this.form.hidden = currentKey != null;
    this.readOnly = currentKey != null;
    const chosen = new Set([...this.models.selectedOptions].map((option) => option.value));
    this.models.replaceChildren(...models.models.map(({ id }) =>
      Object.assign(document.createElement("option"), { value: id, textContent: id, selected: chosen.has(id) })));
    this.section.querySelector(".keys-empty").hidden = keys.length > 0;
    this.section.querySelector(".keys-table").hidden = keys.length === 0;
    this.section.querySelector(".keys-table tbody").replaceChildren(...keys.map((key) => this.row(key)));
  }

  /** One key as a table row; labels are set as text. */
  row(key) {
    const row = document.createElement("tr");
    const expired = key.expires_at && new Date(key.expires_at) <= new Date();
    row.classList.toggle("revoked", Boolean(key.revoked_at || expired));
    const expires = key.expires_at ? (expired ? `expired ${when(key.expires_at)}` : when(key.expires_at)) : "never";
    const limit = key.daily_usd_limit
      ? `$${key.daily_usd_limit}` + (key.spent_today_usd != null ? ` ($${key.spent_today_usd} today)` : "")
      : "none";
    // Each limit with the key's use of it now, as its next request is counted.
    const use = (value, words) => (value != null ? ` (${numberFormat.format(value)} ${words})` : "");
    const rates = [
      key.requests_per_minute != null && `${numberFormat.format(key.requests_per_minute)} requests/min`
        + use(key.requests_last_minute, "in the last minute"),
      key.tokens_per_minute != null && `${numberFormat.format(key.tokens_per_minute)} tokens/min`
        + use(key.tokens_last_minute, "in the last minute"),
      key.max_parallel_requests != null && `${numberFormat.format(key.max_parallel_requests)} at once`
        + use(key.running_requests, "running"),
    ].filter(Boolean).join(", ") || "none";
    const cells = [key.label, when(key.created_at), expires, key.models ? key.models.join(", ") : "all", limit, rates,
      key.tags?.length ? key.tags.join(", ") : "none", when(key.last_turn_at), numberFormat.format(key.turns),
      numberFormat.format(key.total_tokens), `$${key.cost_usd}`];
    for (const text of cells) row.append(Object.assign(document.createElement("td"), { textContent: text }));
    const action = document.createElement("td");
    if (key.revoked_at) {
      action.textContent = `revoked ${when(key.revoked_at)}`;
    } else if (expired) {
      action.textContent = "expired";
    }
    if (!key.revoked_at && !this.readOnly) {
      // An expired key may be edited: given more time, it works again.
      const edit = Object.assign(document.createElement("button"), { type: "button", textContent: "Edit" });
      edit.setAttribute("aria-label", `Edit the key ${key.label}`);
      edit.addEventListener("click", () => this.edit(key));
      action.append(edit);
    }
    if (!key.revoked_at && !expired && !this.readOnly) {
      const revoke = Object.assign(document.createElement("button"), { type: "button", textContent: "Revoke" });
      revoke.setAttribute("aria-label", `Revoke the key ${key.label}`);
      revoke.addEventListener("click", () => this.revoke(key.label).catch((error) => this.showBanner(error.message)));
      action.append(revoke);
    }
    row.append(action);
    return row;
  }

  async create() {
    // Amounts as typed (exact decimal), not as floats.
    const created = await api.createKey(this.label.value, this.terms());
    this.label.value = "";
    this.daily.value = "";
    this.tags.value = "";
    for (const field of this.rates) field.value = "";
    for (const option of this.models.options) option.selected = false;
    this.created.querySelector(".keys-new-label").textContent =
      created.label + (created.expires_at ? ` (until ${when(created.expires_at)})` : "");
    this.created.querySelector(".keys-new-value").value = created.key;
    this.section.querySelector(".keys-copy").textContent = "Copy";
    this.created.hidden = false;
    await this.load();
  }

  /** The form's terms as the API takes them: a cleared field is `null` (no limit), the expiry left out if unchanged. */
  terms() {
    const models = [...this.models.selectedOptions].map((option) => option.value);
    const [rpm, tpm, parallel] = this.rates.map((field) => (field.value.trim() ? Number(field.value) : null));
    const terms = {
      models: models.length ? models : null, daily_usd: this.daily.value.trim() || null,
      requests_per_minute: rpm, tokens_per_minute: tpm, max_parallel_requests: parallel,
      // As typed, with commas between them: the server trims them and says which rule one breaks.
      tags: this.tags.value.split(",").map((tag) => tag.trim()).filter(Boolean),
    };
    if (this.expiry.value !== "keep") terms.expires_in_days = this.expiry.value ? Number(this.expiry.value) : null;
    return terms;
  }

  /** Fills the form with `key`'s terms, to change them in place. */
  edit(key) {
    this.forgetSecret();
    this.editing = key.label;
    this.label.value = key.label;
    this.label.readOnly = true;
    this.expiry.prepend(this.keepExpiry);
    this.expiry.value = "keep";
    const chosen = new Set(key.models ?? []);
    for (const option of this.models.options) option.selected = chosen.has(option.value);
    this.daily.value = key.daily_usd_limit ?? "";
    this.tags.value = (key.tags ?? []).join(", ");
    [key.requests_per_minute, key.tokens_per_minute, key.max_parallel_requests]
      .forEach((value, index) => { this.rates[index].value = value ?? ""; });
    this.submit.textContent = "Save changes";
    this.cancel.hidden = false;
    this.label.focus();
  }

  async save() {
    await api.updateKey(this.editing, this.terms());
    this.stopEditing();
    await this.load();
  }

  /** Back to making a new key, with an empty form. */
  stopEditing() {
    if (!this.editing) return;
    this.editing = null;
    this.label.readOnly = false;
    this.keepExpiry.remove();
    this.form.reset();
    this.submit.textContent = "Create key";
    this.cancel.hidden = true;
  }

  async revoke(label) {
    if (!confirm(`Revoke the key “${label}”? Applications using it stop working at once. This cannot be undone.`)) return;
    await api.revokeKey(label);
    await this.load();
  }

  copy() {
    copySecret(this.created.querySelector(".keys-new-value"), this.section.querySelector(".keys-copy"));
  }

  forgetSecret() {
    this.section.querySelector(".keys-copy").textContent = "Copy";
    this.created.hidden = true;
    this.created.querySelector(".keys-new-value").value = "";
  }
}
