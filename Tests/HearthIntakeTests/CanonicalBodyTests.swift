import Foundation
import HearthApp
import HearthCore
import HearthCrypto
import HearthHTTP
import HearthIntake
import HearthKeys
import HearthStore
import HearthTestSupport
import Logging
import Testing

/// SECURITY.md §3.6: the record body is the canonical JSON of the validated request. The vector
/// `HearthCoreTests/Vectors/body-canonical-json.txt` was computed from SECURITY.md alone; here the
/// real service seals its `request` and the body must open to exactly its `plaintext` bytes.
@Suite("Canonical body JSON")
struct CanonicalBodyTests {
    /// The `key: value` fields of a vector file (format: `HearthCoreTests/Vectors/README.md`).
    func vectorFields(_ name: String) throws -> [String: String] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("HearthCoreTests/Vectors/\(name)")
        var fields: [String: String] = [:]
        for line in try String(contentsOf: url, encoding: .utf8).split(separator: "\n") where !line.hasPrefix("#") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return fields
    }

    @Test("the service seals the vector's request to exactly the vector's plaintext")
    func sealedBodyIsTheVectorPlaintext() async throws {
        let fields = try vectorFields("body-canonical-json.txt")
        let request = try #require(fields["request"])
        let hex = try #require(fields["plaintext"])
        let expected = try #require(bytes(hex: hex))

        try await IntakeHarness.with { h in try await sealsTheVector(h.service, h.store, request: request, expected: expected) }
    }

    func sealsTheVector(_ service: SurvivorService, _ store: SQLiteStore, request: String, expected: [UInt8]) async throws {
        let submission = try Submission.validate(try JSONValue.parse(Array(request.utf8)), today: service.today)
        let result = try await service.submit(submission)

        let id = try #require(RecordID(reference: result.reference))
        let record = try #require(try await store.record(id: id))
        let receipt = try #require(Receipt(parsing: result.receipt))
        let dek = try Envelope.openSurvivorWrap(record.survivorWrap, receipt: receipt, recordID: id, commitment: record.commitment)
        let plaintext = try Envelope.openBody(record.body, with: dek, recordID: id, commitment: record.commitment)
        #expect(plaintext.unsafeExportedBytes() == expected)
        #expect(record.body.count == 1065, "1 + 24 + 1024 + 16: the 1 KiB bucket")
    }

    func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        for i in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(decoding: digits[i...i + 1], as: UTF8.self), radix: 16) else { return nil }
            out.append(byte)
        }
        return out
    }
}
