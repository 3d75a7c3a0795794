@testable import SluiceGuard
import Testing

struct PersonalDataFinderTests {
    /// The details `PersonalDataFinder` finds in `text`, as text.
    static func found(_ text: String) -> [String] {
        let bytes = Array(text.utf8)
        return PersonalDataFinder.matches(in: text).map { "\($0.kind.rawValue):" + String(decoding: bytes[$0.range], as: UTF8.self) }
    }

    @Test("each kind is found in a sentence, without the punctuation around it", arguments: [
        ("Write to ann.lee+work@mail.example.co.uk.", "email:ann.lee+work@mail.example.co.uk"),
        ("(casey@example.test)", "email:casey@example.test"),
        ("Call +44 20 7946 0958 tomorrow", "phone:+44 20 7946 0958"),
        ("Call +1 (555) 123-4567.", "phone:+1 (555) 123-4567"),
        ("my cell is (555) 123-4567, thanks", "phone:(555) 123-4567"),
        ("555.123.4567", "phone:555.123.4567"),
        ("1-800-555-0199", "phone:1-800-555-0199"),
        ("Ruf an: 0176 12345678", "phone:0176 12345678"),
        ("06 12 34 56 78", "phone:06 12 34 56 78"),
        ("+4917612345678", "phone:+4917612345678"),
        ("card 4111 1111 1111 1111 exp 12/29", "card:4111 1111 1111 1111"),
        ("5500-0000-0000-0004", "card:5500-0000-0000-0004"),
        ("amex 378282246310005", "card:378282246310005"),
        ("IBAN DE89 3704 0044 0532 0130 00 please", "iban:DE89 3704 0044 0532 0130 00"),
        ("GB82WEST12345698765432", "iban:GB82WEST12345698765432"),
        ("SSN 123-45-6789", "ssn:123-45-6789"),
    ])
    func findsEachKind(text: String, expected: String) {
        #expect(Self.found(text) == [expected])
    }

    @Test("numbers that are not personal details are left alone", arguments: [
        "Order 5551234567 shipped",          // a bare run of digits: an id, not a phone number
        "4111 1111 1111 1112",                // fails the Luhn check
        "1234 5678 9012 3456",                // no card network starts so
        "DE89 3704 0044 0532 0130 01",        // fails the IBAN check
        "000-12-3456 and 666-12-3456 and 123-00-4567", // no such social security numbers
        "on 2024-01-15 at 10:30",
        "version 1.2.3 and 10.0.0.1",
        "pi is 3.14159265358979",
        "01.02.2024 10",
        "a total of 1 000 000 users",
        "ticket #123-456-7890a",
        "user@localhost and @handle and a@b",
        "v2.4111111111111111",
        "x-123-45-6789",
    ])
    func leavesOtherNumbersAlone(text: String) {
        #expect(Self.found(text) == [])
    }

    @Test func severalDetailsAreFoundInOrder() {
        let text = "Ann (ann@example.com, +49 30 1234567) pays with 4242 4242 4242 4242; Bo: bo@example.org."
        #expect(Self.found(text) == [
            "email:ann@example.com", "phone:+49 30 1234567", "card:4242 4242 4242 4242", "email:bo@example.org",
        ])
    }

    @Test func textAroundNonASCIICharactersKeepsItsOffsets() {
        #expect(Self.found("Grüße an jörg@example.de — Tel. +49 89 123456") == ["email:jörg@example.de", "phone:+49 89 123456"])
    }
}
