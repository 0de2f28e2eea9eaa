package background

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/dossiercrm/dossier/crm"
)

// ApplyRetention is the periodic job that applies every organisation's
// retention policy (crm.PrivacyService.ApplyRetention).
type ApplyRetention struct{}

// Kind implements river.JobArgs.
func (ApplyRetention) Kind() string { return "retention" }

// ExpirePoints is the periodic job that expires loyalty points past their
// date in every organisation with points on (crm.PointService.ExpireDue).
type ExpirePoints struct{}

// Kind implements river.JobArgs.
func (ExpirePoints) Kind() string { return "points.expire" }

// ForgetIdempotencyKeys is the periodic job that removes the records of
// idempotency keys older than crm.IdempotencyTTL, with the answers they
// kept (which may hold personal data).
type ForgetIdempotencyKeys struct{}

// Kind implements river.JobArgs.
func (ForgetIdempotencyKeys) Kind() string { return "idempotency.forget" }

// AnalyzeTables is the periodic job that refreshes the query planner's
// statistics of the tables that changed much since their last analysis
// (store.DB.AnalyzeChanged): without it, where autovacuum is off, a table
// filled after the server started keeps the statistics of its empty self.
type AnalyzeTables struct{}

// Kind implements river.JobArgs.
func (AnalyzeTables) Kind() string { return "tables.analyze" }

// analyzer is the store's side of AnalyzeTables.
type analyzer interface {
	AnalyzeChanged(ctx context.Context) ([]string, error)
}

// analyzeWorker analyses the tables that changed, and logs a line when it
// analysed any.
type analyzeWorker struct {
	river.WorkerDefaults[AnalyzeTables]
	st  analyzer
	log *slog.Logger
}

// Work implements river.Worker.
func (w *analyzeWorker) Work(ctx context.Context, job *river.Job[AnalyzeTables]) error {
	tables, err := w.st.AnalyzeChanged(ctx)
	if len(tables) > 0 {
		w.log.Info("table statistics refreshed", "tables", tables)
	}
	return err
}

// idempotencyBatch is how many records one statement removes, so that a
// backlog never holds a long write lock.
const idempotencyBatch = 1000

// forgetIdempotencyWorker removes expired idempotency records, a batch at
// a time, until none is left.
type forgetIdempotencyWorker struct {
	river.WorkerDefaults[ForgetIdempotencyKeys]
	st  crm.IdempotencyStore
	log *slog.Logger
}

// Work implements river.Worker.
func (w *forgetIdempotencyWorker) Work(ctx context.Context, job *river.Job[ForgetIdempotencyKeys]) error {
	before := time.Now().Add(-crm.IdempotencyTTL)
	total := 0
	for {
		n, err := w.st.IdempotencyDeleteBefore(ctx, before, idempotencyBatch)
		total += n
		if err != nil {
			return err
		}
		if n < idempotencyBatch {
			break
		}
	}
	if total > 0 {
		w.log.Info("expired idempotency keys removed", "records", total)
	}
	return nil
}

// retentionWorker applies the retention policies, as the system, and logs
// a line per organisation whose policy is enabled. An organisation's
// failure does not stop the others; the job then fails and is retried.
type retentionWorker struct {
	river.WorkerDefaults[ApplyRetention]
	c   *crm.CRM
	log *slog.Logger
}

// Timeout implements river.Worker: a run takes as long as it takes. One
// that a crash interrupted is not rescued; the next period's run does its
// work (retention is idempotent).
func (w *retentionWorker) Timeout(*river.Job[ApplyRetention]) time.Duration { return -1 }

// Work implements river.Worker.
func (w *retentionWorker) Work(ctx context.Context, job *river.Job[ApplyRetention]) error {
	return eachOrg(ctx, w.c, w.log, "retention", func(ctx context.Context, org crm.Organisation) error {
		r, err := w.c.Privacy.ApplyRetention(ctx, time.Now(), false)
		switch {
		case err != nil:
			anonymised := 0
			if r != nil {
				anonymised = r.Anonymised
			}
			w.log.Error("retention failed", "org", org.ID, "anonymised", anonymised, "err", err)
		case r.Enabled:
			w.log.Info("retention applied", "org", org.ID, "anonymised", r.Anonymised, "inactive_before", r.InactiveBefore)
		}
		return err
	})
}

// pointsExpiryWorker expires points past their date, as the system, and
// logs a line per organisation where points expired. Running it again the
// same day changes nothing.
type pointsExpiryWorker struct {
	river.WorkerDefaults[ExpirePoints]
	c   *crm.CRM
	log *slog.Logger
}

// Timeout implements river.Worker, as for retention.
func (w *pointsExpiryWorker) Timeout(*river.Job[ExpirePoints]) time.Duration { return -1 }

// Work implements river.Worker.
func (w *pointsExpiryWorker) Work(ctx context.Context, job *river.Job[ExpirePoints]) error {
	return eachOrg(ctx, w.c, w.log, "points expiry", func(ctx context.Context, org crm.Organisation) error {
		if !org.PointsEnabled {
			return nil
		}
		r, err := w.c.Points.ExpireDue(ctx, time.Now())
		switch {
		case errors.Is(err, crm.ErrFeatureOff): // switched off meanwhile
			return nil
		case err != nil:
			w.log.Error("points expiry failed", "org", org.ID, "err", err)
		case r.Customers > 0:
			w.log.Info("points expired", "org", org.ID, "customers", r.Customers, "points", r.Points)
		}
		return err
	})
}

// eachOrg calls fn for every organisation, in a context scoped to it with
// the system as the actor, and returns the failures joined. It stops when
// ctx ends.
func eachOrg(ctx context.Context, c *crm.CRM, log *slog.Logger, what string, fn func(ctx context.Context, org crm.Organisation) error) error {
	orgs, err := c.Organisations.List(ctx)
	if err != nil {
		return err
	}
	var failed []error
	for _, org := range orgs {
		if err := ctx.Err(); err != nil {
			log.Info(what+" interrupted by shutdown", "org", org.ID)
			return err
		}
		if err := fn(crm.WithActor(crm.WithOrg(ctx, org.ID), crm.System()), org); err != nil {
			failed = append(failed, err)
		}
	}
	return errors.Join(failed...)
}
