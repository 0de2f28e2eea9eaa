package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
)

// Benchmarks of "my reminders" (issue 19) at a million customers with a
// task each, on SQLite and (with DOSSIER_TEST_POSTGRES) PostgreSQL:
//
//	DOSSIER_BENCH_MILLION=1 go test ./crm/store -run '^$' -bench Reminders -benchtime 300x -timeout 1h
//
// The world is seeded by SQL into databases of its own (SQLite
// dossier-bench-reminders-N.db in the temp directory, PostgreSQL schema
// bench_reminders_N), kept for later runs: N customers, 200 staff users,
// one task per customer plus one internal task per ten customers, spread
// over the staff users (task i is owner i mod 200's), each user's due from
// a year ago to two months ahead; four in five tasks due before today are
// done. Each staff user then has about 5,500 tasks, some 950 of them
// overdue and open (the overdue list is cut at crm.MaxReminders), and about
// 13 due on each of today, tomorrow and the day after.
// DOSSIER_BENCH_REMINDERS_SCHEMA names the PostgreSQL schema instead.

const remindersBenchOrg = "reminders"

// remindersBenchToday is the benchmark's frozen clock.
var remindersBenchToday = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

const remindersBenchStaff = 200

func BenchmarkReminders(b *testing.B) {
	n := filterBenchCount(b)
	ctx := context.Background()
	name := "bench_reminders_" + strconv.Itoa(n)
	if s := os.Getenv("DOSSIER_BENCH_REMINDERS_SCHEMA"); s != "" {
		name = s // a schema of one's own beside other runs'
	}
	dsns := map[string]string{"sqlite": "sqlite:" + filepath.Join(os.TempDir(), "dossier-bench-reminders-"+strconv.Itoa(n)+".db")}
	if dsn := os.Getenv("DOSSIER_TEST_POSTGRES"); dsn != "" {
		dsns["postgres"] = benchSchema(ctx, b, dsn, name)
	}
	for _, db := range []string{"sqlite", "postgres"} {
		dsn, ok := dsns[db]
		if !ok {
			continue
		}
		b.Run(db, func(b *testing.B) {
			st, err := Open(ctx, dsn, WithMigrate())
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			if err := seedReminders(ctx, b, st, n); err != nil {
				b.Fatalf("seed: %v", err)
			}
			runReminderBenchmarks(b, st)
		})
	}
}

