import HearthCore
import HearthCrypto

/// The store calls tests make most, with the audit events the services would pass (built by
/// Core's `AuditEvent` factories), so store tests read as before the contracts took events.
extension IntakeStore {
    /// Inserts with the survivor's `record.create` and one `consent.grant` per wrap.
    public func insert(_ record: NewRecord, at hour: Int64) async throws {
        try await insert(record, audit: [.recordCreated(record.id)] + record.wraps.map { .consentGranted(record.id, scope: $0.scope) }, at: hour)
    }

    /// Gives consent as the survivor does (through the record's lookup id).
    public func putConsent(_ wrap: StoredWrap, for record: NewRecord, at hour: Int64) async throws -> Bool {
        try await putConsent(wrap, lookup: record.lookup, audit: .consentGranted(record.id, scope: wrap.scope), at: hour)
    }

    /// Withdraws (or expires) consent as the survivor does.
    public func removeConsent(_ scope: Scope, for record: NewRecord, action: ConsentEvent.Action, at hour: Int64) async throws -> Bool {
        try await removeConsent(
            scope, lookup: record.lookup, action: action, audit: .consentEnded(record.id, scope: scope, action: action), at: hour)
    }

    /// Erases as the survivor does, now.
    public func erase(_ record: NewRecord) async throws -> Bool {
        try await erase(lookup: record.lookup, audit: .recordErased(record.id), at: floorToHour(TestClock().unixSeconds()))
    }
}

extension RetentionStore {
    /// Shreds as the retention sweep does, now.
    public func shredRecords(withoutConsentSince cutoff: Int64) async throws -> Int {
        try await shredRecords(withoutConsentSince: cutoff, at: floorToHour(TestClock().unixSeconds()))
    }
}

/// Tests that need an id or a receipt outside a service take them from the system source, as
/// the composition root's services do.
extension RecordID {
    /// A fresh random id.
    public static func random() throws -> RecordID { try random(using: SystemRandomSource()) }
}

extension Receipt {
    /// A fresh random receipt.
    public static func generate() throws -> Receipt { try generate(using: SystemRandomSource()) }
}
