import Foundation

/// Small real images, written by Pillow (a 3 × 2 PNG, a 40 × 30 JPEG and a 64 × 48 progressive one, a 5 × 7 GIF, WebP
/// in its three layouts: lossy 9 × 4, lossless 6 × 11, extended 17 × 13 with alpha and Exif), for tests of images
/// in messages.
public enum TestImages {
    public static let png3x2 = "iVBORw0KGgoAAAANSUhEUgAAAAMAAAACCAIAAAASFvFNAAAAFUlEQVR4nGM8IWfDwMDAwMDAxAADABUsASY0+3CFAAAAAElFTkSuQmCC"
    public static let jpeg40x30 = "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4UG1RV19iZ2hnPk1xeXBkeFxlZ2P/2wBDARESEhgVGC8aGi9jQjhCY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2P/wAARCAAeACgDASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwDJooorA+nCiiigAooooAKKKKACiiigAooooA//2Q=="
    public static let progressiveJPEG64x48 = "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABsSFBcUERsXFhceHBsgKEIrKCUlKFE6PTBCYFVlZF9VXVtqeJmBanGQc1tdhbWGkJ6jq62rZ4C8ybqmx5moq6T/2wBDARweHigjKE4rK06kbl1upKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKT/wgARCAAwAEADASIAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAAAAX/xAAVAQEBAAAAAAAAAAAAAAAAAAAAAf/aAAwDAQACEAMQAAABnCwAAAAAAAAAAD//xAAUEAEAAAAAAAAAAAAAAAAAAABQ/9oACAEBAAEFAkP/xAAUEQEAAAAAAAAAAAAAAAAAAAAw/9oACAEDAQE/AU//xAAUEQEAAAAAAAAAAAAAAAAAAAAw/9oACAECAQE/AU//xAAUEAEAAAAAAAAAAAAAAAAAAABQ/9oACAEBAAY/AkP/xAAUEAEAAAAAAAAAAAAAAAAAAABQ/9oACAEBAAE/IUP/2gAMAwEAAgADAAAAEPPPPPPPPPPPPP/EABQRAQAAAAAAAAAAAAAAAAAAADD/2gAIAQMBAT8QT//EABQRAQAAAAAAAAAAAAAAAAAAADD/2gAIAQIBAT8QT//EABQQAQAAAAAAAAAAAAAAAAAAAFD/2gAIAQEAAT8QQ//Z"
    public static let gif5x7 = "R0lGODdhBQAHAIEAAMgePAAAAAAAAAAAACwAAAAABQAHAAAIDAABCBxIsKDBgwcDAgA7"
    public static let webpLossy9x4 = "UklGRjgAAABXRUJQVlA4ICwAAACQAQCdASoJAAQAAUAmJaACdLoAA5gA/vD6K67xaUa/+8Z//cZ//cZ/7uAAAA=="
    public static let webpLossless6x11 = "UklGRh4AAABXRUJQVlA4TBEAAAAvBYACAAdQjyKXp/+BiOh/AAA="
    public static let webpExtended17x13 = "UklGRmYAAABXRUJQVlA4WAoAAAAYAAAAEAAADAAAQUxQSAoAAAABB1CyiAhERP8DVlA4ICQAAACwAgCdASoRAA0APm0skUWkIqGYBABABsS0gAA9kAAA/vt4wABFWElGCgAAAE1NACoAAAAIAAA="

    public static func dataURL(_ base64: String, type: String = "image/png") -> String { "data:\(type);base64,\(base64)" }

    /// FNV-1a (64 bits, 16 hex digits) of the decoded image: what the simulator's `echo` says of an image it got.
    public static func fnv1a(_ base64: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in Data(base64Encoded: base64)! {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01B3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    public static func byteCount(_ base64: String) -> Int { Data(base64Encoded: base64)!.count }
}
