// The administrator's Users page (Open WebUI's admin panel, LiteLLM's admin UI): everyone who may sign in, with plan,
// limits and use; a form that adds a user and shows their sign-in link once; and per user a plan picker, Limits (the
// same limits `sluice user set-plan` sets, and the models they may use), Password (set, change or remove the one they
// sign in with by name; they are signed out of the browsers that used the old one), Sign out everywhere (a lost laptop), New token, Reset usage, the administrator
// role, Security (their signed-in browsers, each to sign out, and their security log; user-security.js), Turn off two-step,
// Suspend (their token and keys refused until Restore; everything they made kept; Approve for an account someone
// made themselves that waits for approval) and Delete (what they made
// goes, what they spent stays in the usage). Find and Show narrow the list (by name; those waiting for approval,
// suspended, administrators, with a password, with two-step verification, in no team or in one team), as Open WebUI's
// user list is searched.
// Teams (teams-panel.js) and tag budgets (tag-budgets-panel.js) sit above the list; each user's row has a Team picker
// that puts them in one or none. Below it,
// the audit log (audit-log.js) says who changed what, and is read again after each change made here. The account
// menu offers the page to administrators only; the server refuses everyone else anyway.

import * as api from "./api.js";
import { AuditLogPanel } from "./audit-log.js";
import { copySecret } from "./keys-page.js";
import { TeamsPanel } from "./teams-panel.js";
import { TagBudgetsPanel } from "./tag-budgets-panel.js";
import { UserSecurityPanel } from "./user-security.js";

const numberFormat = new Intl.NumberFormat();
const when = (iso) => (iso ? new Date(iso).toLocaleString() : "never");
const PLANS = ["free", "pro", "unlimited"];

export class UsersPage {
  constructor({ section, button, showBanner }) {
    Object.assign(this, { section, button, showBanner });
    this.form = section.querySelector(".users-form");
    this.created = section.querySelector(".users-new");
    this.limits = section.querySelector(".users-limits");
    this.models = section.querySelector(".users-models");
    this.limitFields = ["token-limit", "daily", "rpm", "tpm", "parallel"].map((name) => section.querySelector(`.users-${name}`));
    this.passwordForm = section.querySelector(".users-password-form");
    this.security = new UserSecurityPanel({
      panel: section.querySelector(".user-security"),
      say: (text) => { section.querySelector(".users-status").textContent = text; },
    });
    this.teamsPanel = new TeamsPanel({
      panel: section.querySelector(".teams-panel"),
      say: (text) => { section.querySelector(".users-status").textContent = text; },
      showBanner,
      onChange: () => this.load(),
    });
    this.tagBudgets = new TagBudgetsPanel({
      panel: section.querySelector(".tag-budgets-panel"),
      say: (text) => { section.querySelector(".users-status").textContent = text; },
      showBanner,
      onChange: () => this.load(),
    });
    this.audit = new AuditLogPanel({ panel: section.querySelector(".audit-log"), showBanner });
    button.addEventListener("click", () => this.setOpen(section.hidden));
    section.querySelector(".users-close").addEventListener("click", () => this.setOpen(false));
    const report = (promise) => promise.catch((error) => showBanner(error.message));
    this.form.addEventListener("submit", (event) => { event.preventDefault(); report(this.add()); });
    this.limits.addEventListener("submit", (event) => { event.preventDefault(); report(this.saveLimits()); });
    section.querySelector(".users-limits-cancel").addEventListener("click", () => this.closeLimits());
    section.querySelector(".users-copy").addEventListener("click", () => this.copy());
    this.passwordForm.addEventListener("submit", (event) => {
      event.preventDefault();
      report(this.savePassword(this.passwordForm.querySelector(".users-new-password").value));
    });
    section.querySelector(".users-password-remove").addEventListener("click", () => report(this.savePassword(null)));
    section.querySelector(".users-password-cancel").addEventListener("click", () => this.closePassword());
    this.search = section.querySelector(".users-search");
    this.show = section.querySelector(".users-show");
    this.search.addEventListener("input", () => this.filter());
    this.show.addEventListener("change", () => this.filter());
  }

