package storetest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
)

func testMailTemplates(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open) // A speaks Dutch, B German
	all, err := e.crm.Mail.Templates(e.a)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{crm.TemplateSetPassword, crm.TemplateDocumentDelivery, crm.TemplateDoubleOptIn, crm.TemplateConsentConfirmation} {
		for _, lang := range []string{"en", "nl", "de", "fr", "pl"} {
			if !slices.ContainsFunc(all, func(m crm.MailTemplate) bool { return m.Key == key && m.Language == lang && m.BuiltIn }) {
				t.Fatalf("no built-in %s in %s", key, lang)
			}
		}
	}
	data := crm.MailData{}
	data.Documents = []struct{ Title, FileName string }{{"Voucher", "v.pdf"}}
	subject := func(ctx context.Context, lang string) string {
		t.Helper()
		r, err := e.crm.Mail.Render(ctx, crm.TemplateDocumentDelivery, lang, data)
		if err != nil {
			t.Fatalf("render in %s: %v", lang, err)
		}
		return r.Language + ": " + r.Subject
	}
	// The fallback chain: exact tag, base language, organisation's language, English.
	for _, tc := range []struct {
		ctx        context.Context
		lang, want string
	}{
		{e.a, "nl-BE", "nl: Uw documenten van Reisbureau A"},
		{e.a, "fr", "fr: Vos documents de Reisbureau A"},
		{e.a, "sv", "nl: Uw documenten van Reisbureau A"},
		{e.b, "sv", "de: Ihre Unterlagen von Restaurant B"},
		{e.b, "pl-PL", "pl: Twoje dokumenty od Restaurant B"},
	} {
		if got := subject(tc.ctx, tc.lang); got != tc.want {
			t.Fatalf("%s: %q, want %q", tc.lang, got, tc.want)
		}
	}
	// The organisation's own text comes before the built-in one, in its language only.
	own, err := e.crm.Mail.SetTemplate(e.a, crm.TemplateDocumentDelivery, "nl", crm.MailTemplateInput{
		Subject: "Reisdocumenten voor {{.Customer.FirstName}}", Text: "Hallo {{.Customer.FirstName}}", HTML: "<p>Hallo {{.Customer.FirstName}}</p>"})
	if err != nil || own.BuiltIn {
		t.Fatalf("set template: %+v, %v", own, err)
	}
	data.Customer.FirstName = "<script>alert(1)</script>"
	r, err := e.crm.Mail.Render(e.a, crm.TemplateDocumentDelivery, "nl-BE", data)
	if err != nil {
		t.Fatal(err)
	}
	if r.Subject != "Reisdocumenten voor <script>alert(1)</script>" || r.Text != "Hallo <script>alert(1)</script>" ||
		r.HTML != "<p>Hallo &lt;script&gt;alert(1)&lt;/script&gt;</p>" {
		t.Fatalf("HTML must be escaped, text not: %+v", r)
	}
	if got := subject(e.b, "nl"); got != "nl: Uw documenten van Restaurant B" {
		t.Fatalf("A's template reached B: %q", got)
	}
	if err := e.crm.Mail.DeleteTemplate(e.a, crm.TemplateDocumentDelivery, "nl"); err != nil {
		t.Fatal(err)
	}
	data.Customer.FirstName = ""
	if got := subject(e.a, "nl"); got != "nl: Uw documenten van Reisbureau A" {
		t.Fatalf("after deleting the own template: %q", got)
	}
	// Broken templates are refused when saved.
	_, err = e.crm.Mail.SetTemplate(e.a, "welcome", "en", crm.MailTemplateInput{Subject: "Hi", Text: "Hello {{.Customer.Nickname}}"})
	wantInvalid(t, err, "text", "template")
	_, err = e.crm.Mail.SetTemplate(e.a, "welcome", "en", crm.MailTemplateInput{Subject: "Hi {{if}}", Text: "x"})
	wantInvalid(t, err, "subject", "template")
	_, err = e.crm.Mail.SetTemplate(e.a, "welcome", "en", crm.MailTemplateInput{Subject: "Hi", Text: "x", HTML: "<p>{{.Link</p>"})
	wantInvalid(t, err, "html", "template")
	_, err = e.crm.Mail.SetTemplate(e.a, "Welcome Mail", "en", crm.MailTemplateInput{Subject: "Hi", Text: "x"})
	wantInvalid(t, err, "key", "key")
	_, err = e.crm.Mail.Render(e.a, "no_such_mail", "en", crm.MailData{})
	wantErr(t, err, crm.ErrNotFound)
}

