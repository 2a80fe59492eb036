package ledger

import (
	"encoding/binary"
	"math/bits"
	"sync"
	"sync/atomic"
)

// The committed-id filter. Most HasTx calls ask about a transaction that
// is new (a submission, a gossiped one, one of a proposal), and Badger
// answers "absent" only after searching its memtables' skiplists: about
// 8% of a caretaker's CPU on a saturated testnet. A Bloom filter of every
// committed id answers most of those at once; "maybe" still goes to
// Badger, so answers stay exact.
//
// Ids are SHA3-256 digests, uniform already: the filter's bit positions
// come from the id's own bytes (double hashing), with no hash function of
// ours. Someone grinding ids to collide in the filter only sends their
// lookups to Badger.

const (
	// txFilterHashes is the bits set per id: with txFilterBitsPerID bits
	// per id a stage holding its capacity answers "maybe" for about 0.8%
	// of absent ids.
	txFilterHashes    = 7
	txFilterBitsPerID = 10
	// txFilterFirstIDs is the first stage's capacity; each next stage
	// holds twice the one before, so the false "maybe"s of all stages
	// together stay under about 2% however the chain grows.
	txFilterFirstIDs = 1 << 20
)

// txFilter is a Bloom filter of committed transaction ids, grown in
// stages. add and mayHold are safe for concurrent use.
type txFilter struct {
	mu     sync.Mutex                       // serialises add
	stages atomic.Pointer[[]*txFilterStage] // copy on write; the last one is filled
	ready  atomic.Bool                      // every committed id was added
}

// txFilterStage is one Bloom filter of at most cap ids.
type txFilterStage struct {
	words []atomic.Uint64
	mask  uint64 // bits - 1; bits is a power of two
	cap   int
	n     int // ids added; under txFilter.mu
}

func newTxFilterStage(capacity int) *txFilterStage {
	nbits := uint64(1) << bits.Len64(uint64(capacity*txFilterBitsPerID-1))
	return &txFilterStage{words: make([]atomic.Uint64, nbits/64), mask: nbits - 1, cap: capacity}
}

// newTxFilter returns an empty filter, not ready, whose first stage holds
// first ids.
func newTxFilter(first int) *txFilter {
	f := &txFilter{}
	f.stages.Store(&[]*txFilterStage{newTxFilterStage(first)})
	return f
}

// idHashes returns the two hashes of id whose combinations h1 + i*h2
// (i < txFilterHashes) are its bit positions in a stage.
func idHashes(id *idBytes) (h1, h2 uint64) {
	return binary.LittleEndian.Uint64(id[0:8]), binary.LittleEndian.Uint64(id[8:16]) | 1
}

// add records id as committed. It must be called before the id's write
// can be read: a "no" of mayHold is then never wrong.
func (f *txFilter) add(id idBytes) {
	f.mu.Lock()
	defer f.mu.Unlock()
	stages := *f.stages.Load()
	last := stages[len(stages)-1]
	if last.n >= last.cap {
		last = newTxFilterStage(2 * last.cap)
		grown := append(stages[:len(stages):len(stages)], last)
		f.stages.Store(&grown)
	}
	last.n++
	h1, h2 := idHashes(&id)
	for i := range uint64(txFilterHashes) {
		p := (h1 + i*h2) & last.mask
		last.words[p/64].Or(1 << (p % 64))
	}
}

// mayHold reports whether id may have been added: false means it was not.
func (f *txFilter) mayHold(id idBytes) bool {
	h1, h2 := idHashes(&id)
	for _, s := range *f.stages.Load() {
		if s.holds(h1, h2) {
			return true
		}
	}
	return false
}

// holds reports whether every bit of the id hashed to h1, h2 is set.
func (s *txFilterStage) holds(h1, h2 uint64) bool {
	for i := range uint64(txFilterHashes) {
		p := (h1 + i*h2) & s.mask
		if s.words[p/64].Load()&(1<<(p%64)) == 0 {
			return false
		}
	}
	return true
}

// committedAbsent reports whether the filter, once ready, shows id was
// never committed.
func (f *txFilter) committedAbsent(id idBytes) bool {
	return f.ready.Load() && !f.mayHold(id)
}
