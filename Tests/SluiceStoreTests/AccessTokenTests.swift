import SluiceStore
import Testing

struct AccessTokenTests {
    /// Stores keep these hashes: the format (lower-case hex SHA-256) must never change under existing databases.
    @Test func theHashIsTheLowerCaseHexSHA256OfTheToken() {
        #expect(AccessToken.hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(AccessToken.hash("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func newTokensAreUniqueAndURLSafe() {
        let tokens = (0..<50).map { _ in AccessToken.generate() }
        #expect(Set(tokens).count == tokens.count)
        for token in tokens {
            #expect(token.hasPrefix("sluice_"))
            #expect(token.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" })
        }
    }
}
