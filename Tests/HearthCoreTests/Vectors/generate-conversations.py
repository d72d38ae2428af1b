# Writes the conversation-*.txt and interview-*.txt vectors (SECURITY.md §3.13, a conversation per group) with PyNaCl
# and hashlib, from SECURITY.md alone, independently of Hearth's code. The keys and receipt are
# random, so each run writes new bytes.
# Run: python3 Tests/HearthCoreTests/Vectors/generate-conversations.py
import hashlib, json, os, struct
import nacl.bindings as b

D = os.path.dirname(os.path.abspath(__file__)) + '/'
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SCOPES = {"support": 1, "review": 2, "police": 3, "prosecution": 4}


def blake(message, key=b""):
    return hashlib.blake2b(message, digest_size=32, key=key).digest()


def receipt():
    # §3.8: 27 random data symbols and a Luhn mod 32 check symbol.
    values = [v % 32 for v in os.urandom(27)]
    total, double = 0, True
    for v in reversed(values):
        a = v * 2 if double else v
        total += a // 32 + a % 32 if double else a
        double = not double
    symbols = "".join(ALPHABET[v] for v in values) + ALPHABET[(32 - total % 32) % 32]
    return "-".join(symbols[i:i + 4] for i in range(0, 28, 4)), symbols[:27].encode()


def pad(text):
    bucket = 1024
    while bucket < len(text) + 1:
        bucket *= 2
    return text + b"\x80" + b"\x00" * (bucket - len(text) - 1)


def aead(key, message, ad):
    nonce = os.urandom(24)
    return nonce + b.crypto_aead_xchacha20poly1305_ietf_encrypt(message, ad, nonce, key)


def conversation_key(secret, record_id, scope):
    return blake(b"hearth/v1/conversation-key" + record_id + bytes([SCOPES[scope]]), key=secret)


def sealed_to(scope_pk, secret_bytes, wrap_label, kdf_label, record_id, scope, version):
    # §3.7's construction; the conversation wrap uses its own two labels.
    eph_sk = os.urandom(32)
    eph_pk = b.crypto_scalarmult_base(eph_sk)
    k = blake(kdf_label + eph_pk + scope_pk, key=b.crypto_scalarmult(eph_sk, scope_pk))
    ad = wrap_label + b"\x01" + record_id + bytes([SCOPES[scope]]) + struct.pack(">I", version)
    return b"\x01" + eph_pk + aead(k, secret_bytes, ad)


def conversation_wrap(scope_pk, key, record_id, scope, version):
    return sealed_to(scope_pk, key, b"hearth/v1/conversation-wrap", b"hearth/v1/conversation-wrap-key", record_id, scope, version)


def message(key, text, record_id, scope, note_id, author):
    ad = b"hearth/v1/conversation-message" + b"\x01" + record_id + bytes([SCOPES[scope]]) + note_id + bytes([1 if author == "survivor" else 2])
    return b"\x01" + aead(key, pad(text), ad)


record_id = os.urandom(10)
shown, secret = receipt()
police_sk = os.urandom(32)
police_pk = b.crypto_scalarmult_base(police_sk)
support_key = conversation_key(secret, record_id, "support")
police_key = conversation_key(secret, record_id, "police")
survivor_text = "Evenings are best. Please don’t leave a voicemail — it is a shared phone.".encode()
staff_text = ("Hello, this is the police liaison. " * 40).encode()  # over 1 KiB: the 2 KiB bucket
note_a, note_b = os.urandom(16), os.urandom(16)
to_support = message(support_key, survivor_text, record_id, "support", note_a, "survivor")
from_police = message(police_key, staff_text, record_id, "police", note_b, "staff")
police_wrap = conversation_wrap(police_pk, police_key, record_id, "police", 2)


def write(name, expect, scenario, operation, fields, plaintext=None, error=None):
    lines = [f"expect: {expect}", f"scenario: {scenario}", f"operation: {operation}", f"record_id: {record_id.hex()}"]
    lines += [f"{k}: {v}" for k, v in fields]
    lines.append(f"plaintext: {plaintext.hex()}" if expect == "success" else f"error: {error}")
    with open(D + name, "w") as f:
        f.write("# SECURITY.md §3.13 (conversation per group); written by generate-conversations.py with PyNaCl\n" + "\n".join(lines) + "\n")


def with_receipt(scope, note_id, author, blob):
    return [("receipt", shown), ("scope", scope), ("note_id", note_id.hex()), ("author", author), ("message", blob.hex())]


def with_scope_key(scope, version, wrap, note_id, author, blob, secret_key=police_sk):
    return [
        ("scope", scope), ("key_version", str(version)), ("scope_secret_key", secret_key.hex()), ("conversation_wrap", wrap.hex()),
        ("note_id", note_id.hex()), ("author", author), ("message", blob.hex()),
    ]


R, S = "open-conversation-with-receipt", "open-conversation-with-scope-key"
write("conversation-valid-survivor-message.txt", "success",
      "the survivor's message to support, opened with the key the receipt derives (1 KiB bucket)", R,
      with_receipt("support", note_a, "survivor", to_support), survivor_text)
write("conversation-valid-staff-message-with-scope-key.txt", "success",
      "a police liaison's message, opened through the police conversation wrap of key version 2 (2 KiB bucket)", S,
      with_scope_key("police", 2, police_wrap, note_b, "staff", from_police), staff_text)
write("conversation-valid-staff-message-with-receipt.txt", "success",
      "the same police message, opened by the survivor with the receipt", R,
      with_receipt("police", note_b, "staff", from_police), staff_text)
