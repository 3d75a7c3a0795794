// The usage page: totals for today / the last 7 days / the last 30 days, daily tokens (bar), the share of each
// conversation (pie) and the trend of input and output tokens (line), drawn with Chart.js (Debian's
// libjs-chart.js, loaded the first time the page opens), the same figures as a CSV download, and — once gateway
// calls have named end users (OpenAI's `user`) — the usage per end user. An administrator may see everyone's usage
// instead (Whose: Everyone's): per day, model and user, never other users' conversations, keys or projects. Below
// them, each call one by one (call-log.js).

import * as api from "./api.js";
import { CallLogPanel, duration } from "./call-log.js";
import { icon } from "./icons.js";

const numberFormat = new Intl.NumberFormat();

/** A row's figures as the lists say them: "1,234 tokens, $0.01, 3 answers" (`unit`: what a turn is called there). */
const figures = (row, unit = "answer") =>
  `${numberFormat.format(row.total_tokens)} tokens, $${row.cost_usd}, ${row.turns} ${row.turns === 1 ? unit : `${unit}s`}`;
let chartLibrary = null;

function loadChartLibrary() {
  chartLibrary ??= new Promise((resolve, reject) => {
    if (globalThis.Chart) return resolve(globalThis.Chart);
    const script = Object.assign(document.createElement("script"), { src: "/vendor/chart.min.js" });
    script.onload = () => resolve(globalThis.Chart);
    script.onerror = () => reject(new Error("The chart library is missing: run the setup script (./sluice.sh run) again."));
    document.head.append(script);
  });
  return chartLibrary;
}

export class UsagePage {
  /** `openConversation(id)`: shows one of the user's conversations (a call's, from Calls). */
  constructor({ section, button, showBanner, openConversation }) {
    Object.assign(this, { section, button, showBanner, charts: [] });
    this.calls = new CallLogPanel({
      panel: section.querySelector(".usage-calls"), showBanner,
      openConversation: (id) => { this.setOpen(false); openConversation(id); },
    });
    this.period = section.querySelector(".usage-period");
    this.scope = section.querySelector(".usage-scope");
    this.scope.addEventListener("change", () => this.load().catch((e) => showBanner(e.message)));
    button.addEventListener("click", () => this.setOpen(section.hidden));
    section.querySelector(".usage-close").addEventListener("click", () => this.setOpen(false));
    section.querySelector(".usage-csv").addEventListener("click", () => this.downloadCSV().catch((e) => showBanner(e.message)));
    this.period.addEventListener("change", () => this.load().catch((e) => showBanner(e.message)));
  }

  setOpen(open) {
    this.section.hidden = !open;
    this.button.setAttribute("aria-expanded", String(open));
    if (open) this.load().catch((error) => this.showBanner(error.message));
  }

