// differential.mjs writes a deterministic stream of BigchainDB transactions
// made with the official JS driver, each labelled with the verdict the ledger
// must reach, for differential tests of the Go ledger.
//
//   node differential.mjs --count N --seed S [--no-check] > stream.jsonl
//
// One JSON object per line:
//   {"tx": <transaction>, "id": "<driver id of this exact body>",
//    "want": "valid" | "<BigchainDB error name>", "kind": "<create|transfer|mutation>"}
// Applying every "valid" line in order builds the state each later line is
// checked against; broken lines are never applied. "id" is SHA3-256 of the
// driver's serialization of tx with "id": null; it differs from tx.id only for
// kind "wrong-id".
//
// Every line is also run through check.mjs (an independent model of the
// rules) and the run fails if the model disagrees with the label; --no-check
// skips that.

import * as L from './lib.mjs';
import { apply, check, explain, newState } from './check.mjs';

// ---- arguments ------------------------------------------------------------

function parseArgs(argv) {
  const args = { count: 100, seed: 1, check: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--count') args.count = Number(argv[++i]);
    else if (a === '--seed') args.seed = Number(argv[++i]);
    else if (a === '--no-check') args.check = false;
    else throw new Error(`unknown argument ${a}; usage: node differential.mjs --count N --seed S [--no-check]`);
  }
  if (!Number.isSafeInteger(args.count) || args.count < 0) throw new Error('--count must be a non-negative integer');
  if (!Number.isSafeInteger(args.seed)) throw new Error('--seed must be an integer');
  return args;
}

// ---- seeded randomness (mulberry32) -------------------------------------------