func testOutbox(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	c := e.create(e.a, crm.CustomerFields{FirstName: "Mail", LastName: "Ontvanger", Email: "mail@example.nl", Language: "de-AT"})
	noMail := e.create(e.a, crm.CustomerFields{FirstName: "No", LastName: "Address"})
	d := e.upload(e.a, c.ID, crm.NewDocument{Title: "Reiseplan", FileName: "plan.pdf"}, pdfBytes)
	m, err := e.crm.Documents.Send(e.a, c.ID, []string{d.ID}, crm.SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != crm.OutboxPending || m.ToEmail != "mail@example.nl" || m.Language != "de" ||
		m.Subject != "Ihre Unterlagen von Reisbureau A" || len(m.Attachments) != 1 || m.Attachments[0].SHA256 != d.SHA256 {
		t.Fatalf("queued mail: %+v", m)
	}
	if got, _ := e.crm.Documents.Get(e.a, d.ID); got.SentAt == nil {
		t.Fatal("the document is not marked sent")
	}
	// Deleting the document keeps the attachment's contents until the mail is done.
	if err := e.crm.Documents.Delete(e.a, d.ID); err != nil {
		t.Fatal(err)
	}
	other := e.upload(e.a, noMail.ID, crm.NewDocument{FileName: "x.txt"}, []byte("x"))
	_, err = e.crm.Documents.Send(e.a, noMail.ID, []string{other.ID}, crm.SendOptions{})
	wantInvalid(t, err, "email", "noAddress")
	_, err = e.crm.Documents.Send(e.a, c.ID, []string{other.ID}, crm.SendOptions{})
	wantInvalid(t, err, "documentIds[0]", "unknown")
	_, err = e.crm.Documents.Send(e.b, c.ID, []string{d.ID}, crm.SendOptions{})
	wantErr(t, err, crm.ErrNotFound)

	// A worker claims it; while it holds the lease nobody else gets it.
	claimed, err := e.claimDue(t)
	if err != nil || len(claimed) != 1 || claimed[0].ID != m.ID || claimed[0].Attempts != 1 || claimed[0].Text == "" {
		t.Fatalf("claim: %+v, %v", claimed, err)
	}
	rc, err := e.crm.Outbox.Attachment(t.Context(), &claimed[0], claimed[0].Attachments[0])
	if err != nil {
		t.Fatalf("attachment of a deleted document: %v", err)
	}
	rc.Close()
	if again, _ := e.claimDue(t); len(again) != 0 {
		t.Fatalf("claimed twice: %+v", again)
	}
	if got, retry, err := e.crm.Outbox.Claim(t.Context(), orgA, m.ID); got != nil || err != nil || !retry.Equal(e.now.Add(crm.DefaultOutboxLease)) {
		t.Fatalf("claim of a leased mail: %+v, retry at %s, %v", got, retry, err)
	}
	// The worker crashes: after the lease the mail is claimed again, with a
	// note that the server may have received the first attempt.
	e.now = e.now.Add(crm.DefaultOutboxLease)
	first := claimed[0]
	claimed, _ = e.claimDue(t)
	if len(claimed) != 1 || claimed[0].Attempts != 2 || claimed[0].LastError != crm.UnknownOutcome {
		t.Fatalf("claim after the lease: %+v", claimed)
	}
	// The first attempt's late outcome is refused: the second holds the mail.
	wantErr(t, e.crm.Outbox.Delivered(t.Context(), &first), crm.ErrNotFound)
	// A temporary failure: tried again later, not sooner.
	if err := e.crm.Outbox.Failed(t.Context(), &claimed[0], errors.New("451 try later\nmore"), false); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.claimDue(t); len(got) != 0 {
		t.Fatalf("claimed before the retry time: %+v", got)
	}
	if got, retry, err := e.crm.Outbox.Claim(t.Context(), orgA, m.ID); got != nil || err != nil || retry.IsZero() {
		t.Fatalf("claim before the retry time: %+v, retry at %s, %v", got, retry, err)
	}
	got, _ := e.crm.Outbox.Get(e.a, m.ID)
	if got.Status != crm.OutboxPending || got.LastError != "451 try later" || !got.NextAttemptAt.After(e.now) {
		t.Fatalf("after a temporary failure: %+v", got)
	}
	e.now = got.NextAttemptAt
	claimed, _ = e.claimDue(t)
	if len(claimed) != 1 {
		t.Fatalf("claim at the retry time: %+v", claimed)
	}
	if err := e.crm.Outbox.Delivered(t.Context(), &claimed[0]); err != nil {
		t.Fatal(err)
	}
	got, _ = e.crm.Outbox.Get(e.a, m.ID)
	if got.Status != crm.OutboxSent || got.SentAt == nil {
		t.Fatalf("after delivery: %+v", got)
	}
	// Once delivered, it is never claimed again, and a late second outcome is refused.
	e.now = e.now.Add(24 * time.Hour)
	if again, _ := e.claimDue(t); len(again) != 0 {
		t.Fatalf("a delivered mail was claimed: %+v", again)
	}
	wantErr(t, e.crm.Outbox.Delivered(t.Context(), &claimed[0]), crm.ErrNotFound)
	if got, retry, err := e.crm.Outbox.Claim(t.Context(), orgA, m.ID); got != nil || err != nil || !retry.IsZero() {
		t.Fatalf("claim of a delivered mail: %+v, retry at %s, %v", got, retry, err)
	}
	if got, _, err := e.crm.Outbox.Claim(t.Context(), orgB, m.ID); got != nil || err != nil {
		t.Fatalf("B claimed A's mail: %+v, %v", got, err)
	}
	// The contents of the deleted document went with the mail.
	if _, err := e.crm.Outbox.Attachment(t.Context(), &claimed[0], claimed[0].Attachments[0]); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("contents kept after the mail was done: %v", err)
	}
	events := e.history(e.a, c.ID)
	if events[0].Kind != crm.EventMailSent || events[0].Actor != crm.System() {
		t.Fatalf("timeline after delivery: %+v", events[0])
	}

	// A permanent failure gives up at once.
	m2, err := e.crm.Documents.Send(e.a, c.ID, []string{e.upload(e.a, c.ID, crm.NewDocument{FileName: "b.txt"}, []byte("b")).ID}, crm.SendOptions{Language: "en"})
	if err != nil || m2.Language != "en" {
		t.Fatalf("send in English: %+v, %v", m2, err)
	}
	claimed, _ = e.claimDue(t)
	if err := e.crm.Outbox.Failed(t.Context(), &claimed[0], errors.New("550 no such user"), true); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.crm.Outbox.Get(e.a, m2.ID); got.Status != crm.OutboxFailed {
		t.Fatalf("after a permanent failure: %+v", got)
	}
	if e.history(e.a, c.ID)[0].Kind != crm.EventMailFailed {
		t.Fatal("no mail.failed event")
	}

	// Status lists per organisation and customer.
	page, err := e.crm.Outbox.List(e.a, c.ID, crm.PageRequest{Limit: 1})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != m2.ID || page.Next == "" {
		t.Fatalf("outbox list: %+v, %v", page, err)
	}
	if page, _ := e.crm.Outbox.List(e.b, "", crm.PageRequest{}); len(page.Items) != 0 {
		t.Fatalf("B sees A's mails: %+v", page.Items)
	}
	_, err = e.crm.Outbox.Get(e.b, m.ID)
	wantErr(t, err, crm.ErrNotFound)
}

