package crm

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"slices"
)

// dropUpload deletes an ended import's uploaded file: a run needs it, the
// report, the error file and a revert do not (the report keeps each row's
// cells). The import has ended whether or not the blob store deletes.
func (s *ImportService) dropUpload(ctx context.Context, im *FileImport) {
	if s.cfg.Blobs != nil {
		_ = s.cfg.Blobs.Delete(ctx, importFileKey(im.OrgID, im.ID))
	}
}

// forgetImportRows blanks the cells of the rows of import reports that
// name the customer (made or changed by an import), for anonymisation: the
// line, outcome and customer id stay, so the report still adds up. The
// uploaded files are gone once an import ends (dropUpload); a running
// import's upload keeps the row until the import ends. Refused rows name
// no customer and are not found here.
func (c *core) forgetImportRows(ctx context.Context, tx Store, orgID string, cust *Customer) error {
	if c.cfg.Blobs == nil {
		return nil
	}
	var imports []string
	batches, err := tx.ImportBatchListByNumber(ctx, orgID, cust.Number)
	if err != nil {
		return err
	}
	for _, b := range batches {
		imports = append(imports, b.ImportID)
	}
	changes, err := tx.ImportChangeListByCustomer(ctx, orgID, cust.ID)
	if err != nil {
		return err
	}
	for _, ch := range changes {
		imports = append(imports, ch.ImportID)
	}
	slices.Sort(imports)
	for _, id := range slices.Compact(imports) {
		im, err := tx.ImportGet(ctx, orgID, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		for seq := range im.Batches {
			if err := c.blankReport(ctx, importReportKey(orgID, id, seq), cust.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// blankReport rewrites one report blob with the cells of the customer's
// rows emptied; a blob without them is left as it is.
func (c *core) blankReport(ctx context.Context, key, customerID string) error {
	f, err := c.cfg.Blobs.Open(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	data, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return err
	}
	if !bytes.Contains(data, []byte(customerID)) {
		return nil
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		return err
	}
	changed := false
	for _, rec := range recs {
		// line, outcome, customer, reason, the row's cells
		if len(rec) > 4 && rec[2] == customerID {
			for i := 4; i < len(rec); i++ {
				rec[i] = ""
			}
			changed = true
		}
	}
	if !changed {
		return nil
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.WriteAll(recs); err != nil {
		return err
	}
	return c.cfg.Blobs.Put(ctx, key, &buf)
}
