"""schemathesis hooks for Hearth's API conformance run (Tests/api/schemathesis.sh).

One rule of the API cannot be written in JSON Schema because it moves with the calendar: a
consent's `expires`, and a pause's `until`, must lie between today and ten years ahead
(openapi.json says so in words). A schema-valid date outside that window is refused with 400
`invalid-value` and a message naming the window. That answer, and only that answer, is accepted
for the positive-data check (ST202); every other failure counts, and schemathesis's summary says
how many were dropped here.

Likewise an answer to an interview invitation: which times it offers is the invitation's, not the
schema's, so a schema-valid `time` that is not one of them is refused with 400 `invalid-value`,
"'time' must be one of the times offered"; that answer alone is accepted too.
"""
import schemathesis


@schemathesis.hook
def filter_failure(context, failure, case, response):
    if failure.code != "ST202" or response.status_code != 400:
        return True
    try:
        body = response.json()
    except ValueError:
        return True
    error = body.get("error", "") if isinstance(body, dict) else ""
    calendar = "expires' must be between today (" in error or "until' must be today or later, and no more than ten years away" in error
    offered = error == "'time' must be one of the times offered"
    return not (body.get("code") == "invalid-value" and (calendar or offered))
