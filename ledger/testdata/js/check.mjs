// check.mjs is a small model of the validation the Go ledger performs
// (BigchainDB 2.x rules, shared/BIGCHAINDB.md §2.7, in that order, plus
// ipdb-node's stricter rules). It exists only to cross-check the generators:
// make-corpus.mjs and differential.mjs label every transaction with the error
// they meant to cause, and this independent model must agree.
//
//   node check.mjs    re-reads ledger/testdata/tx/{valid,invalid} and checks every label
//
// Ids and signing messages are computed over lib.mjs's rapidCanonical (the
// bytes BigchainDB hashes), not over the driver's serializer.
//
// It is not a reference implementation: the Go ledger is. Where BigchainDB
// itself is unclear (an output_index past the end) the model picks
// InputDoesNotExist.

import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as L from './lib.mjs';

const MAX_DEPTH = 16; // ledger.MaxThresholdDepth
const HEX64 = /^[0-9a-f]{64}$/;
const BASE58 = /^[1-9A-HJ-NP-Za-km-z]{43,44}$/;
const URI = /^ni:\/\/\/sha-256;([a-zA-Z0-9_-]{0,86})[?](fpt=(ed25519|threshold)-sha-256(&)?|cost=[0-9]+(&)?|subtypes=ed25519-sha-256(&)?){2,3}$/;
const LANGUAGES = new Set(('danish dutch english finnish french german hungarian italian norwegian portuguese ' +
  'romanian russian spanish swedish turkish none da nl en fi fr de hu it nb pt ro ru es sv tr').split(' '));

class Invalid extends Error {
  constructor(name, msg) {
    super(`${name}: ${msg}`);
    this.errName = name;
  }
}
const fail = (name, msg) => { throw new Invalid(name, msg); };
const schema = (cond, msg) => { if (!cond) fail('SchemaValidationError', msg); };
const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const sameKeys = (o, keys) => Object.keys(o).sort().join() === [...keys].sort().join();

// newState returns an empty ledger state.
export function newState() {
  return { txs: new Map(), spent: new Set() };
}

// apply adds a transaction already judged valid to the state.
export function apply(state, tx) {
  state.txs.set(tx.id, tx);
  for (const i of tx.inputs) {
    if (i.fulfills) state.spent.add(`${i.fulfills.transaction_id}:${i.fulfills.output_index}`);
  }
}

// check returns "valid" or the BigchainDB error name tx earns against state.
export function check(state, tx) {
  try {
    checkTx(state, tx);
    return 'valid';
  } catch (e) {
    if (e instanceof Invalid) return e.errName;
    throw e;
  }
}

// explain is check with the reason text.
export function explain(state, tx) {
  try {
    checkTx(state, tx);
    return 'valid';
  } catch (e) {
    if (e instanceof Invalid) return e.message;
    throw e;
  }
}

function checkTx(state, tx) {
  if (!isObj(tx)) fail('SchemaValidationError', 'not an object');
  if (!('id' in tx)) fail('InvalidHash', 'No transaction id found!');
  if (tx.id !== L.sha3Hex(L.rapidCanonical({ ...tx, id: null }))) fail('InvalidHash', 'id is not the hash of the body');
  checkSchema(tx);
  checkKeys(tx.operation === 'CREATE' ? tx.asset.data : null, 'asset');
  checkKeys(tx.metadata, 'metadata');
  const ffs = tx.inputs.map(parseFulfillment);
  for (const o of tx.outputs) {
    const a = BigInt(o.amount);
    if (a < 1n || a > L.MAX_AMOUNT) fail('AmountError', `amount ${o.amount}`);
  }
  if (tx.operation === 'CREATE') {
    if (state.txs.has(tx.id)) fail('DuplicateTransaction', tx.id);
    checkSignatures(tx, ffs, [L.issuerSpec(tx.inputs[0].owners_before)], false);
    return;
  }
  const spent = checkTransferInputs(state, tx);
  checkSignatures(tx, ffs, spent.map((o) => L.specOfDetails(o.condition.details)), true);
}