  async load() {
    const period = this.period.value;
    const scope = this.scope.value;
    const everyone = scope === "all";
    // Everyone's usage is by day, model and user only; the rest is the signed-in user's own.
    const own = (group) => (everyone ? Promise.resolve({ series: [] }) : api.getUsage(period, group));
    const [byDay, byShare, byEndUser, byKey, byModel, byProject, byTeam, byTag, limits, latency, Chart] = await Promise.all([
      api.getUsage(period, "day", scope), api.getUsage(period, everyone ? "user" : "conversation", scope), own("end_user"),
      own("key"), api.getUsage(period, "model", scope), own("project"),
      everyone ? api.getUsage(period, "team", scope) : Promise.resolve({ series: [] }),
      api.getUsage(period, "tag", scope),
      // Only for the limits per end user and per minute: the page works without them.
      everyone ? {} : api.getLimits().catch(() => ({})),
      // Only for the models' speed: the page works without it.
      api.getLatency(period, scope).catch(() => ({ models: [] })),
      loadChartLibrary(),
    ]);
    this.showTotals(byDay.totals);
    this.showUsers(everyone ? byShare.series : []);
    this.showTeams(byTeam.series);
    this.showTags(byTag.series);
    const share = everyone ? "user" : "conversation";
    this.section.querySelector(".usage-share-caption").textContent = `Share per ${share}`;
    this.canvas("share").setAttribute("aria-label", `Share of tokens per ${share}, pie chart`);
    this.showRateLimits(limits);
    this.showDollarLimits(limits);
    this.showEndUsers(byEndUser.series, limits.end_user_daily_usd_limit, period);
    this.showKeys(byKey.series);
    this.showProjects(byProject.series);
    this.showModels(byModel.series, latency.models);
    // The calls load beside the charts: their filters offer the models and tags found here.
    this.calls.show({
      scope, period, models: byModel.series.map((row) => row.key), tags: byTag.series.map((row) => row.key),
      users: everyone ? byShare.series.map((row) => row.label).filter(Boolean) : [],
    })
      .catch((error) => this.showBanner(error.message));
    for (const chart of this.charts) chart.destroy();
    const styles = getComputedStyle(document.documentElement);
    const colour = styles.getPropertyValue("--accent").trim() || "#2f6feb";
    const muted = styles.getPropertyValue("--muted").trim() || "#888";
    Chart.defaults.color = muted;
    const reduceMotion = matchMedia("(prefers-reduced-motion: reduce)").matches;
    const animation = reduceMotion ? false : { duration: 300 };
    const days = byDay.series.map((row) => row.key);
    this.charts = [
      new Chart(this.canvas("daily"), {
        type: "bar",
        data: { labels: days, datasets: [{ label: "tokens", data: byDay.series.map((row) => row.total_tokens), backgroundColor: colour }] },
        options: { animation, plugins: { legend: { display: false } } },
      }),
      new Chart(this.canvas("share"), {
        type: "pie",
        data: {
          // The empty key holds what no conversation made: embeddings calls and text completions (`/v1/embeddings`,
          // `/v1/completions`).
          labels: byShare.series.map((row) => row.label ?? (row.key === "" ? "Embeddings and completions (no conversation)" : row.key)),
          // A hue of its own for each slice, so that the slices and their legend tell apart.
          datasets: [{
            data: byShare.series.map((row) => row.total_tokens),
            backgroundColor: byShare.series.map((_, index) => `hsl(${(215 + index * 137.5) % 360} 65% 55%)`),
          }],
        },
        options: { animation },
      }),
      new Chart(this.canvas("trend"), {
        type: "line",
        data: {
          labels: days,
          datasets: [
            { label: "input", data: byDay.series.map((row) => row.input_tokens), borderColor: colour },
            { label: "output", data: byDay.series.map((row) => row.output_tokens), borderColor: muted },
          ],
        },
        options: { animation },
      }),
    ];
    // The same figures as text, for screen readers and for anyone who prefers numbers to pictures.
    this.section.querySelector(".usage-table").replaceChildren(...byDay.series.map((row) => {
      const item = document.createElement("li");
      item.textContent = `${row.key}: ${numberFormat.format(row.total_tokens)} tokens, $${row.cost_usd}, ${row.turns} turns`;
      return item;
    }));
  }

  canvas(name) { return this.section.querySelector(`canvas[data-chart="${name}"]`); }

  /**
   * Usage per end user, largest first, shown only when some turn named one; names are set as text. With a daily
   * limit per end user (`sluice user set-plan … --end-user-daily-usd`), today's view says how much of it each end
   * user has spent, and marks those at 90 % or more.
   */
  showEndUsers(series, limit, period) {
    const section = this.section.querySelector(".usage-end-users");
    section.hidden = !series.some((row) => row.key);
    const caption = section.querySelector(".end-user-limit");
    caption.hidden = !limit;
    caption.textContent = limit ? `Each end user may spend $${limit} a day (UTC).` : "";
    section.querySelector("ul").replaceChildren(...series.map((row) => {
      const item = document.createElement("li");
      item.textContent = `${row.key || "(no end user)"}: ${figures(row, "turn")}`;
      if (limit && row.key && period === "today") {
        // Exact decimals as strings; a percentage for people is fine in floating point.
        const percent = Math.min(100, Math.floor((Number(row.cost_usd) / Number(limit)) * 100));
        item.textContent += ` — ${percent} % of the day's limit`;
        item.classList.toggle("near-limit", percent >= 90);
      }
      return item;
    }));
  }

