// libFuzzer target: the strict JSON reader and the intake's body validation behind it.
//
// Any bytes: `JSONValue.parse` either returns a value or throws a `Problem`; it never traps, and a
// value it returns is read by the contact-request and consent validators without trapping.
import HearthCore
import HearthHTTP
import HearthIntake

func fuzzJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    guard let value = try? JSONValue.parse(bytes) else { return 0 }
    // A parsed document is deterministic: parsing the same bytes again gives the same value.
    precondition((try? JSONValue.parse(bytes)) == value, "JSONValue.parse is not deterministic")
    let today = Day(daysSinceEpoch: 20_000)
    _ = try? Submission.validate(value, today: today)
    _ = try? ConsentChoice.validate(value, today: today)
    return 0
}
