// interop.mjs drives a running ipdb-node with the official BigchainDB JS
// driver (bigchaindb-driver 4.3.0), exactly as an application would:
//
//   node --experimental-websocket interop.mjs --api http://127.0.0.1:9984/api/v1/
//
// It prints one line per check and ends with "N passed, N failed"; the exit
// code is 0 only when every check passed. cmd/ipdb-node's interop test runs it
// against a real `ipdb-node start` process.

import driver from 'bigchaindb-driver';
import { keypairFromSeed, labelSeed, output, serialize, signWith, Transaction } from './lib.mjs';

const args = process.argv.slice(2);
const api = args[args.indexOf('--api') + 1];
if (!api || args.indexOf('--api') < 0) {
  console.error('usage: node --experimental-websocket interop.mjs --api URL');
  process.exit(2);
}
const conn = new driver.Connection(api);
const run = Date.now().toString(36); // makes assets unique per run
const key = (name) => keypairFromSeed(labelSeed(`interop ${run} ${name}`));
const alice = key('alice'), bob = key('bob'), carol = key('carol'), dave = key('dave');

let passed = 0, failed = 0;
async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e && e.stack ? e.stack : e}`);
  }
}
function assert(cond, msg) { if (!cond) throw new Error(msg); }
function eq(got, want, what) {
  const g = JSON.stringify(got), w = JSON.stringify(want);
  if (g !== w) throw new Error(`${what}: got ${g}, want ${w}`);
}

function create(issuer, data, metadata, outs) {
  const tx = Transaction.makeCreateTransaction(data, metadata, outs, issuer.publicKey);
  return Transaction.signTransaction(tx, issuer.privateKey);
}
function transfer(spent, index, from, outs, metadata = null) {
  const tx = Transaction.makeTransferTransaction([{ tx: spent, output_index: index }], outs, metadata);
  return Transaction.signTransaction(tx, from.privateKey);
}
const ed = (kp, amount = '1') => Transaction.makeOutput(Transaction.makeEd25519Condition(kp.publicKey), amount);

async function untilCommitted(id) {
  for (let i = 0; i < 200; i++) {
    try { return await conn.getTransaction(id); } catch (e) { /* not yet */ }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`transaction ${id} not committed in 5 s`);
}

async function status(url, init) {
  const res = await fetch(url, init);
  let body = null;
  try { body = await res.json(); } catch { body = null; }
  return { code: res.status, body };
}

// The stream is opened first so that it sees every commit below.
const events = [];
let ws;
await check('event stream connects', async () => {
  const index = await (await fetch(api)).json();
  assert(typeof index.streams === 'string' && index.streams.startsWith('ws://'), `index advertises no stream: ${JSON.stringify(index)}`);
  ws = new WebSocket(index.streams);
  ws.onmessage = (m) => events.push(JSON.parse(m.data));
  await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
});

const modes = { commit: 'postTransactionCommit', sync: 'postTransactionSync', async: 'postTransactionAsync' };
const made = {};
for (const [mode, post] of Object.entries(modes)) {
  await check(`CREATE and TRANSFER in mode=${mode}`, async () => {
    const c = create(alice, { interop: run, mode, serial: `bike-${mode}` }, { note: `made in ${mode} mode` }, [ed(alice)]);
    const got = await conn[post](c);
    eq(got.id, c.id, 'echoed id');
    if (mode !== 'commit') await untilCommitted(c.id);
    const t = transfer(c, 0, alice, [ed(bob)], { to: 'bob' });
    await conn[post](t);
    const stored = await untilCommitted(t.id);
    eq(serialize(stored), serialize(t), 'stored TRANSFER (canonical)');
    made[mode] = { c, t };
  });
}

let divisible;
await check('divisible asset: CREATE 10, split 3 + 7, merge back', async () => {
  const c = create(alice, { interop: run, kind: 'token' }, null, [ed(alice, '10')]);
  await conn.postTransactionCommit(c);
  const split = transfer(c, 0, alice, [ed(bob, '3'), ed(alice, '7')]);
  await conn.postTransactionCommit(split);
  divisible = { c, split };
  const bad = transfer(split, 1, alice, [ed(bob, '8')]);
  let status = null;
  try { await conn.postTransactionCommit(bad); } catch (e) { status = e.status; }
  assert(status && status.startsWith('400'), `unbalanced TRANSFER: got ${status}, want 400`);
  const merge = Transaction.signTransaction(Transaction.makeTransferTransaction(
    [{ tx: split, output_index: 0 }, { tx: split, output_index: 1 }], [ed(carol, '10')], null), bob.privateKey, alice.privateKey);
  await conn.postTransactionCommit(merge);
  const left = await conn.listOutputs(carol.publicKey, false);
  assert(left.some((o) => o.transaction_id === merge.id), 'merged output unspent for carol');
});

await check('threshold ownership: 2-of-3 output spent by two keys', async () => {
  const spec = { threshold: 2, subs: [alice.publicKey, bob.publicKey, carol.publicKey] };
  const c = create(alice, { interop: run, kind: 'shared' }, null, [output(spec, '1')]);
  await conn.postTransactionCommit(c);
  const u = Transaction.makeTransferTransaction([{ tx: c, output_index: 0 }], [ed(dave)], null);
  const privs = new Map([[alice.publicKey, alice.privateKey], [carol.publicKey, carol.privateKey]]);
  const t = signWith(u, [spec], [privs]);
  await conn.postTransactionCommit(t);
  eq((await conn.getTransaction(t.id)).id, t.id, 'threshold spend stored');
});

await check('concurrent double spends: exactly one accepted', async () => {
  const c = create(alice, { interop: run, kind: 'contested' }, null, [ed(alice)]);
  await conn.postTransactionCommit(c);
  const rivals = [bob, carol, dave, key('erin'), key('frank'), key('grace')].map((to) => transfer(c, 0, alice, [ed(to)]));
  const results = await Promise.allSettled(rivals.map((t) => conn.postTransactionCommit(t)));
  const ok = results.filter((r) => r.status === 'fulfilled').length;
  eq(ok, 1, 'accepted spends');
  for (const r of results.filter((r) => r.status === 'rejected')) {
    assert(String(r.reason.status).startsWith('400'), `rejected spend: status ${r.reason.status}, want 400`);
  }
});

await check('queries: transactions by asset, outputs, blocks, search', async () => {
  const { c, t } = made.commit;
  eq((await conn.listTransactions(c.id)).map((x) => x.id), [c.id, t.id], 'listTransactions');
  eq((await conn.listTransactions(c.id, 'CREATE')).map((x) => x.id), [c.id], 'listTransactions CREATE');
  eq((await conn.listTransactions(c.id, 'TRANSFER')).map((x) => x.id), [t.id], 'listTransactions TRANSFER');
  const spent = await conn.listOutputs(alice.publicKey, true);
  assert(spent.some((o) => o.transaction_id === c.id && o.output_index === 0), 'alice spent output listed');
  const unspent = await conn.listOutputs(bob.publicKey, false);
  assert(unspent.some((o) => o.transaction_id === t.id && o.output_index === 0), 'bob unspent output listed');
  const all = await conn.listOutputs(bob.publicKey);
  assert(all.length >= unspent.length, 'outputs without spent filter');
  const heights = await conn.listBlocks(t.id);
  eq(heights.length, 1, 'listBlocks');
  const block = await conn.getBlock(heights[0]);
  assert(block.transactions.some((x) => x.id === t.id), 'getBlock holds the TRANSFER');
  const assets = await conn.searchAssets(`bike-commit ${run}`);
  assert(assets.some((a) => a.id === c.id && a.data.mode === 'commit'), `searchAssets: ${JSON.stringify(assets)}`);
  const metas = await conn.searchMetadata('"made in sync mode"');
  assert(metas.some((m) => m.id === made.sync.c.id), `searchMetadata phrase: ${JSON.stringify(metas)}`);
  const none = await conn.searchAssets(`${run} -bike`, 50);
  assert(!none.some((a) => a.id === c.id), 'negated term excluded');
  const validators = await (await fetch(new URL('validators', api))).json();
  assert(Array.isArray(validators) && validators.length >= 1 && validators[0].public_key.type === 'ed25519-base64', 'validators');
});

await check('errors: invalid transactions, malformed JSON, oversized body, unknown path', async () => {
  const c = create(alice, { interop: run, kind: 'errors' }, null, [ed(alice)]);
  const post = (body) => status(new URL('transactions?mode=sync', api), { method: 'POST', body, headers: { 'Content-Type': 'application/json' } });
  let r = await post(JSON.stringify({ ...c, id: 'f'.repeat(64) }));
  eq(r.code, 400, 'wrong id status');
  assert(r.body.message.startsWith('Invalid transaction (InvalidHash)'), `wrong id message: ${r.body.message}`);
  const sigBad = structuredClone(c);
  sigBad.inputs[0].fulfillment = c.inputs[0].fulfillment.replace(/.$/, (ch) => (ch === 'A' ? 'B' : 'A'));
  r = await post(JSON.stringify(sigBad));
  eq(r.code, 400, 'bad signature status');
  r = await post('{"id": ');
  eq(r.code, 400, 'malformed JSON status');
  assert(typeof r.body.message === 'string', 'malformed JSON answers a JSON message');
  r = await post(JSON.stringify({ ...c, metadata: { pad: 'x'.repeat(20000) } }));
  eq(r.code, 413, 'oversized body status');
  r = await status(new URL('nothing/here', api));
  eq([r.code, r.body], [404, { message: 'Not found', status: 404 }], 'unknown path');
  r = await status(new URL(`transactions/${'0'.repeat(64)}`, api));
  eq(r.code, 404, 'missing transaction');
  r = await status(new URL('outputs?public_key=0OIl', api));
  eq([r.code, r.body], [400, { message: { public_key: 'Invalid base58 ed25519 key' } }], 'bad public_key');
  let threw = null;
  try { await conn.postTransactionCommit(c); await conn.postTransactionCommit(c); } catch (e) { threw = e.status; }
  assert(threw && threw.startsWith('400'), `duplicate CREATE: got ${threw}, want 400`);
});

await check('event stream: one event per committed transaction, in commit order', async () => {
  const want = [made.commit.c.id, made.commit.t.id, divisible.c.id, divisible.split.id];
  for (let i = 0; i < 200 && !want.every((id) => events.some((e) => e.transaction_id === id)); i++) {
    await new Promise((r) => setTimeout(r, 25));
  }
  const pos = want.map((id) => events.findIndex((e) => e.transaction_id === id));
  assert(pos.every((p) => p >= 0), `events missing: ${JSON.stringify(pos)}`);
  assert(pos.every((p, i) => i === 0 || p > pos[i - 1]), `events out of order: ${JSON.stringify(pos)}`);
  const e = events[pos[1]];
  eq([e.asset_id, typeof e.height], [made.commit.c.id, 'number'], 'TRANSFER event asset id and height');
  const heights = events.map((x) => x.height);
  assert(heights.every((h, i) => i === 0 || h >= heights[i - 1]), 'event heights never go back');
});

if (ws) ws.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
