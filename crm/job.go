package crm

import "context"

// Job is background work that a change causes, such as delivering the mail
// it queued. Its exported fields are its arguments (stored as JSON); Kind
// names the work, and a worker registered for that kind does it (see
// package crm/background).
//
// A job is enqueued in the transaction of the change that causes it
// (JobStore.JobEnqueue on the transaction's Store): when the change rolls
// back, the job was never there.
type Job interface {
	Kind() string
}

// JobStore enqueues background jobs.
type JobStore interface {
	// JobEnqueue stores job to be done as soon as a worker is free, in the
	// current transaction when called inside InTx. Enqueueing a job whose
	// kind and arguments equal one still waiting or running adds nothing.
	JobEnqueue(ctx context.Context, job Job) error
	// JobEnqueueMany stores jobs like JobEnqueue, in as few statements as
	// the database allows (a mailing's batch of delivery jobs in one).
	// Jobs equal to one another or to one still waiting or running are
	// added once.
	JobEnqueueMany(ctx context.Context, jobs []Job) error
}

// MergeableJob is a Job that the changes of one transaction can share. A
// store that commits the calls of several callers in one transaction
// (GroupTxStore) may hold back the mergeable jobs its calls enqueue and,
// just before the commit, enqueue their merge instead: one job doing the
// work of all. The job of a call that rolled back (its savepoint) is not
// in the merge. The merged job is enqueued in the same transaction, so it
// exists exactly when the changes that caused it committed.
type MergeableJob interface {
	Job
	// Merge returns one job that does the work of the receiver and of
	// other, and true; or false when other cannot join it (another kind,
	// another organisation).
	Merge(other Job) (Job, bool)
}

// DeliverMail is the job that delivers one outbox mail. The outbox queues
// it with the mail, in the same transaction.
type DeliverMail struct {
	OrgID  string `json:"orgId"`
	MailID string `json:"mailId"`
}

// JobDeliverMail is the kind of DeliverMail.
const JobDeliverMail = "mail.deliver"

// Kind implements Job.
func (DeliverMail) Kind() string { return JobDeliverMail }
