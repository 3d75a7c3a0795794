import Foundation
import SQLiteNIO
import SluiceCore

/// Row decoding and value conversion for `SQLiteStore`.
extension SQLiteStore {
    static func now() -> Date {
        // Millisecond precision, as stored, so a value read back equals the value written.
        Date(timeIntervalSince1970: (Date().timeIntervalSince1970 * 1000).rounded(.down) / 1000)
    }

    static func milliseconds(_ date: Date) -> Int { Int((date.timeIntervalSince1970 * 1000).rounded()) }

    static func date(_ data: SQLiteData?) -> Date {
        Date(timeIntervalSince1970: Double(data?.integer ?? 0) / 1000)
    }

    static func optional(_ value: String?) -> SQLiteData { value.map { .text($0) } ?? .null }
    static func optional(_ value: Int?) -> SQLiteData { value.map { .integer($0) } ?? .null }

    static func text(_ row: SQLiteRow, _ column: String) -> String { row.column(column)?.string ?? "" }
    static func optionalText(_ row: SQLiteRow, _ column: String) -> String? {
        guard let data = row.column(column), !data.isNull else { return nil }
        return data.string
    }
    static func optionalInt(_ row: SQLiteRow, _ column: String) -> Int? {
        guard let data = row.column(column), !data.isNull else { return nil }
        return data.integer
    }

    static func user(_ row: SQLiteRow) -> User {
        User(
            id: text(row, "id"), name: text(row, "name"), plan: Plan(rawValue: text(row, "plan")) ?? .free,
            createdAt: date(row.column("created_at")))
    }

    static func conversation(_ row: SQLiteRow) -> Conversation {
        Conversation(
            id: text(row, "id"), userID: text(row, "user_id"), title: text(row, "title"), model: text(row, "model"),
            systemPrompt: optionalText(row, "system_prompt"), createdAt: date(row.column("created_at")),
            updatedAt: date(row.column("updated_at")))
    }

    /// A message's columns plus its cost from the usage ledger.
    static let messageColumns = """
        m.*, (SELECT SUM(u.cost_picousd) FROM token_usage u WHERE u.message_id = m.id AND u.state = 'settled') AS cost_picousd
        """

    static func message(_ row: SQLiteRow) -> Message {
        let input = optionalInt(row, "input_tokens")
        let output = optionalInt(row, "output_tokens")
        let total = optionalInt(row, "total_tokens")
        let role = MessageRole(rawValue: text(row, "role")) ?? .user
        return Message(
            id: text(row, "id"), conversationID: text(row, "conversation_id"), role: role,
            content: text(row, "content"), status: MessageStatus(rawValue: text(row, "status")) ?? .partial,
            model: optionalText(row, "model"), createdAt: date(row.column("created_at")),
            usage: role == .assistant
                ? Usage(
                    inputTokens: input, outputTokens: output, totalTokens: total,
                    source: optionalText(row, "usage_source").flatMap(UsageSource.init(rawValue:)),
                    countedInputTokens: optionalInt(row, "counted_input_tokens"),
                    countedOutputTokens: optionalInt(row, "counted_output_tokens"))
                : nil,
            ttftMs: optionalInt(row, "ttft_ms"), durationMs: optionalInt(row, "duration_ms"),
            finishReason: optionalText(row, "finish_reason"), error: optionalText(row, "error"),
            errorCode: optionalText(row, "error_code"), tokenEnds: decodeTokenEnds(text(row, "token_ends")),
            versionGroup: optionalText(row, "version_group"), superseded: (row.column("superseded")?.integer ?? 0) != 0,
            cost: optionalInt(row, "cost_picousd").map { USDAmount(picodollars: Int64($0)) },
            contextMode: optionalText(row, "context_mode").flatMap(ContextMode.init(rawValue:)) ?? .auto)
    }

    /// Token ends are stored as comma-separated numbers: compact, and rewritten with the content anyway.
    static func encode(_ tokenEnds: [Int]) -> String { tokenEnds.map(String.init).joined(separator: ",") }
    static func decodeTokenEnds(_ text: String) -> [Int] {
        text.isEmpty ? [] : text.split(separator: ",").compactMap { Int($0) }
    }
}
