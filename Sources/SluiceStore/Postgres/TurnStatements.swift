import Foundation
import PostgresNIO
import SluiceCore

/// The statements every chat turn runs — its budget hold, its progress, its settle — as prepared statements:
/// PostgreSQL parses and plans each once per connection instead of on every call (postgres-nio prepares one on a
/// connection's first use of it and keeps it by name). Unnamed, these cost the server 0.2–0.3 ms of parsing and
/// as much of planning per call, more than running them (docs/benchmarks.md, "Prepared statements on a turn's path").
///
/// Each statement declares the type of every parameter (`bindingDataTypes`): postgres-nio would otherwise prepare it
/// with the types of its first call's values, where a `NULL` has none, and a later value would not match.
/// `StatementValues` records the type of each value as it is appended, and a debug build checks it against the
/// declared list.
protocol TurnStatement: PostgresPreparedStatement where Row == PostgresRandomAccessRow {
    var values: StatementValues { get }
}

extension TurnStatement {
    func makeBindings() -> PostgresBindings {
        assert(values.types == Self.bindingDataTypes, "\(Self.self) binds \(values.types), declares \(Self.bindingDataTypes)")
        return values.bindings
    }

    func decodeRow(_ row: PostgresRow) -> PostgresRandomAccessRow { row.makeRandomAccess() }
}

/// A prepared statement's values, each with the PostgreSQL type it is bound as (a `nil` included).
struct StatementValues {
    private(set) var bindings = PostgresBindings()
    private(set) var types: [PostgresDataType] = []

    mutating func text(_ value: String?) {
        bindings.append(value)
        types.append(.text)
    }

    mutating func bigint(_ value: Int?) {
        bindings.append(value)
        types.append(.int8)
    }

    mutating func texts(_ value: [String]) {
        bindings.append(value)
        types.append(.textArray)
    }

    mutating func bigints(_ value: [Int]) {
        bindings.append(value)
        types.append(.int8Array)
    }

    /// A new message's values in the order of `PostgresStore.insertedColumns`; an answer carries `writer`.
    mutating func message(_ message: Message, writer: String) {
        let usage = message.usage
        text(message.id)
        text(message.conversationID)
        text(message.role.rawValue)
        text(message.content)
        text(message.status.rawValue)
        text(message.model)
        bigint(StoredValues.milliseconds(message.createdAt))
        bigint(usage?.inputTokens)
        bigint(usage?.outputTokens)
        bigint(usage?.totalTokens)
        bigint(message.ttftMs)
        bigint(message.durationMs)
        text(message.finishReason)
        text(message.error)
        text(message.errorCode)
        text(message.versionGroup)
        bigint(message.superseded ? 1 : 0)
        text(message.role == .assistant ? writer : nil)
        text(StoredValues.encode(message.toolCalls))
        text(message.toolCallID)
        text(StoredValues.encode(message.attachments))
        text(StoredValues.encode(message.images))
        text(StoredValues.encode(message.signedThinking))
    }

    /// A new conversation's values, in the order of `StoredValues.conversationColumns`.
    mutating func conversation(_ conversation: Conversation, updatedAt: Date) {
        text(conversation.id)
        text(conversation.userID)
        text(conversation.title)
        text(conversation.model)
        text(conversation.systemPrompt)
        bigint(StoredValues.milliseconds(conversation.createdAt))
        bigint(StoredValues.milliseconds(updatedAt))
        text(conversation.endUser)
    }

    static let messageTypes: [PostgresDataType] = Array(repeating: .text, count: 6) + Array(repeating: .int8, count: 6)
        + Array(repeating: .text, count: 4) + [.int8, .text, .text, .text, .text, .text, .text]
}

/// The answers' text so far, one row per answer (`ProgressWriter` gathers them). An answer without thinking sends
/// an empty `reasoning` and a `reasoning_ms` of -1 (the arrays hold no `NULL`s): both leave what is stored.
struct ProgressStatement: TurnStatement {
    static let sql = """
        UPDATE messages m SET content = v.content, token_ends = v.token_ends,
            reasoning = COALESCE(NULLIF(v.reasoning, ''), m.reasoning),
            reasoning_ms = COALESCE(NULLIF(v.reasoning_ms, -1), m.reasoning_ms)
        FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int8[])
            AS v(id, content, token_ends, reasoning, reasoning_ms)
        WHERE m.id = v.id AND m.status = 'streaming'
        """
    static let bindingDataTypes: [PostgresDataType] = [.textArray, .textArray, .textArray, .textArray, .int8Array]
    let values: StatementValues