  /**
   * Usage per labelled API key, largest first, with each key's last turn; shown only when some turn was made with a
   * key. Labels are set as text.
   */
  showKeys(series) {
    const section = this.section.querySelector(".usage-keys");
    section.hidden = !series.some((row) => row.key);
    section.querySelector("ul").replaceChildren(...series.map((row) => {
      const item = document.createElement("li");
      const last = row.last_turn_at ? `, last ${new Date(row.last_turn_at).toLocaleString()}` : "";
      item.textContent = `${row.key ? row.label ?? row.key : "(your own token and this app)"}: ${figures(row, "turn")}${last}`;
      return item;
    }));
  }

  /** Everyone's usage per user, largest first (an administrator's view); names are set as text. */
  showUsers(series) {
    this.fill(".usage-users", series, series.length > 0, (row) => {
      const last = row.last_turn_at ? `, last ${new Date(row.last_turn_at).toLocaleString()}` : "";
      return `${row.label ?? row.key}: ${figures(row)}${last}`;
    });
  }

  /** Everyone's usage per team (the one each turn's user was in then), largest first; shown once some turn was in one. */
  showTeams(series) {
    this.fill(".usage-teams", series, series.some((row) => row.key),
      (row) => `${row.key ? row.label ?? "(a deleted team)" : "(no team)"}: ${figures(row)}`);
  }

  /**
   * Usage per tag a gateway caller gave its calls (`metadata.tags`, `x-sluice-tags`), largest first, shown only when
   * some call had one; a call counts under each of its tags. Tags are set as text.
   */
  showTags(series) {
    this.fill(".usage-tags", series, series.some((row) => row.key), (row) => `${row.key || "(untagged)"}: ${figures(row)}`);
  }

  /** Fills the list of the section `selector` with a line of text per row (`line(row)`), and shows it when `shown`. */
  fill(selector, series, shown, line) {
    const section = this.section.querySelector(selector);
    section.hidden = !shown;
    section.querySelector("ul").replaceChildren(...series.map((row) => Object.assign(document.createElement("li"), {
      textContent: line(row),
    })));
  }

  /** Today's dollars under each daily limit that applies to the user: their own, their team's and the service's. */
  showDollarLimits(limits) {
    const line = this.section.querySelector(".usage-dollar-limits");
    const day = (dollars) => `$${dollars.spent} of $${dollars.limit} (${dollars.percent} %)`;
    const sentences = [];
    if (limits.daily_usd) sentences.push(`You have spent ${day(limits.daily_usd)} of your daily limit today.`);
    const team = limits.team;
    if (team?.daily_usd) sentences.push(`Your team ${team.name} has spent ${day(team.daily_usd)} of its daily limit today.`);
    if (team?.monthly_usd) sentences.push(`Your team ${team.name} has spent ${day(team.monthly_usd)} of its monthly limit this month.`);
    const teamRates = team && (team.requests_per_minute ?? team.tokens_per_minute ?? team.max_parallel_requests) != null;
    if (team && !team.daily_usd && !team.monthly_usd && !teamRates) sentences.push(`You are in the team ${team.name}, which has no limits.`);
    if (limits.global_daily_usd) sentences.push(`Everyone together has spent ${day(limits.global_daily_usd)} of the service's daily limit.`);
    line.hidden = sentences.length === 0;
    line.textContent = sentences.join(" ");
  }

  /** Usage per project (the one each conversation is in now), largest first; shown only when some turn was in one. */
  showProjects(series) {
    const section = this.section.querySelector(".usage-projects");
    section.hidden = !series.some((row) => row.key);
    section.querySelector("ul").replaceChildren(...series.map((row) => {
      const item = document.createElement("li");
      if (row.key) item.append(icon("folder", { lead: true }));
      item.append(`${row.key ? row.label ?? row.key : "(no project)"}: ${figures(row)}`);
      return item;
    }));
  }

