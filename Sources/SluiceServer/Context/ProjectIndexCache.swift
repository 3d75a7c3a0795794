import SluiceCore
import Synchronization

/// The excerpt indexes (`ProjectExcerpts.Index`) of the projects whose files were excerpted lately, so that a turn
/// ranks passages instead of cutting and counting up to 400 000 characters again. Keyed by the files' ids and
/// lengths: a project file is never changed in place (it is added or deleted), so the same ids are the same text.
/// Bounded: it forgets everything when full, which only costs the next turn of each project a rebuild.
final class ProjectIndexCache: Sendable {
    /// One for the process: every route that personalizes a conversation reads the same projects.
    static let shared = ProjectIndexCache(capacity: 32)

    private let capacity: Int
    private let indexes = Mutex<[String: ProjectExcerpts.Index]>([:])

    init(capacity: Int) {
        self.capacity = capacity
    }

    func index(for files: [ProjectFile]) -> ProjectExcerpts.Index {
        let key = files.map { "\($0.id):\($0.text.utf8.count)" }.joined(separator: ",")
        if let found = indexes.withLock({ $0[key] }) { return found }
        let built = ProjectExcerpts.Index(files: files)
        indexes.withLock { indexes in
            if indexes.count >= capacity { indexes.removeAll(keepingCapacity: true) }
            indexes[key] = built
        }
        return built
    }
}
