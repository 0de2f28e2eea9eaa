package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
)

// seedReportsBySQL fills an empty database for the report and inquiry
// benchmarks in minutes, by INSERT ... SELECT over a sequence of
// numbers instead of rows built in Go (many times slower at a million
// customers): n customers of organisation filterBenchOrg with languages,
// statuses, origins, first contacts over ten years and creation times
// over two years; tags (5% VIP, 20% regular, 10% another), 0 to 3 of 20
// attributes, consents to two purposes, points for three customers in
// ten, and 20 staff users in 4 departments handling one inquiry per five
// customers. It leaves alone a database that holds the organisation with
// customers (a copy of the filter benchmarks' database, or an earlier
// run's); the other seeders then find what they look for and add nothing.
func seedReportsBySQL(ctx context.Context, b *testing.B, st *DB, n int) error {
	c, err := crm.New(st, crm.Config{})
	if err != nil {
		return err
	}
	if org, err := c.Organisations.Get(ctx, filterBenchOrg); err == nil {
		if strings.HasPrefix(org.Name, "Million") && org.Name != "Million seeded" {
			if has, err := st.bun.NewSelect().Model((*customerRow)(nil)).Where("org_id = ?", filterBenchOrg).Exists(ctx); err != nil || has {
				return err // the filter benchmarks' seed, or a copy of it
			}
		}
		if org.Name != "Million seeded" {
			return fmt.Errorf("an earlier seeding did not finish: remove the database (or schema) and run again")
		}
		return nil
	}
	start := time.Now()
	admin := crm.WithActor(crm.WithOrg(ctx, filterBenchOrg), crm.System())
	if _, err := c.Organisations.Create(ctx, crm.NewOrganisation{ID: filterBenchOrg, Name: "Million (seeding)", DefaultLanguage: "nl", DefaultCountry: "NL"}); err != nil {
		return err
	}
	var attributes []string
	for i := range 20 {
		a, err := c.Attributes.Define(admin, crm.NewQualifier{Name: fmt.Sprintf("Interest %02d", i)})
		if err != nil {
			return err
		}
		attributes = append(attributes, a.ID)
	}
	if _, err := c.Labels.Define(admin, crm.NewLabel{Name: "Club", Membership: true}); err != nil {
		return err
	}
	tags, err := c.Tags.List(admin)
	if err != nil {
		return err
	}
	var vip, regular string
	var others []string
	for _, t := range tags {
		switch t.Name {
		case "VIP":
			vip = t.ID
		case "Regular":
			regular = t.ID
		default:
			others = append(others, t.ID)
		}
	}
	if vip == "" || regular == "" || len(others) == 0 {
		return fmt.Errorf("the built-in tags changed: want VIP, Regular and others, have %v", tags)
	}
	purposes, err := c.Consents.Purposes(admin)
	if err != nil {
		return err
	}
	var deps, staff []string
	for i := range 4 {
		d, err := c.Staff.CreateDepartment(admin, crm.NewDepartment{Name: fmt.Sprintf("Department %d", i)})
		if err != nil {
			return err
		}
		deps = append(deps, d.ID)
	}
	for i := range 20 {
		u, err := c.Staff.Create(admin, crm.NewStaffUser{Name: fmt.Sprintf("Staff %02d", i), Role: crm.RoleStaff, Departments: []string{deps[i%4]}})
		if err != nil {
			return err
		}
		staff = append(staff, u.ID)
	}

	pg := st.dialect.name == postgresDialect.name
	const now = "2026-11-27 12:00:00"
	seq := func(lo, hi int) string {
		return fmt.Sprintf("(WITH RECURSIVE s(i) AS (SELECT %d UNION ALL SELECT i + 1 FROM s WHERE i < %d) SELECT i FROM s) AS g", lo, hi)
	}
	uuid := func(prefix, col string) string {
		return fmt.Sprintf("printf('%s-0000-7000-8000-%%012x', %s)", prefix, col)
	}
	// at is now less days and hours; day is today plus days; month is
	// today plus months.
	at := func(days, hours string) string {
		return fmt.Sprintf("strftime('%%Y-%%m-%%d %%H:%%M:%%S', '%s', '-' || (%s) || ' days', '-' || (%s) || ' hours') || '+00:00'", now, days, hours)
	}
	day := func(days string) string { return fmt.Sprintf("date('%s', (%s) || ' days')", now, days) }
	month := func(months string) string { return fmt.Sprintf("date('%s', '+' || (%s) || ' months')", now, months) }
	ts := "'" + now + "+00:00'"
	if pg {
		seq = func(lo, hi int) string {
			return fmt.Sprintf("generate_series(CAST(%d AS bigint), CAST(%d AS bigint)) AS g(i)", lo, hi)
		}
		uuid = func(prefix, col string) string {
			return fmt.Sprintf("('%s-0000-7000-8000-' || lpad(to_hex(%s), 12, '0'))::uuid", prefix, col)
		}
		at = func(days, hours string) string {
			return fmt.Sprintf("(timestamptz '%s+00' - (%s) * interval '1 day' - (%s) * interval '1 hour')", now, days, hours)
		}
		day = func(days string) string { return fmt.Sprintf("(date '%s' + CAST(%s AS integer))", now[:10], days) }
		month = func(months string) string {
			return fmt.Sprintf("CAST(date '%s' + (%s) * interval '1 month' AS date)", now[:10], months)
		}
		ts = "'" + now + "+00'"
	}
	org := "'" + filterBenchOrg + "'"
	// cases is a CASE choosing values[expr % len(values)].
	cases := func(expr string, values []string) string {
		var sb strings.Builder
		fmt.Fprintf(&sb, "CASE (%s) %% %d", expr, len(values))
		for i, v := range values {
			fmt.Fprintf(&sb, " WHEN %d THEN '%s'", i, v)
		}
		return sb.String() + " END"
	}
	languages := []string{"nl", "nl", "nl-BE", "de", "de", "fr", "pl", "sv", "en", "en"}
	customer := uuid("c0000000", "g.i")
	link := func(kind, qualifier, slot, cond string) func(lo, hi int) string {
		return func(lo, hi int) string {
			return fmt.Sprintf(`INSERT INTO customer_qualifiers (org_id, customer_id, number, qualifier_id, kind, slot, added_at, added_by)
				SELECT %s, %s, g.i, %s, '%s', %s, %s, 'system' FROM %s WHERE %s`, org, customer, qualifier, kind, slot, ts, seq(lo, hi), cond)
		}
	}
	asUUID := func(id string) string {
		if pg {
			return "'" + id + "'::uuid"
		}
		return "'" + id + "'"
	}
	steps := []struct {
		what string
		stmt func(lo, hi int) string
	}{
		{"customers", func(lo, hi int) string {
			return fmt.Sprintf(`INSERT INTO customers (id, org_id, number, first_name, last_name, status, origin, language, first_contact,
					created_at, updated_at, last_activity_at, version)
				SELECT %s, %s, g.i, 'Anna', 'Jansen ' || g.i,
					CASE g.i %% 7 WHEN 0 THEN 'lead' WHEN 1 THEN 'prospect' WHEN 2 THEN 'inactive' ELSE 'customer' END,
					CASE g.i %% 5 WHEN 0 THEN 'website' WHEN 1 THEN 'fair' WHEN 2 THEN 'friend' WHEN 3 THEN 'newspaper' ELSE '' END,
					%s, %s, %s, %s, %s, 1 FROM %s`,
				customer, org, cases("g.i / 3", languages), day("-((g.i * 7919) % 3650)"), at("g.i % 730", "g.i % 24"), ts, ts, seq(lo, hi))
		}},
		{"VIP tags", link("tag", asUUID(vip), "1", "(g.i * 2654435761 + 17) % 1000003 % 100 < 5")},
		{"regular tags", link("tag", asUUID(regular), "2", "(g.i * 2654435761 + 71) % 1000033 % 100 < 20")},
		{"other tags", link("tag", cases("g.i / 10", others)+map[bool]string{true: "::uuid"}[pg], "3", "g.i % 10 = 3")},
	}
	for k, a := range attributes {
		steps = append(steps, struct {
			what string
			stmt func(lo, hi int) string
		}{"attribute " + a, link("attribute", asUUID(a), "0", fmt.Sprintf("(g.i * 31 + %d) %% 13 = 0", k*17))})
	}
	for k, p := range purposes[:min(2, len(purposes))] {
		steps = append(steps, struct {
			what string
			stmt func(lo, hi int) string
		}{"consents " + p.Key, func(lo, hi int) string {
			return fmt.Sprintf(`INSERT INTO customer_consents (org_id, customer_id, purpose_id, number, state, record_id, at)
				SELECT %s, %s, %s, g.i, CASE WHEN (g.i + %d) %% 10 = 0 THEN 'withdrawn' ELSE 'granted' END, %s, %s
				FROM %s WHERE (g.i + %d) %% 10 < %d`, org, customer, asUUID(p.ID), k, uuid(fmt.Sprintf("d000000%d", k), "g.i"), ts, seq(lo, hi), k, 6-2*k)
		}})
	}
	// Points: three customers in ten, three in four of them expiring within two years.
	points := "(10 + g.i % 490)"
	expires := "CASE WHEN g.i % 4 = 0 THEN NULL ELSE " + month("g.i % 24") + " END"
	steps = append(steps, []struct {
		what string
		stmt func(lo, hi int) string
	}{
		{"point credits", func(lo, hi int) string {
			return fmt.Sprintf(`INSERT INTO point_transactions (id, org_id, customer_id, kind, points, expires_on, actor_kind, at)
				SELECT %s, %s, %s, 'award', %s, %s, 'system', %s FROM %s WHERE g.i %% 10 < 3`,
				uuid("f0000000", "g.i"), org, customer, points, expires, ts, seq(lo, hi))
		}},
		{"point lots", func(lo, hi int) string {
			return fmt.Sprintf(`INSERT INTO point_lots (org_id, credit_id, customer_id, remaining, expires_on)
				SELECT %s, %s, %s, %s, %s FROM %s WHERE g.i %% 10 < 3`, org, uuid("f0000000", "g.i"), customer, points, expires, seq(lo, hi))
		}},
		// One inquiry per five customers (k = number / 5): visibility 40%
		// company, 25% department, 15% a person, 20% only the handler;
		// statuses along the pipeline; planned days from two months ago to
		// two months ahead; created over the last year.
		{"inquiries", func(lo, hi int) string {
			k := "(g.i / 5)"
			vis := "CASE WHEN " + k + " % 20 < 5 THEN 'department' WHEN " + k + " % 20 < 8 THEN 'person' WHEN " + k + " % 20 < 12 THEN 'me' ELSE 'company' END"
			visibleTo := "CASE WHEN " + k + " % 20 < 5 THEN " + cases(k, deps) + " WHEN " + k + " % 20 < 8 THEN " + cases(k+" + 7", staff) + " ELSE '' END"
			status := cases(k, []string{"new", "new", "in_progress", "offer_sent", "won", "lost"})
			destination := cases(k, []string{"Kreta", "Madera", "Teneryfa", "Egipt", "Tajlandia", "Zakopane", "Rodos", "Malta"})
			created := at(k+" % 365", k+" % 24")
			return fmt.Sprintf(`INSERT INTO inquiries (org_id, id, customer_id, title, destination, travellers, search_text, status, planned_on,
					handler_id, visibility, visible_to, created_by, created_at, updated_at, closed_at, version)
				SELECT %s, %s, %s, %s || ' ' || (%s %% 12 + 1) || '/2027', %s, 1 + %s %% 5, lower(%s) || ' ' || (%s %% 12 + 1) || '/2027 ' || lower(%s),
					%s, %s, %s, %s, %s, %s, %s, %s,
					CASE WHEN %s %% 6 >= 4 THEN %s END, 1
				FROM %s WHERE g.i %% 5 = 0`,
				org, uuid("e0000000", "g.i"), customer, destination, k, destination, k, destination, k, destination,
				status, day(k+" % 120 - 60"), cases(k, staff), vis, visibleTo, cases(k, staff), created, created,
				k, created, seq(lo, hi))
		}},
	}...)
	const chunk = 100_000
	for _, step := range steps {
		for lo := 1; lo <= n; lo += chunk {
			q := step.stmt(lo, min(n, lo+chunk-1))
			if _, err := st.bun.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("seeding %s: %w\n%s", step.what, err, q)
			}
		}
		b.Logf("seeded %s after %v", step.what, time.Since(start).Round(time.Second))
	}
	if _, err := st.bun.ExecContext(ctx, fmt.Sprintf("UPDATE organisations SET next_customer_number = %d, name = 'Million seeded' WHERE id = %s", n, org)); err != nil {
		return err
	}
	finish := "ANALYZE"
	if pg {
		finish = "VACUUM ANALYZE customers, customer_qualifiers, customer_consents, point_transactions, point_lots, inquiries, staff_users"
	}
	if _, err := st.bun.ExecContext(ctx, finish); err != nil {
		return err
	}
	b.Logf("seeded %d customers for the reports in %v", n, time.Since(start).Round(time.Second))
	return nil
}
