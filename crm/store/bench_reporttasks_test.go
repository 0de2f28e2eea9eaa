package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
)

// reportTaskOwners is how many staff users own the report benchmarks' tasks.
const reportTaskOwners = 20

// seedReportTasks gives the report benchmarks' organisation tasks for the
// overdue tasks report, by SQL, when it has none (a database seeded by an
// earlier run before the report had a case gets them then): one task per
// ten customers, about that customer, and one internal task per hundred
// customers (110,000 tasks at a million), owned in turn by 20 staff users
// (the organisation's active ones, made when there are fewer), due from a
// year ago to two months ahead of today; half the tasks due before today
// are done. The overdue open ones, some 49,000 at a million, are what the
// report counts.
func seedReportTasks(ctx context.Context, b *testing.B, st *DB, n int) error {
	if has, err := st.bun.NewSelect().Model((*taskRow)(nil)).Where("org_id = ?", filterBenchOrg).Exists(ctx); err != nil || has {
		return err
	}
	start := time.Now()
	c, err := crm.New(st, crm.Config{})
	if err != nil {
		return err
	}
	sys := crm.WithActor(crm.WithOrg(ctx, filterBenchOrg), crm.System())
	users, err := c.Staff.List(sys, crm.StaffListParams{ActiveOnly: true})
	if err != nil {
		return err
	}
	var owners []string
	for _, u := range users {
		if u.Role != crm.RoleReadOnly && len(owners) < reportTaskOwners {
			owners = append(owners, u.ID)
		}
	}
	for i := len(owners); i < reportTaskOwners; i++ {
		u, err := c.Staff.Create(sys, crm.NewStaffUser{ID: fmt.Sprintf("task-owner-%02d", i), Name: fmt.Sprintf("Task owner %02d", i), Role: crm.RoleStaff})
		if err != nil {
			return err
		}
		owners = append(owners, u.ID)
	}
	pg := st.dialect.name == postgresDialect.name
	today := time.Now().UTC().Format(time.DateOnly)
	ts := "'" + today + " 12:00:00+00:00'"
	uuid := func(prefix, col string) string {
		return fmt.Sprintf("printf('%s-0000-7000-8000-%%012x', %s)", prefix, col)
	}
	// due is today plus (col % 425) - 365 days: a year ago to two months ahead.
	due := func(col string) string { return fmt.Sprintf("date('%s', ((%s) %% 425 - 365) || ' days')", today, col) }
	seq := func(lo, hi int) string {
		return fmt.Sprintf("(WITH RECURSIVE s(i) AS (SELECT %d UNION ALL SELECT i + 1 FROM s WHERE i < %d) SELECT i FROM s) AS g", lo, hi)
	}
	if pg {
		ts = "'" + today + " 12:00:00+00'"
		uuid = func(prefix, col string) string {
			return fmt.Sprintf("('%s-0000-7000-8000-' || lpad(to_hex(%s), 12, '0'))::uuid", prefix, col)
		}
		due = func(col string) string {
			return fmt.Sprintf("to_char(date '%s' + CAST((%s) %% 425 - 365 AS integer), 'YYYY-MM-DD')", today, col)
		}
		seq = func(lo, hi int) string { return fmt.Sprintf("generate_series(%d, %d) AS g(i)", lo, hi) }
	}
	owner := func(col string) string {
		var sb strings.Builder
		fmt.Fprintf(&sb, "CASE (%s) %% %d", col, len(owners))
		for i, o := range owners {
			fmt.Fprintf(&sb, " WHEN %d THEN '%s'", i, o)
		}
		return sb.String() + " END"
	}
	status := func(col string) string {
		return fmt.Sprintf("CASE WHEN %s < '%s' AND (%s) %% 2 = 0 THEN 'done' ELSE 'open' END", due(col), today, col)
	}
	org := "'" + filterBenchOrg + "'"
	steps := []struct {
		what string
		stmt func(lo, hi int) string
	}{
		// The customers are read by number: their ids differ between seeds.
		{"tasks about customers", func(lo, hi int) string {
			k := "(c.number / 10)"
			return fmt.Sprintf(`INSERT INTO tasks (org_id, id, title, due_on, owner_id, creator_id, status, customer_id, created_at, updated_at)
				SELECT %s, %s, 'Call back', %s, %s, '%s', %s, c.id, %s, %s
				FROM customers AS c WHERE c.org_id = %s AND c.number BETWEEN %d AND %d AND c.number %% 10 = 0`,
				org, uuid("a1000000", "c.number"), due(k), owner(k), owners[0], status(k), ts, ts, org, lo, hi)
		}},
		{"internal tasks", func(lo, hi int) string {
			return fmt.Sprintf(`INSERT INTO tasks (org_id, id, title, due_on, owner_id, creator_id, status, created_at, updated_at)
				SELECT %s, %s, 'Order brochures', %s, %s, '%s', %s, %s, %s FROM %s WHERE g.i %% 100 = 0`,
				org, uuid("b1000000", "g.i"), due("g.i / 100 * 7"), owner("g.i / 100"), owners[0], status("g.i / 100 * 7"), ts, ts, seq(lo, hi))
		}},
	}
	const chunk = 100_000
	for _, step := range steps {
		for lo := 1; lo <= n; lo += chunk {
			if _, err := st.bun.ExecContext(ctx, step.stmt(lo, min(n, lo+chunk-1))); err != nil {
				return fmt.Errorf("seeding %s: %w", step.what, err)
			}
		}
	}
	finish := "ANALYZE tasks"
	if pg {
		finish = "VACUUM ANALYZE tasks"
	}
	if _, err := st.bun.ExecContext(ctx, finish); err != nil {
		return err
	}
	b.Logf("seeded %d tasks for the overdue tasks report in %v", n/10+n/100, time.Since(start).Round(time.Second))
	return nil
}
