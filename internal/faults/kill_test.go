package faults

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// ledger is what the clients were told: every acknowledged write.
type ledger struct {
	mu        sync.Mutex
	customers map[string]*acked
	ids       []string
	unknown   []pendingCreate // creates cut off by the kill: outcome unknown
	retried   int             // creates retried after a restart
	cutOff    []string        // their keys
	tags      []string        // the organisation's tags
	ops       atomic.Int64    // acknowledged writes
	refused   atomic.Int64    // 409/422 answers (the tenth tag, points not there)
	fiveXX    atomic.Int64
	firstBad  atomic.Value // the first 5xx, for the failure message
}

type acked struct {
	tags map[string]bool
	txs  map[string]bool
}

type pendingCreate struct {
	key  string
	body map[string]any
}

func (l *ledger) addCustomer(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.customers[id] == nil {
		l.customers[id] = &acked{tags: map[string]bool{}, txs: map[string]bool{}}
		l.ids = append(l.ids, id)
	}
}

func (l *ledger) pick() (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.ids) == 0 {
		return "", false
	}
	// Favour the newest customers, so that several clients write to the
	// same ones at once.
	n := min(len(l.ids), 16)
	return l.ids[len(l.ids)-1-rand.IntN(n)], true
}

func (l *ledger) record(fn func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fn()
}

// write runs one client's writes until ctx ends, the server goes away or
// its bound is reached.
func (l *ledger) write(ctx context.Context, c *client, worker, maxOps int) {
	for i := 0; i < maxOps && ctx.Err() == nil; i++ {
		id, ok := l.pick()
		var r reply
		switch p := rand.IntN(10); {
		case !ok || p < 3:
			key := fmt.Sprintf("create-%d-%d-%s", worker, i, randomHex(4))
			body := map[string]any{"firstName": "Fault", "lastName": fmt.Sprintf("W%d-%d", worker, i),
				"email": fmt.Sprintf("w%d.%d.%s@example.org", worker, i, key[len(key)-8:])}
			r = c.do(ctx, "POST", "/v1/customers", body, "Idempotency-Key", key)
			if r.err != nil {
				// Cut off by the kill, or by the round's end just after it
				// (the client may have been retrying the request then): it
				// may have been applied.
				l.record(func() { l.unknown = append(l.unknown, pendingCreate{key, body}) })
				return
			}
			if r.status == http.StatusCreated {
				var v struct{ ID string }
				if err := r.decode(&v); err == nil && v.ID != "" {
					l.addCustomer(v.ID)
					l.ops.Add(1)
				}
			}
		case p < 6:
			tag := l.tags[rand.IntN(len(l.tags))]
			r = c.do(ctx, "POST", "/v1/customers/"+id+"/tags", map[string]any{"ids": []string{tag}})
			if r.status == http.StatusOK {
				l.record(func() { l.customers[id].tags[tag] = true })
				l.ops.Add(1)
			}
		default:
			path, body := "/awards", map[string]any{"points": 10 + rand.IntN(40)}
			if p == 9 {
				path, body = "/redemptions", map[string]any{"points": 5 + rand.IntN(30)}
			}
			r = c.do(ctx, "POST", "/v1/customers/"+id+"/points"+path, body, "Idempotency-Key", "pts-"+randomHex(8))
			if r.status == http.StatusCreated {
				var v struct{ ID string }
				if err := r.decode(&v); err == nil && v.ID != "" {
					l.record(func() { l.customers[id].txs[v.ID] = true })
					l.ops.Add(1)
				}
			}
		}
		switch {
		case r.err != nil:
			return // the server went away: this write's outcome is unknown
		case r.status >= 500:
			l.fiveXX.Add(1)
			l.firstBad.CompareAndSwap(nil, fmt.Sprintf("%d %s", r.status, r.body))
		case r.status == http.StatusConflict || r.status == http.StatusUnprocessableEntity:
			l.refused.Add(1)
		}
	}
}

// TestFaultKill9 kills the server with SIGKILL while concurrent clients
// write, restarts it, and checks every acknowledged write and the
// invariants: each customer exists with its customer.created event, no
// customer carries more than nine tags, each points ledger sums to the
// balance and the balance is never below zero. A create cut off by the
// kill is retried with its Idempotency-Key after the restart; in the end
// the number of customers equals the number of creates acknowledged.
func TestFaultKill9(t *testing.T) {
	sz := mode(t)
	eachDB(t, func(t *testing.T, dsn string) {
		dataDir := t.TempDir()
		srv := start(t, dsn, dataDir)
		key := srv.key(t)
		c := newClient(srv.url, key)
		c.must(t, "PATCH", "/v1/organisation", map[string]any{"pointsEnabled": true}, http.StatusOK, nil)
		l := &ledger{customers: map[string]*acked{}}
		for i := range 12 {
			var q struct{ ID string }
			c.must(t, "POST", "/v1/tags", map[string]any{"name": fmt.Sprintf("Fault %d", i)}, http.StatusCreated, &q)
			l.tags = append(l.tags, q.ID)
		}

		var lost, dup int
		for round := range sz.killRounds {
			ctx, cancel := context.WithTimeout(context.Background(), sz.roundTime+30*time.Second)
			var wg sync.WaitGroup
			for w := range sz.writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					l.write(ctx, c, round*1000+w, sz.maxOpsPerRun)
				}()
			}
			time.Sleep(sz.roundTime)
			srv.kill9(t)
			cancel()
			wg.Wait()

			srv = start(t, dsn, dataDir)
			c = newClient(srv.url, key)
			l.resolveUnknown(t, c)
			// Each round checks every write acknowledged so far, so the
			// figures are the last round's.
			lost = l.verify(t, c)
			var n struct{ Count int }
			c.must(t, "GET", "/v1/customers/count", nil, http.StatusOK, &n)
			dup = 0
			if n.Count != len(l.ids) {
				t.Errorf("round %d: %d customers stored, %d creates acknowledged", round, n.Count, len(l.ids))
				if n.Count > len(l.ids) {
					dup = n.Count - len(l.ids)
					l.explainExtra(t, c)
				} else {
					lost += len(l.ids) - n.Count
				}
			}
		}
		srv.term(t)
		if n := l.fiveXX.Load(); n > 0 {
			t.Errorf("%d answers 5xx, the first: %v", n, l.firstBad.Load())
		}
		figures(t, "rounds=%d clients=%d acknowledged=%d customers=%d retried-creates=%d refused=%d lost=%d duplicated=%d 5xx=%d",
			sz.killRounds, sz.writers, l.ops.Load(), len(l.ids), l.retried, l.refused.Load(), lost, dup, l.fiveXX.Load())
	})
}

