package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
)

// consentState returns the customer's current state on one purpose.
func (e *env) consentState(ctx context.Context, customerID, purpose string) crm.CustomerConsent {
	e.t.Helper()
	states, err := e.crm.Consents.States(ctx, customerID)
	if err != nil {
		e.t.Fatalf("consent states: %v", err)
	}
	for _, s := range states {
		if s.Purpose == purpose {
			return s
		}
	}
	e.t.Fatalf("no state for purpose %s in %+v", purpose, states)
	return crm.CustomerConsent{}
}

func (e *env) give(ctx context.Context, customerID, purpose string) *crm.ConsentRecord {
	e.t.Helper()
	r, err := e.crm.Consents.Give(ctx, customerID, crm.ConsentInput{Purpose: purpose, Source: crm.SourceStaff})
	if err != nil {
		e.t.Fatalf("give %s: %v", purpose, err)
	}
	return r
}

func (e *env) withdraw(ctx context.Context, customerID, purpose string) *crm.ConsentRecord {
	e.t.Helper()
	r, err := e.crm.Consents.Withdraw(ctx, customerID, crm.ConsentInput{Purpose: purpose, Source: crm.SourceStaff})
	if err != nil {
		e.t.Fatalf("withdraw %s: %v", purpose, err)
	}
	return r
}

func testConsentPurposes(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	ps, err := e.crm.Consents.Purposes(e.a)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, p := range ps {
		if !p.BuiltIn {
			t.Fatalf("new organisation has a purpose that is not built in: %+v", p)
		}
		keys = append(keys, p.Key)
	}
	want := []string{crm.PurposeNewsletter, crm.PurposeCommercialEmail, crm.PurposePost, crm.PurposeSMS, crm.PurposeProfiling, crm.PurposeMailings}
	if !slices.Equal(keys, want) {
		t.Fatalf("built-in purposes %v, want %v", keys, want)
	}
	own, err := e.crm.Consents.DefinePurpose(e.a, crm.NewConsentPurpose{Key: "whatsapp", Name: "WhatsApp", Channel: crm.ChannelSMS, Position: 10})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.crm.Consents.DefinePurpose(e.a, crm.NewConsentPurpose{Key: "whatsapp", Name: "Again", Channel: crm.ChannelSMS})
	wantErr(t, err, crm.ErrConflict)
	var ce *crm.ConflictError
	if !errors.As(err, &ce) || ce.Field != "key" {
		t.Fatalf("duplicate key: %v, want a conflict on key", err)
	}
	_, err = e.crm.Consents.DefinePurpose(e.a, crm.NewConsentPurpose{Key: "Whats App", Name: "x", Channel: crm.ChannelSMS})
	wantInvalid(t, err, "key", "invalid")
	_, err = e.crm.Consents.DefinePurpose(e.a, crm.NewConsentPurpose{Key: "fax", Name: "Fax", Channel: "fax"})
	wantInvalid(t, err, "channel", "oneof")
	// The same key is free in another organisation, and B never sees A's purpose.
	if _, err := e.crm.Consents.DefinePurpose(e.b, crm.NewConsentPurpose{Key: "whatsapp", Name: "WhatsApp B", Channel: crm.ChannelSMS}); err != nil {
		t.Fatalf("same key in organisation B: %v", err)
	}
	_, err = e.crm.Consents.Purpose(e.b, own.ID)
	wantErr(t, err, crm.ErrNotFound)
	_, err = e.crm.Consents.UpdatePurpose(e.b, own.ID, crm.ConsentPurposePatch{Name: ptr("taken over")})
	wantErr(t, err, crm.ErrNotFound)

	renamed, err := e.crm.Consents.UpdatePurpose(e.a, "whatsapp", crm.ConsentPurposePatch{Name: ptr("WhatsApp updates"), DoubleOptIn: ptr(true)})
	if err != nil || renamed.Name != "WhatsApp updates" || !renamed.DoubleOptIn || renamed.Key != "whatsapp" {
		t.Fatalf("update purpose: %+v, %v", renamed, err)
	}
	got, err := e.crm.Consents.Purpose(e.a, "whatsapp")
	if err != nil || got.Name != "WhatsApp updates" || got.Channel != crm.ChannelSMS {
		t.Fatalf("purpose after update: %+v, %v", got, err)
	}
}

