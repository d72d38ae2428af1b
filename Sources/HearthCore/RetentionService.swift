import Logging

/// Withdraws consents that reached their end date and crypto-shreds records that have had no
/// live consent for the retention period. Run every minute by the casework process and on
/// demand by `hearth retention run`.
public struct RetentionService: Sendable {
    let store: any RetentionStore
    /// The policy survivors are shown.
    public let policy: RetentionPolicy
    let clock: any WallClock
    let logger: Logger

    /// A sweep over `store` with `policy`.
    public init(store: any RetentionStore, policy: RetentionPolicy, clock: any WallClock, logger: Logger) {
        self.store = store
        self.policy = policy
        self.clock = clock
        self.logger = logger
    }

    /// Withdraws every consent whose expiry day has passed; returns how many.
    public func sweepExpiredConsents() async throws -> Int {
        let now = clock.unixSeconds()
        let n = try await store.expireConsents(before: Day(unixSeconds: now), at: floorToHour(now))
        if n > 0 { logger.info("expired consents withdrawn", metadata: ["consent.count": "\(n)"]) }
        return n
    }

    /// Crypto-shreds records that have had no live consent for the retention period; returns how many.
    public func applyRetention() async throws -> Int {
        let now = clock.unixSeconds()
        let n = try await store.shredRecords(withoutConsentSince: now - Int64(policy.days) * 86_400, at: floorToHour(now))
        if n > 0 { logger.info("records shredded by retention", metadata: ["record.count": "\(n)", "retention.days": "\(policy.days)"]) }
        return n
    }
}
