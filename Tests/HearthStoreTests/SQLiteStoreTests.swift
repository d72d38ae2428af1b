import Foundation
import GRDB
import HearthCore
import HearthCrypto
@_spi(Inspection) import HearthStore
import HearthTestSupport
import Logging
import Testing

@Suite("SQLite store: connections")
struct SQLiteStoreConnectionTests {
    /// The durability and erasure pragmas as one connection sees them.
    static func pragmas(_ db: Database) throws -> [String] {
        [
            try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "?",
            "synchronous=\(try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1)",
            "secure_delete=\(try Int.fetchOne(db, sql: "PRAGMA secure_delete") ?? -1)",
            "foreign_keys=\(try Int.fetchOne(db, sql: "PRAGMA foreign_keys") ?? -1)",
            "journal_size_limit=\(try Int.fetchOne(db, sql: "PRAGMA journal_size_limit") ?? -1)",
        ]
    }

    static let expected = ["wal", "synchronous=2", "secure_delete=1", "foreign_keys=1", "journal_size_limit=0"]

    @Test func writerConnectionUsesWALFullSyncSecureDeleteAndForeignKeys() async throws {
        let f = try StoreFixture()
        let seen = try await f.store.inspectWriter { db in try Self.pragmas(db) }
        #expect(seen == Self.expected)
    }

