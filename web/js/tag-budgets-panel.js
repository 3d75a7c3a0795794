// The Tag budgets panel of the Users page (LiteLLM's tag budgets): a daily and a monthly dollar limit on every call
// carrying a tag — its own (metadata.tags, x-sluice-tags) or its key's — whoever makes it. Lists each budgeted tag with
// its limits and what its calls spent today and this month (a meter under each limit, amber from 75 %, red from 90 %);
// sets one (a new budget counts what the tag's calls already spent this month); edits its limits in place; removes one.

import * as api from "./api.js";

export class TagBudgetsPanel {
  /** `onChange`: called after a budget is set or removed (the page reads its audit log again). */
  constructor({ panel, say, showBanner, onChange }) {
    Object.assign(this, { panel, say, showBanner, onChange, budgets: [] });
    this.form = panel.querySelector(".tag-budgets-form");
    const report = (promise) => promise.catch((error) => showBanner(error.message));
    this.form.addEventListener("submit", (event) => { event.preventDefault(); report(this.save()); });
    panel.querySelector(".tag-budgets-cancel").addEventListener("click", () => this.reset());
  }

  /** Reads the budgets and draws them. */
  async load() {
    ({ tag_budgets: this.budgets } = await api.listTagBudgets());
    this.panel.querySelector(".tag-budgets-empty").hidden = this.budgets.length > 0;
    const table = this.panel.querySelector(".tag-budgets-table");
    table.hidden = this.budgets.length === 0;
    table.querySelector("tbody").replaceChildren(...this.budgets.map((budget) => this.row(budget)));
  }

  /** One budget as a table row; the tag is set as text. */
  row(budget) {
    const row = document.createElement("tr");
    row.dataset.name = budget.tag;
    row.append(Object.assign(document.createElement("td"), { textContent: budget.tag }),
      this.spent(budget, budget.spent_today_usd, budget.daily_usd_limit, "daily"),
      this.spent(budget, budget.spent_this_month_usd, budget.monthly_usd_limit, "monthly"));
    const actions = document.createElement("td");
    const action = (label, title, run) => {
      const button = Object.assign(document.createElement("button"), { type: "button", textContent: label });
      button.setAttribute("aria-label", `${title} ${budget.tag}`);
      button.addEventListener("click", () => run().catch((error) => this.showBanner(error.message)));
      actions.append(button);
    };
    action("Edit", "Change the limits of the tag", async () => this.edit(budget));
    action("Remove", "Remove the budget of the tag", async () => {
      if (!confirm(`Remove the budget of the tag ${budget.tag}? Its calls are no longer limited; what they spent stays in the usage.`)) return;
      await api.removeTagBudget(budget.tag);
      this.say(`The tag ${budget.tag} has no budget now.`);
      await this.onChange();
    });
    actions.lastChild.classList.add("danger");
    row.append(actions);
    return row;
  }

  /** What the tag's calls spent against one of its limits: a meter and the figures, or "no limit" and the dollars. */
  spent(budget, spent, limit, kind) {
    const cell = document.createElement("td");
    if (limit == null) {
      cell.textContent = `no limit ($${spent} spent)`;
      return cell;
    }
    const percent = Math.min(100, Math.round((Number(spent) / Number(limit)) * 100));
    const meter = Object.assign(document.createElement("meter"), { min: 0, max: 100, low: 75, high: 90, optimum: 0, value: percent });
    meter.setAttribute("aria-label", `Calls tagged ${budget.tag} have spent ${percent} % of its ${kind} limit`);
    cell.append(meter, ` $${spent} of $${limit} (${percent} %)`);
    return cell;
  }

  /** Fills the form with a budget's tag and limits, to change them. */
  edit(budget) {
    this.form.querySelector(".tag-budgets-tag").value = budget.tag;
    this.form.querySelector(".tag-budgets-daily").value = budget.daily_usd_limit ?? "";
    this.form.querySelector(".tag-budgets-monthly").value = budget.monthly_usd_limit ?? "";
    this.form.querySelector(".tag-budgets-cancel").hidden = false;
    this.form.querySelector(".tag-budgets-daily").focus();
  }

  async save() {
    const tag = this.form.querySelector(".tag-budgets-tag").value.trim();
    const daily = this.form.querySelector(".tag-budgets-daily").value.trim();
    const monthly = this.form.querySelector(".tag-budgets-monthly").value.trim();
    if (!daily && !monthly) {
      this.showBanner("Give the tag a daily limit, a monthly limit or both. To take its budget away, use Remove in its row.");
      return;
    }
    // Amounts as typed (exact decimal), not as floats; an empty one is no limit.
    const budget = await api.setTagBudget(tag, { daily_usd: daily || null, monthly_usd: monthly || null });
    this.reset();
    const limits = [budget.daily_usd_limit != null && `$${budget.daily_usd_limit} a day`,
      budget.monthly_usd_limit != null && `$${budget.monthly_usd_limit} a month`].filter(Boolean);
    this.say(`Calls tagged ${budget.tag} may spend ${limits.join(" and ")} together; they have spent $${budget.spent_this_month_usd} this month.`);
    await this.onChange();
  }

  reset() {
    this.form.reset();
    this.form.querySelector(".tag-budgets-cancel").hidden = true;
  }
}
