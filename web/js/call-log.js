// The usage page's Calls (LiteLLM's request logs, the OpenAI dashboard's Logs): each call, newest first — when, which
// model, the tokens in and out, what it cost, how soon its first token came and how fast the rest, how it ended, and
// the key, end user and tags a gateway caller gave it — over the usage page's period. Narrowed by model, outcome and
// tag; 50 at a time, Show more for the next; Download CSV for all of them. An administrator's Everyone's adds whose
// each call was, and a filter by user (another user's conversation, key and end user stay theirs). A call of one's own conversation opens it. Every value is set as text.

import * as api from "./api.js";

const numberFormat = new Intl.NumberFormat();

/** How each outcome is said, and what the badge's class is. */
const OUTCOMES = {
  running: "Running", complete: "Complete", stopped: "Stopped", failed: "Failed", cached: "From cache",
};

/** Why an answer ended, when not by itself (`stop`): the upstream's finish reasons as people say them. */
const FINISHES = {
  length: "cut at its token limit", tool_calls: "called functions", function_call: "called functions",
  content_filter: "filtered by the provider", cancelled: null,
};

/** "1.2 s" or "340 ms". */
export const duration = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms} ms`);

/**
 * The answer's speed after its first token, in tokens a second; `null` when there is too little to measure (one
 * token, or no time between the first token and the end).
 */
export function tokensPerSecond(call) {
  if (call.ttft_ms == null || call.duration_ms == null || call.output_tokens < 2) return null;
  const writing = call.duration_ms - call.ttft_ms;
  return writing > 0 ? (call.output_tokens - 1) / (writing / 1000) : null;
}

export class CallLogPanel {
  /** `panel`: the usage page's Calls section; `openConversation(id)` shows one of the user's conversations. */
  constructor({ panel, showBanner, openConversation }) {
    Object.assign(this, { panel, showBanner, openConversation, scope: "mine", period: undefined });
    this.body = panel.querySelector(".calls-table tbody");
    this.more = panel.querySelector(".calls-more");
    this.model = panel.querySelector(".calls-model");
    this.outcome = panel.querySelector(".calls-outcome");
    this.tag = panel.querySelector(".calls-tag");
    this.user = panel.querySelector(".calls-user");
    const reload = () => this.load().catch((error) => showBanner(error.message));
    for (const select of [this.model, this.outcome, this.tag, this.user]) select.addEventListener("change", reload);
    this.more.addEventListener("click", () => this.load({ more: true }).catch((error) => showBanner(error.message)));
    panel.querySelector(".calls-csv").addEventListener("click", () => this.download().catch((error) => showBanner(error.message)));
  }

  /**
   * Shows `scope`'s calls (`mine` or `all`) of `period` (`today`, `week`, `month`), offering the `models`, `tags` and
   * (everyone's) `users` the usage page found (the filters keep a choice that is no longer offered, so that changing
   * the period does not drop it).
   */
  async show({ scope, period, models, tags, users = [] }) {
    Object.assign(this, { scope, period });
    this.offer(this.model, models, "every model");
    this.offer(this.tag, tags.filter(Boolean), "every tag");
    this.offer(this.user, users, "everyone");
    this.panel.querySelector(".calls-who").hidden = scope !== "all";
    this.panel.querySelector(".calls-user-label").hidden = scope !== "all";
    await this.load();
  }

  /** Fills `select` with "every …" and `values`, keeping what was chosen. */
  offer(select, values, every) {
    const chosen = select.value;
    const options = [...new Set([...values, chosen].filter(Boolean))].sort();
    select.replaceChildren(
      Object.assign(document.createElement("option"), { value: "", textContent: every }),
      ...options.map((value) => Object.assign(document.createElement("option"), { value, textContent: value })));
    select.value = chosen;
  }

  /** The filters as the API takes them. */
  filters() {
    return {
      scope: this.scope, period: this.period, model: this.model.value || undefined, outcome: this.outcome.value || undefined,
      tag: this.tag.value || undefined, user: (this.scope === "all" && this.user.value) || undefined,
    };
  }

  /** The newest page again, or (`more`) the page after the last one shown. */
  async load({ more = false } = {}) {
    const filters = this.filters();
    const page = await api.callLog({ ...filters, before: more ? this.next : undefined, limit: 50 });
    // The filters changed meanwhile: that load's page is the one to show.
    if (JSON.stringify(filters) !== JSON.stringify(this.filters())) return;
    const rows = page.calls.map((call) => this.row(call));
    if (more) this.body.append(...rows);
    else this.body.replaceChildren(...rows);
    this.next = page.next_before;
    this.more.hidden = !this.next;
    this.panel.querySelector(".calls-empty").hidden = this.body.children.length > 0;
  }

  /** Every call the filters ask for, as a spreadsheet. */
  async download() {
    const blob = await api.callLogCSV(this.filters());
    const link = Object.assign(document.createElement("a"), {
      href: URL.createObjectURL(blob), download: `sluice-calls${this.scope === "all" ? "-everyone" : ""}.csv`,
    });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
  }

  /** One call as a row of the table. */
  row(call) {
    const row = document.createElement("tr");
    row.dataset.id = call.id;
    row.dataset.outcome = call.outcome;
    const cell = (text, className) => {
      const td = Object.assign(document.createElement("td"), { textContent: text });
      if (className) td.className = className;
      row.append(td);
      return td;
    };
    const at = new Date(call.at);
    cell(at.toLocaleString()).title = at.toISOString();
    if (this.scope === "all") cell(call.user.name ?? "(a deleted user)", "calls-who");
    cell(call.model);
    const tokens = cell(`${numberFormat.format(call.input_tokens)} → ${numberFormat.format(call.output_tokens)}`);
    if (call.cached_input_tokens) tokens.append(` (${numberFormat.format(call.cached_input_tokens)} cached)`);
    cell(`$${call.cost_usd}`);
    const speed = tokensPerSecond(call);
    const timings = [call.ttft_ms != null ? `first token ${duration(call.ttft_ms)}` : null,
      speed != null ? `${speed.toFixed(1)} tokens/s` : null].filter(Boolean).join(" · ");
    cell(timings || "—").title = call.duration_ms != null ? `${duration(call.duration_ms)} in all` : "";
    const outcome = cell("");
    const badge = Object.assign(document.createElement("span"), {
      className: `call-outcome ${call.outcome}`, textContent: OUTCOMES[call.outcome] ?? call.outcome,
    });
    outcome.append(badge);
    // The failure's code in words ("upstream_timeout": "upstream timeout"); the answer itself says more.
    if (call.error_code) outcome.append(` (${call.error_code.replaceAll("_", " ")})`);
    else if (call.finish_reason && call.finish_reason !== "stop" && FINISHES[call.finish_reason] !== null) {
      outcome.append(` (${FINISHES[call.finish_reason] ?? call.finish_reason})`);
    }
    const about = [
      call.key ? `key ${call.key.label ?? call.key.id}` : null, call.end_user ? `end user ${call.end_user}` : null,
      call.team ? `team ${call.team}` : null, call.tags.length ? `tags ${call.tags.join(", ")}` : null,
    ].filter(Boolean).join(" · ");
    const details = cell(about);
    if (call.conversation) {
      const open = Object.assign(document.createElement("button"), {
        type: "button", className: "link-button calls-open",
        textContent: call.conversation.title || "Open the conversation",
      });
      open.addEventListener("click", () => this.openConversation(call.conversation.id));
      details.prepend(open, about ? " · " : "");
    }
    return row;
  }
}
