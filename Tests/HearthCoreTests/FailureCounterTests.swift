import Testing

@testable import HearthCore

@Suite("Unknown-username failure counts cannot be flushed")
struct FailureCounterTests {
    @Test("a name's count keeps growing however many other names fail in between")
    func floodOfOtherNamesDoesNotResetACount() {
        let counter = FailureCounter()
        for _ in 0..<3 { _ = counter.record("not-a-user") }
        for i in 0..<30_000 { _ = counter.record("made-up-\(i)") }
        #expect(counter.record("not-a-user") >= 4, "the three earlier failures still count")
    }
}
