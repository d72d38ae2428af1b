import CoreMetrics
import HearthCrypto
import Synchronization

/// Limits failed receipt look-ups (or sign-ins) per peer with a token bucket: per connecting
/// address, and on the onion listener per Tor circuit (``PeerIdentity``), so that one circuit
/// on 429 does not block the other onion visitors.
///
/// Peers are kept only in memory, as keyed BLAKE2b hashes under a key made fresh for each
/// process; they are never logged or stored.
public final class FailureRateLimiter: Sendable {
    struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    private let buckets = Mutex<[[UInt8]: Bucket]>([:])
    private let key: SecretBytes
    /// Failures allowed at once.
    public let burst: Double
    /// Failures regained per second.
    public let refillPerSecond: Double
    /// Most peers tracked; beyond it the fullest buckets are dropped first.
    static let maxTracked = 50_000
    /// Counts each refusal (`hearth_rate_limit_refusals_total`): a number, never the address.
    private let refusals: Counter?

    /// `burst` failures at once, regaining `refillPerSecond` per second; each refusal is counted
    /// in `refusals` when given (``HearthMetrics/rateLimitRefusals(_:)``).
    public init(burst: Int = 10, refillPerSecond: Double = 0.2, refusals: Counter? = nil) throws {
        self.key = try SecretBytes.random(count: 32)
        self.burst = Double(burst)
        self.refillPerSecond = refillPerSecond
        self.refusals = refusals
    }

    private func id(_ peer: PeerIdentity) -> [UInt8] {
        (try? Blake2b.hash(peer.keyBytes, key: key, outputByteCount: 16)) ?? []
    }

    /// Seconds to wait before another look-up, or nil if one may go ahead now. A non-nil answer
    /// is a refusal (the caller answers 429) and is counted.
    public func retryAfter(_ peer: PeerIdentity) -> Int? {
        let k = id(peer)
        let now = ContinuousClock.now
        let wait = buckets.withLock { b -> Int? in
            guard var bucket = b[k] else { return nil }
            refill(&bucket, now: now)
            b[k] = bucket
            guard bucket.tokens < 1 else { return nil }
            return Int(((1 - bucket.tokens) / refillPerSecond).rounded(.up))
        }
        if wait != nil { refusals?.increment() }
        return wait
    }

    /// Records a failed look-up.
    public func recordFailure(_ peer: PeerIdentity) {
        let k = id(peer)
        let now = ContinuousClock.now
        buckets.withLock { b in
            var bucket = b[k] ?? Bucket(tokens: burst, updated: now)
            refill(&bucket, now: now)
            bucket.tokens = max(0, bucket.tokens - 1)
            b[k] = bucket
            if b.count > Self.maxTracked {
                // Forget peers that have recovered.
                b = b.filter { $0.value.tokens < burst - 1 }
            }
        }
    }

    private func refill(_ bucket: inout Bucket, now: ContinuousClock.Instant) {
        let elapsed = now - bucket.updated
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        bucket.tokens = min(burst, bucket.tokens + seconds * refillPerSecond)
        bucket.updated = now
    }
}
