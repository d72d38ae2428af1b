/// A consent wrap as stored: the DEK sealed to one scope's key of one version.
public struct StoredWrap: Sendable, Equatable {
    /// The scope the wrap serves.
    public let scope: Scope
    /// The scope key version it was sealed to.
    public let keyVersion: UInt32
    /// The 105-byte wrap.
    public let wrap: [UInt8]
    /// The 105-byte conversation wrap (SECURITY.md §3.13): the key of the conversation with this
    /// scope's group, sealed to the same key version. It lives and dies with the consent wrap.
    public let conversationWrap: [UInt8]
    /// The last day the consent is live, if it ends.
    public let expires: Day?

    /// Creates a stored wrap.
    public init(scope: Scope, keyVersion: UInt32, wrap: [UInt8], conversationWrap: [UInt8], expires: Day?) {
        self.scope = scope
        self.keyVersion = keyVersion
        self.wrap = wrap
        self.conversationWrap = conversationWrap
        self.expires = expires
    }

    /// Whether this consent is live on `today` (live through the end of its expiry day).
    public func isLive(on today: Day) -> Bool { expires.map { today <= $0 } ?? true }
}

/// A record's sealed parts as stored: its id, routing metadata (creation hour, region), the key
/// commitment, the sealed body, the survivor wrap and the consent wraps. Nothing here is
/// plaintext or a bare key (SECURITY.md §3).
public struct SealedRecord: Sendable {
    public let id: RecordID
    /// Unix seconds, floored to the hour.
    public let createdHour: Int64
    public let region: Region?
    public let commitment: [UInt8]
    public let body: [UInt8]
    public let survivorWrap: [UInt8]
    /// Consent wraps (once stored, an expired one may linger until swept: check ``StoredWrap/isLive(on:)``).
    public let wraps: [StoredWrap]

    /// The sealed parts. Public so that stores and their tests can build records without going
    /// through ``SurvivorService``.
    public init(
        id: RecordID, createdHour: Int64, region: Region?, commitment: [UInt8], body: [UInt8], survivorWrap: [UInt8], wraps: [StoredWrap]
    ) {
        self.id = id
        self.createdHour = createdHour
        self.region = region
        self.commitment = commitment
        self.body = body
        self.survivorWrap = survivorWrap
        self.wraps = wraps
    }
}

/// A new record, sealed and ready to store, with the lookup id its receipt derives.
@dynamicMemberLookup
public struct NewRecord: Sendable {
    /// The sealed parts.
    public let sealed: SealedRecord
    /// The receipt's lookup id (SECURITY.md §3.9).
    public let lookup: [UInt8]

    /// A record to store.
    public init(_ sealed: SealedRecord, lookup: [UInt8]) {
        self.sealed = sealed
        self.lookup = lookup
    }

    /// The sealed parts' fields (`id`, `body`, `wraps`, …).
    public subscript<T>(dynamicMember field: KeyPath<SealedRecord, T>) -> T { sealed[keyPath: field] }
}

/// A pause of all contact that the survivor asked for: through the end of `until` (UTC), or until
/// they resume it. Stored in clear as metadata (SECURITY.md §4); nothing else changes while it lasts.
public struct ContactPause: Sendable, Equatable {
    /// The last day of the pause, or nil for "until I resume".
    public let until: Day?

    /// A pause through the end of `until`, or with nil until resumed.
    public init(until: Day?) { self.until = until }

    /// Whether contact is paused on `today`.
    public func isActive(on today: Day) -> Bool { until.map { today <= $0 } ?? true }
}

/// A record as loaded from storage: its sealed parts, its case status and any pause.
@dynamicMemberLookup
public struct StoredRecord: Sendable {
    /// The sealed parts.
    public let sealed: SealedRecord
    /// The case's status (metadata, set by staff).
    public let status: CaseStatus
    /// The survivor's pause of all contact, if one was set (it may have ended: ``ContactPause/isActive(on:)``).
    public let pause: ContactPause?

    /// A loaded record.
    public init(_ sealed: SealedRecord, status: CaseStatus, pause: ContactPause? = nil) {
        self.sealed = sealed
        self.status = status
        self.pause = pause
    }

    /// The sealed parts' fields (`id`, `body`, `wraps`, …).
    public subscript<T>(dynamicMember field: KeyPath<SealedRecord, T>) -> T { sealed[keyPath: field] }
}

/// One change of consent, as the survivor sees it in their history.
public struct ConsentEvent: Sendable, Equatable {
    /// What happened.
    public enum Action: String, Sendable, Codable {
        case granted, withdrawn, expired
    }

    public let scope: Scope
    public let action: Action
    /// Unix seconds, floored to the hour (times are metadata; SECURITY.md).
    public let at: Int64
    public let expires: Day?

    /// Creates an event.
    public init(scope: Scope, action: Action, at: Int64, expires: Day?) {
        self.scope = scope
        self.action = action
        self.at = at
        self.expires = expires
    }
}

/// Floors Unix seconds to the hour.
public func floorToHour(_ t: Int64) -> Int64 { t - ((t % 3600) + 3600) % 3600 }
