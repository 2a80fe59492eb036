// Shared helpers for make-corpus.mjs, differential.mjs and check.mjs.
//
// Everything that decides bytes (serialization, ids, signing digests,
// condition URIs, fulfillment encodings) goes through bigchaindb-driver 4.3.0
// and the crypto-conditions 2.2.1 package it depends on. The helpers written
// here only assemble calls to them, with three exceptions, each checked
// against the driver: Ed25519 signatures are computed with node:crypto
// (identical bytes, much faster than tweetnacl), linearConditionJSON builds
// deep thresholds without the driver's exponential cost, and rapidCanonical
// re-serializes as BigchainDB does, as a cross-check.

import driver from 'bigchaindb-driver';
import sha256HashModule from 'bigchaindb-driver/dist/node/sha256Hash.js';
import ccJsonifyModule from 'bigchaindb-driver/dist/node/utils/ccJsonify.js';
import cc from 'crypto-conditions';
import bs58 from 'bs58';
import { createHash, createPrivateKey, createPublicKey, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';

export const { Transaction, Ed25519Keypair } = driver;
export { cc, bs58 };

// sha3Hex is the driver's "sha256Hash": SHA3-256 (FIPS 202) of the UTF-8 of s, hex.
export const sha3Hex = sha256HashModule.default;
const ccJsonify = ccJsonifyModule.default;

// MAX_AMOUNT is BigchainDB's Output.MAX_AMOUNT.
export const MAX_AMOUNT = 9000000000000000000n;

// keypairFromSeed returns the driver's Ed25519Keypair for a 32-byte seed:
// {publicKey, privateKey} in base58, privateKey being the seed.
export function keypairFromSeed(seed) {
  if (seed.length !== 32) throw new Error(`seed must be 32 bytes, got ${seed.length}`);
  const kp = new Ed25519Keypair(Uint8Array.from(seed));
  return { publicKey: kp.publicKey, privateKey: kp.privateKey };
}

// labelSeed derives a fixed 32-byte seed from a label: SHA-256 of its UTF-8.
export function labelSeed(label) {
  return createHash('sha256').update(label, 'utf8').digest();
}

// serialize is the driver's canonical serialization (json-stable-stringify,
// keys compared as UTF-16 strings).
export function serialize(tx) {
  return Transaction.serializeTransactionIntoCanonicalString(tx);
}

// txId is the id the driver computes for the body of tx: SHA3-256 of the
// serialization of tx with "id": null (fulfillments kept).
export function txId(tx) {
  return sha3Hex(serialize({ ...tx, id: null }));
}

// signingMessage is the 32-byte digest an input signs, exactly as the driver's
// signTransaction computes it: SHA3-256 of the serialized unsigned tx, plus
// fulfills.transaction_id and fulfills.output_index appended for TRANSFER inputs.
export function signingMessage(serializedUnsigned, input) {
  const s = input.fulfills
    ? serializedUnsigned + input.fulfills.transaction_id + input.fulfills.output_index
    : serializedUnsigned;
  return Buffer.from(sha3Hex(s), 'hex');
}

// ---- conditions -----------------------------------------------------------
//
// A "spec" describes a condition: a base58 public key string for an Ed25519
// leaf, or {threshold: m, subs: [spec, ...]} for a threshold.

// ccObject builds the crypto-conditions object of a spec with the driver.
export function ccObject(spec) {
  if (typeof spec === 'string') return Transaction.makeEd25519Condition(spec, false);
  return Transaction.makeThresholdCondition(spec.threshold, spec.subs.map(ccObject), false);
}

// conditionJSON is the driver's {details, uri} for a spec.
export function conditionJSON(spec) {
  return ccJsonify(ccObject(spec));
}

// linearConditionJSON gives the same {details, uri} as conditionJSON, but
// builds each threshold from its members' Condition objects instead of from
// fulfillment objects. The driver's way recomputes every member's condition
// at every level, which is exponential in the depth: a 20-deep threshold takes
// minutes. make-corpus.mjs checks both agree on a smaller tree.
export function linearConditionJSON(spec) {
  const r = linear(spec);
  return { details: r.details, uri: r.cond.serializeUri() };
}

function linear(spec) {
  if (typeof spec === 'string') {
    const ed = new cc.Ed25519Sha256();
    ed.setPublicKey(Buffer.from(bs58.decode(spec)));
    return { details: { type: 'ed25519-sha-256', public_key: spec }, cond: ed.getCondition() };
  }
  const th = new cc.ThresholdSha256();
  th.setThreshold(spec.threshold);
  const subs = spec.subs.map(linear);
  for (const sub of subs) th.addSubcondition(sub.cond);
  return {
    details: { type: 'threshold-sha-256', threshold: spec.threshold, subconditions: subs.map((x) => x.details) },
    cond: th.getCondition(),
  };
}

// output is the driver's output object for a spec and a decimal amount string.
export function output(spec, amount) {
  return Transaction.makeOutput(conditionJSON(spec), amount);
}

// specOfDetails turns condition details JSON back into a spec.
export function specOfDetails(details) {
  if (details.type === 'ed25519-sha-256') return details.public_key;
  if (details.type === 'threshold-sha-256') {
    return { threshold: details.threshold, subs: details.subconditions.map(specOfDetails) };
  }
  throw new Error(`unsupported details type ${details.type}`);
}

// specKeys lists the Ed25519 keys of a spec, depth first, left to right, unique.
export function specKeys(spec, out = []) {
  if (typeof spec === 'string') {
    if (!out.includes(spec)) out.push(spec);
  } else {
    for (const s of spec.subs) specKeys(s, out);
  }
  return out;
}

// issuerSpec is how BigchainDB's Input.generate models the signers of a CREATE:
// one key = Ed25519, several keys = N-of-N threshold of them.
export function issuerSpec(ownersBefore) {
  if (ownersBefore.length === 1) return ownersBefore[0];
  return { threshold: ownersBefore.length, subs: ownersBefore.slice() };
}

// ---- fulfillments ---------------------------------------------------------

// buildFulfillment makes the crypto-conditions fulfillment of spec over msg
// using the private keys in privByPub (base58 public -> base58 private). In
// each threshold the first `threshold` satisfiable members (in order) are
// fulfilled and every other member is given as a condition, so the result is
// minimal. opts.corrupt flips one bit in the first signature made.
// Returns {ok, ff, cond, used}: ff when ok, cond (a Condition) otherwise;
// used lists the keys whose signatures are in ff.
export function buildFulfillment(spec, msg, privByPub, opts = {}) {
  if (typeof spec === 'string') {
    const priv = privByPub.get(spec);
    const ed = new cc.Ed25519Sha256();
    if (!priv) {
      ed.setPublicKey(Buffer.from(bs58.decode(spec)));
      return { ok: false, cond: ed.getCondition(), used: [] };
    }
    ed.setPublicKey(Buffer.from(bs58.decode(spec)));
    ed.setSignature(ed25519Sign(priv, spec, msg));
    if (opts.corrupt && !opts.corrupted) {
      const sig = Buffer.from(ed.signature);
      sig[opts.corruptByte ?? 7] ^= 1 << (opts.corruptBit ?? 0);
      ed.setSignature(sig);
      opts.corrupted = true;
    }
    return { ok: true, ff: ed, used: [spec] };
  }
  const th = new cc.ThresholdSha256();
  th.setThreshold(spec.threshold);
  let n = 0;
  const used = [];
  for (const sub of spec.subs) {
    const r = buildFulfillment(sub, msg, n < spec.threshold ? privByPub : new Map(), opts);
    if (r.ok) {
      th.addSubfulfillment(r.ff);
      used.push(...r.used);
      n++;
    } else {
      th.addSubcondition(r.cond);
    }
  }
  if (n < spec.threshold) return { ok: false, cond: th.getCondition(), used: [] };
  return { ok: true, ff: th, used };
}

// ---- Ed25519 through node:crypto -------------------------------------------------
//
// crypto-conditions signs with the native `ed25519` addon when it was built
// and falls back to tweetnacl, which is ~50x slower. Ed25519 signatures are
// deterministic (RFC 8032), so signing with node:crypto gives the same bytes;
// checkEd25519Backends() proves it at startup against crypto-conditions' own
// sign(). The fulfillment is still encoded by crypto-conditions.

const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');
const privateKeys = new Map();
const publicKeys = new Map();

// ed25519Sign signs msg with the base58 seed priv whose public key is pub.
export function ed25519Sign(priv, pub, msg) {
  let key = privateKeys.get(priv);
  if (!key) {
    key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, Buffer.from(bs58.decode(priv))]), format: 'der', type: 'pkcs8' });
    const derived = createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(SPKI_ED25519.length);
    if (bs58.encode(derived) !== pub) throw new Error(`private key does not match ${pub}`);
    privateKeys.set(priv, key);
  }
  return cryptoSign(null, msg, key);
}

