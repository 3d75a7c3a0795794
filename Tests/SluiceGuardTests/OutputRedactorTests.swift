@testable import SluiceGuard
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
        ("github_pat_11ABCDEFG0123456789_abcdefghijKLMNOP", "github_pat"),
        ("xoxb-1234567890-abcdefghij", "slack_token"),
        ("AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q", "google_api_key"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEow IBAAK\n-----END RSA PRIVATE KEY-----", "private_key"),
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

extension OutputRedactorTests {
    /// `min_run` only spares the search where no match can be: every built-in shape, at its shortest, is longer.
    @Test func everyBuiltInShapeAtItsShortestHasTheRunItsRuleDeclares() throws {
        let shortest = [
            "openai_key": "sk-" + String(repeating: "a", count: 20),
            "aws_access_key": "ASIA" + String(repeating: "A", count: 16),
            "github_token": "gho_" + String(repeating: "a", count: 30),
            "github_pat": "github_pat_" + String(repeating: "a", count: 22),
            "slack_token": "xoxa-" + String(repeating: "a", count: 10),
            "google_api_key": "AIza" + String(repeating: "a", count: 35),
            "private_key": "-----BEGIN PRIVATE KEY-----x-----END PRIVATE KEY-----",
        ]
        let credentials = try GuardRulesFixture.credentials()
        #expect(Set(credentials.map(\.id)) == Set(shortest.keys))
        for credential in credentials {
            let key = try #require(shortest[credential.id])
            #expect(credential.minimumRun > 0, "\(credential.id) declares no min_run")
            #expect(OutputRedactor.longestKeyRun(in: key) >= credential.minimumRun, "\(credential.id)")
            var redactor = OutputRedactor(systemPrompt: nil, credentials: [credential])
            let shown = Self.stream(Self.pieces("see \(key) here", size: 3), through: &redactor)
            #expect(shown == "see \(OutputRedactor.credentialMarker) here", "\(credential.id)")
        }
    }

    @Test func theLongestRunOfKeyCharactersIsMeasuredInBytesOfASCII() {
        #expect(OutputRedactor.longestKeyRun(in: "") == 0)
        #expect(OutputRedactor.longestKeyRun(in: "ab cd-ef_g h") == 7)
        #expect(OutputRedactor.longestKeyRun(in: "é123é") == 3)
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
