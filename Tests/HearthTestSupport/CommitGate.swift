import Dispatch
import Synchronization

/// Holds or fails the next commits of a store, for the tests of the durability contract: installed
/// as SQLiteStore's commit hook (`setCommitHook { try gate.willCommit() }`), it blocks the writer
/// inside COMMIT, before the transaction is durable, until ``release()``, or makes COMMIT fail.
public final class CommitGate: Sendable {
    /// What the gate does to commits.
    public enum Mode: Sendable {
        /// Lets commits through.
        case open
        /// Holds the next commit until ``release()``, then lets commits through.
        case holdNext
        /// Fails every commit.
        case failAll
    }

    /// The error a failed commit throws.
    public struct Refused: Error, CustomStringConvertible, Sendable {
        public var description: String { "the commit gate refused this commit" }
    }

    private struct State {
        var mode = Mode.open
        var held = 0
        var refused = 0
    }

    private let state = Mutex(State())
    private let released = DispatchSemaphore(value: 0)

    public init(_ mode: Mode = .open) { state.withLock { $0.mode = mode } }

    /// Changes what the gate does to the next commits.
    public func set(_ mode: Mode) { state.withLock { $0.mode = mode } }

    /// Commits held so far (including one held now).
    public var held: Int { state.withLock { $0.held } }
    /// Commits failed so far.
    public var refused: Int { state.withLock { $0.refused } }

    /// Lets the held commit go on.
    public func release() { released.signal() }

    /// Waits until `count` commits have been held; false if that took longer than `seconds`.
    public func waitUntilHeld(_ count: Int = 1, seconds: Double = 60) async throws -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while held < count {
            guard ContinuousClock.now < deadline else { return false }
            try await Task.sleep(for: .milliseconds(2))
        }
        return true
    }

    /// The commit hook: runs on the database writer inside COMMIT.
    public func willCommit() throws {
        let mode = state.withLock { s -> Mode in
            let mode = s.mode
            switch mode {
            case .open: break
            case .holdNext:
                s.held += 1
                s.mode = .open
            case .failAll: s.refused += 1
            }
            return mode
        }
        switch mode {
        case .open: return
        case .holdNext: released.wait()
        case .failAll: throw Refused()
        }
    }
}

/// What was acknowledged so far, noted by the tasks that wait for acknowledgements while a
/// ``CommitGate`` holds a commit.
public final class Acknowledgements: Sendable {
    private let list = Mutex<[String]>([])

    public init() {}

    /// Notes that `what` was acknowledged.
    public func note(_ what: String) { list.withLock { $0.append(what) } }

    /// Everything acknowledged, in order.
    public var all: [String] { list.withLock { $0 } }
}