    @Test func readerConnectionsUseWALFullSyncSecureDeleteAndForeignKeys() async throws {
        let f = try StoreFixture()
        // Concurrent reads make the pool open several reader connections.
        let seen = try await withThrowingTaskGroup(of: [String].self) { group in
            for _ in 0..<4 {
                group.addTask {
                    try await f.store.inspect { db in
                        usleep(20_000)
                        return try Self.pragmas(db)
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(seen.count == 4)
        #expect(seen.allSatisfy { $0 == Self.expected }, "\(seen)")
    }

    @Test func reopeningAnExistingDatabaseKeepsThePragmas() async throws {
        let f = try StoreFixture()
        let reopened = try SQLiteStore(path: f.path, logger: Logger(label: "hearth-store-test"))
        let writer = try await reopened.inspectWriter { db in try Self.pragmas(db) }
        let reader = try await reopened.inspect { db in try Self.pragmas(db) }
        #expect(writer == Self.expected)
        #expect(reader == Self.expected)
    }

    @Test func freshDatabasePassesIntegrityCheck() async throws {
        let f = try StoreFixture()
        let result = try await f.store.inspect { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
        #expect(result == ["ok"])
    }
}

@Suite("SQLite store: records")
struct SQLiteStoreRecordTests {
    @Test func insertedRecordComesBackByItsLookupID() async throws {
        let f = try StoreFixture()
        let sealed = try SealedFixture(consents: [(.support, nil), (.police, Day(iso: "2027-01-31"))])
        try await f.store.insert(sealed.record, at: testHour)

        let stored = try #require(try await f.store.record(lookup: sealed.record.lookup))
        #expect(stored.id == sealed.record.id)
        #expect(stored.createdHour == sealed.record.createdHour)
        #expect(stored.region == .london)
        #expect(stored.status == .new)
        #expect(stored.commitment == sealed.record.commitment)
        #expect(stored.body == sealed.record.body)
        #expect(stored.survivorWrap == sealed.record.survivorWrap)
        #expect(stored.wraps.sorted { $0.scope < $1.scope } == sealed.record.wraps.sorted { $0.scope < $1.scope })
    }

    @Test func storedRecordStillOpensWithTheReceipt() async throws {
        let f = try StoreFixture()
        let sealed = try SealedFixture()
        try await f.store.insert(sealed.record, at: testHour)
        let stored = try #require(try await f.store.record(lookup: sealed.record.lookup))
        let receipt = try #require(Receipt(parsing: sealed.receipt))
        let dek = try Envelope.openSurvivorWrap(stored.survivorWrap, receipt: receipt, recordID: stored.id, commitment: stored.commitment)
        let plaintext = try Envelope.openBody(stored.body, with: dek, recordID: stored.id, commitment: stored.commitment)
        #expect(plaintext.unsafeExportedBytes() == sealed.plaintext)
    }

    @Test func unknownLookupIDFindsNothing() async throws {
        let f = try StoreFixture()
        try await f.store.insert(try SealedFixture().record, at: testHour)
        #expect(try await f.store.record(lookup: SystemRandom.bytes(32)) == nil)
    }

    @Test func insertRecordsOneGrantedEventPerWrap() async throws {
        let f = try StoreFixture()
        let sealed = try SealedFixture(consents: [(.support, nil), (.review, Day(iso: "2027-01-31"))])
        try await f.store.insert(sealed.record, at: testHour)
        let history = try await f.store.consentHistory(lookup: sealed.record.lookup)
        #expect(
            history == [
                ConsentEvent(scope: .support, action: .granted, at: testHour, expires: nil),
                ConsentEvent(scope: .review, action: .granted, at: testHour, expires: Day(iso: "2027-01-31")),
            ]
        )
    }

    @Test func insertedRecordIsVisibleToAFreshConnectionAsSoonAsInsertReturns() async throws {
        let f = try StoreFixture()
        let sealed = try SealedFixture()
        try await f.store.insert(sealed.record, at: testHour)
        let other = try DatabaseQueue(path: f.path)
        let count = try await other.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM records WHERE id = ?", arguments: [Data(sealed.record.id.bytes)])
        }
        #expect(count == 1)
    }

    @Test func twoHundredConcurrentInsertsAllLand() async throws {
        let f = try StoreFixture()
        let records = try (0..<200).map { _ in try SealedFixture(consents: [(.support, nil)]).record }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for record in records {
                group.addTask { try await f.store.insert(record, at: testHour) }
            }
            try await group.waitForAll()
        }
        #expect(try await f.store.recordCount() == 200)
        #expect(try await f.int("SELECT count(*) FROM consent_wraps") == 200)
        #expect(try await f.int("SELECT count(*) FROM consent_events WHERE action = 'granted'") == 200)
        for record in records.prefix(20) {
            #expect(try await f.store.record(lookup: record.lookup)?.id == record.id)
        }
        let integrity = try await f.store.inspect { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
        #expect(integrity == ["ok"])
    }

    @Test func aDuplicateLookupFailsOnlyItsOwnInsert() async throws {
        let f = try StoreFixture()
        let first = try SealedFixture()
        let clash = try SealedFixture()
        let clashing = NewRecord(
            SealedRecord(
                id: clash.record.id, createdHour: clash.record.createdHour, region: nil, commitment: clash.record.commitment,
                body: clash.record.body, survivorWrap: clash.record.survivorWrap, wraps: []),
            lookup: first.record.lookup)
        let bystander = try SealedFixture()
        try await f.store.insert(first.record, at: testHour)
        // Submitted together, so they are likely to share one group-commit transaction.
        let outcomes = await withTaskGroup(of: (RecordID, Bool).self) { group in
            for record in [clashing, bystander.record] {
                group.addTask { (record.id, (try? await f.store.insert(record, at: testHour)) != nil) }
            }
            return await group.reduce(into: [RecordID: Bool]()) { $0[$1.0] = $1.1 }
        }
        #expect(outcomes[clashing.id] == false)
        #expect(outcomes[bystander.record.id] == true)
        #expect(try await f.store.recordCount() == 2)
    }
}

@Suite("SQLite store: consent")
struct SQLiteStoreConsentTests {
    @Test func putConsentStoresTheWrapAndAGrantedEvent() async throws {
        let f = try StoreFixture()
        let sealed = try SealedFixture(consents: [])
        try await f.store.insert(sealed.record, at: testHour)
        let wrap = try sealed.extraWrap(.police, expires: Day(iso: "2027-03-01"))
        #expect(try await f.store.putConsent(wrap, for: sealed.record, at: testHour + 3600))
        let stored = try #require(try await f.store.record(lookup: sealed.record.lookup))
        #expect(stored.wraps == [wrap])
        #expect(
            try await f.store.consentHistory(lookup: sealed.record.lookup) == [
                ConsentEvent(scope: .police, action: .granted, at: testHour + 3600, expires: Day(iso: "2027-03-01"))
            ]
        )
    }

    @Test func putConsentReplacesTheWrapForTheSameScope() async throws {
        let f = try StoreFixture()
        let sealed = try SealedFixture(consents: [(.support, nil)])
        try await f.store.insert(sealed.record, at: testHour)
        let replacement = try sealed.extraWrap(.support, expires: Day(iso: "2028-01-01"))
        #expect(try await f.store.putConsent(replacement, for: sealed.record, at: testHour))
        #expect(try await f.store.record(lookup: sealed.record.lookup)?.wraps == [replacement])
    }

    @Test func putConsentForAMissingRecordReturnsFalseAndWritesNothing() async throws {
        let f = try StoreFixture()
        let sealed = try SealedFixture()
        #expect(try await f.store.putConsent(try sealed.extraWrap(.review), for: sealed.record, at: testHour) == false)
        #expect(try await f.int("SELECT count(*) FROM consent_wraps") == 0)
        #expect(try await f.int("SELECT count(*) FROM consent_events") == 0)
    }

    @Test func putConsentIsUndoneWhenItsEventCannotBeWritten() async throws {
        let f = try StoreFixture()
        let sealed = try SealedFixture(consents: [])
        try await f.store.insert(sealed.record, at: testHour)
        try await f.store.tamper { db in
            try db.execute(sql: "CREATE TRIGGER refuse_events BEFORE INSERT ON consent_events BEGIN SELECT RAISE(ABORT, 'test'); END")
        }
        await #expect(throws: (any Error).self) {
            _ = try await f.store.putConsent(try sealed.extraWrap(.police), for: sealed.record, at: testHour)
        }
        // Same transaction: the wrap must not exist without its history event.
        #expect(try await f.rows(in: "consent_wraps", recordID: sealed.record.id) == 0)
    }

    @Test func removeConsentDeletesTheWrapAndRecordsTheEvent() async throws {
        let f = try StoreFixture()
        let sealed = try SealedFixture(consents: [(.support, nil), (.police, nil)])
        try await f.store.insert(sealed.record, at: testHour)
        #expect(try await f.store.removeConsent(.police, for: sealed.record, action: .withdrawn, at: testHour + 7200))
        #expect(try await f.store.record(lookup: sealed.record.lookup)?.wraps.map(\.scope) == [.support])
        let history = try await f.store.consentHistory(lookup: sealed.record.lookup)
        #expect(history.last == ConsentEvent(scope: .police, action: .withdrawn, at: testHour + 7200, expires: nil))
        #expect(history.count == 3)
    }

    @Test func removeConsentForAScopeThatIsNotLiveReturnsFalseAndWritesNoEvent() async throws {
        let f = try StoreFixture()
        let sealed = try SealedFixture(consents: [(.support, nil)])
        try await f.store.insert(sealed.record, at: testHour)
        let before = try await f.store.consentHistory(lookup: sealed.record.lookup)
        #expect(try await f.store.removeConsent(.review, for: sealed.record, action: .withdrawn, at: testHour) == false)
        #expect(try await f.store.consentHistory(lookup: sealed.record.lookup) == before)
        #expect(try await f.store.record(lookup: sealed.record.lookup)?.wraps.count == 1)
    }

    @Test func removeConsentIsUndoneWhenItsEventCannotBeWritten() async throws {
        let f = try StoreFixture()
        let sealed = try SealedFixture(consents: [(.support, nil)])
        try await f.store.insert(sealed.record, at: testHour)
        try await f.store.tamper { db in
            try db.execute(sql: "CREATE TRIGGER refuse_events BEFORE INSERT ON consent_events BEGIN SELECT RAISE(ABORT, 'test'); END")
        }
        await #expect(throws: (any Error).self) {
            _ = try await f.store.removeConsent(.support, for: sealed.record, action: .withdrawn, at: testHour)
        }
        // Same transaction: a withdrawal that cannot be recorded must not delete the wrap either.
        #expect(try await f.rows(in: "consent_wraps", recordID: sealed.record.id) == 1)
    }

