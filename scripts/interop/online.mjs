// Online interop: a session.js-style client (the direct, non-onion /storage_rpc/v1 requests that
// @session.js/client's default network adapter makes, built here on node:https) against a
// session-localnet, exchanging 1:1 messages with session-cli in both directions.
// Every request the JS side sends and every non-200 answer is recorded and printed.
import { spawn, spawnSync } from 'node:child_process';
import https from 'node:https';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as L from './lib.mjs';
import * as Onion from './onion.mjs';

const CLI = process.env.SESSION_CLI;
const LOCALNET = process.env.SESSION_LOCALNET;
if (!CLI || !LOCALNET) { console.error('set SESSION_CLI and SESSION_LOCALNET'); process.exit(2); }

const results = [];
const rejected = []; // {what, status, body}
function record(name, problems) {
  results.push({ name, problems });
  if (problems.length) console.log(`FAIL ${name}: ${problems.length} problem(s)\n  - ${problems.slice(0, 12).join('\n  - ')}`);
  else console.log(`PASS ${name}`);
}
async function check(name, fn) {
  let problems;
  try { problems = await fn(); } catch (e) { problems = ['threw: ' + (e && e.stack || e)]; }
  record(name, problems);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// session.js turns TLS verification off for snodes and seeds; so does this client.
function post(url, obj, what) {
  const body = JSON.stringify(obj);
  return new Promise((resolve, reject) => {
    const req = https.request(url, {
      method: 'POST', rejectUnauthorized: false, timeout: 10000,
      headers: { 'User-Agent': 'WhatsApp', 'Accept-Language': 'en-us', 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
    }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { data += c; });
      res.on('end', () => {
        if (res.statusCode !== 200) rejected.push({ what, status: res.statusCode, body: data.slice(0, 300) });
        resolve({ status: res.statusCode, body: data });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${what}: timeout`)));
    req.on('error', reject);
    req.end(body);
  });
}

// session.js getSnodes: json_rpc get_n_service_nodes with four fields, 0.0.0.0 filtered out.
async function getSnodes(seedUrl) {
  const r = await post(`${seedUrl}/json_rpc`, {
    jsonrpc: '2.0', id: 0, method: 'get_n_service_nodes',
    params: { fields: { public_ip: true, storage_port: true, pubkey_x25519: true, pubkey_ed25519: true } },
  }, 'seed get_n_service_nodes');
  if (r.status !== 200) throw new Error(`seed answered ${r.status}: ${r.body}`);
  return JSON.parse(r.body).result.service_node_states.filter((s) => s.public_ip !== '0.0.0.0');
}
// session.js doSnodeBatchRequest: {jsonrpc, method: batch, params: {requests}} to /storage_rpc/v1
async function batch(node, requests, what) {
  const r = await post(`https://${node.public_ip}:${node.storage_port}/storage_rpc/v1`,
    { jsonrpc: '2.0', method: 'batch', params: { requests } }, what);
  if (r.status !== 200) throw new Error(`${what}: HTTP ${r.status}: ${r.body.slice(0, 300)}`);
  const parsed = JSON.parse(r.body);
  if (!Array.isArray(parsed.results) || !parsed.results.length) throw new Error(`${what}: no results: ${r.body.slice(0, 300)}`);
  for (const [i, res] of parsed.results.entries()) {
    if (res.code !== 200) rejected.push({ what: `${what} [sub ${i}: ${requests[i].method}]`, status: res.code, body: JSON.stringify(res.body).slice(0, 300) });
  }
  return parsed.results;
}
async function getSwarm(node, pubkey) {
  const res = await batch(node, [{ method: 'get_swarm', params: { pubkey } }], 'get_swarm');
  if (res[0].code !== 200) throw new Error(`get_swarm code ${res[0].code}`);
  // session.js reads ip/port/pubkey_ed25519/pubkey_x25519 of each entry
  return res[0].body.snodes.map((s) => ({ public_ip: s.ip, storage_port: Number(s.port), pubkey_ed25519: s.pubkey_ed25519 }));
}
// session.js storeMessage: unauthenticated store {data, namespace, pubkey, timestamp, ttl}
async function store(swarmNode, { data64, destination, timestamp, ttl }) {
  const res = await batch(swarmNode, [{ method: 'store', params: { data: data64, namespace: 0, pubkey: destination, timestamp, ttl } }], 'store');
  if (res[0].code !== 200) throw new Error(`store code ${res[0].code}: ${JSON.stringify(res[0].body)}`);
  return res[0].body.hash;
}
// session.js retrieve for namespace 0: signature over "retrieve" + timestamp (no namespace for 0),
// params {pubkey, lastHash, namespace, timestamp, maxSize, signature, pubkeyEd25519, pubkey_ed25519}
async function retrieve(swarmNode, keys, lastHash = '') {
  const timestamp = Date.now();
  const signature = L.b64(L.sodium.crypto_sign_detached(new TextEncoder().encode(`retrieve${timestamp}`), keys.ed.privateKey));
  const pk = L.hex(keys.ed.publicKey);
  const res = await batch(swarmNode, [{ method: 'retrieve', params: {
    pubkey: keys.sessionId, lastHash, namespace: 0, timestamp, maxSize: -1, signature, pubkeyEd25519: pk, pubkey_ed25519: pk,
  } }], 'retrieve');
  if (res[0].code !== 200) throw new Error(`retrieve code ${res[0].code}: ${JSON.stringify(res[0].body)}`);
  return res[0].body.messages;
}

function cli(args, { phrase, input } = {}) {
  const env = { ...process.env };
  delete env.SESSION_MNEMONIC;
  if (phrase !== undefined) env.SESSION_MNEMONIC = phrase;
  return spawnSync(CLI, args, { env, input: input ?? '', encoding: 'utf8', timeout: 120000 });
}

await L.ready();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'interop-'));
const netFile = path.join(dir, 'net.json');
const localnet = spawn(LOCALNET, ['--network-file', netFile, '--quiet'], { stdio: ['ignore', 'inherit', 'inherit'] });
let exitCode = 1;
try {
  for (let i = 0; i < 300 && !fs.existsSync(netFile); i++) await sleep(100);
  await sleep(200);
  const net = JSON.parse(fs.readFileSync(netFile, 'utf8'));
  const seedUrl = net.seeds[0].replace(/\/+$/, '');

  const jsPhrase = L.newPhrase();
  const js = L.keysFromPhrase(jsPhrase);
  const made = JSON.parse(cli(['new', '-o', 'json']).stdout);
  const cliPhrase = made.phrase;
  const cliId = made.session_id;

  let snodes = [];
  await check('online: seed get_n_service_nodes as session.js asks it', async () => {
    const p = [];
    snodes = await getSnodes(seedUrl);
    if (!snodes.length) p.push('no service nodes');
    for (const s of snodes) {
      if (!s.public_ip || !s.storage_port || !/^[0-9a-f]{64}$/.test(s.pubkey_ed25519 || '') || !/^[0-9a-f]{64}$/.test(s.pubkey_x25519 || '')) p.push(`bad entry ${JSON.stringify(s)}`);
    }
    return p;
  });

  let cliSwarm = [];
  let jsSwarm = [];
  await check('online: get_swarm (batch) returns entries session.js can use (ip, port, keys)', async () => {
    const p = [];
    cliSwarm = await getSwarm(snodes[0], cliId);
    jsSwarm = await getSwarm(snodes[0], js.sessionId);
    for (const s of [...cliSwarm, ...jsSwarm]) if (!s.public_ip || !s.storage_port) p.push(`entry lacks ip/port: ${JSON.stringify(s)}`);
    if (!cliSwarm.length || !jsSwarm.length) p.push('empty swarm');
    return p;
  });

  const ts = Date.now();
  const body = `js→cli ${ts} ✓ ünïcödé 👋`;
  await check('online: JS (session.js-style store) -> session-cli receive', async () => {
    const p = [];
    const data64 = L.sealSessionJs(js, cliId, { body, displayName: '(js...bot)', timestamp: ts });
    const hash = await store(cliSwarm[0], { data64, destination: cliId, timestamp: ts, ttl: 14 * 24 * 3600 * 1000 });
    const want = L.messageHash(cliId, 0, data64);
    if (hash !== want) p.push(`store returned hash ${hash}, BLAKE2b rule gives ${want}`);
    const data64b = L.sealDesktop(js, cliId, { body: body + ' (desktop-style)', displayName: 'JS', timestamp: ts + 1 });
    await store(cliSwarm[1 % cliSwarm.length], { data64: data64b, destination: cliId, timestamp: ts + 1, ttl: 14 * 24 * 3600 * 1000 });
    await sleep(500);
    const r = cli(['--network', netFile, 'receive', '-o', 'json'], { phrase: cliPhrase });
    if (r.status !== 0) { p.push(`receive exit ${r.status}: ${r.stderr.trim()}`); return p; }
    const msgs = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const a = msgs.find((m) => m.body === body);
    const b = msgs.find((m) => m.body === body + ' (desktop-style)');
    if (!a) p.push(`session.js-style message not received; got ${JSON.stringify(msgs).slice(0, 400)}`);
    else {
      if (a.sender_session_id !== js.sessionId) p.push(`sender ${a.sender_session_id}`);
      if (a.hash !== hash) p.push(`hash: receive says ${a.hash}, store returned ${hash}`);
      if (a.timestamp !== ts) p.push(`timestamp ${a.timestamp} != ${ts}`);
    }
    if (!b) p.push('desktop-style message not received');
    return p;
  });

  await check('online: session-cli send -> JS (session.js-style retrieve) decrypts it', async () => {
    const p = [];
    const text = `cli→js ${Date.now()} ✓ 你好`;
    const r = cli(['--network', netFile, 'send', js.sessionId, text, '--display-name', 'CLI', '--expire-after-send', '3600', '-o', 'json'], { phrase: cliPhrase });
    if (r.status !== 0) { p.push(`send exit ${r.status}: ${r.stderr.trim()}`); return p; }
    const sent = JSON.parse(r.stdout);
    // session.js polls one swarm member; try each until the message is there
    let found = null;
    for (let round = 0; round < 10 && !found; round++) {
      for (const node of jsSwarm) {
        const msgs = await retrieve(node, js);
        for (const m of msgs) {
          let o;
          try { o = L.open(js, m.data); } catch (e) { p.push(`item ${m.hash} does not open: ${e.message}`); continue; }
          if (o.contentObj.dataMessage?.body === text) found = { o, m, node };
        }
        if (found) break;
      }
      if (!found) await sleep(500);
    }
    if (!found) { p.push('message not found in the JS identity\'s swarm'); return p; }
    const { o, m } = found;
    if (o.senderId !== cliId) p.push(`sender ${o.senderId} != ${cliId}`);
    if (m.hash !== sent.hash) p.push(`hash: retrieve ${m.hash}, send printed ${sent.hash}`);
    const want = L.messageHash(js.sessionId, 0, m.data);
    if (m.hash !== want) p.push(`hash ${m.hash} != BLAKE2b rule ${want}`);
    if (Number(o.env.timestamp) !== sent.timestamp) p.push(`envelope timestamp ${o.env.timestamp} != send's ${sent.timestamp}`);
    if (o.contentObj.sigTimestamp !== sent.timestamp) p.push(`sigTimestamp ${o.contentObj.sigTimestamp}`);
    if (o.contentObj.dataMessage?.profile?.displayName !== 'CLI') p.push('display name');
    if (o.contentObj.expirationType !== 'DELETE_AFTER_SEND' || o.contentObj.expirationTimer !== 3600) p.push(`expiry ${o.contentObj.expirationType}/${o.contentObj.expirationTimer}`);
    // desktop stores a deleteAfterSend message with TTL = timer; check what the swarm was told
    if (typeof m.expiration === 'number') {
      const ttl = m.expiration - (m.timestamp ?? sent.timestamp);
      console.log(`  info: stored item timestamp=${m.timestamp} expiration=${m.expiration} (ttl ${ttl} ms); send printed expiry_ms=${sent.expiry_ms}`);
    }
    return p;
  });

  await check('online: 5,000-character bodies both ways', async () => {
    const p = [];
    const MIX = Array.from('aé你👋');
    const long = Array.from({ length: 5000 }, (_, i) => MIX[i % 4]).join('');
    const t = Date.now();
    await store(cliSwarm[0], { data64: L.sealDesktop(js, cliId, { body: long, timestamp: t }), destination: cliId, timestamp: t, ttl: 86400000 });
    const r = cli(['--network', netFile, 'receive', '-o', 'json'], { phrase: cliPhrase });
    const got = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((m) => m.body === long);
    if (got.length !== 1) p.push(`session-cli receive: ${got.length} copies of the long message (exit ${r.status})`);
    const s2 = cli(['--network', netFile, 'send', js.sessionId, '-o', 'json'], { phrase: cliPhrase, input: long });
    if (s2.status !== 0) { p.push(`send exit ${s2.status}: ${s2.stderr.trim()}`); return p; }
    let ok = false;
    for (const node of jsSwarm) {
      for (const m of await retrieve(node, js)) {
        try { if (L.open(js, m.data).contentObj.dataMessage?.body === long) ok = true; } catch { /* other items */ }
      }
      if (ok) break;
    }
    if (!ok) p.push('JS did not find the long message session-cli sent');
    return p;
  });


  // ---- onion requests built by independent code (desktop's and libsession's formats) ----------
  const pickPath = (exclude) => snodes.filter((s) => s.pubkey_ed25519 !== exclude.pubkey_ed25519).slice(0, 3);
  const fullNode = (swarmEntry) => snodes.find((s) => s.pubkey_ed25519 === swarmEntry.pubkey_ed25519);

  await check('online: desktop-style onion request (aes-gcm, no enc_type, no Content-Type) stores a 12 KB message; session-cli receive gets it', async () => {
    const p = [];
    const MIX = Array.from('aé你👋');
    const long = Array.from({ length: 5000 }, (_, i) => MIX[(i + 1) % 4]).join('');
    const t = Date.now();
    const data64 = L.sealDesktop(js, cliId, { body: long, displayName: 'onion', timestamp: t });
    const dest = fullNode(cliSwarm[0]);
    const built = Onion.build(pickPath(dest), dest, { jsonrpc: '2.0', method: 'batch', params: { requests: [
      { method: 'store', params: { pubkey: cliId, timestamp: t, ttl: 86400000, namespace: 0, data: data64 } }] } }, 'desktop');
    console.log(`  info: onion body ${built.body.length} bytes, data ${data64.length} base64 chars`);
    const r = await Onion.send(dest === snodes[0] ? snodes[1] : snodes[0], built);
    if (r.httpStatus !== 200) { p.push(`guard answered HTTP ${r.httpStatus}: ${r.text}`); rejected.push({ what: 'desktop onion store', status: r.httpStatus, body: r.text }); return p; }
    if (r.status !== 200 || r.body?.results?.[0]?.code !== 200) { p.push(`store via onion: status ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`); return p; }
    const hash = r.body.results[0].body.hash;
    if (hash !== L.messageHash(cliId, 0, data64)) p.push(`hash ${hash} != BLAKE2b rule`);
    const rc = cli(['--network', netFile, 'receive', '-o', 'json'], { phrase: cliPhrase });
    const got = rc.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((m) => m.hash === hash);
    if (!got) p.push(`session-cli receive did not list ${hash} (exit ${rc.status})`);
    else if (got.body !== long || got.display_name !== 'onion') p.push('body/display name differ');
    return p;
  });

  await check('online: libsession-style onion request (xchacha20, enc_type, {"headers":""}) get_swarm + signed retrieve with snake_case params', async () => {
    const p = [];
    const dest = fullNode(jsSwarm[0]);
    const guard = pickPath(dest)[0];
    const gs = await Onion.send(guard, Onion.build(pickPath(dest), dest, { method: 'get_swarm', params: { pubkey: js.sessionId } }, 'libsession'));
    if (gs.httpStatus !== 200 || gs.status !== 200) p.push(`get_swarm via onion: HTTP ${gs.httpStatus} status ${gs.status} ${gs.text ?? JSON.stringify(gs.body).slice(0, 200)}`);
    else if (!gs.body?.snodes?.some((s) => s.pubkey_ed25519 === dest.pubkey_ed25519)) p.push('get_swarm via onion: destination not in its own swarm answer');
    const ts2 = Date.now();
    const signature = L.b64(L.sodium.crypto_sign_detached(new TextEncoder().encode(`retrieve${ts2}`), js.ed.privateKey));
    const rr = await Onion.send(guard, Onion.build(pickPath(dest), dest, { method: 'retrieve', params: {
      pubkey: js.sessionId, namespace: 0, timestamp: ts2, signature, pubkey_ed25519: L.hex(js.ed.publicKey), last_hash: '', max_size: -1 } }, 'libsession'));
    if (rr.httpStatus !== 200 || rr.status !== 200) { p.push(`retrieve via onion: HTTP ${rr.httpStatus} status ${rr.status} ${rr.text ?? JSON.stringify(rr.body).slice(0, 200)}`); return p; }
    const msgs = rr.body.messages || [];
    if (!msgs.length) p.push('retrieve via onion: no messages (session-cli sent some earlier)');
    for (const m of msgs) { try { L.open(js, m.data); } catch (e) { p.push(`item ${m.hash}: ${e.message}`); } }
    return p;
  });

  await check('online: an onion body over 8 KiB sent with Content-Type application/x-www-form-urlencoded (what libcurl adds) is not refused', async () => {
    const p = [];
    const dest = fullNode(cliSwarm[0]);
    const t = Date.now();
    const data64 = L.sealDesktop(js, cliId, { body: 'y'.repeat(9000), timestamp: t });
    const built = Onion.build(pickPath(dest), dest, { method: 'store', params: { pubkey: cliId, timestamp: t, ttl: 86400000, namespace: 0, data: data64 } }, 'desktop');
    const r = await Onion.send(pickPath(dest)[0], built, { contentType: 'application/x-www-form-urlencoded' });
    if (r.httpStatus !== 200) p.push(`HTTP ${r.httpStatus} ${r.text} for a ${built.body.length}-byte body (oxen-storage-server ignores Content-Type; limit 10 MiB)`);
    else if (r.status !== 200) p.push(`store status ${r.status}`);
    return p;
  });

  await check('online: session-cli watch picks up messages the JS client stores while it runs', async () => {
    const p = [];
    const env = { ...process.env, SESSION_MNEMONIC: cliPhrase };
    const w = spawn(CLI, ['--network', netFile, 'watch', '--interval', '1', '--count', '6', '-o', 'json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let outText = '';
    w.stdout.on('data', (c) => { outText += c; });
    const done = new Promise((resolve) => w.on('exit', (code) => resolve(code)));
    await sleep(1500);
    const bodies = [];
    for (let i = 0; i < 2; i++) {
      const t = Date.now();
      bodies.push(`watch ${i} ${t}`);
      await store(cliSwarm[i % cliSwarm.length], { data64: L.sealSessionJs(js, cliId, { body: bodies[i], timestamp: t }), destination: cliId, timestamp: t, ttl: 86400000 });
      await sleep(1200);
    }
    const code = await Promise.race([done, sleep(30000).then(() => 'timeout')]);
    if (code === 'timeout') { w.kill('SIGTERM'); p.push('watch did not stop after --count 6'); }
    else if (code !== 0) p.push(`watch exit ${code}`);
    const seen = outText.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    for (const b of bodies) {
      const n = seen.filter((m) => m.body === b).length;
      if (n !== 1) p.push(`"${b}" printed ${n} times`);
    }
    return p;
  });

  await check('online: JS retrieve with lastHash continues after the last item', async () => {
    const p = [];
    const node = jsSwarm[0];
    const all = await retrieve(node, js);
    if (!all.length) { p.push('nothing stored'); return p; }
    const after = await retrieve(node, js, all[all.length - 1].hash);
    if (after.length) p.push(`${after.length} item(s) after the last hash`);
    return p;
  });

  console.log(`  info: requests the local network refused: ${rejected.length ? '' : 'none'}`);
  for (const r of rejected) console.log(`    ${r.what}: ${r.status} ${r.body}`);
  const failed = results.filter((r) => r.problems.length).length;
  console.log(`online: ${results.length - failed} passed, ${failed} failed`);
  exitCode = failed ? 1 : 0;
} catch (e) {
  console.log(`FAIL online setup: ${e && e.stack || e}`);
} finally {
  localnet.kill('SIGTERM');
  await sleep(300);
  fs.rmSync(dir, { recursive: true, force: true });
}
process.exit(exitCode);
