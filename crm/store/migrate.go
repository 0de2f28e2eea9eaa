package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/uptrace/bun/migrate"
)

// The schema, one folder of SQL files per database. Files are embedded so
// that a built binary migrates without its source tree.
//
//go:embed migrations
var migrationFiles embed.FS

// Migrate brings the schema up to date, ours and then River's (the tables
// of background jobs, see JobEnqueue). It is safe to run on every start;
// on PostgreSQL an advisory lock keeps concurrent starts from migrating twice.
func (s *DB) Migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrationFiles, s.dialect.migrations)
	if err != nil {
		return fmt.Errorf("reading the schema migrations: %w", err)
	}
	migrations := migrate.NewMigrations()
	if err := migrations.Discover(sub); err != nil {
		return fmt.Errorf("reading the schema migrations: %w", err)
	}
	for _, m := range s.goMigrations() {
		migrations.Add(m)
	}
	for _, code := range s.dialect.codeMigrations {
		migrations.Add(code)
	}
	// By default bun marks a migration applied before running it; a failed
	// migration would then never be retried.
	m := migrate.NewMigrator(s.bun, migrations, migrate.WithMarkAppliedOnSuccess(true))

	if s.dialect.name == postgresDialect.name {
		conn, err := s.bun.Conn(ctx)
		if err != nil {
			return fmt.Errorf("migrating the schema: %w", err)
		}
		defer conn.Close()
		// One lock per schema, so that separate schemas (tests) do not wait for each other.
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(hashtext('dossier.migrate.' || current_schema()))"); err != nil {
			return fmt.Errorf("migrating the schema: waiting for other servers: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(hashtext('dossier.migrate.' || current_schema()))")
	}
	if s.dialect.beforeMigrate != nil {
		if err := s.dialect.beforeMigrate(ctx, s.bun); err != nil {
			return fmt.Errorf("migrating the schema: %w", err)
		}
	}
	if err := m.Init(ctx); err != nil {
		return fmt.Errorf("migrating the schema: %w", err)
	}
	group, err := m.Migrate(ctx)
	if err != nil {
		return fmt.Errorf("migrating the schema: %w", err)
	}
	if err := s.migrateJobs(ctx); err != nil {
		return err
	}
	if !group.IsZero() {
		return s.analyzeIfData(ctx) // a changed schema, and perhaps rewritten tables
	}
	return nil
}
