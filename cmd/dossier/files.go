package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/schollz/progressbar/v3"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/tabular"
)

// export is "dossier export".
func (cl *cli) export(ctx context.Context, fs *flagSet, args []string) error {
	var (
		db, org, segment, filter, format, columns, out, lang, actor string
	)
	fs.dbFlag(&db)
	fs.StringVar(&org, "org", "", "the `ID` of the organisation (required)")
	fs.StringVar(&segment, "segment", "", "export the saved segment with this `ID`")
	fs.StringVar(&filter, "filter", "", "export the customers a filter selects, as `JSON` (crm.CustomerFilter); default: every customer")
	fs.StringVar(&format, "format", "", "csv, xlsx or jsonl (default: from the --out file name, else csv)")
	fs.StringVar(&columns, "columns", "", "comma-separated column `KEYS` (number, lastName, tags, custom.KEY, consent.KEY, ...); default: all")
	fs.StringVar(&out, "out", "", "write to this `FILE` (default: standard output)")
	fs.StringVar(&lang, "language", "", "language of the headers (default: the organisation's)")
	fs.StringVar(&actor, "as", "admin", "the staff `USER` on record as exporting")
	if err := fs.parse(args); err != nil {
		return err
	}
	if org == "" {
		return required([2]string{"org", org})
	}
	p := crm.ExportParams{SegmentID: segment, Format: crm.TableFormat(format), Language: lang}
	if p.Format == "" {
		for _, f := range []crm.TableFormat{crm.FormatXLSX, crm.FormatJSONLines, crm.FormatCSV} {
			if strings.HasSuffix(strings.ToLower(out), "."+string(f)) {
				p.Format = f
			}
		}
	}
	if filter != "" {
		if err := json.Unmarshal([]byte(filter), &p.Filter); err != nil {
			return usageErrorf("--filter: %v", err)
		}
	}
	if columns != "" {
		p.Columns = strings.Split(columns, ",")
	}
	c, closeDB, err := openCRMWith(ctx, db, crm.Config{Tables: tabular.New()})
	if err != nil {
		return err
	}
	defer closeDB()
	if err := checkOrg(ctx, c, org); err != nil {
		return err
	}
	ctx = crm.WithActor(crm.WithOrg(ctx, org), crm.Staff(actor))
	w := cl.stdout
	var f *os.File
	if out != "" {
		if f, err = os.Create(out); err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	rec, err := c.Exports.Export(ctx, p, bw)
	if err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if f != nil {
		if err := f.Close(); err != nil {
			return err
		}
		fmt.Fprintf(cl.stderr, "exported %d customers to %s (export %s)\n", rec.Rows, out, rec.ID)
	}
	return nil
}

// importFile is "dossier import".
func (cl *cli) importFile(ctx context.Context, fs *flagSet, args []string) error {
	var (
		db, org, mode, mapping, encoding, delimiter, dataDir, blobURL, errorsOut, actor string
		dryRun, preview, quiet                                                          bool
	)
	fs.dbFlag(&db)
	fs.blobFlags(&dataDir, &blobURL)
	fs.StringVar(&org, "org", "", "the `ID` of the organisation (required)")
	fs.StringVar(&mode, "mode", "upsert", "add (new customers only), update (matched customers only) or upsert")
	fs.BoolVar(&dryRun, "dry-run", false, "report what the import would do, row by row, and write nothing")
	fs.BoolVar(&preview, "preview", false, "show how the columns map and the first rows, and stop")
	fs.StringVar(&mapping, "mapping", "", "explicit mapping `HEADER=KEY,...` (e.g. \"Mail=email,Naam=lastName,Dieet=custom.diet\"; HEADER= leaves a column out)")
	fs.StringVar(&encoding, "encoding", "", "utf-8, utf-16le, utf-16be, windows-1252 or iso-8859-2 (default: detected)")
	fs.StringVar(&delimiter, "delimiter", "", "\",\", \";\" or \"tab\" (default: sniffed)")
	fs.StringVar(&errorsOut, "errors", "", "write the refused rows with their reason to this `FILE`")
	fs.BoolVar(&quiet, "quiet", false, "no progress bar")
	fs.StringVar(&actor, "as", "admin", "the staff `USER` on record as importing")
	var path string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		path, args = args[0], args[1:]
	}
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := required([2]string{"FILE", path}, [2]string{"org", org}); err != nil {
		return err
	}
	in := crm.NewImport{FileName: path, Mode: crm.ImportMode(mode), DryRun: dryRun,
		Options: crm.TableOptions{Encoding: encoding, Delimiter: delimiter}}
	if in.Options.Delimiter == "tab" {
		in.Options.Delimiter = "\t"
	}
	if strings.HasSuffix(strings.ToLower(path), ".xlsx") {
		in.Options.Format = crm.FormatXLSX
	}
	if mapping != "" {
		in.Mapping = map[string]string{}
		for _, pair := range strings.Split(mapping, ",") {
			h, k, ok := strings.Cut(pair, "=")
			if !ok {
				return usageErrorf("--mapping: %q is not HEADER=KEY", pair)
			}
			in.Mapping[strings.TrimSpace(h)] = strings.TrimSpace(k)
		}
	}
	blobs, _, err := openBlobs(ctx, dataDir, blobURL)
	if err != nil {
		return err
	}
	defer blobs.Close()
	c, closeDB, err := openCRMWith(ctx, db, crm.Config{Blobs: blobs, Tables: tabular.New()})
	if err != nil {
		return err
	}
	defer closeDB()
	if err := checkOrg(ctx, c, org); err != nil {
		return err
	}
	ctx = crm.WithActor(crm.WithOrg(ctx, org), crm.Staff(actor))
	open := func() (*os.File, error) { return os.Open(path) }
	f, err := open()
	if err != nil {
		return err
	}
	pv, err := c.Imports.Preview(ctx, f, in)
	f.Close()
	if err != nil {
		return err
	}
	fmt.Fprintf(cl.stderr, "%s: %s, %s, separator %q\n", path, pv.Options.Format, or(pv.Options.Encoding, "-"), pv.Options.Delimiter)
	for _, m := range pv.Mapping {
		fmt.Fprintf(cl.stderr, "  %-30s -> %s\n", m.Header, or(m.Key, "(left out)"))
	}
	if preview {
		return nil
	}
	if f, err = open(); err != nil {
		return err
	}
	im, err := c.Imports.Start(ctx, f, in)
	f.Close()
	if err != nil {
		return err
	}
	var bar *progressbar.ProgressBar
	if !quiet {
		bar = progressbar.NewOptions64(-1, progressbar.OptionSetWriter(cl.stderr), progressbar.OptionSetDescription("rows"),
			progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("rows"))
	}
	// The import is a job: a server's background work would run it too;
	// running it here shows progress, and each batch is written once
	// whoever runs it.
	im, err = c.Imports.Run(ctx, im.ID, 0, func(im *crm.FileImport) {
		if bar != nil {
			_ = bar.Set64(im.Rows)
		}
	})
	if bar != nil {
		_ = bar.Finish()
		fmt.Fprintln(cl.stderr)
	}
	if err != nil {
		return fmt.Errorf("import %s stopped (run the command again or start a server to resume it): %w", im.ID, err)
	}
	what := "import"
	if im.DryRun {
		what = "dry run"
	}
	fmt.Fprintf(cl.stdout, "%s %s %s: %d rows, %d created, %d updated, %d skipped, %d refused\n",
		what, im.ID, im.Status, im.Rows, im.Created, im.Updated, im.Skipped, im.Refused)
	if errorsOut != "" && im.Refused > 0 {
		ef, err := os.Create(errorsOut)
		if err != nil {
			return err
		}
		defer ef.Close()
		if err := c.Imports.Report(ctx, im.ID, crm.ImportReportParams{Errors: true}, ef); err != nil {
			return err
		}
		if err := ef.Close(); err != nil {
			return err
		}
		fmt.Fprintf(cl.stdout, "refused rows: %s\n", errorsOut)
	}
	if im.Status != crm.ImportDone {
		return errors.New("the import did not finish: " + string(im.Status) + " " + im.Message)
	}
	return nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
