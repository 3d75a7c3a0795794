// The Teams panel of the Users page (LiteLLM's teams, Open WebUI's groups): users who share daily and monthly spending
// limits and limits per minute and at once on top of their own, and may use only its models within their own. Lists
// each team with its limits, what its members spent today and this month (a meter under each dollar limit, amber from
// 75 %, red from 90 %), its models and its members; adds a team; edits one's name, limits and models in place; deletes
// one (its members stay, in no team). A user joins or leaves a team from the Team picker in their row of the users
// table (users-page.js).

import * as api from "./api.js";

const numberFormat = new Intl.NumberFormat("en");

export class TeamsPanel {
  /** `onChange`: called after a team is added, renamed or deleted, so that the users table's pickers follow. */
  constructor({ panel, say, showBanner, onChange }) {
    Object.assign(this, { panel, say, showBanner, onChange, teams: [] });
    this.form = panel.querySelector(".teams-form");
    this.editor = panel.querySelector(".teams-edit");
    const report = (promise) => promise.catch((error) => showBanner(error.message));
    this.form.addEventListener("submit", (event) => { event.preventDefault(); report(this.add()); });
    this.editor.addEventListener("submit", (event) => { event.preventDefault(); report(this.save()); });
    panel.querySelector(".teams-edit-cancel").addEventListener("click", () => this.closeEditor());
  }

  /** Reads the teams and draws them; resolves to the list (the users table's pickers use it). */
  async load() {
    ({ teams: this.teams } = await api.listTeams());
    this.panel.querySelector(".teams-empty").hidden = this.teams.length > 0;
    const table = this.panel.querySelector(".teams-table");
    table.hidden = this.teams.length === 0;
    table.querySelector("tbody").replaceChildren(...this.teams.map((team) => this.row(team)));
    return this.teams;
  }

  /** One team as a table row; names are set as text. */
  row(team) {
    const row = document.createElement("tr");
    row.dataset.name = team.name;
    const cell = (text) => Object.assign(document.createElement("td"), { textContent: text });
    const limits = TeamsPanel.limits(team).join(", ") || "none";
    const members = team.members.length ? team.members.join(", ") : "nobody yet: pick the team in a user's row";
    row.append(cell(team.name), cell(limits), this.spent(team, team.spent_today_usd, team.daily_usd_limit, "daily"),
      this.spent(team, team.spent_this_month_usd, team.monthly_usd_limit, "monthly"),
      cell(team.models ? team.models.join(", ") : "all"), cell(members));
    const actions = document.createElement("td");
    const action = (label, title, run) => {
      const button = Object.assign(document.createElement("button"), { type: "button", textContent: label });
      button.setAttribute("aria-label", `${title} ${team.name}`);
      button.addEventListener("click", () => run().catch((error) => this.showBanner(error.message)));
      actions.append(button);
    };
    action("Edit", "Change the name, limits or models of team", async () => this.openEditor(team));
    action("Delete", "Delete team", async () => {
      if (!confirm(`Delete the team ${team.name}? Its members stay, in no team; what they spent stays in the usage.`)) return;
      await api.deleteTeam(team.name);
      this.say(`The team ${team.name} is deleted.`);
      await this.onChange();
    });
    actions.lastChild.classList.add("danger");
    row.append(actions);
    return row;
  }

  /** A team's limits in words: "$25 a day", "60 requests/min", "4 answers at once"… */
  static limits(team) {
    const number = (value) => numberFormat.format(value);
    return [team.daily_usd_limit != null && `$${team.daily_usd_limit} a day`,
      team.monthly_usd_limit != null && `$${team.monthly_usd_limit} a month`,
      team.requests_per_minute != null && `${number(team.requests_per_minute)} requests/min`,
      team.tokens_per_minute != null && `${number(team.tokens_per_minute)} tokens/min`,
      team.max_parallel_requests != null && `${number(team.max_parallel_requests)} answers at once`].filter(Boolean);
  }

  /** The rate fields of a form (`prefix`: "teams" or "teams-edit") as the API's fields; an empty one is `null`. */
  rates(form, prefix) {
    const value = (name) => {
      const text = form.querySelector(`.${prefix}-${name}`).value.trim();
      return text ? Number(text) : null;
    };
    return { requests_per_minute: value("rpm"), tokens_per_minute: value("tpm"), max_parallel_requests: value("parallel") };
  }

