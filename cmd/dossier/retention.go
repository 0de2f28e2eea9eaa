package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/dossiercrm/dossier/crm"
)

const (
	// defaultRetentionEvery is how often serve applies the retention policies.
	defaultRetentionEvery = 24 * time.Hour
	// firstJobDelay is how long serve waits after it starts before the
	// first run (or the interval, when that is shorter): the server is up
	// and serving first, and a server restarting in a loop does not start
	// a run each time.
	firstJobDelay = time.Minute
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

// retentionRound is one scheduled run of serve: it applies every
// organisation's retention policy at now and logs one line per
// organisation whose policy is enabled.
func retentionRound(ctx context.Context, c *crm.CRM, log *slog.Logger, now time.Time) {
	err := applyRetention(ctx, c, nil, now, false, func(org string, r *crm.RetentionReport, err error) {
		anonymised := 0
		if r != nil {
			anonymised = r.Anonymised
		}
		switch {
		case err != nil && ctx.Err() != nil:
			// Shutting down: worth a line only when a policy was being applied.
			if r != nil && r.Enabled {
				log.Info("retention interrupted by shutdown", "org", org, "anonymised", anonymised)
			}
		case err != nil:
			log.Error("retention failed", "org", org, "anonymised", anonymised, "err", err)
		case !r.Enabled:
			log.Debug("retention not enabled", "org", org)
		default:
			log.Info("retention applied", "org", org, "anonymised", anonymised, "inactive_before", r.InactiveBefore)
		}
	})
	if err != nil && ctx.Err() == nil {
		log.Error("retention failed", "err", err)
	}
}

// runEvery calls fn first after the delay first, then every interval
// (counted from the start of the previous call), until ctx ends. Calls
// never overlap: a call that outlasts the interval is followed by the next
// one as soon as it returns. fn gets ctx and should return when it ends;
// runEvery returns once ctx has ended and no call is running.
func runEvery(ctx context.Context, first, interval time.Duration, fn func(context.Context)) {
	t := time.NewTimer(first)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if ctx.Err() != nil { // both were ready; select picked the timer
			return
		}
		start := time.Now()
		fn(ctx)
		t.Reset(interval - time.Since(start))
	}
}

// startJob runs round every interval in the background, the first time
// after firstJobDelay (or the interval, when shorter). The returned
// function stops it and waits for a run in progress to end.
func startJob(ctx context.Context, log *slog.Logger, name string, interval time.Duration, round func(ctx context.Context, now time.Time)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	first := min(firstJobDelay, interval)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		runEvery(ctx, first, interval, func(ctx context.Context) { round(ctx, time.Now()) })
	}()
	log.Info(name+" scheduled", "every", interval, "first_in", first)
	return func() {
		cancel()
		<-stopped
	}
}
