package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

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

// AnalyzeCustomers refreshes the planner's statistics of the tables that
// customers are looked up in (by id, e-mail address or phone number):
// the key columns of customers, customer_emails and customer_phones
// (a fifth of the time of an analysis of all of customers' columns; the
// full one follows at the import's end). An import calls it as
// the organisation it fills grows (crm's refreshAfter): statistics taken
// while the organisation had no customers make PostgreSQL plan the
// lookups of its customers (an import's match) as if it had none. (The
// foreign key checks of the store's writes keep plans made to look the
// key up whatever the statistics: keyedWriteSettings.) On SQLite it does
// nothing: a key is looked up by its index there whatever the statistics.
func (s *DB) AnalyzeCustomers(ctx context.Context) error {
	if s.dialect.name != postgresDialect.name {
		return nil
	}
	for _, t := range []string{"customers (org_id, id, number, email_key, login_email_key)",
		"customer_emails (org_id, email_key)", "customer_phones (org_id, number)"} {
		if _, err := s.bun.ExecContext(ctx, "ANALYZE "+t); err != nil {
			return fmt.Errorf("analysing table %s: %w", t, interpretError(err))
		}
	}
	return nil
}

// AnalyzeChanged refreshes the planner's statistics of the tables that
// changed much since their last analysis, and returns their names. It is
// the periodic counterpart of Analyze (crm/background runs it): Open and
// Migrate cannot know about a table that fills up later, and without
// autovacuum (which may be off, as on the machine that found it) such a
// table keeps the statistics of its empty self, and the planner's choice
// is luck. When nothing changed it costs one catalogue query (PostgreSQL)
// or a look at each table's size (SQLite).
//
// On PostgreSQL a table is analysed when the rows inserted, updated or
// deleted since its last analysis (pg_stat_user_tables.n_mod_since_analyze)
// exceed autovacuum's limit for it: autovacuum_analyze_threshold plus
// autovacuum_analyze_scale_factor times its rows (50 and 10% unless the
// server is configured otherwise), autovacuum's own rule. The counts reach
// the statistics views after a delay (a backend reports them when it goes
// idle, within seconds). On SQLite it runs PRAGMA optimize over every table
// (SQLite's rule: a table never analysed, or whose size changed many times
// over), reading a bounded sample.
func (s *DB) AnalyzeChanged(ctx context.Context) ([]string, error) {
	if s.dialect.name == sqliteDialect.name {
		return s.optimizeSQLite(ctx)
	}
	var tables []string
	if err := s.bun.NewSelect().TableExpr("pg_stat_user_tables AS st").
		Join("JOIN pg_class AS c ON c.oid = st.relid").ColumnExpr("st.relname").
		Where("st.schemaname = current_schema()").
		Where("st.n_mod_since_analyze > current_setting('autovacuum_analyze_threshold')::float8 + "+
			"current_setting('autovacuum_analyze_scale_factor')::float8 * greatest(c.reltuples, 0)").
		OrderExpr("st.relname").
		Scan(ctx, &tables); err != nil {
		return nil, fmt.Errorf("analysing the changed tables: %w", interpretError(err))
	}
	for i, t := range tables {
		if _, err := s.bun.ExecContext(ctx, "ANALYZE ?", bun.Ident(t)); err != nil {
			return tables[:i], fmt.Errorf("analysing table %s: %w", t, interpretError(err))
		}
	}
	return tables, nil
}

// optimizeSQLite runs PRAGMA optimize over every table, first asking it
// which tables it would analyse (0x01: say, do not do; 0x02: analyse;
// 0x10000: every table), so that their names can be
// returned, then analysing those.
func (s *DB) optimizeSQLite(ctx context.Context) ([]string, error) {
	conn, err := s.bun.Conn(ctx) // the limit holds for one connection
	if err != nil {
		return nil, fmt.Errorf("analysing the changed tables: %w", interpretError(err))
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA analysis_limit = 1000"); err != nil {
		return nil, fmt.Errorf("analysing the changed tables: %w", interpretError(err))
	}
	// A connection reads the statistics when it reads the schema, and does
	// not see those that another connection made since: it would take
	// every table analysed since for never analysed. This reloads them.
	if _, err := conn.ExecContext(ctx, "ANALYZE sqlite_schema"); err != nil {
		return nil, fmt.Errorf("analysing the changed tables: %w", interpretError(err))
	}
	var stmts []string
	if err := conn.NewRaw("PRAGMA optimize = 0x10003").Scan(ctx, &stmts); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("analysing the changed tables: %w", interpretError(err))
	}
	var tables []string
	for _, stmt := range stmts {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return tables, fmt.Errorf("analysing the changed tables (%s): %w", stmt, interpretError(err))
		}
		tables = append(tables, analyzedTable(stmt))
	}
	return tables, nil
}

// analyzedTable is the table an ANALYZE statement of PRAGMA optimize names
// (`ANALYZE "main"."customers"`).
func analyzedTable(stmt string) string {
	name := stmt[strings.LastIndexAny(stmt, ". ")+1:]
	return strings.Trim(name, `"`)
}
