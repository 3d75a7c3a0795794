import Foundation
import SluiceCore
import Testing

struct IdentifierTests {
    @Test("identifiers are distinct lower-case version 7 UUIDs whose random bits are random")
    func identifiersAreLowerCaseVersion7UUIDsAndDistinct() {
        let made = (0..<10_000).map { _ in Identifier.make() }
        #expect(Set(made).count == made.count)
        for id in made.prefix(500) {
            let uuid = UUID(uuidString: id)
            #expect(uuid?.uuidString.lowercased() == id)
            let bytes = uuid.map { withUnsafeBytes(of: $0.uuid) { Array($0) } } ?? []
            #expect(bytes.count == 16 && bytes[6] >> 4 == 7 && bytes[8] >> 6 == 0b10, "\(id)")
        }
        // Every hex digit appears in every random position over many ids: those bits are not a counter.
        let random = (15..<36).filter { ![18, 19, 23].contains($0) }
        for position in random {
            let digits = Set(made.map { Array($0.utf8)[position] })
            #expect(digits.count == 16, "position \(position)")
        }
    }

    @Test("an identifier starts with its time in milliseconds, so later ids sort after earlier ones")
    func identifiersAreTimeOrdered() throws {
        let moment = Date(timeIntervalSince1970: 1_764_547_200.123)  // 2025-12-01T00:00:00.123Z
        let id = Identifier.make(now: moment)
        let hex = id.replacingOccurrences(of: "-", with: "")
        #expect(UInt64(hex.prefix(12), radix: 16) == 1_764_547_200_123)
        let earlier = (0..<100).map { Identifier.make(now: moment.addingTimeInterval(Double($0) * 0.002)) }
        #expect(earlier.sorted() == earlier)
        #expect(Identifier.make() > Identifier.make(now: Date().addingTimeInterval(-1)))
    }
}
