// Offline interop checks: session-cli against independent JavaScript (lib.mjs). Prints one
// "PASS name" / "FAIL name: why" line per check and a closing "N passed, M failed" line.
// Exit status 0 only when every check passed.
import { spawnSync } from 'node:child_process';
import * as L from './lib.mjs';

const CLI = process.env.SESSION_CLI;
if (!CLI) { console.error('set SESSION_CLI to the session-cli binary'); process.exit(2); }
const N_IDS = Number(process.env.INTEROP_IDS || 25);

function cli(args, { phrase, input } = {}) {
  const env = { ...process.env };
  delete env.SESSION_MNEMONIC;
  if (phrase !== undefined) env.SESSION_MNEMONIC = phrase;
  const r = spawnSync(CLI, args, { env, input: input ?? '', encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return r;
}
const jsonLines = (s) => s.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));

const results = [];
function check(name, fn) {
  let problems;
  try { problems = fn(); } catch (e) { problems = ['threw: ' + (e && e.stack || e)]; }
  results.push({ name, problems });
  if (problems.length) console.log(`FAIL ${name}: ${problems.length} problem(s)\n  - ${problems.slice(0, 12).join('\n  - ')}`);
  else console.log(`PASS ${name}`);
}
const eq = (problems, what, got, want) => {
  if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`${what}: got ${JSON.stringify(got)?.slice(0, 200)}, want ${JSON.stringify(want)?.slice(0, 200)}`);
};

await L.ready();

const UNICODE = 'héllo wörld — 你好, мир 👋🏽 \u{1F469}\u200D\u{1F4BB} \u0000?'.replace('\u0000', '');
const MIX = Array.from('aé你👋');
const LONG = Array.from({ length: 5000 }, (_, i) => MIX[i % 4]).join(''); // 5,000 code points, 11,250 UTF-8 bytes
const BODIES = { short: 'hello', unicode: UNICODE, long5000: LONG, empty: '' };

// ---- identities ---------------------------------------------------------------------------
check('kat: @session.js/mnemonic + libsodium.js reproduce the "session ×13" vector', () => {
  const p = [];
  const k = L.keysFromPhrase(Array(13).fill('session').join(' '));
  eq(p, 'session id', k.sessionId, '0512742fb4ac033a8a33f5776aa0e7e88f35f7af9f65dee31e57fbc7d6f8664b12');
  const r = cli(['id', '-o', 'json'], { phrase: Array(13).fill('session').join(' ') });
  eq(p, 'session-cli id', r.status === 0 ? JSON.parse(r.stdout).session_id : r.stderr, k.sessionId);
  return p;
});

const idents = []; // {phrase, keys} from both sides, reused below
check(`ids: ${N_IDS} phrases from session-cli new -> @session.js/mnemonic + libsodium.js`, () => {
  const p = [];
  for (let i = 0; i < N_IDS; i++) {
    const r = cli(['new', '-o', 'json']);
    if (r.status !== 0) { p.push(`new exit ${r.status}: ${r.stderr}`); continue; }
    const { phrase, session_id } = JSON.parse(r.stdout);
    const words = phrase.split(' ');
    if (words.length !== 13) p.push(`phrase has ${words.length} words`);
    const k = L.keysFromPhrase(phrase);
    eq(p, `phrase #${i} session id`, k.sessionId, session_id);
    eq(p, `phrase #${i} re-encoded by session.js`, L.mnemonicEncode(k.seedHex), phrase);
    idents.push({ phrase, keys: k });
  }
  return p;
});

check(`ids: ${N_IDS} phrases from @session.js/mnemonic -> session-cli id`, () => {
  const p = [];
  for (let i = 0; i < N_IDS; i++) {
    const phrase = L.newPhrase();
    const k = L.keysFromPhrase(phrase);
    const r = cli(['id', '-o', 'json'], { phrase });
    if (r.status !== 0) { p.push(`id exit ${r.status}: ${r.stderr.trim()}`); continue; }
    eq(p, `js phrase #${i}`, JSON.parse(r.stdout).session_id, k.sessionId);
    idents.push({ phrase, keys: k });
  }
  return p;
});

