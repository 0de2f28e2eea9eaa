package store

import "context"

// QueryRowForTest scans the one row of query into dest.
func (s *DB) QueryRowForTest(ctx context.Context, query string, dest ...any) error {
	return s.bun.QueryRowContext(ctx, query).Scan(dest...)
}

// ExecForTest runs query, its error translated as the store's are.
func (s *DB) ExecForTest(ctx context.Context, query string) error {
	_, err := s.db.ExecContext(ctx, query)
	return interpretError(err)
}

// QueryRowArgsForTest scans the one row of query with args into dest.
func (s *DB) QueryRowArgsForTest(ctx context.Context, query string, args []any, dest ...any) error {
	return s.bun.QueryRowContext(ctx, query, args...).Scan(dest...)
}
