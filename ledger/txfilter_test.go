package ledger

import (
	"math/rand/v2"
	"sync"
	"testing"
)

func randomID(rng *rand.Rand) idBytes {
	var id idBytes
	for i := range id {
		id[i] = byte(rng.Uint32())
	}
	return id
}

// TestTxFilter: every id added is held, through the stages' growth; few
// others are.
func TestTxFilter(t *testing.T) {
	const first, n, absent = 1000, 7000, 20000 // three stages: 1,000 + 2,000 + 4,000
	rng := rand.New(rand.NewPCG(7, 8))
	f := newTxFilter(first)
	ids := make([]idBytes, n)
	for i := range ids {
		ids[i] = randomID(rng)
		f.add(ids[i])
	}
	if got := len(*f.stages.Load()); got != 3 {
		t.Fatalf("%d stages after %d ids from a first stage of %d, want 3", got, n, first)
	}
	for i, id := range ids {
		if !f.mayHold(id) {
			t.Fatalf("id %d added but not held", i)
		}
	}
	maybe := 0
	for range absent {
		if f.mayHold(randomID(rng)) {
			maybe++
		}
	}
	if rate := float64(maybe) / absent; rate > 0.03 {
		t.Fatalf("%.2f%% of absent ids held, want under 3%%", 100*rate)
	}
	if f.committedAbsent(randomID(rng)) {
		t.Fatal("a filter not ready called an id absent")
	}
}

// TestTxFilterConcurrent adds from two goroutines while others look up.
func TestTxFilterConcurrent(t *testing.T) {
	f := newTxFilter(100)
	var wg sync.WaitGroup
	added := make([][]idBytes, 2)
	for w := range added {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for range 2000 {
				id := randomID(rng)
				f.add(id)
				if !f.mayHold(id) {
					t.Errorf("id not held right after add")
					return
				}
				added[w] = append(added[w], id)
			}
		})
	}
	wg.Go(func() {
		rng := rand.New(rand.NewPCG(9, 9))
		for range 4000 {
			f.mayHold(randomID(rng))
		}
	})
	wg.Wait()
	for _, ids := range added {
		for _, id := range ids {
			if !f.mayHold(id) {
				t.Fatal("id added concurrently not held")
			}
		}
	}
}

func BenchmarkTxFilterMayHold(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	f := newTxFilter(txFilterFirstIDs)
	for range 100_000 {
		f.add(randomID(rng))
	}
	id := randomID(rng)
	for b.Loop() {
		id[0]++
		f.mayHold(id)
	}
}
