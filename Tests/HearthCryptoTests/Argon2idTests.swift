import HearthCrypto
import HearthTestSupport
import Testing

@Suite("Argon2id")
struct Argon2idTests {
    let cost = Argon2id.Cost.insecureMinimumForTests

    @Test func hashedPasswordVerifies() throws {
        let encoded = try Argon2id.hashPassword(secret("correct horse battery staple"), cost: cost)
        #expect(encoded.hasPrefix("$argon2id$"))
        let verified = Argon2id.verifyPassword(secret("correct horse battery staple"), against: encoded)
        #expect(verified)
    }

    @Test func wrongPasswordDoesNotVerify() throws {
        let encoded = try Argon2id.hashPassword(secret("correct horse battery staple"), cost: cost)
        let oneLetterOff = Argon2id.verifyPassword(secret("correct horse battery stapler"), against: encoded)
        let empty = Argon2id.verifyPassword(secret(""), against: encoded)
        #expect(!oneLetterOff)
        #expect(!empty)
    }

    @Test func garbledEncodedHashDoesNotVerify() throws {
        let garbled = Argon2id.verifyPassword(secret("anything"), against: "$argon2id$v=19$m=8,t=1,p=1$garbage")
        let empty = Argon2id.verifyPassword(secret("anything"), against: "")
        #expect(!garbled)
        #expect(!empty)
    }

    @Test func hashingTheSamePasswordTwiceUsesDifferentSalts() throws {
        let a = try Argon2id.hashPassword(secret("pw"), cost: cost)
        let b = try Argon2id.hashPassword(secret("pw"), cost: cost)
        #expect(a != b)
    }

    @Test func hashMadeAtLowerCostNeedsRehashForAHigherCost() throws {
        let encoded = try Argon2id.hashPassword(secret("pw"), cost: cost)
        #expect(Argon2id.needsRehash(encoded, cost: .interactive))
        #expect(Argon2id.needsRehash(encoded, cost: Argon2id.Cost(opsLimit: cost.opsLimit + 1, memLimit: cost.memLimit)))
    }

    @Test func hashMadeAtTheSameCostDoesNotNeedRehash() throws {
        let encoded = try Argon2id.hashPassword(secret("pw"), cost: cost)
        #expect(!Argon2id.needsRehash(encoded, cost: cost))
    }

    @Test func derivedKeyIsTheSameForTheSameSalt() throws {
        let salt = [UInt8](repeating: 0x42, count: Argon2id.saltByteCount)
        let a = try Argon2id.deriveKey(passphrase: secret("passphrase"), salt: salt, cost: cost)
        let b = try Argon2id.deriveKey(passphrase: secret("passphrase"), salt: salt, cost: cost)
        let same = a.constantTimeEquals(b)
        #expect(same)
    }

    @Test func derivedKeyDiffersForADifferentSalt() throws {
        let a = try Argon2id.deriveKey(passphrase: secret("passphrase"), salt: [UInt8](repeating: 1, count: 16), cost: cost)
        let b = try Argon2id.deriveKey(passphrase: secret("passphrase"), salt: [UInt8](repeating: 2, count: 16), cost: cost)
        let same = a.constantTimeEquals(b)
        #expect(!same)
    }

    @Test func derivedKeyDiffersForADifferentPassphrase() throws {
        let salt = [UInt8](repeating: 7, count: 16)
        let a = try Argon2id.deriveKey(passphrase: secret("passphrase"), salt: salt, cost: cost)
        let b = try Argon2id.deriveKey(passphrase: secret("passphrasf"), salt: salt, cost: cost)
        let same = a.constantTimeEquals(b)
        #expect(!same)
    }

    @Test func saltOfTheWrongLengthIsRefused() {
        for length in [0, 15, 17, 32] {
            let code = cryptoErrorCode {
                _ = try Argon2id.deriveKey(passphrase: secret("p"), salt: [UInt8](repeating: 0, count: length), cost: cost)
            }
            #expect(code == .malformedInput)
        }
    }

    @Test func costBelowLibsodiumsMinimumIsRefused() {
        let tooCheap = Argon2id.Cost(opsLimit: 0, memLimit: 1)
        #expect(cryptoErrorCode { _ = try Argon2id.hashPassword(secret("pw"), cost: tooCheap) } == .passwordHashingFailed)
    }
}

/// Found by Tests/Fuzz/run.sh KeyFile (corpus entry crash-f21e4442…): a `master.kdf` whose memory
/// cost is above `Int.max` trapped in `Int(_:)` instead of being refused.
@Suite("Argon2id costs from files")
struct Argon2idHostileCostTests {
    @Test("a memory cost above Int.max is refused as malformed input, for every entry point")
    func memoryCostBeyondIntIsRefused() {
        let salt = [UInt8](repeating: 0, count: Argon2id.saltByteCount)
        for memLimit in [UInt64(Int.max) + 1, 0xFFFF_FE00_0000_2000, UInt64.max] {
            let cost = Argon2id.Cost(opsLimit: 1, memLimit: memLimit)
            #expect(cryptoErrorCode { _ = try Argon2id.deriveKey(passphrase: secret("p"), salt: salt, cost: cost) } == .malformedInput)
            #expect(cryptoErrorCode { _ = try Argon2id.hashPassword(secret("p"), cost: cost) } == .malformedInput)
            #expect(Argon2id.needsRehash("$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHQ$aGFzaA", cost: cost))
        }
    }
}

@Suite("The password hasher's queue is bounded")
struct PasswordHasherQueueTests {
    @Test("one running, one waiting: a flood of verifications is refused at once with PasswordHasherBusy, the rest still check")
    func floodIsRefusedBeyondTheQueue() async throws {
        // The interactive cost (~70 ms, 64 MiB each), one at a time, so the calls below overlap.
        let hasher = try PasswordHasher(cost: .interactive, width: 1, queueLimit: 1)
        let encoded = try await hasher.hash("correct horse battery")
        let outcomes = await withTaskGroup(of: String.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    do {
                        return try await hasher.verify("correct horse battery", against: encoded) ? "ok" : "wrong"
                    } catch is PasswordHasherBusy {
                        return "busy"
                    } catch {
                        return "\(error)"
                    }
                }
            }
            return await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 == "busy" }.count >= 1, "\(outcomes)")
        #expect(outcomes.filter { $0 == "ok" }.count >= 2, "\(outcomes)")
        #expect(outcomes.allSatisfy { $0 == "ok" || $0 == "busy" }, "\(outcomes)")
        // Once the flood has drained, the hasher takes work again.
        #expect(try await hasher.verify("correct horse battery", against: encoded))
    }
}