    @Test func withdrawingTheLastConsentStartsTheRetentionClock() async throws {
        let f = try StoreFixture()
        let sealed = try SealedFixture(consents: [(.support, nil)])
        try await f.store.insert(sealed.record, at: testHour)
        let idArgument: StatementArguments = [Data(sealed.record.id.bytes)]
        #expect(try await f.int("SELECT count(*) FROM records WHERE id = ? AND no_consent_since IS NULL", idArgument) == 1)
        _ = try await f.store.removeConsent(.support, for: sealed.record, action: .withdrawn, at: testHour + 3600)
        #expect(try await f.int("SELECT no_consent_since FROM records WHERE id = ?", idArgument) == Int(testHour + 3600))
    }

    @Test func expireConsentsDeletesOnlyWrapsThatExpiredBeforeToday() async throws {
        let f = try StoreFixture()
        let today = try #require(Day(iso: "2026-11-29"))
        let sealed = try SealedFixture(consents: [
            (.support, today.adding(days: -1)), (.review, today), (.police, today.adding(days: 1)), (.prosecution, nil),
        ])
        let older = try SealedFixture(consents: [(.support, Day(iso: "2020-01-01"))])
        try await f.store.insert(sealed.record, at: testHour)
        try await f.store.insert(older.record, at: testHour)

        #expect(try await f.store.expireConsents(before: today, at: testHour + 3600) == 2)
        let left = try #require(try await f.store.record(lookup: sealed.record.lookup)).wraps.map(\.scope).sorted()
        #expect(left == [.review, .police, .prosecution])
        #expect(try await f.store.record(lookup: older.record.lookup)?.wraps.isEmpty == true)
    }