// seedReminders fills st unless it holds the organisation already.
func seedReminders(ctx context.Context, b *testing.B, st *DB, n int) error {
	c, err := crm.New(st, crm.Config{Clock: func() time.Time { return remindersBenchToday }})
	if err != nil {
		return err
	}
	if org, err := c.Organisations.Get(ctx, remindersBenchOrg); err == nil {
		if org.Name != "Reminders seeded" {
			return fmt.Errorf("an earlier seeding did not finish: remove the database (or schema) and run again")
		}
		return nil
	}
	start := time.Now()
	if _, err := c.Organisations.Create(ctx, crm.NewOrganisation{ID: remindersBenchOrg, Name: "Reminders", DefaultLanguage: "pl"}); err != nil {
		return err
	}
	pg := st.dialect.name == postgresDialect.name
	ts, yes := "'2026-11-27 12:00:00+00:00'", "1"
	// seq is the numbers lo to hi; statements are cut into chunks, so
	// that no single one runs for long.
	seq := func(lo, hi int) string {
		return fmt.Sprintf("(WITH RECURSIVE s(i) AS (SELECT %d UNION ALL SELECT i + 1 FROM s WHERE i < %d) SELECT i FROM s) AS g", lo, hi)
	}
	uuid := func(prefix, col string) string {
		return fmt.Sprintf("printf('%s-0000-7000-8000-%%012x', %s)", prefix, col)
	}
	due := func(col string) string { return fmt.Sprintf("date('2026-11-27', ((%s %% 425) - 365) || ' days')", col) }
	if pg {
		ts, yes = "'2026-11-27 12:00:00+00'", "true"
		seq = func(lo, hi int) string { return fmt.Sprintf("generate_series(%d, %d) AS g(i)", lo, hi) }
		uuid = func(prefix, col string) string {
			return fmt.Sprintf("('%s-0000-7000-8000-' || lpad(to_hex(%s), 12, '0'))::uuid", prefix, col)
		}
		due = func(col string) string {
			return fmt.Sprintf("to_char(date '2026-11-27' + ((%s %% 425) - 365), 'YYYY-MM-DD')", col)
		}
	}
	org := "'" + remindersBenchOrg + "'"
	chunked := func(total int, stmt func(lo, hi int) string) error {
		const chunk = 10_000
		for lo := 1; lo <= total; lo += chunk {
			q := stmt(lo, min(total, lo+chunk-1))
			if _, err := st.bun.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("%s: %w", q[:60], err)
			}
		}
		return nil
	}
	steps := []struct {
		total int
		stmt  func(lo, hi int) string
	}{
		{remindersBenchStaff, func(lo, hi int) string {
			return fmt.Sprintf(`INSERT INTO staff_users (org_id, id, name, language, role, active, created_at, updated_at)
				SELECT %s, 'owner-' || g.i, 'Owner ' || g.i, 'pl', 'staff', %s, %s, %s FROM %s`, org, yes, ts, ts, seq(lo, hi))
		}},
		{n, func(lo, hi int) string {
			return fmt.Sprintf(`INSERT INTO customers (id, org_id, number, status, language, created_at, updated_at, last_activity_at, version)
				SELECT %s, %s, g.i, 'customer', 'pl', %s, %s, %s, 1 FROM %s`, uuid("c0000000", "g.i"), org, ts, ts, ts, seq(lo, hi))
		}},
		// One task per customer, and one internal task per ten customers.
		{n, func(lo, hi int) string {
			return fmt.Sprintf(`INSERT INTO tasks (org_id, id, title, due_on, owner_id, creator_id, status, customer_id, created_at, updated_at)
				SELECT %s, %s, 'Call back', %s, 'owner-' || (g.i %% %d + 1), 'owner-1',
					CASE WHEN %s < '2026-11-27' AND g.i %% 5 <> 0 THEN 'done' ELSE 'open' END, %s, %s, %s FROM %s`,
				org, uuid("a0000000", "g.i"), due("g.i / 200"), remindersBenchStaff, due("g.i / 200"), uuid("c0000000", "g.i"), ts, ts, seq(lo, hi))
		}},
		{n / 10, func(lo, hi int) string {
			return fmt.Sprintf(`INSERT INTO tasks (org_id, id, title, due_on, owner_id, creator_id, status, created_at, updated_at)
				SELECT %s, %s, 'Order brochures', %s, 'owner-' || (g.i %% %d + 1), 'owner-1',
					CASE WHEN %s < '2026-11-27' AND g.i %% 5 <> 0 THEN 'done' ELSE 'open' END, %s, %s FROM %s`,
				org, uuid("b0000000", "g.i"), due("g.i / 200"), remindersBenchStaff, due("g.i / 200"), ts, ts, seq(lo, hi))
		}},
	}
	for _, step := range steps {
		if err := chunked(step.total, step.stmt); err != nil {
			return err
		}
	}
	if _, err := st.bun.ExecContext(ctx, fmt.Sprintf("UPDATE organisations SET next_customer_number = %d, name = 'Reminders seeded' WHERE id = %s", n, org)); err != nil {
		return err
	}
	// Only the tables seeded: a database-wide VACUUM would visit every
	// other schema of the database too.
	finish := "ANALYZE"
	if pg {
		finish = "VACUUM ANALYZE tasks, customers, staff_users"
	}
	if _, err := st.bun.ExecContext(ctx, finish); err != nil {
		return err
	}
	b.Logf("seeded %d customers and %d tasks in %v", n, n+n/10, time.Since(start).Round(time.Second))
	return nil
}

func runReminderBenchmarks(b *testing.B, st *DB) {
	c, err := crm.New(st, crm.Config{Clock: func() time.Time { return remindersBenchToday }})
	if err != nil {
		b.Fatal(err)
	}
	base := crm.WithOrg(context.Background(), remindersBenchOrg)
	// The staff users as the HTTP API has them: read with the API key.
	users := make([]context.Context, remindersBenchStaff)
	for i := range users {
		u, err := c.Staff.Get(base, "owner-"+strconv.Itoa(i+1))
		if err != nil {
			b.Fatal(err)
		}
		users[i] = crm.WithStaffUser(base, u)
	}
	r, err := c.Tasks.Mine(users[0])
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("owner-1: %d overdue (truncated %v), %d today, %d tomorrow, %d the day after",
		len(r.Overdue), r.Truncated, len(r.DueToday), len(r.DueTomorrow), len(r.DueDayAfter))
	timedCPU(b, "MyReminders", func(i int) error {
		_, err := c.Tasks.Mine(users[i%len(users)])
		return err
	})
	timedCPU(b, "TasksOfCustomer", func(i int) error {
		id := fmt.Sprintf("c0000000-0000-7000-8000-%012x", 1+(i*7919)%1000)
		_, err := c.Tasks.List(base, crm.TaskFilter{CustomerID: id}, crm.PageRequest{})
		return err
	})
	timedCPU(b, "DoneTasksOfOwnerFirstPage", func(i int) error {
		_, err := c.Tasks.List(base, crm.TaskFilter{OwnerID: "owner-" + strconv.Itoa(1+i%remindersBenchStaff), Status: crm.TaskDone}, crm.PageRequest{})
		return err
	})
}
