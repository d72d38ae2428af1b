import Dispatch
import Synchronization

/// Thrown when the Argon2id queue is full: more hashes are running and waiting than the hasher
/// takes. The listeners answer 429 with `Retry-After`; nothing was checked or changed.
public struct PasswordHasherBusy: Error, Sendable {}

/// Runs Argon2id off the event loop and the cooperative pool, at most `width` at a time
/// (each hash takes ~70 ms and 64 MiB at the interactive setting), with at most `queueLimit`
/// more waiting: beyond that it refuses at once (``PasswordHasherBusy``) rather than let a flood
/// of sign-ins queue without end and hold a thread each.
public final class PasswordHasher: Sendable {
    /// The Argon2id cost of new hashes.
    public let cost: Argon2id.Cost
    private let queue = DispatchQueue(label: "hearth.argon2id", attributes: .concurrent)
    private let slots: DispatchSemaphore
    /// Hashes running or waiting, and the most allowed.
    private let admitted = Atomic<Int>(0)
    private let capacity: Int
    /// A hash of a random password, verified against when the username is unknown, so that
    /// unknown users take as long as known ones.
    private let decoy: String

    /// A hasher at `cost`, running at most `width` hashes at once with at most `queueLimit` waiting.
    public init(cost: Argon2id.Cost, width: Int = 2, queueLimit: Int = 16) throws {
        self.cost = cost
        slots = DispatchSemaphore(value: width)
        capacity = width + max(0, queueLimit)
        decoy = try Argon2id.hashPassword(SecretBytes.random(count: 16), cost: cost)
    }

    func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        guard admitted.add(1, ordering: .relaxed).newValue <= capacity else {
            admitted.subtract(1, ordering: .relaxed)
            throw PasswordHasherBusy()
        }
        return try await withCheckedThrowingContinuation { c in
            queue.async {
                self.slots.wait()
                defer {
                    self.slots.signal()
                    self.admitted.subtract(1, ordering: .relaxed)
                }
                c.resume(with: Result { try work() })
            }
        }
    }

    /// Hashes a new password.
    public func hash(_ password: String) async throws -> String {
        let cost = cost
        return try await run { try Argon2id.hashPassword(SecretBytes(copying: Array(password.utf8)), cost: cost) }
    }

    /// Verifies a password against `encoded`, or against the decoy when there is no account.
    public func verify(_ password: String, against encoded: String?) async throws -> Bool {
        let target = encoded ?? decoy
        let ok = try await run { Argon2id.verifyPassword(SecretBytes(copying: Array(password.utf8)), against: target) }
        return ok && encoded != nil
    }

    /// Whether `encoded` was made at another cost.
    public func needsRehash(_ encoded: String) -> Bool { Argon2id.needsRehash(encoded, cost: cost) }
}
