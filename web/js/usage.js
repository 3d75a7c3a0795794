// Token usage in the page: the budget bar ("450 / 4,000 tokens today (11 %)", amber from 75 %, red from 90 %),
// a banner when a threshold is crossed, the estimate of the message being typed, and the options offered when
// the budget cannot take another message.

import * as api from "./api.js";

const numberFormat = new Intl.NumberFormat();
const LEVELS = ["ok", "warn_75", "warn_90", "exceeded"];

/** Time until a reset, e.g. "5 h 12 min", or from two days on "12 days" (a month's limit). */
export function untilReset(resetAt, now = Date.now()) {
  const minutes = Math.max(1, Math.round((Date.parse(resetAt) - now) / 60000));
  if (minutes >= 48 * 60) return `${Math.floor(minutes / (24 * 60))} days`;
  return minutes >= 60 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min` : `${minutes} min`;
}

export class UsageView {
  /** `model()`: the model the next message goes to (the picker's), whose window and tokenizer the estimate uses. */
  constructor({ bar, estimate, options, showBanner, setBlocked, model = () => null }) {
    this.model = model;
    this.bar = bar;
    this.estimateBox = estimate;
    this.options = options;
    this.showBanner = showBanner;
    this.setBlocked = setBlocked;
    this.level = null;
    this.teamLevels = {};
    this.budget = null;
    this.blockSource = null;
    this.timer = null;
    this.sequence = 0;
  }

  /** Announces that the user's team has newly passed 90 % of its daily or monthly dollars (a `done` event after the
   * user's own turn, or a refresh after a teammate's). */
  warnTeam(team) {
    for (const [key, period] of [["daily_usd", "today"], ["monthly_usd", "this month"]]) {
      const dollars = team?.[key];
      const level = dollars?.level ?? null;
      const before = this.teamLevels[key];
      if (before != null && level != null && level !== "exceeded" && LEVELS.indexOf(level) > LEVELS.indexOf(before)) {
        this.showBanner(`Your team ${team.name} has spent ${dollars.percent} % of its $${dollars.limit} for ${period} `
          + `($${dollars.spent}); it resets in ${untilReset(dollars.reset_at)}.`);
      }
      this.teamLevels[key] = level;
    }
  }

  /** Reads the budget from the server and draws it. */
  async refresh() {
    try {
      this.show(await api.getLimits());
    } catch { /* budgets off or offline: the bar stays as it was */ }
  }

  /** Draws a budget (from /api/usage/limits or a `done` event); announces a newly crossed threshold. */
  show(budget) {
    this.budget = budget;
    this.warnTeam(budget.team);
    if (budget.limit == null) {
      this.bar.hidden = true;
      if (this.blockSource === "budget") this.block(null);
      return;
    }
    this.bar.hidden = false;
    this.bar.className = `usage ${budget.level.replace("_", "-")}`;
    this.bar.querySelector(".usage-fill").style.width = `${budget.percent}%`;
    this.bar.querySelector(".usage-text").textContent =
      `${numberFormat.format(budget.used)} / ${numberFormat.format(budget.limit)} tokens today (${budget.percent} %)`;
    if (this.level !== null && LEVELS.indexOf(budget.level) > LEVELS.indexOf(this.level) && budget.level !== "exceeded") {
      this.showBanner(`You have used ${budget.percent} % of today's ${numberFormat.format(budget.limit)} tokens; ` +
        `they reset in ${untilReset(budget.reset_at)}.`);
    }
    this.level = budget.level;
    if (budget.remaining === 0) {
      this.block(`You have used all ${numberFormat.format(budget.limit)} tokens of your ${budget.plan} plan for today.`,
        { source: "budget" });
    } else if (this.blockSource === "budget") {
      this.block(null);
    }
  }

  /** Shows the limit options and disables sending (and typing, unless a new conversation would help), or
   *  (with `null`) removes them. */
  block(reason, { source = null, budget = this.budget, newConversationHelps = false } = {}) {
    this.blockSource = reason ? source : null;
    this.options.hidden = !reason;
    this.setBlocked({ send: Boolean(reason), input: Boolean(reason) && !newConversationHelps });
    if (!reason) return;
    this.options.querySelector("#limit-reason").textContent = reason;
    // The same situations are helped by a smaller context: summarising it, or leaving messages out.
    for (const id of ["#limit-new-conversation", "#limit-summarize", "#limit-context"]) {
      this.options.querySelector(id).hidden = !newConversationHelps;
    }
    this.options.querySelector("#limit-reset").textContent =
      budget?.reset_at ? `Your tokens reset in ${untilReset(budget.reset_at)}.` : "";
  }

  /** A refusal from the server (429 budget_exceeded) while sending. */
  refused(error) {
    this.block(error.message, { source: "refusal", newConversationHelps: this.budget?.remaining > 0 });
    this.refresh();
  }

  /** Estimates the message being typed (with the files attached to it), debounced; stale answers are dropped. */
  estimate(conversationId, content, attachments = []) {
    clearTimeout(this.timer);
    if (!conversationId || !content.trim()) {
      this.estimateBox.replaceChildren();
      if (this.blockSource !== "budget") this.block(null);
      return;
    }
    const sequence = ++this.sequence;
    this.timer = setTimeout(async () => {
      let estimate;
      try {
        estimate = await api.estimate(conversationId, content, this.model(), attachments);
      } catch { return; }
      if (sequence !== this.sequence) return;
      const { system, context, message } = estimate.breakdown;
      const line = document.createElement("span");
      line.className = "estimate-total";
      line.textContent = `≈ ${numberFormat.format(estimate.input_tokens)} tokens to send ` +
        `(message ${numberFormat.format(message)} · context ${numberFormat.format(context)}` +
        `${system ? ` · system ${numberFormat.format(system)}` : ""})`;
      // When the message does not fit, the first suggestion is shown with the options instead.
      const listed = estimate.would_exceed_budget ? estimate.suggestions.slice(1) : estimate.suggestions;
      const suggestions = listed.map((text) => {
        const item = document.createElement("span");
        item.className = "suggestion";
        item.textContent = text;
        return item;
      });
      this.estimateBox.replaceChildren(line, ...suggestions);
      if (estimate.would_exceed_budget) {
        this.block(estimate.suggestions[0] ?? "This message does not fit in what is left of your budget.",
          { source: "estimate", budget: estimate.budget, newConversationHelps: estimate.budget?.remaining > 0 });
      } else if (this.blockSource !== "budget") {
        this.block(null);
      }
    }, 300);
  }
}