check('ids: phrase spellings session.js accepts (3-letter prefixes, extra spaces) give the same id', () => {
  const p = [];
  for (const { phrase, keys } of idents.slice(0, 5)) {
    const prefixes = phrase.split(' ').map((w) => w.slice(0, 3)).join(' ');
    eq(p, 'js prefixes', L.keysFromPhrase(prefixes).sessionId, keys.sessionId);
    for (const variant of [prefixes, '  ' + phrase.split(' ').join('   ') + '\n', phrase.toUpperCase()]) {
      const r = cli(['id', '-o', 'json'], { phrase: variant });
      eq(p, `cli variant ${JSON.stringify(variant.slice(0, 12))}…`, r.status === 0 ? JSON.parse(r.stdout).session_id : r.stderr.trim(), keys.sessionId);
    }
  }
  return p;
});

check('ids: a phrase with a wrong checksum word is refused by both', () => {
  const p = [];
  const words = idents[0].phrase.split(' ');
  // replace the checksum word by a data word with another 3-letter prefix
  const bad = [...words.slice(0, 12), words.find((w) => w.slice(0, 3) !== words[12].slice(0, 3))].join(' ');
  let jsThrew = false;
  try { L.keysFromPhrase(bad); } catch { jsThrew = true; }
  if (!jsThrew) p.push('session.js accepted a bad checksum');
  const r = cli(['id'], { phrase: bad });
  if (r.status !== 2) p.push(`session-cli id exit ${r.status} (want 2)`);
  return p;
});

const alice = idents[0]; // sender in JS->CLI, recipient in CLI->JS
const bob = idents[1];
const carol = idents[2];

// ---- JS seals, session-cli opens ----------------------------------------------------------
function openWithCli(recipient, lines) {
  const r = cli(['open', '-o', 'json'], { phrase: recipient.phrase, input: lines.join('\n') + '\n' });
  return { r, out: jsonLines(r.stdout) };
}

check('js->cli: session.js-style messages (no sigTimestamp, 160k-1 padding, DataMessage.timestamp, expirationType UNKNOWN) open in session-cli', () => {
  const p = [];
  const cases = [];
  let ts = 1764300000000;
  for (const [name, body] of Object.entries(BODIES)) {
    for (const displayName of ['(05a...b3c)', 'Ålice 👩‍💻']) {
      ts += 1001;
      cases.push({ name, body, displayName, timestamp: ts });
    }
  }
  const { r, out } = openWithCli(bob, cases.map((c) => L.sealSessionJs(alice.keys, bob.keys.sessionId, c)));
  eq(p, 'exit status', r.status, 0);
  eq(p, 'output lines', out.length, cases.length);
  cases.forEach((c, i) => {
    const o = out[i] || {};
    if (o.error) { p.push(`${c.name}: error ${o.error}`); return; }
    eq(p, `${c.name} sender`, o.sender_session_id, alice.keys.sessionId);
    eq(p, `${c.name} body`, o.body, c.body);
    eq(p, `${c.name} timestamp`, o.timestamp, c.timestamp);
    eq(p, `${c.name} display_name`, o.display_name, c.displayName);
    eq(p, `${c.name} expiry`, [o.expiry, o.expire_seconds], ['none', 0]);
    eq(p, `${c.name} kind`, o.kind, c.body ? 'text' : 'other');
    if ('sig_timestamp' in o) p.push(`${c.name}: sig_timestamp present (${o.sig_timestamp}) though the message has none`);
  });
  return p;
});

const EXPIRIES = [
  { type: 'none' }, { type: 'after_send', seconds: 30 }, { type: 'after_send', seconds: 86400 },
  { type: 'after_read', seconds: 300 }, { type: 'after_read', seconds: 1209600 }, { type: 'after_send', seconds: 4294967295 },
];
check('js->cli: desktop-style messages (sigTimestamp, multiple-of-160 padding, Content.expirationType/Timer, sourceDevice=1) open in session-cli', () => {
  const p = [];
  const cases = [];
  let ts = 1764300100000;
  for (const [name, body] of Object.entries(BODIES)) {
    for (const expiry of EXPIRIES) {
      ts += 7;
      cases.push({ name: `${name}/${expiry.type}${expiry.seconds ?? ''}`, body, displayName: 'Bob', timestamp: ts, expiry });
    }
  }
  const { r, out } = openWithCli(bob, cases.map((c) => L.sealDesktop(alice.keys, bob.keys.sessionId, c)));
  eq(p, 'exit status', r.status, 0);
  cases.forEach((c, i) => {
    const o = out[i] || {};
    if (o.error) { p.push(`${c.name}: error ${o.error}`); return; }
    eq(p, `${c.name} sender`, o.sender_session_id, alice.keys.sessionId);
    eq(p, `${c.name} body`, o.body, c.body);
    eq(p, `${c.name} timestamp`, [o.timestamp, o.sig_timestamp], [c.timestamp, c.timestamp]);
    eq(p, `${c.name} display_name`, o.display_name, 'Bob');
    const want = c.expiry.type === 'none' ? ['none', 0, false] : [c.expiry.type, c.expiry.seconds, c.expiry.type === 'after_read'];
    eq(p, `${c.name} expiry`, [o.expiry, o.expire_seconds, o.expire_after_read], want);
  });
  return p;
});

