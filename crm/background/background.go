// Package background runs Dossier's background work: mail delivery,
// retention, points expiry and the planner's statistics, on River (github.com/riverqueue/river) in
// the database the store uses, SQLite or PostgreSQL. A program that embeds
// the library starts all of it with one call after opening the store and
// building the CRM, and stops it before closing the store:
//
//	bg, err := background.Start(ctx, st, c, background.Config{Sender: sender})
//	...
//	defer bg.Stop(context.Background())
//
// # How work gets done
//
// Deferred work is a job in River's tables. A change that causes work
// enqueues its job in its own transaction (crm.JobStore.JobEnqueue): when
// the change rolls back, the job was never there, and when it commits, the
// job is there too. The outbox does this for every mail it queues
// (crm.DeliverMail); the outbox rows stay the record of what was mailed.
//
// Periodic work (retention, points expiry, expired idempotency keys, the
// statistics of tables that changed) is inserted by the one program
// that River elected leader among those started on the database, at most
// once per period (a job unique to its period), so several servers on one
// database never repeat it. Each runs when the leader starts and then every
// period.
//
// Every started program works jobs: a job is taken by one program at a
// time. A program that crashed holding a job gives it back after
// Config.RescueAfter; a mail's own lease (crm.Config.OutboxLease) decides
// when it may be sent again, and a second attempt after an unknown outcome
// is recorded on the mail (crm.UnknownOutcome).
//
// Stop finishes what was started: it waits up to Config.StopTimeout for
// running jobs, then cancels them. A mail whose send has begun is never cut
// off (its outcome would be unknown): Stop waits for the server's answer
// and records it. A mail claimed but not yet sent is given back at once.
//
// # Adding background work
//
// A kind of work is an arguments type and a worker:
//
//	// ExpireItineraries is the job; its fields are stored as JSON.
//	type ExpireItineraries struct{ OrgID string `json:"orgId"` }
//
//	func (ExpireItineraries) Kind() string { return "itineraries.expire" }
//
//	type itineraryWorker struct {
//		river.WorkerDefaults[ExpireItineraries]
//		c *crm.CRM
//	}
//
//	func (w *itineraryWorker) Work(ctx context.Context, job *river.Job[ExpireItineraries]) error {
//		return w.c.Itineraries.ExpireDue(crm.WithOrg(ctx, job.Args.OrgID), time.Now())
//	}
//
// Register the worker in (*Runner).workers with river.AddWorker. Work that a
// change causes is enqueued by crm in the change's transaction (define the
// arguments type in crm, so that crm can name it, as crm.DeliverMail);
// periodic work gets one line in (*Runner).periodic. A job that returns an
// error is retried with backoff; river.JobSnooze(d) runs it again after d.
package background

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/mail"
	"github.com/dossiercrm/dossier/crm/store"
)

// Defaults of Config.
const (
	DefaultRetentionEvery    = 24 * time.Hour
	DefaultPointsExpiryEvery = 24 * time.Hour
	DefaultMailWorkers       = 4
	DefaultStopTimeout       = 30 * time.Second
	DefaultRescueAfter       = 5 * time.Minute
	DefaultPollInterval      = time.Second
	// DefaultAnalyzeEvery is the period of AnalyzeTables: PostgreSQL's
	// autovacuum looks at every table once a minute too (autovacuum_naptime).
	DefaultAnalyzeEvery = time.Minute
	// MinPeriod is the shortest period of periodic work.
	MinPeriod = time.Second
)

// IdempotencyForgetEvery is how often the leader removes expired
// idempotency keys (ForgetIdempotencyKeys).
const IdempotencyForgetEvery = time.Hour

