@testable import SluiceGuard
import Testing

struct PersonalDataMaskTests {
    @Test func eachDetailGetsOnePlaceholderWhereverItAppears() {
        var mask = PersonalDataMask()
        let first = mask.mask("Mail ann@example.com or bo@example.com, then call +1 555 123 4567.")
        let second = mask.mask("Did ann@example.com answer?")
        #expect(first == "Mail [EMAIL_1] or [EMAIL_2], then call [PHONE_1].")
        #expect(second == "Did [EMAIL_1] answer?")
        #expect(mask.originals == ["[EMAIL_1]": "ann@example.com", "[EMAIL_2]": "bo@example.com", "[PHONE_1]": "+1 555 123 4567"])
        #expect(mask.counts == [.email: 2, .phone: 1])
    }

    @Test func aPlaceholderTheCallerWroteIsNeverReused() {
        let texts = ["Explain what [EMAIL_1] means in this template, for ann@example.com"]
        var mask = PersonalDataMask(texts: texts)
        #expect(mask.mask(texts[0]) == "Explain what [EMAIL_1] means in this template, for [EMAIL_2]")
        var restorer = PlaceholderRestorer(originals: mask.originals)
        #expect(restorer.feed("[EMAIL_1] is a field; [EMAIL_2] is yours.") + restorer.finish()
            == "[EMAIL_1] is a field; ann@example.com is yours.")
    }

    @Test func textWithoutDetailsIsReturnedAsItIs() {
        var mask = PersonalDataMask()
        #expect(mask.mask("Nothing personal: 42 apples, version 1.2.3.") == "Nothing personal: 42 apples, version 1.2.3.")
        #expect(mask.isEmpty)
    }

    @Test("an answer split anywhere is restored whole", arguments: 1...12)
    func restoresAcrossAnySplit(size: Int) {
        var mask = PersonalDataMask()
        _ = mask.mask("ann@example.com, DE89 3704 0044 0532 0130 00, 123-45-6789")
        let answer = "Sent to [EMAIL_1] from [IBAN_1] (ref [SSN_1]); [EMAIL_9] and [link] and a[b] stay."
        var restorer = PlaceholderRestorer(originals: mask.originals)
        var shown = ""
        var index = answer.startIndex
        while index < answer.endIndex {
            let end = answer.index(index, offsetBy: size, limitedBy: answer.endIndex) ?? answer.endIndex
            shown += restorer.feed(String(answer[index..<end]))
            index = end
        }
        shown += restorer.finish()
        #expect(shown == "Sent to ann@example.com from DE89 3704 0044 0532 0130 00 (ref 123-45-6789); [EMAIL_9] and [link] and a[b] stay.")
    }

    @Test func onlyAPossiblePlaceholderIsHeldBack() {
        var mask = PersonalDataMask()
        _ = mask.mask("ann@example.com")
        var restorer = PlaceholderRestorer(originals: mask.originals)
        #expect(restorer.feed("See [EM") == "See ")
        #expect(restorer.isHolding)
        #expect(restorer.feed("AIL_1] and [x") == "ann@example.com and [x")
        #expect(!restorer.isHolding)
        #expect(restorer.feed("an array [") == "an array ")
        #expect(restorer.feed("0, 1]") == "[0, 1]")
        #expect(restorer.feed("a [EMAIL_1") == "a ")
        #expect(restorer.finish() == "[EMAIL_1")
    }
}
