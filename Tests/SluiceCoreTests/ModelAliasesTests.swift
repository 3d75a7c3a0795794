import SluiceCore
import Testing

struct ModelAliasesTests {
    let served = ["SmolLM2-135M-Instruct", "gpt-4o-mini", "claude-local"]

    @Test func exactNamesWinOverPrefixesAndLongerPrefixesOverShorterOnes() throws {
        let aliases = try ModelAliases(
            ["gpt-4o": "gpt-4o-mini", "claude-*": "SmolLM2-135M-Instruct", "claude-opus-*": "gpt-4o-mini",
             "claude-opus-4-1": "claude-local"],
            served: served)
        #expect(aliases.resolve("gpt-4o") == "gpt-4o-mini")
        #expect(aliases.resolve("claude-sonnet-4-5-20250929") == "SmolLM2-135M-Instruct")
        #expect(aliases.resolve("claude-opus-4-5") == "gpt-4o-mini")
        #expect(aliases.resolve("claude-opus-4-1") == "claude-local")
        // A served model's own name is never taken by a prefix, and a name no alias covers stays as it is.
        #expect(aliases.resolve("claude-local") == "claude-local")
        #expect(aliases.resolve("mistral-large") == "mistral-large")
        #expect(aliases.resolve("gpt-4o-mini") == "gpt-4o-mini")
        #expect(ModelAliases().resolve("claude-x") == "claude-x" && ModelAliases().isEmpty && !aliases.isEmpty)
    }

    @Test func anAliasThatHidesAModelPointsNowhereOrIsNoNameIsRefusedWithItsReason() {
        let cases: [([String: String], String)] = [
            (["gpt-4o-mini": "claude-local"], "a served model's own name"),
            (["gpt-4o": "gpt-5"], "'gpt-5', which is not a served model"),
            (["*": "gpt-4o-mini"], "must be a name"),
            (["a*b*": "gpt-4o-mini"], "must be a name"),
        ]
        for (aliases, reason) in cases {
            #expect {
                _ = try ModelAliases(aliases, served: served)
            } throws: { error in
                (error as? AliasError)?.description.contains(reason) == true
            }
        }
    }

    @Test func exactNamesAreListedByNameUnlessHiddenAndOnlyAnExactNameCanBeHidden() throws {
        let aliases = try ModelAliases(
            ["gpt-4o": "gpt-4o-mini", "gpt-4": "gpt-4o-mini", "claude-*": "claude-local", "o3": "SmolLM2-135M-Instruct"],
            served: served, hidden: ["gpt-4"])
        #expect(aliases.listed.map(\.name) == ["gpt-4o", "o3"])
        #expect(aliases.listed.map(\.model) == ["gpt-4o-mini", "SmolLM2-135M-Instruct"])
        // Hidden is only left out of the list: the name still works.
        #expect(aliases.resolve("gpt-4") == "gpt-4o-mini")
        for hidden in ["claude-*", "mistral"] {
            #expect {
                _ = try ModelAliases(["claude-*": "claude-local"], served: served, hidden: [hidden])
            } throws: { error in
                (error as? AliasError)?.description.contains("'\(hidden)' is hidden but is no alias's exact name") == true
            }
        }
    }
}
