// js_client.mjs: the JavaScript half of bench/compare.sh. A session.js-style client (what
// @session.js/client does on send and poll, re-created here because that package is not on npm; see
// docs/interop.md "Why not @session.js/client itself") built on the interop code in
// scripts/interop: lib.mjs (@session.js/mnemonic, libsodium.js, protobufjs) and onion.mjs.
// Each mode prints one JSON object on stdout, with the same fields as compare_driver.cpp.
//
//   node js_client.mjs crypto N BODY_BYTES
//   node js_client.mjs new PHRASE_FILE                      writes a new phrase (mode 600), prints the Session ID
//   node js_client.mjs fill NETWORK_FILE SESSION_ID M       stores M messages for SESSION_ID (setup, not measured)
//   node js_client.mjs send NETWORK_FILE TO COLD WARM SYNC direct|onion
//   node js_client.mjs receive NETWORK_FILE PHRASE_FILE direct|onion
//
// What session.js does, and so what this client does (sessionjs/client src/instance/send-message.ts,
// _store-message.ts, swarms.ts, snodes.ts, polling/index.ts, network/bun/*):
//   - the service-node list comes from a seed once (get_n_service_nodes) and is kept;
//   - every send asks a random pool node for the recipient's swarm (get_swarm, not cached), stores the
//     message on a random member, then stores a sync copy (syncTarget = recipient) in our own swarm,
//     whose member is looked up once and kept (SYNC=0 leaves the copy out);
//   - a poll is one signed `retrieve` batch to that one kept member of our swarm; the messages are
//     then decrypted one at a time. Here the poll is repeated with lastHash while the node says
//     `more`, so that all M messages arrive (session.js would fetch the rest on its next polls).
// Transport "direct" is session.js's default network adapter: HTTPS POST /storage_rpc/v1 and
// /json_rpc straight to the nodes, TLS verification off, node's keep-alive agent. Transport "onion"
// sends each storage request through 3 relays instead (onion.mjs, desktop's AES-GCM format); that is
// not something session.js does, it is here to compare like with like (session-client always uses
// onion requests).
import https from 'node:https';
import http from 'node:http';
import fs from 'node:fs';
import * as L from '../../scripts/interop/lib.mjs';
import * as Onion from '../../scripts/interop/onion.mjs';

