package store

import (
	"context"

	"github.com/uptrace/bun"
)

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

// JobArgsForTest returns the arguments (JSON) of the jobs of kind in
// River's table, oldest first.
func (s *DB) JobArgsForTest(ctx context.Context, kind string) ([]string, error) {
	var args []string
	col := "CAST(args AS TEXT)"
	if s.dialect.oneWriter {
		col = "json(args)" // River's SQLite driver stores JSONB
	}
	err := s.bun.NewRaw("SELECT "+col+" FROM river_job WHERE kind = ? ORDER BY id", kind).Scan(ctx, &args)
	return args, err
}
