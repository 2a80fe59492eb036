package ledger

// SetSearchCaps lowers a store's search bounds (MaxSearchCandidates,
// MaxSearchLoads) for the tests of package ledger_test.
func SetSearchCaps(s *Store, candidates, loads int) {
	s.impl.searchCap, s.impl.loadCap = candidates, loads
}
