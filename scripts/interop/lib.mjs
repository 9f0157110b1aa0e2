// Independent JavaScript side of the interop checks. Identity comes from the published
// @session.js/mnemonic package; keys, signatures and sealed boxes from libsodium.js; protobuf from
// protobufjs with our own schema (session.proto). Message construction follows what two other
// clients put on the wire: session.js 0.0.x (no sigTimestamp, DataMessage.timestamp set,
// expirationType UNKNOWN, old 160k-1 padding) and current session-desktop/libsession (sigTimestamp,
// Content.expirationType/Timer, padding to a multiple of 160, Envelope.sourceDevice = 1).
import { createRequire } from 'node:module';
import protobuf from 'protobufjs';
import { decode as mnemonicDecode, encode as mnemonicEncode } from '@session.js/mnemonic';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

// The ESM build of libsodium-wrappers-sumo 0.7.x points at a file it does not ship; the CommonJS
// build is complete.
const sodiumModule = createRequire(import.meta.url)('libsodium-wrappers-sumo');

export let sodium;
let root;
export let T; // message types

export async function ready() {
  await sodiumModule.ready;
  sodium = sodiumModule;
  const here = path.dirname(fileURLToPath(import.meta.url));
  root = await protobuf.load(path.join(here, 'session.proto'));
  T = {
    WebSocketMessage: root.lookupType('interop.WebSocketMessage'),
    Envelope: root.lookupType('interop.Envelope'),
    Content: root.lookupType('interop.Content'),
    DataMessage: root.lookupType('interop.DataMessage'),
  };
}

export const hex = (u8) => Buffer.from(u8).toString('hex');
export const unhex = (s) => new Uint8Array(Buffer.from(s, 'hex'));
export const b64 = (u8) => Buffer.from(u8).toString('base64');
export const unb64 = (s) => new Uint8Array(Buffer.from(s, 'base64'));
const cat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
};

// session.js: seed = the 16 decoded bytes followed by 16 zero bytes, then an Ed25519 seed keypair,
// and the X25519 keys by the standard Ed->Curve conversion.
export function keysFromPhrase(phrase) {
  const normalized = phrase.trim().toLowerCase().split(/\s+/).join(' ');
  const seedHex = mnemonicDecode(normalized);
  const seed32 = cat(unhex(seedHex), new Uint8Array(16));
  const ed = sodium.crypto_sign_seed_keypair(seed32);
  const xPk = sodium.crypto_sign_ed25519_pk_to_curve25519(ed.publicKey);
  const xSk = sodium.crypto_sign_ed25519_sk_to_curve25519(ed.privateKey);
  return { seedHex, ed, xPk, xSk, sessionId: '05' + hex(xPk) };
}

export function newPhrase() {
  return mnemonicEncode(hex(sodium.randombytes_buf(16)));
}
export { mnemonicEncode, mnemonicDecode };

// Old desktop BufferPadding / session.js: total = 160*ceil((L+2)/160) - 1.
export function padLegacy(m) {
  const total = 160 * Math.ceil((m.length + 2) / 160) - 1;
  const out = new Uint8Array(total);
  out.set(m);
  out[m.length] = 0x80;
  return out;
}
// libsession pad_message: L + 1 + (160 - (L+1) % 160), a multiple of 160.
export function padLibsession(m) {
  const total = m.length + 1 + (160 - ((m.length + 1) % 160));
  const out = new Uint8Array(total);
  out.set(m);
  out[m.length] = 0x80;
  return out;
}
export function unpad(p) {
  for (let i = p.length - 1; i >= 0; i--) {
    if (p[i] === 0x80) return p.subarray(0, i);
    if (p[i] !== 0) return p; // not padded: taken as is, like every client
  }
  throw new Error('unpad: all zero');
}

// Signed sealed box: crypto_box_seal(M || A || sig(M || A || Y), Y).
export function encryptFor(senderKeys, recipientId, padded) {
  const Y = unhex(recipientId.slice(2));
  const sig = sodium.crypto_sign_detached(cat(padded, senderKeys.ed.publicKey, Y), senderKeys.ed.privateKey);
  return sodium.crypto_box_seal(cat(padded, senderKeys.ed.publicKey, sig), Y);
}

export function wrap(envelopeFields, ws = { verb: 'PUT', path: '/api/v1/message', requestId: 0 }) {
  const env = T.Envelope.encode(T.Envelope.create(envelopeFields)).finish();
  const msg = T.WebSocketMessage.create({ type: 1, request: { ...ws, body: env } });
  return T.WebSocketMessage.encode(msg).finish();
}