// Config configures the background work. The zero value works, except that
// without a Sender no mail is delivered by this program.
type Config struct {
	// Sender delivers the outbox. Nil: this program delivers no mail, and
	// queued mails wait for a program that does.
	Sender mail.Sender
	// From is the sender of every mail (the Sender's default when zero).
	From mail.Address
	// Logger receives a line per run of periodic work and per failure.
	// Nil means a logger that discards.
	Logger *slog.Logger
	// MailWorkers is how many mails this program sends at once. Default
	// DefaultMailWorkers.
	MailWorkers int
	// RetentionEvery is the period of applying every organisation's
	// retention policy; PointsExpiryEvery that of expiring points past their
	// date. Default 24 hours, at least MinPeriod; negative turns the work
	// off in this program (the leader's settings count).
	RetentionEvery, PointsExpiryEvery time.Duration
	// AnalyzeEvery is the period of refreshing the planner's statistics of
	// the tables that changed much (AnalyzeTables). Default
	// DefaultAnalyzeEvery, at least MinPeriod; negative turns it off in this
	// program (the leader's settings count).
	AnalyzeEvery time.Duration
	// StopTimeout is how long Stop waits for running jobs before it
	// cancels them. Default DefaultStopTimeout.
	StopTimeout time.Duration
	// RescueAfter is how long a job may run before it counts as abandoned
	// (its program crashed) and is run again. Default DefaultRescueAfter.
	RescueAfter time.Duration
	// PollInterval is how often an idle program looks for new jobs.
	// Default DefaultPollInterval.
	PollInterval time.Duration
	// ID names this program among those working on the database (in
	// River's tables). Default: the host name and start time.
	ID string

	// noLeader keeps this program out of leader election (tests: a program
	// that never runs periodic work or rescues jobs).
	noLeader bool
	// insertHook, when set, sees every insert of this program's client and
	// its results (tests).
	insertHook func(params []*rivertype.JobInsertParams, results []*rivertype.JobInsertResult)
}

// Runner is the running background work of one program.
type Runner struct {
	client *river.Client[*sql.Tx]
	st     *store.DB
	crm    *crm.CRM
	cfg    Config
	log    *slog.Logger
}

