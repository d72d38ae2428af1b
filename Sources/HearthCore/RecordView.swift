import HearthCrypto

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A record opened with its data key: what both the survivor (with the receipt) and an allowed
/// member of staff (through a consent wrap) see of it.
public struct RecordView: Sendable {
    /// The case reference.
    public let reference: String
    /// The case's status.
    public let status: CaseStatus
    /// Unix seconds, floored to the hour.
    public let createdHour: Int64
    /// The region, if the survivor gave one.
    public let region: Region?
    /// What the survivor wrote.
    public let request: ContactRequest
    /// The live consents.
    public let consents: [ConsentChoice]

    /// Opens `record`'s body with its data key; `liveWraps` are the consents still live.
    init(opening record: StoredRecord, with dek: borrowing DataKey, liveWraps: [StoredWrap]) throws {
        let body = try Envelope.openBody(record.body, with: dek, recordID: record.id, commitment: record.commitment)
        reference = record.id.reference
        status = record.status
        createdHour = record.createdHour
        region = record.region
        request = try ContactRequest(canonicalBody: body)
        consents = liveWraps.map { ConsentChoice(scope: $0.scope, expires: $0.expires) }
    }
}

// The canonical body JSON of SECURITY.md §3.6: the only JSON Core writes or reads, and the only
// reason Core imports FoundationEssentials (its JSON coders; no file or network API is used).
extension ContactRequest {
    /// The canonical body: compact, keys sorted at every level, `/` unescaped, optional fields
    /// left out.
    public func canonicalBody() throws -> SecretBytes {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return SecretBytes(copying: Array(try encoder.encode(self)))
    }

    /// Reads an opened body.
    public init(canonicalBody body: borrowing SecretBytes) throws {
        self = try body.withUnsafeBytes { try JSONDecoder().decode(ContactRequest.self, from: Data($0)) }
    }
}
