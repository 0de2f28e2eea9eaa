package storetest

import (
	"testing"

	"github.com/dossiercrm/dossier/crm"
)

// testReports checks what reports count: one organisation's customers
// only, through its filter, segment and period, and refuses bad input.
func testReports(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	e.enablePoints(e.a, e.b)
	for i, f := range []crm.CustomerFields{
		{LastName: "Kowalska", Origin: "website", Language: "pl", Status: crm.StatusLead},
		{LastName: "Nowak", Origin: "website", Language: "pl"},
		{LastName: "Jansen", Language: "nl"},
	} {
		e.now = testNow.AddDate(0, -i, 0)
		c := e.create(e.a, f)
		if _, err := e.crm.Points.Award(e.a, c.ID, crm.PointInput{Points: int64(100 * (i + 1))}); err != nil {
			t.Fatal(err)
		}
	}
	e.now = testNow
	other := e.create(e.b, crm.CustomerFields{LastName: "Fremd", Origin: "website", Language: "pl"})
	if _, err := e.crm.Points.Award(e.b, other.ID, crm.PointInput{Points: 5000}); err != nil {
		t.Fatal(err)
	}
	run := func(kind crm.ReportKind, p crm.ReportParams) *crm.Report {
		t.Helper()
		r, err := e.crm.Reports.Run(e.a, kind, p)
		if err != nil {
			t.Fatalf("%s %+v: %v", kind, p, err)
		}
		return r
	}
	if r := run(crm.ReportNewCustomers, crm.ReportParams{}); r.Total(0) != 3 || len(r.Rows) != 3 {
		t.Fatalf("new customers %+v", r.Rows)
	}
	r := run(crm.ReportLanguages, crm.ReportParams{Filter: crm.CustomerFilter{Origin: "website"}})
	if len(r.Rows) != 1 || r.Rows[0].Labels[0] != "pl" || r.Rows[0].Values[0] != 2 {
		t.Fatalf("languages of website customers %+v", r.Rows)
	}
	from := crm.DateOf(testNow.AddDate(0, -1, 0))
	if r := run(crm.ReportStatuses, crm.ReportParams{From: &from}); r.Total(0) != 2 {
		t.Fatalf("statuses since %s: %+v", from, r.Rows)
	}
	if r := run(crm.ReportPoints, crm.ReportParams{}); r.Total(0) != 600 || r.Total(1) != 3 {
		t.Fatalf("points %+v", r.Rows)
	}
	seg, err := e.crm.Segments.Create(e.a, crm.NewSegment{Name: "nl", Filter: crm.CustomerFilter{Language: "nl"}})
	if err != nil {
		t.Fatal(err)
	}
	if r := run(crm.ReportPoints, crm.ReportParams{Segment: seg.ID}); r.Total(0) != 300 {
		t.Fatalf("points of the segment %+v", r.Rows)
	}
	if r := run(crm.ReportConsents, crm.ReportParams{}); len(r.Rows) == 0 || r.Rows[0].Values[0] != 3 || r.Rows[0].Values[3] != 3 {
		t.Fatalf("consents %+v", r.Rows)
	}

	// B's segment does not exist for A; bad input names its field.
	bSeg, err := e.crm.Segments.Create(e.b, crm.NewSegment{Name: "b"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.crm.Reports.Run(e.a, crm.ReportTags, crm.ReportParams{Segment: bSeg.ID})
	wantErr(t, err, crm.ErrNotFound)
	_, err = e.crm.Reports.Run(e.a, "everything", crm.ReportParams{})
	wantInvalid(t, err, "kind", "oneof")
	to := crm.DateOf(testNow.AddDate(0, -2, 0))
	_, err = e.crm.Reports.Run(e.a, crm.ReportTags, crm.ReportParams{From: &from, To: &to})
	wantInvalid(t, err, "to", "invalid")
	_, err = e.crm.Reports.Run(e.a, crm.ReportTags, crm.ReportParams{Segment: seg.ID, Filter: crm.CustomerFilter{Language: "nl"}})
	wantInvalid(t, err, "segment", "excluded_with")
	_, err = e.crm.Reports.Run(e.a, crm.ReportTags, crm.ReportParams{Filter: crm.CustomerFilter{Origin: "web\x00site"}})
	wantInvalid(t, err, "origin", "control")
}
