// table.mjs: turns bench/compare.sh's JSON lines into one Markdown table (stdout + a file).
//   node table.mjs RESULTS.jsonl OUT.md
// Ratio = session-client / JS client: below 1 means session-client took less time, fewer requests
// or less memory.
import fs from 'node:fs';

const [resultsFile, outFile] = process.argv.slice(2);
const rows = fs.readFileSync(resultsFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const by = Object.fromEntries(rows.map((r) => [r.tag, r]));
const meta = by.meta ?? {};
const hasOnion = Object.keys(by).some((t) => t.includes('js-onion'));

const fmt = (v, digits) => {
  if (v === undefined || v === null || Number.isNaN(v)) return '-';
  if (digits === undefined) digits = Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2;
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
};
const ratio = (a, b) => (a === undefined || b === undefined || !b ? '-' : `${fmt(a / b, 2)}x`);

const table = [];
const header = ['metric', 'session-client', 'JS session.js-style (direct)', 'ratio'];
if (hasOnion) header.push('JS via onion', 'ratio');
// ours, js direct, js onion (undefined where it does not apply)
function row(metric, ours, direct, onion, digits) {
  const cells = [metric, fmt(ours, digits), fmt(direct, digits), ratio(ours, direct)];
  if (hasOnion) cells.push(onion === undefined ? '-' : fmt(onion, digits), ratio(ours, onion));
  table.push(cells);
}

const co = by['crypto/ours'], cj = by['crypto/js'];
if (co && cj) {
  row(`seal, CPU µs per message (${co.n} × ${co.body_bytes}-byte body)`, co.seal_cpu_us, cj.seal_cpu_us, undefined);
  row('open, CPU µs per message (all from one sender)', co.open_cpu_us, cj.open_cpu_us, undefined);
  if (co.open_distinct_cpu_us !== undefined && cj.open_distinct_cpu_us !== undefined)
    row('open, CPU µs per message (each from a different sender)', co.open_distinct_cpu_us, cj.open_distinct_cpu_us, undefined);
  row('sealed message, base64 characters', co.data_chars, cj.data_chars, undefined, 0);
}
for (const sync of [1, 0]) {
  const o = by[`send/ours/sync${sync}`], d = by[`send/js-direct/sync${sync}`], n = by[`send/js-onion/sync${sync}`];
  if (!o || !d) continue;
  const what = sync ? 'with sync copy (session.js always)' : 'no sync copy (session-client default)';
  row(`cold send ${what}, ms (mean of ${o.cold_runs})`, o.cold_ms_mean, d.cold_ms_mean, n?.cold_ms_mean);
  row(`cold send ${what}, requests`, o.cold_requests_mean, d.cold_requests_mean, n?.cold_requests_mean);
  row(`warm send ${what}, ms (median of ${o.warm_sends})`, o.warm_ms_median, d.warm_ms_median, n?.warm_ms_median);
  row(`warm send ${what}, requests per send`, o.warm_requests_per_send, d.warm_requests_per_send, n?.warm_requests_per_send);
}
const rd = by['receive/js-direct'], rn = by['receive/js-onion'];
// session-client twice: receive_pages (a page at a time) and receive() (one result).
for (const [tag, how] of [['receive/ours', 'receive_pages'], ['receive/ours-all', 'receive()']]) {
  const ro = by[tag];
  if (!ro || !rd) continue;
  row(`receive ${meta.m ?? ''} stored messages (new process, cold; ours: ${how}), wall ms`, ro.wall_ms, rd.wall_ms, rn?.wall_ms);
  row(`${how}: messages opened`, ro.messages, rd.messages, rn?.messages, 0);
  row(`${how}: requests`, ro.requests, rd.requests, rn?.requests, 0);
  row(`${how}: process CPU ms`, ro.cpu_ms, rd.cpu_ms, rn?.cpu_ms);
  row(`${how}: peak RSS of the process, MB`, ro.peak_rss_mb, rd.peak_rss_mb, rn?.peak_rss_mb);
  row(`${how}: peak RSS growth during the receive, MB`, ro.peak_rss_mb - ro.rss_before_mb,
    rd.peak_rss_mb - rd.rss_before_mb, rn ? rn.peak_rss_mb - rn.rss_before_mb : undefined);
}

const lines = [];
lines.push(`Side by side, ${meta.date ?? ''} (commit ${meta.commit ?? '?'}, ${meta.cpus ?? '?'} CPUs, node ${meta.node ?? '?'}, ${meta.cxx ?? ''}):`);
lines.push(`one session-localnet (${meta.nodes ?? '?'} nodes, swarms of 5), ${meta.hop_latency_ms ?? '?'} ms per hop on every node; session-client always uses onion requests (3 relays).`);
lines.push('Ratio = session-client / JS client (below 1: session-client took less).');
lines.push('');
lines.push(`| ${header.join(' | ')} |`);
lines.push(`|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`);
for (const r of table) lines.push(`| ${r.join(' | ')} |`);
const text = lines.join('\n') + '\n';
process.stdout.write(text);
if (outFile) fs.writeFileSync(outFile, text);
