// Package store is the bun implementation of crm.Store, for PostgreSQL and
// SQLite. Open picks the database by the DSN's scheme; the few places where
// the two differ (driver, schema files, error codes) are chosen there once.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"github.com/uptrace/bun/driver/sqliteshim"

	"github.com/dossiercrm/dossier/crm"
)

// DB is a crm.Store on a PostgreSQL or SQLite database. It is safe for
// concurrent use. Inside InTx a DB is bound to the transaction.
type DB struct {
	bun *bun.DB // the database, for Close, Migrate and starting transactions
	db  bun.IDB // what queries run on: the database, or the current transaction
	dialect
	shared *shared
	wal    *walKeeper // SQLite files: bounds the write-ahead log
	// batch is the group-commit batch whose call this DB runs, nil
	// outside one (groupbatch.go).
	batch *groupBatch
	// rulesTx notes this DB's transaction's writes of organisation rules
	// (rulescache.go); nil outside a transaction.
	rulesTx *rulesTx
}

// shared is what a DB and the DBs bound to its transactions have in common.
type shared struct {
	jobDriver riverdriver.Driver[*sql.Tx]
	jobs      *river.Client[*sql.Tx] // inserts jobs; works none
	groups    *groupCommit           // the queues of InGroupTx (groupcommit.go)
	writer    *sqliteWriter          // SQLite files: the connection of write transactions (sqlitewriter.go); nil otherwise
	rules     rulesCache             // organisations' rules, read by every customer write (rulescache.go)
}

// Compile-time check that DB is a complete crm.Store, with group commit.
var (
	_ crm.Store        = (*DB)(nil)
	_ crm.GroupTxStore = (*DB)(nil)
)

// IdleConns is how many connections Open keeps open between queries.
// database/sql keeps two by default: a server with more requests in flight
// would then close and reopen connections all the time, each new one
// re-reading the schema (SQLite) or starting a backend with a cold catalog
// cache (PostgreSQL), which halved the reference server's throughput.
const IdleConns = 32

// Option is an optional setting of Open.
type Option func(*options)

type options struct {
	migrate bool
	conn    connOptions
}

// WithMigrate makes Open bring the schema up to date before returning.
func WithMigrate() Option { return func(o *options) { o.migrate = true } }

