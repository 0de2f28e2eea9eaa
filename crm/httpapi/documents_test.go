package httpapi_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/store/testdb"
)

// pdfBytes looks like a PDF to a content sniffer.
var pdfBytes = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")

// TestDocuments uploads, lists, downloads, changes, mails, reports and
// deletes documents over HTTP.
func TestDocuments(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		t.Parallel()
		ts := newTestServer(t, open)
		key := ts.keyA

		var c crm.Customer
		ts.do("POST", "/v1/customers", key, map[string]any{"firstName": "Anna", "lastName": "Visser", "loginEmail": "anna@example.nl",
			"language": "nl"}).want(t, http.StatusCreated).json(t, &c)
		var attr crm.DocumentAttribute
		ts.do("POST", "/v1/document-attributes", key, map[string]any{"name": "Reisvouchers"}).want(t, http.StatusCreated).json(t, &attr)
		ts.do("POST", "/v1/document-attributes", key, map[string]any{"name": "reisVOUCHERS"}).wantProblem(t, http.StatusConflict)
		var attrs struct{ Items []crm.DocumentAttribute }
		ts.do("GET", "/v1/document-attributes", key, nil).want(t, http.StatusOK).json(t, &attrs)
		if len(attrs.Items) != 1 || attrs.Items[0].ID != attr.ID {
			t.Fatalf("attributes %+v", attrs.Items)
		}

		// A PDF named .txt is a PDF: the type is sniffed, not taken from the name or the part.
		docs := "/v1/customers/" + c.ID + "/documents"
		res := ts.upload(docs, key, field("title", "Voucher Rome"), field("visibility", "portal"), field("attributeId", attr.ID),
			file("voucher.txt", pdfBytes)).want(t, http.StatusCreated)
		var voucher crm.Document
		res.json(t, &voucher)
		if voucher.ContentType != "application/pdf" || voucher.FileName != "voucher.txt" || voucher.Title != "Voucher Rome" ||
			voucher.Visibility != crm.VisibilityPortal || voucher.AttributeID != attr.ID || voucher.Size != int64(len(pdfBytes)) ||
			voucher.Origin != crm.OriginUpload || voucher.AddedBy != crm.Staff("staff-org-a") || voucher.CustomerID != c.ID {
			t.Fatalf("uploaded %s", res.body)
		}
		if loc := res.header.Get("Location"); loc != "/v1/documents/"+voucher.ID {
			t.Fatalf("Location %q", loc)
		}

		// An upload larger than the API's 64 KiB body limit: uploads follow
		// the document limit (128 KiB here), not the JSON one.
		big := bytes.Repeat([]byte("0123456789abcdef"), 100<<10/16)
		var notes crm.Document
		ts.upload(docs, key, file(`C:\Users\anna\Überblick "2026".bin`, big)).want(t, http.StatusCreated).json(t, &notes)
		if notes.Visibility != crm.VisibilityInternal || notes.FileName != `Überblick "2026".bin` || notes.Title != notes.FileName {
			t.Fatalf("internal upload %+v", notes)
		}

		// Downloads are byte for byte, with the document's type, name, length and hash.
		download := func(d crm.Document, want []byte) response {
			t.Helper()
			res := ts.do("GET", "/v1/documents/"+d.ID+"/content", key, nil).want(t, http.StatusOK)
			if !bytes.Equal(res.body, want) {
				t.Fatalf("downloaded %d bytes, not the %d uploaded", len(res.body), len(want))
			}
			sum := sha256.Sum256(want)
			if res.header.Get("ETag") != `"`+hex.EncodeToString(sum[:])+`"` || res.header.Get("Content-Length") != strconv.Itoa(len(want)) ||
				res.header.Get("Content-Type") != d.ContentType || res.header.Get("X-Content-Type-Options") != "nosniff" ||
				!strings.Contains(res.header.Get("Cache-Control"), "no-store") {
				t.Fatalf("download headers %v", res.header)
			}
			return res
		}
		res = download(voucher, pdfBytes)
		if cd := res.header.Get("Content-Disposition"); cd != `attachment; filename="voucher.txt"` {
			t.Fatalf("Content-Disposition %q", cd)
		}
		res = download(notes, big)
		if cd := res.header.Get("Content-Disposition"); cd != `attachment; filename="_berblick _2026_.bin"; filename*=UTF-8''%C3%9Cberblick%20%222026%22.bin` {
			t.Fatalf("Content-Disposition %q", cd)
		}
		// A copy the client has is not sent again.
		etag := res.header.Get("ETag")
		for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
			res := ts.do("GET", "/v1/documents/"+notes.ID+"/content", key, nil, "If-None-Match", inm).want(t, http.StatusNotModified)
			if len(res.body) != 0 || res.header.Get("ETag") != etag {
				t.Fatalf("304 for %q: %v %q", inm, res.header, res.body)
			}
		}
		ts.do("GET", "/v1/documents/"+notes.ID+"/content", key, nil, "If-None-Match", `"other"`).want(t, http.StatusOK)

		// The portal view hides internal documents.
		list := func(view string) []crm.Document {
			t.Helper()
			var l struct{ Items []crm.Document }
			ts.do("GET", docs+view, key, nil).want(t, http.StatusOK).json(t, &l)
			return l.Items
		}
		if all := list(""); len(all) != 2 || all[0].ID != notes.ID || all[1].ID != voucher.ID {
			t.Fatalf("staff view %+v", all)
		}
		if staff := list("?view=staff"); len(staff) != 2 {
			t.Fatalf("staff view %+v", staff)
		}
		if portal := list("?view=portal"); len(portal) != 1 || portal[0].ID != voucher.ID {
			t.Fatalf("portal view %+v", portal)
		}
		var got crm.Document
		ts.do("GET", "/v1/documents/"+voucher.ID, key, nil).want(t, http.StatusOK).json(t, &got)
		if got.ID != voucher.ID || got.SHA256 != voucher.SHA256 {
			t.Fatalf("get %+v", got)
		}

		// Changes: the title and visibility; attributeId "" takes the attribute off.
		var changed crm.Document
		ts.do("PATCH", "/v1/documents/"+notes.ID, key, map[string]any{"title": "Overzicht", "visibility": "portal", "attributeId": attr.ID}).
			want(t, http.StatusOK).json(t, &changed)
		if changed.Title != "Overzicht" || changed.Visibility != crm.VisibilityPortal || changed.AttributeID != attr.ID || changed.SHA256 != notes.SHA256 {
			t.Fatalf("changed %+v", changed)
		}
		if portal := list("?view=portal"); len(portal) != 2 {
			t.Fatalf("portal view after the change %+v", portal)
		}
		changed = crm.Document{}
		ts.do("PATCH", "/v1/documents/"+notes.ID, key, map[string]any{"visibility": "internal", "attributeId": ""}).
			want(t, http.StatusOK).json(t, &changed)
		if changed.Title != "Overzicht" || changed.Visibility != crm.VisibilityInternal || changed.AttributeID != "" {
			t.Fatalf("changed back %+v", changed)
		}

		// Mailing documents queues a mail in the customer's language, or the one asked for.
		var mail crm.OutboxMail
		res = ts.do("POST", docs+"/send", key, map[string]any{"documentIds": []string{voucher.ID}}).want(t, http.StatusAccepted)
		res.json(t, &mail)
		if mail.Status != crm.OutboxPending || mail.CustomerID != c.ID || mail.Template != crm.TemplateDocumentDelivery ||
			mail.Language != "nl" || mail.ToEmail != "anna@example.nl" || len(mail.Attachments) != 1 ||
			mail.Attachments[0].DocumentID != voucher.ID || mail.Attachments[0].SHA256 != voucher.SHA256 || mail.Subject == "" {
			t.Fatalf("queued %s", res.body)
		}
		if loc := res.header.Get("Location"); loc != "/v1/outbox/"+mail.ID {
			t.Fatalf("Location %q", loc)
		}
		var status crm.OutboxMail
		ts.do("GET", "/v1/outbox/"+mail.ID, key, nil).want(t, http.StatusOK).json(t, &status)
		if status.ID != mail.ID || status.Status != crm.OutboxPending || status.Attempts != 0 {
			t.Fatalf("outbox mail %+v", status)
		}
		var german crm.OutboxMail
		ts.do("POST", docs+"/send", key, map[string]any{"documentIds": []string{voucher.ID, notes.ID}, "language": "de-AT"}).
			want(t, http.StatusAccepted).json(t, &german)
		if german.Language != "de" || len(german.Attachments) != 2 || german.Subject == mail.Subject {
			t.Fatalf("German mail %+v", german)
		}
		ts.do("GET", "/v1/documents/"+voucher.ID, key, nil).want(t, http.StatusOK).json(t, &got)
		if got.SentAt == nil {
			t.Fatalf("sent document without sentAt: %+v", got)
		}

		// The outbox lists newest first, per customer, in pages.
		outbox := func(query string) crm.Page[crm.OutboxMail] {
			t.Helper()
			var p crm.Page[crm.OutboxMail]
			ts.do("GET", "/v1/outbox"+query, key, nil).want(t, http.StatusOK).json(t, &p)
			return p
		}
		page := outbox("?limit=1&customerId=" + c.ID)
		if len(page.Items) != 1 || page.Items[0].ID != german.ID || page.Next == "" {
			t.Fatalf("outbox page 1 %+v", page)
		}
		page = outbox("?limit=1&customerId=" + c.ID + "&cursor=" + page.Next)
		if len(page.Items) != 1 || page.Items[0].ID != mail.ID {
			t.Fatalf("outbox page 2 %+v", page)
		}
		if strings.Contains(string(ts.do("GET", "/v1/outbox", key, nil).body), "Hallo") {
			t.Fatal("the outbox list shows mail bodies")
		}

		// A batch by attribute sends each customer's unsent documents once.
		var c2, c3 crm.Customer
		ts.do("POST", "/v1/customers", key, map[string]any{"lastName": "Bakker", "loginEmail": "bakker@example.nl"}).
			want(t, http.StatusCreated).json(t, &c2)
		ts.do("POST", "/v1/customers", key, map[string]any{"lastName": "Zonderpost"}).want(t, http.StatusCreated).json(t, &c3)
		for _, cust := range []string{c.ID, c2.ID, c2.ID, c3.ID} {
			ts.upload("/v1/customers/"+cust+"/documents", key, field("attributeId", attr.ID), file("ticket.txt", []byte("ticket of "+cust))).
				want(t, http.StatusCreated)
		}
		before := len(outbox("?limit=500").Items)
		var report crm.BatchSendReport
		ts.do("POST", "/v1/document-attributes/"+attr.ID+"/send", key, nil).want(t, http.StatusOK).json(t, &report)
		if report.Mails != 2 || report.Documents != 3 || len(report.Skipped) != 1 || report.Skipped[0].CustomerID != c3.ID {
			t.Fatalf("first batch %+v", report)
		}
		ts.do("POST", "/v1/document-attributes/"+attr.ID+"/send", key, nil).want(t, http.StatusOK).json(t, &report)
		if report.Mails != 0 || report.Documents != 0 || len(report.Skipped) != 1 {
			t.Fatalf("second batch %+v", report)
		}
		if after := len(outbox("?limit=500").Items); after != before+2 {
			t.Fatalf("outbox grew from %d to %d, want two mails", before, after)
		}

		// A report is filed as an internal document.
		var filed crm.Document
		res = ts.do("POST", "/v1/customers/"+c.ID+"/reports", key, nil).want(t, http.StatusCreated)
		res.json(t, &filed)
		if filed.Origin != crm.OriginReport || filed.Visibility != crm.VisibilityInternal || !strings.HasPrefix(filed.ContentType, "text/plain") ||
			!strings.HasPrefix(filed.FileName, "report-1-") || res.header.Get("Location") != "/v1/documents/"+filed.ID {
			t.Fatalf("filed report %s", res.body)
		}
		content := ts.do("GET", "/v1/documents/"+filed.ID+"/content", key, nil).want(t, http.StatusOK)
		if !strings.Contains(string(content.body), "Report of Anna Visser (1) for Reisbureau A") {
			t.Fatalf("report %q", content.body)
		}

		// Deleting: gone, and its contents with it.
		ts.do("DELETE", "/v1/documents/"+notes.ID, key, nil).want(t, http.StatusNoContent)
		ts.do("GET", "/v1/documents/"+notes.ID, key, nil).wantProblem(t, http.StatusNotFound)
		ts.do("GET", "/v1/documents/"+notes.ID+"/content", key, nil).wantProblem(t, http.StatusNotFound)
		ts.do("DELETE", "/v1/documents/"+notes.ID, key, nil).wantProblem(t, http.StatusNotFound)
		// The voucher is attached to a pending mail: deleting the document
		// keeps the contents until the mail is done.
		ts.do("DELETE", "/v1/documents/"+voucher.ID, key, nil).want(t, http.StatusNoContent)
		var history crm.Page[crm.HistoryEvent]
		ts.do("GET", "/v1/customers/"+c.ID+"/history?limit=500", key, nil).want(t, http.StatusOK).json(t, &history)
		kinds := map[crm.EventKind]int{}
		for _, e := range history.Items {
			kinds[e.Kind]++
		}
		if kinds[crm.EventDocumentAdded] != 4 || kinds[crm.EventDocumentDeleted] != 2 || kinds[crm.EventMailQueued] != 3 {
			t.Fatalf("timeline %v", kinds)
		}
	})
}

