package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/dossiercrm/dossier/crm"
)

const (
	// defaultRetentionEvery is how often serve applies the retention policies.
	defaultRetentionEvery = 24 * time.Hour
)

// retention is "dossier retention".
func (cl *cli) retention(ctx context.Context, fs *flagSet, args []string) error {
	var (
		db, org, dataDir, blobURL string
		dryRun, asJS              bool
	)
	fs.dbFlag(&db)
	fs.blobFlags(&dataDir, &blobURL)
	fs.StringVar(&org, "org", "", "the `ID` of one organisation (default: every organisation)")
	fs.BoolVar(&dryRun, "dry-run", false, "only list the customers that would be anonymised; change nothing")
	fs.BoolVar(&asJS, "json", false, "print the reports as a JSON array instead of text")
	if err := fs.parse(args); err != nil {
		return err
	}
	// Anonymising a customer deletes its documents, and with the last
	// reference to their contents, the files.
	blobs, _, err := openBlobs(ctx, dataDir, blobURL)
	if err != nil {
		return err
	}
	defer blobs.Close()
	c, closeDB, err := openCRMWith(ctx, db, crm.Config{Blobs: blobs})
	if err != nil {
		return err
	}
	defer closeDB()
	var orgs []string
	if org != "" {
		if err := checkOrg(ctx, c, org); err != nil {
			return err
		}
		orgs = []string{org}
	}

	var (
		reports = []*crm.RetentionReport{}
		failed  []error
		total   retentionTotal
	)
	err = applyRetention(ctx, c, orgs, time.Now(), dryRun, func(org string, r *crm.RetentionReport, err error) {
		if err != nil {
			failed = append(failed, fmt.Errorf("organisation %s: %w", org, err))
		}
		if r == nil {
			return
		}
		total.add(r)
		if asJS {
			reports = append(reports, r)
			return
		}
		// Text goes out as each organisation finishes: a long run shows progress.
		printRetentionReport(cl, r, err != nil)
	})
	if err != nil {
		failed = append(failed, err)
	}
	if asJS {
		enc := json.NewEncoder(cl.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(reports); err != nil {
			return err
		}
	} else if total.orgs > 1 {
		total.print(cl, dryRun)
	}
	return errors.Join(failed...)
}

// printRetentionReport writes one organisation's report as a summary line
// and, when there are customers, a table of them, one line each.
func printRetentionReport(cl *cli, r *crm.RetentionReport, failed bool) {
	switch {
	case !r.Enabled:
		fmt.Fprintf(cl.stdout, "Organisation %s: no retention policy enabled; skipped.\n", r.Organisation)
		return
	case r.DryRun:
		fmt.Fprintf(cl.stdout, "Organisation %s (dry run): would anonymise %s last active before %s.\n",
			r.Organisation, customers(len(r.Customers)), r.InactiveBefore.UTC().Format(time.RFC3339))
	default:
		then := ""
		if failed {
			then = ", then failed (see the error)"
		}
		fmt.Fprintf(cl.stdout, "Organisation %s: anonymised %s last active before %s%s.\n",
			r.Organisation, customers(r.Anonymised), r.InactiveBefore.UTC().Format(time.RFC3339), then)
	}
	if len(r.Customers) == 0 {
		return
	}
	tw := tabwriter.NewWriter(cl.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  NUMBER\tID\tLAST ACTIVE")
	for _, cust := range r.Customers {
		fmt.Fprintf(tw, "  %d\t%s\t%s\n", cust.Number, cust.ID, cust.LastActivityAt.UTC().Format(time.RFC3339))
	}
	tw.Flush()
}

// retentionTotal sums the reports of a run over several organisations.
type retentionTotal struct {
	orgs, enabled, customers int
}

func (t *retentionTotal) add(r *crm.RetentionReport) {
	t.orgs++
	if r.Enabled {
		t.enabled++
	}
	t.customers += len(r.Customers)
}

func (t *retentionTotal) print(cl *cli, dryRun bool) {
	did := "anonymised"
	if dryRun {
		did = "would anonymise"
	}
	fmt.Fprintf(cl.stdout, "Total: %s %s in %d organisations (%d with retention enabled).\n",
		did, customers(t.customers), t.orgs, t.enabled)
}

func customers(n int) string {
	if n == 1 {
		return "1 customer"
	}
	return fmt.Sprintf("%d customers", n)
}

// applyRetention applies the retention policies of orgs, or of every
// organisation when orgs is empty, at now, with the system as the actor.
// It calls done once per organisation with its report, its error or both
// (a run that fails halfway reports whom it anonymised before). An
// organisation's failure does not stop the others; only ctx ending does,
// and listing the organisations failing is the returned error.
func applyRetention(ctx context.Context, c *crm.CRM, orgs []string, now time.Time, dryRun bool, done func(org string, r *crm.RetentionReport, err error)) error {
	if len(orgs) == 0 {
		all, err := c.Organisations.List(ctx)
		if err != nil {
			return fmt.Errorf("listing the organisations: %w", err)
		}
		for _, o := range all {
			orgs = append(orgs, o.ID)
		}
	}
	for _, org := range orgs {
		if err := ctx.Err(); err != nil {
			return err
		}
		octx := crm.WithActor(crm.WithOrg(ctx, org), crm.System())
		r, err := c.Privacy.ApplyRetention(octx, now, dryRun)
		done(org, r, err)
	}
	return nil
}
