import HearthCrypto

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

// The sealed parts of an invitation are JSON (sorted keys), like a record's body.
extension Interview {
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    /// The sealed invitation, for a new id.
    static func seal(
        _ invitation: InterviewInvitation, with key: borrowing ConversationKey, recordID: RecordID, scope: Scope, interviewID: [UInt8]
    ) throws -> [UInt8] {
        try Envelope.sealInterview(
            Array(encoder.encode(invitation)), part: .invitation, revision: 0, with: key, recordID: recordID, scope: scope, interviewID: interviewID)
    }

    /// The sealed answer that will be revision `revision`.
    static func seal(
        _ answer: InterviewAnswer, revision: Int, with key: borrowing ConversationKey, recordID: RecordID, scope: Scope, interviewID: [UInt8]
    ) throws -> [UInt8] {
        try Envelope.sealInterview(
            Array(encoder.encode(answer)), part: .answer, revision: UInt32(revision), with: key, recordID: recordID, scope: scope,
            interviewID: interviewID)
    }

    /// Opens a stored invitation and its answer, and checks that what is kept in clear (the times,
    /// the state, the accepted time) agrees with the sealed copies: a change to the metadata alone
    /// is refused, not shown.
    static func open(_ stored: StoredInterview, with key: borrowing ConversationKey, recordID: RecordID) throws -> Interview {
        let id = stored.interviewID
        let invitation = try JSONDecoder().decode(
            InterviewInvitation.self,
            from: Data(
                Envelope.openInterview(
                    stored.sealedInvitation, part: .invitation, revision: 0, with: key, recordID: recordID, scope: stored.scope, interviewID: id)))
        guard invitation.times == stored.times else { throw CryptoError(.malformedInput, "interview times differ from the sealed invitation") }
        var answer: InterviewAnswer?
        if let sealed = stored.sealedAnswer {
            let a = try JSONDecoder().decode(
                InterviewAnswer.self,
                from: Data(
                    Envelope.openInterview(
                        sealed, part: .answer, revision: UInt32(stored.revision), with: key, recordID: recordID, scope: stored.scope, interviewID: id)
                ))
            guard a.action.state == stored.state, a.time == stored.chosen else {
                throw CryptoError(.malformedInput, "interview state differs from the sealed answer")
            }
            answer = a
        } else {
            guard stored.state == .invited, stored.chosen == nil, stored.revision == 0 else {
                throw CryptoError(.malformedInput, "interview state differs from the sealed answer")
            }
        }
        return Interview(
            id: Interview.text(of: id), group: stored.scope, state: stored.state, invitation: invitation, answer: answer, invitedAt: stored.invitedAt,
            answeredAt: stored.answeredAt, pseudonym: stored.pseudonym, role: stored.role, revision: stored.revision)
    }
}
