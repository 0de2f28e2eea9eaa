package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/mail/mailtest"
	"github.com/dossiercrm/dossier/crm/report"
	"github.com/dossiercrm/dossier/crm/store/cloudblob"
)

// openCRMWithDocuments opens the database of a server with the server's
// data directory, so that documents the test adds are the server's too.
func openCRMWithDocuments(t *testing.T, dsn, dataDir string) *crm.CRM {
	t.Helper()
	blobs, err := cloudblob.OpenDir(filepath.Join(dataDir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { blobs.Close() })
	return openCRMWithConfig(t, dsn, crm.Config{Blobs: blobs, Reports: report.PDF{}})
}

// waitMails waits until the SMTP server has received n mails.
func waitMails(t *testing.T, srv *mailtest.Server, n int, logs *syncBuffer) []*mailtest.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	msgs, err := srv.Wait(ctx, n)
	if err != nil {
		t.Fatalf("the SMTP server received %d mails, want %d: %v\nserver log:\n%s", len(srv.Messages()), n, err, logs)
	}
	return msgs
}

// waitOutbox waits until the outbox mail id has the status want.
func waitOutbox(t *testing.T, c *crm.CRM, ctx context.Context, id string, want crm.OutboxStatus) *crm.OutboxMail {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		m, err := c.Outbox.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if m.Status == want {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("outbox mail %s is %s (%s), want %s", id, m.Status, m.LastError, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestServeMailsBySMTP runs serve with an SMTP server: a double opt-in
// sign-up over the HTTP API gets its confirmation mail with the link of
// --confirmation-url, and documents sent through the library, an upload
// and a filed PDF report, arrive as attachments in the customer's
// language. The server and the test share the database and the data
// directory.
func TestServeMailsBySMTP(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		const password = "s3cret-smtp-pw"
		smtp := mailtest.NewServer(t, mailtest.WithAuth("dossier", password))
		dataDir := t.TempDir()
		srv := env{"DOSSIER_SMTP_PASSWORD": password}.startServer(t, "--db", dsn, "--data-dir", dataDir,
			"--smtp-host", smtp.Host, "--smtp-port", strconv.Itoa(smtp.Port), "--smtp-tls", "none", "--smtp-user", "dossier",
			"--mail-from", "Acme Reizen <noreply@acme.example>",
			"--confirmation-url", "https://acme.example/confirm?t={token}",
			"--retention-every", "0", "--points-expiry-every", "0")
		key := secretPattern.FindString(srv.stdout.String())
		if key == "" {
			t.Fatalf("no API key:\n%s", srv.stdout)
		}

		created := call(t, "POST", srv.url+"/v1/customers", key,
			`{"firstName":"Zoë","lastName":"Dvořák","email":"zoe@example.nl","language":"nl"}`)
		wantStatus(t, "create", created, http.StatusCreated)
		var zoe crm.Customer
		created.decode(t, &zoe)
		pending := call(t, "POST", srv.url+"/v1/customers/"+zoe.ID+"/consents/double-opt-in", key,
			`{"purpose":"newsletter","source":"web_form"}`)
		wantStatus(t, "double opt-in", pending, http.StatusCreated)
		var p crm.PendingConsent
		pending.decode(t, &p)

		confirm := waitMails(t, smtp, 1, srv.stderr)[0]
		if !strings.HasPrefix(confirm.Subject, "Graag bevestigen:") {
			t.Errorf("confirmation subject %q, want the Dutch one", confirm.Subject)
		}
		if link := "https://acme.example/confirm?t=" + p.Token; !strings.Contains(confirm.Text, link) {
			t.Errorf("the confirmation mail lacks %s:\n%s", link, confirm.Text)
		}
		if confirm.From != "noreply@acme.example" || len(confirm.To) != 1 || confirm.To[0] != "zoe@example.nl" || confirm.AuthUser != "dossier" {
			t.Errorf("envelope from %q to %q, auth %q", confirm.From, confirm.To, confirm.AuthUser)
		}
		if from := confirm.Header.Get("From"); !strings.Contains(from, "noreply@acme.example") || !strings.Contains(from, "Acme Reizen") {
			t.Errorf("From header %q", from)
		}

		c := openCRMWithDocuments(t, dsn, dataDir)
		ctx := crm.WithActor(crm.WithOrg(context.Background(), firstOrgID), crm.Staff(crm.AdministratorID))
		upload := []byte("Reisschema Łódź – Kraków\n\x00\x01\x02 binary tail")
		doc, err := c.Documents.Add(ctx, zoe.ID, crm.NewDocument{Title: "Reisschema", FileName: "reisschema.bin"}, bytes.NewReader(upload))
		if err != nil {
			t.Fatal(err)
		}
		rep, err := c.Documents.FileReport(ctx, zoe.ID)
		if err != nil {
			t.Fatal(err)
		}
		_, rc, err := c.Documents.Open(ctx, rep.ID)
		if err != nil {
			t.Fatal(err)
		}
		reportPDF, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(reportPDF, []byte("%PDF-")) || rep.ContentType != "application/pdf" {
			t.Fatalf("the filed report is %s, starting %q", rep.ContentType, reportPDF[:min(len(reportPDF), 8)])
		}
		queued, err := c.Documents.Send(ctx, zoe.ID, []string{doc.ID, rep.ID}, crm.SendOptions{})
		if err != nil {
			t.Fatal(err)
		}

		got := waitMails(t, smtp, 2, srv.stderr)[1]
		if want := "Uw documenten van " + firstOrgName; got.Subject != want {
			t.Errorf("subject %q, want %q", got.Subject, want)
		}
		if len(got.Attachments) != 2 {
			t.Fatalf("%d attachments, want 2", len(got.Attachments))
		}
		byName := map[string][]byte{}
		for _, a := range got.Attachments {
			byName[a.Filename] = a.Data
		}
		if !bytes.Equal(byName["reisschema.bin"], upload) {
			t.Errorf("the uploaded attachment is %q, want %q", byName["reisschema.bin"], upload)
		}
		if !bytes.Equal(byName[rep.FileName], reportPDF) {
			t.Errorf("the report attachment %s differs from the filed report (%d bytes, want %d)", rep.FileName, len(byName[rep.FileName]), len(reportPDF))
		}
		waitOutbox(t, c, ctx, queued.ID, crm.OutboxSent)

		if code := srv.shutdown(t); code != 0 {
			t.Fatalf("serve exited with %d\nstderr:\n%s", code, srv.stderr)
		}
		logs := srv.stderr.String()
		for _, want := range []string{`msg="mail goes out by SMTP" server=` + smtp.Addr + " tls=none auth=true", `msg="background work started" mail=true`, "msg=stopped"} {
			if !strings.Contains(logs, want) {
				t.Errorf("the log lacks %q:\n%s", want, logs)
			}
		}
		for _, secret := range []string{password, key, "log sender"} {
			if strings.Contains(logs, secret) {
				t.Errorf("the log contains %q:\n%s", secret, logs)
			}
		}
	})
}

// TestServeMailsToLog runs serve without --smtp-host: it says so at start,
// and a mail is written to the log rather than dropped, and counts as
// delivered.
func TestServeMailsToLog(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		dataDir := t.TempDir()
		srv := startServer(t, "--db", dsn, "--data-dir", dataDir, "--retention-every", "0", "--points-expiry-every", "0")
		if !strings.Contains(srv.stderr.String(), `level=INFO msg="mails are written to this log, not sent: no --smtp-host is set (log sender)"`) {
			t.Errorf("no start line about the log sender:\n%s", srv.stderr)
		}
		c := openCRMWithDocuments(t, dsn, dataDir)
		ctx := crm.WithActor(crm.WithOrg(context.Background(), firstOrgID), crm.Staff(crm.AdministratorID))
		cust, err := c.Customers.Create(ctx, crm.CustomerFields{FirstName: "Łukasz", Email: "lukasz@example.pl", Language: "pl"})
		if err != nil {
			t.Fatal(err)
		}
		doc, err := c.Documents.Add(ctx, cust.ID, crm.NewDocument{FileName: "bilet.txt"}, strings.NewReader("Bilet Warszawa"))
		if err != nil {
			t.Fatal(err)
		}
		queued, err := c.Documents.Send(ctx, cust.ID, []string{doc.ID}, crm.SendOptions{})
		if err != nil {
			t.Fatal(err)
		}
		waitOutbox(t, c, ctx, queued.ID, crm.OutboxSent)
		line := regexp.MustCompile(`msg="mail not sent \(log sender\)".*to="Łukasz <lukasz@example.pl>" subject="Twoje dokumenty od ` + firstOrgName + `" attachments="bilet.txt \(14 bytes\)"`)
		if !line.MatchString(srv.stderr.String()) {
			t.Errorf("the log lacks the mail:\n%s", srv.stderr)
		}
		if code := srv.shutdown(t); code != 0 {
			t.Fatalf("serve exited with %d\nstderr:\n%s", code, srv.stderr)
		}
	})
}

