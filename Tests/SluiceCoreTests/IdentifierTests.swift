import Foundation
import SluiceCore
import Testing

struct IdentifierTests {
    @Test func identifiersAreLowerCaseVersion4UUIDsAndDistinct() {
        let made = (0..<10_000).map { _ in Identifier.make() }
        #expect(Set(made).count == made.count)
        for id in made.prefix(500) {
            let uuid = UUID(uuidString: id)
            #expect(uuid?.uuidString.lowercased() == id)
            let bytes = uuid.map { withUnsafeBytes(of: $0.uuid) { Array($0) } } ?? []
            #expect(bytes.count == 16 && bytes[6] >> 4 == 4 && bytes[8] >> 6 == 0b10, "\(id)")
        }
        // Every hex digit appears in every free position over many ids: the bits are random, not a counter.
        let free = (0..<36).filter { ![8, 13, 14, 18, 19, 23].contains($0) }
        for position in free {
            let digits = Set(made.map { Array($0.utf8)[position] })
            #expect(digits.count == 16, "position \(position)")
        }
    }
}
