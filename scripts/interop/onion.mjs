// Independent onion-request client (the storage-server onion format as session-desktop and
// libsession build it), used to check session-localnet's onion handling from outside our C++.
//   aes-gcm   (desktop; no enc_type sent): key = HMAC-SHA256(key "LOKI", X25519(a, B)),
//             wire = iv(12) || ct || tag(16)
//   xchacha20 (libsession default):        key = BLAKE2b-32(X25519(a, B) || A || B),
//             wire = nonce(24) || ct+tag
// Layer plaintext and the entry body use the "combined payload" framing: len32le(blob) || blob || json.
import crypto from 'node:crypto';
import https from 'node:https';
import { sodium, hex, unhex } from './lib.mjs';

const enc = new TextEncoder();
const cat = (...parts) => Buffer.concat(parts.map((p) => Buffer.from(p)));
const len32 = (b) => { const x = Buffer.alloc(4); x.writeUInt32LE(b.length); return x; };

function layerKey(type, a, A, B) {
  const shared = sodium.crypto_scalarmult(a, B);
  if (type === 'xchacha20') return sodium.crypto_generichash(32, cat(shared, A, B));
  return crypto.createHmac('sha256', 'LOKI').update(shared).digest();
}
function encrypt(type, key, plain) {
  if (type === 'xchacha20') {
    const nonce = sodium.randombytes_buf(24);
    return cat(nonce, sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plain, null, null, nonce, key));
  }
  const iv = crypto.randomBytes(12);
  const c = crypto.createCipheriv('aes-256-gcm', key, iv);
  const ct = cat(c.update(plain), c.final());
  return cat(iv, ct, c.getAuthTag());
}
function decrypt(type, key, data) {
  if (type === 'xchacha20') {
    return Buffer.from(sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, data.subarray(24), null, data.subarray(0, 24), key));
  }
  const d = crypto.createDecipheriv('aes-256-gcm', key, data.subarray(0, 12));
  d.setAuthTag(data.subarray(data.length - 16));
  return cat(d.update(data.subarray(12, data.length - 16)), d.final());
}
function seal(type, nodeX) {
  const kp = sodium.crypto_box_keypair(); // X25519 ephemeral
  return { A: kp.publicKey, a: kp.privateKey, key: layerKey(type, kp.privateKey, kp.publicKey, unhex(nodeX)) };
}

// path: [guard, hop2, hop3] and dest: nodes {public_ip, storage_port, pubkey_ed25519, pubkey_x25519}.
// style 'desktop': aes-gcm everywhere, no enc_type, destination trailer {"body":null,"headers":{}}.
// style 'libsession': xchacha20, enc_type sent, destination trailer {"headers":""}.
export function build(path, dest, rpcBody, style) {
  const type = style === 'libsession' ? 'xchacha20' : 'aes-gcm';
  const withType = (o) => (style === 'libsession' ? { ...o, enc_type: type } : o);
  const payload = enc.encode(JSON.stringify(rpcBody));
  const trailer = style === 'libsession' ? { headers: '' } : { body: null, headers: {} };
  const d = seal(type, dest.pubkey_x25519);
  let blob = encrypt(type, d.key, cat(len32(payload), payload, enc.encode(JSON.stringify(trailer))));
  let route = withType({ destination: dest.pubkey_ed25519, ephemeral_key: hex(d.A) });
  for (let i = path.length - 1; i >= 0; i--) {
    const h = seal(type, path[i].pubkey_x25519);
    blob = encrypt(type, h.key, cat(len32(blob), blob, enc.encode(JSON.stringify(route))));
    route = withType({ destination: path[i].pubkey_ed25519, ephemeral_key: hex(h.A) });
  }
  const entryJson = withType({ ephemeral_key: route.ephemeral_key });
  return { body: cat(len32(blob), blob, enc.encode(JSON.stringify(entryJson))), type, key: d.key };
}

// POST to the guard as desktop does (node's https with a Buffer: no Content-Type header at all).
export function send(guard, built, { contentType } = {}) {
  const headers = { 'User-Agent': 'WhatsApp', 'Accept-Language': 'en-us', 'Content-Length': built.body.length };
  if (contentType) headers['Content-Type'] = contentType;
  return new Promise((resolve, reject) => {
    const req = https.request(`https://${guard.public_ip}:${guard.storage_port}/onion_req/v2`,
      { method: 'POST', rejectUnauthorized: false, timeout: 30000, headers }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          if (res.statusCode !== 200) { resolve({ httpStatus: res.statusCode, text: raw.toString('utf8') }); return; }
          try {
            let txt = raw.toString('utf8').trim();
            if (txt.startsWith('{')) txt = JSON.parse(txt).result; // {"result": b64} form
            const plain = decrypt(built.type, built.key, Buffer.from(txt, 'base64'));
            const j = JSON.parse(plain.toString('utf8'));
            const status = j.status ?? j.status_code;
            let body = j.body;
            if (typeof body === 'string') { try { body = JSON.parse(body); } catch { /* plain text */ } }
            resolve({ httpStatus: 200, status, body });
          } catch (e) { reject(new Error(`onion response: ${e.message}; raw ${raw.toString('utf8').slice(0, 200)}`)); }
        });
      });
    req.on('timeout', () => req.destroy(new Error('onion: timeout')));
    req.on('error', reject);
    req.end(built.body);
  });
}