check('js->cli: forged, misdirected and damaged messages are reported per line (exit 3), good lines still open', () => {
  const p = [];
  const ts = 1764300200000;
  const good = L.sealDesktop(alice.keys, bob.keys.sessionId, { body: 'good', timestamp: ts });
  const toCarol = L.sealDesktop(alice.keys, carol.keys.sessionId, { body: 'for carol', timestamp: ts });
  // surreptitious forwarding: signed for Carol, re-sealed to Bob
  const padded = L.padLibsession(L.desktopContent({ body: 'fwd', timestamp: ts }));
  const sigForCarol = L.sodium.crypto_sign_detached(new Uint8Array([...padded, ...alice.keys.ed.publicKey, ...alice.keys.xPk.length ? carol.keys.xPk : []]), alice.keys.ed.privateKey);
  const forwarded = L.b64(L.wrap({ type: 6, timestamp: ts, content: L.sodium.crypto_box_seal(new Uint8Array([...padded, ...alice.keys.ed.publicKey, ...sigForCarol]), bob.keys.xPk) }));
  const sigMismatch = L.b64(L.wrap({ type: 6, timestamp: ts + 1, content: L.encryptFor(alice.keys, bob.keys.sessionId, L.padLibsession(L.desktopContent({ body: 'ts', timestamp: ts }))) }));
  const raw = L.unb64(good); raw[raw.length - 5] ^= 1;
  const tampered = L.b64(raw);
  const lines = [good, toCarol, forwarded, sigMismatch, tampered, 'not base64 !!', good];
  const { r, out } = openWithCli(bob, lines);
  eq(p, 'exit status', r.status, 3);
  eq(p, 'line count', out.length, lines.length);
  eq(p, 'first good body', out[0]?.body, 'good');
  eq(p, 'last good body', out[6]?.body, 'good');
  ['misdirected (sealed to carol)', 'forwarded (signed for carol)', 'sigTimestamp != envelope timestamp', 'tampered ciphertext', 'bad base64']
    .forEach((what, i) => { if (!out[i + 1]?.error) p.push(`${what}: opened without error: ${JSON.stringify(out[i + 1])}`); });
  return p;
});