function checkSchema(tx) {
  schema(sameKeys(tx, ['id', 'version', 'inputs', 'outputs', 'operation', 'asset', 'metadata']), 'top-level keys');
  schema(tx.version === '2.0', 'version');
  schema(tx.operation === 'CREATE' || tx.operation === 'TRANSFER', 'operation');
  schema(isObj(tx.asset), 'asset');
  if (tx.operation === 'CREATE') {
    schema(sameKeys(tx.asset, ['data']) && (tx.asset.data === null || isObj(tx.asset.data)), 'asset.data');
  } else {
    schema(sameKeys(tx.asset, ['id']) && HEX64.test(tx.asset.id), 'asset.id');
  }
  schema(tx.metadata === null || (isObj(tx.metadata) && Object.keys(tx.metadata).length > 0), 'metadata');
  schema(Array.isArray(tx.inputs) && tx.inputs.length >= 1, 'inputs');
  if (tx.operation === 'CREATE') schema(tx.inputs.length === 1, 'CREATE has exactly one input');
  tx.inputs.forEach((i) => checkInputSchema(i, tx.operation));
  schema(Array.isArray(tx.outputs), 'outputs');
  tx.outputs.forEach(checkOutputSchema);
}

function checkInputSchema(i, op) {
  schema(isObj(i) && sameKeys(i, ['owners_before', 'fulfillment', 'fulfills']), 'input keys');
  schema(Array.isArray(i.owners_before) && i.owners_before.every((k) => typeof k === 'string' && BASE58.test(k)), 'owners_before');
  schema((typeof i.fulfillment === 'string' && /^[a-zA-Z0-9_-]*$/.test(i.fulfillment)) || isObj(i.fulfillment), 'fulfillment');
  if (op === 'CREATE') {
    schema(i.fulfills === null, 'CREATE input fulfills must be null');
  } else {
    const f = i.fulfills;
    schema(isObj(f) && sameKeys(f, ['transaction_id', 'output_index']) && HEX64.test(f.transaction_id) &&
      Number.isInteger(f.output_index) && f.output_index >= 0, 'fulfills');
  }
}

function checkOutputSchema(o) {
  schema(isObj(o) && sameKeys(o, ['amount', 'condition', 'public_keys']), 'output keys');
  schema(typeof o.amount === 'string' && /^[0-9]{1,20}$/.test(o.amount), 'amount');
  schema(isObj(o.condition) && sameKeys(o.condition, ['details', 'uri']), 'condition');
  checkDetails(o.condition.details, 1);
  schema(typeof o.condition.uri === 'string' && URI.test(o.condition.uri), 'uri pattern');
  const s = L.specOfDetails(o.condition.details);
  schema(L.linearConditionJSON(s).uri === o.condition.uri, 'uri does not match details');
  schema(Array.isArray(o.public_keys) &&
    [...o.public_keys].sort().join() === L.specKeys(s).sort().join() &&
    new Set(o.public_keys).size === o.public_keys.length, 'public_keys do not match details');
}

function checkDetails(d, depth) {
  if (depth > MAX_DEPTH) fail('ThresholdTooDeep', `depth ${depth}`);
  schema(isObj(d), 'details');
  if (d.type === 'ed25519-sha-256') {
    schema(sameKeys(d, ['type', 'public_key']) && BASE58.test(d.public_key) &&
      L.bs58.decode(d.public_key).length === 32, 'ed25519 details');
    return;
  }
  schema(d.type === 'threshold-sha-256' && sameKeys(d, ['type', 'threshold', 'subconditions']), 'threshold details');
  schema(Number.isInteger(d.threshold) && d.threshold >= 1 && d.threshold <= 100, 'threshold');
  schema(Array.isArray(d.subconditions) && d.subconditions.length >= d.threshold, 'subconditions');
  for (const s of d.subconditions) checkDetails(s, depth + 1);
}

function checkKeys(v, where) {
  if (Array.isArray(v)) { v.forEach((x) => checkKeys(x, where)); return; }
  if (!isObj(v)) return;
  for (const [k, x] of Object.entries(v)) {
    if (/^[$]|\.|\u0000/.test(k)) fail('ValidationError', `invalid key ${JSON.stringify(k)} in ${where}`);
    if (k === 'language' && !LANGUAGES.has(x)) fail('ValidationError', `language ${JSON.stringify(x)}`);
    checkKeys(x, where);
  }
}

function parseFulfillment(input) {
  if (typeof input.fulfillment !== 'string') return null; // unsigned: fails the signature check
  try {
    return L.cc.fromFulfillmentUri(input.fulfillment);
  } catch (e) {
    return fail('InvalidSignature', `Fulfillment URI couldn't been parsed: ${e.message}`);
  }
}