// resolveUnknown retries the creates the kill cut off with their keys: the
// answer is the first one when the create was applied, a new customer
// when it was not.
func (l *ledger) resolveUnknown(t *testing.T, c *client) {
	t.Helper()
	l.retried += len(l.unknown)
	for _, p := range l.unknown {
		l.cutOff = append(l.cutOff, p.key)
		r := c.do(context.Background(), "POST", "/v1/customers", p.body, "Idempotency-Key", p.key)
		var v struct{ ID string }
		if r.status != http.StatusCreated || r.decode(&v) != nil || v.ID == "" {
			t.Errorf("retried create %s: %d %s %v", p.key, r.status, r.body, r.err)
			continue
		}
		l.addCustomer(v.ID)
		l.ops.Add(1)
	}
	l.unknown = nil
}

// verify checks every acknowledged write and the invariants; it returns
// how many acknowledged writes are missing.
func (l *ledger) verify(t *testing.T, c *client) (lost int) {
	t.Helper()
	var mu sync.Mutex
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		lost++
		if lost <= 20 {
			t.Errorf(format, args...)
		}
	}
	ids := make(chan string)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range ids {
				l.verifyOne(t, c, id, l.customers[id], fail)
			}
		}()
	}
	for _, id := range l.ids {
		ids <- id
	}
	close(ids)
	wg.Wait()
	return lost
}

func (l *ledger) verifyOne(t *testing.T, c *client, id string, a *acked, fail func(string, ...any)) {
	ctx := context.Background()
	get := func(path string, v any) bool {
		r := c.do(ctx, "GET", path, nil)
		if r.err != nil || r.status != http.StatusOK {
			fail("GET %s: %d %s %v", path, r.status, r.body, r.err)
			return false
		}
		if err := r.decode(v); err != nil {
			fail("GET %s: %v", path, err)
			return false
		}
		return true
	}
	var cust struct{ ID string }
	if !get("/v1/customers/"+id, &cust) {
		return
	}
	var hist struct{ Items []struct{ Kind string } }
	if get("/v1/customers/"+id+"/history?limit=500", &hist) {
		created := false
		for _, e := range hist.Items {
			created = created || e.Kind == "customer.created"
		}
		if !created {
			fail("customer %s has no customer.created event: %+v", id, hist.Items)
		}
	}
	var tags struct{ Items []struct{ ID string } }
	if get("/v1/customers/"+id+"/tags", &tags) {
		if len(tags.Items) > 9 {
			t.Errorf("customer %s carries %d tags, at most 9 allowed", id, len(tags.Items))
		}
		have := map[string]bool{}
		for _, q := range tags.Items {
			have[q.ID] = true
		}
		for tag := range a.tags {
			if !have[tag] {
				fail("customer %s lost its acknowledged tag %s", id, tag)
			}
		}
	}
	var bal struct{ Available, Pending, Expired int64 }
	if !get("/v1/customers/"+id+"/points", &bal) {
		return
	}
	var sum int64
	seen := map[string]bool{}
	cursor := ""
	for {
		var page struct {
			Items []struct {
				ID     string
				Points int64
			}
			Next string
		}
		if !get("/v1/customers/"+id+"/points/transactions?limit=500"+cursor, &page) {
			return
		}
		for _, tx := range page.Items {
			sum += tx.Points
			seen[tx.ID] = true
		}
		if page.Next == "" {
			break
		}
		cursor = "&cursor=" + url.QueryEscape(page.Next)
	}
	if bal.Available < 0 || bal.Pending != 0 || bal.Expired != 0 || sum != bal.Available {
		t.Errorf("customer %s: ledger sums to %d, balance %+v", id, sum, bal)
	}
	for tx := range a.txs {
		if !seen[tx] {
			fail("customer %s lost its acknowledged points transaction %s", id, tx)
		}
	}
}

// explainExtra names the stored customers that no acknowledged create
// returned, with the create (its key is in the last name) that made them.
func (l *ledger) explainExtra(t *testing.T, c *client) {
	t.Helper()
	cursor := ""
	for {
		var page struct {
			Items []struct{ ID, LastName string }
			Next  string
		}
		c.must(t, "GET", "/v1/customers?limit=500"+cursor, nil, http.StatusOK, &page)
		for _, cu := range page.Items {
			if l.customers[cu.ID] == nil {
				t.Errorf("customer %s (%s) was stored, but no acknowledged create returned it; the creates cut off: %v",
					cu.ID, cu.LastName, l.cutOff)
			}
		}
		if page.Next == "" {
			return
		}
		cursor = "&cursor=" + url.QueryEscape(page.Next)
	}
}