// Content as session.js's VisibleMessage builds it (sendMessage): expirationType UNKNOWN, no
// expirationTimer, DataMessage.timestamp = send time, a profile with a display name, no sigTimestamp.
export function sessionJsContent({ body, displayName, timestamp }) {
  const dm = { attachments: [], timestamp };
  if (body) dm.body = body;
  if (displayName) dm.profile = { displayName };
  return T.Content.encode(T.Content.create({ expirationType: 0, dataMessage: dm })).finish();
}

// Content as current desktop/libsession sends a visible message.
export function desktopContent({ body, displayName, timestamp, expiry }) {
  const dm = {};
  if (body) dm.body = body;
  if (displayName) dm.profile = { displayName };
  // ExpirableMessage.contentProto: UNKNOWN + timer 0 when disappearing messages are off
  const c = { dataMessage: dm, sigTimestamp: timestamp, expirationType: 0, expirationTimer: 0 };
  if (expiry && expiry.type !== 'none') {
    c.expirationType = expiry.type === 'after_read' ? 1 : 2;
    c.expirationTimer = expiry.seconds;
  }
  return T.Content.encode(T.Content.create(c)).finish();
}

// Any Content object (protobufjs field names), desktop framing and padding.
export function sealContentObject(senderKeys, recipientId, contentObj, timestamp) {
  const bytes = T.Content.encode(T.Content.create({ sigTimestamp: timestamp, ...contentObj })).finish();
  const ct = encryptFor(senderKeys, recipientId, padLibsession(bytes));
  return b64(wrap({ type: 6, timestamp, sourceDevice: 1, content: ct }, { requestId: 0 }));
}

// Storage-server message hash: unpadded base64 of BLAKE2b-32(0x05 || pubkey32 || ns? || data).
export function messageHash(sessionId, namespace, data64) {
  const ns = namespace ? new TextEncoder().encode(String(namespace)) : new Uint8Array(0);
  const h = sodium.crypto_generichash(32, cat(unhex(sessionId), ns, unb64(data64)));
  return b64(h).replace(/=+$/, '');
}

export function sealSessionJs(senderKeys, recipientId, opts) {
  const ct = encryptFor(senderKeys, recipientId, padLegacy(sessionJsContent(opts)));
  return b64(wrap({ type: 6, timestamp: opts.timestamp, content: ct }));
}
export function sealDesktop(senderKeys, recipientId, opts) {
  const ct = encryptFor(senderKeys, recipientId, padLibsession(desktopContent(opts)));
  return b64(wrap({ type: 6, timestamp: opts.timestamp, sourceDevice: 1, content: ct }, { requestId: 0 }));
}

// Full decode of a stored `data` value, keeping every layer for comparison.
export function open(recipientKeys, data64) {
  const raw = unb64(data64);
  const ws = T.WebSocketMessage.decode(raw);
  if (ws.type !== 1 || !ws.request || !ws.request.body) throw new Error('not a WebSocket REQUEST');
  const env = T.Envelope.decode(ws.request.body);
  const plain = sodium.crypto_box_seal_open(env.content, recipientKeys.xPk, recipientKeys.xSk);
  if (plain.length < 96) throw new Error('plaintext too short');
  const M = plain.subarray(0, plain.length - 96);
  const A = plain.subarray(plain.length - 96, plain.length - 64);
  const sig = plain.subarray(plain.length - 64);
  const ok = sodium.crypto_sign_verify_detached(sig, cat(M, A, recipientKeys.xPk), A);
  if (!ok) throw new Error('bad signature');
  const content = unpad(M);
  const c = T.Content.decode(content);
  const senderId = '05' + hex(sodium.crypto_sign_ed25519_pk_to_curve25519(A));
  return {
    ws, env, paddedLength: M.length, contentLength: content.length, contentBytes: content, content: c,
    contentObj: T.Content.toObject(c, { longs: Number, enums: String, defaults: false }),
    senderId, senderEd: hex(A),
  };
}

// Top-level field numbers of a protobuf message, in wire order (to see fields our schema lacks).
export function fieldNumbers(buf) {
  const out = [];
  let i = 0;
  const varint = () => { let v = 0n, shift = 0n; for (;;) { const b = buf[i++]; v |= BigInt(b & 0x7f) << shift; if (!(b & 0x80)) return v; shift += 7n; } };
  while (i < buf.length) {
    const key = Number(varint());
    const field = key >>> 3, wt = key & 7;
    out.push(field);
    if (wt === 0) varint();
    else if (wt === 1) i += 8;
    else if (wt === 2) { const n = Number(varint()); i += n; }
    else if (wt === 5) i += 4;
    else throw new Error(`wire type ${wt} at ${i}`);
  }
  return out;
}
