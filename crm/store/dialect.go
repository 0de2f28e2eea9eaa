package store

import (
	"context"
	"strings"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"
)

// dialect holds what differs between the databases, chosen once in Open.
type dialect struct {
	name       string
	migrations string // folder under migrations/
	// beforeMigrate prepares what the migrations need and cannot do in a
	// transaction of their own (PostgreSQL extensions).
	beforeMigrate func(ctx context.Context, db *bun.DB) error
	// codeMigrations are migrations written in Go, for changes SQL alone
	// cannot make on this database; they sort among the SQL files by name.
	codeMigrations []migrate.Migration
	// nameContains adds to q the condition that the customer's search text
	// contains key (a search key of at least three characters). pageOrder
	// says q reads customers in number order up to a page, so a plan that
	// reads customers in that order and stops early may serve best.
	// It gets the dialect it belongs to, for the knobs below (on a DB's
	// own copy, which a test may set).
	nameContains func(d *dialect, ctx context.Context, db bun.IDB, q *bun.SelectQuery, alias, orgID, key string, pageOrder bool) (*bun.SelectQuery, error)
	// frequentMatches is how many trigram matches make a text "frequent" on
	// SQLite: from there, reading customers in number order and testing each
	// text finds a page sooner than collecting every match. Walking costs about
	// page size / density tests, collecting one step per match, so the two meet
	// near the square root of page size times customers: at a million
	// customers, texts with 2,400 to 3,300 matches took 35 to 45 ms by walking
	// and 13 ms by collecting, while collecting 10,000 cost frequent texts more
	// than walking did. PostgreSQL's planner weighs matches itself (unused).
	frequentMatches int
	// drivenJoin joins customers to the links that lead a page so that the
	// links are read first: SQLite keeps the order of a CROSS JOIN,
	// PostgreSQL's planner orders joins itself (and has no CROSS JOIN ... ON).
	drivenJoin string
	// pageSettings are statements run, in the transaction of a page query,
	// before it: PostgreSQL would start parallel workers for a query that
	// stops after a page, which costs more than the query itself.
	pageSettings []string
	// boundBothSides repeats a led page's keyset bound on the customers'
	// side of the join: PostgreSQL does not carry a range across a join and
	// would merge-join from the first customer on every page; on SQLite the
	// extra bound makes the planner sort every later match instead.
	boundBothSides bool
	// languageAsRange writes a language filter as one range of the language
	// index. PostgreSQL's planner weighs that range with its statistics (and
	// can then merge it with a tag's links); SQLite's would read a whole
	// language through the index and sort it even for a page in name order,
	// so there the filter of a page stays an OR that it tests on the rows
	// it walks. Counts write the range on both (see DB.filter).
	languageAsRange bool
	// probeFence ends the "not withdrawn" probe of a page walk, making it a
	// subquery per customer: PostgreSQL does not turn a subquery with
	// OFFSET into an anti join, which read and sorted every withdrawal of
	// the purpose for every page of an opt-out walk. SQLite probes per
	// customer anyway. (bun leaves out an OFFSET of 0, so it is written here.)
	probeFence string
	// batchWrites sends the statements of a customer insert to the server
	// in one round trip (PostgreSQL); SQLite runs in the process, where a
	// statement costs no round trip.
	batchWrites bool
	// oneWriter puts every group of InGroupTx in one queue (SQLite: the
	// file has one writer at a time, so transactions of different groups
	// never run side by side and may as well share a commit). PostgreSQL
	// runs the groups (organisations) side by side.
	oneWriter bool
	// matchLock serialises transactions that match the same keys of
	// incoming records (crm.MatchStore.MatchLock): PostgreSQL takes an
	// advisory lock per key until the transaction ends; nil on SQLite,
	// whose transactions take the one write lock when they begin.
	matchLock func(ctx context.Context, db bun.IDB, names []string) error
	// monthOfTime and monthOfDate give the SQL of the month ("2026-11",
	// UTC) of a timestamp or a date column, for reports.
	monthOfTime func(col string) string
	monthOfDate func(col string) string
	// unindexed writes a column of a condition so that the planner tests
	// the condition on the rows it reads rather than reading the rows
	// through an index of that column (SQLite: a unary +). Reports use it
	// where reading every row of a covering index in one pass costs less
	// than fetching half of the rows one by one; PostgreSQL's planner
	// weighs that itself (and has no unary + for text or times).
	unindexed func(col string) string
	// reportByNumber counts a filtered report's links and consents by
	// testing each against the set of selected customer numbers (SQLite,
	// whose only join is a nested loop: see DB.restrictByNumber);
	// PostgreSQL joins the selected customers by hash, which cost less
	// there (a 5% segment's consents: 1.8 s against 2.6 s, loaded).
	reportByNumber bool
}

