import Prometheus
import SluiceCore
import SluiceGuard
import Synchronization

/// Sluice's metrics in one Prometheus registry, served at `GET /metrics`. An instance per application (not
/// the process-global MetricsSystem), so tests and several servers in one process keep their own counts.
public final class SluiceMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private static let latencyBuckets: [Duration] = [
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
    ]

    /// Whether a model name may become a label value; others are counted as `other`. A user can name any model
    /// when one upstream serves them all, and every new label value is a new series kept forever.
    private let isKnownModel: @Sendable (String) -> Bool

    /// - Parameter knownModels: the models that get a series of their own (configured, default, priced); `nil`
    ///   labels every model by its name (tests, and setups where every name is configured anyway).
    public init(knownModels: (@Sendable (String) -> Bool)? = nil) {
        isKnownModel = knownModels ?? { _ in true }
    }

    /// The label value for `model`: its name when known, else `other`.
    func modelLabel(_ model: String) -> String { isKnownModel(model) ? model : "other" }

    /// One turn ended: its outcome (the message status), timings and tokens.
    func turnFinished(model: String, status: MessageStatus, ttft: Duration?, duration: Duration, usage: Usage?) {
        counter(
            name: "sluice_turns_total", labels: [("model", modelLabel(model)), ("outcome", status.rawValue)],
            help: "Chat turns by model and outcome (complete, partial, error, cancelled)."
        ).increment()
        if let ttft {
            durationHistogram(
                name: "sluice_ttft_seconds", labels: [("model", modelLabel(model))], buckets: Self.latencyBuckets,
                help: "Time from the start of a turn to the first token."
            ).record(ttft)
        }
        durationHistogram(
            name: "sluice_turn_duration_seconds", labels: [("model", modelLabel(model))], buckets: Self.latencyBuckets,
            help: "Total time of a turn."
        ).record(duration)
        if let input = usage?.inputTokens {
            counter(name: "sluice_input_tokens_total", labels: [("model", modelLabel(model))], help: "Input tokens (the provider's, or Sluice's count when it reports none).")
                .increment(by: Int64(input))
        }
        if let output = usage?.outputTokens {
            counter(name: "sluice_output_tokens_total", labels: [("model", modelLabel(model))], help: "Output tokens (the provider's, or Sluice's count when it reports none).")
                .increment(by: Int64(output))
        }
        // How much of the input the providers read from (or wrote to) their prompt caches: a hit rate for dashboards.
        if let cached = usage?.cachedInputTokens, cached > 0 {
            counter(name: "sluice_cached_input_tokens_total", labels: [("model", modelLabel(model))], help: "Input tokens the provider read from its prompt cache (part of sluice_input_tokens_total).")
                .increment(by: Int64(cached))
        }
        if let written = usage?.cacheWriteTokens, written > 0 {
            counter(name: "sluice_cache_write_tokens_total", labels: [("model", modelLabel(model))], help: "Input tokens the provider wrote to its prompt cache (part of sluice_input_tokens_total).")
                .increment(by: Int64(written))
        }
        if usage?.source == .counted {
            counter(name: "sluice_usage_counted_total", labels: [("model", modelLabel(model))], help: "Turns whose usage Sluice counted because the provider reported none.")
                .increment()
        }
    }

    /// A gateway API passed on to the upstream and answered whole: its metrics' name (`sluice_<name>_…`) and what
    /// their help calls its calls.
    enum PassThroughAPI: String {
        case embeddings = "embedding"
        case rerank

        var calls: String { self == .embeddings ? "Embeddings calls" : "Rerank calls" }
    }

    /// One `POST /v1/embeddings` or `/v1/rerank` call ended: whether it answered, how long it took, the input tokens it
    /// was charged.
    func passThroughFinished(api: PassThroughAPI, model: String, ok: Bool, duration: Duration, inputTokens: Int?) {
        let name = api.rawValue
        counter(
            name: "sluice_\(name)_requests_total", labels: [("model", modelLabel(model)), ("outcome", ok ? "complete" : "error")],
            help: "\(api.calls) by model and outcome (complete, error)."
        ).increment()
        durationHistogram(
            name: "sluice_\(name)_duration_seconds", labels: [("model", modelLabel(model))], buckets: Self.latencyBuckets,
            help: "Total time of one of the \(api.calls.lowercased()), retries included."
        ).record(duration)
        if let inputTokens {
            counter(
                name: "sluice_\(name)_input_tokens_total", labels: [("model", modelLabel(model))],
                help: "Input tokens of \(api.calls.lowercased()) (the provider's count, or Sluice's when it reports none)."
            ).increment(by: Int64(inputTokens))
        }
    }

    /// One `POST /v1/completions` call ended (`outcome`: complete, error, cancelled), how long it took, and the
    /// tokens it was charged.
    func textCompletionFinished(model: String, outcome: String, duration: Duration, usage: (input: Int, output: Int)?) {
        counter(
            name: "sluice_text_completion_requests_total", labels: [("model", modelLabel(model)), ("outcome", outcome)],
            help: "Text completion calls (/v1/completions) by model and outcome (complete, error, cancelled)."
        ).increment()
        durationHistogram(
            name: "sluice_text_completion_duration_seconds", labels: [("model", modelLabel(model))], buckets: Self.latencyBuckets,
            help: "Total time of a text completion call, retries included."
        ).record(duration)
        for (kind, tokens) in usage.map({ [("input", $0.input), ("output", $0.output)] }) ?? [] {
            counter(
                name: "sluice_text_completion_tokens_total", labels: [("model", modelLabel(model)), ("kind", kind)],
                help: "Tokens of text completion calls by kind (input, output): the provider's count, or Sluice's."
            ).increment(by: Int64(tokens))
        }
    }

    /// A conversation's title was asked of a model (`outcome`: titled, no_title, renamed, error) — see `TitleRoute`.
    func titleWritten(model: String, outcome: String) {
        counter(
            name: "sluice_titles_total", labels: [("model", modelLabel(model)), ("outcome", outcome)],
            help: "Conversation titles asked of a model, by outcome (titled, no_title, renamed, error)."
        ).increment()
    }

    /// What a turn was charged. The ledger keeps exact amounts; the metric is for dashboards and alerts.
    func charged(model: String, cost: USDAmount) {
        counter(name: "sluice_cost_usd_total", labels: [("model", modelLabel(model))], help: "USD charged for turns, by model.")
            .increment(by: Double(cost.picodollars) / 1e12)
    }

    /// The provider's usage and Sluice's count of the same turn differ (`kind` is `input` or `output`).
    func usageCountMismatch(model: String, kind: String) {
        counter(
            name: "sluice_usage_count_mismatch_total", labels: [("model", modelLabel(model)), ("kind", kind)],
            help: "Turns where the provider's token usage and Sluice's own count differ."
        ).increment()
    }

    /// A request was answered with an error of this code (Sluice's own codes, a bounded set): refusals before any
    /// turn — `budget_exceeded`, `rate_limit_exceeded`, `model_not_allowed`, `busy` — and every other error answer.
    func answeredWithError(code: String) {
        counter(name: "sluice_api_errors_total", labels: [("code", code)], help: "Error answers by code, refusals included.")
            .increment()
    }

    /// A turn ended with an error event of this code.
    func turnFailed(code: String) {
        counter(name: "sluice_turn_errors_total", labels: [("code", code)], help: "Turns that ended with an error, by code.")
            .increment()
    }

    /// An upstream call failed (each attempt counts); `status` is the HTTP status or `connection`, `stream`, `malformed`.
    func upstreamFailed(_ error: ProviderError) {
        let status: String
        switch error {
        case .http(let code, _, _): status = String(code)
        case .connection: status = "connection"
        case .upstreamError: status = "stream_error"
        case .malformed: status = "malformed"
        case .circuitOpen: status = "circuit_open"
        case .firstTokenTimeout: status = "first_token_timeout"
        }
        counter(name: "sluice_upstream_errors_total", labels: [("status", status)], help: "Failed upstream attempts by HTTP status or kind.")
            .increment()
        if case .http(429, _, _) = error {
            counter(name: "sluice_rate_limited_total", help: "Upstream 429 answers.").increment()
        }
        if case .http(let code, _, _) = error, code == 401 || code == 403 {
            counter(name: "sluice_upstream_auth_failures_total", help: "Upstream 401/403: a misconfigured key.").increment()
        }
    }

    /// The prompt guard kept a user's message from the upstream.
    func promptRejected(rule: String, category: String) {
        counter(
            name: "sluice_prompt_rejected_total", labels: [("rule", rule), ("category", category)],
            help: "User messages the prompt guard did not send upstream, by rule."
        ).increment()
    }

    /// Something was redacted from a model's answer (`kind`: system_prompt, secret, or a credential shape).
    func outputRedacted(kind: String) {
        counter(
            name: "sluice_output_redactions_total", labels: [("kind", kind)],
            help: "Redactions from model output before it reached a client, by kind."
        ).increment()
    }

    /// Personal details were masked in a call to `model`'s upstream (`PersonalDataMaskingProvider`): how many
    /// different ones of each kind.
    public func personalDataMasked(model: String, counts: [PersonalDataKind: Int]) {
        for (kind, count) in counts where count > 0 {
            counter(
                name: "sluice_personal_data_masked_total", labels: [("model", modelLabel(model)), ("kind", kind.rawValue)],
                help: "Personal details replaced by placeholders before a call reached an upstream, by kind."
            ).increment(by: Int64(count))
        }
    }

    /// Older messages were folded into a conversation's running summary.
    func summarised(messages: Int) {
        counter(name: "sluice_summaries_total", help: "Folds of older messages into a running summary.").increment()
        counter(name: "sluice_summarised_messages_total", help: "Messages folded into running summaries.")
            .increment(by: Int64(messages))
    }

    /// The summariser failed; the turn went on without the older messages.
    func summaryFailed() {
        counter(name: "sluice_summary_failures_total", help: "Summariser calls that failed.").increment()
    }

    /// An upstream's circuit breaker changed state (0 closed, 1 open, 2 half-open).
    public func setCircuitState(upstream: String, state: Int) {
        gauge(
            name: "sluice_circuit_state", labels: [("upstream", upstream)],
            help: "Circuit breaker per upstream: 0 closed (calls flow), 1 open (calls refused), 2 half-open (one probe)."
        ).set(Double(state))
    }

    /// How many calls wait in an upstream's queue.
    public func setQueueWaiting(upstream: String, count: Int) {
        gauge(
            name: "sluice_queue_waiting", labels: [("upstream", upstream)],
            help: "Calls waiting for a free slot of the upstream (bounded; a full queue answers 503 busy)."
        ).set(Double(count))
    }

    /// A model failed before its first token and another took over.
    func fellBack(from: String, to: String) {
        counter(
            name: "sluice_fallbacks_total", labels: [("from", modelLabel(from)), ("to", modelLabel(to))],
            help: "Turns answered by a fallback model because the requested one failed before its first token."
        ).increment()
    }

    /// Every model failed and a cached answer was served instead.
    func answerRated(model: String, rating: AnswerFeedback.Rating) {
        counter(
            name: "sluice_answer_feedback_total", labels: [("model", modelLabel(model)), ("rating", rating.rawValue)],
            help: "Answers users rated (good or bad), by the model that wrote them."
        ).increment()
    }

    func servedFromCache(model: String) {
        counter(
            name: "sluice_cached_answers_total", labels: [("model", modelLabel(model))],
            help: "Turns answered from the cache because every model failed."
        ).increment()
    }

    /// A gateway call looked in the response cache (`--response-cache-seconds`).
    func responseCacheLookup(model: String, hit: Bool) {
        counter(
            name: "sluice_response_cache_lookups_total", labels: [("model", modelLabel(model)), ("result", hit ? "hit" : "miss")],
            help: "Gateway calls that looked in the response cache, by whether an identical call's answer was there."
        ).increment()
    }

    /// The service-wide daily spending limit (`--global-daily-usd`), for the alert on spending over it.
    public func setDailyBudget(usd: USDAmount) {
        gauge(name: "sluice_daily_budget_usd", help: "The service-wide daily spending limit in USD.")
            .set(Double(usd.picodollars) / 1e12)
    }

    /// Each team's spending today and this month and its limits (LiteLLM's team budget metrics), as `GET /metrics`
    /// reads them from the store at each scrape: `sluice_team_spent_usd` and, where the team has that limit,
    /// `sluice_team_limit_usd`, labelled by `team` and `period` (`daily`, `monthly`). A team deleted or renamed, or
    /// a limit removed, loses its series. Every instance on one database reports the same figures.
    func setTeamSpending(_ teams: [TeamSummary]) {
        setSpending(.team, teams.map {
            SpendingFigures(
                name: $0.team.name, today: $0.spentToday, month: $0.spentThisMonth, dailyLimit: $0.team.dailyDollarLimit,
                monthlyLimit: $0.team.monthlyDollarLimit)
        })
    }

    /// Each budgeted tag's spending today and this month and its limits (LiteLLM's tag budgets), as the teams':
    /// `sluice_tag_spent_usd` and `sluice_tag_limit_usd`, labelled by `tag` and `period`.
    func setTagSpending(_ tags: [TagBudgetSummary]) {
        setSpending(.tag, tags.map {
            SpendingFigures(
                name: $0.budget.tag, today: $0.spentToday, month: $0.spentThisMonth, dailyLimit: $0.budget.dailyDollarLimit,
                monthlyLimit: $0.budget.monthlyDollarLimit)
        })
    }

    /// What shares a spending limit: a team, or the calls with a tag.
    private enum SpendingKind: String {
        case team, tag

        var help: (spent: String, limit: String) {
            switch self {
            case .team:
                ("What a team's members spent together in USD today (daily) and this UTC month (monthly).",
                 "A team's spending limit in USD, by period (daily, monthly).")
            case .tag:
                ("What the calls carrying a budgeted tag spent together in USD today (daily) and this UTC month (monthly).",
                 "A tag's spending limit in USD, by period (daily, monthly).")
            }
        }
    }

    private struct SpendingFigures {
        let name: String
        let today: USDAmount
        let month: USDAmount
        let dailyLimit: USDAmount?
        let monthlyLimit: USDAmount?
    }

    /// Sets `kind`'s gauges to `figures` and drops those of its series no longer there.
    private func setSpending(_ kind: SpendingKind, _ figures: [SpendingFigures]) {
        let dollars = { (amount: USDAmount) in Double(amount.picodollars) / 1e12 }
        var wanted: [SpendingSeries: Double] = [:]
        for figure in figures {
            let series = { (limit: Bool, period: String) in SpendingSeries(kind: kind.rawValue, limit: limit, name: figure.name, period: period) }
            wanted[series(false, "daily")] = dollars(figure.today)
            wanted[series(false, "monthly")] = dollars(figure.month)
            if let limit = figure.dailyLimit { wanted[series(true, "daily")] = dollars(limit) }
            if let limit = figure.monthlyLimit { wanted[series(true, "monthly")] = dollars(limit) }
        }
        // One scrape at a time: another's series must not be dropped between its making and its setting.
        spendingSeries.withLock { shown in
            for (series, gauge) in shown where series.kind == kind.rawValue && wanted[series] == nil {
                registry.unregisterGauge(gauge)
                shown[series] = nil
            }
            for (series, value) in wanted {
                let gauge = shown[series] ?? self.gauge(
                    name: "sluice_\(kind.rawValue)_\(series.limit ? "limit" : "spent")_usd",
                    labels: [(kind.rawValue, series.name), ("period", series.period)],
                    help: series.limit ? kind.help.limit : kind.help.spent)
                gauge.set(value)
                shown[series] = gauge
            }
        }
    }

    /// One team's or tag's gauge: its spending or its limit, for a period.
    private struct SpendingSeries: Hashable {
        let kind: String
        let limit: Bool
        let name: String
        let period: String
    }

    /// The team and tag gauges the last scrapes set, to drop those no longer wanted.
    private let spendingSeries = Mutex<[SpendingSeries: Gauge]>([:])

    /// Sluice decided to wait and retry.
    func retried(reason: String) {
        counter(name: "sluice_retries_total", labels: [("reason", reason)], help: "Retries before the first token, by reason.")
            .increment()
    }

    /// How many generations are running now.
    func setActiveGenerations(_ count: Int) {
        gauge(name: "sluice_active_generations", help: "Answers being generated now.").set(Double(count))
    }

    /// How many answers' ends wait to be written again (`UnsavedAnswerEnds`): above 0, the database is not taking
    /// writes.
    func setUnsavedAnswerEnds(_ count: Int) {
        gauge(name: "sluice_unsaved_answer_ends", help: "Ends of answers the database did not take, kept to write again.")
            .set(Double(count))
    }

    // swift-prometheus names a metric by a descriptor; Sluice's metrics keep the full names they always had.
    private func counter(name: String, labels: [(String, String)] = [], help: String) -> Counter {
        registry.makeCounter(descriptor: Self.descriptor(name, help), labels: labels)
    }

    private func gauge(name: String, labels: [(String, String)] = [], help: String) -> Gauge {
        registry.makeGauge(descriptor: Self.descriptor(name, help), labels: labels)
    }

    private func durationHistogram(
        name: String, labels: [(String, String)] = [], buckets: [Duration], help: String
    ) -> DurationHistogram {
        registry.makeDurationHistogram(descriptor: Self.descriptor(name, help), labels: labels, buckets: buckets)
    }

    private static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    /// The Prometheus text exposition of everything above.
    func exposition() -> String { registry.emitToString() }
}