write("conversation-message-moved-to-another-group.txt", "failure",
      "the message to support presented as one in the police conversation (the survivor's police key)", R,
      with_receipt("police", note_a, "survivor", to_support), error="authentication-failed")
write("conversation-message-other-author.txt", "failure",
      "the police liaison's message presented as the survivor's (author byte 0x01)", R,
      with_receipt("police", note_b, "survivor", from_police), error="authentication-failed")
write("conversation-message-other-note-id.txt", "failure",
      "the survivor's support message presented under another note id", R,
      with_receipt("support", note_b, "survivor", to_support), error="authentication-failed")
flipped = bytearray(to_support); flipped[0] = 2
write("conversation-message-unknown-version.txt", "failure",
      "the survivor's support message with version byte 0x02", R,
      with_receipt("support", note_a, "survivor", bytes(flipped)), error="malformed-input")
# The format before conversations per group: a message sealed under the record's DEK with AD_message.
dek = os.urandom(32)
commitment = blake(b"hearth/v1/commitment" + record_id, key=dek)
old = b"\x01" + aead(dek, pad(survivor_text), b"hearth/v1/message" + b"\x01" + record_id + note_a + b"\x01" + commitment)
write("conversation-old-format-message.txt", "failure",
      "a message in the format before conversations per group (under the record's data key) does not open as a conversation message", R,
      with_receipt("support", note_a, "survivor", old), error="authentication-failed")
write("conversation-wrap-other-key-version.txt", "failure",
      "the police conversation wrap of version 2 presented as version 3", S,
      with_scope_key("police", 3, police_wrap, note_b, "staff", from_police), error="authentication-failed")
write("conversation-wrap-other-scope-key.txt", "failure",
      "the police conversation wrap opened with another scope's secret key", S,
      with_scope_key("police", 2, police_wrap, note_b, "staff", from_police, secret_key=os.urandom(32)), error="authentication-failed")
consent_style = sealed_to(police_pk, police_key, b"hearth/v1/consent-wrap", b"hearth/v1/consent-wrap-key", record_id, "police", 2)
write("conversation-wrap-consent-labels.txt", "failure",
      "the police conversation key sealed with the consent wrap's labels (§3.7) instead of the conversation wrap's", S,
      with_scope_key("police", 2, consent_style, note_b, "staff", from_police), error="authentication-failed")
write("conversation-wrap-truncated.txt", "failure",
      "the police conversation wrap without its last byte (104 bytes)", S,
      with_scope_key("police", 2, police_wrap[:-1], note_b, "staff", from_police), error="malformed-input")


# Invitations to interviews (§3.13): the invitation (part 1, revision 0) and the survivor's answer
# (part 2, revision n) sealed under the group's conversation key, JSON with sorted keys, padded.
PARTS = {"invitation": 1, "answer": 2}


def interview(key, plaintext, record_id, scope, interview_id, part, revision):
    ad = b"hearth/v1/interview" + b"\x01" + record_id + bytes([SCOPES[scope]]) + interview_id + bytes([PARTS[part]]) + struct.pack(">I", revision)
    return b"\x01" + aead(key, pad(plaintext), ad)


def sorted_json(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


interview_a, interview_b = os.urandom(16), os.urandom(16)
invitation_json = sorted_json({
    "purpose": "A first conversation about what happened, at your pace. You can stop at any time.",
    "form": "in-person", "times": [1798797600, 1798884000]})
answer_json = sorted_json({
    "action": "accept", "time": 1798884000,
    "requests": {"supporter": True, "interviewer": "woman", "interpreter": "Polski", "breaks": True, "place": "Near the station, not at home"}})
invitation_blob = interview(police_key, invitation_json, record_id, "police", interview_a, "invitation", 0)
answer_blob = interview(police_key, answer_json, record_id, "police", interview_a, "answer", 2)


def interview_fields(scope, interview_id, part, revision, blob, key_scope=None):
    fields = [("receipt", shown), ("scope", scope)]
    if key_scope:
        fields.append(("key_scope", key_scope))
    return fields + [("interview_id", interview_id.hex()), ("part", part), ("revision", str(revision)), ("interview", blob.hex())]


I = "open-interview"
write("interview-valid-invitation.txt", "success",
      "a police liaison's invitation (part 1, revision 0), opened with the police conversation key the receipt derives", I,
      interview_fields("police", interview_a, "invitation", 0, invitation_blob), invitation_json)
write("interview-valid-answer.txt", "success",
      "the survivor's second answer to it (part 2, revision 2): an acceptance with requests", I,
      interview_fields("police", interview_a, "answer", 2, answer_blob), answer_json)
write("interview-answer-other-revision.txt", "failure",
      "the answer of revision 2 presented as revision 1 (a rollback to an older answer's place)", I,
      interview_fields("police", interview_a, "answer", 1, answer_blob), error="authentication-failed")
write("interview-answer-as-invitation.txt", "failure",
      "the answer presented as the invitation part (part byte 0x01, same revision)", I,
      interview_fields("police", interview_a, "invitation", 2, answer_blob), error="authentication-failed")
write("interview-moved-to-another-group.txt", "failure",
      "the police invitation presented as one in the support conversation (the police key, support's scope id in the AD)", I,
      interview_fields("support", interview_a, "invitation", 0, invitation_blob, key_scope="police"), error="authentication-failed")
write("interview-other-interview-id.txt", "failure",
      "the invitation presented under another interview id", I,
      interview_fields("police", interview_b, "invitation", 0, invitation_blob), error="authentication-failed")
flipped = bytearray(invitation_blob); flipped[0] = 2
write("interview-unknown-version.txt", "failure",
      "the invitation with version byte 0x02", I,
      interview_fields("police", interview_a, "invitation", 0, bytes(flipped)), error="malformed-input")