  /**
   * Each model's tokens, cost and answers, how fast it answered (the first token at the median and the 95th
   * percentile, the median speed after it) and how the user rated it (thumbs up / down): how the models compare.
   */
  showModels(series, latency = []) {
    const speed = new Map(latency.map((entry) => [entry.model, entry]));
    const section = this.section.querySelector(".usage-models");
    section.hidden = series.length === 0;
    section.querySelector("ul").replaceChildren(...series.map((row) => {
      const item = document.createElement("li");
      item.textContent = `${row.key}: ${figures(row)}`;
      const fast = speed.get(row.key);
      if (fast) {
        item.textContent += ` · first token ${duration(fast.ttft_ms.p50)} (95 %: ${duration(fast.ttft_ms.p95)})`
          + (fast.tokens_per_second_p50 != null ? ` · ${fast.tokens_per_second_p50} tokens/s` : "");
        item.title = `Over ${numberFormat.format(fast.answers)} complete answers; 99 % began within ${duration(fast.ttft_ms.p99)}`;
      }
      if (row.rated_good || row.rated_bad) {
        item.append(" · ", icon("thumbs-up", { lead: true }), `${row.rated_good} good · `, icon("thumbs-down", { lead: true }), `${row.rated_bad} bad`);
      }
      return item;
    }));
  }

  /**
   * The account's limits per minute and of answers at once (`sluice user set-plan … --requests-per-minute /
   * --tokens-per-minute / --max-parallel-requests`) with their use now, if it has any; then its team's, which all
   * the team's members share (`sluice team set …`).
   */
  showRateLimits(limits) {
    const line = this.section.querySelector(".usage-rate-limits");
    const count = (used, limit) => `${numberFormat.format(used ?? 0)} of ${numberFormat.format(limit)}`;
    const sentences = UsagePage.rateSentences(limits, "Limits per minute: ", " used in the last minute.");
    if (limits.max_parallel_requests != null) {
      sentences.push(`${count(limits.running_requests, limits.max_parallel_requests)} answers at once running now.`);
    }
    const team = limits.team;
    if (team) {
      sentences.push(...UsagePage.rateSentences(team, `Your team ${team.name}'s limits per minute: `, " used in the last minute by all its members."));
      if (team.max_parallel_requests != null) {
        sentences.push(`Your team ${team.name} has ${count(team.running_requests, team.max_parallel_requests)} answers at once running now.`);
      }
    }
    line.hidden = sentences.length === 0;
    line.textContent = sentences.join(" ");
  }

  /** The sentence (none or one) on one set of limits per minute (`WireBudget`'s or its team's fields). */
  static rateSentences(limits, opening, closing) {
    const parts = [];
    if (limits.requests_per_minute != null) {
      parts.push(`${numberFormat.format(limits.requests_last_minute ?? 0)} of ${numberFormat.format(limits.requests_per_minute)} requests`);
    }
    if (limits.tokens_per_minute != null) {
      parts.push(`${numberFormat.format(limits.tokens_last_minute ?? 0)} of ${numberFormat.format(limits.tokens_per_minute)} tokens`);
    }
    return parts.length ? [`${opening}${parts.join(" and ")}${closing}`] : [];
  }

  showTotals(totals) {
    this.section.querySelector(".usage-totals").textContent =
      `${numberFormat.format(totals.total_tokens)} tokens (${numberFormat.format(totals.input_tokens)} in`
      + (totals.cached_input_tokens ? `, ${numberFormat.format(totals.cached_input_tokens)} of them from the prompt cache, ` : ", ")
      + `${numberFormat.format(totals.output_tokens)} out) · $${totals.cost_usd} · ${numberFormat.format(totals.turns)} answers`
      + UsagePage.cacheSentence(totals);
  }

  /** What the response cache saved, LiteLLM's "saved cost": its answers cost nothing, the calls they repeated would. */
  static cacheSentence(row) {
    if (!row.cache_hits) return "";
    const answers = row.cache_hits === 1 ? "answer" : "answers";
    return ` · ${numberFormat.format(row.cache_hits)} ${answers} from the response cache saved `
      + `${numberFormat.format(row.saved_tokens)} tokens, $${row.saved_cost_usd}`;
  }

  async downloadCSV() {
    const everyone = this.scope.value === "all";
    const blob = await api.getUsageCSV(this.period.value, "day", this.scope.value);
    const link = Object.assign(document.createElement("a"), {
      href: URL.createObjectURL(blob), download: `sluice-usage-${everyone ? "everyone-" : ""}${this.period.value}.csv`,
    });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
  }
}
