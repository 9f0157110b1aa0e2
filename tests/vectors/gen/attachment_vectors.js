// attachment_vectors.js: writes tests/vectors/attachment.json, attachment_padding.json and
// file_server.json from the published formulas, independently of the C++ library:
//   cbc_hmac: Node's crypto (OpenSSL) AES-256-CBC/PKCS#7, HMAC-SHA256, SHA-256, with desktop's padding
//             rule re-typed from ts/session/crypto/BufferPadding.ts (the same Math.* calls);
//   stream:   Python's hashlib.blake2b (its own BLAKE2b, run as a child process) for BLAKE2b-56 with
//             key and personal; libsodium-wrappers-sumo (libsodium compiled to WebAssembly) for
//             crypto_secretstream_xchacha20poly1305; the padding rule, the
//             'S' || header layout and the 32 KiB piecing re-typed here from libsession-util
//             src/attachments.cpp (encrypted_padding, Encryptor);
//   gcm:      Node's crypto AES-256-GCM (desktop profileEncrypter.ts layout IV || ct || tag);
//   file ids: Python's hashlib.blake2b(digest_size=33, salt=b"SessionFileSvr\0\0"), URL-safe base64:
//             the call session-file-server's routes.py itself makes.
//
//   mkdir /tmp/v && cd /tmp/v && npm install libsodium-wrappers-sumo@0.7.16
//   NODE_PATH=/tmp/v/node_modules node tests/vectors/gen/attachment_vectors.js tests/vectors
'use strict';
const crypto = require('crypto');
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const sodium = require('libsodium-wrappers-sumo');

const out_dir = process.argv[2] || '.';
const MAX = 10 * 1000 * 1000;  // desktop MAX_ATTACHMENT_FILESIZE_BYTES
const CHUNK = 32768, ABYTES = 17, HEADER = 24;
const INLINE_MAX = 4096;        // blobs up to this size are written out in full

const hex = (b) => Buffer.from(b).toString('hex');
const sha256 = (b) => crypto.createHash('sha256').update(b).digest();
// byte i = (i * 31 + salt) mod 256: bench/bench_common.hpp's pattern(), and the tests' plaintext.
function pattern(n, salt) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + salt) & 0xff;
  return b;
}
function seq(n, start) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (start + i) & 0xff;
  return b;
}

// ---- desktop addAttachmentPadding (BufferPadding.ts), the same expression ----
function desktopPadded(len) {
  let paddedSize = Math.max(541, Math.floor(Math.pow(1.05, Math.ceil(Math.log(len) / Math.log(1.05)))));
  if (paddedSize > MAX && len <= MAX) paddedSize = MAX;
  return paddedSize;
}

// ---- libsession encrypted_padding ----
function bitFloor(x) { let p = 1; while (p * 2 <= x) p *= 2; return p; }
function streamPadding(n) {
  const pieces = Math.ceil(n / CHUNK);
  const m = n + 1 + HEADER + 1 + pieces * ABYTES;
  const factor = bitFloor(Math.max(m, 131072)) / 32;
  const rounded = Math.ceil(m / factor) * factor;
  let padding = rounded - m + 1;
  let implicit = 0;
  if (padding >= CHUNK + ABYTES) implicit = Math.floor(padding / (CHUNK + ABYTES)) * ABYTES;
  const free = pieces * CHUNK - n;
  if (padding % (CHUNK + ABYTES) > free) implicit += ABYTES;
  return padding - implicit;
}

function cbcHmac(key, iv, plain, pad) {
  const padded = pad ? Buffer.concat([plain, Buffer.alloc(desktopPadded(plain.length) - plain.length)]) : plain;
  const c = crypto.createCipheriv('aes-256-cbc', key.subarray(0, 32), iv);
  const ct = Buffer.concat([c.update(padded), c.final()]);
  const ivct = Buffer.concat([iv, ct]);
  const mac = crypto.createHmac('sha256', key.subarray(32, 64)).update(ivct).digest();
  const blob = Buffer.concat([ivct, mac]);
  return { blob, digest: sha256(blob), padded: padded.length };
}

// BLAKE2b by Python's hashlib; the message goes through stdin, the parameters as hex.
function blake2b(data, size, { key = '', salt = '', person = '' } = {}) {
  const py = 'import sys, hashlib; k, s, p = (bytes.fromhex(a) for a in sys.argv[2:5]); ' +
             'sys.stdout.write(hashlib.blake2b(sys.stdin.buffer.read(), digest_size=int(sys.argv[1]), key=k, salt=s, person=p).hexdigest())';
  return Buffer.from(execFileSync('python3', ['-c', py, String(size), key, salt, person], { input: data }).toString(), 'hex');
}
function streamKey(seed, personal, plain) {
  const nk = blake2b(plain, 56, { key: hex(seed), person: hex(Buffer.from(personal, 'latin1')) });
  return { header: nk.subarray(0, 24), key: nk.subarray(24, 56) };
}
function streamEncrypt(seed, personal, plain) {
  const { header, key } = streamKey(seed, personal, plain);
  const pad = streamPadding(plain.length);
  const padding = Buffer.alloc(pad);
  padding[pad - 1] = 0x01;
  const q = Buffer.concat([padding, plain]);
  // init_pull with the derived header gives the state init_push would have made with it.
  const st = sodium.crypto_secretstream_xchacha20poly1305_init_pull(header, key);
  const parts = [Buffer.from([0x53]), header];
  for (let off = 0; off < q.length; off += CHUNK) {
    const piece = q.subarray(off, Math.min(off + CHUNK, q.length));
    const last = off + CHUNK >= q.length;
    const tag = last ? sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL : sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
    parts.push(Buffer.from(sodium.crypto_secretstream_xchacha20poly1305_push(st, piece, null, tag)));
  }
  return { blob: Buffer.concat(parts), header, key, padding: pad };
}

