package store

import "github.com/uptrace/bun"

// GroupWaitingForTest is how many InGroupTx calls of group wait in its
// queue, not yet taken into a batch.
func (s *DB) GroupWaitingForTest(group string) int {
	g := s.shared.groups
	g.mu.Lock()
	defer g.mu.Unlock()
	if q := g.groups[s.groupKey(group)]; q != nil {
		return len(q.waiting)
	}
	return 0
}

// TxForTest identifies the transaction a DB is bound to (nil outside one).
func (s *DB) TxForTest() any {
	if tx, ok := s.db.(bun.Tx); ok {
		return tx.Tx
	}
	return nil
}