// Start starts the background work on st's database for c (which must be
// built on st). It returns once the work runs; Stop ends it. Mails
// pending without a delivery job (queued by a program that enqueued none)
// get one first.
func Start(ctx context.Context, st *store.DB, c *crm.CRM, cfg Config) (*Runner, error) {
	r, err := New(st, c, cfg)
	if err != nil {
		return nil, err
	}
	if err := r.Start(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// New prepares the background work like Start, without starting it.
func New(st *store.DB, c *crm.CRM, cfg Config) (*Runner, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.MailWorkers = or(cfg.MailWorkers, DefaultMailWorkers)
	cfg.RetentionEvery = or(cfg.RetentionEvery, DefaultRetentionEvery)
	cfg.PointsExpiryEvery = or(cfg.PointsExpiryEvery, DefaultPointsExpiryEvery)
	cfg.AnalyzeEvery = or(cfg.AnalyzeEvery, DefaultAnalyzeEvery)
	cfg.StopTimeout = or(cfg.StopTimeout, DefaultStopTimeout)
	cfg.RescueAfter = or(cfg.RescueAfter, DefaultRescueAfter)
	cfg.PollInterval = or(cfg.PollInterval, DefaultPollInterval)
	for _, every := range []time.Duration{cfg.RetentionEvery, cfg.PointsExpiryEvery, cfg.AnalyzeEvery} {
		if every > 0 && every < MinPeriod {
			return nil, fmt.Errorf("background: a period of %s is shorter than %s", every, MinPeriod)
		}
	}
	if cfg.noLeader {
		cfg.RetentionEvery, cfg.PointsExpiryEvery, cfg.AnalyzeEvery = -1, -1, -1
	}
	r := &Runner{st: st, crm: c, cfg: cfg, log: cfg.Logger}
	workers := river.NewWorkers()
	if err := r.workers(workers); err != nil {
		return nil, err
	}
	client, err := river.NewClient(st.JobDriver(), &river.Config{
		ID:                cfg.ID,
		Workers:           workers,
		Queues:            r.queues(),
		PeriodicJobs:      r.periodic(),
		FetchPollInterval: cfg.PollInterval,
		// After a job finishes, the next fetch may follow this soon: River's
		// default (100 ms) caps delivery at MailWorkers mails per 100 ms
		// (about 80 mails/s with 8 workers, a quarter of what the SMTP
		// sender does); fetches happen only while there is work.
		FetchCooldown:        min(cfg.PollInterval, 5*time.Millisecond),
		RescueStuckJobsAfter: cfg.RescueAfter,
		// A job's context ends after half of RescueAfter (a mail's send is
		// not cut off by it); one still running after RescueAfter counts as
		// abandoned.
		JobTimeout:             cfg.RescueAfter / 2,
		SoftStopTimeout:        cfg.StopTimeout,
		ErrorHandler:           &errorLogger{log: cfg.Logger},
		Logger:                 slog.New(warnOnly{cfg.Logger.Handler()}),
		LeaderElectionDisabled: cfg.noLeader,
		Plugins:                insertPlugins(cfg.insertHook),
	})
	if err != nil {
		return nil, fmt.Errorf("background: %w", err)
	}
	r.client = client
	return r, nil
}

// workers registers a worker for every kind of job this program does.
func (r *Runner) workers(w *river.Workers) error {
	// Registered even without a Sender: a leader rescues stuck jobs of the
	// kinds it knows and discards the others.
	river.AddWorker(w, &mailWorker{w: &mail.Worker{Outbox: r.crm.Outbox, Sender: r.cfg.Sender, From: r.cfg.From, Logger: r.log}})
	river.AddWorker(w, &retentionWorker{c: r.crm, log: r.log})
	river.AddWorker(w, &pointsExpiryWorker{c: r.crm, log: r.log})
	river.AddWorker(w, &forgetIdempotencyWorker{st: r.st, log: r.log})
	river.AddWorker(w, &analyzeWorker{st: r.st, log: r.log})
	river.AddWorker(w, &importWorker{c: r.crm, log: r.log})
	river.AddWorker(w, &itineraryWorker{c: r.crm, log: r.log})
	river.AddWorker(w, &mailingWorker{c: r.crm, log: r.log})
	river.AddWorker(w, &duplicatesWorker{c: r.crm, log: r.log})
	return nil
}

// queues are the queues this program works: the mail queue only when it
// delivers mail.
func (r *Runner) queues() map[string]river.QueueConfig {
	q := map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 2}}
	if r.cfg.Sender != nil {
		q[store.MailQueue] = river.QueueConfig{MaxWorkers: r.cfg.MailWorkers}
	}
	return q
}

// periodic lists the periodic work, each unique to its period so that a
// new leader does not repeat the period's run.
func (r *Runner) periodic() []*river.PeriodicJob {
	var jobs []*river.PeriodicJob
	add := func(every time.Duration, args river.JobArgs) {
		if every <= 0 {
			return
		}
		jobs = append(jobs, river.NewPeriodicJob(river.PeriodicInterval(every),
			func() (river.JobArgs, *river.InsertOpts) {
				return args, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: every}}
			},
			&river.PeriodicJobOpts{ID: args.Kind(), RunOnStart: true}))
	}
	add(r.cfg.RetentionEvery, ApplyRetention{})
	add(r.cfg.PointsExpiryEvery, ExpirePoints{})
	add(r.cfg.AnalyzeEvery, AnalyzeTables{})
	if !r.cfg.noLeader {
		add(IdempotencyForgetEvery, ForgetIdempotencyKeys{})
		add(ItineraryExpiryEvery, crm.ExpireItineraries{})
	}
	return jobs
}

// Start starts the work prepared by New.
func (r *Runner) Start(ctx context.Context) error {
	if r.cfg.Sender != nil {
		if err := r.catchUp(ctx); err != nil {
			return err
		}
	}
	// The work outlives ctx: Stop ends it, finishing what runs.
	if err := r.client.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("background: %w", err)
	}
	r.log.Info("background work started", "mail", r.cfg.Sender != nil, "mail_workers", r.cfg.MailWorkers,
		"retention_every", max(r.cfg.RetentionEvery, 0), "points_expiry_every", max(r.cfg.PointsExpiryEvery, 0),
		"analyze_every", max(r.cfg.AnalyzeEvery, 0))
	return nil
}

