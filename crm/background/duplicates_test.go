package background

import (
	"testing"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/store/testdb"
)

// TestDuplicatesCheckedInBackground: creating a customer enqueues its
// duplicate check in the create's transaction; the background work runs
// it and the pair appears among the organisation's candidates.
func TestDuplicatesCheckedInBackground(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		w := newWorld(t, open, crm.Config{})
		twin, err := w.c.Customers.Create(w.ctx, crm.CustomerFields{FirstName: "Anna", LastName: "Twin", AltEmails: []string{"ANNA@example.nl"}})
		if err != nil {
			t.Fatal(err)
		}
		w.start(t, Config{})
		waitFor(t, "the pair found", func() bool {
			page, err := w.c.Merges.Candidates(w.ctx, crm.PageRequest{})
			return err == nil && len(page.Items) == 1
		})
		page, _ := w.c.Merges.Candidates(w.ctx, crm.PageRequest{})
		p := page.Items[0]
		ids := []string{w.cust.ID, twin.ID}
		if (p.CustomerID != ids[0] || p.OtherCustomerID != ids[1]) && (p.CustomerID != ids[1] || p.OtherCustomerID != ids[0]) ||
			p.Score != 40 || len(p.Reasons) != 1 || p.Reasons[0] != crm.ReasonSameEmail {
			t.Fatalf("pair %+v", p)
		}
	})
}
