// The Users page's Audit log (LiteLLM's audit logs, GitHub's organisation audit log): who made, changed or deleted
// which user, team or API key, when and from where — on this page, through the API or with `sluice` on the server —
// with each setting before and after. Narrowed to what was done to or by one user or team, and to one kind; 50 at a
// time, Show more for the next; Download CSV for all of them. Every name and value is set as text.

import * as api from "./api.js";
import { describeBrowser } from "./signed-in-browsers.js";

/** What was done, said of its target (`name`, and a key's `label`) by the actor named `actor`. */
const ACTIONS = {
  "user.added": ({ name }) => `added user ${name}`,
  "user.signed_up": ({ name }) => `made their own account, ${name}`,
  "user.changed": ({ name }) => `changed user ${name}`,
  "user.token_issued": ({ name }) => `issued a new sign-in link for ${name}`,
  "user.budget_reset": ({ name }) => `reset ${name}'s usage`,
  "user.signed_out": ({ name }) => `signed ${name} out`,
  "user.two_step_off": ({ name }) => `turned off ${name}'s two-step verification`,
  "user.deleted": ({ name }) => `deleted user ${name}`,
  "team.added": ({ name }) => `added team ${name}`,
  "team.changed": ({ name }) => `changed team ${name}`,
  "team.deleted": ({ name }) => `deleted team ${name}`,
  "tag_budget.set": ({ name }) => `set the budget of tag ${name}`,
  "tag_budget.removed": ({ name }) => `removed the budget of tag ${name}`,
  "key.added": (target, actor) => `made ${owner(target, actor)} API key ${target.label}`,
  "key.changed": (target, actor) => `changed ${owner(target, actor)} API key ${target.label}`,
  "key.revoked": (target, actor) => `revoked ${owner(target, actor)} API key ${target.label}`,
};

/** "their" for the actor's own key, else "ann's". */
const owner = ({ name }, actor) => (name === actor ? "their" : `${name}'s`);

/** The settings' names as the page's forms say them. */
const FIELDS = {
  plan: "Plan", token_limit: "Tokens a period", daily_usd: "Daily limit $", end_user_daily_usd: "Daily limit per end user $",
  monthly_usd: "Monthly limit $", requests_per_minute: "Requests/min", tokens_per_minute: "Tokens/min",
  max_parallel_requests: "At once", models: "Models", team: "Team", admin: "Administrator", status: "Status",
  password: "Password", two_step: "Two-step verification", name: "Name", members: "Members", label: "Label",
  expires_at: "Expires", revoked: "Revoked", tags: "Tags", tokens_used: "Tokens used", browsers_signed_out: "Browsers signed out",
};

/** A setting's value as shown: none is "none", but for models, where none is every model. */
const shown = (field, value) => value ?? (field === "models" ? "every model" : "none");

export class AuditLogPanel {
  /** `panel`: the Users page's audit log section. */
  constructor({ panel, showBanner }) {
    Object.assign(this, { panel, showBanner });
    this.list = panel.querySelector(".audit-list");
    this.more = panel.querySelector(".audit-more");
    this.name = panel.querySelector(".audit-name");
    this.kind = panel.querySelector(".audit-kind");
    const reload = () => this.load().catch((error) => showBanner(error.message));
    let typing;
    this.name.addEventListener("input", () => { clearTimeout(typing); typing = setTimeout(reload, 300); });
    this.kind.addEventListener("change", reload);
    this.more.addEventListener("click", () => this.load({ more: true }).catch((error) => showBanner(error.message)));
    panel.querySelector(".audit-csv").addEventListener("click", () => this.download().catch((error) => showBanner(error.message)));
  }

  /** Every entry the name and kind ask for, as a spreadsheet. */
  async download() {
    const blob = await api.auditLogCSV({ name: this.name.value.trim() || undefined, kind: this.kind.value || undefined });
    const link = Object.assign(document.createElement("a"), { href: URL.createObjectURL(blob), download: "sluice-audit-log.csv" });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
  }

  /** The newest page again, or (`more`) the page after the last one shown. */
  async load({ more = false } = {}) {
    const name = this.name.value.trim();
    const page = await api.auditLog({
      name: name || undefined, kind: this.kind.value || undefined, before: more ? this.next : undefined, limit: 50,
    });
    // A newer load began meanwhile (typing): its page is the one to show.
    if (name !== this.name.value.trim()) return;
    const items = page.entries.map((entry) => this.item(entry));
    if (more) this.list.append(...items);
    else this.list.replaceChildren(...items);
    this.next = page.next_before;
    this.more.hidden = !this.next;
    this.panel.querySelector(".audit-empty").hidden = this.list.children.length > 0;
  }

  /** One entry: who did what and when, each setting's two sides, and where it came from. */
  item(entry) {
    const item = document.createElement("li");
    item.className = "audit-entry";
    item.dataset.action = entry.action;
    const head = Object.assign(document.createElement("span"), { className: "audit-what" });
    const actor = Object.assign(document.createElement("strong"), { textContent: entry.actor.name });
    const what = (ACTIONS[entry.action] ?? (({ name }) => `${entry.action} ${name}`))(entry.target, entry.actor.name);
    head.append(actor, ` ${what}`);
    const from = entry.user_agent || entry.address
      ? [describeBrowser(entry.user_agent), entry.address].filter(Boolean).join(" · ") : "on the server";
    const where = Object.assign(document.createElement("span"), {
      className: "security-detail", textContent: `${new Date(entry.at).toLocaleString()} · ${from}`,
    });
    if (entry.user_agent) where.title = entry.user_agent;
    item.append(head, where);
    if (entry.changes.length > 0) {
      const changes = Object.assign(document.createElement("ul"), { className: "audit-changes" });
      changes.append(...entry.changes.map(({ field, from: before, to }) => Object.assign(document.createElement("li"), {
        textContent: `${FIELDS[field] ?? field}: ${shown(field, before)} → ${shown(field, to)}`,
      })));
      item.append(changes);
    }
    return item;
  }
}