function checkTransferInputs(state, tx) {
  const outs = tx.inputs.map((i) => {
    const f = i.fulfills;
    const prev = state.txs.get(f.transaction_id);
    if (!prev || f.output_index >= prev.outputs.length) fail('InputDoesNotExist', `${f.transaction_id}:${f.output_index}`);
    if (state.spent.has(`${f.transaction_id}:${f.output_index}`)) fail('DoubleSpend', `${f.transaction_id}:${f.output_index}`);
    return { prev, out: prev.outputs[f.output_index] };
  });
  const links = tx.inputs.map((i) => `${i.fulfills.transaction_id}:${i.fulfills.output_index}`);
  if (new Set(links).size !== links.length) fail('DoubleSpend', 'spends inputs twice');
  for (const { prev } of outs) {
    const asset = prev.operation === 'CREATE' ? prev.id : prev.asset.id;
    if (asset !== tx.asset.id) fail('AssetIdMismatch', `${asset} != ${tx.asset.id}`);
  }
  const sumIn = outs.reduce((s, { out }) => s + BigInt(out.amount), 0n);
  const sumOut = tx.outputs.reduce((s, o) => s + BigInt(o.amount), 0n);
  if (sumIn !== sumOut) fail('AmountError', `inputs ${sumIn} != outputs ${sumOut}`);
  return outs.map((x) => x.out);
}

function checkSignatures(tx, ffs, specs, compareCondition) {
  const serialized = L.rapidCanonical(L.unsign(tx));
  tx.inputs.forEach((input, i) => {
    const ff = ffs[i];
    if (!ff) fail('InvalidSignature', `input ${i} not signed`);
    const msg = L.signingMessage(serialized, input);
    if (compareCondition && ff.getConditionUri() !== L.linearConditionJSON(specs[i]).uri) {
      fail('InvalidSignature', `input ${i} fulfillment does not match the spent condition`);
    }
    if (!validFulfillment(ff, msg)) fail('InvalidSignature', `input ${i} signature`);
    const signers = signersOf(ff).sort().join();
    if (signers !== [...input.owners_before].sort().join()) {
      fail('InvalidSignature', `input ${i} signed by ${signers}, owners_before ${input.owners_before}`);
    }
  });
}

// validFulfillment is crypto-conditions' validate() with node:crypto doing
// the Ed25519 checks (tweetnacl, its fallback, is too slow for 2,000 lines).
function validFulfillment(ff, msg) {
  if (ff instanceof L.cc.Ed25519Sha256) return L.ed25519Verify(ff.publicKey, msg, ff.signature);
  if (!(ff instanceof L.cc.ThresholdSha256)) return false;
  const subs = ff.subconditions.filter((s) => s.type === 'fulfillment');
  return subs.length === ff.threshold && subs.every((s) => validFulfillment(s.body, msg));
}

function signersOf(ff) {
  if (ff instanceof L.cc.Ed25519Sha256) return [L.bs58.encode(ff.publicKey)];
  if (!(ff instanceof L.cc.ThresholdSha256)) fail('InvalidSignature', 'unsupported fulfillment type');
  return ff.subconditions.filter((s) => s.type === 'fulfillment').flatMap((s) => signersOf(s.body));
}

// ---- CLI: check the corpus ----------------------------------------------------

function checkCorpus() {
  const txDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'tx');
  const state = newState();
  let bad = 0;
  const files = (d) => readdirSync(join(txDir, d)).filter((f) => f.endsWith('.json')).sort();
  for (const f of files('valid')) {
    const tx = JSON.parse(readFileSync(join(txDir, 'valid', f), 'utf8'));
    const got = explain(state, tx);
    if (got !== 'valid') { bad++; console.log(`valid/${f}: ${got}`); }
    apply(state, tx);
  }
  for (const f of files('invalid')) {
    const tx = JSON.parse(readFileSync(join(txDir, 'invalid', f), 'utf8'));
    const want = readFileSync(join(txDir, 'invalid', f.replace(/\.json$/, '.error')), 'utf8').trim();
    const got = check(state, tx);
    if (got !== want) { bad++; console.log(`invalid/${f}: got ${explain(state, tx)}, want ${want}`); }
  }
  console.log(`${files('valid').length + files('invalid').length - bad} passed, ${bad} failed`);
  process.exitCode = bad ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) checkCorpus();
