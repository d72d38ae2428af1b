import Foundation
import GRDB
import HearthTestSupport
import Synchronization
import Testing

/// Invariant 5: an acknowledged submission survives `kill -9`.
@Suite("hearth crash safety (Invariant 5)", .timeLimit(.minutes(2)))
struct CrashSafetyTests {
    static let submissions = 100
    static let clients = 8

    struct Acknowledged: Sendable {
        let receipt: String
        let reference: String
    }

    @Test("every submission acknowledged with 201 before SIGKILL is there after a restart, and the database is intact")
    func acknowledgedSubmissionsSurviveSigkill() async throws {
        let work = try TemporaryDirectory()
        let arguments = ["serve", "--dev", "--intake-port", "0", "--casework-port", "0"]

        // 1. Submit from 8 concurrent clients, keeping every 201's receipt and reference.
        let first = try ChildProcess(arguments, in: work.path)
        let acknowledged: [Acknowledged]
        do {
            let listener = try await first.waitForListener()
            acknowledged = try await Self.submitConcurrently(listener)
            // 2. Kill -9 the moment the last 201 has arrived.
            first.signal(SIGKILL)
        } catch {
            await first.stop()
            throw error
        }
        #expect(await first.waitForExit(timeout: .seconds(10)))
        let killed = await first.outcome()
        #expect(killed.reason == .uncaughtSignal && killed.status == SIGKILL, "\(killed)")
        #expect(acknowledged.count == Self.submissions)
        #expect(Set(acknowledged.map(\.receipt)).count == acknowledged.count)
        #expect(Set(acknowledged.map(\.reference)).count == acknowledged.count)

        // 3. Restart on the same keys and data; every receipt still finds its request.
        try await withHearth(arguments, in: work.path) { _, listener in
            let found = try await Self.lookUpConcurrently(acknowledged, listener)
            #expect(found.count == acknowledged.count)
            for (expected, (status, reference)) in zip(acknowledged, found) {
                #expect(status == 200, "receipt for \(expected.reference)")
                #expect(reference == expected.reference)
            }
        }

        // 4. After a clean stop, the database passes SQLite's integrity check and holds every record.
        var configuration = Configuration()
        configuration.readonly = true
        let database = try DatabaseQueue(path: work.file(".hearth/hearth.sqlite"), configuration: configuration)
        let (integrity, count) = try await database.read { db in
            (try String.fetchOne(db, sql: "PRAGMA integrity_check"), try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM records"))
        }
        try database.close()
        #expect(integrity == "ok")
        #expect((count ?? 0) >= Self.submissions, "records: \(count ?? -1)")
    }

    /// Posts `submissions` realistic requests from `clients` concurrent clients; every answer must be 201.
    static func submitConcurrently(_ listener: Listener) async throws -> [Acknowledged] {
        try await withThrowingTaskGroup(of: [Acknowledged].self) { group in
            for worker in 0..<clients {
                group.addTask {
                    try await withClient(listener) { client in
                        var mine: [Acknowledged] = []
                        for i in stride(from: worker, to: submissions, by: clients) {
                            let consents: [[String: Any]] = i % 2 == 0 ? [["scope": "support"], ["scope": "review"]] : []
                            let reply = try await client.send(
                                .POST, "/api/v1/contact-requests", json: sampleRequest(canary: "crash-\(i)", consents: consents))
                            guard reply.status == 201, let receipt = reply.json["receipt"] as? String,
                                let reference = reply.json["reference"] as? String
                            else {
                                throw ChildProcessError(description: "submission \(i) answered \(reply.status): \(reply.text)")
                            }
                            mine.append(Acknowledged(receipt: receipt, reference: reference))
                        }
                        return mine
                    }
                }
            }
            var all: [Acknowledged] = []
            for try await part in group { all += part }
            return all
        }
    }

    /// GET /api/v1/me for every receipt, 8 at a time; returns (status, reference) in input order.
    static func lookUpConcurrently(_ acknowledged: [Acknowledged], _ listener: Listener) async throws -> [(Int, String?)] {
        try await withThrowingTaskGroup(of: [(Int, Int, String?)].self) { group in
            for worker in 0..<clients {
                group.addTask {
                    try await withClient(listener) { client in
                        var mine: [(Int, Int, String?)] = []
                        for i in stride(from: worker, to: acknowledged.count, by: clients) {
                            let reply = try await client.send(.GET, "/api/v1/me", receipt: acknowledged[i].receipt)
                            mine.append((i, reply.status, reply.json["reference"] as? String))
                        }
                        return mine
                    }
                }
            }
            var all: [(Int, Int, String?)] = []
            for try await part in group { all += part }
            return all.sorted { $0.0 < $1.0 }.map { ($0.1, $0.2) }
        }
    }
}