const TTL_MS = 14 * 24 * 3600 * 1000; // session.js VisibleMessage ttl
const die = (msg) => { console.error(`js_client: ${msg}`); process.exit(1); };
const sample = (a) => a[Math.floor(Math.random() * a.length)];
const mean = (v) => (v.length ? v.reduce((s, x) => s + x, 0) / v.length : 0);
const median = (v) => {
  if (!v.length) return 0;
  const s = [...v].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const peakRssMb = () => process.resourceUsage().maxRSS / 1024; // kilobytes on Linux
const bodyOf = (bytes) => 'side by side '.repeat(Math.ceil(bytes / 13) + 1).slice(0, bytes);

function postJson(url, obj, { agent } = {}) {
  const body = JSON.stringify(obj);
  const mod = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(url, {
      method: 'POST', rejectUnauthorized: false, timeout: 30000, ...(agent !== undefined ? { agent } : {}),
      headers: { 'User-Agent': 'WhatsApp', 'Accept-Language': 'en-us', 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
    }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { data += c; });
      res.on('end', () => resolve({ status: res.statusCode, body: data }));
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: timeout`)));
    req.on('error', reject);
    req.end(body);
  });
}

// ---- the localnet's control endpoint: request counters (same sum as compare_driver.cpp) ----
class Control {
  constructor(url) { this.url = url; }
  async command(cmd) {
    // A fresh connection each time: a kept-alive one may have been closed by the server's idle
    // timeout while the client was busy (Node would then report a socket hang up).
    const r = await postJson(this.url, cmd, { agent: false });
    const j = JSON.parse(r.body);
    if (!j.ok) die(`control: ${r.body.slice(0, 200)}`);
    return j;
  }
  reset() { return this.command({ cmd: 'reset_counters' }); }
  async requests() {
    const j = await this.command({ cmd: 'counters' });
    let r = 0;
    for (const s of j.seeds) r += s.http_requests;
    for (const n of j.nodes) r += n.onion_requests + (n.endpoints?.['/storage_rpc/v1'] ?? 0);
    return r;
  }
}

function loadNet(file) {
  const net = JSON.parse(fs.readFileSync(file, 'utf8'));
  return { net, control: new Control(net.control) };
}

// session.js's sync copy: the same VisibleMessage without a profile, with syncTarget = recipient,
// sealed to our own Session ID (session.js 0.0.x framing, like L.sealSessionJs).
function sealSessionJsSync(keys, to, body, timestamp) {
  const content = L.T.Content.encode(L.T.Content.create({
    expirationType: 0, dataMessage: { body, attachments: [], timestamp, syncTarget: to },
  })).finish();
  const ct = L.encryptFor(keys, keys.sessionId, L.padLegacy(content));
  return L.b64(L.wrap({ type: 6, timestamp, content: ct }));
}

class SessionJsStyleClient {
  constructor(net, keys, transport) {
    this.seedUrl = net.seeds[0].replace(/\/+$/, '');
    this.keys = keys;
    this.transport = transport;
    this.snodes = null;
    this.ourSwarm = null;
    this.path = null;
    this.displayName = `(${keys.sessionId.slice(0, 3)}...${keys.sessionId.slice(-3)})`; // session.js default
  }

  async getSnodes() {
    if (!this.snodes) {
      const r = await postJson(`${this.seedUrl}/json_rpc`, {
        jsonrpc: '2.0', id: 0, method: 'get_n_service_nodes',
        params: { fields: { public_ip: true, storage_port: true, pubkey_x25519: true, pubkey_ed25519: true } },
      });
      if (r.status !== 200) throw new Error(`seed: HTTP ${r.status}`);
      this.snodes = JSON.parse(r.body).result.service_node_states.filter((s) => s.public_ip !== '0.0.0.0');
    }
    return this.snodes;
  }

  // One storage RPC batch to `node`, directly or through 3 onion relays.
  async batch(node, requests) {
    const rpc = { jsonrpc: '2.0', method: 'batch', params: { requests } };
    let results;
    if (this.transport === 'direct') {
      const r = await postJson(`https://${node.public_ip}:${node.storage_port}/storage_rpc/v1`, rpc);
      if (r.status !== 200) throw new Error(`storage_rpc: HTTP ${r.status}: ${r.body.slice(0, 200)}`);
      results = JSON.parse(r.body).results;
    } else {
      const snodes = await this.getSnodes();
      const dest = snodes.find((s) => s.pubkey_ed25519 === node.pubkey_ed25519) ?? die('destination not in the pool');
      if (!this.path || this.path.some((h) => h.pubkey_ed25519 === dest.pubkey_ed25519)) {
        const others = snodes.filter((s) => s.pubkey_ed25519 !== dest.pubkey_ed25519).sort(() => Math.random() - 0.5);
        this.path = others.slice(0, 3);
      }
      const r = await Onion.send(this.path[0], Onion.build(this.path, dest, rpc, 'desktop'));
      if (r.httpStatus !== 200 || r.status !== 200) throw new Error(`onion: HTTP ${r.httpStatus} status ${r.status} ${r.text ?? ''}`);
      results = r.body.results;
    }
    for (const res of results) if (res.code !== 200) throw new Error(`sub-request: ${res.code} ${JSON.stringify(res.body).slice(0, 200)}`);
    return results;
  }

  async getSwarmFor(sessionId) {
    const node = sample(await this.getSnodes());
    const [res] = await this.batch(node, [{ method: 'get_swarm', params: { pubkey: sessionId } }]);
    return res.body.snodes.map((s) => ({ public_ip: s.ip, storage_port: Number(s.port), pubkey_ed25519: s.pubkey_ed25519 }));
  }
  async getOurSwarm() {
    if (!this.ourSwarm) this.ourSwarm = sample(await this.getSwarmFor(this.keys.sessionId));
    return this.ourSwarm;
  }

  async store(node, to, data64, timestamp) {
    const [res] = await this.batch(node, [{ method: 'store', params: { data: data64, namespace: 0, pubkey: to, timestamp, ttl: TTL_MS } }]);
    return res.body.hash;
  }

  async sendMessage(to, text, { sync }) {
    const timestamp = Date.now();
    const data64 = L.sealSessionJs(this.keys, to, { body: text, displayName: this.displayName, timestamp });
    const syncData64 = sync
      ? sealSessionJsSync(this.keys, to, text, timestamp)
      : null;
    const swarm = await this.getSwarmFor(to);
    const hash = await this.store(sample(swarm), to, data64, timestamp);
    let syncHash = null;
    if (sync) syncHash = await this.store(await this.getOurSwarm(), this.keys.sessionId, syncData64, timestamp);
    return { hash, syncHash };
  }

  async poll() {
    const node = await this.getOurSwarm();
    const pk = L.hex(this.keys.ed.publicKey);
    const out = [];
    let lastHash = '';
    for (;;) {
      const timestamp = Date.now();
      const signature = L.b64(L.sodium.crypto_sign_detached(new TextEncoder().encode(`retrieve${timestamp}`), this.keys.ed.privateKey));
      const [res] = await this.batch(node, [{ method: 'retrieve', params: {
        pubkey: this.keys.sessionId, lastHash, namespace: 0, timestamp, maxSize: -1, signature, pubkeyEd25519: pk, pubkey_ed25519: pk,
      } }]);
      const msgs = res.body.messages ?? [];
      out.push(...msgs);
      if (!res.body.more || !msgs.length) break;
      lastHash = msgs[msgs.length - 1].hash;
    }
    return out;
  }
}