check('js->cli: other message kinds and attachments built by JS are classified and exposed', () => {
  const p = [];
  let ts = 1764300250000;
  const att = {
    id: 4321, contentType: 'image/jpeg', key: new Uint8Array(64).fill(7), size: 12345, digest: new Uint8Array(32).fill(9),
    fileName: 'cat.jpg', width: 640, height: 480, caption: 'a cat', url: 'http://filev2.getsession.org/file/4321',
  };
  const voice = { id: 1, contentType: 'audio/mpeg', size: 10, flags: 1, url: 'http://filev2.getsession.org/file/1' };
  const cases = [
    { name: 'attachment', c: { dataMessage: { body: 'pic', attachments: [att, voice] } }, want: { kind: 'text', body: 'pic' } },
    { name: 'reaction', c: { dataMessage: { reaction: { id: 1764300000000, author: alice.keys.sessionId, emoji: '👍', action: 0 } } }, want: { kind: 'reaction' } },
    { name: 'timer_update', c: { dataMessage: { flags: 2 }, expirationType: 2, expirationTimer: 3600 }, want: { kind: 'expiration_timer_update', expire_seconds: 3600 } },
    { name: 'receipt', c: { receiptMessage: { type: 1, timestamp: [1764300000000] } }, want: { kind: 'receipt' } },
    { name: 'typing', c: { typingMessage: { timestamp: ts, action: 0 } }, want: { kind: 'typing' } },
    { name: 'unsend', c: { unsendMessage: { timestamp: 1764300000000, author: alice.keys.sessionId } }, want: { kind: 'unsend' } },
    { name: 'request_response', c: { messageRequestResponse: { isApproved: true } }, want: { kind: 'message_request_response' } },
    { name: 'data_extraction', c: { dataExtractionNotification: { type: 2, timestamp: ts } }, want: { kind: 'data_extraction' } },
    { name: 'sync copy (syncTarget)', c: { dataMessage: { body: 'to bob', syncTarget: bob.keys.sessionId } }, want: { kind: 'text', body: 'to bob' } },
    { name: 'legacy DataMessage.expireTimer only', c: { dataMessage: { body: 'old', expireTimer: 60 } }, want: { kind: 'text', body: 'old' } },
  ];
  const lines = cases.map((k) => L.sealContentObject(alice.keys, bob.keys.sessionId, k.c, ++ts));
  const { out } = openWithCli(bob, lines);
  cases.forEach((k, i) => {
    const o = out[i] || {};
    if (o.error) { p.push(`${k.name}: error ${o.error}`); return; }
    for (const [f, v] of Object.entries(k.want)) eq(p, `${k.name} ${f}`, o[f], v);
    if (k.name === 'legacy DataMessage.expireTimer only') console.log(`  info: legacy DataMessage.expireTimer=60 without Content.expirationType -> expiry=${o.expiry} expire_seconds=${o.expire_seconds}`);
    if (k.name === 'sync copy (syncTarget)') console.log(`  info: a syncTarget copy opens as ${JSON.stringify(Object.fromEntries(Object.entries(o).filter(([f]) => !['body', 'timestamp', 'sig_timestamp', 'line'].includes(f))))}`);
  });
  const a = out[0]?.attachments || [];
  eq(p, 'attachment count', a.length, 2);
  if (a[0]) {
    eq(p, 'attachment[0]', [a[0].url, a[0].content_type, a[0].size, a[0].file_name, a[0].voice_message, a[0].key, a[0].digest, a[0].width, a[0].height, a[0].caption],
      [att.url, att.contentType, att.size, att.fileName, false, L.hex(att.key), L.hex(att.digest), 640, 480, 'a cat']);
  }
  if (a[1]) eq(p, 'attachment[1] voice', [a[1].voice_message, a[1].content_type, a[1].size], [true, 'audio/mpeg', 10]);
  return p;
});

check('js->cli: variants desktop accepts (no padding, bare 0x80, source = sender, sigTimestamp 0, envelope timestamp 0) open', () => {
  const p = [];
  const ts = 1764300260000;
  const content = L.desktopContent({ body: 'pad', timestamp: ts });
  const seal = (m, env = {}) => L.b64(L.wrap({ type: 6, timestamp: ts, content: L.encryptFor(alice.keys, bob.keys.sessionId, m), ...env }));
  const lines = [
    seal(content),                                                     // unpadded
    seal(new Uint8Array([...content, 0x80])),                          // terminator only
    seal(L.padLegacy(content), { source: alice.keys.sessionId }),      // old clients' source field
  ];
  // desktop's shouldProcessContentMessage: sigTimestamp 0 or envelope timestamp 0 = legacy client, accepted
  const zeroSig = L.T.Content.encode(L.T.Content.create({ dataMessage: { body: 'pad' }, sigTimestamp: 0 })).finish();
  lines.push(seal(L.padLibsession(zeroSig)));
  lines.push(L.b64(L.wrap({ type: 6, timestamp: 0, content: L.encryptFor(alice.keys, bob.keys.sessionId, L.padLibsession(content)) })));
  const { out } = openWithCli(bob, lines);
  ['unpadded', 'bare 0x80', 'envelope.source = sender', 'sigTimestamp = 0 (legacy)', 'envelope timestamp 0 (legacy)'].forEach((what, i) => {
    if (out[i]?.body !== 'pad') p.push(`${what}: ${JSON.stringify(out[i])}`);
  });
  return p;
});

