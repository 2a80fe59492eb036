package ledger

// SetSearchCaps lowers a store's search bounds (MaxSearchCandidates,
// MaxSearchLoads) for the tests of package ledger_test.
func SetSearchCaps(s *Store, candidates, loads int) {
	s.impl.searchCap, s.impl.loadCap = candidates, loads
}

// WaitTxFilter waits until the store's transaction id filter was filled
// from disk (or given up) and reports whether it is in use.
func WaitTxFilter(s *Store) bool {
	<-s.impl.filled
	return s.impl.filter.ready.Load()
}

// TxFilterMayHold reports whether the store's id filter may hold id.
func TxFilterMayHold(s *Store, id string) bool {
	tid, ok := parseHexID(id)
	return ok && s.impl.filter.mayHold(tid)
}
