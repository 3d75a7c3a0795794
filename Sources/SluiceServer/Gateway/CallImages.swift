import SluiceCore

/// The images of one gateway call, counted as each wire reads its messages: only the user's messages may show
/// images (an upstream takes them nowhere else), and a call shows at most `ImageInput.maxPerCall`. Each wire wraps
/// the refusal's sentence in its own error, naming its own field.
struct CallImages {
    private(set) var count = 0

    /// Counts a message's images; the reason they cannot be passed on (`field` names the message or its part), or
    /// `nil` when they can.
    mutating func admit(_ images: Int, role: String, field: String) -> String? {
        guard images > 0 else { return nil }
        guard role == "user" else {
            return "'\(field)' is an image in a message whose role is '\(role)'; only the user's messages may show images."
        }
        count += images
        guard count <= ImageInput.maxPerCall else {
            return "The call shows more than \(ImageInput.maxPerCall) images (up to '\(field)'); send fewer."
        }
        return nil
    }
}
