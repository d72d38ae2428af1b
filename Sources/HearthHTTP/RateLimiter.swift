import CoreMetrics
import HearthCrypto
import Synchronization

/// Who a per-source limit counts a request against: the connecting address, or the Tor circuit
/// on the onion listener (``PeerIdentity``). Every per-source limit (failed receipt look-ups,
/// staff sign-ins, new submissions) takes its key from ``HearthRequestContext/limiterSource``
/// only, so a circuit gets its own budget everywhere at once.
///
/// Memory only: never logged, never stored; the limiters keep only a keyed hash of it.
public typealias LimiterSource = PeerIdentity

/// Token buckets per source, kept as keyed BLAKE2b hashes under a key made fresh for each process.
final class SourceBuckets: Sendable {
    struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    private let buckets = Mutex<[[UInt8]: Bucket]>([:])
    private let key: SecretBytes
    let burst: Double
    let refillPerSecond: Double
    /// Most sources tracked; beyond it the sources that have recovered are forgotten.
    static let maxTracked = 50_000

    init(burst: Int, refillPerSecond: Double) throws {
        key = try SecretBytes.random(count: 32)
        self.burst = Double(burst)
        self.refillPerSecond = refillPerSecond
    }

    private func id(_ source: LimiterSource) -> [UInt8] {
        (try? Blake2b.hash(source.keyBytes, key: key, outputByteCount: 16)) ?? []
    }

    /// Seconds until `source` has a whole token again, or nil if it has one now (nothing is taken).
    func wait(_ source: LimiterSource) -> Int? {
        let k = id(source)
        let now = ContinuousClock.now
        return buckets.withLock { b -> Int? in
            guard var bucket = b[k] else { return nil }
            refill(&bucket, now: now)
            b[k] = bucket
            return bucket.tokens < 1 ? seconds(toWhole: bucket.tokens) : nil
        }
    }

    /// Takes a token from `source`: nil when taken, else the seconds to wait (nothing is taken).
    func take(_ source: LimiterSource) -> Int? {
        let k = id(source)
        let now = ContinuousClock.now
        return buckets.withLock { b -> Int? in
            var bucket = b[k] ?? Bucket(tokens: burst, updated: now)
            refill(&bucket, now: now)
            guard bucket.tokens >= 1 else {
                b[k] = bucket
                return seconds(toWhole: bucket.tokens)
            }
            bucket.tokens -= 1
            b[k] = bucket
            forgetRecovered(&b)
            return nil
        }
    }

    /// Takes a token from `source` even when none is left (the bucket stays at zero).
    func drain(_ source: LimiterSource) {
        let k = id(source)
        let now = ContinuousClock.now
        buckets.withLock { b in
            var bucket = b[k] ?? Bucket(tokens: burst, updated: now)
            refill(&bucket, now: now)
            bucket.tokens = max(0, bucket.tokens - 1)
            b[k] = bucket
            forgetRecovered(&b)
        }
    }

    /// Gives back a token taken by ``take(_:)``.
    func giveBack(_ source: LimiterSource) {
        let k = id(source)
        let now = ContinuousClock.now
        buckets.withLock { b in
            guard var bucket = b[k] else { return }
            refill(&bucket, now: now)
            bucket.tokens = min(burst, bucket.tokens + 1)
            b[k] = bucket
        }
    }

    private func forgetRecovered(_ b: inout [[UInt8]: Bucket]) {
        if b.count > Self.maxTracked { b = b.filter { $0.value.tokens < burst - 1 } }
    }

    private func seconds(toWhole tokens: Double) -> Int {
        max(1, Int(((1 - tokens) / refillPerSecond).rounded(.up)))
    }

    private func refill(_ bucket: inout Bucket, now: ContinuousClock.Instant) {
        bucket.tokens = min(burst, bucket.tokens + (now - bucket.updated).seconds * refillPerSecond)
        bucket.updated = now
    }
}

/// One bucket for everyone (the global submission budget).
final class SharedBucket: Sendable {
    private let state: Mutex<SourceBuckets.Bucket>
    let burst: Double
    let refillPerSecond: Double

    init(burst: Int, refillPerSecond: Double) {
        self.burst = Double(burst)
        self.refillPerSecond = refillPerSecond
        state = Mutex(SourceBuckets.Bucket(tokens: Double(burst), updated: .now))
    }

    /// Seconds until a whole token is there, or nil if one is there now (nothing is taken).
    func wait() -> Int? { update(taking: false) }

    /// Takes a token: nil when taken, else the seconds to wait.
    func take() -> Int? { update(taking: true) }

    /// Gives back a token taken by ``take()``.
    func giveBack() {
        state.withLock { $0.tokens = min(burst, $0.tokens + 1) }
    }

    private func update(taking: Bool) -> Int? {
        let now = ContinuousClock.now
        let refill = refillPerSecond
        let burst = burst
        return state.withLock { bucket -> Int? in
            bucket.tokens = min(burst, bucket.tokens + (now - bucket.updated).seconds * refill)
            bucket.updated = now
            guard bucket.tokens >= 1 else { return max(1, Int(((1 - bucket.tokens) / refill).rounded(.up))) }
            if taking { bucket.tokens -= 1 }
            return nil
        }
    }
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// Limits failures per source (``LimiterSource``: the connecting address, or a Tor circuit)
/// with a token bucket: failed receipt look-ups on the intake, sign-ins on casework.
///
/// Sources are kept only in memory, as keyed BLAKE2b hashes under a key made fresh for each
/// process; they are never logged or stored.
public final class FailureRateLimiter: Sendable {
    private let buckets: SourceBuckets
    /// Failures allowed at once.
    public var burst: Double { buckets.burst }
    /// Failures regained per second.
    public var refillPerSecond: Double { buckets.refillPerSecond }
    /// Counts each refusal (`hearth_rate_limit_refusals_total`): a number, never the source.
    private let refusals: Counter?

    /// `burst` failures at once, regaining `refillPerSecond` per second; each refusal is counted
    /// in `refusals` when given (``HearthMetrics/rateLimitRefusals(_:)``).
    public init(burst: Int = 10, refillPerSecond: Double = 0.2, refusals: Counter? = nil) throws {
        buckets = try SourceBuckets(burst: burst, refillPerSecond: refillPerSecond)
        self.refusals = refusals
    }

    /// Seconds to wait before another attempt, or nil if one may go ahead now. A non-nil answer
    /// is a refusal (the caller answers 429) and is counted.
    public func retryAfter(_ source: LimiterSource) -> Int? {
        let wait = buckets.wait(source)
        if wait != nil { refusals?.increment() }
        return wait
    }

    /// Records a failed attempt.
    public func recordFailure(_ source: LimiterSource) {
        buckets.drain(source)
    }

    /// Counts an attempt as a failure before its work starts, so that attempts running at the
    /// same time are all counted: nil when it may go ahead, else the seconds to wait (a counted
    /// refusal; nothing is taken). Call ``refund(_:)`` when it succeeds.
    public func reserve(_ source: LimiterSource) -> Int? {
        let wait = buckets.take(source)
        if wait != nil { refusals?.increment() }
        return wait
    }

    /// Gives back what ``reserve(_:)`` took, for an attempt that succeeded.
    public func refund(_ source: LimiterSource) {
        buckets.giveBack(source)
    }
}