// TestServeMailWorkerOff checks that DOSSIER_MAIL_WORKER=false leaves the
// outbox alone, and says so.
func TestServeMailWorkerOff(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "dossier.db")
	dataDir := t.TempDir()
	srv := env{"DOSSIER_MAIL_WORKER": "false"}.startServer(t, "--db", dsn, "--data-dir", dataDir)
	c := openCRMWithDocuments(t, dsn, dataDir)
	ctx := crm.WithActor(crm.WithOrg(context.Background(), firstOrgID), crm.Staff(crm.AdministratorID))
	cust, err := c.Customers.Create(ctx, crm.CustomerFields{FirstName: "Anna", Email: "anna@example.nl"})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := c.Documents.Add(ctx, cust.ID, crm.NewDocument{FileName: "a.txt"}, strings.NewReader("a"))
	if err != nil {
		t.Fatal(err)
	}
	queued, err := c.Documents.Send(ctx, cust.ID, []string{doc.ID}, crm.SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // a worker would have claimed it by now
	if code := srv.shutdown(t); code != 0 {
		t.Fatalf("serve exited with %d\nstderr:\n%s", code, srv.stderr)
	}
	logs := srv.stderr.String()
	if !strings.Contains(logs, "mail worker off") || strings.Contains(logs, "mail=true") || strings.Contains(logs, "mail not sent") {
		t.Errorf("log:\n%s", logs)
	}
	if m, err := c.Outbox.Get(ctx, queued.ID); err != nil || m.Status != crm.OutboxPending || m.Attempts != 0 {
		t.Errorf("outbox mail %+v, %v; want pending, untried", m, err)
	}
}

