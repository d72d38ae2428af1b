// libFuzzer target: the envelope openers (SECURITY.md §3.6, §3.7, §3.9, §3.13) with real keys.
//
// At start-up: a real data key, a real scope key pair, a real receipt and a record id, and one
// genuine body, note, consent wrap and survivor wrap sealed with them (checked to open). Then any
// bytes, used as they are and as a change to each genuine blob: nothing traps, and nothing but the
// unchanged genuine blobs ever opens.
import HearthCore
import HearthCrypto

/// Keys and genuine blobs made once per fuzzing process.
final class RealKeys: Sendable {
    let dek: DataKey
    let scopeKey: X25519PrivateKey
    let receipt: Receipt
    let recordID: RecordID
    let noteID: [UInt8]
    let commitment: [UInt8]
    let body: [UInt8]
    let note: [UInt8]
    let consentWrap: [UInt8]
    let survivorWrap: [UInt8]

    init() {
        do {
            let random = SystemRandomSource()
            dek = try DataKey.generate()
            scopeKey = try X25519PrivateKey.generate()
            receipt = try Receipt.generate(using: random)
            recordID = try RecordID.random(using: random)
            noteID = try random.bytes(Envelope.noteIDByteCount)
            commitment = try Envelope.commitment(to: dek, recordID: recordID)
            let text = SecretBytes(copying: Array("genuine".utf8))
            body = try Envelope.sealBody(text, with: dek, recordID: recordID, commitment: commitment)
            note = try Envelope.sealNote(
                text, kind: .message(fromSurvivor: true), with: dek, recordID: recordID, noteID: noteID, commitment: commitment)
            consentWrap = try Envelope.wrapForScope(
                dek, recordID: recordID, scope: .support, keyVersion: 1, publicKey: scopeKey.publicKey)
            survivorWrap = try Envelope.wrapForSurvivor(dek, recordID: recordID, receipt: receipt)
        } catch {
            fatalError("could not make the fuzzing keys: \(error)")
        }
        // The harness must be able to tell an opening: each genuine blob opens.
        precondition(opens(body, as: .body) && opens(note, as: .note) && opens(consentWrap, as: .consentWrap))
        precondition(opens(survivorWrap, as: .survivorWrap))
    }

    enum Kind: CaseIterable { case body, note, consentWrap, survivorWrap }

    func genuine(_ kind: Kind) -> [UInt8] {
        switch kind {
        case .body: body
        case .note: note
        case .consentWrap: consentWrap
        case .survivorWrap: survivorWrap
        }
    }

    /// Whether `blob` opens as `kind` under the real keys.
    func opens(_ blob: [UInt8], as kind: Kind) -> Bool {
        switch kind {
        case .body:
            (try? Envelope.openBody(blob, with: dek, recordID: recordID, commitment: commitment)) != nil
        case .note:
            (try? Envelope.openNote(
                blob, kind: .message(fromSurvivor: true), with: dek, recordID: recordID, noteID: noteID, commitment: commitment))
                != nil
                || (try? Envelope.openNote(
                    blob, kind: .accessReason, with: dek, recordID: recordID, noteID: noteID, commitment: commitment)) != nil
        case .consentWrap:
            (try? Envelope.openScopeWrap(
                blob, with: scopeKey, recordID: recordID, scope: .support, keyVersion: 1, commitment: commitment)) != nil
        case .survivorWrap:
            (try? Envelope.openSurvivorWrap(blob, receipt: receipt, recordID: recordID, commitment: commitment)) != nil
        }
    }
}

let keys = RealKeys()

func fuzzEnvelope(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    for kind in RealKeys.Kind.allCases {
        let genuine = keys.genuine(kind)
        // The input as a blob of its own.
        if bytes != genuine && keys.opens(bytes, as: kind) {
            fatalError("arbitrary bytes opened as \(kind) under the real keys")
        }
        // The input as a change to the genuine blob: XOR over its start, and a new length when
        // the input is longer (cut or extended with the rest of the input).
        var changed = genuine
        for (i, b) in bytes.prefix(genuine.count).enumerated() { changed[i] ^= b }
        if let first = bytes.dropFirst(genuine.count).first {
            let cut = Int(first >> 1) % genuine.count
            changed = first & 1 == 0 ? Array(changed.prefix(cut)) : changed + bytes[genuine.count...]
        }
        if changed != genuine && keys.opens(changed, as: kind) {
            fatalError("a changed \(kind) opened under the real keys")
        }
    }
    return 0
}