  /** Offers the served models (`GET /api/models`'s ids) in the add and edit forms' pickers. */
  setModels(served) {
    this.served = served;
    const options = (chosen) => served.map((id) => Object.assign(document.createElement("option"), { value: id, textContent: id, selected: chosen.has(id) }));
    this.form.querySelector(".teams-models").replaceChildren(...options(new Set()));
  }

  /** What the team spent against one of its limits: a meter and the figures, or the dollars alone without a limit. */
  spent(team, spent, limit, kind) {
    const cell = document.createElement("td");
    if (limit == null) {
      cell.textContent = `$${spent}`;
      return cell;
    }
    const percent = Math.min(100, Math.round((Number(spent) / Number(limit)) * 100));
    const meter = Object.assign(document.createElement("meter"), { min: 0, max: 100, low: 75, high: 90, optimum: 0, value: percent });
    meter.setAttribute("aria-label", `${team.name} has spent ${percent} % of its ${kind} limit`);
    cell.append(meter, ` $${spent} (${percent} %)`);
    return cell;
  }

  async add() {
    const name = this.form.querySelector(".teams-name").value;
    const daily = this.form.querySelector(".teams-daily").value.trim();
    const monthly = this.form.querySelector(".teams-monthly").value.trim();
    const models = [...this.form.querySelector(".teams-models").selectedOptions].map((option) => option.value);
    // Amounts as typed (exact decimal), not as floats.
    const rates = Object.fromEntries(Object.entries(this.rates(this.form, "teams")).filter(([, value]) => value != null));
    const team = await api.addTeam({
      name, ...(daily && { daily_usd: daily }), ...(monthly && { monthly_usd: monthly }), ...rates, ...(models.length && { models }),
    });
    this.form.reset();
    this.say(`The team ${team.name} is made: pick it in its members' rows below.`);
    await this.onChange();
  }

  openEditor(team) {
    this.editing = team.name;
    this.editor.querySelector(".teams-edit-title").textContent = `Team ${team.name}`;
    this.editor.querySelector(".teams-edit-name").value = team.name;
    this.editor.querySelector(".teams-edit-daily").value = team.daily_usd_limit ?? "";
    this.editor.querySelector(".teams-edit-monthly").value = team.monthly_usd_limit ?? "";
    this.editor.querySelector(".teams-edit-rpm").value = team.requests_per_minute ?? "";
    this.editor.querySelector(".teams-edit-tpm").value = team.tokens_per_minute ?? "";
    this.editor.querySelector(".teams-edit-parallel").value = team.max_parallel_requests ?? "";
    const chosen = new Set(team.models ?? []);
    this.editor.querySelector(".teams-edit-models").replaceChildren(...(this.served ?? []).map((id) =>
      Object.assign(document.createElement("option"), { value: id, textContent: id, selected: chosen.has(id) })));
    this.editor.hidden = false;
    this.editor.querySelector(".teams-edit-daily").focus();
  }

  async save() {
    const name = this.editor.querySelector(".teams-edit-name").value.trim();
    const daily = this.editor.querySelector(".teams-edit-daily").value.trim();
    const monthly = this.editor.querySelector(".teams-edit-monthly").value.trim();
    // Amounts as typed (exact decimal), not as floats; a cleared limit is none.
    const models = [...this.editor.querySelector(".teams-edit-models").selectedOptions].map((option) => option.value);
    const changes = {
      daily_usd: daily || null, monthly_usd: monthly || null, ...this.rates(this.editor, "teams-edit"),
      models: models.length ? models : null,
    };
    if (name !== this.editing) changes.name = name;
    const team = await api.updateTeam(this.editing, changes);
    this.closeEditor();
    const limits = TeamsPanel.limits(team);
    this.say(limits.length ? `The team ${team.name}'s limits: ${limits.join(", ")}.` : `The team ${team.name} has no limits now.`);
    await this.onChange();
  }

  closeEditor() {
    this.editing = null;
    this.editor.hidden = true;
    this.editor.reset();
  }
}