func testBatchSend(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	attr, err := e.crm.Documents.DefineAttribute(e.a, "Tickets")
	if err != nil {
		t.Fatal(err)
	}
	var customers []*crm.Customer
	for i := range 6 {
		f := crm.CustomerFields{FirstName: "Batch", LastName: string(rune('A' + i)), Email: "b@example.nl"}
		if i == 5 {
			f.Email = "" // no address: skipped, documents stay unsent
		}
		c := e.create(e.a, f)
		customers = append(customers, c)
		for j := range 2 {
			e.upload(e.a, c.ID, crm.NewDocument{FileName: "ticket.txt", AttributeID: attr.ID}, []byte{byte(i), byte(j)})
		}
		e.upload(e.a, c.ID, crm.NewDocument{FileName: "other.txt"}, []byte("not in the batch"))
	}
	// The state after a run that stopped halfway: the first two customers done.
	for _, c := range customers[:2] {
		docs, _ := e.crm.Documents.List(e.a, c.ID, false)
		var ids []string
		for _, d := range docs {
			if d.AttributeID == attr.ID {
				ids = append(ids, d.ID)
			}
		}
		if _, err := e.crm.Documents.Send(e.a, c.ID, ids, crm.SendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// Two runs at once finish the work; nothing is sent twice.
	var wg sync.WaitGroup
	reports := make([]*crm.BatchSendReport, 2)
	for i := range reports {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := e.crm.Documents.SendByAttribute(e.a, attr.ID)
			if err != nil {
				t.Errorf("batch: %v", err)
			}
			reports[i] = r
		}()
	}
	wg.Wait()
	if reports[0] == nil || reports[1] == nil {
		t.FailNow()
	}
	if mails := reports[0].Mails + reports[1].Mails; mails != 3 || reports[0].Documents+reports[1].Documents != 6 {
		t.Fatalf("batch runs queued %d mails (%+v, %+v), want 3", mails, reports[0], reports[1])
	}
	if len(reports[0].Skipped) != 1 || reports[0].Skipped[0].CustomerID != customers[5].ID {
		t.Fatalf("skipped: %+v", reports[0].Skipped)
	}
	perCustomer := map[string]int{}
	for {
		claimed, err := e.claimDue(t)
		if err != nil {
			t.Fatal(err)
		}
		if len(claimed) == 0 {
			break
		}
		for _, m := range claimed {
			perCustomer[m.CustomerID]++
			if len(m.Attachments) != 2 || !strings.Contains(m.Text, "- ticket.txt") {
				t.Fatalf("batch mail: %d attachments, text %q", len(m.Attachments), m.Text)
			}
			if err := e.crm.Outbox.Delivered(t.Context(), &m); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i, c := range customers[:5] {
		if perCustomer[c.ID] != 1 {
			t.Fatalf("customer %d got %d mails, want 1", i, perCustomer[c.ID])
		}
	}
	// A third run finds nothing left.
	if r, err := e.crm.Documents.SendByAttribute(e.a, attr.ID); err != nil || r.Mails != 0 {
		t.Fatalf("third run: %+v, %v", r, err)
	}
	_, err = e.crm.Documents.SendByAttribute(e.b, attr.ID)
	wantInvalid(t, err, "attributeId", "unknown")
}

// claimDue claims every pending mail that is due, as delivery workers do.
func (e *env) claimDue(t *testing.T) ([]crm.OutboxMail, error) {
	t.Helper()
	jobs, err := e.crm.Outbox.Pending(t.Context(), "", 1000)
	if err != nil {
		return nil, err
	}
	var out []crm.OutboxMail
	for _, j := range jobs {
		m, _, err := e.crm.Outbox.Claim(t.Context(), j.OrgID, j.MailID)
		if err != nil {
			return nil, err
		}
		if m != nil {
			out = append(out, *m)
		}
	}
	return out, nil
}
