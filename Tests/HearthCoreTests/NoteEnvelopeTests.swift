import HearthCore
import HearthCrypto
import HearthTestSupport
import Testing

/// Invariant 4 for messages and access reasons: a note moved to another record, note id, author
/// or kind fails to open.
@Suite("Sealed notes (messages and access reasons)")
struct NoteEnvelopeTests {
    struct Sealed {
        let record: RecordID
        let commitment: [UInt8]
        let noteID: [UInt8]
        let blob: [UInt8]
    }

    func seal(_ text: String, kind: Envelope.NoteKind, dek: borrowing DataKey) throws -> Sealed {
        let record = try RecordID.random()
        let commitment = try Envelope.commitment(to: dek, recordID: record)
        let noteID = try SystemRandom.bytes(Envelope.noteIDByteCount)
        let blob = try Envelope.sealNote(
            SecretBytes(copying: Array(text.utf8)), kind: kind, with: dek, recordID: record, noteID: noteID, commitment: commitment)
        return Sealed(record: record, commitment: commitment, noteID: noteID, blob: blob)
    }

    @Test("a staff message opens as itself and is padded to a bucket")
    func roundTrip() throws {
        let dek = try DataKey.generate()
        let s = try seal("Hello, I am here to help.", kind: .message(fromSurvivor: false), dek: dek)
        #expect(s.blob.count == 1 + 24 + 1024 + 16)
        let text = try Envelope.openNote(
            s.blob, kind: .message(fromSurvivor: false), with: dek, recordID: s.record, noteID: s.noteID, commitment: s.commitment)
        #expect(text.withUnsafeBytes { String(decoding: $0, as: UTF8.self) } == "Hello, I am here to help.")
    }

    @Test("a message presented with another author, kind, note id or record fails to open")
    func transplantsFail() throws {
        let dek = try DataKey.generate()
        let s = try seal("from staff", kind: .message(fromSurvivor: false), dek: dek)
        let otherRecord = try RecordID.random()
        let otherNote = try SystemRandom.bytes(Envelope.noteIDByteCount)
        let attempts: [(Envelope.NoteKind, RecordID, [UInt8], [UInt8])] = [
            (.message(fromSurvivor: true), s.record, s.noteID, s.commitment),  // authorship swapped
            (.accessReason, s.record, s.noteID, s.commitment),  // a message shown as a reason
            (.message(fromSurvivor: false), otherRecord, s.noteID, s.commitment),  // another record
            (.message(fromSurvivor: false), s.record, otherNote, s.commitment),  // another note id
            (.message(fromSurvivor: false), s.record, s.noteID, [UInt8](repeating: 0, count: 32)),  // another commitment
        ]
        for (kind, record, note, commitment) in attempts {
            #expect(throws: CryptoError.self) {
                _ = try Envelope.openNote(s.blob, kind: kind, with: dek, recordID: record, noteID: note, commitment: commitment)
            }
        }
        let otherKey = try DataKey.generate()
        #expect(throws: CryptoError.self) {
            _ = try Envelope.openNote(
                s.blob, kind: .message(fromSurvivor: false), with: otherKey, recordID: s.record, noteID: s.noteID, commitment: s.commitment)
        }
    }

    @Test("any flipped byte of a sealed access reason is detected")
    func tamperingFails() throws {
        let dek = try DataKey.generate()
        let s = try seal("first contact", kind: .accessReason, dek: dek)
        for i in stride(from: 0, to: s.blob.count, by: 37) {
            var b = s.blob
            b[i] ^= 0x40
            #expect(throws: CryptoError.self) {
                _ = try Envelope.openNote(b, kind: .accessReason, with: dek, recordID: s.record, noteID: s.noteID, commitment: s.commitment)
            }
        }
    }
}