check('js->cli: 400 validly signed and sealed but garbled Content payloads: one JSON line each, exit 0 or 3, no crash', () => {
  const p = [];
  const ts = 1764300270000;
  const base = L.desktopContent({ body: 'mutate me', displayName: 'M', timestamp: ts, expiry: { type: 'after_read', seconds: 60 } });
  const lines = [];
  for (let i = 0; i < 400; i++) {
    let m;
    if (i < 100) m = L.sodium.randombytes_buf(1 + (i * 7) % 300);
    else {
      m = new Uint8Array(base);
      const flips = 1 + (i % 4);
      for (let f = 0; f < flips; f++) m[L.sodium.randombytes_uniform(m.length)] = L.sodium.randombytes_uniform(256);
      if (i % 5 === 0) m = m.subarray(0, L.sodium.randombytes_uniform(m.length));
    }
    lines.push(L.b64(L.wrap({ type: 6, timestamp: ts, content: L.encryptFor(alice.keys, bob.keys.sessionId, L.padLibsession(m)) })));
  }
  const { r, out } = openWithCli(bob, lines);
  if (r.signal) p.push(`session-cli open died with ${r.signal}`);
  if (![0, 3].includes(r.status)) p.push(`exit ${r.status}: ${r.stderr.slice(0, 300)}`);
  eq(p, 'output lines', out.length, lines.length);
  const errors = out.filter((o) => o.error).length;
  console.log(`  info: ${out.length - errors} opened, ${errors} reported as errors`);
  return p;
});

