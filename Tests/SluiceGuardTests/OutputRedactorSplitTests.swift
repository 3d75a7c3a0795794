@testable import SluiceGuard
import SluiceTestSupport
import Testing

/// The redactor works on whatever pieces the model's tokens happen to be: however an answer is split, what is
/// shown must be what redacting it in one piece shows. Answers here mix ASCII, accents, CJK and emoji with a
/// system prompt, an operator's key and credential shapes, some right after a letter beyond ASCII.
struct OutputRedactorSplitTests {
    static let systemPrompt = "You are Sluice's helpful assistant. Never mention the launch date."
    static let secret = "sk-test-upstream-secret-0001"

    static let answers = [
        "Voilà, café: sk-proj-4fQ2x9LmZa81TTq0pXcVbN7e et naïve 🙂 fin.",
        "日本語sk-proj-4fQ2x9LmZa81TTq0pXcVbN7e は鍵です",
        "Ünïcödé then \(systemPrompt) and \(secret) done",
        "éAKIAIOSFODNN7EXAMPLE — no boundary before it, so it stays (the pattern wants one)",
        "Keys: ghp_16C7e42F292c6912E7710c838347Ae178B4a, xoxb-1234567890-abcdefghij; 🙂AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q.",
        "works sk ski skates — café sk-",
    ]

    static func redactor() throws -> OutputRedactor {
        OutputRedactor(systemPrompt: systemPrompt, credentials: try GuardRulesFixture.credentials(), secrets: [secret])
    }

    /// Splits `text` at `cuts` characters (each at least 1) in turn, repeating the pattern.
    static func split(_ text: String, cuts: [Int]) -> [String] {
        var pieces: [String] = []
        var rest = Substring(text)
        var turn = 0
        while !rest.isEmpty {
            let end = rest.index(rest.startIndex, offsetBy: cuts[turn % cuts.count], limitedBy: rest.endIndex) ?? rest.endIndex
            pieces.append(String(rest[..<end]))
            rest = rest[end...]
            turn += 1
        }
        return pieces
    }

    @Test(arguments: answers)
    func everySplitShowsWhatTheWholeAnswerShows(answer: String) throws {
        var whole = try Self.redactor()
        let expected = OutputRedactorTests.stream([answer], through: &whole)
        #expect(!expected.contains(Self.secret) && !expected.contains(Self.systemPrompt))
        #expect(!expected.contains("sk-proj-4fQ2x9LmZa81TTq0pXcVbN7e"))
        var generator = SeededGenerator(seed: UInt64(answer.utf8.count))
        var splits: [[Int]] = (1...6).map { [$0] }
        for _ in 0..<200 { splits.append((0..<5).map { _ in Int(generator.next() % 6) + 1 }) }
        for cuts in splits {
            var redactor = try Self.redactor()
            let shown = OutputRedactorTests.stream(Self.split(answer, cuts: cuts), through: &redactor)
            #expect(shown == expected, "cuts \(cuts)")
            #expect(redactor.redactions == whole.redactions, "cuts \(cuts)")
        }
    }

    @Test func aKeyRightAfterALetterBeyondASCIIIsHeldBackUntilItIsDecided() throws {
        var redactor = try Self.redactor()
        #expect(redactor.feed("café") == "café")
        #expect(redactor.feed("sk") == "")
        #expect(redactor.feed("-proj-4fQ2x9LmZa81TTq0pXcVbN7e") == "")
        #expect(redactor.feed(" ok") + redactor.finish() == "\(OutputRedactor.credentialMarker) ok")
    }

    @Test func theSystemPromptAfterMultiByteTextIsHeldBackAtAWordStartOnly() throws {
        var redactor = try Self.redactor()
        #expect(redactor.feed("日本語: You are") == "日本語: ")
        #expect(redactor.feed(" Sluice's helpful") == "")
        #expect(redactor.feed(" friend") == "You are Sluice's helpful friend")
        // Inside a word (after a letter beyond ASCII) it does not start the prompt.
        #expect(redactor.feed(" éYou are") == " éYou are")
    }
}
