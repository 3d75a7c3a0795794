import SluiceCore
import Testing

@Suite("Search terms")
struct SearchTermsTests {
    @Test("words are terms, a quoted phrase is one, the same term once, an unclosed quote runs to the end")
    func parsing() {
        #expect(SearchTerms("lisbon  food\tguide")?.terms == ["lisbon", "food", "guide"])
        #expect(SearchTerms(#"where "food in lisbon" now"#)?.terms == ["where", "food in lisbon", "now"])
        #expect(SearchTerms("Lisbon lisbon LISBON")?.terms == ["Lisbon"])
        #expect(SearchTerms(#"tips "open phrase "#)?.terms == ["tips", "open phrase"])
        #expect(SearchTerms(#"say"hi"there"#)?.terms == ["say", "hi", "there"])
        #expect(SearchTerms("") == nil && SearchTerms(#" "" "#) == nil)
    }

    @Test("LIKE patterns take %, _ and \\ literally")
    func patterns() {
        #expect(SearchTerms.likePattern(#"100%_a\b"#) == #"%100\%\_a\\b%"#)
    }

    @Test("the first hit is the earliest place of any term, ignoring case and accents")
    func firstHit() throws {
        let text = "Try the pastéis in Belém"
        let terms = try #require(SearchTerms("belem PASTEIS"))
        #expect(terms.firstHit(in: text).map { String(text[$0]) } == "pastéis")
        #expect(try #require(SearchTerms("kyoto")).firstHit(in: text) == nil)
    }
}
