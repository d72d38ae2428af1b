#!/usr/bin/env python3
"""Writes the fuzzers' seed corpora under Tests/Fuzz/corpus/<target>/ from the envelope test
vectors (Tests/HearthCoreTests/Vectors) and from small bodies of the kinds the API and pages take.

Idempotent: each seed's file name is the SHA-1 of its bytes, as libFuzzer names its own finds.
Run it again after changing the vectors; crashes found later are added by hand (see run.sh).
"""
import hashlib
import json
import pathlib

root = pathlib.Path(__file__).resolve().parent
vectors = root.parent / "HearthCoreTests" / "Vectors"


def fields(path):
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#") and ": " in line:
            key, value = line.split(": ", 1)
            out[key] = value
    return out


def write(target, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    folder = root / "corpus" / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / hashlib.sha1(data).hexdigest()).write_bytes(data)


receipts, references = set(), set()
for path in sorted(vectors.glob("*.txt")):
    f = fields(path)
    for key in ("body", "consent_wrap", "survivor_wrap", "note"):
        if key in f and len(f[key]) <= 2 * 4200:
            write("Envelope", bytes.fromhex(f[key]))
    for key in ("public_file", "sealed_file", "manifest"):
        if key in f:
            write("KeyFile", bytes.fromhex(f[key]))
    if "receipt" in f:
        receipts.add(f["receipt"])
    if "record_id" in f:
        references.add(bytes.fromhex(f["record_id"]))

alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def reference(raw):
    bits = "".join(f"{b:08b}" for b in raw)
    symbols = "".join(alphabet[int(bits[i:i + 5], 2)] for i in range(0, len(bits), 5))
    return "HR-" + "-".join(symbols[i:i + 4] for i in range(0, len(symbols), 4))


for r in sorted(receipts):
    write("Reference", r)
    write("Reference", r.lower().replace("-", " "))
for raw in sorted(references):
    write("Reference", reference(raw))
    write("Reference", reference(raw).lower().replace("-", ""))
# master.kdf: the smallest cost libsodium takes (ops 1, 8 KiB), a zero salt and check.
write("KeyFile", b"HRTHKDF1" + (1).to_bytes(8, "big") + (8192).to_bytes(8, "big") + bytes(16 + 32))

submission = {
    "preferredName": "Sam", "region": "london", "wants": ["support", "information"],
    "contact": [{"method": "phone", "value": "07700 900123", "safeTimes": "after 6pm\nnot weekends", "mayLeaveMessage": False},
                {"method": "email", "value": "sam@example.org"}],
    "account": "I would like to talk to someone.\tThank you.", "consents": [{"scope": "support", "expires": "2027-06-30"}, {"scope": "review"}],
}
for body in (submission, {"scope": "police", "expires": None}, {"text": "Caf\u00e9 \U0001F600 \\u00e9 \"quoted\""},
             {"reason": "safeguarding follow-up", "status": "open"}):
    write("JSON", json.dumps(body, ensure_ascii=False))
write("JSON", json.dumps(submission, ensure_ascii=True, indent=1))
write("JSON", '[1, -0.5e+10, 1E-3, true, false, null, "\\ud83d\\ude00", {"a": [[[]]]}]')
write("JSON", '{"a": 1, "a": 2}')

for form in ("csrf=abc123&preferredName=Sam+Smith&contactMethod=email&contactValue=sam%40example.org",
             "wants=support&wants=information&account=line+one%0D%0Aline+two%09tab",
             "receipt=3HBY-ZEAE-X2C3-20C8-X322-0EP0-67A4&csrf=", "text=caf%C3%A9+%F0%9F%98%80&&=&x"):
    write("Form", form)