// ---- modes ----

async function crypto(n, bodyBytes) {
  const sender = L.keysFromPhrase(L.newPhrase());
  const recipient = L.keysFromPhrase(L.newPhrase());
  const body = bodyOf(bodyBytes);
  const now = Date.now();
  const sealOne = (i) => L.sealSessionJs(sender, recipient.sessionId, { body, timestamp: now + i });
  for (let i = 0; i < 20; i++) L.open(recipient, sealOne(i)); // warm-up (and JIT)
  const sealed = [];
  let c0 = cpuMs(), t0 = nowMs();
  for (let i = 0; i < n; i++) sealed.push(sealOne(i));
  const sealWall = nowMs() - t0, sealCpu = cpuMs() - c0;
  let opened = 0;
  c0 = cpuMs(); t0 = nowMs();
  for (const s of sealed) if (L.open(recipient, s).contentObj.dataMessage?.body === body) opened++;
  const openWall = nowMs() - t0, openCpu = cpuMs() - c0;
  if (opened !== n) die('open: bodies differ');
  // The same again with every message from a different sender.
  const distinct = [];
  for (let i = 0; i < n; i++) {
    const ed = L.sodium.crypto_sign_keypair();
    distinct.push(L.sealSessionJs({ ed }, recipient.sessionId, { body, timestamp: now + i }));
  }
  opened = 0;
  c0 = cpuMs(); t0 = nowMs();
  for (const s of distinct) if (L.open(recipient, s).contentObj.dataMessage?.body === body) opened++;
  const openDistinctWall = nowMs() - t0, openDistinctCpu = cpuMs() - c0;
  if (opened !== n) die('open (distinct senders): bodies differ');
  return {
    client: 'js', mode: 'crypto', n, body_bytes: bodyBytes, data_chars: sealed[0]?.length ?? 0,
    seal_cpu_us: (sealCpu * 1000) / n, seal_wall_us: (sealWall * 1000) / n,
    open_cpu_us: (openCpu * 1000) / n, open_wall_us: (openWall * 1000) / n,
    open_distinct_cpu_us: (openDistinctCpu * 1000) / n, open_distinct_wall_us: (openDistinctWall * 1000) / n,
  };
}

