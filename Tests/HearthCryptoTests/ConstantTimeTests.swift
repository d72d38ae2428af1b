import HearthCrypto
import HearthTestSupport
import Testing

@Suite("Constant-time comparison and secrets")
struct ConstantTimeTests {
    // `#expect` cannot take non-copyable operands, so comparisons are evaluated first.

    @Test func secretsWithTheSameBytesAreEqual() {
        let same = SecretBytes(copying: [1, 2, 3] as [UInt8]).constantTimeEquals(SecretBytes(copying: [1, 2, 3] as [UInt8]))
        let bothEmpty = SecretBytes(zeroedCount: 0).constantTimeEquals(SecretBytes(zeroedCount: 0))
        #expect(same)
        #expect(bothEmpty)
    }

    @Test func secretsDifferingInOneByteAreNotEqual() {
        let base: [UInt8] = Array(0..<32)
        for index in base.indices {
            let same = SecretBytes(copying: base).constantTimeEquals(SecretBytes(copying: flipping(base, at: index)))
            #expect(!same, "byte \(index)")
        }
    }

    @Test func secretsOfDifferentLengthsAreNotEqual() {
        let prefix = SecretBytes(copying: [1, 2, 3] as [UInt8]).constantTimeEquals(SecretBytes(copying: [1, 2] as [UInt8]))
        let emptyAndZero = SecretBytes(zeroedCount: 0).constantTimeEquals(SecretBytes(zeroedCount: 1))
        #expect(!prefix)
        #expect(!emptyAndZero)
    }

    @Test func duplicateIsEqualButIndependent() {
        let original = SecretBytes(copying: [1, 2, 3] as [UInt8])
        let copy = original.duplicate()
        let same = copy.constantTimeEquals(original)
        #expect(same)
        copy.withUnsafeMutableBytes { $0[0] = 9 }
        #expect(original.unsafeExportedBytes() == [1, 2, 3])
    }

    @Test func randomSecretsHaveTheRequestedLengthAndDiffer() throws {
        let a = try SecretBytes.random(count: 32)
        let b = try SecretBytes.random(count: 32)
        let same = a.constantTimeEquals(b)
        #expect(a.count == 32)
        #expect(!same)
    }

    @Test func symmetricKeysCompareByValue() throws {
        let a = try SecretKey(SecretBytes(copying: [UInt8](repeating: 3, count: 32)))
        let b = try SecretKey(SecretBytes(copying: [UInt8](repeating: 3, count: 32)))
        let c = try SecretKey.random()
        let sameBytes = a.constantTimeEquals(b)
        let otherBytes = a.constantTimeEquals(c)
        #expect(sameBytes)
        #expect(!otherBytes)
    }

    @Test func sodiumConstantTimeEqualComparesBytes() {
        #expect(Sodium.constantTimeEqual([1, 2, 3] as [UInt8], [1, 2, 3] as [UInt8]))
        #expect(!Sodium.constantTimeEqual([1, 2, 3] as [UInt8], [1, 2, 4] as [UInt8]))
        #expect(!Sodium.constantTimeEqual([0x80, 2, 3] as [UInt8], [0, 2, 3] as [UInt8]))
    }

    @Test func sodiumConstantTimeEqualRefusesDifferentLengths() {
        #expect(!Sodium.constantTimeEqual([1, 2, 3] as [UInt8], [1, 2] as [UInt8]))
        #expect(!Sodium.constantTimeEqual([] as [UInt8], [0] as [UInt8]))
    }

    @Test func sodiumConstantTimeEqualTreatsTwoEmptyInputsAsEqual() {
        #expect(Sodium.constantTimeEqual([] as [UInt8], [] as [UInt8]))
    }

    @Test func sodiumConstantTimeEqualComparesAnArraySliceByItsOwnBytes() {
        let array: [UInt8] = [5, 1, 2, 3]
        #expect(Sodium.constantTimeEqual(array[1...], [1, 2, 3] as [UInt8]))
    }

    @Test func systemRandomGivesTheRequestedCountAndUniformStaysInRange() throws {
        #expect(try SystemRandom.bytes(0).isEmpty)
        #expect(try SystemRandom.bytes(10).count == 10)
        for _ in 0..<200 { #expect(try SystemRandom.uniform(32) < 32) }
    }
}
