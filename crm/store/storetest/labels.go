package storetest

import (
	"slices"
	"testing"

	"github.com/dossiercrm/dossier/crm"
)

func labelNames(ls []crm.CustomerLabel) []string {
	names := make([]string, len(ls))
	for i, l := range ls {
		names[i] = l.Name
	}
	return names
}

// testLabels: labels carry benefits whose uses are counted; assignment,
// removal and each use go on the timeline; removing a label is on the
// record of every customer that had it.
func testLabels(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	gold, err := e.crm.Labels.Define(e.a, crm.NewLabel{Name: "Gold guest", Benefits: "Free room upgrade", Colour: "#D4AF37"})
	if err != nil || gold.Colour != "#d4af37" {
		t.Fatalf("define: %+v, %v", gold, err)
	}
	_, err = e.crm.Labels.Define(e.a, crm.NewLabel{Name: "GOLD GUEST"})
	wantErr(t, err, crm.ErrConflict)
	c := e.create(e.a, crm.CustomerFields{LastName: "Goud"})

	_, err = e.crm.Labels.UseBenefit(e.a, c.ID, gold.ID, "")
	wantErr(t, err, crm.ErrConflict) // does not carry it yet
	if err := e.crm.Labels.Assign(e.a, c.ID, gold.ID); err != nil {
		t.Fatal(err)
	}
	wantErr(t, e.crm.Labels.Assign(e.a, c.ID, gold.ID), crm.ErrConflict)
	for want := 1; want <= 2; want++ {
		n, err := e.crm.Labels.UseBenefit(e.a, c.ID, gold.ID, "upgrade to suite")
		if err != nil || n != want {
			t.Fatalf("use %d: count %d, %v", want, n, err)
		}
	}
	if _, err := e.crm.Labels.Update(e.a, gold.ID, crm.LabelPatch{Name: ptr("Gold"), Benefits: ptr("Upgrade and late checkout")}); err != nil {
		t.Fatal(err)
	}
	labels, err := e.crm.Labels.Of(e.a, c.ID)
	if err != nil || len(labels) != 1 || labels[0].Name != "Gold" || labels[0].Benefits != "Upgrade and late checkout" || labels[0].BenefitUses != 2 {
		t.Fatalf("labels of the customer: %+v, %v", labels, err)
	}

	// Another organisation sees and touches none of it.
	if ls, _ := e.crm.Labels.List(e.b); len(ls) != 0 {
		t.Fatalf("org B lists %+v", ls)
	}
	_, err = e.crm.Labels.Of(e.b, c.ID)
	wantErr(t, err, crm.ErrNotFound)
	wantErr(t, e.crm.Labels.Unassign(e.b, c.ID, gold.ID), crm.ErrNotFound)
	wantErr(t, e.crm.Labels.Delete(e.b, gold.ID), crm.ErrNotFound)
	_, err = e.crm.Labels.UseBenefit(e.b, c.ID, gold.ID, "")
	wantErr(t, err, crm.ErrNotFound)

	if err := e.crm.Labels.Unassign(e.a, c.ID, gold.ID); err != nil {
		t.Fatal(err)
	}
	wantErr(t, e.crm.Labels.Unassign(e.a, c.ID, gold.ID), crm.ErrNotFound)
	if err := e.crm.Labels.Assign(e.a, c.ID, gold.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.crm.Labels.Delete(e.a, gold.ID); err != nil {
		t.Fatal(err)
	}
	if labels, _ := e.crm.Labels.Of(e.a, c.ID); len(labels) != 0 {
		t.Fatalf("deleted label still shown: %+v", labels)
	}
	var kinds []crm.EventKind
	for _, ev := range slices.Backward(e.history(e.a, c.ID)) {
		kinds = append(kinds, ev.Kind)
	}
	want := []crm.EventKind{crm.EventCustomerCreated, crm.EventLabelAdded, crm.EventBenefitUsed, crm.EventBenefitUsed,
		crm.EventLabelRemoved, crm.EventLabelAdded, crm.EventLabelRemoved}
	if !slices.Equal(kinds, want) {
		t.Fatalf("timeline %v, want %v", kinds, want)
	}
}

// testMemberships: a membership shows its label while active and drops out
// when it expires, with no job; it can be renewed, cancelled, shared and
// given away, each on the record of everyone involved.
func testMemberships(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	club, err := e.crm.Labels.Define(e.a, crm.NewLabel{Name: "Travel club", Benefits: "5% off", Membership: true})
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := e.crm.Labels.Define(e.a, crm.NewLabel{Name: "Plain"})
	holder := e.create(e.a, crm.CustomerFields{LastName: "Holder"})
	partner := e.create(e.a, crm.CustomerFields{LastName: "Partner"})
	friend := e.create(e.a, crm.CustomerFields{LastName: "Friend"})
	today := crm.DateOf(e.now)
	end := crm.DateOf(e.now.AddDate(0, 1, 0))

	wantErr(t, e.crm.Labels.Assign(e.a, holder.ID, club.ID), crm.ErrInvalid) // only through a membership
	_, err = e.crm.Labels.StartMembership(e.a, crm.NewMembership{LabelID: plain.ID, HolderID: holder.ID, EndsOn: end})
	wantInvalid(t, err, "labelId", "invalid")
	_, err = e.crm.Labels.StartMembership(e.a, crm.NewMembership{LabelID: club.ID, HolderID: holder.ID, EndsOn: crm.DateOf(e.now.AddDate(0, 0, -1))})
	wantInvalid(t, err, "endsOn", "invalid")

	m, err := e.crm.Labels.StartMembership(e.a, crm.NewMembership{LabelID: club.ID, HolderID: holder.ID, EndsOn: end})
	if err != nil || m.StartsOn != today {
		t.Fatalf("start: %+v, %v", m, err)
	}
	if _, err := e.crm.Labels.ShareMembership(e.a, m.ID, partner.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.crm.Labels.ShareMembership(e.a, m.ID, partner.ID)
	wantInvalid(t, err, "customerId", "duplicate")
	_, err = e.crm.Labels.ShareMembership(e.a, m.ID, "01936d3c-0000-7000-8000-000000000000")
	wantInvalid(t, err, "customerId", "unknown")
	for _, c := range []*crm.Customer{holder, partner} {
		if ls, _ := e.crm.Labels.Of(e.a, c.ID); !slices.Equal(labelNames(ls), []string{"Travel club"}) || ls[0].MembershipID != m.ID || *ls[0].Until != end {
			t.Fatalf("%s's labels %+v", c.LastName, ls)
		}
	}
	if n, err := e.crm.Labels.UseBenefit(e.a, partner.ID, club.ID, ""); err != nil || n != 1 {
		t.Fatalf("partner uses the benefit: %d, %v", n, err)
	}

	// Expiry needs no job: the day after the end, the label is gone.
	e.now = end.Time().AddDate(0, 0, 1)
	if ls, _ := e.crm.Labels.Of(e.a, holder.ID); len(ls) != 0 {
		t.Fatalf("expired membership still shows %+v", ls)
	}
	_, err = e.crm.Labels.UseBenefit(e.a, holder.ID, club.ID, "")
	wantErr(t, err, crm.ErrConflict)
	renewed := crm.DateOf(e.now.AddDate(1, 0, 0))
	_, err = e.crm.Labels.RenewMembership(e.a, m.ID, end)
	wantInvalid(t, err, "endsOn", "invalid")
	if m, err = e.crm.Labels.RenewMembership(e.a, m.ID, renewed); err != nil || m.EndsOn != renewed {
		t.Fatalf("renew: %+v, %v", m, err)
	}
	if ls, _ := e.crm.Labels.Of(e.a, partner.ID); len(ls) != 1 {
		t.Fatalf("renewed membership not shown to the partner: %+v", ls)
	}

	// Given away: the friend holds it, the partner keeps sharing, the giver loses it.
	if m, err = e.crm.Labels.GiveAwayMembership(e.a, m.ID, friend.ID); err != nil || m.HolderID != friend.ID {
		t.Fatalf("give away: %+v, %v", m, err)
	}
	for c, want := range map[*crm.Customer]int{holder: 0, partner: 1, friend: 1} {
		if ls, _ := e.crm.Labels.Of(e.a, c.ID); len(ls) != want {
			t.Fatalf("after giving away, %s has %d labels, want %d", c.LastName, len(ls), want)
		}
	}
	if ms, _ := e.crm.Labels.Memberships(e.a, holder.ID); len(ms) != 0 {
		t.Fatalf("the giver still lists %+v", ms)
	}
	if _, err := e.crm.Labels.UnshareMembership(e.a, m.ID, partner.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.crm.Labels.CancelMembership(e.a, m.ID); err != nil {
		t.Fatal(err)
	}
	if ls, _ := e.crm.Labels.Of(e.a, friend.ID); len(ls) != 0 {
		t.Fatalf("cancelled membership shows %+v", ls)
	}
	_, err = e.crm.Labels.RenewMembership(e.a, m.ID, crm.DateOf(e.now.AddDate(2, 0, 0)))
	wantInvalid(t, err, "membershipId", "invalid")
	if ms, _ := e.crm.Labels.Memberships(e.a, friend.ID); len(ms) != 1 || ms[0].CancelledAt == nil {
		t.Fatalf("cancelled membership not listed as such: %+v", ms)
	}

	// Another organisation reaches none of it.
	_, err = e.crm.Labels.CancelMembership(e.b, m.ID)
	wantErr(t, err, crm.ErrNotFound)
	_, err = e.crm.Labels.Memberships(e.b, friend.ID)
	wantErr(t, err, crm.ErrNotFound)
	bCustomer := e.create(e.b, crm.CustomerFields{LastName: "B"})
	_, err = e.crm.Labels.StartMembership(e.b, crm.NewMembership{LabelID: club.ID, HolderID: bCustomer.ID, EndsOn: renewed})
	wantInvalid(t, err, "labelId", "unknown")

	kindsOf := func(c *crm.Customer) []crm.EventKind {
		var kinds []crm.EventKind
		for _, ev := range slices.Backward(e.history(e.a, c.ID)) {
			kinds = append(kinds, ev.Kind)
		}
		return kinds
	}
	if got, want := kindsOf(holder), []crm.EventKind{crm.EventCustomerCreated, crm.EventMembershipStarted, crm.EventMembershipShared,
		crm.EventMembershipRenewed, crm.EventMembershipGivenAway}; !slices.Equal(got, want) {
		t.Fatalf("holder's timeline %v, want %v", got, want)
	}
	if got, want := kindsOf(partner), []crm.EventKind{crm.EventCustomerCreated, crm.EventMembershipShared, crm.EventBenefitUsed,
		crm.EventMembershipUnshared}; !slices.Equal(got, want) {
		t.Fatalf("partner's timeline %v, want %v", got, want)
	}
	if got, want := kindsOf(friend), []crm.EventKind{crm.EventCustomerCreated, crm.EventMembershipGivenAway,
		crm.EventMembershipUnshared, crm.EventMembershipCancelled}; !slices.Equal(got, want) {
		t.Fatalf("friend's timeline %v, want %v", got, want)
	}
}
