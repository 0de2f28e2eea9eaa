package diskblob_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/store/diskblob"
)

const sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

func TestStore(t *testing.T) {
	dir := t.TempDir()
	s, err := diskblob.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	key := "acme/" + sha
	if err := s.Put(ctx, key, strings.NewReader("test")); err != nil {
		t.Fatal(err)
	}
	// Replacing is allowed and leaves no temporary files behind.
	if err := s.Put(ctx, key, strings.NewReader("test")); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "acme", sha[:2]))
	if len(entries) != 1 || entries[0].Name() != sha {
		t.Fatalf("files in the blob directory: %v", entries)
	}
	rc, err := s.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "test" {
		t.Fatalf("read %q", b)
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Fatalf("deleting an absent key: %v", err)
	}
	if _, err := s.Open(ctx, key); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("open after delete: %v, want ErrNotFound", err)
	}
	// Anything that is not a key never reaches the file system.
	for _, bad := range []string{"../etc/" + sha, "acme/../" + sha, "acme/" + sha[:63], "Acme/" + sha, "acme/" + strings.ToUpper(sha), sha, ""} {
		if err := s.Put(ctx, bad, strings.NewReader("x")); err == nil {
			t.Fatalf("Put accepted key %q", bad)
		}
		if _, err := s.Open(ctx, bad); err == nil || errors.Is(err, crm.ErrNotFound) {
			t.Fatalf("Open of key %q: %v", bad, err)
		}
	}
	// A cancelled context stops a write and leaves nothing behind.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Put(cctx, key, strings.NewReader("late")); err == nil {
		t.Fatal("a cancelled Put succeeded")
	}
	if _, err := s.Open(ctx, key); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("a cancelled Put left a file: %v", err)
	}
}
