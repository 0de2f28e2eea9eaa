package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"testing"

	"github.com/google/uuid"

	"github.com/dossiercrm/dossier/crm"
)

// exportPagesCustomers is more customers than two of an export's pages
// (it reads 2,000 at a time).
const exportPagesCustomers = 4500

// pageName is the last name of the i-th customer of testExportManyPages:
// long enough that the export is several times the CSV writer's buffer,
// so that a failing writer fails while rows are still being written.
func pageName(i int) string { return fmt.Sprintf("P%05d Achternaam-van-de-klant", i) }

// errDiskFull is what failingWriter answers once its room is used.
var errDiskFull = errors.New("no space left on device")

// failingWriter takes room bytes, then fails.
type failingWriter struct{ room int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.room {
		n := w.room
		w.room = 0
		return n, errDiskFull
	}
	w.room -= len(p)
	return len(p), nil
}

// testExportManyPages: an export of several pages (read, linked and
// written in overlapping stages) writes every customer once, in number
// order, with its own tags, booking count and consent (each read for a
// whole page at once), including the customers at the pages' edges; an
// export whose writer fails returns the writer's error and stays on
// record unfinished, with the rows written before.
func testExportManyPages(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	ctx := e.a
	var first int64
	ids := make([]string, exportPagesCustomers)
	// Inserted in bulk, as an import does, to keep the test quick.
	if err := e.store.InTx(ctx, func(tx crm.Store) error {
		var err error
		if first, err = tx.OrganisationReserveCustomerNumbers(ctx, orgA, exportPagesCustomers); err != nil {
			return err
		}
		cs := make([]*crm.Customer, exportPagesCustomers)
		for i := range cs {
			f := crm.CustomerFields{LastName: pageName(i), Status: crm.StatusCustomer, Language: "nl"}
			ids[i] = uuid.Must(uuid.NewV7()).String()
			cs[i] = &crm.Customer{ID: ids[i], OrgID: orgA, Number: first + int64(i), CustomerFields: f,
				CreatedAt: e.now, UpdatedAt: e.now, LastActivityAt: e.now, Version: 1, SortKey: crm.SortKey("nl", &f)}
		}
		return tx.CustomerInsertMany(ctx, cs)
	}); err != nil {
		t.Fatal(err)
	}
	e.create(e.b, crm.CustomerFields{LastName: "Other organisation"})
	tags, err := e.crm.Tags.List(ctx)
	if err != nil || len(tags) == 0 {
		t.Fatalf("tags %v, %v", tags, err)
	}
	vip := tags[len(tags)-1]
	// The last of the first page, the first of the second, one in the
	// middle and the last customer.
	edges := []int{1999, 2000, 3333, exportPagesCustomers - 1}
	for _, i := range edges {
		if _, err := e.crm.Tags.Add(ctx, ids[i], vip.ID); err != nil {
			t.Fatal(err)
		}
		e.upsert(ctx, trip("EDGE-"+strconv.Itoa(i), &crm.Customer{ID: ids[i]}, "2027-06-01", 1000))
		e.give(ctx, ids[i], crm.PurposeNewsletter)
	}

	var out bytes.Buffer
	rec, err := e.crm.Exports.Export(ctx, crm.ExportParams{Columns: []string{"number", "lastName", "tags", "bookings", "consent.newsletter"}}, &out)
	if err != nil {
		t.Fatal(err)
	}
	recs := readCSV(t, out.Bytes())[1:]
	if len(recs) != exportPagesCustomers || rec.Rows != exportPagesCustomers {
		t.Fatalf("%d rows written (record %d), want %d", len(recs), rec.Rows, exportPagesCustomers)
	}
	for i, r := range recs {
		wantTag, wantBookings, wantConsent := "", "0", "never"
		for _, edge := range edges {
			if i == edge {
				wantTag, wantBookings, wantConsent = vip.Name, "1", "granted"
			}
		}
		if r[0] != strconv.FormatInt(first+int64(i), 10) || r[1] != pageName(i) || r[2] != wantTag || r[3] != wantBookings || r[4] != wantConsent {
			t.Fatalf("row %d: %q, want number %d, %s, tag %q, bookings %s, consent %s", i, r, first+int64(i), pageName(i), wantTag, wantBookings, wantConsent)
		}
	}

	w := &failingWriter{room: 16 << 10}
	rec, err = e.crm.Exports.Export(ctx, crm.ExportParams{Columns: []string{"number", "lastName", "tags"}}, w)
	if !errors.Is(err, errDiskFull) {
		t.Fatalf("export to a full disk: %v", err)
	}
	if rec == nil || rec.Rows >= exportPagesCustomers {
		t.Fatalf("export to a full disk: record %+v", rec)
	}
	page, err := e.crm.Exports.Records(ctx, crm.PageRequest{})
	if err != nil || len(page.Items) != 2 {
		t.Fatalf("records %+v, %v", page.Items, err)
	}
	if last := page.Items[0]; last.ID != rec.ID || last.FinishedAt != nil {
		t.Fatalf("the cut-off export's record: %+v", last)
	}

	// The other organisation's export holds its own customer only.
	out.Reset()
	if r, err := e.crm.Exports.Export(e.b, crm.ExportParams{}, &out); err != nil || r.Rows != 1 {
		t.Fatalf("export of B: %+v, %v", r, err)
	}
}
