package store

import (
	"context"

	"github.com/uptrace/bun"

	"github.com/dossiercrm/dossier/crm"
)

// groupRow is one group of a report query.
type groupRow struct {
	K1 string `bun:"k1"`
	K2 string `bun:"k2"`
	N  int64  `bun:"n"`
	S  int64  `bun:"s"`
}

// groups runs q (columns k1, k2, n, s) and returns its groups.
func groups(ctx context.Context, q *bun.SelectQuery) ([]crm.ReportGroup, error) {
	var rows []groupRow
	if err := q.Scan(ctx, &rows); err != nil {
		return nil, interpretError(err)
	}
	out := make([]crm.ReportGroup, len(rows))
	for i, r := range rows {
		out[i] = crm.ReportGroup{Keys: [2]string{r.K1, r.K2}, Count: r.N, Sum: r.S}
	}
	return out, nil
}

// ReportCustomers implements crm.ReportStore: one GROUP BY over the
// customers the list filter selects.
func (s *DB) ReportCustomers(ctx context.Context, q crm.ReportQuery, by crm.ReportGrouping) ([]crm.ReportGroup, error) {
	var keys string
	switch by {
	case crm.GroupByMonthAndOrigin:
		keys = s.dialect.monthOfTime("c.created_at") + " AS k1, c.origin AS k2"
	case crm.GroupByLanguage:
		keys = "c.language AS k1, '' AS k2"
	case crm.GroupByStatus:
		keys = "c.status AS k1, '' AS k2"
	default:
		return nil, crm.ErrInvalid
	}
	sel, err := s.filter(ctx, s.db.NewSelect().TableExpr("customers AS c").ColumnExpr(keys+", count(*) AS n, 0 AS s"), q.Customers, "c", forCount)
	if err != nil {
		return nil, err
	}
	return groups(ctx, sel.GroupExpr("1, 2"))
}

// ReportConsents implements crm.ReportStore from the current states
// (customer_consents), never the log.
func (s *DB) ReportConsents(ctx context.Context, q crm.ReportQuery) ([]crm.ReportGroup, error) {
	sel, err := s.restrict(ctx, q, "customer_consents AS cc", "cc",
		"CAST(cc.purpose_id AS text) AS k1, cc.state AS k2, count(*) AS n, 0 AS s")
	if err != nil {
		return nil, err
	}
	return groups(ctx, sel.GroupExpr("1, 2"))
}

// ReportQualifiers implements crm.ReportStore from the links' index
// (org_id, qualifier_id, kind, number).
func (s *DB) ReportQualifiers(ctx context.Context, q crm.ReportQuery, kind crm.QualifierKind) ([]crm.ReportGroup, error) {
	sel, err := s.restrict(ctx, q, "customer_qualifiers AS cq", "cq",
		"CAST(cq.qualifier_id AS text) AS k1, '' AS k2, count(*) AS n, 0 AS s")
	if err != nil {
		return nil, err
	}
	sel = sel.Where("cq.kind = ?", kind)
	return groups(ctx, sel.GroupExpr("1, 2"))
}

// ReportPoints implements crm.ReportStore from the lots, which hold what
// is left of each credit: points that expired before today are not
// outstanding, even before the expiry run has written them off.
func (s *DB) ReportPoints(ctx context.Context, q crm.ReportQuery) ([]crm.ReportGroup, error) {
	sel, err := s.restrict(ctx, q, "point_lots AS pl", "pl",
		"COALESCE("+s.dialect.monthOfDate("pl.expires_on")+", '') AS k1, '' AS k2, "+
			"count(DISTINCT pl.customer_id) AS n, CAST(sum(pl.remaining) AS bigint) AS s")
	if err != nil {
		return nil, err
	}
	sel = sel.Where("pl.remaining > 0").Where("(pl.expires_on IS NULL OR pl.expires_on >= ?)", toDate(&q.Today))
	return groups(ctx, sel.GroupExpr("1, 2"))
}

// restrict returns a query of the rows of table (under alias) of the
// customers the report's filter selects, with the given columns. A report
// over every customer of the organisation reads the table alone (its
// index by organisation); a filtered one reads the selected customers and
// joins their rows by customer id, which every such table has at the
// head of a key: testing each row of the table against the list of
// selected customers instead cost SQLite a probe per customer and link.
func (s *DB) restrict(ctx context.Context, q crm.ReportQuery, table, alias, columns string) (*bun.SelectQuery, error) {
	if everyCustomer(&q.Customers) {
		return s.db.NewSelect().TableExpr(table).ColumnExpr(columns).Where(alias+".org_id = ?", q.Customers.OrgID), nil
	}
	sel := s.db.NewSelect().TableExpr("customers AS c").ColumnExpr(columns).
		Join("JOIN " + table + " ON " + alias + ".org_id = c.org_id AND " + alias + ".customer_id = c.id")
	return s.filter(ctx, sel, q.Customers, "c", forCount)
}

// everyCustomer reports whether p selects every customer of its
// organisation.
func everyCustomer(p *crm.CustomerListParams) bool {
	return p.NamePrefix == "" && p.NameContains == "" && p.EmailKey == "" && p.Phone == "" && p.BirthDate == nil &&
		p.Number == 0 && p.Status == "" && p.Origin == "" && p.Language == "" && p.AssignedTo == "" &&
		p.FirstContactFrom == nil && p.FirstContactTo == nil && p.CreatedFrom.IsZero() && p.CreatedTo.IsZero() &&
		p.Tags.IsZero() && p.Attributes.IsZero() && p.MembershipLabel == "" && len(p.Consents) == 0 &&
		p.Reachable == "" && !p.ExcludeAnonymised
}
