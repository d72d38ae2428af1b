import HearthCore
import HearthCrypto
import HearthTestSupport
import Testing

/// Issue 15, "no penalty for script": limits count characters (Unicode scalars), and the sealed
/// side holds the longest request in any script (SECURITY.md §3.6, §11.3).
@Suite("No penalty for script: characters and the sealed body")
struct ScriptLimitSealingTests {
    /// The longest request the rules allow, every text at its limit in `script`.
    static func longest(_ script: Script) -> ContactRequest {
        let contacts = (0..<Limits.contacts.upperBound).map { i in
            ContactMethod(
                method: .organisation, value: script.text(Limits.contactValue, seed: i), safeTimes: script.text(Limits.safeTimes, seed: 10 + i),
                mayLeaveMessage: false)
        }
        return ContactRequest(
            preferredName: script.text(Limits.preferredName), contact: contacts, region: .northWest, wants: Want.allCases,
            account: script.text(Limits.account, seed: 20), verificationPhrase: script.text(Limits.verificationPhrase.upperBound, seed: 30))
    }

    @Test("a limit counts Unicode scalars: a Bengali grapheme of two scalars counts two, an Adlam letter of four bytes counts one")
    func lengthIsScalars() throws {
        #expect(FieldRules.length(Script.bengali.text(10)) == 10)
        #expect(Script.bengali.text(10).count == 5, "five graphemes")
        #expect(FieldRules.length(Script.adlam.text(10)) == 10 && Script.adlam.text(10).utf8.count == 40)
        for script in Script.allCases {
            #expect(try FieldRules.text(script.text(Limits.account), name: "account", maxLength: Limits.account) != nil)
            #expect(throws: Problem.self) { try FieldRules.text(script.text(Limits.account + 1), name: "account", maxLength: Limits.account) }
        }
    }

    @Test("the submission's texts together are the sum of their limits")
    func submissionCharacters() {
        let request = Self.longest(.adlam)
        let texts =
            [request.preferredName!, request.account!, request.verificationPhrase!] + request.contact.flatMap { [$0.value, $0.safeTimes!] }
        #expect(texts.map(FieldRules.length).reduce(0, +) == Limits.submissionCharacters)
        #expect(Limits.submissionCharacters == 18_160)
    }

    @Test(
        "the canonical body writes every non-ASCII character as raw UTF-8, never a \\u escape, so the longest request in a 4-byte script fits the largest padding bucket",
        arguments: Script.allCases)
    func longestRequestFitsTheLargestBucket(_ script: Script) throws {
        let request = Self.longest(script)
        let body = try request.canonicalBody().unsafeExportedBytes()
        let text = String(decoding: body, as: UTF8.self)
        #expect(!text.contains("\\u"), "no \\u escape")
        let textBytes =
            [request.preferredName!, request.account!, request.verificationPhrase!].map(\.utf8.count).reduce(0, +)
            + request.contact.map { $0.value.utf8.count + $0.safeTimes!.utf8.count }.reduce(0, +)
        let perCharacter = script == .adlam ? 4 : 3
        #expect(textBytes == Limits.submissionCharacters * perCharacter, "raw UTF-8")
        #expect(body.count - textBytes < 1_024, "the rest is keys, methods and punctuation: \(body.count - textBytes) bytes")
        #expect(try BucketPadding.bucket(forLength: body.count) <= BucketPadding.largestBucket)
        if script == .adlam { #expect(try BucketPadding.bucket(forLength: body.count) == 128 * 1024) }
        // The worst case in general: 4 bytes a character (a 2-byte escape such as \" or \n is
        // shorter), plus the same structure.
        #expect(Limits.submissionCharacters * 4 + 1_024 < BucketPadding.largestBucket)
        #expect(try ContactRequest(canonicalBody: SecretBytes(copying: body)) == request)
    }
}