// TestRetentionDeletesDocuments checks that "dossier retention" removes
// the contents of an anonymised customer's documents from the bucket that
// --blob-url names.
func TestRetentionDeletesDocuments(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "dossier.db")
	dataDir := t.TempDir()
	dossier(t, "org", "create", "--db", dsn, "--id", "acme", "--name", "Acme").wantCode(t, 0)
	c := openCRMWithDocuments(t, dsn, dataDir)
	blobs, err := cloudblob.OpenDir(filepath.Join(dataDir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { blobs.Close() })
	ctx := crm.WithActor(crm.WithOrg(context.Background(), "acme"), crm.Staff(crm.AdministratorID))
	past := openCRMWithConfig(t, dsn, crm.Config{Blobs: blobs, Clock: func() time.Time { return time.Now().AddDate(-2, 0, 0) }})
	cust, err := past.Customers.Create(ctx, crm.CustomerFields{FirstName: "Old"})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := past.Documents.Add(ctx, cust.ID, crm.NewDocument{FileName: "old.txt"}, strings.NewReader("old contents"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Privacy.SetRetention(ctx, crm.RetentionPolicy{Enabled: true, InactiveDays: 365}); err != nil {
		t.Fatal(err)
	}
	key := "acme/" + doc.SHA256
	if rc, err := blobs.Open(ctx, key); err != nil {
		t.Fatal(err)
	} else {
		rc.Close()
	}

	// The same folder named by URL, as object storage would be.
	blobURL := "file://" + filepath.ToSlash(filepath.Join(dataDir, "blobs")) + "?metadata=skip"
	r := dossier(t, "retention", "--db", dsn, "--blob-url", blobURL).wantCode(t, 0)
	if !strings.Contains(r.stdout, "anonymised 1 customer ") {
		t.Errorf("retention printed %q", r.stdout)
	}
	if _, err := blobs.Open(ctx, key); err == nil {
		t.Error("the document's contents are still on disk")
	}
}

// TestServeMailUsage checks the mail and document settings' errors.
func TestServeMailUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  env
		want string
	}{
		{[]string{"serve", "--smtp-host", "mail.example.com"}, nil, "--smtp-host needs --mail-from"},
		{[]string{"serve", "--smtp-host", "mail.example.com", "--mail-from", "not an address"}, nil, "--mail-from must be an address"},
		{[]string{"serve", "--smtp-tls", "ssl"}, nil, "--smtp-tls must be starttls, opportunistic, tls or none"},
		{[]string{"serve", "--smtp-port", "70000"}, nil, "--smtp-port must be between 1 and 65535"},
		{[]string{"serve", "--smtp-user", "u"}, nil, "--smtp-user and $DOSSIER_SMTP_PASSWORD need --smtp-host"},
		{[]string{"serve", "--smtp-host", "mail.example.com", "--mail-from", "a@example.com", "--smtp-user", "u"}, nil,
			"Username is set but Password is empty"},
		{[]string{"serve", "--smtp-host", "mail.example.com:25", "--mail-from", "a@example.com"}, nil, "without a port"},
		{[]string{"serve", "--smtp-host", "mail.example.com", "--mail-from", "a@example.com", "--smtp-tls", "none", "--smtp-user", "u"},
			env{"DOSSIER_SMTP_PASSWORD": "pw-not-shown"}, "credentials would be sent unencrypted"},
		{[]string{"serve", "--max-document-bytes", "0"}, nil, "--max-document-bytes must be positive"},
		{[]string{"serve", "--blob-url", "s3://bucket?region=eu-west-1"}, nil, "built without that driver; build it with -tags dossier_s3"},
		{[]string{"serve", "--blob-url", "ftp://host/dir"}, nil, `unknown scheme "ftp"`},
		{[]string{"serve", "--blob-url", "dossier-data"}, nil, "is not a URL"},
		{[]string{"serve"}, env{"DOSSIER_MAIL_WORKER": "maybe"}, `DOSSIER_MAIL_WORKER: invalid value "maybe"`},
		{[]string{"serve", "--confirmation-url", "https://example.com/confirm"}, nil, "--confirmation-url must contain {token}"},
		{[]string{"serve", "--confirmation-url", "example.com/confirm?t={token}"}, nil, "--confirmation-url must be an http or https URL"},
	} {
		r := tc.env.dossier(t, tc.args...).wantCode(t, 2)
		if !strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, "Usage: dossier serve") {
			t.Errorf("%v: stderr lacks %q and the usage:\n%s", tc.args, tc.want, r.stderr)
		}
		if strings.Contains(r.stderr, "pw-not-shown") {
			t.Errorf("%v: the password is shown:\n%s", tc.args, r.stderr)
		}
	}
}
