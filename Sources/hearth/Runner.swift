import ArgumentParser
import Foundation
import HearthApp
import HearthCore
import Logging

/// Sets up logging to standard error at `level` (once per process).
func bootstrapLogging(_ level: String) -> Logger {
    let lvl = Logger.Level(rawValue: level) ?? .info
    LoggingSystem.bootstrap { label in
        var h = StreamLogHandler.standardError(label: label)
        h.logLevel = lvl
        return h
    }
    return Logger(label: "hearth")
}

/// Runs the listeners through the composition root, failing closed with exit status 78 (and the
/// file and what to do) when keys, TLS files or the data directory are not right.
struct Runner {
    let settings: HearthSettings
    let listeners: Listeners
    let logLevel: String

    func run() async throws {
        umask(0o077)
        let logger = bootstrapLogging(logLevel)
        do {
            let host = settings.host.contains(":") ? "[\(settings.host)]" : settings.host
            let board = AnnouncementBoard(expected: listeners.contains(.intake) && listeners.contains(.casework) ? 2 : 1)
            let assembly = try await HearthAssembly.assemble(settings, listeners: listeners, logger: logger) { kind, port in
                board.post(kind, "\(kind == .intake ? "intake" : "casework"): https://\(host):\(port)")
            }
            board.trailer = assembly.certificateLines
            try await assembly.run()
        } catch let e as KeyFileError {
            FileHandle.standardError.write(Data("hearth: refusing to start: \(e)\n".utf8))
            throw ExitCode(78)
        }
    }
}

/// Prints the listener URLs in a fixed order (intake, casework), then the certificate lines,
/// once every listener is up.
final class AnnouncementBoard: @unchecked Sendable {
    private let lock = NSLock()
    private var posted: [ListenerKind: String] = [:]
    private let expected: Int
    private var trailerLines: [String] = []

    init(expected: Int) { self.expected = expected }

    /// Lines printed after the URLs (set before the listeners start).
    var trailer: [String] {
        get { lock.withLock { trailerLines } }
        set { lock.withLock { trailerLines = newValue } }
    }

    func post(_ kind: ListenerKind, _ line: String) {
        lock.lock()
        defer { lock.unlock() }
        posted[kind] = line
        guard posted.count == expected else { return }
        for key in posted.keys.sorted() { print(posted[key]!) }
        for line in trailerLines { print(line) }
        fflush(nil)
    }
}