var (
	postgresDialect = dialect{
		name:            "postgres",
		migrations:      "migrations/postgres",
		beforeMigrate:   ensurePgTrgm,
		drivenJoin:      "JOIN",
		pageSettings:    []string{"SET LOCAL max_parallel_workers_per_gather = 0"},
		boundBothSides:  true,
		languageAsRange: true,
		probeFence:      " OFFSET 0",
		batchWrites:     true,
		matchLock:       pgMatchLock,
		monthOfTime:     func(col string) string { return "to_char(" + col + " AT TIME ZONE 'UTC', 'YYYY-MM')" },
		monthOfDate:     func(col string) string { return "to_char(" + col + ", 'YYYY-MM')" },
		unindexed:       func(col string) string { return col },
		nameContains: func(_ *dialect, _ context.Context, db bun.IDB, q *bun.SelectQuery, alias, orgID, key string, pageOrder bool) (*bun.SelectQuery, error) {
			// LIKE with a pattern of three or more characters can use the
			// trigram index; for text in many names the planner rather reads
			// the search rows in number order (customer_search_number_idx).
			matches := db.NewSelect().Table("customer_search").Column("number").
				Where("org_id = ?", orgID).Where("text LIKE ? ESCAPE '\\'", "%"+escapeLike(key)+"%")
			if !pageOrder {
				// In name or creation order the planner would walk that
				// order's index testing each customer, all of them when the
				// text is rare: OFFSET 0 makes it collect the matches first.
				matches = matches.Offset(0)
			}
			return q.Where(alias+".number IN (?)", matches), nil
		},
	}
	sqliteDialect = dialect{
		name:            "sqlite",
		migrations:      "migrations/sqlite",
		drivenJoin:      "CROSS JOIN",
		frequentMatches: 5000,
		oneWriter:       true,
		// Timestamps are text in UTC ("2026-11-22 10:30:00.123456+00:00"),
		// dates text ("2026-11-22"): the month is their first seven characters.
		monthOfTime:    func(col string) string { return "substr(" + col + ", 1, 7)" },
		monthOfDate:    func(col string) string { return "substr(" + col + ", 1, 7)" },
		unindexed:      func(col string) string { return "+" + col },
		reportByNumber: true,
		nameContains: func(d *dialect, ctx context.Context, db bun.IDB, q *bun.SelectQuery, alias, orgID, key string, pageOrder bool) (*bun.SelectQuery, error) {
			// A quoted phrase in an FTS5 trigram table matches any text that
			// contains it. SQLite's planner cannot tell a rare text from a
			// frequent one, so ask the index for up to frequentMatches
			// matches first: fewer are the answer itself; that many mean a
			// frequent text, for which a page in number order is found
			// sooner by testing customers in that order.
			frequentMatches := d.frequentMatches
			phrase := `"` + strings.ReplaceAll(key, `"`, `""`) + `"`
			var found []int64
			if err := db.NewRaw("SELECT rowid FROM customer_search_fts WHERE customer_search_fts MATCH ? LIMIT ?",
				phrase, frequentMatches).Scan(ctx, &found); err != nil {
				return nil, err
			}
			search := db.NewSelect().Table("customer_search").Column("number").Where("org_id = ?", orgID)
			switch {
			case len(found) == 0:
				return q.Where("1 = 0"), nil
			case len(found) < frequentMatches:
				// The index is asked again rather than sent the list of
				// matches: SQLite parsed a list of a few thousand numbers
				// in a fifth of the search's time, and reading one
				// trigram's matches again costs less.
				return q.Where(alias+".number IN (?)", search.
					Where("search_id IN (SELECT rowid FROM customer_search_fts WHERE customer_search_fts MATCH ?)", phrase)), nil
			case pageOrder:
				return q.Where("EXISTS (SELECT 1 FROM customer_search AS s WHERE s.org_id = ? AND s.number = "+alias+".number"+
					" AND s.text LIKE ? ESCAPE '\\')", orgID, "%"+escapeLike(key)+"%"), nil
			}
			return q.Where(alias+".number IN (?)", search.
				Where("search_id IN (SELECT rowid FROM customer_search_fts WHERE customer_search_fts MATCH ?)", phrase)), nil
		},
		codeMigrations: []migrate.Migration{sqliteOrgKeys},
	}
)

// ensurePgTrgm installs pg_trgm (a trusted extension: the database owner may)
// unless it is there, in the public schema. A database-wide advisory lock
// keeps concurrent starts from racing: CREATE EXTENSION IF NOT EXISTS is
// not safe to run twice at once.
func ensurePgTrgm(ctx context.Context, db *bun.DB) error {
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext('dossier.extensions'))"); err != nil {
			return err
		}
		installed, err := tx.NewSelect().Table("pg_extension").Where("extname = 'pg_trgm'").Exists(ctx)
		if err != nil || installed {
			return err
		}
		_, err = tx.ExecContext(ctx, "CREATE EXTENSION pg_trgm SCHEMA public")
		return err
	})
}

// escapeLike escapes the LIKE wildcards of s (with backslash as escape).
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// hasPhones is the condition that the phones column col (a JSON list)
// lists a number.
func (d *dialect) hasPhones(col string) string {
	if d.name == postgresDialect.name {
		// jsonb_array_length fails on a JSON null; CASE tests the type first.
		return "CASE WHEN jsonb_typeof(" + col + ") = 'array' THEN jsonb_array_length(" + col + ") > 0 ELSE false END"
	}
	return "coalesce(json_array_length(" + col + "), 0) > 0"
}

// phoneNumbersOf is a SELECT of the numbers the phones column col (of the
// table from) lists, to be followed by its WHERE.
func (d *dialect) phoneNumbersOf(from, col string) string {
	if d.name == postgresDialect.name {
		return "SELECT j ->> 'number' FROM " + from + ", jsonb_array_elements(CASE WHEN jsonb_typeof(" + col +
			") = 'array' THEN " + col + " ELSE '[]'::jsonb END) AS j"
	}
	return "SELECT json_extract(j.value, '$.number') FROM " + from + ", json_each(" + col + ") AS j"
}