  setOpen(open) {
    this.section.hidden = !open;
    this.button.setAttribute("aria-expanded", String(open));
    // A sign-in link shown once is not shown again when the page is reopened.
    if (!open) this.forgetLink();
    if (!open) this.closeLimits();
    if (!open) this.closePassword();
    this.section.querySelector(".users-status").textContent = "";
    if (open) this.load().catch((error) => this.showBanner(error.message));
  }

  async load() {
    let listed;
    try {
      listed = await Promise.all([api.listUsers(), api.listModels(), this.teamsPanel.load(), this.tagBudgets.load(), this.audit.load()]);
    } catch (error) {
      // No longer an administrator (the role given up here, or taken by another): the page and its menu item go.
      if (error.code === "admin_only") {
        this.setOpen(false);
        this.button.hidden = true;
      }
      throw error;
    }
    const [{ users }, models, teams] = listed;
    this.served = models.models.map(({ id }) => id);
    this.teamNames = teams.map(({ name }) => name);
    this.teamsPanel.setModels(this.served);
    this.offerTeamsInShow();
    this.users = users;
    this.section.querySelector(".users-table tbody").replaceChildren(...users.map((user) => this.row(user)));
    this.filter();
  }

  /** Adds "in team …" to Show for each team (after the fixed kinds), keeping the choice while its team is there. */
  offerTeamsInShow() {
    const chosen = this.show.value;
    for (const option of this.show.querySelectorAll("option[data-team]")) option.remove();
    for (const name of this.teamNames) {
      const option = new Option(`in team ${name}`, `team:${name}`);
      option.dataset.team = name;
      this.show.append(option);
    }
    this.show.value = [...this.show.options].some((option) => option.value === chosen) ? chosen : "all";
  }

  /** Shows the users whose names hold what is typed in Find (any case) and who are of the kind chosen in Show. */
  filter() {
    const needle = this.search.value.trim().toLocaleLowerCase();
    const kinds = {
      all: () => true, pending: (user) => user.pending, suspended: (user) => user.suspended_at && !user.pending,
      admin: (user) => user.admin, password: (user) => user.has_password, "two-step": (user) => user.two_step,
      sso: (user) => user.single_sign_on,
      "no-team": (user) => !user.team,
    };
    const rows = this.section.querySelectorAll(".users-table tbody tr");
    let shown = 0;
    (this.users ?? []).forEach((user, index) => {
      const kind = this.show.value.startsWith("team:") ? (candidate) => candidate.team === this.show.value.slice(5) : kinds[this.show.value];
      const visible = user.name.toLocaleLowerCase().includes(needle) && Boolean(kind(user));
      rows[index].hidden = !visible;
      if (visible) shown += 1;
    });
    const total = this.users?.length ?? 0;
    this.section.querySelector(".users-count").textContent = shown === total
      ? `${numberFormat.format(total)} ${total === 1 ? "user" : "users"}`
      : `${numberFormat.format(shown)} of ${numberFormat.format(total)} users`;
  }