    init(_ updates: [ProgressUpdate]) {
        var values = StatementValues()
        values.texts(updates.map(\.messageID))
        values.texts(updates.map(\.content))
        values.texts(updates.map { StoredValues.encode($0.tokenEnds) })
        values.texts(updates.map { $0.reasoning ?? "" })
        values.bigints(updates.map { $0.reasoningMs ?? -1 })
        self.values = values
    }
}

/// A budget hold: `sluice_hold` (schema steps 12, 14, 15, 19, 23, 27, 36 and 52) locks the user's limits and inserts
/// the hold.
struct HoldStatement: TurnStatement {
    static let sql = "SELECT * FROM sluice_hold(\(placeholders(1...22)))"
    static let bindingDataTypes: [PostgresDataType] = holdTypes
    static let holdTypes: [PostgresDataType] = Array(repeating: .text, count: 5) + Array(repeating: .int8, count: 9)
        + [.text, .int8, .int8, .int8, .int8, .text, .int8, .text]
    let values: StatementValues

    /// The function's arguments in its order.
    struct Arguments {
        var id, userID, conversationID, messageID, model: String
        var now, expires, dayStart, wanted, input, inputCost, outputPrice: Int
        var globalLimit: Int?
        var globalLock: Int
        var apiKeyID: String?
        var apiKeyDailyLimit: Int?
        var apiKeyRateCaps: RateCaps
        var endUser: String?
        var extraAnswer: Bool
        /// The call's tags as stored (`StoredValues.tagsJSON`), or `nil`.
        var tags: String?

        func append(to values: inout StatementValues) {
            for text in [id, userID, conversationID, messageID, model] { values.text(text) }
            for number in [now, expires, dayStart, wanted, input, inputCost, outputPrice] { values.bigint(number) }
            values.bigint(globalLimit)
            values.bigint(globalLock)
            values.text(apiKeyID)
            values.bigint(apiKeyDailyLimit)
            values.bigint(apiKeyRateCaps.requestsPerMinute)
            values.bigint(apiKeyRateCaps.tokensPerMinute)
            values.bigint(apiKeyRateCaps.maxParallel)
            values.text(endUser)
            values.bigint(extraAnswer ? 1 : 0)
            values.text(tags)
        }
    }

    init(_ arguments: Arguments) {
        var values = StatementValues()
        arguments.append(to: &values)
        self.values = values
    }
}

/// A budget hold and the answer's row, stored only if the hold is granted — in one statement, so the user's lock
/// is not held across another round trip. The answer's conversation is touched as an insert of a message does.
struct HoldWithAnswerStatement: TurnStatement {
    static let sql = """
        WITH held AS (\(HoldStatement.sql)), inserted AS (
            INSERT INTO messages (\(PostgresStore.insertedColumns))
            SELECT \(placeholders(23...45)) FROM held
            RETURNING conversation_id, created_at
        ), touched AS (
            UPDATE conversations c SET updated_at = i.created_at FROM inserted i WHERE c.id = i.conversation_id
        )
        SELECT * FROM held
        """
    static let bindingDataTypes: [PostgresDataType] = HoldStatement.holdTypes + StatementValues.messageTypes
    let values: StatementValues

    init(_ arguments: HoldStatement.Arguments, answer: Message, writer: String) {
        var values = StatementValues()
        arguments.append(to: &values)
        values.message(answer, writer: writer)
        self.values = values
    }
}

/// Settles a hold (the ledger row, and the user's `tokens_used` and `tokens_held`), stores how an answer ended and
/// marks its conversation's thread, in one statement: each part a data-modifying `WITH` that runs unreferenced and
/// does nothing when its part is absent (its id is `NULL`). Without a hold it is how an answer is finished.
struct SettleStatement: TurnStatement {
    static let sql = """
        WITH settled AS (
            UPDATE token_usage SET state = CASE WHEN $1::bigint > 0 THEN 'settled' WHEN $25::bigint > 0 THEN 'cached' ELSE 'released' END,
                input_tokens = $2, output_tokens = $3, total_tokens = $1, cost_picousd = $4,
                saved_tokens = COALESCE($25, 0), saved_cost_picousd = COALESCE($26, 0),
                cached_input_tokens = COALESCE($27, 0)
            WHERE id = $5 AND state = 'held'
            RETURNING user_id, state, total_tokens, reserved_tokens
        ), finished AS (
            UPDATE messages SET content = $6, status = $7,
                input_tokens = $8, output_tokens = $9, total_tokens = $10, usage_source = $11,
                counted_input_tokens = $12, counted_output_tokens = $13,
                ttft_ms = $14, duration_ms = $15, finish_reason = $16, error = $17, error_code = $18,
                token_ends = $19, model = COALESCE($20, model), tool_calls = $24,
                cached_input_tokens = $28, cache_write_tokens = $29,
                reasoning = COALESCE($30, reasoning), reasoning_ms = COALESCE($31, reasoning_ms),
                thinking_blocks = COALESCE($32, thinking_blocks)
            WHERE id = $21
            RETURNING id
        ), marked AS (
            UPDATE conversations SET thread_key = $22 WHERE id = $23
            RETURNING id
        )
        UPDATE user_token_limits l SET
            tokens_used = l.tokens_used + CASE WHEN settled.state = 'settled' THEN settled.total_tokens ELSE 0 END,
            tokens_held = l.tokens_held - settled.reserved_tokens
        FROM settled WHERE l.user_id = settled.user_id
        """
    static let bindingDataTypes: [PostgresDataType] = [.int8, .int8, .int8, .int8, .text]
        + [.text, .text, .int8, .int8, .int8, .text, .int8, .int8, .int8, .int8, .text, .text, .text, .text, .text, .text]
        + [.text, .text, .text] + [.int8, .int8] + [.int8, .int8, .int8] + [.text, .int8, .text]
    let values: StatementValues

