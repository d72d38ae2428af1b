import Foundation
import GRDB
import HearthCore
import HearthCrypto
@_spi(Inspection) import HearthStore
import HearthTestSupport
import Logging

/// A fresh SQLite store in its own temporary directory (removed when the fixture is released).
final class StoreFixture: Sendable {
    let directory: TemporaryDirectory
    let path: String
    let store: SQLiteStore

    init() throws {
        directory = try TemporaryDirectory("hearth-store-test")
        path = directory.file("hearth.sqlite")
        store = try SQLiteStore(path: path, logger: Logger(label: "hearth-store-test"))
    }

    /// The raw bytes of the database file and of its write-ahead log.
    var databaseBytes: [UInt8] { fileBytes(path) }
    var walBytes: [UInt8] { fileBytes(path + "-wal") }

    /// One integer from SQL, read on a reader connection.
    func int(_ sql: String, _ arguments: StatementArguments = []) async throws -> Int {
        try await store.inspect { db in try Int.fetchOne(db, sql: sql, arguments: arguments) ?? -1 }
    }

    /// Counts rows of `table` for a record.
    func rows(in table: String, recordID: RecordID) async throws -> Int {
        let column = table == "records" ? "id" : "record_rid"
        let key = table == "records" ? "?" : "(SELECT rid FROM records WHERE id = ?)"
        return try await int("SELECT count(*) FROM \(table) WHERE \(column) = \(key)", [Data(recordID.bytes)])
    }
}

/// A record sealed for real (HearthCore's envelope), with what a test needs to check it.
struct SealedFixture: Sendable {
    let record: NewRecord
    let receipt: String
    let plaintext: [UInt8]

    /// Seals `plaintext` into a new record with consent wraps for `consents` (scope, expiry).
    init(consents: [(Scope, Day?)] = [(.support, nil)], plaintext: String = "survivor text that must never reach the disk") throws {
        let id = try RecordID.random()
        let receipt = try Receipt.generate()
        let dek = try DataKey.generate()
        let commitment = try Envelope.commitment(to: dek, recordID: id)
        let body = try Envelope.sealBody(SecretBytes(copying: Array(plaintext.utf8)), with: dek, recordID: id, commitment: commitment)
        var wraps: [StoredWrap] = []
        for (scope, expires) in consents {
            let key = try X25519PrivateKey.generate()
            let wrap = try Envelope.wrapForScope(dek, recordID: id, scope: scope, keyVersion: 1, publicKey: key.publicKey)
            // The store never opens a conversation wrap: random bytes of the right length do.
            let conversation = [Envelope.formatVersion] + (try SystemRandom.bytes(104))
            wraps.append(StoredWrap(scope: scope, keyVersion: 1, wrap: wrap, conversationWrap: conversation, expires: expires))
        }
        record = NewRecord(
            SealedRecord(
                id: id, createdHour: 1_795_910_400, region: .london, commitment: commitment, body: body,
                survivorWrap: try Envelope.wrapForSurvivor(dek, recordID: id, receipt: receipt), wraps: wraps),
            lookup: try receipt.lookupID())
        self.receipt = receipt.displayed
        self.plaintext = Array(plaintext.utf8)
    }

    /// A fresh consent wrap for this record's id (random bytes of the right length; the store never opens it).
    func extraWrap(_ scope: Scope, expires: Day? = nil) throws -> StoredWrap {
        StoredWrap(
            scope: scope, keyVersion: 2, wrap: [Envelope.formatVersion] + (try SystemRandom.bytes(104)),
            conversationWrap: [Envelope.formatVersion] + (try SystemRandom.bytes(104)), expires: expires)
    }
}

/// The hour used for events in these tests.
let testHour: Int64 = 1_795_914_000
