// libFuzzer target: the `application/x-www-form-urlencoded` reader of the survivor and staff pages.
//
// Any bytes: `FormFields.parse` returns fields or throws a `Problem`; it never traps, and what it
// returns is valid text without control characters other than tab and line breaks.
import HearthCore
import HearthHTTP

func fuzzForm(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    guard let fields = try? FormFields.parse(bytes) else { return 0 }
    for (name, value) in fields.pairs {
        for text in [name, value] {
            precondition(
                !text.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\t" && $0 != "\n" && $0 != "\r") || $0.value == 0x7f },
                "a form field kept a control character")
        }
        _ = fields.value(name)
        _ = fields.trimmed(name)
        _ = fields.values(name)
    }
    return 0
}