function gcm(key, iv, plain) {
  const c = crypto.createCipheriv('aes-256-gcm', key, iv);
  const ct = Buffer.concat([c.update(plain), c.final()]);
  return Buffer.concat([iv, ct, c.getAuthTag()]);
}

function blobFields(v, blob) {
  v.expected_blob_len = blob.length;
  if (blob.length <= INLINE_MAX) v.expected_blob_hex = hex(blob);
  else v.expected_blob_sha256_hex = hex(sha256(blob));
}

const SRC = {
  cbc: 'session-foundation/session-desktop:ts/util/crypto/attachmentsEncrypter.ts',
  pad: 'session-foundation/session-desktop:ts/session/crypto/BufferPadding.ts',
  stream: 'session-foundation/libsession-util:src/attachments.cpp',
  gcm: 'session-foundation/session-desktop:ts/util/crypto/profileEncrypter.ts',
  fs: 'session-foundation/session-file-server:fileserver/routes.py',
};
const COMMITS = {
  [SRC.cbc]: 'ff2d8b4a106f71ef5555eb38ccf6d95fea655396 (master, 2026)',
  [SRC.pad]: '1380d1eb1169c11985e354b4623505e6a7f433e7 (master, 2026-04-01)',
  [SRC.stream]: '02663c06a2dcd5e814ee39cf33b8589802a0ef23 (2025-26)',
  [SRC.gcm]: 'af6fdefd5baf3355bdf4d9b05865f80145b20a9a (master, 2026)',
  [SRC.fs]: 'd4314e920637ab8f9beb9b952a4cb02909d81c09 (2024-11-19)',
};
const CONVENTIONS = 'bytes are lowercase hex; plaintext byte i = (i * 31 + plaintext_salt) mod 256 for plaintext_size bytes ' +
  '(plaintext_hex repeats it when short); blobs over ' + INLINE_MAX + ' bytes are given by length and SHA-256; every vector is derived ' +
  '(computed by tests/vectors/gen/attachment_vectors.js from the formula in its source, not quoted).';

