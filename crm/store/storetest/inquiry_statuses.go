package storetest

import (
	"context"
	"testing"

	"github.com/dossiercrm/dossier/crm"
)

// testPipelineStatuses: an organisation adds its own inquiry statuses,
// open or final; inquiries take them, their history records them, a
// final one closes the inquiry (no overdue flag, counted as won or lost
// by the report), archived ones are offered no more, and another
// organisation knows none of them.
func testPipelineStatuses(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	inq := e.crm.Inquiries
	p, err := inq.Statuses(e.a)
	if err != nil || len(p) != 5 || p[0].ID != crm.InquiryNew || !p[3].BuiltIn || p[3].Kind != crm.PipelineWon || p[4].Kind != crm.PipelineLost {
		t.Fatalf("built-in pipeline %+v, %v", p, err)
	}
	deposit, err := inq.DefineStatus(e.a, crm.NewPipelineStatus{ID: "deposit_paid", Names: map[string]string{"pl": "Zaliczka wpłacona"}, Kind: crm.PipelineWon})
	if err != nil || deposit.Kind != crm.PipelineWon || deposit.Position != 6 || deposit.BuiltIn {
		t.Fatalf("define %+v, %v", deposit, err)
	}
	if _, err := inq.DefineStatus(e.a, crm.NewPipelineStatus{ID: "waiting", Names: map[string]string{"en": "Waiting for the customer"}, Kind: crm.PipelineOpen}); err != nil {
		t.Fatal(err)
	}
	// Bad input names its field; taken keys conflict; only administrators.
	_, err = inq.DefineStatus(e.a, crm.NewPipelineStatus{ID: "Bad Key", Names: map[string]string{"en": "x"}, Kind: "maybe"})
	ve := wantInvalid(t, err, "id", "key")
	if !ve.Has("kind", "oneof") {
		t.Fatalf("kind not named: %v", ve.Fields)
	}
	_, err = inq.DefineStatus(e.a, crm.NewPipelineStatus{ID: "won", Names: map[string]string{"en": "x"}, Kind: crm.PipelineWon})
	wantErr(t, err, crm.ErrConflict)
	_, err = inq.DefineStatus(e.a, crm.NewPipelineStatus{ID: "waiting", Names: map[string]string{"en": "x"}, Kind: crm.PipelineOpen})
	wantErr(t, err, crm.ErrConflict)
	_, err = inq.DefineStatus(e.a, crm.NewPipelineStatus{ID: "x", Names: map[string]string{"en": "bad\x00"}, Kind: crm.PipelineOpen})
	wantInvalid(t, err, "names.en", "control")
	if _, err := e.crm.Staff.Create(e.a, crm.NewStaffUser{ID: "clerk", Name: "Clerk", Role: crm.RoleStaff}); err != nil {
		t.Fatal(err)
	}
	clerk := crmStaff(e, "clerk")
	_, err = inq.DefineStatus(clerk, crm.NewPipelineStatus{ID: "nope", Names: map[string]string{"en": "x"}, Kind: crm.PipelineOpen})
	wantErr(t, err, crm.ErrForbidden)
	_, err = inq.UpdateStatus(e.a, crm.InquiryWon, crm.PipelineStatusPatch{Names: map[string]string{"en": "Sold"}})
	wantErr(t, err, crm.ErrForbidden)
	_, err = inq.UpdateStatus(e.a, "unknown", crm.PipelineStatusPatch{Names: map[string]string{"en": "x"}})
	wantErr(t, err, crm.ErrNotFound)

	// Inquiries take the organisation's statuses.
	c := e.create(e.a, crm.CustomerFields{LastName: "Wójcik"})
	past := crm.DateOf(testNow.AddDate(0, 0, -3))
	q, err := inq.Create(clerk, c.ID, crm.InquiryFields{Title: "Rodos", Status: "waiting", PlannedOn: &past})
	if err != nil || q.Status != "waiting" || !q.Overdue || q.ClosedAt != nil {
		t.Fatalf("create in an open status of its own %+v, %v", q, err)
	}
	won := crm.InquiryStatus("deposit_paid")
	q, err = inq.Update(clerk, q.ID, q.Version, crm.InquiryPatch{Status: &won})
	if err != nil || q.Overdue || q.ClosedAt == nil {
		t.Fatalf("a final status of its own closes the inquiry: %+v, %v", q, err)
	}
	if n, err := inq.Count(clerk, crm.InquiryFilter{Open: true}); err != nil || n != 0 {
		t.Fatalf("open inquiries %d, %v", n, err)
	}
	if n, err := inq.Count(clerk, crm.InquiryFilter{Status: []crm.InquiryStatus{won}}); err != nil || n != 1 {
		t.Fatalf("inquiries in deposit_paid %d, %v", n, err)
	}
	hist, err := inq.History(clerk, q.ID)
	if err != nil || len(hist) != 2 || hist[1].Changes[0].Field != "status" || hist[1].Changes[0].Old != "waiting" || hist[1].Changes[0].New != "deposit_paid" {
		t.Fatalf("history %+v, %v", hist, err)
	}
	r, err := e.crm.Reports.Run(e.a, crm.ReportInquiries, crm.ReportParams{})
	if err != nil || r.Total(0) != 1 || r.Total(2) != 0 {
		t.Fatalf("the report counts deposit_paid as won: %+v, %v", r, err)
	}
	_, err = inq.Create(clerk, c.ID, crm.InquiryFields{Title: "x", Status: "made_up"})
	wantInvalid(t, err, "status", "oneof")
	_, err = inq.Count(clerk, crm.InquiryFilter{Status: []crm.InquiryStatus{"made_up"}})
	wantInvalid(t, err, "status[0]", "oneof")

	// Archived: kept where it is, offered for nothing new.
	yes := true
	arch, err := inq.UpdateStatus(e.a, "waiting", crm.PipelineStatusPatch{Archived: &yes, Names: map[string]string{"en": "Waiting", "pl": "Czeka"}})
	if err != nil || !arch.Archived || arch.Names["pl"] != "Czeka" || arch.Kind != crm.PipelineOpen {
		t.Fatalf("archive %+v, %v", arch, err)
	}
	w, err := inq.Create(e.a, c.ID, crm.InquiryFields{Title: "w"})
	if err != nil {
		t.Fatal(err)
	}
	waiting := crm.InquiryStatus("waiting")
	_, err = inq.Update(e.a, w.ID, w.Version, crm.InquiryPatch{Status: &waiting})
	wantInvalid(t, err, "status", "oneof")
	title := "still deposit_paid"
	if _, err := inq.Update(clerk, q.ID, q.Version, crm.InquiryPatch{Title: &title}); err != nil {
		t.Fatalf("an inquiry keeps a status archived later: %v", err)
	}

	// B knows none of A's statuses.
	if p, err := inq.Statuses(e.b); err != nil || len(p) != 5 {
		t.Fatalf("B's pipeline %+v, %v", p, err)
	}
	bc := e.create(e.b, crm.CustomerFields{LastName: "Fremd"})
	_, err = inq.Create(e.b, bc.ID, crm.InquiryFields{Title: "x", Status: "deposit_paid"})
	wantInvalid(t, err, "status", "oneof")
	_, err = inq.UpdateStatus(e.b, "deposit_paid", crm.PipelineStatusPatch{Archived: &yes})
	wantErr(t, err, crm.ErrNotFound)
}

// crmStaff is a context of e's organisation A acting as staff user id.
func crmStaff(e *env, id string) context.Context { return crm.WithActor(e.a, crm.Staff(id)) }
