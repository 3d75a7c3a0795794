import SluiceGuard
import Testing

struct OutputRedactorTests {
    static let systemPrompt = "You are Sluice's helpful assistant. Never mention the launch date."

    /// Feeds `pieces` one by one like streamed tokens and returns everything released, in order.
    static func stream(_ pieces: [String], through redactor: inout OutputRedactor) -> String {
        var shown = ""
        for piece in pieces { shown += redactor.feed(piece) }
        return shown + redactor.finish()
    }

    static func pieces(_ text: String, size: Int) -> [String] {
        stride(from: 0, to: text.count, by: size).map {
            let start = text.index(text.startIndex, offsetBy: $0)
            return String(text[start..<(text.index(start, offsetBy: size, limitedBy: text.endIndex) ?? text.endIndex)])
        }
    }

    @Test func theSystemPromptSplitOverTokensIsRedacted() throws {
        var redactor = OutputRedactor(systemPrompt: Self.systemPrompt, credentials: try GuardRulesFixture.credentials())
        let answer = "Sure! My instructions are: \(Self.systemPrompt) That is all."
        let shown = Self.stream(Self.pieces(answer, size: 3), through: &redactor)
        #expect(shown == "Sure! My instructions are: \(OutputRedactor.systemPromptMarker) That is all.")
        #expect(redactor.redactions == ["system_prompt"])
    }

    @Test(arguments: [
        ("sk-proj-4fQ2x9LmZa81TTq0pXcVbN7e", "openai_key"),
        ("AKIAIOSFODNN7EXAMPLE", "aws_access_key"),
        ("ghp_16C7e42F292c6912E7710c838347Ae178B4a", "github_token"),
    ])
    func credentialShapesAreRedactedEvenWhenSplit(key: String, id: String) throws {
        var redactor = OutputRedactor(systemPrompt: nil, credentials: try GuardRulesFixture.credentials())
        let shown = Self.stream(Self.pieces("The key is \(key), keep it safe.", size: 2), through: &redactor)
        #expect(shown == "The key is \(OutputRedactor.credentialMarker), keep it safe.")
        #expect(!shown.contains(key))
        #expect(redactor.redactions == [id])
    }

    @Test func theOperatorsOwnSecretIsRedacted() throws {
        var redactor = OutputRedactor(systemPrompt: nil, credentials: [], secrets: ["hunter2-upstream-secret"])
        let shown = Self.stream(["your key: hunter2", "-upstream", "-secret ok"], through: &redactor)
        #expect(shown == "your key: \(OutputRedactor.credentialMarker) ok")
    }

    @Test func ordinaryTextPassesUnchangedAndWithoutLag() throws {
        var redactor = OutputRedactor(systemPrompt: Self.systemPrompt, credentials: try GuardRulesFixture.credentials())
        let pieces = ["Skiing", " is", " fun", " in", " the", " Alps", "."]
        var releasedImmediately = 0
        var shown = ""
        for piece in pieces {
            let released = redactor.feed(piece)
            if released == piece { releasedImmediately += 1 }
            shown += released
        }
        shown += redactor.finish()
        #expect(shown == pieces.joined())
        #expect(releasedImmediately == pieces.count)
        #expect(redactor.redactions.isEmpty)
    }

    @Test func aTailThatMightBeAKeyWaitsForTheNextPiece() throws {
        var redactor = OutputRedactor(systemPrompt: nil, credentials: try GuardRulesFixture.credentials())
        #expect(redactor.feed("use sk") == "use ")
        #expect(redactor.feed("ating boots") == "skating boots")
    }
}

enum GuardRulesFixture {
    static func credentials() throws -> [CredentialPattern] { try GuardRules.builtIn().credentials }
}

extension OutputRedactorTests {
    @Test func onlyATailThatStartsAWordIsHeldBack() throws {
        var redactor = OutputRedactor(systemPrompt: nil, credentials: try GuardRulesFixture.credentials(), secrets: ["sk-test-secret"])
        // Ends in "s", the first letter of the secret and of `sk-`, but inside a word: released at once.
        #expect(redactor.feed(" works") == " works")
        #expect(redactor.feed(" sk-test") == " ")
        #expect(redactor.feed("-secret!") + redactor.finish() == "\(OutputRedactor.credentialMarker)!")
    }
}