func testConsentWordings(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open) // organisation A speaks Dutch
	// New text follows the built-in wording (version 1).
	nl1, err := e.crm.Consents.SetWording(e.a, crm.PurposeNewsletter, "nl", "Ja, stuur mij de nieuwsbrief.")
	if err != nil || nl1.Version != 2 || nl1.SHA256 == "" {
		t.Fatalf("first wording: %+v, %v", nl1, err)
	}
	same, err := e.crm.Consents.SetWording(e.a, crm.PurposeNewsletter, "nl", "Ja, stuur mij de nieuwsbrief.")
	if err != nil || same.ID != nl1.ID {
		t.Fatalf("same text made a new version: %+v, %v", same, err)
	}
	nl2, err := e.crm.Consents.SetWording(e.a, crm.PurposeNewsletter, "nl", "Ja, stuur mij elke maand de nieuwsbrief.")
	if err != nil || nl2.Version != 3 {
		t.Fatalf("second wording: %+v, %v", nl2, err)
	}
	en1, err := e.crm.Consents.SetWording(e.a, crm.PurposeNewsletter, "en", "Yes, send me the newsletter.")
	if err != nil || en1.Version != 2 {
		t.Fatalf("English wording: %+v, %v", en1, err)
	}
	_, err = e.crm.Consents.SetWording(e.a, crm.PurposeNewsletter, "xx-!!", "text")
	wantInvalid(t, err, "language", "language")
	_, err = e.crm.Consents.SetWording(e.a, crm.PurposeNewsletter, "nl", "  ")
	wantInvalid(t, err, "text", "required")
	_, err = e.crm.Consents.SetWording(e.b, crm.PurposeNewsletter+"-none", "de", "x")
	wantErr(t, err, crm.ErrNotFound)
	ws, err := e.crm.Consents.Wordings(e.a, crm.PurposeNewsletter)
	if err != nil || len(ws) != 8 { // five built in, three set here
		t.Fatalf("wordings: %d, %v", len(ws), err)
	}
	if ws, _ := e.crm.Consents.Wordings(e.b, crm.PurposeNewsletter); slices.ContainsFunc(ws, func(w crm.ConsentWording) bool { return w.Version > 1 }) {
		t.Fatalf("organisation B sees A's wordings: %+v", ws)
	}

	// The record points at the latest wording in the customer's language:
	// nl-BE falls back to nl; Swedish (no wording) to the organisation's
	// language (nl); English has its own.
	for _, tc := range []struct {
		lang string
		want string
	}{{"nl-BE", nl2.ID}, {"sv", nl2.ID}, {"en", en1.ID}} {
		c := e.create(e.a, crm.CustomerFields{FirstName: "W", LastName: tc.lang, Language: tc.lang})
		r := e.give(e.a, c.ID, crm.PurposeNewsletter)
		if r.WordingID != tc.want {
			t.Fatalf("customer in %s got wording %s, want %s", tc.lang, r.WordingID, tc.want)
		}
	}
	// An explicit earlier version is kept as given.
	c := e.create(e.a, crm.CustomerFields{FirstName: "Old", LastName: "Form"})
	r, err := e.crm.Consents.Give(e.a, c.ID, crm.ConsentInput{Purpose: crm.PurposeNewsletter, Source: crm.SourceImport, WordingID: nl1.ID})
	if err != nil || r.WordingID != nl1.ID {
		t.Fatalf("explicit wording: %+v, %v", r, err)
	}
	// A wording of another purpose or organisation is unknown.
	post, err := e.crm.Consents.SetWording(e.a, crm.PurposePost, "nl", "Post mag.")
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.crm.Consents.Give(e.a, c.ID, crm.ConsentInput{Purpose: crm.PurposeNewsletter, Source: crm.SourceStaff, WordingID: post.ID})
	wantInvalid(t, err, "wordingId", "unknown")
	// Withdrawals need no wording.
	if w := e.withdraw(e.a, c.ID, crm.PurposeNewsletter); w.WordingID != "" {
		t.Fatalf("withdrawal points at a wording: %+v", w)
	}
}