// ---- session-cli seals, JS opens ----------------------------------------------------------
function sealWithCli(sender, to, text, extra = []) {
  const r = cli(['seal', '--to', to, '-o', 'json', ...extra], { phrase: sender.phrase, input: text });
  if (r.status !== 0) throw new Error(`seal exit ${r.status}: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout);
}

function checkCliSealed(p, label, sealed, { body, timestamp, displayName, expiry, legacyPadding }) {
  let o;
  try { o = L.open(alice.keys, sealed.data); } catch (e) { p.push(`${label}: JS could not open: ${e.message}`); return null; }
  eq(p, `${label} ws.type`, o.ws.type, 1);
  eq(p, `${label} envelope.type`, o.env.type, 6);
  eq(p, `${label} envelope.timestamp`, Number(o.env.timestamp), timestamp);
  if (o.env.source) p.push(`${label}: envelope.source set (${o.env.source}) for a 1:1 message`);
  eq(p, `${label} sender`, o.senderId, bob.keys.sessionId);
  const c = o.contentObj;
  eq(p, `${label} body`, c.dataMessage?.body ?? '', body);
  eq(p, `${label} sigTimestamp`, c.sigTimestamp, timestamp);
  eq(p, `${label} displayName`, c.dataMessage?.profile?.displayName, displayName);
  // current desktop (ExpirableMessage.contentProto) sends UNKNOWN + timer 0 when the timer is off
  const off = !expiry || expiry.type === 'none';
  const wantType = off ? 'UNKNOWN' : expiry.type === 'after_read' ? 'DELETE_AFTER_READ' : 'DELETE_AFTER_SEND';
  eq(p, `${label} expirationType`, c.expirationType, wantType);
  eq(p, `${label} expirationTimer`, c.expirationTimer, off ? 0 : expiry.seconds);
  const L0 = o.contentLength;
  const want = legacyPadding ? 160 * Math.ceil((L0 + 2) / 160) - 1 : L0 + 1 + (160 - ((L0 + 1) % 160));
  eq(p, `${label} padded length for content of ${L0} bytes`, o.paddedLength, want);
  return o;
}

check('cli->js: session-cli seal opens in JS with every Content field as asked (bodies x timers x names x padding)', () => {
  const p = [];
  let ts = 1764300300000;
  for (const [name, body] of Object.entries(BODIES)) {
    for (const expiry of EXPIRIES) {
      for (const legacyPadding of [false, true]) {
        ts += 13;
        const extra = ['--timestamp', String(ts), '--display-name', 'Böb ✓'];
        if (expiry.type === 'after_send') extra.push('--expire-after-send', String(expiry.seconds));
        if (expiry.type === 'after_read') extra.push('--expire-after-read', String(expiry.seconds));
        if (legacyPadding) extra.push('--legacy-padding');
        const sealed = sealWithCli(bob, alice.keys.sessionId, body, extra);
        eq(p, `${name} json.timestamp`, sealed.timestamp, ts);
        checkCliSealed(p, `${name}/${expiry.type}${expiry.seconds ?? ''}${legacyPadding ? '/legacy' : ''}`, sealed,
          { body, timestamp: ts, displayName: 'Böb ✓', expiry, legacyPadding });
      }
    }
  }
  return p;
});

check('cli->js: padding boundaries (content lengths around 159/160/319/320) follow the documented rules', () => {
  const p = [];
  let ts = 1764300400000;
  for (let n = 130; n <= 175; n++) {
    for (const legacyPadding of [false, true]) {
      ts += 1;
      const body = 'x'.repeat(n);
      const sealed = sealWithCli(bob, alice.keys.sessionId, body, ['--timestamp', String(ts), ...(legacyPadding ? ['--legacy-padding'] : [])]);
      checkCliSealed(p, `n=${n}${legacyPadding ? '/legacy' : ''}`, sealed, { body, timestamp: ts, legacyPadding });
    }
  }
  return p;
});

check('cli->js: one trailing newline is dropped, inner newlines kept, no DataMessage.timestamp/legacy fields', () => {
  const p = [];
  const ts = 1764300500000;
  const a = L.open(alice.keys, sealWithCli(bob, alice.keys.sessionId, 'a\n\n', ['--timestamp', String(ts)]).data);
  eq(p, 'body of printf "a\\n\\n"', a.contentObj.dataMessage?.body, 'a\n');
  const b = L.open(alice.keys, sealWithCli(bob, alice.keys.sessionId, 'x', ['--timestamp', String(ts)]).data);
  const dm = b.contentObj.dataMessage || {};
  for (const legacy of ['timestamp', 'expireTimer', 'flags', 'syncTarget', 'profileKey']) {
    if (legacy in dm) p.push(`DataMessage.${legacy} present: ${JSON.stringify(dm[legacy])}`);
  }
  return p;
});

check('cli->js: WebSocket/Envelope framing details a strict reader may look at', () => {
  const p = [];
  const ts = 1764300600000;
  const o = L.open(alice.keys, sealWithCli(bob, alice.keys.sessionId, 'frame', ['--timestamp', String(ts)]).data);
  const req = L.T.WebSocketMessage.toObject(o.ws, { longs: Number, defaults: false }).request;
  const env = L.T.Envelope.toObject(o.env, { longs: Number, defaults: false });
  console.log(`  info: request verb=${JSON.stringify(req.verb)} path=${JSON.stringify(req.path)} requestId=${req.requestId}; envelope fields=${Object.keys(env).join(',')} sourceDevice=${env.sourceDevice}`);
  // session.js's extractContent only needs type REQUEST + request.body; desktop and libsession
  // ignore verb/path. Envelope.type must be SESSION_MESSAGE and content present.
  if (!(o.ws.request.body?.length > 0)) p.push('request.body empty');
  if (!env.content) p.push('envelope.content missing');
  return p;
});

check('cli->js: Content bytes are canonical protobuf (field order, no unknown fields): protobufjs re-encodes them byte for byte', () => {
  const p = [];
  let ts = 1764300650000;
  const variants = [[], ['--display-name', 'Böb'], ['--expire-after-send', '60'], ['--expire-after-read', '86400', '--display-name', 'x']];
  for (const [i, extra] of variants.entries()) {
    for (const body of ['hi', '', LONG]) {
      const o = L.open(alice.keys, sealWithCli(bob, alice.keys.sessionId, body, ['--timestamp', String(++ts), ...extra]).data);
      const re = L.T.Content.encode(L.T.Content.fromObject(L.T.Content.toObject(o.content))).finish();
      if (Buffer.compare(Buffer.from(re), Buffer.from(o.contentBytes)) !== 0) {
        p.push(`variant ${i} body ${body.length}: re-encoded ${re.length} bytes != ${o.contentBytes.length}; Content fields on the wire ${L.fieldNumbers(o.contentBytes)}`);
      }
      if (i === 1 && body === 'hi') {
        const dmBytes = L.T.DataMessage.encode(o.content.dataMessage).finish();
        console.log(`  info: Content field order ${L.fieldNumbers(o.contentBytes).join(',')}; DataMessage fields ${L.fieldNumbers(dmBytes).join(',')}; content ${JSON.stringify(o.contentObj)}`);
      }
    }
  }
  return p;
});

check('cli->cli: seal then open round trip (sanity for the two checks above)', () => {
  const p = [];
  const ts = 1764300700000;
  const lines = Object.values(BODIES).map((b) => sealWithCli(bob, alice.keys.sessionId, b, ['--timestamp', String(ts), '--expire-after-read', '60']).data);
  const { out } = openWithCli(alice, lines);
  Object.values(BODIES).forEach((b, i) => {
    eq(p, `body #${i}`, out[i]?.body, b);
    eq(p, `expiry #${i}`, [out[i]?.expiry, out[i]?.expire_seconds, out[i]?.sig_timestamp], ['after_read', 60, ts]);
  });
  return p;
});

const failed = results.filter((r) => r.problems.length).length;
console.log(`offline: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
