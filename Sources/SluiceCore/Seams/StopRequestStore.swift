/// Stopping an answer that another Sluice instance on the same database is writing. A generation lives in the
/// process that runs it (`GenerationHub`); when the user's stop reaches another instance — a browser that resumed
/// its answer there after a network blip — that instance records the request, and the writing instance learns of
/// it and stops its generation as if it had been asked itself.
public protocol StopRequestStore: Sendable {
    /// Records a stop of the answer `messageID` for whichever instance writes it; false when the answer is not
    /// being written (nothing recorded). A store that only one process uses records nothing: its generations are
    /// all in that process.
    func requestStop(messageID: String) async throws -> Bool
    /// Runs until its task is cancelled, calling `deliver` with the answers this instance writes whose stop was
    /// requested, each request once; requests for answers that ended meanwhile are dropped.
    func watchStopRequests(_ deliver: @escaping @Sendable ([String]) async -> Void) async
}
