/// The audit events Hearth writes, built here and nowhere else, so every store records the same
/// words for the same act (SECURITY.md §7).
extension AuditEvent {
    /// A survivor submitted a request.
    public static func recordCreated(_ id: RecordID) -> AuditEvent {
        AuditEvent(actor: "survivor", action: "record.create", subject: id.reference)
    }

    /// A survivor gave consent for a scope.
    public static func consentGranted(_ id: RecordID, scope: Scope) -> AuditEvent {
        AuditEvent(actor: "survivor", action: "consent.grant", subject: id.reference, scope: scope.rawValue)
    }

    /// A survivor withdrew consent for a scope.
    public static func consentWithdrawn(_ id: RecordID, scope: Scope) -> AuditEvent {
        AuditEvent(actor: "survivor", action: "consent.withdraw", subject: id.reference, scope: scope.rawValue)
    }

    /// A consent reached its end date and was withdrawn by the system.
    public static func consentExpired(_ id: RecordID, scope: Scope) -> AuditEvent {
        AuditEvent(actor: "system", action: "consent.expire", subject: id.reference, scope: scope.rawValue)
    }

    /// A survivor erased their record.
    public static func recordErased(_ id: RecordID) -> AuditEvent {
        AuditEvent(actor: "survivor", action: "record.erase", subject: id.reference)
    }

    /// Retention crypto-shredded a record with no live consent.
    public static func retentionShred(_ id: RecordID) -> AuditEvent {
        AuditEvent(actor: "system", action: "retention.shred", subject: id.reference)
    }

    /// A survivor wrote a message to one group (the scope names the conversation; never the text).
    public static func survivorMessage(_ id: RecordID, scope: Scope) -> AuditEvent {
        AuditEvent(actor: "survivor", action: "message.write", subject: id.reference, scope: scope.rawValue)
    }

    /// A survivor set, changed or removed their verification phrase (never the phrase itself).
    public static func verificationPhraseChanged(_ id: RecordID) -> AuditEvent {
        AuditEvent(actor: "survivor", action: "phrase.change", subject: id.reference)
    }

    /// A survivor paused all contact (the scope is empty; the end date is metadata on the record).
    public static func contactPaused(_ id: RecordID) -> AuditEvent {
        AuditEvent(actor: "survivor", action: "contact.pause", subject: id.reference)
    }

    /// A survivor resumed contact.
    public static func contactResumed(_ id: RecordID) -> AuditEvent {
        AuditEvent(actor: "survivor", action: "contact.resume", subject: id.reference)
    }

    /// The end of a consent, in the words of `action`.
    public static func consentEnded(_ id: RecordID, scope: Scope, action: ConsentEvent.Action) -> AuditEvent {
        action == .expired ? consentExpired(id, scope: scope) : consentWithdrawn(id, scope: scope)
    }
}