    @Test func expireConsentsWritesAnExpiredEventForEachDeletedWrap() async throws {
        let f = try StoreFixture()
        let today = try #require(Day(iso: "2026-11-29"))
        let sealed = try SealedFixture(consents: [(.support, today.adding(days: -1)), (.review, today)])
        try await f.store.insert(sealed.record, at: testHour)
        _ = try await f.store.expireConsents(before: today, at: testHour + 3600)
        let history = try await f.store.consentHistory(lookup: sealed.record.lookup)
        #expect(
            history.filter { $0.action == .expired } == [ConsentEvent(scope: .support, action: .expired, at: testHour + 3600, expires: nil)]
        )
        #expect(try await f.int("SELECT count(*) FROM consent_events WHERE action = 'expired'") == 1)
    }

    @Test func expireConsentsWithNothingDueChangesNothing() async throws {
        let f = try StoreFixture()
        let sealed = try SealedFixture(consents: [(.support, Day(iso: "2030-01-01")), (.review, nil)])
        try await f.store.insert(sealed.record, at: testHour)
        #expect(try await f.store.expireConsents(before: try #require(Day(iso: "2026-11-29")), at: testHour) == 0)
        #expect(try await f.int("SELECT count(*) FROM consent_events") == 2)
    }
}

@Suite("SQLite store: erasure")
struct SQLiteStoreErasureTests {
    /// Byte strings of a record that must not survive its erasure.
    static func remnants(of record: NewRecord) -> [(String, [UInt8])] {
        [("body", record.body), ("body ciphertext (middle)", Array(record.body[200..<264])), ("survivor wrap", record.survivorWrap)]
            + record.wraps.map { ("\($0.scope) wrap", $0.wrap) }
    }

    @Test func eraseRemovesTheRecordItsWrapsAndItsEvents() async throws {
        let f = try StoreFixture()
        let sealed = try SealedFixture(consents: [(.support, nil), (.review, nil)])
        try await f.store.insert(sealed.record, at: testHour)
        _ = try await f.store.removeConsent(.review, for: sealed.record, action: .withdrawn, at: testHour)

        #expect(try await f.store.erase(sealed.record))
        #expect(try await f.store.record(lookup: sealed.record.lookup) == nil)
        for table in ["records", "consent_wraps", "consent_events"] {
            #expect(try await f.rows(in: table, recordID: sealed.record.id) == 0, "\(table)")
        }
    }

    @Test func eraseLeavesOtherRecordsAlone() async throws {
        let f = try StoreFixture()
        let erased = try SealedFixture()
        let kept = try SealedFixture(consents: [(.police, nil)])
        try await f.store.insert(erased.record, at: testHour)
        try await f.store.insert(kept.record, at: testHour)
        _ = try await f.store.erase(erased.record)
        let stored = try #require(try await f.store.record(lookup: kept.record.lookup))
        #expect(stored.body == kept.record.body)
        #expect(stored.wraps == kept.record.wraps)
        #expect(try await f.store.consentHistory(lookup: kept.record.lookup).count == 1)
    }