// ed25519Verify checks sig over msg for the 32-byte public key pub.
export function ed25519Verify(pub, msg, sig) {
  const hex = Buffer.from(pub).toString('hex');
  let key = publicKeys.get(hex);
  if (!key) {
    key = createPublicKey({ key: Buffer.concat([SPKI_ED25519, Buffer.from(pub)]), format: 'der', type: 'spki' });
    publicKeys.set(hex, key);
  }
  return sig.length === 64 && cryptoVerify(null, msg, key, sig);
}

// checkEd25519Backends throws unless node:crypto and crypto-conditions make
// the same signature.
export function checkEd25519Backends() {
  const kp = keypairFromSeed(labelSeed('ed25519 backend check'));
  const msg = Buffer.from(sha3Hex('ed25519 backend check'), 'hex');
  const ed = new cc.Ed25519Sha256();
  ed.sign(msg, Buffer.from(bs58.decode(kp.privateKey)));
  if (!ed.signature.equals(ed25519Sign(kp.privateKey, kp.publicKey, msg))) {
    throw new Error('node:crypto and crypto-conditions Ed25519 signatures differ');
  }
}
checkEd25519Backends();

// signWith signs every input of an unsigned tx (fulfillments and id null) via
// the driver's delegateSignTransaction. specs[i] is the condition input i must
// fulfill (the spent output's for TRANSFER, issuerSpec(owners_before) for
// CREATE); privs[i] maps the public keys that sign input i to private keys.
// Returns the signed tx with its id.
export function signWith(unsigned, specs, privs, opts = {}) {
  for (const input of unsigned.inputs) {
    if (input.fulfillment !== null) throw new Error('signWith needs fulfillments null');
  }
  if (unsigned.id !== null) throw new Error('signWith needs id null');
  return Transaction.delegateSignTransaction(unsigned, (serialized, input, index) => {
    const msg = signingMessage(serialized, input);
    const r = buildFulfillment(specs[index], msg, privs[index], index === (opts.corruptInput ?? 0) ? opts : {});
    if (!r.ok) throw new Error(`input ${index}: keys given cannot fulfill the condition`);
    return r.ff.serializeUri();
  });
}

