import Foundation
import SluiceCore
@testable import SluiceStore
import SluiceTestSupport
import Testing

/// The partial indexes (schema steps 11, 18 and 27) still serve the queries that read them: SQLite uses a partial index only
/// when the query's terms imply its condition.
struct PartialIndexTests {
    func plan(_ sql: String, _ binds: [SQLiteData], on store: SQLiteStore) async throws -> String {
        try await store.connection.query("EXPLAIN QUERY PLAN " + sql, binds).compactMap { $0.string("detail") }
            .joined(separator: "; ")
    }

    @Test func liveHoldsStreamingAnswersAndVersionGroupsAreFoundThroughTheirPartialIndexes() async throws {
        let store = try await SQLiteStore.open(
            path: try await TestDatabases.makeLocation(.sqlite), logger: TestDatabases.quietLogger)
        try await store.migrate()

        let held = try await plan(
            "SELECT SUM(u.reserved_tokens) FROM token_usage u WHERE u.user_id = ? AND u.state = 'held' AND u.expires_at > ?",
            [.text("u"), .integer(0)], on: store)
        #expect(held.contains("token_usage_held"), "\(held)")
        let streaming = try await plan("SELECT id FROM messages WHERE status = 'streaming'", [], on: store)
        #expect(streaming.contains("messages_streaming"), "\(streaming)")
        let versions = try await plan("SELECT * FROM messages WHERE version_group = ?", [.text("g")], on: store)
        #expect(versions.contains("messages_by_version_group"), "\(versions)")
        let superseding = try await plan(
            "UPDATE messages SET superseded = 1 WHERE id = ? OR version_group = ?", [.text("m"), .text("g")], on: store)
        #expect(superseding.contains("messages_by_version_group"), "\(superseding)")

        // An end user's day (schema step 18), in the hold's statement.
        let endUserDay = try await plan(
            "SELECT " + EndUserSpendingSQL.spent(user: "?1", endUser: "?2", now: "?3", dayStart: "?4"),
            [.text("u"), .text("shop-1"), .integer(0), .integer(0)], on: store)
        #expect(endUserDay.contains("token_usage_by_end_user"), "\(endUserDay)")

        // A key's last minute and its running answers (schema step 27), in the hold's statement.
        let keyRates = try await plan(
            "SELECT " + KeyRateSQL.stateColumns(
                requestsPerMinute: "?3", tokensPerMinute: "?4", maxParallel: "?5", user: "?1", key: "?2", now: "?6"),
            [.text("u"), .text("k"), .integer(10), .integer(1000), .integer(2), .integer(0)], on: store)
        #expect(keyRates.contains("token_usage_by_key") && keyRates.contains("token_usage_held"), "\(keyRates)")
        #expect(!keyRates.contains("SCAN u"), "\(keyRates)")

        // A team's last minute and its running answers (schema step 63), in the hold's statement: through the team's
        // own partial indexes, never a scan of the ledger.
        let teamRates = try await plan(
            "SELECT " + TeamRateSQL.stateColumns(team: "t", now: "?2") + " FROM teams t WHERE t.id = ?1",
            [.text("team"), .integer(0)], on: store)
        #expect(teamRates.contains("token_usage_by_team") && teamRates.contains("token_usage_held_by_team"), "\(teamRates)")
        // The minute's requests and tokens from the index alone: a busy team's window is read without its rows.
        #expect(!teamRates.contains("USING INDEX token_usage_by_team "), "\(teamRates)")
        #expect(!teamRates.contains("SCAN u"), "\(teamRates)")

        // A page of the conversation list, and of the archived ones (schema step 48): read from the index in order,
        // no sort of all the user's conversations — after a cursor too.
        for listing in [
            ConversationListing(project: .none, limit: 50),
            ConversationListing(limit: 50, after: ConversationCursor(rank: 1, milliseconds: 5, sequence: 9)),
            ConversationListing(limit: 50, after: ConversationCursor(rank: 0, milliseconds: 5, sequence: 9)),
            ConversationListing(archived: true, limit: 50),
            ConversationListing(archived: true, limit: 50, after: ConversationCursor(rank: 2, milliseconds: 5, sequence: 9)),
        ] {
            let statement = ConversationPageSQL.statement(userID: "u", listing: listing, dialect: .sqlite)
            let page = try await plan(statement.sql, statement.binds.map(\.sqlite), on: store)
            #expect(page.contains(listing.archived ? "conversations_archived" : "conversations_listed"), "\(page)")
            #expect(!page.contains("TEMP B-TREE"), "\(page)")
        }

        // A complete message, a settled hold and a ledger row without an end user or a key are in none of them.
        let indexed = try await store.connection.query(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql LIKE '%WHERE%'").compactMap { $0.string("name") }
        #expect(Set(indexed) == [
            "messages_streaming", "token_usage_held", "messages_by_version_group", "token_usage_by_end_user", "token_usage_by_key",
            "conversations_listed", "conversations_archived", "users_by_team", "token_usage_by_team",
            "token_usage_held_by_team",
        ])
        try await store.close()
    }
}