    @Test func eraseOfAnUnknownRecordReturnsFalse() async throws {
        let f = try StoreFixture()
        #expect(
            try await f.store.erase(lookup: try SystemRandomSource().bytes(32), audit: .recordErased(try RecordID.random()), at: testHour) == false)
    }

    @Test func erasedCiphertextAndWrapsAreInNeitherTheDatabaseFileNorTheWAL() async throws {
        let f = try StoreFixture()
        let erased = try SealedFixture(consents: [(.support, nil), (.police, Day(iso: "2027-01-01"))])
        let kept = try SealedFixture(consents: [(.review, nil)])
        try await f.store.insert(erased.record, at: testHour)
        try await f.store.insert(kept.record, at: testHour)
        let remnants = Self.remnants(of: erased.record)

        // Positive control: before erasure the bytes are on disk, so the search can find them.
        let before = f.databaseBytes + f.walBytes
        for (name, needle) in remnants {
            #expect(bytes(before, contain: needle), "\(name) should be on disk before erasure")
        }

        #expect(try await f.store.erase(erased.record))

        let database = f.databaseBytes
        let wal = f.walBytes
        #expect(!database.isEmpty)
        for (name, needle) in remnants {
            #expect(!bytes(database, contain: needle), "\(name) survives in the database file")
            #expect(!bytes(wal, contain: needle), "\(name) survives in the WAL")
        }
        #expect(bytes(database + wal, contain: kept.record.body), "the record that was kept must still be there")
    }

    @Test func erasedCiphertextAlreadyCheckpointedIntoTheDatabaseFileIsOverwritten() async throws {
        let f = try StoreFixture()
        let erased = try SealedFixture(consents: [(.support, nil)])
        try await f.store.insert(erased.record, at: testHour)
        try await f.store.truncateWAL()
        let remnants = Self.remnants(of: erased.record)
        // Positive control: the checkpoint moved the record into the main file.
        for (name, needle) in remnants {
            #expect(bytes(f.databaseBytes, contain: needle), "\(name) should be in the database file before erasure")
        }

        _ = try await f.store.erase(erased.record)

        let onDisk = f.databaseBytes + f.walBytes
        for (name, needle) in remnants {
            #expect(!bytes(onDisk, contain: needle), "\(name) survives on disk")
        }
    }

    @Test func walIsEmptyOrAbsentAfterErasure() async throws {
        let f = try StoreFixture()
        let sealed = try SealedFixture()
        try await f.store.insert(sealed.record, at: testHour)
        _ = try await f.store.erase(sealed.record)
        let walPath = f.path + "-wal"
        let size = (try? FileManager.default.attributesOfItem(atPath: walPath)[.size] as? Int) ?? 0
        #expect(size == 0, "the WAL holds \(size) bytes after erasure")
    }

    @Test("a reader keeps the WAL truncation after an erasure busy: it is retried in the background until the WAL is empty")
    func walTruncationKeptBusyIsRetriedUntilDone() async throws {
        let f = try StoreFixture()
        let sealed = try SealedFixture()
        try await f.store.insert(sealed.record, at: testHour)
        let walPath = f.path + "-wal"
        func walSize() -> Int { (try? FileManager.default.attributesOfItem(atPath: walPath)[.size] as? Int) ?? 0 }
        // A reader holds its snapshot (from before the erasure) until released.
        let reading = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let reader = Task {
            try await f.store.inspect { db in
                _ = try Int.fetchOne(db, sql: "SELECT count(*) FROM records")
                reading.signal()
                release.wait()
            }
        }
        await Task.detached { reading.wait() }.value

        #expect(try await f.store.erase(sealed.record))
        #expect(f.store.truncationPending, "the erasure's own attempts were kept busy, so the truncation goes on in the background")
        #expect(walSize() > 0)

        release.signal()
        try await reader.value
        let deadline = ContinuousClock.now + .seconds(20)
        while f.store.truncationPending && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!f.store.truncationPending)
        #expect(walSize() == 0, "the WAL holds \(walSize()) bytes once the reader let go")
        for (name, needle) in Self.remnants(of: sealed.record) {
            #expect(!bytes(f.databaseBytes + f.walBytes, contain: needle), "\(name) survives on disk")
        }
    }

    @Test func databasePassesIntegrityCheckAfterMixedOperations() async throws {
        let f = try StoreFixture()
        let a = try SealedFixture(consents: [(.support, nil), (.review, Day(iso: "2020-01-01"))])
        let b = try SealedFixture(consents: [(.police, nil)])
        try await f.store.insert(a.record, at: testHour)
        try await f.store.insert(b.record, at: testHour)
        _ = try await f.store.putConsent(try b.extraWrap(.prosecution), for: b.record, at: testHour)
        _ = try await f.store.removeConsent(.police, for: b.record, action: .withdrawn, at: testHour)
        _ = try await f.store.expireConsents(before: try #require(Day(iso: "2026-11-29")), at: testHour)
        _ = try await f.store.erase(a.record)
        let (integrity, foreignKeys) = try await f.store.inspect { db in
            (try String.fetchAll(db, sql: "PRAGMA integrity_check"), try Row.fetchAll(db, sql: "PRAGMA foreign_key_check").count)
        }
        #expect(integrity == ["ok"])
        #expect(foreignKeys == 0)
    }
}
