import Foundation
import SluiceCore
import SluiceTestSupport
import Testing
@testable import SluiceStore

/// `circuit_cooldowns` (schema step 31): a shared open circuit is read until its moment, a later moment wins, and a
/// write drops what has expired.
@Suite("Shared circuit states in the store")
struct CircuitStoreTests {
    @Test("an open circuit is read until it may be tried again; the later moment of two wins; expired rows are dropped",
          arguments: TestDatabases.backends)
    func shareAndRead(_ backend: StoreBackend) async throws {
        let (store, _) = try await TestDatabases.makeStore(backend)
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(try await store.openCircuits(now: now).isEmpty)
        try await store.shareOpenCircuit(name: "gpt@gpu-1:8000", until: now.addingTimeInterval(30), now: now)
        try await store.shareOpenCircuit(name: "api.openai.com", until: now.addingTimeInterval(10), now: now)
        #expect(try await store.openCircuits(now: now) == [
            "gpt@gpu-1:8000": now.addingTimeInterval(30), "api.openai.com": now.addingTimeInterval(10),
        ])
        // An instance whose cooldown ends sooner does not shorten another's; a longer one lengthens it.
        try await store.shareOpenCircuit(name: "gpt@gpu-1:8000", until: now.addingTimeInterval(20), now: now)
        try await store.shareOpenCircuit(name: "api.openai.com", until: now.addingTimeInterval(40), now: now)
        #expect(try await store.openCircuits(now: now.addingTimeInterval(10)) == [
            "gpt@gpu-1:8000": now.addingTimeInterval(30), "api.openai.com": now.addingTimeInterval(40),
        ])
        #expect(try await store.openCircuits(now: now.addingTimeInterval(30)) == ["api.openai.com": now.addingTimeInterval(40)])
        // A write after one expired drops its row.
        try await store.shareOpenCircuit(name: "local", until: now.addingTimeInterval(60), now: now.addingTimeInterval(35))
        #expect(try await StoreTests.column("name", of: "SELECT name FROM circuit_cooldowns ORDER BY name", in: store)
            == ["api.openai.com", "local"])
        try await store.close()
    }
}
