import Foundation
import HearthCore
import HearthTestSupport
import Testing

/// Invariant 1: no plaintext survivor data is written to disk or logs.
@Suite("Canaries: survivor text never reaches the database, its WAL or the logs")
struct CanaryTests {
    @Test(
        "canaries in every free-text field, the verification phrase (set and changed) and a message appear in no database file, WAL or log line; nor does the receipt"
    )
    func canariesNeverLand() async throws {
        try await IntakeHarness.with { h in
            let canary = "CANARY\(UInt64.random(in: 1_000_000...9_999_999))XYZ"
            let today = Day(unixSeconds: h.clock.unixSeconds())
            // The phrase has its own word, so a hit cannot come from another field.
            let phrase = "kingfisher \(UInt64.random(in: 1_000_000...9_999_999)) blue"
            let newPhrase = "heron \(UInt64.random(in: 1_000_000...9_999_999)) green"
            var request: [String: Any] = [
                "preferredName": "\(canary)-name",
                "contact": [
                    ["method": "email", "value": "\(canary.lowercased())@example.org", "safeTimes": "\(canary)-times"],
                    ["method": "phone", "value": "07700 900\(canary.filter(\.isNumber).prefix(3))", "safeTimes": "\(canary)-phone-times"],
                    ["method": "post", "value": "\(canary)-flat\n\(canary)-street"],
                    ["method": "organisation", "value": "\(canary)-organisation"],
                ],
                "region": "london",
                "wants": ["support", "reopen", "information"],
                "account": "\(canary)-account " + String(repeating: "words of the account ", count: 200) + "\(canary)-end",
                "verificationPhrase": phrase,
                "consents": [["scope": "support"], ["scope": "review", "expires": today.adding(days: 3).description]],
            ]
            let (_, receipt) = try await h.submit(request)
            // Exercise every survivor route so each one's logging is covered.
            #expect(try await h.client.send(.GET, "/api/v1/me", receipt: receipt).status == 200)
            #expect(try await h.client.send(.POST, "/api/v1/me/consents", json: ["scope": "police"], receipt: receipt).status == 200)
            let me = try await h.client.send(.GET, "/api/v1/me", receipt: receipt)
            #expect((me.json["request"] as? [String: Any])?["verificationPhrase"] as? String == phrase, "the survivor reads their phrase back")
            let changed = try await h.client.send(.PUT, "/api/v1/me/verification-phrase", json: ["verificationPhrase": newPhrase], receipt: receipt)
            #expect(changed.status == 204 && !changed.text.contains("heron"), "\(changed.text)")
            let reread = try await h.client.send(.GET, "/api/v1/me", receipt: receipt)
            #expect((reread.json["request"] as? [String: Any])?["verificationPhrase"] as? String == newPhrase)
            #expect(
                try await h.client.send(.POST, "/api/v1/me/messages", json: ["group": "support", "text": "\(canary)-message"], receipt: receipt)
                    .status == 201)
            #expect(try await h.client.send(.DELETE, "/api/v1/me/consents/support", receipt: receipt).status == 200)
            request["preferredName"] = "\(canary)-second"
            let (_, second) = try await h.submit(request)
            #expect(try await h.client.send(.DELETE, "/api/v1/me", receipt: second).status == 204)
            // A rejected body with a canary inside must not be logged either.
            request["unknownField"] = "\(canary)-rejected"
            #expect(try await h.client.send(.POST, "/api/v1/contact-requests", json: request).status == 400)

            let disk = h.databaseBytes()
            #expect(disk.count > 0)
            let logs = Array(h.logs.text.utf8)
            #expect(h.logs.all.count >= 6, "the requests were logged (by id and route)")
            let needles = [
                canary, canary.lowercased(), "words of the account", receipt, receipt.replacingOccurrences(of: "-", with: ""), phrase, newPhrase,
                "kingfisher", "heron",
            ]
            for needle in needles {
                #expect(!bytes(disk, contain: Array(needle.utf8)), "'\(needle)' is not in the database, WAL or shm")
                #expect(!bytes(logs, contain: Array(needle.utf8)), "'\(needle)' is not in the logs")
            }
            // UTF-16 and other encodings of the canary are not there either (e.g. SQLite text in UTF-16).
            let utf16 = canary.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
            #expect(!bytes(disk, contain: utf16))
            // Only the database, its WAL and shared-memory file exist: no temporary files.
            let files = try FileManager.default.contentsOfDirectory(atPath: h.assembly.settings.data).sorted()
            #expect(files.allSatisfy { ["hearth.sqlite", "hearth.sqlite-wal", "hearth.sqlite-shm"].contains($0) }, "\(files)")
        }
    }
}