async function fill(netFile, sessionId, m) {
  const { net } = loadNet(netFile);
  const sender = L.keysFromPhrase(L.newPhrase());
  const c = new SessionJsStyleClient(net, sender, 'direct');
  const swarm = await c.getSwarmFor(sessionId);
  const start = Date.now() - m;
  for (let done = 0; done < m;) {
    const requests = [];
    const timestamp = Date.now();
    for (let k = 0; k < 20 && done < m; k++, done++) { // 20: the storage server's batch limit
      const data = L.sealSessionJs(sender, sessionId, { body: `stored message ${done}`, timestamp: start + done });
      requests.push({ method: 'store', params: { data, namespace: 0, pubkey: sessionId, timestamp, ttl: 86400000 } });
    }
    await c.batch(swarm[0], requests);
  }
  return { client: 'js', mode: 'fill', stored: m };
}

async function send(netFile, to, cold, warm, sync, transport) {
  const { net, control } = loadNet(netFile);
  const coldMs = [], coldRequests = [];
  let client = null;
  for (let i = 0; i < cold; i++) {
    https.globalAgent.destroy(); // no kept-alive connection from the previous client
    client = new SessionJsStyleClient(net, L.keysFromPhrase(L.newPhrase()), transport);
    await control.reset();
    const t0 = nowMs();
    const r = await client.sendMessage(to, `cold send ${i}`, { sync });
    coldMs.push(nowMs() - t0);
    coldRequests.push(await control.requests());
    if (!r.hash || (sync && !r.syncHash)) die('cold send: no hash');
  }
  const warmMs = [];
  await control.reset();
  for (let i = 0; i < warm; i++) {
    const t0 = nowMs();
    const r = await client.sendMessage(to, `warm send ${i}`, { sync });
    warmMs.push(nowMs() - t0);
    if (!r.hash || (sync && !r.syncHash)) die('warm send: no hash');
  }
  const warmRequests = await control.requests();
  return {
    client: 'js', mode: 'send', transport, sync_copy: sync, cold_runs: cold,
    cold_ms_mean: mean(coldMs), cold_ms: coldMs, cold_requests_mean: mean(coldRequests),
    warm_sends: warm, warm_ms_mean: mean(warmMs), warm_ms_median: median(warmMs),
    warm_requests_per_send: warm ? warmRequests / warm : 0,
  };
}

async function receive(netFile, phraseFile, transport) {
  const { net, control } = loadNet(netFile);
  const rssBefore = peakRssMb();
  const keys = L.keysFromPhrase(fs.readFileSync(phraseFile, 'utf8'));
  const client = new SessionJsStyleClient(net, keys, transport);
  await control.reset();
  const c0 = cpuMs(), t0 = nowMs();
  const items = await client.poll();
  let messages = 0, skipped = 0;
  for (const m of items) {
    try { L.open(keys, m.data); messages++; } catch { skipped++; }
  }
  const wall = nowMs() - t0, cpu = cpuMs() - c0;
  const requests = await control.requests();
  return {
    client: 'js', mode: 'receive', transport, messages, skipped, wall_ms: wall, cpu_ms: cpu, requests,
    peak_rss_mb: peakRssMb(), rss_before_mb: rssBefore,
  };
}

const [mode, ...args] = process.argv.slice(2);
await L.ready();
let out;
if (mode === 'crypto' && args.length === 2) out = await crypto(Number(args[0]), Number(args[1]));
else if (mode === 'new' && args.length === 1) {
  const phrase = L.newPhrase();
  fs.writeFileSync(args[0], phrase + '\n', { mode: 0o600 });
  out = { client: 'js', mode: 'new', session_id: L.keysFromPhrase(phrase).sessionId };
} else if (mode === 'fill' && args.length === 3) out = await fill(args[0], args[1], Number(args[2]));
else if (mode === 'send' && args.length === 6) {
  out = await send(args[0], args[1], Number(args[2]), Number(args[3]), args[4] !== '0', args[5]);
} else if (mode === 'receive' && args.length === 3) out = await receive(args[0], args[1], args[2]);
else {
  console.error('usage: see the top of bench/compare/js_client.mjs');
  process.exit(2);
}
console.log(JSON.stringify(out));
process.exit(0);