function mulberry32(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Rand {
  constructor(seed) { this.next = mulberry32(seed); }
  int(lo, hi) { return lo + Math.floor(this.next() * (hi - lo + 1)); } // inclusive
  chance(p) { return this.next() < p; }
  pick(arr) { return arr[Math.floor(this.next() * arr.length)]; }
  bytes(n) { return Buffer.from(Array.from({ length: n }, () => this.int(0, 255))); }
  shuffle(arr) {
    const a = arr.slice();
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a;
  }
  // big returns a uniform-enough BigInt in [lo, hi].
  big(lo, hi) {
    const span = hi - lo + 1n;
    let r = 0n;
    for (let i = 0; i < 3; i++) r = (r << 32n) | BigInt(this.int(0, 0xffffffff));
    return lo + (r % span);
  }
  weighted(table) {
    const total = table.reduce((s, [w]) => s + w, 0);
    let x = this.next() * total;
    for (const [w, v] of table) {
      if ((x -= w) < 0) return v;
    }
    return table[table.length - 1][1];
  }
}

// ---- random documents -----------------------------------------------------------
//
// Strings are drawn from Unicode scalar values only (never lone surrogates).
// Left out, because the driver's bytes would then differ from BigchainDB's
// (see lib.mjs rapidCanonical): the control characters 0x0B, 0x0E, 0x0F,
// 0x1A..0x1F anywhere, and U+E000..U+FFFF in keys. Keys also avoid the
// MongoDB rules (".", leading "$", NUL), the name "language", and pairs that
// differ only by case (the Go decoder refuses those).

const range = (lo, hi) => [lo, hi];
const VALUE_RANGES = [
  [30, range(0x20, 0x7e)], [6, range(0xa0, 0xff)], [3, range(0x391, 0x3c9)], [3, range(0x410, 0x44f)],
  [3, range(0x5d0, 0x5ea)], [3, range(0x627, 0x64a)], [5, range(0x4e00, 0x9fff)], [2, range(0xac00, 0xd7a3)],
  [4, range(0x1f300, 0x1f64f)], [2, range(0x10000, 0x10ffff)], [1, range(0xe000, 0xf8ff)],
];
const VALUE_SPECIALS = ['\n', '\t', '\r', '\b', '\f', '\u0000', '\u0001', '\u0002', '\u0010', '\u0019', '"', '\\',
  '/', '<', '>', '&', '\u2028', '\u2029', '\u007f', '\u0085', '\u00ad', '\u200b', '\u200f', '\u202e', '\ufeff', '\ufffd', ' '];
const KEY_RANGES = [
  [30, range(0x61, 0x7a)], [8, range(0x30, 0x39)], [4, range(0xe0, 0xf6)], [3, range(0x3b1, 0x3c9)],
  [3, range(0x5d0, 0x5ea)], [4, range(0x4e00, 0x9fff)], [3, range(0x1f300, 0x1f64f)],
];
const KEY_SPECIALS = ['_', '-', ' ', '@', '#'];

function randChar(r, ranges, specials) {
  if (r.chance(0.08)) return r.pick(specials);
  const [lo, hi] = r.weighted(ranges);
  let c = r.int(lo, hi);
  if (c >= 0xd800 && c <= 0xdfff) c = 0x20; // never reached with the ranges above; kept as a guard
  return String.fromCodePoint(c);
}

function randString(r, maxLen) {
  let s = '';
  const n = r.int(0, maxLen);
  for (let i = 0; i < n; i++) s += randChar(r, VALUE_RANGES, VALUE_SPECIALS);
  return s;
}

function randKey(r) {
  let s = '';
  const n = r.int(1, 10);
  for (let i = 0; i < n; i++) s += randChar(r, KEY_RANGES, KEY_SPECIALS);
  return s;
}

function randInt(r) {
  return r.weighted([
    [4, () => r.int(-100, 100)],
    [2, () => r.int(-1e6, 1e6)],
    [1, () => (r.chance(0.5) ? 1 : -1) * (r.int(0, 2 ** 21 - 1) * 2 ** 32 + r.int(0, 2 ** 32 - 1))],
    [1, () => r.pick([0, 1, -1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER])],
  ])();
}

function randValue(r, depth) {
  const table = [[4, 'string'], [3, 'int'], [1, 'bool'], [1, 'null']];
  if (depth > 0) table.push([1, 'array'], [2, 'object']);
  switch (r.weighted(table)) {
    case 'string': return randString(r, 24);
    case 'int': return randInt(r);
    case 'bool': return r.chance(0.5);
    case 'null': return null;
    case 'array': return Array.from({ length: r.int(0, 4) }, () => randValue(r, depth - 1));
    default: return randObject(r, depth - 1, 0);
  }
}

// randObject returns an object with minKeys..5 keys and no case-only duplicates.
function randObject(r, depth, minKeys) {
  const obj = {};
  const folded = new Set();
  const n = r.int(minKeys, 5);
  for (let tries = 0; Object.keys(obj).length < n && tries < 20; tries++) {
    const k = randKey(r);
    const lo = k.toLowerCase();
    const up = k.toUpperCase();
    if (k === 'language' || folded.has('l:' + lo) || folded.has('u:' + up)) continue;
    folded.add('l:' + lo);
    folded.add('u:' + up);
    obj[k] = randValue(r, depth);
  }
  return obj;
}

// ---- the generator --------------------------------------------------------------

const MAX = L.MAX_AMOUNT;

class Generator {
  constructor(seed) {
    this.r = new Rand(seed);
    this.keys = Array.from({ length: 10 }, () => L.keypairFromSeed(this.r.bytes(32)));
    this.priv = new Map(this.keys.map((k) => [k.publicKey, k.privateKey]));
    this.txs = new Map(); // committed (valid) transactions by id
    this.unspent = []; // {tx, idx, asset}
    this.spent = []; // {tx, idx, asset}
    this.assets = [];
    this.seen = new Set(); // ids of every emitted tx
  }

  pub() { return this.r.pick(this.keys).publicKey; }

  distinctKeys(n) { return this.r.shuffle(this.keys).slice(0, n).map((k) => k.publicKey); }

  // randSpec returns a random condition spec with distinct keys.
  randSpec() {
    const r = this.r;
    return r.weighted([
      [11, () => this.pub()],
      [3, () => { const ks = this.distinctKeys(r.int(2, 3)); return { threshold: ks.length, subs: ks }; }],
      [4, () => { const ks = this.distinctKeys(r.int(2, 4)); return { threshold: r.int(1, ks.length - 1), subs: ks }; }],
      [2, () => {
        const ks = this.distinctKeys(r.int(3, 5));
        const inner = { threshold: r.int(1, 2), subs: ks.slice(0, 2) };
        const subs = r.shuffle([inner, ...ks.slice(2)]);
        return { threshold: r.int(1, subs.length), subs };
      }],
    ])();
  }

  // signersFor picks a random minimal set of keys satisfying spec.
  signersFor(spec) {
    if (typeof spec === 'string') return [spec];
    const chosen = this.r.shuffle(spec.subs.map((_, i) => i)).slice(0, spec.threshold).sort((a, b) => a - b);
    return chosen.flatMap((i) => this.signersFor(spec.subs[i]));
  }

  privMap(keys) { return new Map(keys.map((k) => [k, this.priv.get(k)])); }

  randAmount() {
    return this.r.weighted([
      [20, () => BigInt(this.r.int(1, 1000))],
      [3, () => this.r.big(1n, MAX)],
      [1, () => MAX],
    ])();
  }

  randMetadata() {
    return this.r.chance(0.25) ? null : randObject(this.r, 2, 1);
  }

  // buildCreate returns an unsigned-then-signed CREATE (opts as in signCreate).
  buildCreate(opts = {}) {
    const r = this.r;
    const asset = r.chance(0.05) ? null : randObject(r, 3, 1);
    const outputs = Array.from({ length: r.int(1, 3) }, () => L.output(this.randSpec(), this.randAmount().toString()));
    const issuers = r.chance(0.1) ? this.distinctKeys(r.int(2, 3)) : [this.pub()];
    const u = L.Transaction.makeCreateTransaction(asset, this.randMetadata(), outputs, issuers[0]);
    u.inputs[0].owners_before = issuers;
    return this.sign(u, [L.issuerSpec(issuers)], [issuers], opts);
  }

  // buildTransfer spends `spends` ([{tx, idx}]) into 1..3 random outputs.
  buildTransfer(spends, opts = {}) {
    const total = spends.reduce((s, sp) => s + BigInt(sp.tx.outputs[sp.idx].amount), 0n);
    const amounts = this.split(total);
    const outputs = amounts.map((a) => L.output(this.randSpec(), a.toString()));
    const u = L.Transaction.makeTransferTransaction(spends.map((s) => ({ tx: s.tx, output_index: s.idx })),
      outputs, this.randMetadata());
    const specs = spends.map((s) => L.specOfDetails(s.tx.outputs[s.idx].condition.details));
    const signers = specs.map((s) => this.signersFor(s));
    u.inputs.forEach((input, i) => { input.owners_before = L.specKeys(specs[i]).filter((k) => signers[i].includes(k)); });
    return this.sign(u, specs, signers, opts);
  }

  // split divides total into 1..3 parts, each 1..MAX.
  split(total) {
    const minParts = Number((total + MAX - 1n) / MAX);
    const maxParts = Number(total < 3n ? total : 3n);
    const k = this.r.int(Math.max(1, minParts), Math.max(minParts, maxParts));
    const parts = [];
    let rest = total;
    for (let j = 0; j < k - 1; j++) {
      const left = BigInt(k - 1 - j);
      const lo = rest - left * MAX > 1n ? rest - left * MAX : 1n;
      const hi = rest - left < MAX ? rest - left : MAX;
      const p = this.r.big(lo, hi);
      parts.push(p);
      rest -= p;
    }
    parts.push(rest);
    return parts;
  }

  // sign runs opts.mutate(unsigned), signs, then opts.post(signed) and
  // recomputes the id unless opts.keepId.
  sign(u, specs, signers, opts) {
    if (opts.mutate) opts.mutate(u);
    const tx = L.signWith(u, specs, signers.map((s) => this.privMap(s)), opts.sign);
    if (opts.post) {
      opts.post(tx);
      if (!opts.keepId) tx.id = L.txId(tx);
    }
    return tx;
  }

  // randSpends picks 1..3 unspent outputs of one asset.
  randSpends() {
    const first = this.r.pick(this.unspent);
    const same = this.unspent.filter((u) => u.asset === first.asset && u !== first);
    const extra = this.r.shuffle(same).slice(0, this.r.int(0, Math.min(2, same.length)));
    return [first, ...extra];
  }

  commit(tx) {
    this.txs.set(tx.id, tx);
    for (const input of tx.inputs) {
      if (!input.fulfills) continue;
      const at = this.unspent.findIndex((u) => u.tx.id === input.fulfills.transaction_id && u.idx === input.fulfills.output_index);
      this.spent.push(...this.unspent.splice(at, 1));
    }
    const asset = tx.operation === 'CREATE' ? tx.id : tx.asset.id;
    if (tx.operation === 'CREATE') this.assets.push(asset);
    tx.outputs.forEach((_, idx) => this.unspent.push({ tx, idx, asset }));
  }

  // candidate builds an otherwise valid CREATE or TRANSFER with opts.
  candidate(opts = {}, wantTransfer = false) {
    if (this.unspent.length && (wantTransfer || this.r.chance(0.6))) return this.buildTransfer(this.randSpends(), opts);
    return this.buildCreate(opts);
  }

  valid() {
    const tx = this.candidate();
    return { tx, want: 'valid', kind: tx.operation.toLowerCase() };
  }

  // broken returns one transaction with exactly one defect.
  broken() {
    const r = this.r;
    const kinds = ['wrong-id', 'wrong-signature', 'bad-amount', 'tampered-metadata', 'tampered-output', 'missing-input-tx'];
    if (this.unspent.length) kinds.push('double-spend-same-input', 'asset-id-mismatch', 'amount-not-conserved');
    if (this.spent.length) kinds.push('double-spend');
    return this[camel(r.pick(kinds))]();
  }

  wrongId() {
    const tx = this.candidate();
    tx.metadata = { changed: randString(this.r, 12) };
    return { tx, want: 'InvalidHash', kind: 'wrong-id' };
  }

  wrongSignature() {
    const r = this.r;
    const sign = { corrupt: true, corruptByte: r.int(0, 63), corruptBit: r.int(0, 7) };
    const tx = this.candidate({ sign, mutate: (u) => { sign.corruptInput = r.int(0, u.inputs.length - 1); } });
    return { tx, want: 'InvalidSignature', kind: 'wrong-signature' };
  }

  badAmount() {
    const [value, want, name] = this.r.pick([
      ['0', 'AmountError', 'zero'],
      ['-1', 'SchemaValidationError', 'negative'],
      ['1.5', 'SchemaValidationError', 'fraction'],
      [null, 'AmountError', 'too-large'],
      [7, 'SchemaValidationError', 'number'],
    ]);
    const amount = value ?? this.r.big(MAX + 1n, 99999999999999999999n).toString();
    const tx = this.candidate({ mutate: (u) => { u.outputs[this.r.int(0, u.outputs.length - 1)].amount = amount; } });
    return { tx, want, kind: `bad-amount-${name}` };
  }

  tamperedMetadata() {
    const tx = this.candidate({
      post: (t) => { t.metadata = { ...(t.metadata ?? {}), tampered: randString(this.r, 8) }; },
    });
    return { tx, want: 'InvalidSignature', kind: 'tampered-metadata' };
  }

  tamperedOutput() {
    const tx = this.candidate({
      post: (t) => {
        const o = t.outputs[this.r.int(0, t.outputs.length - 1)];
        let spec;
        do { spec = this.randSpec(); } while (L.conditionJSON(spec).uri === o.condition.uri);
        const fresh = L.output(spec, o.amount);
        o.condition = fresh.condition;
        o.public_keys = fresh.public_keys;
      },
    });
    return { tx, want: 'InvalidSignature', kind: 'tampered-output' };
  }

  doubleSpend() {
    const s = this.r.pick(this.spent);
    return { tx: this.buildTransfer([s]), want: 'DoubleSpend', kind: 'double-spend' };
  }

  doubleSpendSameInput() {
    const s = this.r.pick(this.unspent);
    return { tx: this.buildTransfer([s, s]), want: 'DoubleSpend', kind: 'double-spend-same-input' };
  }

  missingInputTx() {
    const ghost = this.buildCreate(); // signed but never emitted
    return { tx: this.buildTransfer([{ tx: ghost, idx: 0 }]), want: 'InputDoesNotExist', kind: 'missing-input-tx' };
  }

  assetIdMismatch() {
    const spends = this.randSpends();
    const others = this.assets.filter((a) => a !== spends[0].asset);
    const id = others.length ? this.r.pick(others) : L.sha3Hex(randString(this.r, 8));
    const tx = this.buildTransfer(spends, { mutate: (u) => { u.asset.id = id; } });
    return { tx, want: 'AssetIdMismatch', kind: 'asset-id-mismatch' };
  }

  amountNotConserved() {
    const tx = this.buildTransfer(this.randSpends(), {
      mutate: (u) => {
        const o = u.outputs[this.r.int(0, u.outputs.length - 1)];
        const a = BigInt(o.amount);
        o.amount = (a < MAX ? a + 1n : a - 1n).toString();
      },
    });
    return { tx, want: 'AmountError', kind: 'amount-not-conserved' };
  }

  // line produces the next line, retrying the rare body that repeats an
  // earlier one (a random CREATE identical to an earlier CREATE).
  line() {
    for (;;) {
      const l = this.r.chance(0.6) ? this.valid() : this.broken();
      const id = L.txId(l.tx);
      if (this.seen.has(id)) continue;
      this.seen.add(id);
      if (l.want === 'valid') this.commit(l.tx);
      return { tx: l.tx, id, want: l.want, kind: l.kind };
    }
  }
}

function camel(s) {
  return s.replace(/-([a-z])/g, (_, c) => c.toUpperCase());
}

function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(e.message);
    process.exit(2);
  }
  const gen = new Generator(args.seed);
  const state = newState();
  const out = [];
  for (let i = 0; i < args.count; i++) {
    const l = gen.line();
    if (!L.goCompatible(l.tx)) throw new Error(`line ${i + 1}: driver bytes differ from BigchainDB's`);
    if (args.check) {
      const got = check(state, l.tx);
      if (got !== l.want) {
        throw new Error(`line ${i + 1} (${l.kind}): model says ${explain(state, l.tx)}, label is ${l.want}`);
      }
      if (got === 'valid') apply(state, l.tx);
    }
    out.push(JSON.stringify(l));
    if (out.length >= 256) { process.stdout.write(out.join('\n') + '\n'); out.length = 0; }
  }
  if (out.length) process.stdout.write(out.join('\n') + '\n');
}

main();
