package crm

import (
	"context"
	"encoding/csv"
	"errors"
	"io"
	"slices"
)

// ImportReportParams says which report of an import to write.
type ImportReportParams struct {
	// Errors: only the refused rows, each as it was in the file with a
	// last column saying why (the error file). Otherwise every row with
	// its line, outcome, customer and reason before its cells.
	Errors bool
	// Format of the file: csv (default) or xlsx.
	Format TableFormat
}

// Report writes an import's row-by-row report, or its error file, to w.
// A running import's report holds the batches written so far.
func (s *ImportService) Report(ctx context.Context, id string, p ImportReportParams, w io.Writer) error {
	sc, err := readScope(ctx)
	if err != nil {
		return err
	}
	if err := s.ready(); err != nil {
		return err
	}
	v := newValidation(sc.lang)
	switch p.Format {
	case "":
		p.Format = FormatCSV
	case FormatCSV, FormatXLSX:
	default:
		v.add("format", "oneof", "csv, xlsx")
	}
	if err := v.err(); err != nil {
		return err
	}
	im, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	headers := make([]string, 0, len(im.Mapping)+4)
	for _, c := range im.Mapping {
		headers = append(headers, c.Header)
	}
	tw, err := s.cfg.Tables.NewWriter(w, p.Format)
	if err != nil {
		return err
	}
	if p.Errors {
		h := append(slices.Clone(headers), "Reason")
		if err := tw.WriteHeader(h, h); err != nil {
			return err
		}
	} else {
		h := append([]string{"Line", "Outcome", "Customer", "Reason"}, headers...)
		if err := tw.WriteHeader(h, h); err != nil {
			return err
		}
	}
	row := make([]any, 0, len(headers)+4)
	for seq := range im.Batches {
		f, err := s.cfg.Blobs.Open(ctx, importReportKey(sc.org, id, seq))
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		r := csv.NewReader(f)
		r.FieldsPerRecord = -1
		for {
			rec, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				f.Close()
				return err
			}
			row = row[:0]
			if p.Errors {
				if len(rec) < 4 || rec[1] != string(RowRefused) {
					continue
				}
				for i := range headers {
					cell := ""
					if 4+i < len(rec) {
						cell = rec[4+i]
					}
					row = append(row, cell)
				}
				row = append(row, rec[3])
			} else {
				for _, c := range rec {
					row = append(row, c)
				}
			}
			if err := tw.WriteRow(row); err != nil {
				f.Close()
				return err
			}
		}
		f.Close()
	}
	return tw.Close()
}

// ImportRevertResult says what a revert did.
type ImportRevertResult struct {
	Import *FileImport `json:"import"`
	// Removed customers were created by the import; Restored ones had
	// their values from before the import put back.
	Removed  int64 `json:"removed"`
	Restored int64 `json:"restored"`
	// Kept are customers (ids) left as they are because someone changed
	// them after the import did: a created customer changed since stays,
	// and a changed customer changed again keeps its current values.
	Kept []string `json:"kept"`
}

// Revert undoes a finished or cancelled import: the customers it created
// are removed, and the customers it changed get their values from before
// it back — each only if nobody changed it after the import did;
// otherwise the customer stays as it is and is listed in Kept. Tags and
// attributes the import added to existing customers stay. A dry run, or
// an import still running, is a *ConflictError.
func (s *ImportService) Revert(ctx context.Context, id string) (*ImportRevertResult, error) {
	sc, err := s.writeScope(ctx)
	if err != nil {
		return nil, err
	}
	im, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if im.DryRun || (im.Status != ImportDone && im.Status != ImportCancelled) {
		return nil, &ConflictError{Field: "status", Reason: "only a finished or cancelled import that wrote something can be reverted (this one is " + string(im.Status) + ")"}
	}
	out := &ImportRevertResult{Kept: []string{}}
	batches, err := s.store.ImportBatchList(ctx, sc.org, id)
	if err != nil {
		return nil, err
	}
	created := func(n int64) bool {
		return slices.ContainsFunc(batches, func(b ImportBatch) bool { return n >= b.First && n <= b.Last })
	}
	org, _, err := s.customers.rules(ctx, sc)
	if err != nil {
		return nil, err
	}
	var before int64
	for {
		changes, err := s.store.ImportChangeList(ctx, sc.org, id, before, 500)
		if err != nil {
			return nil, err
		}
		for _, ch := range changes {
			err := s.store.InTx(ctx, func(tx Store) error {
				cur, err := tx.CustomerGet(ctx, CustomerGetParams{OrgID: sc.org, ID: ch.CustomerID})
				if isNotFound(err) {
					return nil
				}
				if err != nil {
					return err
				}
				if created(cur.Number) {
					return nil // removed below
				}
				if cur.Version != ch.VersionAfter || cur.AnonymisedAt != nil {
					out.Kept = append(out.Kept, cur.ID)
					return nil
				}
				next := *cur
				next.CustomerFields = ch.Before
				next.SortKey = SortKey(org.DefaultLanguage, &next.CustomerFields)
				changes := diffCustomer(cur, &next)
				now := s.now()
				next.UpdatedAt, next.LastActivityAt, next.Version = now, now, cur.Version+1
				if err := tx.CustomerUpdate(ctx, &next, cur); err != nil {
					return err
				}
				if err := tx.HistoryAppend(ctx, s.event(sc, cur.ID, EventCustomerUpdated, now, changes)); err != nil {
					return err
				}
				if duplicateFieldsChanged(changes) {
					if err := enqueueDuplicateCheck(ctx, tx, sc.org, cur.ID); err != nil {
						return err
					}
				}
				out.Restored++
				return s.consents.recordContactFlags(ctx, tx, sc, cur, &next)
			})
			if err != nil {
				return nil, err
			}
		}
		if len(changes) < 500 {
			break
		}
		before = changes[len(changes)-1].Seq
	}
	last := im.UpdatedAt
	for _, b := range batches {
		for n := b.First; n <= b.Last; n++ {
			c, err := orNil(s.store.CustomerGet(ctx, CustomerGetParams{OrgID: sc.org, Number: n}))
			if err != nil {
				return nil, err
			}
			if c == nil {
				continue
			}
			if c.UpdatedAt.After(last) || c.AnonymisedAt != nil {
				out.Kept = append(out.Kept, c.ID)
				continue
			}
			if err := s.customers.Delete(ctx, c.ID); err != nil && !isNotFound(err) {
				return nil, err
			}
			out.Removed++
		}
	}
	at := s.now()
	from := im.Rows
	prev := im.Status
	im.Status, im.UpdatedAt = ImportReverted, at
	if err := s.store.ImportUpdate(ctx, im, ImportUpdateParams{Rows: from, Statuses: []ImportStatus{prev}}); err != nil {
		return nil, err
	}
	out.Import = im
	return out, nil
}
