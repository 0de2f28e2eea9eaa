package crm

import "context"

// GroupTxStore is a Store that can run the transactions of concurrent
// callers as one (group commit). crm/store implements it; the services
// use it where many small, independent writes of the same kind arrive at
// once (customer creates), and fall back to InTx on a Store without it.
type GroupTxStore interface {
	// InGroupTx runs fn like InTx, but may run it in one transaction with
	// the fns of other InGroupTx calls of the same group that wait at the
	// same time, each in a savepoint of its own. So:
	//
	//   - fn's writes commit together, or not at all, as with InTx; they
	//     may commit together with other callers' writes;
	//   - fn's error undoes fn's writes only (the savepoint); the others'
	//     commit, and the error is what InGroupTx returns;
	//   - InGroupTx returns only after the shared transaction ended, so
	//     what the caller does after it happens after the commit;
	//   - fn gets the caller's context without its cancellation: once fn
	//     runs, it runs to the end and commits with the others, so that
	//     one caller going away cannot undo the others' work. A caller
	//     whose context is done before fn's turn gets the context's error
	//     and fn does not run.
	//
	// fn must use the context and the Store it is given, must not keep
	// anything that is only true if the transaction commits (a result
	// returned after InGroupTx returned nil is), and must not wait for
	// another InGroupTx call. group names what may share a transaction
	// (e.g. the creates of one organisation); a store may put groups
	// together. Inside a transaction (a Store bound to one, or the context
	// of an Idempotent call) fn runs in that transaction, as InTx does.
	InGroupTx(ctx context.Context, group string, fn func(ctx context.Context, tx Store) error) error
}

// inGroupTx runs fn through st's group commit when st has one, and in a
// transaction of its own (InTx) when it does not.
func inGroupTx(ctx context.Context, st Store, group string, fn func(ctx context.Context, tx Store) error) error {
	if g, ok := st.(GroupTxStore); ok {
		return g.InGroupTx(ctx, group, fn)
	}
	return st.InTx(ctx, func(tx Store) error { return fn(ctx, tx) })
}

// InGroupTx implements GroupTxStore: inside an idempotent call fn runs in
// the call's transaction; otherwise the call goes to the store's group
// commit when it has one.
func (r txRouter) InGroupTx(ctx context.Context, group string, fn func(ctx context.Context, tx Store) error) error {
	return inGroupTx(ctx, r.on(ctx), group, fn)
}
