package store

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// Analyze refreshes the query planner's statistics of every table of the
// store. Without them the planner guesses the sizes of tables, and a
// guess far off picks plans such as a nested loop over every tag link (a
// tag-filtered count took 1.7 s at 2,322 customers before ANALYZE, 15 ms
// after). PostgreSQL's autovacuum keeps them current where it runs; it may
// be off, and it lags behind bulk changes. Migrate calls Analyze after it
// applied migrations; call it after an import or a large sync too.
//
// On PostgreSQL it analyses the tables of the schema the store uses; on
// SQLite it runs PRAGMA optimize, which analyses the tables whose size
// changed much since their last analysis, reading a bounded sample.
func (s *DB) Analyze(ctx context.Context) error {
	if s.dialect.name == sqliteDialect.name {
		conn, err := s.bun.Conn(ctx) // the limit holds for one connection
		if err != nil {
			return fmt.Errorf("analysing the tables: %w", interpretError(err))
		}
		defer conn.Close()
		for _, stmt := range []string{"PRAGMA analysis_limit = 1000", "PRAGMA optimize = 0x10002"} {
			if _, err := conn.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("analysing the tables: %w", interpretError(err))
			}
		}
		return nil
	}
	var tables []string
	if err := s.bun.NewSelect().TableExpr("pg_tables").Column("tablename").
		Where("schemaname = current_schema()").Scan(ctx, &tables); err != nil {
		return fmt.Errorf("analysing the tables: %w", interpretError(err))
	}
	for _, t := range tables {
		if _, err := s.bun.ExecContext(ctx, "ANALYZE ?", bun.Ident(t)); err != nil {
			return fmt.Errorf("analysing table %s: %w", t, interpretError(err))
		}
	}
	return nil
}

// analyzeIfData runs Analyze unless the store holds no customers yet (a
// new installation, a test): there is nothing to measure then, and the
// statistics of empty tables would only mislead the planner later.
func (s *DB) analyzeIfData(ctx context.Context) error {
	var any bool
	if err := s.bun.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM customers)").Scan(&any); err != nil {
		return fmt.Errorf("analysing the tables: %w", interpretError(err))
	}
	if !any {
		return nil
	}
	return s.Analyze(ctx)
}

// analyzeMissing analyses the PostgreSQL tables whose statistics are
// missing or far off: tables with rows never analysed (pg_class.reltuples
// is -1 until the first ANALYZE or VACUUM), and tables that grew to more
// than twice the size their statistics know (an analysis of an empty
// table says 0 rows for good). Where autovacuum is off, or has not come
// round yet, the planner would otherwise take such tables for tiny and walk
// every tag link once per customer. Open runs it: a catalogue query, and
// an ANALYZE of the tables it finds.
func (s *DB) analyzeMissing(ctx context.Context) error {
	if s.dialect.name != postgresDialect.name {
		return nil
	}
	var tables []string
	if err := s.bun.NewSelect().TableExpr("pg_class").Column("relname").
		Where("relnamespace = current_schema()::regnamespace").Where("relkind = 'r'").
		Where("pg_relation_size(oid) > 0").
		Where("(reltuples < 0 OR pg_relation_size(oid) / current_setting('block_size')::int > 2 * relpages + 8)").
		Scan(ctx, &tables); err != nil {
		return fmt.Errorf("analysing the tables: %w", interpretError(err))
	}
	for _, t := range tables {
		if _, err := s.bun.ExecContext(ctx, "ANALYZE ?", bun.Ident(t)); err != nil {
			return fmt.Errorf("analysing table %s: %w", t, interpretError(err))
		}
	}
	return nil
}
