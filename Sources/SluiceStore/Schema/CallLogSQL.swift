import Foundation
import SluiceCore

/// The statement of `CallLogStore.calls`, written once for both databases: the ledger's rows (`token_usage u`) with
/// their answer (`m`), conversation (`c`), key (`k`), user and team, the newest first. Only the conditions a query
/// sets are written, so that each database reads one user's calls through `token_usage_by_user` and everyone's
/// through `token_usage_by_day`, from the newest, and stops at the page's end.
struct CallLogSQL {
    /// A value bound to the statement, in the order of `placeholder`'s numbers from 1.
    enum Value: Equatable {
        case text(String)
        case integer(Int)
    }

    let sql: String
    let values: [Value]

    /// `placeholder`: the dialect's n-th parameter (`?1`, `$1`); `hasTag`: whether `u.tags` (a JSON array, or `NULL`)
    /// holds the parameter given.
    init(_ query: CallLogQuery, placeholder: (Int) -> String, hasTag: (String) -> String) {
        var values: [Value] = []
        func bind(_ value: Value) -> String {
            values.append(value)
            return placeholder(values.count)
        }
        var conditions: [String] = []
        if let user = query.userID { conditions.append("u.user_id = \(bind(.text(user)))") }
        if let model = query.model { conditions.append("u.model = \(bind(.text(model)))") }
        if let key = query.apiKeyID {
            conditions.append(key.isEmpty ? "u.api_key_id IS NULL" : "u.api_key_id = \(bind(.text(key)))")
        }
        if let endUser = query.endUser {
            conditions.append(endUser.isEmpty ? "u.end_user IS NULL" : "u.end_user = \(bind(.text(endUser)))")
        }
        if let tag = query.tag { conditions.append(hasTag(bind(.text(tag)))) }
        if let outcome = query.outcome { conditions.append("\(Self.outcome) = \(bind(.text(outcome.rawValue)))") }
        if let since = query.since { conditions.append("u.created_at >= \(bind(.integer(StoredValues.milliseconds(since))))") }
        if let before = query.before {
            // The page after the call `before`: a range on the time (the index's order), then the same moment's
            // calls with a smaller id.
            let cursor = bind(.text(before))
            let moment = "(SELECT b.created_at FROM token_usage b WHERE b.id = \(cursor))"
            conditions.append("u.created_at <= \(moment) AND (u.created_at < \(moment) OR u.id < \(cursor))")
        }
        // The page's size as a number in the text, not a parameter: PostgreSQL plans this statement before it sees the
        // parameters (a generic plan), and without the limit it guessed thousands of rows and started parallel
        // workers — 6 ms of a 0.1 ms statement (docs/benchmarks.md, "Calls one by one").
        let limit = String(query.limit)
        sql = """
            SELECT u.id, u.created_at, u.user_id, CASE WHEN us.deleted_at IS NULL THEN us.name END AS user_name, u.model,
                \(Self.outcome) AS outcome, u.input_tokens, u.output_tokens, u.cached_input_tokens, u.cost_picousd,
                c.id AS conversation_id, c.title AS conversation_title, u.api_key_id, k.label AS key_label, u.end_user,
                t.name AS team_name, u.tags, m.ttft_ms, m.duration_ms, m.finish_reason, m.error_code
            FROM token_usage u LEFT JOIN messages m ON m.id = u.message_id LEFT JOIN conversations c ON c.id = u.conversation_id
                LEFT JOIN api_keys k ON k.id = u.api_key_id LEFT JOIN users us ON us.id = u.user_id
                LEFT JOIN teams t ON t.id = u.team_id
            \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
            ORDER BY u.created_at DESC, u.id DESC LIMIT \(limit)
            """
        self.values = values
    }

    /// How a call ended (`CallRecord.Outcome`): its ledger row's state, then its answer's status. A released hold
    /// without an answer (a pass-through call that failed) failed; a settled one without an answer completed.
    static let outcome = """
        (CASE WHEN u.state = 'held' THEN 'running' WHEN u.state = 'cached' THEN 'cached'
            WHEN m.status = 'cancelled' THEN 'stopped' WHEN m.status IN ('partial', 'error', 'streaming') THEN 'failed'
            WHEN m.status IS NULL AND u.state = 'released' THEN 'failed' ELSE 'complete' END)
        """
}

extension CallLogSQL {
    /// `CallLogStore.answerTimings`'s statement: `user` (or `NULL`), `since` (milliseconds) and `limit` are the
    /// dialect's parameters. Settled answers that ended complete, with both timings, the newest first.
    static func answerTimings(user: String, since: String, limit: String) -> String {
        """
        SELECT u.model, m.ttft_ms, m.duration_ms, u.output_tokens
        FROM token_usage u JOIN messages m ON m.id = u.message_id
        WHERE u.created_at >= \(since) AND (\(user) IS NULL OR u.user_id = \(user)) AND u.state = 'settled'
            AND m.status = 'complete' AND m.ttft_ms IS NOT NULL AND m.duration_ms IS NOT NULL
        ORDER BY u.created_at DESC LIMIT \(limit)
        """
    }
}

extension StoredValues {
    static func answerTiming(_ row: some StoredRow) -> AnswerTiming {
        AnswerTiming(
            model: row.text("model"), firstTokenMilliseconds: row.int("ttft_ms") ?? 0, durationMilliseconds: row.int("duration_ms") ?? 0,
            outputTokens: row.int("output_tokens") ?? 0)
    }

    static func callRecord(_ row: some StoredRow) -> CallRecord {
        let tags = decodeTags(row.string("tags"))
        return CallRecord(
            id: row.text("id"), at: row.date("created_at"), userID: row.text("user_id"), userName: row.string("user_name"),
            model: row.text("model"), outcome: CallRecord.Outcome(rawValue: row.text("outcome")) ?? .complete,
            inputTokens: row.int("input_tokens") ?? 0, outputTokens: row.int("output_tokens") ?? 0,
            cachedInputTokens: row.int("cached_input_tokens") ?? 0, cost: USDAmount(picodollars: Int64(row.int("cost_picousd") ?? 0)),
            conversationID: row.string("conversation_id"), conversationTitle: row.string("conversation_title"),
            apiKeyID: row.string("api_key_id"), apiKeyLabel: row.string("key_label"), endUser: row.string("end_user"),
            teamName: row.string("team_name"), tags: tags, firstTokenMilliseconds: row.int("ttft_ms"),
            durationMilliseconds: row.int("duration_ms"), finishReason: row.string("finish_reason"),
            errorCode: row.string("error_code"))
    }
}
