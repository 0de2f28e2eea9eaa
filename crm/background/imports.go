package background

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/dossiercrm/dossier/crm"
)

// importWorker runs file imports (crm.ImportJob). Each job works for at
// most half of its timeout and then hands itself back to run again at
// once: a long import spreads over many short runs, each resuming at the
// first batch not written, so a crash or a restart loses at most the batch
// being written (which rolls back and is written again).
type importWorker struct {
	river.WorkerDefaults[crm.ImportJob]
	c   *crm.CRM
	log *slog.Logger
}

// Work implements river.Worker.
func (w *importWorker) Work(ctx context.Context, job *river.Job[crm.ImportJob]) error {
	ctx = crm.WithOrg(ctx, job.Args.OrgID)
	deadline, _ := ctx.Deadline()
	budget := importBudget
	if !deadline.IsZero() {
		budget = min(budget, max(until(deadline)/2, minImportBudget))
	}
	im, err := w.c.Imports.Run(ctx, job.Args.ImportID, budget, nil)
	switch {
	case errors.Is(err, crm.ErrNotFound):
		return nil // the import was removed
	case err != nil && ctx.Err() != nil:
		return river.JobSnooze(0) // stopping: handed back
	case err != nil:
		return err
	case im.Status == crm.ImportRunning || im.Status == crm.ImportQueued:
		return river.JobSnooze(0)
	}
	w.log.Info("import ended", "org", job.Args.OrgID, "import", im.ID, "status", im.Status,
		"rows", im.Rows, "created", im.Created, "updated", im.Updated, "skipped", im.Skipped, "refused", im.Refused)
	return nil
}

// importBudget is the longest one run of an import job works;
// minImportBudget the shortest.
const (
	importBudget    = time.Minute
	minImportBudget = time.Second
)

func until(t time.Time) time.Duration { return time.Until(t) }