// Open connects to the database named by dsn:
//
//	sqlite:dossier.db            an SQLite file (created when missing)
//	sqlite::memory:              a private in-memory SQLite database
//	postgres://user@host/db      PostgreSQL (also postgresql://)
//
// SQLite runs in WAL mode with a busy timeout, foreign keys on, and
// transactions that take the write lock when they begin, so concurrent
// read-then-write transactions wait for each other instead of failing.
// The writers of one file in this process queue for that lock in a write
// gate of the store's own, so the next in line starts when the lock comes
// free (see sqlitegate.go); reads never wait for it.
func Open(ctx context.Context, dsn string, opts ...Option) (*DB, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	var (
		bdb  *bun.DB
		d    dialect
		err  error
		gate *writeGate // SQLite: the file's write gate

		committed chan struct{} // SQLite files: the connections tell the WAL keeper of committed writes
	)
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(dsn, "sqlite:")
		if path == "" {
			return nil, errors.New("the SQLite database needs a file name, e.g. sqlite:dossier.db")
		}
		memory := path == ":memory:"
		if memory {
			path = "file::memory:"
		} else if !strings.HasPrefix(path, "file:") {
			path = "file:" + path
		}
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		// mmap_size lets reads use the operating system's page cache without
		// a system call and a copy per page: several times faster reads of a
		// large database. 2 GiB (of address space, not of memory) is the
		// most SQLite maps; pages beyond it are read as before.
		// temp_store(MEMORY) keeps the statement journal in memory: a
		// multi-row statement inside a transaction (a batch of bookings, a
		// customer's name keys) saves the pages it changes there, and past
		// 64 KiB SQLite would write them to a temporary file, a system call
		// per page (a fifth of a batch upsert's time).
		path += sep + "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)" +
			"&_pragma=mmap_size(2147418112)&_pragma=temp_store(MEMORY)&_txlock=immediate" + walPragma(o.conn)
		// Every connection passes write transactions through the file's
		// write gate (sqlitegate.go): writers queue in Go, not in SQLite's
		// busy handler.
		file := strings.TrimPrefix(path, "file:")
		if i := strings.IndexByte(file, '?'); i >= 0 {
			file = file[:i]
		}
		if memory {
			file = ""
		}
		gate = gateFor(file)
		if !memory {
			committed = make(chan struct{}, 1)
		}
		sqldb := sql.OpenDB(&sqliteConnector{drv: sqliteshim.Driver(), dsn: path, gate: gate, committed: committed})
		if memory {
			// Each connection to ":memory:" is a database of its own.
			sqldb.SetMaxOpenConns(1)
		} else {
			sqldb.SetMaxIdleConns(IdleConns)
		}
		bdb, d = bun.NewDB(sqldb, sqlitedialect.New()), sqliteDialect
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		sqldb, err := openPostgres(dsn, o.conn)
		if err != nil {
			return nil, err
		}
		bdb, d = bun.NewDB(sqldb, pgdialect.New()), postgresDialect
		bdb = bdb.WithQueryHook(batchHook{})
	default:
		return nil, fmt.Errorf("%q is not a database Dossier knows: use sqlite:PATH or postgres://USER@HOST:5432/DB", redact(dsn))
	}
	var wal *walKeeper
	if d.name == sqliteDialect.name && !strings.Contains(dsn, ":memory:") {
		wal = newWALKeeper(bdb, strings.TrimPrefix(dsn, "sqlite:"), o.conn.walLimit, gate, committed)
		bdb = bdb.WithQueryHook(wal)
	}
	s := &DB{bun: bdb, db: bdb, dialect: d, wal: wal, shared: &shared{jobDriver: newJobDriver(d.name, bdb.DB), groups: &groupCommit{}}}
	if wal != nil { // a SQLite file
		s.shared.writer = newSQLiteWriter(bdb)
	}
	if s.shared.jobs, err = newJobInserter(s.shared.jobDriver); err != nil {
		_ = bdb.Close()
		return nil, err
	}
	if err := bdb.PingContext(ctx); err != nil {
		_ = bdb.Close()
		return nil, fmt.Errorf("cannot connect to the %s database: %w", map[string]string{"postgres": "PostgreSQL", "sqlite": "SQLite"}[d.name], unavailableOr(err))
	}
	if o.migrate {
		if err := s.Migrate(ctx); err != nil {
			_ = bdb.Close()
			return nil, err
		}
	}
	if err := s.analyzeMissing(ctx); err != nil {
		_ = bdb.Close()
		return nil, err
	}
	return s, nil
}

// Dialect names the database: "postgres" or "sqlite".
func (s *DB) Dialect() string { return s.dialect.name }

// Ping checks that the database answers.
func (s *DB) Ping(ctx context.Context) error { return s.bun.PingContext(ctx) }

// Close closes the database.
func (s *DB) Close() error {
	s.wal.close()
	s.shared.writer.close()
	err := s.bun.Close()
	s.wal.closeFile()
	return err
}

// InTx implements crm.Store. Nested calls join the outer transaction.
func (s *DB) InTx(ctx context.Context, fn func(tx crm.Store) error) error {
	if _, inTx := s.db.(bun.Tx); inTx {
		return fn(s)
	}
	rt := &rulesTx{}
	defer s.endRulesTx(rt)
	return unavailableOr(s.runWriteTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		return fn(&DB{bun: s.bun, db: tx, dialect: s.dialect, shared: s.shared, wal: s.wal, rulesTx: rt})
	}))
}

// SQLDB returns the connection pool under the store, which River's driver
// (JobDriver) shares.
func (s *DB) SQLDB() *sql.DB { return s.bun.DB }

// redact hides a password in a DSN for error messages.
func redact(dsn string) string {
	if at := strings.LastIndex(dsn, "@"); at >= 0 {
		if scheme := strings.Index(dsn, "://"); scheme >= 0 && scheme < at {
			return dsn[:scheme+3] + "***" + dsn[at:]
		}
	}
	return dsn
}
