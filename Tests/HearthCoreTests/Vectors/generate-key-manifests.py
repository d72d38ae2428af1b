# Writes the key-manifest-*.txt vectors (SECURITY.md §3.18) with PyNaCl, independently of Hearth's code.
# Run: python3 Tests/HearthCoreTests/Vectors/generate-key-manifests.py
import struct, nacl.signing, nacl.public, os
D=os.path.dirname(os.path.abspath(__file__))+'/'
seed=bytes([0x42])*32
sk=nacl.signing.SigningKey(seed); apk=bytes(sk.verify_key)
def pk(i): return bytes(nacl.public.PrivateKey(bytes([i])*32).public_key)
LABEL=b"hearth/v1/key-manifest"
def body(created, audit_v, entries, version=1, count=None):
    b=bytes([version])+struct.pack('>qI',created,audit_v)+bytes([len(entries) if count is None else count])
    for (sid,v,prim,key) in entries: b+=bytes([sid])+struct.pack('>I',v)+bytes([prim])+key
    return b
def sign(b): return b+sk.sign(LABEL+b).signature
E=[(1,1,0,pk(1)),(1,2,1,pk(2)),(2,1,1,pk(3)),(3,1,1,pk(4)),(4,1,1,pk(5))]
C=1798761600
valid=sign(body(C,1,E))
def w(name, expect, scenario, m, error=None):
    lines=[f"expect: {expect}", f"scenario: {scenario}", "operation: verify-key-manifest", f"manifest: {m.hex()}", f"audit_public_key: {apk.hex()}"]
    if expect=="success": lines.append("primaries: support.v2,review.v1,police.v1,prosecution.v1")
    else: lines.append(f"error: {error}")
    open(D+name,'w').write("# SECURITY.md §3.18; audit seed 42…42, scope keys X25519 of secrets 01…01 to 05…05\n"+"\n".join(lines)+"\n")
w("key-manifest-valid.txt","success","keys.manifest: support v1 decrypt-only and v2 primary, v1 of the other scopes, signed by audit v1",valid)
f=bytearray(valid); f[-1]^=1
w("key-manifest-flipped-signature-byte.txt","failure","keys.manifest with one signature bit flipped (a forged manifest)",bytes(f),"authentication-failed")
f=bytearray(valid); f[8]^=1
w("key-manifest-altered-creation-time.txt","failure","keys.manifest whose creation time was changed after signing (a replayed manifest made to look new)",bytes(f),"authentication-failed")
f=bytearray(valid); f[14+38*2+5+1]^=1  # a byte of review's public key
w("key-manifest-substituted-key.txt","failure","keys.manifest with a byte of the review key changed after signing",bytes(f),"authentication-failed")
w("key-manifest-entries-out-of-order.txt","failure","correctly signed, but support v2 is listed before v1 (not canonical)",sign(body(C,1,[E[1],E[0]]+E[2:])),"malformed-input")
w("key-manifest-primary-not-highest.txt","failure","correctly signed, but support v1 is marked primary and v2 is not",sign(body(C,1,[(1,1,1,pk(1)),(1,2,0,pk(2))]+E[2:])),"malformed-input")
w("key-manifest-missing-scope.txt","failure","correctly signed, but prosecution has no key",sign(body(C,1,E[:4])),"malformed-input")
w("key-manifest-trailing-byte.txt","failure","a valid manifest with one extra byte at the end",valid+b"\x00","malformed-input")
w("key-manifest-unknown-version.txt","failure","correctly signed, but version byte 2",sign(body(C,1,E,version=2)),"malformed-input")
print(valid.hex()[:60], len(valid))