// catchUp enqueues a delivery job for every pending mail that has none.
func (r *Runner) catchUp(ctx context.Context) error {
	after, n := "", 0
	for {
		jobs, err := r.crm.Outbox.Pending(ctx, after, 500)
		if err != nil {
			return fmt.Errorf("background: pending mails: %w", err)
		}
		if len(jobs) == 0 {
			break
		}
		err = r.st.InTx(ctx, func(tx crm.Store) error {
			for _, j := range jobs {
				if err := tx.JobEnqueue(ctx, j); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("background: pending mails: %w", err)
		}
		n += len(jobs)
		after = jobs[len(jobs)-1].MailID
	}
	if n > 0 {
		r.log.Debug("pending mails checked for delivery jobs", "mails", n)
	}
	return nil
}

// Stop stops taking jobs and waits for running ones: up to
// Config.StopTimeout, then it cancels them and waits for them to return
// (a mail being sent still gets its answer and record), or until ctx ends.
func (r *Runner) Stop(ctx context.Context) error {
	if err := r.client.Stop(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("background: stop: %w", err)
	}
	r.log.Info("background work stopped")
	return nil
}

// Client is the River client, for tests and for inspecting jobs
// (river.Client.JobList).
func (r *Runner) Client() *river.Client[*sql.Tx] { return r.client }

// mailWorker delivers one outbox mail per job.
type mailWorker struct {
	river.WorkerDefaults[crm.DeliverMail]
	w *mail.Worker
}

// Work implements river.Worker.
func (m *mailWorker) Work(ctx context.Context, job *river.Job[crm.DeliverMail]) error {
	next, err := m.w.Deliver(ctx, job.Args.OrgID, job.Args.MailID)
	switch {
	case err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()):
		return river.JobSnooze(0) // stopping: handed back, due at once
	case err != nil:
		return err
	case next.IsZero():
		return nil
	}
	return river.JobSnooze(max(time.Until(next), 0))
}

// insertPlugins pass inserts and their results to hook, if set.
func insertPlugins(hook func([]*rivertype.JobInsertParams, []*rivertype.JobInsertResult)) []rivertype.Plugin {
	if hook == nil {
		return nil
	}
	return []rivertype.Plugin{river.JobInsertMiddlewareFunc(
		func(ctx context.Context, params []*rivertype.JobInsertParams, next func(context.Context) ([]*rivertype.JobInsertResult, error)) ([]*rivertype.JobInsertResult, error) {
			res, err := next(ctx)
			if err == nil {
				hook(params, res)
			}
			return res, err
		})}
}

// errorLogger logs failed jobs.
type errorLogger struct{ log *slog.Logger }

// HandleError implements river.ErrorHandler.
func (e *errorLogger) HandleError(ctx context.Context, job *rivertype.JobRow, err error) *river.ErrorHandlerResult {
	e.log.Error("background job failed", "kind", job.Kind, "job", job.ID, "attempt", job.Attempt, "err", err)
	return nil
}

// HandlePanic implements river.ErrorHandler.
func (e *errorLogger) HandlePanic(ctx context.Context, job *rivertype.JobRow, v any, trace string) *river.ErrorHandlerResult {
	e.log.Error("background job panicked", "kind", job.Kind, "job", job.ID, "attempt", job.Attempt, "panic", v, "trace", trace)
	return nil
}

// warnOnly passes on River's own warnings and errors, not its routine lines.
type warnOnly struct{ slog.Handler }

func (h warnOnly) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && h.Handler.Enabled(ctx, l)
}
func (h warnOnly) WithAttrs(a []slog.Attr) slog.Handler { return warnOnly{h.Handler.WithAttrs(a)} }
func (h warnOnly) WithGroup(g string) slog.Handler      { return warnOnly{h.Handler.WithGroup(g)} }

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