  /** One user as a table row; names are set as text. */
  row(user) {
    const row = document.createElement("tr");
    row.dataset.name = user.name;
    const name = Object.assign(document.createElement("td"), { textContent: user.name });
    const badge = (text) => name.append(Object.assign(document.createElement("span"), { className: "admin-badge", textContent: text }));
    if (user.admin) badge("admin");
    if (user.two_step) badge("two-step");
    if (user.single_sign_on) badge("single sign-on");
    if (user.pending) badge(`waiting for approval since ${when(user.suspended_at)}`);
    else if (user.suspended_at) badge(`suspended ${when(user.suspended_at)}`);
    row.classList.toggle("suspended", Boolean(user.suspended_at));
    const plan = document.createElement("select");
    plan.className = "users-row-plan";
    plan.setAttribute("aria-label", `${user.name}'s plan`);
    plan.append(...PLANS.map((value) => Object.assign(document.createElement("option"), { value, textContent: value })));
    plan.value = user.plan;
    plan.addEventListener("change", () => this.change(user.name, { plan: plan.value }));
    const planCell = document.createElement("td");
    planCell.append(plan);
    const team = document.createElement("select");
    team.className = "users-row-team";
    team.setAttribute("aria-label", `${user.name}'s team`);
    team.append(Object.assign(document.createElement("option"), { value: "", textContent: "none" }),
      ...(this.teamNames ?? []).map((value) => Object.assign(document.createElement("option"), { value, textContent: value })));
    team.value = user.team ?? "";
    team.addEventListener("change", () => this.change(user.name, { team: team.value || null })
      .then(() => { this.section.querySelector(".users-status").textContent = team.value
        ? `${user.name} is in the team ${team.value} now: its daily limit applies to them too.` : `${user.name} is in no team now.`; })
      .catch((error) => this.showBanner(error.message)));
    const teamCell = document.createElement("td");
    teamCell.append(team);
    const limit = user.token_limit == null ? "unlimited" : numberFormat.format(user.token_limit);
    const tokens = user.tokens_used == null ? "" : `${numberFormat.format(user.tokens_used)} of ${limit}`;
    const daily = user.daily_usd_limit ? `$${user.daily_usd_limit} ($${user.spent_today_usd} today)` : "none";
    const rates = [
      user.requests_per_minute != null && `${numberFormat.format(user.requests_per_minute)} requests/min`,
      user.tokens_per_minute != null && `${numberFormat.format(user.tokens_per_minute)} tokens/min`,
      user.max_parallel_requests != null && `${numberFormat.format(user.max_parallel_requests)} at once`,
    ].filter(Boolean).join(", ") || "none";
    const month = `${numberFormat.format(user.turns_30d)} turns, ${numberFormat.format(user.tokens_30d)} tokens, $${user.cost_usd_30d}`;
    row.append(name, planCell, teamCell);
    for (const text of [tokens, daily, rates, user.models ? user.models.join(", ") : "all", month, when(user.last_turn_at)]) {
      row.append(Object.assign(document.createElement("td"), { textContent: text }));
    }
    const actions = document.createElement("td");
    const action = (label, title, run) => {
      const button = Object.assign(document.createElement("button"), { type: "button", textContent: label });
      button.setAttribute("aria-label", `${title} ${user.name}`);
      button.addEventListener("click", () => run().catch((error) => this.showBanner(error.message)));
      actions.append(button);
    };
    action("Limits", "Change the limits of", async () => this.openLimits(user));
    action(user.has_password ? "Change password" : "Set password", user.has_password ? "Change the password of" : "Set a password for",
      async () => this.openPassword(user));
    if (user.has_password) action("Sign out everywhere", "Sign out of every browser", () => this.signOutEverywhere(user.name));
    action("Security", "See the signed-in browsers and security activity of", () => this.security.open(user.name));
    if (user.two_step) action("Turn off two-step", "Turn off two-step verification of", () => this.turnOffTwoStep(user.name));
    action("New token", "Issue a new token for", () => this.renewToken(user.name));
    action("Reset usage", "Reset the token usage of", () => this.change(user.name, null, "reset"));
    action(user.admin ? "Remove admin" : "Make admin", user.admin ? "Remove the administrator role of" : "Make an administrator of",
      () => this.change(user.name, { admin: !user.admin }));
    const restore = user.pending ? "Approve" : "Restore";
    action(user.suspended_at ? restore : "Suspend", user.suspended_at ? restore : "Suspend", async () => {
      const asks = `Suspend ${user.name}? Their token and API keys stop working at once; everything they made is kept, and Restore brings them back.`;
      if (!user.suspended_at && !confirm(asks)) return;
      await this.change(user.name, { suspended: !user.suspended_at });
    });
    action("Delete", "Delete", async () => {
      const asks = `Delete ${user.name}? Their conversations, projects and prompts are deleted for good and their keys revoked; `
        + "what they spent stays in the usage. To keep everything, Suspend them instead.";
      if (!confirm(asks)) return;
      await api.deleteUser(user.name);
      await this.load();
    });
    actions.lastChild.classList.add("danger");
    row.append(actions);
    return row;
  }

  async add() {
    const name = this.section.querySelector(".users-name");
    const admin = this.section.querySelector(".users-admin");
    const password = this.section.querySelector(".users-password").value;
    const { user, token } = await api.addUser(name.value, this.section.querySelector(".users-plan").value, admin.checked, password);
    this.form.reset();
    this.showLink(user.name, token);
    await this.load();
  }

  /** Changes a user (`changes`), or resets their usage; then lists everyone again. */
  async change(name, changes, reset) {
    try {
      await (reset ? api.resetUser(name) : api.updateUser(name, changes));
    } finally {
      // A refused change (the last administrator) leaves the row as the server has it.
      await this.load();
    }
  }

