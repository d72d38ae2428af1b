# Writes the backup-*.txt vectors (SECURITY.md §3.20) with PyNaCl and hashlib, from the spec alone,
# independently of Hearth's code. Run: python3 Tests/HearthCoreTests/Vectors/generate-backups.py
# (pip install pynacl). crypto_box_seal is randomised, so each run writes new bytes; every file is
# one scenario with its expected outcome in the header.
import hashlib, os, struct
import nacl.bindings as b
import nacl.hash, nacl.encoding
from nacl.public import PrivateKey, SealedBox

D = os.path.dirname(os.path.abspath(__file__)) + '/'
CHUNK = 1024  # the smallest chunk size a reader accepts, so the vectors stay small

def blake(data):
    return nacl.hash.blake2b(data, digest_size=32, encoder=nacl.encoding.RawEncoder)

def u32(v): return struct.pack('>I', v)
def u64(v): return struct.pack('>Q', v)

KEY = PrivateKey(bytes([0x07]) * 32)
OTHER = PrivateKey(bytes([0x08]) * 32)
DATA = bytes((i * 7 + 3) % 256 for i in range(2500))  # two full chunks and one of 452 bytes

def manifest(data, sha=None):
    m = b"HRTHBMF1" + u64(1798761600) + bytes([1]) + u32(3) + u64(2) + u64(len(data))
    m += sha if sha is not None else hashlib.sha256(data).digest()
    entries = [(1, 1, 2), (3, 1, 1)]  # support v1: 2 wraps, police v1: 1 wrap
    m += bytes([len(entries)])
    for sid, v, n in entries: m += bytes([sid]) + u32(v) + u32(n)
    return m

class Backup:
    """One backup file: its header, and the chunks as (flag, length, ciphertext) triples."""
    def __init__(self, recipient=KEY.public_key, version=1, prefix=None):
        self.file_key = os.urandom(32)
        self.prefix = prefix or os.urandom(16)
        key_id = blake(b"hearth/v1/backup-key-id" + bytes(recipient))
        sealed = SealedBox(recipient).encrypt(self.file_key)
        assert len(sealed) == 80
        self.header = b"HRTHBAK1" + bytes([version]) + key_id + sealed + self.prefix + u32(CHUNK)
        assert len(self.header) == 141
        self.hash = blake(b"hearth/v1/backup-header" + self.header)

    def chunk(self, i, plaintext, final):
        nonce = self.prefix + u64(i)
        ad = b"hearth/v1/backup-chunk" + self.hash + u64(i) + bytes([1 if final else 0])
        ct = b.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, nonce, self.file_key)
        return bytes([1 if final else 0]) + u32(len(plaintext)) + ct

    def chunks(self, pieces):
        """pieces: list of (plaintext, final); counters follow the list order."""
        return [self.chunk(i, p, f) for i, (p, f) in enumerate(pieces)]

def data_pieces(data, size=CHUNK):
    return [(data[i:i + size], False) for i in range(0, len(data), size)]

def write(name, expect, scenario, blob, key=KEY, error=None):
    lines = [f"expect: {expect}", f"scenario: {scenario}", "operation: open-backup",
             f"backup_secret_key: {bytes(key).hex()}", f"backup: {blob.hex()}"]
    if expect == "success":
        lines += [f"plaintext: {DATA.hex()}", f"manifest: {manifest(DATA).hex()}"]
    else:
        lines.append(f"error: {error}")
    head = "# SECURITY.md §3.20; backup secret key 07…07, chunk size 1024, data 2500 bytes (i·7+3 mod 256)\n"
    open(D + name, 'w').write(head + "\n".join(lines) + "\n")

bk = Backup()
pieces = data_pieces(DATA) + [(manifest(DATA), True)]
C = bk.chunks(pieces)
valid = bk.header + b"".join(C)
write("backup-valid.txt", "success", "a backup of 2500 bytes in three data chunks and the manifest as the final chunk", valid)
write("backup-truncated-final-chunk-missing.txt", "failure", "the final chunk (the manifest) is cut off: the file ends after the last data chunk",
      bk.header + b"".join(C[:3]), error="truncated")
write("backup-truncated-inside-chunk.txt", "failure", "the file ends in the middle of the second data chunk",
      bk.header + C[0] + C[1][:300], error="truncated")
write("backup-reordered-chunks.txt", "failure", "the first two data chunks swapped",
      bk.header + C[1] + C[0] + C[2] + C[3], error="authentication-failed")
write("backup-dropped-chunk.txt", "failure", "the second data chunk left out (the rest intact)",
      bk.header + C[0] + C[2] + C[3], error="authentication-failed")
write("backup-duplicated-chunk.txt", "failure", "the first data chunk written twice",
      bk.header + C[0] + C[0] + C[1] + C[2] + C[3], error="authentication-failed")
cleared = bytearray(C[3]); cleared[0] = 0
write("backup-final-flag-cleared.txt", "failure", "the final chunk's flag byte set to 0 in the file (the AEAD bound it as 1)",
      bk.header + b"".join(C[:3]) + bytes(cleared), error="authentication-failed")
stripped = bk.chunks(data_pieces(DATA) + [(manifest(DATA), False)])
write("backup-final-flag-stripped.txt", "failure", "every chunk, the manifest too, sealed without the final flag: the stream never ends",
      bk.header + b"".join(stripped), error="truncated")
other = Backup()
OC = other.chunks(pieces)
write("backup-spliced-chunk.txt", "failure", "the second data chunk taken from another backup to the same key (same position)",
      bk.header + C[0] + OC[1] + C[2] + C[3], error="authentication-failed")
write("backup-spliced-header.txt", "failure", "another backup's header in front of this backup's chunks",
      other.header + b"".join(C), error="authentication-failed")
write("backup-wrong-key.txt", "failure", "a valid backup opened with another backup key", valid, key=OTHER, error="wrong-key")
h = bytearray(bk.header); h[9] ^= 1
write("backup-flipped-key-id.txt", "failure", "one bit of the key id in the header flipped", bytes(h) + b"".join(C), error="wrong-key")
h = bytearray(bk.header); h[41 + 40] ^= 1
write("backup-flipped-sealed-file-key.txt", "failure", "one bit of the sealed file key flipped", bytes(h) + b"".join(C), error="authentication-failed")
h = bytearray(bk.header); h[121] ^= 1
write("backup-flipped-nonce-prefix.txt", "failure", "one bit of the nonce prefix flipped (the header hash changes too)",
      bytes(h) + b"".join(C), error="authentication-failed")
write("backup-trailing-bytes.txt", "failure", "a valid backup with one byte after its final chunk", valid + b"\x00", error="malformed-input")
v2 = Backup(version=2)
write("backup-unknown-version.txt", "failure", "correctly sealed, but format version byte 2", v2.header + b"".join(v2.chunks(pieces)),
      error="malformed-input")
lie = Backup()
write("backup-manifest-digest-mismatch.txt", "failure", "correctly sealed, but the manifest's SHA-256 is of other data",
      lie.header + b"".join(lie.chunks(data_pieces(DATA) + [(manifest(DATA, sha=hashlib.sha256(b"other").digest()), True)])),
      error="manifest-mismatch")
print("backup vectors written; valid file", len(valid), "bytes")