    init(
        hold: (id: String, inputTokens: Int, outputTokens: Int, cachedInputTokens: Int, cost: USDAmount)?,
        answer: AnswerFinish?, saved: CacheSavings? = nil
    ) {
        var values = StatementValues()
        values.bigint(hold.map { $0.inputTokens + $0.outputTokens })
        values.bigint(hold?.inputTokens)
        values.bigint(hold?.outputTokens)
        values.bigint(hold.map { Int($0.cost.picodollars) })
        values.text(hold?.id)
        let outcome = answer?.outcome
        let usage = outcome?.usage
        values.text(outcome?.content)
        values.text(outcome?.status.rawValue)
        values.bigint(usage?.inputTokens)
        values.bigint(usage?.outputTokens)
        values.bigint(usage?.totalTokens)
        values.text(usage?.source?.rawValue)
        values.bigint(usage?.countedInputTokens)
        values.bigint(usage?.countedOutputTokens)
        values.bigint(outcome?.ttftMs)
        values.bigint(outcome?.durationMs)
        values.text(outcome?.finishReason)
        values.text(outcome?.error)
        values.text(outcome?.errorCode)
        values.text(outcome.map { StoredValues.encode($0.tokenEnds) })
        values.text(outcome?.model)
        values.text(answer?.messageID)
        values.text(answer?.thread?.key)
        values.text(answer?.thread?.conversationID)
        values.text(outcome.flatMap { StoredValues.encode($0.toolCalls) })
        values.bigint(saved?.tokens)
        values.bigint(saved.map { Int($0.cost.picodollars) })
        values.bigint(hold?.cachedInputTokens)
        values.bigint(usage?.cachedInputTokens)
        values.bigint(usage?.cacheWriteTokens)
        values.text(outcome?.reasoning)
        values.bigint(outcome?.reasoningMs)
        values.text(outcome.flatMap { StoredValues.encode($0.signedThinking) })
        self.values = values
    }
}

/// One message and, when it starts one, its conversation — a turn's user message, stored before anything else —
/// touching the conversation as `PostgresStore.insertion(of:creating:)` does for any number of messages.
struct MessageInsertStatement: TurnStatement {
    static let sql = """
        WITH inserted AS (
            INSERT INTO messages (\(PostgresStore.insertedColumns)) VALUES (\(placeholders(1...23)))
            RETURNING conversation_id, created_at
        )
        UPDATE conversations c SET updated_at = i.created_at FROM inserted i WHERE c.id = i.conversation_id
        """
    static let bindingDataTypes = StatementValues.messageTypes
    let values: StatementValues

    init(_ message: Message, writer: String) {
        var values = StatementValues()
        values.message(message, writer: writer)
        self.values = values
    }
}

/// A new conversation with its first message. The conversation's `updated_at` is the later of its own and the
/// message's time: the touch of `MessageInsertStatement` cannot see a row inserted by the same statement.
struct ConversationStartStatement: TurnStatement {
    static let sql = """
        WITH created AS (
            INSERT INTO conversations (\(StoredValues.conversationColumns))
            VALUES (\(placeholders(24...31)))
        )
        INSERT INTO messages (\(PostgresStore.insertedColumns)) VALUES (\(placeholders(1...23)))
        """
    static let bindingDataTypes = StatementValues.messageTypes + [.text, .text, .text, .text, .text, .int8, .int8, .text]
    let values: StatementValues

    init(_ conversation: Conversation, message: Message, writer: String) {
        var values = StatementValues()
        values.message(message, writer: writer)
        values.conversation(conversation, updatedAt: max(conversation.updatedAt, message.createdAt))
        self.values = values
    }
}

/// `$a, $a+1, …, $b`.
private func placeholders(_ numbers: ClosedRange<Int>) -> String {
    numbers.map { "$\($0)" }.joined(separator: ", ")
}
