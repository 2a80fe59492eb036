package ledger

import "sync"

// MemState is a State held in memory: the committed transactions' outputs and
// which are spent. Tests, tools and the differential test use it; the node
// uses the Badger store. It is safe for concurrent use.
type MemState struct {
	mu      sync.RWMutex // guards txs and spent
	txs     map[string][]StoredOutput
	spentBy map[OutputRef]string
}

// NewMemState returns an empty state.
func NewMemState() *MemState {
	return &MemState{txs: make(map[string][]StoredOutput), spentBy: make(map[OutputRef]string)}
}

// HasTx implements State.
func (s *MemState) HasTx(id string) (bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.txs[id]
	return ok, nil
}

// Output implements State.
func (s *MemState) Output(ref OutputRef) (StoredOutput, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	outs := s.txs[ref.TxID]
	if ref.Index >= uint64(len(outs)) {
		return StoredOutput{}, false, nil
	}
	out := outs[ref.Index]
	_, out.Spent = s.spentBy[ref]
	return out, true, nil
}

// Apply executes a checked transaction: its inputs become spent and its
// outputs unspent. The caller must have checked c against this state (or a
// Batch over it) and apply in the order checked.
func (s *MemState) Apply(c *CheckedTx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx := c.tx
	for _, in := range tx.Inputs {
		if in.Fulfills != nil {
			s.spentBy[*in.Fulfills] = tx.ID
		}
	}
	s.txs[tx.ID] = storedOutputs(tx)
}

// Batch checks the transactions of one block against a state and against the
// transactions accepted earlier in the same batch, so that an output spent
// twice inside one block, or a CREATE repeated, is caught. Calls must be
// serialised.
type Batch struct {
	base    State
	checker Checker
	txs     map[string][]StoredOutput
	spent   map[OutputRef]bool
	checked []*CheckedTx
}

// NewBatch returns an empty batch over base, checking with checker.
func NewBatch(base State, checker Checker) *Batch {
	return &Batch{base: base, checker: checker, txs: make(map[string][]StoredOutput), spent: make(map[OutputRef]bool)}
}

// HasTx implements State over the base and the batch.
func (b *Batch) HasTx(id string) (bool, error) {
	if _, ok := b.txs[id]; ok {
		return true, nil
	}
	return b.base.HasTx(id)
}

// Output implements State over the base and the batch.
func (b *Batch) Output(ref OutputRef) (StoredOutput, bool, error) {
	if outs, ok := b.txs[ref.TxID]; ok {
		if ref.Index >= uint64(len(outs)) {
			return StoredOutput{}, false, nil
		}
		out := outs[ref.Index]
		out.Spent = b.spent[ref]
		return out, true, nil
	}
	out, found, err := b.base.Output(ref)
	if err != nil || !found {
		return out, found, err
	}
	out.Spent = out.Spent || b.spent[ref]
	return out, true, nil
}

// Add checks v against the base and the batch and, if valid, adds it.
func (b *Batch) Add(v *VerifiedTx) (*CheckedTx, error) {
	c, err := b.checker.Check(b, v)
	if err != nil {
		return nil, err
	}
	tx := c.tx
	for _, in := range tx.Inputs {
		if in.Fulfills != nil {
			b.spent[*in.Fulfills] = true
		}
	}
	b.txs[tx.ID] = storedOutputs(tx)
	b.checked = append(b.checked, c)
	return c, nil
}

// Checked returns the transactions accepted so far, in order. The caller must
// not modify the slice.
func (b *Batch) Checked() []*CheckedTx { return b.checked }

// Len returns the number of transactions accepted so far.
func (b *Batch) Len() int { return len(b.checked) }