sodium.ready.then(() => {
  const vectors = [];
  const cbcKey = seq(64, 0x00), cbcIv = seq(16, 0xa0);
  for (const [n, salt, pad] of [[0, 1, true], [1, 2, true], [5, 3, true], [541, 4, true], [542, 5, true], [1000, 6, true],
                                [100, 7, false], [70000, 8, true], [1000000, 9, true]]) {
    const plain = pattern(n, salt);
    const r = cbcHmac(cbcKey, cbcIv, plain, pad);
    const v = { name: `cbc_hmac_${pad ? 'desktop' : 'unpadded'}_${n}`, source: SRC.cbc, derived: true,
                function: 'blob = IV || AES-256-CBC-PKCS7(aesKey, IV, P padded with zeros to padded_size) || HMAC-SHA256(macKey, IV || ct); digest = SHA-256(blob)',
                scheme: 'cbc_hmac', key_hex: hex(cbcKey), iv_hex: hex(cbcIv), padding: pad ? 'desktop' : 'none',
                plaintext_size: n, plaintext_salt: salt };
    if (n <= 64) v.plaintext_hex = hex(plain);
    v.expected_padded_size = r.padded;
    blobFields(v, r.blob);
    v.expected_digest_hex = hex(r.digest);
    vectors.push(v);
  }
  const seed = seq(32, 0x40);
  const personal = { attachment: 'SessionAttachmnt', profile_picture: 'Session_Prof_Pic' };
  const streamCases = [[0, 11, 'attachment'], [1, 12, 'attachment'], [541, 13, 'attachment'], [541, 13, 'profile_picture'],
                       [32767, 14, 'attachment'], [32768, 15, 'attachment'], [32769, 16, 'attachment'],
                       [65536, 17, 'attachment'], [98304, 18, 'attachment'], [100000, 19, 'attachment'],
                       [1000000, 20, 'attachment']];
  for (const [n, salt, domain] of streamCases) {
    const plain = pattern(n, salt);
    const r = streamEncrypt(seed, personal[domain], plain);
    const v = { name: `stream_${domain}_${n}`, source: SRC.stream, derived: true,
                function: "header || key = BLAKE2b-56(P; key = seed, personal); blob = 'S' || header || secretstream push of (0x00 * (padding-1) || 0x01 || P) in 32768-byte pieces, FINAL on the last",
                scheme: 'stream', seed_hex: hex(seed), domain, personal_utf8: personal[domain],
                plaintext_size: n, plaintext_salt: salt };
    if (n <= 64) v.plaintext_hex = hex(plain);
    v.expected_key_hex = hex(r.key);
    v.expected_header_hex = hex(r.header);
    v.expected_padding = r.padding;
    blobFields(v, r.blob);
    vectors.push(v);
  }
  const gcmKey = seq(32, 0x80), gcmIv = seq(12, 0xc0);
  for (const [n, salt] of [[0, 21], [1, 22], [300, 23], [5000, 24]]) {
    const plain = pattern(n, salt);
    const blob = gcm(gcmKey, gcmIv, plain);
    const v = { name: `gcm_${n}`, source: SRC.gcm, derived: true, function: 'blob = IV || AES-256-GCM(profileKey, IV, P) || tag(16)',
                scheme: 'gcm', key_hex: hex(gcmKey), iv_hex: hex(gcmIv), plaintext_size: n, plaintext_salt: salt };
    if (n <= 64) v.plaintext_hex = hex(plain);
    blobFields(v, blob);
    vectors.push(v);
  }
  fs.writeFileSync(path.join(out_dir, 'attachment.json'), JSON.stringify({
    description: 'Attachment and profile-picture blobs: cbc_hmac (desktop legacy attachments), stream (libsession deterministic S scheme), gcm (desktop legacy profile pictures).',
    conventions: CONVENTIONS, source_commits: COMMITS, vectors }, null, 2) + '\n');

  // desktop padded_size over 0..10,000,001 as steps: padded_size(n) = steps[i][1] for steps[i][0] <= n < steps[i+1][0].
  const steps = [];
  let prev = -1;
  for (let n = 0; n <= MAX + 1; n++) {
    const p = n === 0 ? 541 : desktopPadded(n);  // Math.log(0) = -Infinity: the formula gives 541 too
    if (p !== prev) { steps.push([n, p]); prev = p; }
  }
  const streamSizes = [];
  for (let n = 0; n <= 200; n++) streamSizes.push(n);
  for (let k = 1; k <= 320; k++) for (const d of [-18, -17, -1, 0, 1, 17]) { const n = k * CHUNK + d; if (n > 200 && n <= MAX) streamSizes.push(n); }
  for (let e = 10; e <= 23; e++) for (const d of [-1, 0, 1]) streamSizes.push(2 ** e + d);
  streamSizes.push(1000000, 9999999, 10000000, 10218286);
  const streamTable = [...new Set(streamSizes)].sort((a, b) => a - b).map((n) => {
    const pad = streamPadding(n), q = n + pad;
    return [n, pad, 1 + HEADER + q + Math.ceil(q / CHUNK) * ABYTES];
  });
  fs.writeFileSync(path.join(out_dir, 'attachment_padding.json'), JSON.stringify({
    description: 'Padding rules: desktop padded_size for every n in 0..10,000,001 (as steps), and the stream scheme padding and blob size at chosen sizes.',
    conventions: 'desktop_steps: [first_n, padded_size] pairs, the value holding until the next first_n; stream: [n, padding, blob_size]. Derived by tests/vectors/gen/attachment_vectors.js.',
    source_commits: { [SRC.pad]: COMMITS[SRC.pad], [SRC.stream]: COMMITS[SRC.stream] },
    quoted: { 'stream blob of 1,000,000 bytes (libsession attachments.hpp comment)': 1015808,
              'stream blob of MAX_REGULAR_SIZE 10,218,286 bytes (libsession attachments.hpp)': 10223616 },
    desktop_steps: steps, stream: streamTable }) + '\n');

  // file server ids
  const ids = [];
  for (const [name, data] of [['text', Buffer.from('Hello, file server!')], ['one_byte', Buffer.from([0])],
                              ['pattern_100000', pattern(100000, 30)]]) {
    const d = blake2b(data, 33, { salt: hex(Buffer.from('SessionFileSvr\0\0', 'latin1')) });
    const v = { name: `file_id_${name}`, source: SRC.fs, derived: true,
                function: 'id = urlsafe_b64encode(BLAKE2b-33(body; salt = "SessionFileSvr\\0\\0")), 44 characters' };
    if (data.length <= 64) v.body_hex = hex(data); else { v.plaintext_size = data.length; v.plaintext_salt = 30; }
    v.expected_id = Buffer.from(d).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
    ids.push(v);
  }
  fs.writeFileSync(path.join(out_dir, 'file_server.json'), JSON.stringify({
    description: 'Session file server content-derived file ids.', conventions: CONVENTIONS,
    source_commits: { [SRC.fs]: COMMITS[SRC.fs] }, vectors: ids }, null, 2) + '\n');
  console.log(`wrote ${vectors.length} attachment vectors, ${steps.length} padding steps, ${streamTable.length} stream sizes, ${ids.length} file ids`);
});
