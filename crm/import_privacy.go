package crm

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
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
	// The report of the batch that holds the customer's row, by the row's
	// position and the batch size (a batch writes one report); all of the
	// import's reports when the batch size was another.
	guess := map[string][]int{}
	batches, err := tx.ImportBatchListByNumber(ctx, orgID, cust.Number)
	if err != nil {
		return err
	}
	size := int64(c.cfg.ImportBatch)
	for _, b := range batches {
		guess[b.ImportID] = append(guess[b.ImportID], int(b.FromRow/size))
	}
	changes, err := tx.ImportChangeListByCustomer(ctx, orgID, cust.ID)
	if err != nil {
		return err
	}
	for _, ch := range changes {
		guess[ch.ImportID] = append(guess[ch.ImportID], int((ch.Seq-1)/size))
	}
	for id, seqs := range guess {
		im, err := tx.ImportGet(ctx, orgID, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		found := 0
		for _, seq := range seqs {
			ok, err := c.blankReport(ctx, importReportKey(orgID, id, seq), cust.ID)
			if err != nil {
				return err
			}
			if ok {
				found++
			}
		}
		if found == len(seqs) {
			continue
		}
		for seq := range im.Batches {
			if _, err := c.blankReport(ctx, importReportKey(orgID, id, seq), cust.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// blankReport rewrites one report blob with the cells of the customer's
// rows emptied, and says whether it holds a row of the customer; a blob
// without one is left as it is.
func (c *core) blankReport(ctx context.Context, key, customerID string) (bool, error) {
	f, err := c.cfg.Blobs.Open(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	data, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return false, err
	}
	if !bytes.Contains(data, []byte(customerID)) {
		return false, nil
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		return false, err
	}
	found, changed := false, false
	for _, rec := range recs {
		// line, outcome, customer, reason, the row's cells
		if len(rec) > 4 && rec[2] == customerID {
			found = true
			for i := 4; i < len(rec); i++ {
				changed = changed || rec[i] != ""
				rec[i] = ""
			}
		}
	}
	if !changed {
		return found, nil
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.WriteAll(recs); err != nil {
		return false, err
	}
	return true, c.cfg.Blobs.Put(ctx, key, &buf)
}
