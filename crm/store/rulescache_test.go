package store

import (
	"strconv"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
)

// TestRulesCache: an answer is kept for rulesLife (what bounds how late a
// change by another process is seen), not kept when the cache was dropped
// while it was read, and handed out as copies.
func TestRulesCache(t *testing.T) {
	var c rulesCache
	t0 := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	org := &crm.Organisation{ID: "a", DefaultLanguage: "nl"}
	defs := []crm.CustomFieldDefinition{{Key: "seat"}}

	_, _, gen, ok := c.get("a", t0)
	if ok {
		t.Fatal("an empty cache answered")
	}
	c.put("a", gen, org, defs, t0)
	got, gotDefs, _, ok := c.get("a", t0.Add(rulesLife-time.Millisecond))
	if !ok || got.DefaultLanguage != "nl" || len(gotDefs) != 1 {
		t.Fatalf("within its life: %+v, %+v, %v", got, gotDefs, ok)
	}
	got.DefaultLanguage, gotDefs[0].Key = "xx", "xx"
	if again, againDefs, _, _ := c.get("a", t0); again.DefaultLanguage != "nl" || againDefs[0].Key != "seat" {
		t.Fatalf("a caller's change reached the cache: %+v, %+v", again, againDefs)
	}
	if _, _, _, ok := c.get("a", t0.Add(rulesLife+time.Millisecond)); ok {
		t.Fatal("answered after its life")
	}

	// A read that began before a drop does not keep its answer.
	_, _, gen, _ = c.get("b", t0)
	c.drop()
	c.put("b", gen, org, defs, t0)
	if _, _, _, ok := c.get("b", t0); ok {
		t.Fatal("kept an answer read before the cache was dropped")
	}
	if _, _, _, ok := c.get("a", t0); ok {
		t.Fatal("drop left an organisation's rules")
	}

	// It keeps at most rulesCacheMax organisations, and forgets expired ones.
	for i := range 3 * rulesCacheMax {
		_, _, gen, _ := c.get(strconv.Itoa(i), t0)
		c.put(strconv.Itoa(i), gen, org, defs, t0)
	}
	if n := len(c.entries); n > rulesCacheMax {
		t.Fatalf("%d organisations kept, at most %d", n, rulesCacheMax)
	}
	last := strconv.Itoa(3*rulesCacheMax - 1)
	if _, _, _, ok := c.get(last, t0.Add(2*rulesLife)); ok {
		t.Fatal("answered after its life")
	}
	if _, kept := c.entries[last]; kept {
		t.Fatal("an expired organisation stayed")
	}
}