// unsign returns a deep copy of tx with every fulfillment and the id null,
// ready to be signed again after a change.
export function unsign(tx) {
  const u = structuredClone(tx);
  u.id = null;
  for (const input of u.inputs) input.fulfillment = null;
  return u;
}

// verifyInputs checks with crypto-conditions that every fulfillment of tx
// validates against specs[i]'s condition over its signing message, and that
// its signers are exactly owners_before. Throws on the first failure.
export function verifyInputs(tx, specs) {
  const serialized = serialize(unsign(tx));
  tx.inputs.forEach((input, i) => {
    const msg = signingMessage(serialized, input);
    const uri = conditionJSON(specs[i]).uri;
    if (!cc.validateFulfillment(input.fulfillment, uri, msg)) {
      throw new Error(`input ${i}: fulfillment does not validate`);
    }
    const signers = fulfillmentSigners(cc.fromFulfillmentUri(input.fulfillment));
    const want = [...input.owners_before].sort();
    if (signers.sort().join() !== want.join()) {
      throw new Error(`input ${i}: signed by ${signers} but owners_before ${want}`);
    }
  });
}

function fulfillmentSigners(ff) {
  if (ff instanceof cc.Ed25519Sha256) return [bs58.encode(ff.publicKey)];
  const out = [];
  for (const s of ff.subconditions) {
    if (s.type === 'fulfillment') out.push(...fulfillmentSigners(s.body));
  }
  return out;
}

// ---- independent cross-check ----------------------------------------------

// rapidCanonical serializes a JSON value the way BigchainDB does
// (python-rapidjson dumps with sort_keys and ensure_ascii=False): keys sorted
// by Unicode code point, control characters other than \b\t\n\f\r written as
// \u00XX with UPPER-case hex, everything else raw. The driver sorts keys by
// UTF-16 code units and writes lower-case hex, so the two differ only for
// sibling keys mixing non-BMP characters with U+E000..U+FFFF, and for the
// control characters 0x0B, 0x0E, 0x0F, 0x1A..0x1F. Valid fixtures must have
// rapidCanonical(tx) === serialize(tx).
export function rapidCanonical(v) {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') {
    // Integers only, and only where JS prints the exact integer's digits
    // (safe integers, and larger ones like 1e18 that doubles hold exactly).
    if (!Number.isInteger(v) || BigInt(v).toString() !== String(v)) {
      throw new Error(`number ${v} is not printed as its exact integer digits`);
    }
    return String(v);
  }
  if (typeof v === 'string') return rapidString(v);
  if (Array.isArray(v)) return '[' + v.map(rapidCanonical).join(',') + ']';
  const keys = Object.keys(v)
    .map((k) => [Buffer.from(k, 'utf8'), k])
    .sort((a, b) => Buffer.compare(a[0], b[0]))
    .map(([, k]) => k);
  return '{' + keys.map((k) => rapidString(k) + ':' + rapidCanonical(v[k])).join(',') + '}';
}

const SHORT_ESCAPES = { '"': '\\"', '\\': '\\\\', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function rapidString(s) {
  if (!s.isWellFormed()) throw new Error('lone surrogate in string');
  return '"' + s.replace(/["\\\u0000-\u001f]/g, (ch) => SHORT_ESCAPES[ch] ??
    '\\u' + ch.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')) + '"';
}

// goCompatible reports whether the driver's bytes for tx are the bytes
// BigchainDB (and the Go ledger) hash.
export function goCompatible(tx) {
  return rapidCanonical(tx) === serialize(tx);
}

// jsonDepth is the nesting depth of arrays and objects in v (a scalar is 0).
export function jsonDepth(v) {
  if (v === null || typeof v !== 'object') return 0;
  const kids = Array.isArray(v) ? v : Object.values(v);
  return 1 + kids.reduce((m, k) => Math.max(m, jsonDepth(k)), 0);
}
