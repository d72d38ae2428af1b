public import HearthCore
public import HearthHTTP

// The intake API's JSON bodies read into Core's drafts: structure and types here (unknown
// fields, text where text belongs), everything about the values in Core's validation.

extension SubmissionDraft {
    /// Reads a contact-request body: only the documented fields, each of the right JSON type.
    public init(json: JSONValue) throws(Problem) {
        let top = try FieldReader(json, allowed: ["preferredName", "contact", "region", "wants", "account", "verificationPhrase", "consents"])
        self.init(
            preferredName: try top.string("preferredName"),
            contact: try top.items("contact")?.map { (name, item) throws(Problem) -> ContactMethodDraft in
                let f = try FieldReader(item, path: name, allowed: ["method", "value", "safeTimes", "mayLeaveMessage"])
                return ContactMethodDraft(
                    method: try f.string("method"), value: try f.string("value"), safeTimes: try f.string("safeTimes"),
                    mayLeaveMessage: try f.bool("mayLeaveMessage"))
            },
            region: try top.string("region"),
            wants: try top.strings("wants"),
            account: try top.string("account"),
            verificationPhrase: try top.string("verificationPhrase"),
            consents: try top.items("consents")?.map { (name, item) throws(Problem) in try ConsentDraft(json: item, path: name) })
    }
}

extension ConsentDraft {
    /// Reads `{"scope", "expires"?}`.
    public init(json: JSONValue, path: String = "") throws(Problem) {
        let f = try FieldReader(json, path: path, allowed: ["scope", "expires"])
        self.init(scope: try f.string("scope"), expires: try f.string("expires"))
    }
}

extension Submission {
    /// Reads and checks a contact-request body.
    public static func validate(_ json: JSONValue, today: Day) throws(Problem) -> Submission {
        try validate(SubmissionDraft(json: json), today: today)
    }
}

extension ConsentChoice {
    /// Reads and checks a consent body.
    public static func validate(_ json: JSONValue, today: Day) throws(Problem) -> ConsentChoice {
        try validate(ConsentDraft(json: json), today: today)
    }
}

extension InterviewAnswerDraft {
    /// Reads `{"action", "time"?, "proposedTimes"?, "question"?, "requests"?}`.
    public init(json: JSONValue) throws(Problem) {
        let f = try FieldReader(json, allowed: ["action", "time", "proposedTimes", "question", "requests"])
        var requests: InterviewRequestsDraft?
        if let value = f.value("requests") {
            let r = try FieldReader(
                value, path: "requests", allowed: ["supporter", "interviewer", "interpreter", "breaks", "accessibility", "place"])
            requests = InterviewRequestsDraft(
                supporter: try r.bool("supporter"), interviewer: try r.string("interviewer"), interpreter: try r.string("interpreter"),
                breaks: try r.bool("breaks"), accessibility: try r.string("accessibility"), place: try r.string("place"))
        }
        self.init(
            action: try f.string("action"), time: try f.string("time"), proposedTimes: try f.string("proposedTimes"),
            question: try f.string("question"), requests: requests)
    }
}
