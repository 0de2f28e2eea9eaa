package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/dossiercrm/dossier/crm"
)

// testAPIKeys: a key is shown once, stored hashed, authenticates to its own
// organisation and staff user, records its use, and stops working when revoked.
func testAPIKeys(t *testing.T, open func(t *testing.T) crm.Store) {
	e := newEnv(t, open)
	key, secret, err := e.crm.APIKeys.Create(e.a, crm.NewAPIKey{Name: "booking site", StaffUser: "staff-a"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, key.Prefix) || len(secret) < 40 || key.OrgID != orgA {
		t.Fatalf("key %+v with secret %q", key, secret)
	}
	// The secret names its organisation, so that the key is looked up
	// within it; naming another organisation makes it a wrong secret.
	if !strings.HasPrefix(secret, "dsk_"+orgA+".") || !strings.HasPrefix(key.Prefix, "dsk_"+orgA+".") {
		t.Fatalf("secret %q (prefix %q) does not name organisation %s", secret, key.Prefix, orgA)
	}
	_, err = e.crm.APIKeys.Authenticate(e.a, strings.Replace(secret, orgA, orgB, 1))
	wantErr(t, err, crm.ErrUnauthenticated)
	got, err := e.crm.APIKeys.Authenticate(e.a, secret)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != key.ID || got.OrgID != orgA || got.Actor() != crm.Staff("staff-a") || got.LastUsedAt == nil {
		t.Fatalf("authenticated as %+v", got)
	}
	// Use is recorded to the minute, not on every request.
	e.now = e.now.Add(30 * time.Second)
	if _, err := e.crm.APIKeys.Authenticate(e.a, secret); err != nil {
		t.Fatal(err)
	}
	keys, err := e.crm.APIKeys.List(e.a)
	if err != nil || len(keys) != 1 || keys[0].LastUsedAt == nil || !keys[0].LastUsedAt.Equal(testNow) {
		t.Fatalf("list = %+v, %v; want one key last used at %v", keys, err, testNow)
	}

	for _, bad := range []string{"", "dsk_", secret + "x", strings.ToUpper(secret), "Bearer " + secret, strings.Repeat("dsk_", 100)} {
		_, err := e.crm.APIKeys.Authenticate(e.a, bad)
		wantErr(t, err, crm.ErrUnauthenticated)
	}

	// Another organisation neither sees nor revokes the key.
	if keys, err := e.crm.APIKeys.List(e.b); err != nil || len(keys) != 0 {
		t.Fatalf("org B lists %+v, %v", keys, err)
	}
	wantErr(t, e.crm.APIKeys.Revoke(e.b, key.ID), crm.ErrNotFound)
	if _, err := e.crm.APIKeys.Authenticate(e.b, secret); err != nil {
		t.Fatalf("a key authenticates whatever organisation the caller's context names: %v", err)
	}

	if err := e.crm.APIKeys.Revoke(e.a, key.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.crm.APIKeys.Authenticate(e.a, secret)
	wantErr(t, err, crm.ErrUnauthenticated)
	e.now = e.now.Add(time.Hour)
	if err := e.crm.APIKeys.Revoke(e.a, key.ID); err != nil {
		t.Fatalf("revoking twice: %v", err)
	}
	keys, _ = e.crm.APIKeys.List(e.a)
	if len(keys) != 1 || keys[0].RevokedAt == nil || !keys[0].RevokedAt.Equal(testNow.Add(30*time.Second)) {
		t.Fatalf("after revoking twice: %+v; want the first revocation time kept", keys)
	}
	wantErr(t, e.crm.APIKeys.Revoke(e.a, "not-an-id"), crm.ErrNotFound)

	_, _, err = e.crm.APIKeys.Create(e.a, crm.NewAPIKey{})
	ve := wantInvalid(t, err, "name", "required")
	if !ve.Has("staffUser", "required") {
		t.Fatalf("missing staff user not reported: %v", ve)
	}
	_, _, err = e.crm.APIKeys.Create(crm.WithActor(crm.WithOrg(e.a, "no-such-org"), crm.System()), crm.NewAPIKey{Name: "x", StaffUser: "admin"})
	wantErr(t, err, crm.ErrNotFound)
}
