import Foundation
import SluiceCore
import SluiceTestSupport
import Testing
@testable import SluiceStore

/// Schema step 17: each ledger row keeps its conversation's end user, so usage per end user outlives the conversation.
@Suite("End users in the ledger")
struct EndUserLedgerTests {
    /// A user with two conversations, one for the end user `shop-1` and one without, and a settled turn in each
    /// (30 and 7 tokens).
    static func setUp(_ backend: StoreBackend) async throws -> (any SluiceDatabase, String, User, shop: String, own: String) {
        let (store, location) = try await TestDatabases.makeStore(backend)
        try await store.migrate()
        let user = try await store.createUser(name: "service", plan: .unlimited, tokenHash: "h")
        let shop = Conversation.starting(userID: user.id, title: "API: for the shop", model: "m", systemPrompt: nil, endUser: "shop-1")
        let own = Conversation.starting(userID: user.id, title: "API: mine", model: "m", systemPrompt: nil)
        for (conversation, tokens) in [(shop, (20, 10)), (own, (5, 2))] {
            try await store.createConversation(conversation, messages: [])
            let hold = try #require(try await store.hold(
                BudgetStoreTests.request(user, conversation.id, input: tokens.0, output: 50), now: Date()))
            try await store.settle(
                holdID: hold.id, inputTokens: tokens.0, outputTokens: tokens.1, cost: .zero, now: Date(), finishing: nil)
        }
        return (store, location, user, shop.id, own.id)
    }

    /// What undoes schema steps 70 to 62 (masked personal data, identities, memories, tag budgets, keys' tags, usage tags, the audit log, teams' rate limits, teams).
    static func undoStepsFrom62(_ backend: StoreBackend) -> [String] {
        let triggers = backend == .sqlite
            ? ["DROP TRIGGER token_usage_team_spending_held", "DROP TRIGGER token_usage_team_spending_ended"]
            : ["DROP TRIGGER token_usage_team_spending ON token_usage", "DROP FUNCTION sluice_count_team_spending()"]
        // Step 65's function takes the call's tags too; step 63's comes back.
        let step65 = (backend == .sqlite ? [] : [
            "DROP FUNCTION sluice_hold(\(Migrations.holdArgumentTypes), TEXT, BIGINT, BIGINT, BIGINT, BIGINT, TEXT, BIGINT, TEXT)",
            Migrations.holdFunction(
                limitingEndUsers: true, limitingRates: true, recordingKeys: true, limitingKeyRates: true, namingEndUsers: true,
                countingCalls: true, limitingTeams: true, limitingTeamRates: true),
        ]) + ["ALTER TABLE token_usage DROP COLUMN tags"]
        let step66 = ["ALTER TABLE api_keys DROP COLUMN tags"]
        // Step 65's undoing drops step 67's `sluice_hold` too (the same arguments).
        let step67 = (backend == .sqlite
            ? ["DROP TRIGGER token_usage_tag_spending_held", "DROP TRIGGER token_usage_tag_spending_ended"]
            : ["DROP TRIGGER token_usage_tag_spending ON token_usage", "DROP FUNCTION sluice_count_tag_spending()"])
            + ["DROP TABLE tag_daily_spending", "DROP TABLE tag_budgets"]
        let step68 = ["DROP TABLE memories", "ALTER TABLE users DROP COLUMN memory_enabled", "ALTER TABLE messages DROP COLUMN memory"]
        let step69 = ["DROP TABLE identities"]
        let step70 = ["ALTER TABLE messages DROP COLUMN personal_data_masked"]
        return step70 + step69 + step68 + step67 + step66 + step65 + ["DROP TABLE audit_log", "DROP INDEX token_usage_held_by_team", "DROP INDEX token_usage_by_team"] + triggers + [
            "DROP TABLE team_daily_spending", "ALTER TABLE token_usage DROP COLUMN team_id", "DROP INDEX users_by_team",
            "ALTER TABLE users DROP COLUMN team_id", "DROP TABLE teams",
        ]
    }

    /// What undoes schema steps 17 and later, newest first (for tests that migrate an older schema): each new step
    /// adds its undoing here. PostgreSQL's `sluice_hold` stays the newest step's: migrating again replaces it.
    static func undoStepsFrom17(_ backend: StoreBackend) -> [String] {
        let step62 = undoStepsFrom62(backend)
        let step61 = ["DROP TABLE security_events"]
        let step60 = ["DROP TABLE recovery_codes", "DROP TABLE two_step"]
        let step59 = ["DROP TABLE sign_in_attempts"]
        let step58 = [
            "ALTER TABLE sessions DROP COLUMN last_active_at", "ALTER TABLE sessions DROP COLUMN address",
            "ALTER TABLE sessions DROP COLUMN user_agent",
        ]
        let step57 = ["ALTER TABLE users DROP COLUMN pending"]
        let step56 = ["DROP TABLE sessions", "ALTER TABLE users DROP COLUMN password_hash"]
        let step55 = ["ALTER TABLE users DROP COLUMN deleted_at"]
        let step54 = ["ALTER TABLE users DROP COLUMN suspended_at"]
        let step53 = ["ALTER TABLE users DROP COLUMN is_admin"]
        // Step 52's function takes the extra answer's mark too; step 36's comes back for its undoing below.
        let step52 = (backend == .sqlite ? [] : [
            "DROP FUNCTION sluice_hold(\(Migrations.holdArgumentTypes), TEXT, BIGINT, BIGINT, BIGINT, BIGINT, TEXT, BIGINT)",
            Migrations.holdFunction(
                limitingEndUsers: true, limitingRates: true, recordingKeys: true, limitingKeyRates: true, namingEndUsers: true),
        ]) + ["ALTER TABLE token_usage DROP COLUMN extra_answer"]
        let step51 = ["ALTER TABLE conversations DROP COLUMN parameters"]
        let step50 = ["ALTER TABLE messages DROP COLUMN sources"]
        let step49 = backend == .postgres ? ["DROP TABLE stop_requests"] : []
        let step48 = ["DROP INDEX conversations_listed", "DROP INDEX conversations_archived"]
        let step47 = ["ALTER TABLE conversations DROP COLUMN branched_from"]
        let step46 = ["DROP TABLE saved_prompts"]
        let step45 = ["DROP INDEX conversations_by_project", "ALTER TABLE conversations DROP COLUMN project_id", "DROP TABLE project_files", "DROP TABLE projects"]
        let step44 = ["ALTER TABLE users DROP COLUMN auto_titles"]
        let step43 = ["ALTER TABLE messages DROP COLUMN edited_at"]
        let step42 = ["DROP TABLE shared_links"]
        let step41 = ["ALTER TABLE messages DROP COLUMN thinking_blocks"]
        let step40 = ["ALTER TABLE users DROP COLUMN instructions"]
        let step39 = ["ALTER TABLE messages DROP COLUMN images"]
        let step38 = ["ALTER TABLE messages DROP COLUMN reasoning", "ALTER TABLE messages DROP COLUMN reasoning_ms"]
        let step37 = ["DROP TABLE unkept_conversations"]
        // Step 36's function takes the call's end user too; step 27's comes back for its undoing below.
        let step36 = backend == .sqlite ? [] : [
            "DROP FUNCTION sluice_hold(\(Migrations.holdArgumentTypes), TEXT, BIGINT, BIGINT, BIGINT, BIGINT, TEXT)",
            Migrations.holdFunction(limitingEndUsers: true, limitingRates: true, recordingKeys: true, limitingKeyRates: true),
        ]
        let step35 = ["ALTER TABLE messages DROP COLUMN hidden_with"]
        let step34 = ["ALTER TABLE messages DROP COLUMN attachments"]
        let step33 = ["ALTER TABLE messages DROP COLUMN cached_input_tokens", "ALTER TABLE messages DROP COLUMN cache_write_tokens",
                      "ALTER TABLE token_usage DROP COLUMN cached_input_tokens"]
        let step32 = ["feedback", "feedback_comment", "feedback_at"].map { "ALTER TABLE messages DROP COLUMN \($0)" }
        let step31 = ["DROP TABLE circuit_cooldowns"]
        let step30 = ["ALTER TABLE conversations DROP COLUMN pinned_at", "ALTER TABLE conversations DROP COLUMN archived_at"]
        let step29 = ["ALTER TABLE token_usage DROP COLUMN saved_tokens", "ALTER TABLE token_usage DROP COLUMN saved_cost_picousd"]
        let step28 = ["DROP TABLE response_cache"]
        // Step 27's function takes three arguments more; without it step 23's cannot be dropped by its own types.
        let step27 = (backend == .sqlite ? [] : [
            "DROP FUNCTION sluice_hold(\(Migrations.holdArgumentTypes), TEXT, BIGINT, BIGINT, BIGINT, BIGINT)",
            Migrations.holdFunction(limitingEndUsers: true, limitingRates: true, recordingKeys: true),
        ]) + [
            "DROP INDEX token_usage_by_key", "ALTER TABLE api_keys DROP COLUMN requests_per_minute",
            "ALTER TABLE api_keys DROP COLUMN tokens_per_minute", "ALTER TABLE api_keys DROP COLUMN max_parallel_requests",
        ]
        let step26 = ["ALTER TABLE api_keys DROP COLUMN daily_usd_limit_picousd"]
        let step25 = ["ALTER TABLE api_keys DROP COLUMN allowed_models"]
        let step24 = ["ALTER TABLE api_keys DROP COLUMN expires_at"]
        // Step 23's function takes one argument more; without it step 19's (which names the old one) cannot drop it.
        let step23 = (backend == .sqlite ? [] : ["DROP FUNCTION sluice_hold(\(Migrations.holdArgumentTypes), TEXT, BIGINT)",
                                                 Migrations.holdFunction(limitingEndUsers: true, limitingRates: true)])
            + ["ALTER TABLE token_usage DROP COLUMN api_key_id"]
        let step22 = ["ALTER TABLE messages DROP COLUMN tool_calls", "ALTER TABLE messages DROP COLUMN tool_call_id"]
        let step21 = ["DROP TABLE api_keys"]
        let step20 = ["ALTER TABLE users DROP COLUMN allowed_models"]
        // Step 19's function returns more than the earlier steps' do, which cannot replace it.
        let step19Function = backend == .sqlite ? [] : ["DROP FUNCTION sluice_hold(\(Migrations.holdArgumentTypes))"]
        let step19 = ["requests_per_minute", "tokens_per_minute", "max_parallel_requests"].map {
            "ALTER TABLE user_token_limits DROP COLUMN \($0)"
        }
        let step18 = ["DROP INDEX token_usage_by_end_user", "ALTER TABLE user_token_limits DROP COLUMN end_user_daily_usd_limit_picousd"]
        let step17 = backend == .sqlite
            ? ["ALTER TABLE token_usage DROP COLUMN end_user"]
            : ["DROP TRIGGER token_usage_end_user ON token_usage", "DROP FUNCTION sluice_usage_end_user()",
               "ALTER TABLE token_usage DROP COLUMN end_user"]
        return step62 + step61 + step60 + step59 + step58 + step57 + step56 + step55 + step54 + step53 + step52 + step51 + step50 + step49 + step48 + step47 + step46 + step45 + step44 + step43 + step42 + step41 + step40 + step39 + step38 + step37 + step36 + step35 + step34 + step33 + step32 + step31 + step30 + step29 + step28 + step27 + step26 + step25 + step24 + step23 + step22 + step21 + step20 + step19Function + step19 + step18 + step17
    }

    static func totals(_ store: any SluiceDatabase, _ user: User) async throws -> [String: Int] {
        let buckets = try await store.usageHistory(userID: user.id, since: Date().addingTimeInterval(-3600), groupedBy: .endUser)
        return Dictionary(uniqueKeysWithValues: buckets.map { ($0.key, $0.totalTokens) })
    }

    @Test("a turn's ledger row keeps its end user, and usage per end user outlives the conversation", arguments: TestDatabases.backends)
    func outlivesConversation(_ backend: StoreBackend) async throws {
        let (store, _, user, shop, own) = try await Self.setUp(backend)
        #expect(try await StoreTests.column(
            "end_user", of: "SELECT COALESCE(end_user, '-') AS end_user FROM token_usage ORDER BY total_tokens DESC", in: store)
            == ["shop-1", "-"])
        #expect(try await Self.totals(store, user) == ["shop-1": 30, "": 7])
        try await store.deleteConversation(id: shop)
        try await store.deleteConversation(id: own)
        // Before step 17 both turns fell into "" once their conversations were gone.
        #expect(try await Self.totals(store, user) == ["shop-1": 30, "": 7])
        try await store.close()
    }

    @Test("migrating to step 17 fills the ledger's end users from the conversations", arguments: TestDatabases.backends)
    func backfill(_ backend: StoreBackend) async throws {
        let (store, location, user, _, _) = try await Self.setUp(backend)
        // Back to schema step 16: the column (and PostgreSQL's trigger) gone, the steps not recorded.
        for statement in Self.undoStepsFrom17(backend) + ["DELETE FROM schema_migrations WHERE version >= 17"] {
            _ = try await StoreTests.column("x", of: statement, in: store)
        }
        try await store.close()
        let reopened = try await SluiceDatabases.open(location)
        try await reopened.migrate()
        #expect(try await StoreTests.column(
            "end_user", of: "SELECT COALESCE(end_user, '-') AS end_user FROM token_usage ORDER BY total_tokens DESC", in: reopened)
            == ["shop-1", "-"])
        #expect(try await Self.totals(reopened, user) == ["shop-1": 30, "": 7])
        try await reopened.close()
    }
}