func testConsentLog(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	c := e.create(e.a, crm.CustomerFields{FirstName: "Lotte", LastName: "Jansen", Email: "lotte@example.nl"})
	if s := e.consentState(e.a, c.ID, crm.PurposeCommercialEmail); s.State != crm.ConsentNever {
		t.Fatalf("state before any record: %+v", s)
	}
	portal := crm.WithActor(e.a, crm.CustomerActor(c.ID))
	e.now = testNow.Add(time.Minute)
	first, err := e.crm.Consents.Withdraw(portal, c.ID, crm.ConsentInput{Purpose: crm.PurposeCommercialEmail, Source: crm.SourcePortal,
		Evidence: crm.Evidence{IP: "192.0.2.7", UserAgent: "Firefox"}})
	if err != nil {
		t.Fatal(err)
	}
	e.now = testNow.Add(2 * time.Minute)
	e.give(e.a, c.ID, crm.PurposeCommercialEmail)
	e.now = testNow.Add(3 * time.Minute)
	last := e.withdraw(e.a, c.ID, crm.PurposeCommercialEmail)

	s := e.consentState(e.a, c.ID, crm.PurposeCommercialEmail)
	if s.State != crm.ConsentWithdrawn || s.RecordID != last.ID || !s.At.Equal(e.now) {
		t.Fatalf("current state after withdraw, grant, withdraw: %+v", s)
	}
	log, err := e.crm.Consents.Log(e.a, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 3 {
		t.Fatalf("log has %d entries, want 3: %+v", len(log), log)
	}
	for i, want := range []crm.ConsentState{crm.ConsentWithdrawn, crm.ConsentGranted, crm.ConsentWithdrawn} {
		if log[i].State != want || log[i].Purpose != crm.PurposeCommercialEmail {
			t.Fatalf("log entry %d: %+v, want %s", i, log[i], want)
		}
	}
	if log[0] != *first || log[0].Actor != crm.CustomerActor(c.ID) || log[0].Source != crm.SourcePortal ||
		log[0].IP != "192.0.2.7" || log[0].UserAgent != "Firefox" {
		t.Fatalf("first entry is not kept as written: %+v, wrote %+v", log[0], first)
	}
	if log[1].Actor != crm.Staff("staff-a") || !log[1].At.Equal(testNow.Add(2*time.Minute)) {
		t.Fatalf("second entry: %+v", log[1])
	}
	// Every record is on the timeline with its actor, and counts as activity.
	var kinds []crm.EventKind
	for _, ev := range e.history(e.a, c.ID) {
		kinds = append(kinds, ev.Kind)
	}
	if !slices.Equal(kinds[:3], []crm.EventKind{crm.EventConsentWithdrawn, crm.EventConsentGranted, crm.EventConsentWithdrawn}) {
		t.Fatalf("timeline: %v", kinds)
	}
	got, _ := e.crm.Customers.Get(e.a, c.ID)
	if !got.LastActivityAt.Equal(e.now) {
		t.Fatalf("last activity %v, want %v", got.LastActivityAt, e.now)
	}

	// Bad input is refused and writes nothing.
	_, err = e.crm.Consents.Give(e.a, c.ID, crm.ConsentInput{Purpose: "carrier-pigeon", Source: crm.SourceStaff})
	wantInvalid(t, err, "purpose", "unknown")
	_, err = e.crm.Consents.Give(e.a, c.ID, crm.ConsentInput{Purpose: crm.PurposeSMS, Source: "telepathy"})
	wantInvalid(t, err, "source", "oneof")
	_, err = e.crm.Consents.Give(e.a, c.ID, crm.ConsentInput{Purpose: crm.PurposeSMS, Source: crm.SourceStaff, Evidence: crm.Evidence{IP: "not-an-ip"}})
	wantInvalid(t, err, "ip", "ip")
	_, err = e.crm.Consents.Give(e.a, "01900000-0000-7000-8000-000000000000", crm.ConsentInput{Purpose: crm.PurposeSMS, Source: crm.SourceStaff})
	wantErr(t, err, crm.ErrNotFound)
	if log2, _ := e.crm.Consents.Log(e.a, c.ID); len(log2) != 3 {
		t.Fatalf("refused calls wrote records: %d", len(log2))
	}
	// A newsletter with double opt-in cannot be granted straight from a web form.
	_, err = e.crm.Consents.Give(e.a, c.ID, crm.ConsentInput{Purpose: crm.PurposeNewsletter, Source: crm.SourceWebForm})
	wantInvalid(t, err, "source", "doubleOptIn")

	// Organisation B can neither read nor write A's consents.
	_, err = e.crm.Consents.Log(e.b, c.ID)
	wantErr(t, err, crm.ErrNotFound)
	_, err = e.crm.Consents.States(e.b, c.ID)
	wantErr(t, err, crm.ErrNotFound)
	_, err = e.crm.Consents.Give(e.b, c.ID, crm.ConsentInput{Purpose: crm.PurposeSMS, Source: crm.SourceStaff})
	wantErr(t, err, crm.ErrNotFound)
}

func testConsentContactFlags(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	// Creating a customer with "no post" records the withdrawal of post.
	c := e.create(e.a, crm.CustomerFields{FirstName: "Piet", LastName: "Post", NoPost: true})
	if s := e.consentState(e.a, c.ID, crm.PurposePost); s.State != crm.ConsentWithdrawn {
		t.Fatalf("post after creating with NoPost: %+v", s)
	}
	// Withdrawing the mailings purpose sets NoMailings, as a change of the record.
	e.now = testNow.Add(time.Minute)
	e.withdraw(e.a, c.ID, crm.PurposeMailings)
	got, err := e.crm.Customers.Get(e.a, c.ID)
	if err != nil || !got.NoMailings || got.Version != 2 || !got.UpdatedAt.Equal(e.now) {
		t.Fatalf("after withdrawing mailings: %+v, %v", got, err)
	}
	// Giving post consent clears NoPost.
	e.give(e.a, c.ID, crm.PurposePost)
	got, _ = e.crm.Customers.Get(e.a, c.ID)
	if got.NoPost || got.Version != 3 {
		t.Fatalf("after giving post: NoPost %v version %d", got.NoPost, got.Version)
	}
	// Patching the flag back appends a withdrawal, by the patch's actor.
	importer := crm.WithActor(e.a, crm.Import("crm-sync"))
	if _, err := e.crm.Customers.Update(importer, c.ID, 3, crm.CustomerPatch{NoPost: ptr(true), NoMailings: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	log, _ := e.crm.Consents.Log(e.a, c.ID)
	tail := log[len(log)-2:]
	if tail[0].Purpose != crm.PurposePost || tail[0].State != crm.ConsentWithdrawn || tail[0].Source != crm.SourceImport ||
		tail[1].Purpose != crm.PurposeMailings || tail[1].State != crm.ConsentGranted || tail[1].Actor != crm.Import("crm-sync") {
		t.Fatalf("records of the patch: %+v", tail)
	}
	// The flags and the log agree.
	got, _ = e.crm.Customers.Get(e.a, c.ID)
	post, mailings := e.consentState(e.a, c.ID, crm.PurposePost), e.consentState(e.a, c.ID, crm.PurposeMailings)
	if got.NoPost != (post.State == crm.ConsentWithdrawn) || got.NoMailings != (mailings.State == crm.ConsentWithdrawn) {
		t.Fatalf("flags NoPost=%v NoMailings=%v disagree with the log: %+v %+v", got.NoPost, got.NoMailings, post, mailings)
	}
}

func testDoubleOptIn(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	c := e.create(e.a, crm.CustomerFields{FirstName: "Nina", LastName: "Nieuws", Email: "nina@example.nl"})
	if _, err := e.crm.Consents.SetWording(e.a, crm.PurposeNewsletter, "nl", "Ja, de nieuwsbrief graag."); err != nil {
		t.Fatal(err)
	}
	web := crm.ConsentInput{Purpose: crm.PurposeNewsletter, Source: crm.SourceWebForm, Evidence: crm.Evidence{IP: "2001:db8::1"}}
	pending, err := e.crm.Consents.RequestConfirmation(e.a, c.ID, web)
	if err != nil {
		t.Fatal(err)
	}
	if pending.Record.State != crm.ConsentPending || len(pending.Token) < 40 || !pending.ExpiresAt.Equal(e.now.Add(crm.DefaultConfirmationTTL)) {
		t.Fatalf("pending: %+v", pending)
	}
	if s := e.consentState(e.a, c.ID, crm.PurposeNewsletter); s.State != crm.ConsentNever || !s.Pending {
		t.Fatalf("state while pending: %+v", s)
	}
	// Another organisation cannot use the token.
	_, err = e.crm.Consents.Confirm(e.b, pending.Token, crm.Evidence{})
	wantErr(t, err, crm.ErrNotFound)

	e.now = testNow.Add(time.Hour)
	confirmed, err := e.crm.Consents.Confirm(e.a, pending.Token, crm.Evidence{IP: "2001:db8::2", UserAgent: "Mail client"})
	if err != nil {
		t.Fatal(err)
	}
	if confirmed.State != crm.ConsentGranted || confirmed.Confirms != pending.Record.ID ||
		confirmed.WordingID != pending.Record.WordingID || confirmed.WordingID == "" || confirmed.Source != crm.SourceWebForm ||
		confirmed.IP != "2001:db8::2" {
		t.Fatalf("confirmed record: %+v (pending %+v)", confirmed, pending.Record)
	}
	if s := e.consentState(e.a, c.ID, crm.PurposeNewsletter); s.State != crm.ConsentGranted || s.Pending {
		t.Fatalf("state after confirmation: %+v", s)
	}
	// A token works once.
	_, err = e.crm.Consents.Confirm(e.a, pending.Token, crm.Evidence{})
	wantErr(t, err, crm.ErrConflict)
	// An unknown token is not found.
	_, err = e.crm.Consents.Confirm(e.a, "no-such-token", crm.Evidence{})
	wantErr(t, err, crm.ErrNotFound)
	// An expired token does not work, and stays unused.
	second, err := e.crm.Consents.RequestConfirmation(e.a, c.ID, web)
	if err != nil {
		t.Fatal(err)
	}
	e.now = e.now.Add(crm.DefaultConfirmationTTL)
	_, err = e.crm.Consents.Confirm(e.a, second.Token, crm.Evidence{})
	wantInvalid(t, err, "token", "expired")
	log, _ := e.crm.Consents.Log(e.a, c.ID)
	if len(log) != 3 {
		t.Fatalf("log after pending, confirmed, pending, expired: %d entries", len(log))
	}
}

func testConsentFilters(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	granted := e.create(e.a, crm.CustomerFields{FirstName: "Granted", LastName: "G"})
	withdrawn := e.create(e.a, crm.CustomerFields{FirstName: "Withdrawn", LastName: "W"})
	never := e.create(e.a, crm.CustomerFields{FirstName: "Never", LastName: "N"})
	e.give(e.a, granted.ID, crm.PurposeSMS)
	e.give(e.a, withdrawn.ID, crm.PurposeSMS)
	e.withdraw(e.a, withdrawn.ID, crm.PurposeSMS)
	e.give(e.a, never.ID, crm.PurposeProfiling)
	// Organisation B's customer with the same consent never shows up.
	other := e.create(e.b, crm.CustomerFields{FirstName: "Other", LastName: "Org"})
	e.give(e.b, other.ID, crm.PurposeSMS)

	for _, tc := range []struct {
		conds []crm.ConsentCondition
		want  []int64
	}{
		{[]crm.ConsentCondition{{Purpose: crm.PurposeSMS, State: crm.ConsentGranted}}, []int64{granted.Number}},
		{[]crm.ConsentCondition{{Purpose: crm.PurposeSMS, State: crm.ConsentWithdrawn}}, []int64{withdrawn.Number}},
		{[]crm.ConsentCondition{{Purpose: crm.PurposeSMS, State: crm.ConsentNever}}, []int64{never.Number}},
		{[]crm.ConsentCondition{{Purpose: crm.PurposeSMS, State: crm.ConsentNever}, {Purpose: crm.PurposeProfiling, State: crm.ConsentGranted}}, []int64{never.Number}},
		{[]crm.ConsentCondition{{Purpose: crm.PurposeSMS, State: crm.ConsentGranted}, {Purpose: crm.PurposeProfiling, State: crm.ConsentGranted}}, nil},
		// Not withdrawn: granted or never asked.
		{[]crm.ConsentCondition{{Purpose: crm.PurposeSMS, State: crm.ConsentNotWithdrawn}}, []int64{granted.Number, never.Number}},
		{[]crm.ConsentCondition{{Purpose: crm.PurposeSMS, State: crm.ConsentNotWithdrawn}, {Purpose: crm.PurposeProfiling, State: crm.ConsentNever}}, []int64{granted.Number}},
	} {
		for _, sort := range []crm.CustomerSort{crm.SortNumber, crm.SortName} {
			got := numbers(e.list(e.a, crm.CustomerFilter{Consents: tc.conds, Sort: sort}))
			if sort == crm.SortName {
				slices.Sort(got)
			}
			if !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
				t.Fatalf("consents %+v sorted by %s: %v, want %v", tc.conds, sort, got, tc.want)
			}
		}
		n, err := e.crm.Customers.Count(e.a, crm.CustomerFilter{Consents: tc.conds})
		if err != nil || n != int64(len(tc.want)) {
			t.Fatalf("count of %+v: %d, %v", tc.conds, n, err)
		}
	}
	_, err := e.crm.Customers.Count(e.a, crm.CustomerFilter{Consents: []crm.ConsentCondition{{Purpose: "nope", State: crm.ConsentGranted}}})
	wantInvalid(t, err, "consents[0].purpose", "unknown")
	_, err = e.crm.Customers.Count(e.a, crm.CustomerFilter{Consents: []crm.ConsentCondition{{Purpose: crm.PurposeSMS, State: crm.ConsentPending}}})
	wantInvalid(t, err, "consents[0].state", "oneof")

	// A segment keeps a notWithdrawn condition too.
	notWithdrawn, err := e.crm.Segments.Create(e.a, crm.NewSegment{Name: "SMS not withdrawn", Filter: crm.CustomerFilter{
		Consents: []crm.ConsentCondition{{Purpose: crm.PurposeSMS, State: crm.ConsentNotWithdrawn}}}})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := e.crm.Segments.Count(e.a, notWithdrawn.ID); err != nil || n != 2 {
		t.Fatalf("notWithdrawn segment count %d, %v", n, err)
	}

	// A segment keeps the condition; its count equals what its iterator yields.
	seg, err := e.crm.Segments.Create(e.a, crm.NewSegment{Name: "SMS ok", Filter: crm.CustomerFilter{
		Consents: []crm.ConsentCondition{{Purpose: crm.PurposeSMS, State: crm.ConsentGranted}}}})
	if err != nil {
		t.Fatal(err)
	}
	count, err := e.crm.Segments.Count(e.a, seg.ID)
	var seen []int64
	if err == nil {
		err = e.crm.Segments.Each(e.a, seg.ID, 1, func(c *crm.Customer) error { seen = append(seen, c.Number); return nil })
	}
	if err != nil || count != 1 || !slices.Equal(seen, []int64{granted.Number}) {
		t.Fatalf("segment count %d, walk %v, err %v", count, seen, err)
	}
}

func testMailingSelection(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	mk := func(name string, f crm.CustomerFields) *crm.Customer {
		f.FirstName, f.LastName = name, "M"
		return e.create(e.a, f)
	}
	reachable := mk("Reachable", crm.CustomerFields{Email: "r@example.nl"})
	loginOnly := mk("LoginOnly", crm.CustomerFields{LoginEmail: "l@example.nl"})
	noAddress := mk("NoAddress", crm.CustomerFields{Company: "x"})
	optedOut := mk("OptedOut", crm.CustomerFields{Email: "o@example.nl"})
	withdrawn := mk("Withdrawn", crm.CustomerFields{Email: "w@example.nl"})
	never := mk("Never", crm.CustomerFields{Email: "n@example.nl"})
	anonymised := mk("Anonymised", crm.CustomerFields{Email: "a@example.nl"})
	flagged := mk("Flagged", crm.CustomerFields{Email: "f@example.nl"})
	english := mk("English", crm.CustomerFields{Email: "e@example.nl", Language: "en"})
	for _, c := range []*crm.Customer{reachable, loginOnly, noAddress, optedOut, withdrawn, anonymised, flagged, english} {
		e.give(e.a, c.ID, crm.PurposeCommercialEmail)
	}
	_ = never
	e.withdraw(e.a, optedOut.ID, crm.PurposeMailings)
	e.withdraw(e.a, withdrawn.ID, crm.PurposeCommercialEmail)
	if _, err := e.crm.Privacy.Anonymise(e.a, anonymised.ID); err != nil {
		t.Fatal(err)
	}
	f, _ := e.crm.Customers.Get(e.a, flagged.ID)
	if _, err := e.crm.Customers.Update(e.a, f.ID, f.Version, crm.CustomerPatch{NoMailings: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	// Organisation B's consenting customer never appears.
	other := e.create(e.b, crm.CustomerFields{FirstName: "Other", Email: "b@example.de"})
	e.give(e.b, other.ID, crm.PurposeCommercialEmail)

	collect := func(p crm.MailingSelectionParams) []crm.MailingRecipient {
		t.Helper()
		var out []crm.MailingRecipient
		if err := e.crm.Consents.MailingSelection(e.a, p, func(r crm.MailingRecipient) error { out = append(out, r); return nil }); err != nil {
			t.Fatalf("mailing selection %+v: %v", p, err)
		}
		return out
	}
	got := collect(crm.MailingSelectionParams{Purpose: crm.PurposeCommercialEmail, PageSize: 1})
	want := []crm.MailingRecipient{
		{CustomerID: reachable.ID, Number: reachable.Number, Name: "Reachable M", Language: "nl", Email: "r@example.nl"},
		{CustomerID: loginOnly.ID, Number: loginOnly.Number, Name: "LoginOnly M", Language: "nl", Email: "l@example.nl"},
		{CustomerID: english.ID, Number: english.Number, Name: "English M", Language: "en", Email: "e@example.nl"},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("mailing selection:\n got %+v\nwant %+v", got, want)
	}
	// From a segment: the segment's filter and the consent rules together.
	seg, err := e.crm.Segments.Create(e.a, crm.NewSegment{Name: "English", Filter: crm.CustomerFilter{Language: "en"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := collect(crm.MailingSelectionParams{SegmentID: seg.ID, Purpose: crm.PurposeCommercialEmail}); len(got) != 1 || got[0].CustomerID != english.ID {
		t.Fatalf("selection from segment: %+v", got)
	}
	// Post needs an address: nobody here has one.
	if got := collect(crm.MailingSelectionParams{Purpose: crm.PurposePost}); len(got) != 0 {
		t.Fatalf("post selection without addresses: %+v", got)
	}
	// SMS needs a number: the customer whose numbers were all removed is
	// left out too.
	texted := mk("Texted", crm.CustomerFields{Phones: []crm.Phone{{Kind: crm.PhoneHome, Number: "+31301234567"}, {Number: "+31612345678"}}})
	removed := mk("Removed", crm.CustomerFields{Phones: []crm.Phone{{Number: "+31612345679"}}})
	if _, err := e.crm.Customers.Update(e.a, removed.ID, removed.Version, crm.CustomerPatch{Phones: &[]crm.Phone{}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*crm.Customer{reachable, texted, removed} {
		e.give(e.a, c.ID, crm.PurposeSMS)
	}
	if got, want := collect(crm.MailingSelectionParams{Purpose: crm.PurposeSMS}), []crm.MailingRecipient{
		{CustomerID: texted.ID, Number: texted.Number, Name: "Texted M", Language: "nl", Phone: "+31612345678"},
	}; !slices.Equal(got, want) {
		t.Fatalf("SMS selection:\n got %+v\nwant %+v", got, want)
	}
	err = e.crm.Consents.MailingSelection(e.a, crm.MailingSelectionParams{Purpose: "nope"}, func(crm.MailingRecipient) error { return nil })
	wantInvalid(t, err, "purpose", "unknown")
	err = e.crm.Consents.MailingSelection(e.b, crm.MailingSelectionParams{SegmentID: seg.ID, Purpose: crm.PurposeCommercialEmail}, func(crm.MailingRecipient) error { return nil })
	wantErr(t, err, crm.ErrNotFound)
}

func testBuiltInWordings(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	ps, err := e.crm.Consents.Purposes(e.a)
	if err != nil {
		t.Fatal(err)
	}
	basis := map[string]crm.LegalBasis{
		crm.PurposeNewsletter: crm.LegalBasisConsent, crm.PurposeCommercialEmail: crm.LegalBasisConsent,
		crm.PurposePost: crm.LegalBasisLegitimateInterest, crm.PurposeSMS: crm.LegalBasisConsent,
		crm.PurposeProfiling: crm.LegalBasisConsent, crm.PurposeMailings: crm.LegalBasisLegitimateInterest,
	}
	texts := map[string]bool{}
	for _, p := range ps {
		if p.LegalBasis != basis[p.Key] {
			t.Fatalf("purpose %s has legal basis %q, want %q", p.Key, p.LegalBasis, basis[p.Key])
		}
		ws, err := e.crm.Consents.Wordings(e.a, p.Key)
		if err != nil {
			t.Fatal(err)
		}
		var langs []string
		for _, w := range ws {
			sum := sha256.Sum256([]byte(w.Text))
			if w.Version != 1 || len(w.Text) < 40 || w.SHA256 != hex.EncodeToString(sum[:]) || texts[w.Text] {
				t.Fatalf("built-in wording of %s: %+v", p.Key, w)
			}
			texts[w.Text] = true
			langs = append(langs, w.Language)
		}
		if slices.Sort(langs); !slices.Equal(langs, []string{"de", "en", "fr", "nl", "pl"}) {
			t.Fatalf("purpose %s has wordings in %v", p.Key, langs)
		}
	}
	// A customer's grant points at the built-in wording in their language.
	for _, lang := range []string{"fr", "pl", "de-AT"} {
		c := e.create(e.a, crm.CustomerFields{FirstName: "Web", LastName: lang, Language: lang})
		r, err := e.crm.Consents.Give(e.a, c.ID, crm.ConsentInput{Purpose: crm.PurposeSMS, Source: crm.SourceWebForm})
		if err != nil {
			t.Fatal(err)
		}
		ws, _ := e.crm.Consents.Wordings(e.a, crm.PurposeSMS)
		i := slices.IndexFunc(ws, func(w crm.ConsentWording) bool { return w.ID == r.WordingID })
		if i < 0 || ws[i].Language != lang[:2] {
			t.Fatalf("a %s customer's grant points at wording %q", lang, r.WordingID)
		}
	}
	// Organisation B has its own copies.
	wa, _ := e.crm.Consents.Wordings(e.a, crm.PurposePost)
	wb, _ := e.crm.Consents.Wordings(e.b, crm.PurposePost)
	if len(wb) != 5 || wb[0].ID == wa[0].ID || wb[0].Text != wa[0].Text {
		t.Fatalf("organisation B's post wordings: %+v", wb)
	}
}

func testConsentNeedsWording(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	if _, err := e.crm.Consents.DefinePurpose(e.a, crm.NewConsentPurpose{Key: "catalogue", Name: "Catalogue", Channel: crm.ChannelPost}); err != nil {
		t.Fatal(err)
	}
	c := e.create(e.a, crm.CustomerFields{FirstName: "Wout", LastName: "Woord", Email: "wout@example.nl"})
	portal := crm.WithActor(e.a, crm.CustomerActor(c.ID))
	give := func(ctx context.Context, in crm.ConsentInput) (*crm.ConsentRecord, error) {
		in.Purpose = "catalogue"
		return e.crm.Consents.Give(ctx, c.ID, in)
	}
	// The purpose has no wording: a grant that does not say it was given
	// without one is refused, from any source.
	for _, src := range []crm.ConsentSource{crm.SourceWebForm, crm.SourceStaff, crm.SourceImport, crm.SourceBooking} {
		_, err := give(e.a, crm.ConsentInput{Source: src})
		wantInvalid(t, err, "wordingId", "wordingNeeded")
	}
	_, err := give(portal, crm.ConsentInput{Source: crm.SourcePortal})
	wantInvalid(t, err, "wordingId", "wordingNeeded")
	_, err = e.crm.Consents.RequestConfirmation(e.a, c.ID, crm.ConsentInput{Purpose: "catalogue", Source: crm.SourceWebForm})
	wantInvalid(t, err, "wordingId", "wordingNeeded")
	// The customer's own sources and double opt-in cannot do without one.
	_, err = give(e.a, crm.ConsentInput{Source: crm.SourceWebForm, NoWording: true})
	wantInvalid(t, err, "noWording", "customerSide")
	_, err = give(portal, crm.ConsentInput{Source: crm.SourcePortal, NoWording: true})
	wantInvalid(t, err, "noWording", "customerSide")
	_, err = e.crm.Consents.RequestConfirmation(e.a, c.ID, crm.ConsentInput{Purpose: "catalogue", Source: crm.SourceStaff, NoWording: true})
	wantInvalid(t, err, "noWording", "customerSide")
	if log, _ := e.crm.Consents.Log(e.a, c.ID); len(log) != 0 {
		t.Fatalf("refused grants wrote records: %+v", log)
	}
	// Staff, an import or a booking say so explicitly.
	for _, src := range []crm.ConsentSource{crm.SourceStaff, crm.SourceImport, crm.SourceBooking} {
		r, err := give(e.a, crm.ConsentInput{Source: src, NoWording: true})
		if err != nil || r.WordingID != "" || r.State != crm.ConsentGranted {
			t.Fatalf("%s grant without a wording: %+v, %v", src, r, err)
		}
	}
	// Withdrawing never needs one.
	if _, err := e.crm.Consents.Withdraw(portal, c.ID, crm.ConsentInput{Purpose: "catalogue", Source: crm.SourcePortal}); err != nil {
		t.Fatal(err)
	}
	// Once the purpose has a wording, the customer's grant points at it;
	// naming a wording and no wording at once is refused.
	w, err := e.crm.Consents.SetWording(e.a, "catalogue", "nl", "Ja, stuur mij de catalogus.")
	if err != nil {
		t.Fatal(err)
	}
	if r, err := give(e.a, crm.ConsentInput{Source: crm.SourceWebForm}); err != nil || r.WordingID != w.ID {
		t.Fatalf("web form grant after a wording exists: %+v, %v", r, err)
	}
	_, err = give(e.a, crm.ConsentInput{Source: crm.SourceStaff, WordingID: w.ID, NoWording: true})
	wantInvalid(t, err, "noWording", "invalid")
	// Organisation B cannot give A's customer anything, with or without a wording.
	_, err = e.crm.Consents.Give(e.b, c.ID, crm.ConsentInput{Purpose: crm.PurposeSMS, Source: crm.SourceStaff, NoWording: true})
	wantErr(t, err, crm.ErrNotFound)
}

func testMailingSelectionOptOut(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	addr := crm.Address{Street: "Dorpsstraat", HouseNumber: "1", PostalCode: "1234 AB", City: "Ergens", Country: "NL"}
	mk := func(name string, f crm.CustomerFields) *crm.Customer {
		f.FirstName, f.LastName = name, "P"
		return e.create(e.a, f)
	}
	neverAsked := mk("NeverAsked", crm.CustomerFields{Address: addr})
	granted := mk("Granted", crm.CustomerFields{Address: addr})
	withdrawn := mk("Withdrawn", crm.CustomerFields{Address: addr})
	noPost := mk("NoPost", crm.CustomerFields{Address: addr, NoPost: true})
	noMailings := mk("NoMailings", crm.CustomerFields{Address: addr, NoMailings: true})
	noStreet := mk("NoStreet", crm.CustomerFields{Address: crm.Address{City: "Ergens"}})
	anonymised := mk("Anonymised", crm.CustomerFields{Address: addr})
	regranted := mk("Regranted", crm.CustomerFields{Address: addr})
	e.give(e.a, granted.ID, crm.PurposePost)
	e.withdraw(e.a, withdrawn.ID, crm.PurposePost)
	e.withdraw(e.a, regranted.ID, crm.PurposePost)
	e.give(e.a, regranted.ID, crm.PurposePost)
	_ = noStreet
	if _, err := e.crm.Privacy.Anonymise(e.a, anonymised.ID); err != nil {
		t.Fatal(err)
	}
	// Organisation B's customer with an address is only in B's selection.
	other := e.create(e.b, crm.CustomerFields{FirstName: "Other", Address: addr})

	collect := func(ctx context.Context, p crm.MailingSelectionParams) []int64 {
		t.Helper()
		var out []int64
		if err := e.crm.Consents.MailingSelection(ctx, p, func(r crm.MailingRecipient) error {
			if r.Address == nil || r.Address.Street == "" {
				t.Fatalf("recipient %d without an address", r.Number)
			}
			out = append(out, r.Number)
			return nil
		}); err != nil {
			t.Fatalf("mailing selection %+v: %v", p, err)
		}
		return out
	}
	// Post is legitimate interest: everyone with an address who did not
	// object, a page at a time.
	want := []int64{neverAsked.Number, granted.Number, regranted.Number}
	for _, size := range []int{1, 2, 500} {
		if got := collect(e.a, crm.MailingSelectionParams{Purpose: crm.PurposePost, PageSize: size}); !slices.Equal(got, want) {
			t.Fatalf("postal selection (pages of %d): %v, want %v (noPost %d, noMailings %d)", size, got, want, noPost.Number, noMailings.Number)
		}
	}
	// The same as a filter: not withdrawn post and mailings, with consent conditions in SQL.
	f := crm.CustomerFilter{Consents: []crm.ConsentCondition{{Purpose: crm.PurposePost, State: crm.ConsentNotWithdrawn},
		{Purpose: crm.PurposeMailings, State: crm.ConsentNotWithdrawn}}}
	if n, err := e.crm.Customers.Count(e.a, f); err != nil || n != 5 { // the three, noStreet and the anonymised shell
		t.Fatalf("count of not withdrawn post and mailings: %d, %v", n, err)
	}
	if got := collect(e.b, crm.MailingSelectionParams{Purpose: crm.PurposePost}); !slices.Equal(got, []int64{other.Number}) {
		t.Fatalf("organisation B's postal selection: %v, want only its own customer %d", got, other.Number)
	}

	// An organisation's own purpose is consent (opt-in) unless it says otherwise.
	opt, err := e.crm.Consents.DefinePurpose(e.a, crm.NewConsentPurpose{Key: "catalogue", Name: "Catalogue", Channel: crm.ChannelPost})
	if err != nil || opt.LegalBasis != crm.LegalBasisConsent {
		t.Fatalf("own purpose: %+v, %v", opt, err)
	}
	if _, err := e.crm.Consents.Give(e.a, granted.ID, crm.ConsentInput{Purpose: "catalogue", Source: crm.SourceStaff, NoWording: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.crm.Consents.Withdraw(e.a, regranted.ID, crm.ConsentInput{Purpose: "catalogue", Source: crm.SourceStaff}); err != nil {
		t.Fatal(err)
	}
	if got := collect(e.a, crm.MailingSelectionParams{Purpose: "catalogue"}); !slices.Equal(got, []int64{granted.Number}) {
		t.Fatalf("opt-in catalogue selection: %v", got)
	}
	// Made legitimate interest, it selects everyone who did not object.
	changed, err := e.crm.Consents.UpdatePurpose(e.a, "catalogue", crm.ConsentPurposePatch{LegalBasis: ptr(crm.LegalBasisLegitimateInterest)})
	if err != nil || changed.LegalBasis != crm.LegalBasisLegitimateInterest {
		t.Fatalf("change legal basis: %+v, %v", changed, err)
	}
	if got := collect(e.a, crm.MailingSelectionParams{Purpose: "catalogue"}); !slices.Equal(got, []int64{neverAsked.Number, granted.Number, withdrawn.Number, noPost.Number}) {
		t.Fatalf("opt-out catalogue selection: %v", got)
	}
	folder, err := e.crm.Consents.DefinePurpose(e.a, crm.NewConsentPurpose{Key: "folder", Name: "Folder", Channel: crm.ChannelPost,
		LegalBasis: crm.LegalBasisLegitimateInterest})
	if err != nil || folder.LegalBasis != crm.LegalBasisLegitimateInterest {
		t.Fatalf("own legitimate-interest purpose: %+v, %v", folder, err)
	}
	if got, _ := e.crm.Consents.Purpose(e.a, "folder"); got.LegalBasis != crm.LegalBasisLegitimateInterest {
		t.Fatalf("stored legal basis: %+v", got)
	}
	_, err = e.crm.Consents.DefinePurpose(e.a, crm.NewConsentPurpose{Key: "leaflet", Name: "Leaflet", Channel: crm.ChannelPost, LegalBasis: "whim"})
	wantInvalid(t, err, "legalBasis", "oneof")
	_, err = e.crm.Consents.UpdatePurpose(e.a, "folder", crm.ConsentPurposePatch{LegalBasis: ptr(crm.LegalBasis("whim"))})
	wantInvalid(t, err, "legalBasis", "oneof")
	// B's purposes keep their own legal basis.
	if got, _ := e.crm.Consents.Purpose(e.b, crm.PurposeNewsletter); got.LegalBasis != crm.LegalBasisConsent {
		t.Fatalf("organisation B's newsletter: %+v", got)
	}
}

// testConfirmNeedsWording: a sign-up recorded without a wording (before
// wordings were required) cannot be confirmed: the grant could not say
// which text the customer agreed to.
func testConfirmNeedsWording(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	c := e.create(e.a, crm.CustomerFields{FirstName: "Oud", LastName: "Aanmelding", Email: "oud@example.nl"})
	ps, err := e.crm.Consents.Purposes(e.a)
	if err != nil {
		t.Fatal(err)
	}
	rec := &crm.ConsentRecord{ID: "01900000-0000-7000-8000-0000000000a1", CustomerID: c.ID, PurposeID: ps[0].ID,
		Purpose: ps[0].Key, State: crm.ConsentPending, Source: crm.SourceWebForm, Actor: crm.System(), At: e.now}
	if err := e.store.ConsentRecordInsert(e.a, orgA, rec); err != nil {
		t.Fatal(err)
	}
	token := "an-old-token-without-a-wording"
	sum := sha256.Sum256([]byte(token))
	if err := e.store.ConsentConfirmationInsert(e.a, &crm.ConsentConfirmation{OrgID: orgA, TokenHash: hex.EncodeToString(sum[:]),
		RecordID: rec.ID, CustomerID: c.ID, PurposeID: ps[0].ID, Source: crm.SourceWebForm, ExpiresAt: e.now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.crm.Consents.Confirm(e.a, token, crm.Evidence{})
	wantInvalid(t, err, "wordingId", "wordingNeeded")
	if s := e.consentState(e.a, c.ID, ps[0].Key); s.State != crm.ConsentNever {
		t.Fatalf("state after a refused confirmation: %+v", s)
	}
}