// TestUploadLimit uploads exactly the limit and one byte more, and a file
// far over it: the answer comes without the server reading it all.
func TestUploadLimit(t *testing.T) {
	testdb.Each(t, func(t *testing.T, open testdb.Opener) {
		t.Parallel()
		ts := newTestServer(t, open)
		var c crm.Customer
		ts.do("POST", "/v1/customers", ts.keyA, map[string]any{"lastName": "Groot"}).want(t, http.StatusCreated).json(t, &c)
		docs := "/v1/customers/" + c.ID + "/documents"
		ts.upload(docs, ts.keyA, file("limit.bin", bytes.Repeat([]byte{7}, testMaxDocument))).want(t, http.StatusCreated)
		for _, size := range []int{testMaxDocument + 1, 4 * testMaxDocument} {
			p := ts.upload(docs, ts.keyA, file("big.bin", bytes.Repeat([]byte{7}, size))).wantProblem(t, http.StatusRequestEntityTooLarge)
			if !p.hasError("body.file", "maxBytes") {
				t.Fatalf("%d bytes: %+v", size, p)
			}
		}
		var l struct{ Items []crm.Document }
		ts.do("GET", docs, ts.keyA, nil).want(t, http.StatusOK).json(t, &l)
		if len(l.Items) != 1 {
			t.Fatalf("%d documents, want the one within the limit", len(l.Items))
		}
	})
}