  async signOutEverywhere(name) {
    if (!confirm(`Sign ${name} out of every browser they signed in to with their password? Their sign-in link and API keys go on working.`)) return;
    const { ended_sessions: ended } = await api.signOutUserEverywhere(name);
    this.section.querySelector(".users-status").textContent = ended === 0 ? `${name} was signed in nowhere with their password.`
      : `${name} was signed out of ${ended === 1 ? "1 browser" : `${ended} browsers`}.`;
  }

  async turnOffTwoStep(name) {
    if (!confirm(`Turn off two-step verification for ${name}? Do it only when they lost their authenticator and their `
      + "recovery codes, and you know it is them asking: their password alone will sign them in.")) return;
    await api.turnOffUserTwoStep(name);
    this.section.querySelector(".users-status").textContent = `Two-step verification is off for ${name}: they can set it up again under Password.`;
    await this.load();
  }

  async renewToken(name) {
    if (!confirm(`Issue a new token for ${name}? Their current one stops working at once (their API keys go on).`)) return;
    const { token } = await api.issueUserToken(name);
    this.showLink(name, token);
  }

  /** The link that signs `name` in with `token` (the page takes it from the address and forgets it there). */
  showLink(name, token) {
    this.created.querySelector(".users-new-name").textContent = name;
    this.created.querySelector(".users-new-value").value = `${location.origin}${location.pathname}#token=${token}`;
    this.section.querySelector(".users-copy").textContent = "Copy";
    this.created.hidden = false;
  }

  openLimits(user) {
    this.editing = user.name;
    this.limits.querySelector(".users-limits-name").textContent = `Limits of ${user.name} (${user.plan} plan)`;
    [user.token_limit, user.daily_usd_limit, user.requests_per_minute, user.tokens_per_minute, user.max_parallel_requests]
      .forEach((value, index) => { this.limitFields[index].value = value ?? ""; });
    const chosen = new Set(user.models ?? []);
    this.models.replaceChildren(...this.served.map((id) =>
      Object.assign(document.createElement("option"), { value: id, textContent: id, selected: chosen.has(id) })));
    this.limits.hidden = false;
    this.limitFields[0].focus();
  }

  async saveLimits() {
    const [tokens, daily, rpm, tpm, parallel] = this.limitFields.map((field) => field.value.trim());
    const number = (text) => (text ? Number(text) : null);
    const models = [...this.models.selectedOptions].map((option) => option.value);
    await this.change(this.editing, {
      // A cleared token limit is the plan's own; amounts as typed (exact decimal), not as floats.
      token_limit: number(tokens), daily_usd: daily || null, requests_per_minute: number(rpm),
      tokens_per_minute: number(tpm), max_parallel_requests: number(parallel), models: models.length ? models : null,
    });
    this.closeLimits();
  }

  closeLimits() {
    this.editing = null;
    this.limits.hidden = true;
    this.limits.reset();
  }

  openPassword(user) {
    this.passwordFor = user.name;
    this.passwordForm.querySelector(".users-password-name").textContent = `New password for ${user.name}`;
    this.passwordForm.querySelector(".users-password-remove").hidden = !user.has_password;
    this.passwordForm.hidden = false;
    this.passwordForm.querySelector(".users-new-password").focus();
  }

  /** Sets the password being edited, or with `null` removes it (only their token signs them in then). */
  async savePassword(password) {
    const name = this.passwordFor;
    if (password === null && !confirm(`Remove ${name}'s password? They sign in with their link (or a new token) only.`)) return;
    await this.change(name, { password });
    this.closePassword();
    this.section.querySelector(".users-status").textContent = password === null
      ? `${name} has no password now: only their sign-in link works.`
      : `${name}'s password is set: tell it to them. They were signed out of the browsers that used the old one.`;
  }

  closePassword() {
    this.passwordFor = null;
    this.passwordForm.hidden = true;
    this.passwordForm.reset();
  }

  copy() {
    copySecret(this.created.querySelector(".users-new-value"), this.section.querySelector(".users-copy"));
  }

  forgetLink() {
    this.created.hidden = true;
    this.created.querySelector(".users-new-value").value = "";
  }
}
