package store

import (
	"slices"
	"sync"
	"time"

	"github.com/dossiercrm/dossier/crm"
)

// rulesLife is how long a cached OrganisationRules answer is used. Every
// change made through this store's DB drops the cache at once; the life
// bounds only how late a change made by another process sharing the
// database (a second server on the same PostgreSQL, or a migration run
// by hand) is seen.
const rulesLife = time.Second

// rulesCacheMax bounds the organisations kept: a deployment with many
// organisations would otherwise keep every one ever written to. When full,
// the cache starts over (as the API key cache does) rather than tracking
// which entry is oldest.
const rulesCacheMax = 1000

// rulesCache keeps each organisation's rules (OrganisationRules): every
// create and change of a customer reads them first, and they change
// almost never. On PostgreSQL the read is a round trip of its own; on
// SQLite it is a read transaction on a pooled connection, which after
// every commit of the writer unmaps and maps the file again.
//
// A change's writer drops the cache when it writes and again when its
// transaction ends (rulesChanged, rulesTx): a read that began before the
// commit may have read the old rules, and its answer must not be kept.
// generation tells a read whether the cache was dropped while it read.
type rulesCache struct {
	mu         sync.Mutex
	generation uint64
	entries    map[string]rulesEntry
}

// rulesEntry is one organisation's cached rules.
type rulesEntry struct {
	org     crm.Organisation
	defs    []crm.CustomFieldDefinition
	expires time.Time
}

// get returns the cached rules of an organisation, copies the caller may
// change (the definitions' Choices are shared: read them only), and the
// generation to hand to put when there are none.
func (c *rulesCache) get(orgID string, now time.Time) (*crm.Organisation, []crm.CustomFieldDefinition, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[orgID]
	if !ok || now.After(e.expires) {
		delete(c.entries, orgID)
		return nil, nil, c.generation, false
	}
	org := e.org
	return &org, slices.Clone(e.defs), 0, true
}

// put keeps rules read from the database, unless the cache was dropped
// since generation was handed out.
func (c *rulesCache) put(orgID string, generation uint64, org *crm.Organisation, defs []crm.CustomFieldDefinition, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if generation != c.generation {
		return
	}
	if c.entries == nil {
		c.entries = make(map[string]rulesEntry)
	}
	if len(c.entries) >= rulesCacheMax {
		clear(c.entries)
	}
	c.entries[orgID] = rulesEntry{org: *org, defs: slices.Clone(defs), expires: now.Add(rulesLife)}
}

// drop forgets every organisation's rules (changes are rare; one map is
// simpler than one generation per organisation).
func (c *rulesCache) drop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.generation++
	clear(c.entries)
}

// rulesTx is what a transaction's DB notes for the rules cache: whether
// the transaction wrote an organisation or a custom field definition.
type rulesTx struct {
	changed bool
}

// rulesChanged drops the cached rules after a write of an organisation or
// a custom field definition; in a transaction, the cache is dropped again
// when it ends (endRulesTx).
func (s *DB) rulesChanged() {
	s.shared.rules.drop()
	if s.rulesTx != nil {
		s.rulesTx.changed = true
	}
}

// endRulesTx is called when a transaction has committed or rolled back.
func (s *DB) endRulesTx(t *rulesTx) {
	if t.changed {
		s.shared.rules.drop()
	}
}
