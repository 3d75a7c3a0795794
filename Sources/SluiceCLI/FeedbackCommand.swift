import ArgumentParser
import Foundation
import SluiceCore
import SluiceStore

/// `sluice feedback list`: the answers users rated 👍 / 👎, newest first, for an operator to review.
struct FeedbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feedback", abstract: "What users thought of their answers.", subcommands: [List.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print rated answers, newest first: when, who, which model, the rating, the comment and the question.")
        @Option(help: "Only good or bad ratings (default: both).") var rating: String?
        @Option(help: "First UTC day to include, YYYY-MM-DD (default: 30 days ago).") var since: String?
        @Option(help: "At most this many answers.") var limit: Int = 50
        @OptionGroup var database: UserCommand.DatabaseOption

        func run() async throws {
            let kind = try rating.map { name in
                guard let kind = AnswerFeedback.Rating(rawValue: name) else { throw ValidationError("--rating must be good or bad") }
                return kind
            }
            guard limit > 0 else { throw ValidationError("--limit must be a positive number of answers") }
            let start = try UsageCommand.start(since: since)
            let answers = try await database.withStore { try await $0.ratedAnswers(since: start, rating: kind, limit: limit) }
            print(["rated_at", "user", "model", "rating", "comment", "question", "message"].joined(separator: "\t"))
            for answer in answers {
                print([
                    answer.feedback.at.formatted(.iso8601), answer.userName, answer.model ?? "-", answer.feedback.rating.rawValue,
                    Self.oneLine(answer.feedback.comment ?? "", limit: 200), Self.oneLine(answer.question ?? "", limit: 80),
                    answer.messageID,
                ].joined(separator: "\t"))
            }
        }

        /// `text` on one line, tabs and line breaks as spaces, cut to `limit` characters with "…".
        static func oneLine(_ text: String, limit: Int) -> String {
            let line = text.split(whereSeparator: { $0.isNewline || $0 == "\t" }).joined(separator: " ")
            return line.count > limit ? String(line.prefix(limit)) + "…" : line
        }
    }
}
